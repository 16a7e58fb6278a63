"""Every page of the built book in headless Chromium, with the network cut off.

Per page: it loads without JavaScript errors (console errors or uncaught exceptions),
no request leaves localhost, every image has loaded, formulas are typeset by MathJax
(``mjx-container`` elements, no raw ``$$`` left), saved widget views are rendered by the
local html-manager, and the audio players the notebook creates are there and decodable.
"""

from __future__ import annotations

import re

import pytest

from ._support import (
    BUILD_HTML,
    SCREENSHOTS,
    audio_calls,
    built_pages,
    require_build,
    source_notebook,
)

pytestmark = pytest.mark.browser

REFRESH = re.compile(r'http-equiv="Refresh" content="0; url=([^"]+)"', re.I)
PAGES = [str(p.relative_to(BUILD_HTML)) for p in built_pages()] or ["<book not built>"]

# Text left untypeset: TeX delimiters outside code blocks and MathJax's own output.
RAW_MATH_JS = r"""
() => {
  const skip = new Set(['SCRIPT', 'STYLE', 'PRE', 'CODE', 'TEXTAREA', 'MJX-CONTAINER', 'MJX-ASSISTIVE-MML']);
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT, {
    acceptNode(node) {
      for (let el = node.parentElement; el; el = el.parentElement) {
        if (skip.has(el.tagName) || el.classList.contains('highlight')) return NodeFilter.FILTER_REJECT;
      }
      return NodeFilter.FILTER_ACCEPT;
    }
  });
  const found = [];
  while (walker.nextNode()) {
    const t = walker.currentNode.nodeValue;
    if (t.includes('$$') || t.includes('\\[') || t.includes('\\begin{')) found.push(t.trim().slice(0, 80));
  }
  return found;
}
"""

BROKEN_IMAGES_JS = """
() => Array.from(document.images)
  .filter(img => !(img.complete && img.naturalWidth > 0))
  .map(img => (img.getAttribute('src') || '').slice(0, 100))
"""


def _settle(page: object) -> None:
    """Wait for the page, lazy images, MathJax typesetting and audio metadata."""
    page.evaluate("() => document.querySelectorAll('img[loading=lazy]').forEach(i => { i.loading = 'eager'; })")  # type: ignore[attr-defined]
    page.wait_for_load_state("networkidle")  # type: ignore[attr-defined]
    page.wait_for_function("() => Array.from(document.images).every(i => i.complete)", timeout=15_000)  # type: ignore[attr-defined]
    if page.evaluate("() => !!(window.MathJax && window.MathJax.startup)"):  # type: ignore[attr-defined]
        page.evaluate("() => window.MathJax.startup.promise")  # type: ignore[attr-defined]
    page.wait_for_function(  # type: ignore[attr-defined]
        "() => Array.from(document.querySelectorAll('audio')).every(a => a.readyState >= 1 || a.error)", timeout=15_000
    )


@pytest.mark.parametrize("rel", PAGES)
def test_page_renders_offline_without_errors(rel: str, book_url: str, watched: object) -> None:
    root = require_build()
    page = watched.page  # type: ignore[attr-defined]
    response = page.goto(f"{book_url}/{rel}", wait_until="load")
    assert response is not None and response.ok, f"{rel}: HTTP {response and response.status}"
    redirect = REFRESH.search((root / rel).read_text(encoding="utf-8"))
    if redirect:  # index.html -> the root chapter: check the page it lands on
        page.wait_for_url(f"**/{redirect.group(1)}", wait_until="load")
    _settle(page)
    # Saved widgets render after load; their CSS then asks for fonts (slider icons), so wait for
    # the widgets, the fonts and the network before judging errors (a font 404 shows up late).
    n_views = page.locator('script[type="application/vnd.jupyter.widget-view+json"]').count()
    if n_views:
        page.wait_for_function(
            "n => document.querySelectorAll('.jupyter-widgets:not(script)').length >= n", arg=n_views, timeout=20_000
        )
    page.evaluate("() => document.fonts.ready.then(() => document.fonts.size)")
    page.wait_for_load_state("networkidle")

    assert not watched.external, f"{rel}: requests left localhost: {watched.external}"  # type: ignore[attr-defined]
    assert not watched.errors, f"{rel}: JavaScript errors:\n" + "\n".join(watched.errors)  # type: ignore[attr-defined]

    broken = page.evaluate(BROKEN_IMAGES_JS)
    assert not broken, f"{rel}: images that did not load: {broken}"

    n_math = page.locator(".math").count()
    n_typeset = page.locator("mjx-container").count()
    assert n_typeset >= n_math, f"{rel}: {n_math} formulas but only {n_typeset} typeset by MathJax"
    raw = page.evaluate(RAW_MATH_JS)
    assert not raw, f"{rel}: raw TeX left in the page: {raw}"


    nb = source_notebook(root / rel)
    expected = audio_calls(nb) if nb else 0
    n_audio = page.locator("audio").count()
    assert n_audio >= expected, f"{rel}: {expected} Audio( calls in {nb.name if nb else '-'} but {n_audio} <audio> players"
    if expected == 0:
        assert n_audio == 0, f"{rel}: {n_audio} <audio> players but no Audio( call in the source"
    undecodable = page.evaluate("() => Array.from(document.querySelectorAll('audio')).filter(a => a.error).length")
    assert undecodable == 0, f"{rel}: {undecodable} audio players the browser cannot decode"


def test_network_guard_records_and_blocks_other_hosts(watched: object) -> None:
    """The route interception used on every page really sees (and stops) a CDN request."""
    page = watched.page  # type: ignore[attr-defined]
    page.set_content('<img src="https://cdn.example.org/x.png"><script src="https://unpkg.com/none.js"></script>')
    page.wait_for_load_state("load")
    assert sorted(watched.external) == ["https://cdn.example.org/x.png", "https://unpkg.com/none.js"]  # type: ignore[attr-defined]
    assert page.evaluate(BROKEN_IMAGES_JS) == ["https://cdn.example.org/x.png"]


def _chapter_for_screenshot() -> str:
    for name in ("book/04_mfcc.html", "book/01_pipeline.html", "book/03_signal_processing.html"):
        if (BUILD_HTML / name).exists():
            return name
    chapters = [p for p in PAGES if p.startswith("book/") and p[5:7].isdigit()]
    return chapters[0] if chapters else PAGES[0]


def test_screenshot_of_a_chapter(book_url: str, watched: object) -> None:
    """Save a screenshot of a chapter under _build/screenshots/ (look at it) and check it is not blank."""
    require_build()
    rel = _chapter_for_screenshot()
    page = watched.page  # type: ignore[attr-defined]
    page.goto(f"{book_url}/{rel}", wait_until="load")
    _settle(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    out = SCREENSHOTS / (rel.replace("/", "_").removesuffix(".html") + ".png")
    page.screenshot(path=str(out), full_page=False)
    page.screenshot(path=str(out.with_name(out.stem + "_full.png")), full_page=True)
    assert out.stat().st_size > 10_000, f"{out}: suspiciously small screenshot"

    import matplotlib.image as mpimg

    pixels = mpimg.imread(out)
    assert pixels.std() > 0.05, f"{out}: screenshot is (almost) uniform: the page did not render"
    assert page.locator("h1").count() >= 1, f"{rel}: no title"
