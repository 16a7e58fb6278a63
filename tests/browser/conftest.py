"""Fixtures for the tests over the built book (``make book`` first) in headless Chromium.

The built site is ``_build/html`` (override with ``SER_BOOK_HTML=/path/to/html``). It is
served from a local ``http.server`` thread; the browser is Debian's ``/usr/bin/chromium``
driven by Playwright (``make chromium`` installs it; never ``playwright install``).
A missing build or browser is a test FAILURE with a message that says what to run,
never a skip.
"""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ._support import CHROMIUM, CHROMIUM_ARGS, is_local, require_build


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - signature of the base class
        pass


@pytest.fixture(scope="session")
def book_url() -> Iterator[str]:
    """Base URL of the built book served by a local http.server thread."""
    root = require_build()
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Headless Debian Chromium driven by Playwright."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: run `make chromium` (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


class PageWatch:
    """A fresh page whose console errors, page errors and non-local requests are recorded.

    Every request that would leave localhost is aborted and recorded, so a page that
    depends on a CDN both fails the test and cannot silently work.
    """

    def __init__(self, browser: object) -> None:
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
        self.external: list[str] = []
        self.errors: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))

    def _route(self, route: object) -> None:
        url = route.request.url  # type: ignore[attr-defined]
        if is_local(url):
            route.continue_()  # type: ignore[attr-defined]
        else:
            self.external.append(url)
            route.abort()  # type: ignore[attr-defined]

    def _console(self, msg: object) -> None:
        if msg.type == "error":  # type: ignore[attr-defined]
            loc = msg.location or {}  # type: ignore[attr-defined]
            self.errors.append(f"console: {msg.text} ({loc.get('url', '')}:{loc.get('lineNumber', '')})")  # type: ignore[attr-defined]

    def close(self) -> None:
        self.context.close()


@pytest.fixture()
def watched(browser: object) -> Iterator[PageWatch]:
    w = PageWatch(browser)
    try:
        yield w
    finally:
        w.close()
