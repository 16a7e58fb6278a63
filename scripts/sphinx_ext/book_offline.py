"""Sphinx extension of the book: keep every page offline-safe and free of duplicate scripts.

Loaded by ``_config.yml`` (``sphinx: local_extensions``). On each HTML page it

* drops repeated ``<script>`` entries: with JB 1.0.4 the inline configuration scripts of
  sphinx-thebe and sphinx-togglebutton are emitted twice, and the second
  ``const THEBE_JS_URL`` is a JavaScript error ("Identifier has already been declared");
* warns (an error under ``-W``) when a page would load a script or stylesheet from another
  host, so a CDN reference fails the build, not only the browser tests.
"""

from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)


def _key(asset: Any) -> tuple[str, tuple[tuple[str, str], ...]]:
    # Sphinx stores an inline script's filename as None (registry) or "" (builder): same thing.
    filename = getattr(asset, "filename", asset) or ""
    attributes = getattr(asset, "attributes", {}) or {}
    return (str(filename), tuple(sorted((str(k), str(v)) for k, v in attributes.items())))


def _is_external(filename: str) -> bool:
    return filename.startswith(("http://", "https://", "//"))


def _page_assets(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any) -> None:
    for name in ("script_files", "css_files"):
        assets = context.get(name)
        if not assets:
            continue
        seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
        unique = []
        for asset in assets:
            key = _key(asset)
            if key in seen:
                continue
            seen.add(key)
            unique.append(asset)
            if _is_external(key[0]):
                logger.warning(
                    "page %s loads %s from another host; serve it from _static/ (see scripts/vendor/)",
                    pagename,
                    key[0],
                    type="book_offline",
                )
        assets[:] = unique


def setup(app: Sphinx) -> dict[str, Any]:
    # After the other extensions (myst-nb adds the widget scripts per page at priority 500).
    app.connect("html-page-context", _page_assets, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
