"""Shared helpers of the browser tests (paths of the built book, page list, URL checks)."""

from __future__ import annotations

import json
import os
import re
import socket
from pathlib import Path
from urllib.parse import urlparse

import pytest

REPO = Path(__file__).resolve().parents[2]
BUILD_HTML = Path(os.environ.get("SER_BOOK_HTML", REPO / "_build" / "html")).resolve()
SCREENSHOTS = REPO / "_build" / "screenshots"
SCREENSHOTS = REPO / "_build" / "screenshots"
CHROMIUM = os.environ.get("SER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


def built_pages() -> list[Path]:
    """Every HTML page of the built book (theme assets under ``_static`` excluded)."""
    if not (BUILD_HTML / "index.html").exists():
        return []
    return sorted(
        p for p in BUILD_HTML.rglob("*.html") if not ({"_static", "_sources", "_images"} & set(p.relative_to(BUILD_HTML).parts))
    )


def require_build() -> Path:
    """Fail (not skip) with a clear message when the book has not been built."""
    if not (BUILD_HTML / "index.html").exists():
        pytest.fail(f"built book not found at {BUILD_HTML}: run `make book` first (the browser tests check the built HTML)")
    return BUILD_HTML


def is_local(url: str) -> bool:
    """True for URLs that do not leave this machine (localhost, data:, blob:, about:)."""
    parsed = urlparse(url)
    if parsed.scheme in ("data", "blob", "about", "chrome-error"):
        return True
    return (parsed.hostname or "") in LOCAL_HOSTS


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


SOURCE_ROOT = Path(os.environ.get("SER_BOOK_SRC", REPO)).resolve()
_AUDIO_CALL = re.compile(r"(?<![\w.])(?:\w+\.)*Audio\(")


def source_notebook(page: Path) -> Path | None:
    """The notebook a built page was made from (``book/x.html`` -> ``book/x.ipynb``), if any."""
    nb = SOURCE_ROOT / page.relative_to(BUILD_HTML).with_suffix(".ipynb")
    return nb if nb.exists() else None


def audio_calls(notebook: Path) -> int:
    """Number of ``Audio(`` calls in the code cells of a notebook (comments ignored)."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    n = 0
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        for line in src.splitlines():
            n += len(_AUDIO_CALL.findall(line.split("#", 1)[0]))
    return n
