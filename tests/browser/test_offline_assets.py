"""The built book is offline-safe: no page references a script or stylesheet on another host.

These checks read the built HTML/CSS only (no browser needed); they carry the ``browser``
marker because they need ``make book`` first, and ``make test`` runs that marker after the build.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlparse

import pytest

from ._support import BUILD_HTML, built_pages, require_build

pytestmark = pytest.mark.browser

# (tag, attribute) pairs that make the browser fetch something when the page loads.
FETCHING = {
    ("script", "src"),
    ("img", "src"),
    ("audio", "src"),
    ("video", "src"),
    ("source", "src"),
    ("iframe", "src"),
    ("embed", "src"),
    ("object", "data"),
}
LINK_RELS_FETCHING = {"stylesheet", "preload", "modulepreload", "prefetch", "icon", "shortcut icon", "manifest"}


def is_external(url: str) -> bool:
    url = url.strip()
    return url.startswith("//") or urlparse(url).scheme in ("http", "https", "ftp", "ws", "wss")


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.refs: list[tuple[str, str, str]] = []  # (tag, attr, url)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        for (t, attr) in FETCHING:
            if tag == t and a.get(attr):
                self.refs.append((tag, attr, a[attr]))
        if tag == "link" and a.get("href") and a.get("rel", "").lower() in LINK_RELS_FETCHING:
            self.refs.append((f"link rel={a['rel']}", "href", a["href"]))
        for k, v in a.items():  # e.g. data-jupyter-widgets-cdn="https://cdn.jsdelivr.net/npm/"
            if k.startswith("data-") and "cdn" in k and v:
                self.refs.append((tag, k, v))


def _refs(page: Path) -> list[tuple[str, str, str]]:
    parser = _Refs()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser.refs


def test_the_check_flags_cdn_references(tmp_path: Path) -> None:
    """The parser behind these tests does flag what it must (so a pass means something)."""
    page = tmp_path / "page.html"
    page.write_text(
        '<script src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml.js"></script>'
        '<link rel="stylesheet" href="//fonts.googleapis.com/css?family=Lato">'
        '<script src="embed-amd.js" data-jupyter-widgets-cdn="https://unpkg.com/"></script>'
        '<script src="_static/local.js"></script><a href="https://example.org/">a link is fine</a>',
        encoding="utf-8",
    )
    flagged = [url for (_tag, _attr, url) in _refs(page) if is_external(url)]
    assert flagged == [
        "https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml.js",
        "//fonts.googleapis.com/css?family=Lato",
        "https://unpkg.com/",
    ]


def test_book_is_built() -> None:
    root = require_build()
    assert built_pages(), f"no HTML pages under {root}"


def test_no_page_loads_anything_from_another_host() -> None:
    require_build()
    bad = [
        f"{p.relative_to(BUILD_HTML)}: <{tag} {attr}={url}>"
        for p in built_pages()
        for (tag, attr, url) in _refs(p)
        if is_external(url)
    ]
    assert not bad, "pages reference other hosts (the book must work offline):\n" + "\n".join(bad)


def test_every_local_script_and_stylesheet_exists() -> None:
    require_build()
    missing = []
    for p in built_pages():
        for tag, attr, url in _refs(p):
            if is_external(url) or url.startswith(("data:", "blob:", "#")) or tag in ("img", "audio", "source"):
                continue
            target = (p.parent / urlparse(url).path).resolve()
            if not target.exists():
                missing.append(f"{p.relative_to(BUILD_HTML)}: <{tag} {attr}={url}>")
    assert not missing, "pages reference files the build does not contain:\n" + "\n".join(missing)


def test_stylesheets_import_nothing_from_other_hosts() -> None:
    """Fonts and @imports in the CSS are fetched at run time: they must be local too."""
    root = require_build()
    pattern = re.compile(r"""(?:@import\s+|url\()\s*['"]?((?:https?:)?//[^'")\s]+)""", re.I)
    bad = [
        f"{css.relative_to(root)}: {m.group(1)}"
        for css in (root / "_static").rglob("*.css")
        for m in pattern.finditer(css.read_text(encoding="utf-8", errors="replace"))
    ]
    assert not bad, "stylesheets fetch from other hosts:\n" + "\n".join(bad)


def test_mathjax_and_widget_manager_are_served_locally() -> None:
    """MathJax's component loader fetches fonts/extensions relative to its own script: ship them."""
    root = require_build()
    vendor = root / "_static" / "vendor"
    assert (vendor / "mathjax" / "tex-chtml.js").is_file(), "MathJax 3 not in the build: run `make vendor`"
    assert any((vendor / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2").glob("*.woff")), "MathJax CHTML fonts missing"
    assert (vendor / "require.js").is_file() and (vendor / "html-manager" / "embed-amd.js").is_file()
    pages_with_math = [p for p in built_pages() if 'class="math' in p.read_text(encoding="utf-8")]
    for p in pages_with_math:
        assert "_static/vendor/mathjax/tex-chtml.js" in p.read_text(encoding="utf-8"), f"{p.name}: MathJax not loaded locally"
    widget_pages = [p for p in built_pages() if "application/vnd.jupyter.widget-view+json" in p.read_text(encoding="utf-8")]
    for p in widget_pages:
        text = p.read_text(encoding="utf-8")
        assert "_static/vendor/require.js" in text and "_static/vendor/html-manager/embed-amd.js" in text, p.name
