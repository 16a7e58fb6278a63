"""A reader's session in JupyterLab: open the MFCC chapter, run it, move the n_mels slider.

Starts a real ``jupyter lab`` server (random free port, token, ``--no-browser``, root = the
repository), opens the notebook in headless Chromium, runs every cell above the widget
cell (the one whose source contains ``mfcc_explorer(``), runs that cell, moves the slider
with class ``sertools-n-mels`` and checks that the figure (an ipywidgets ``Image`` with
class ``sertools-mfcc-figure``) changed: the bytes behind its ``src`` differ.

``test_lab_harness_on_a_tiny_widget_notebook`` runs the same steps on a small notebook
written to ``tmp_path`` with the same classes, so a failure can be told apart: harness
and widgets stack (this one fails) or the chapter (only the chapter test fails).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from ._support import REPO, free_port, is_local

pytestmark = [pytest.mark.browser, pytest.mark.slow]

MFCC_CHAPTER = REPO / "book" / "04_mfcc.ipynb"
WIDGET_CALL = "mfcc_explorer("
FIGURE = ".sertools-mfcc-figure"
SLIDER = ".sertools-n-mels"
CALL_NOT_DEF = re.compile(r"(?<!def )\b" + re.escape(WIDGET_CALL))  # the call, not its definition

IMAGE_DIGEST_JS = """
async (img) => {
  const buf = await (await fetch(img.src)).arrayBuffer();
  const digest = await crypto.subtle.digest('SHA-256', buf);
  return [buf.byteLength, Array.from(new Uint8Array(digest)).map(b => b.toString(16).padStart(2, '0')).join('')];
}
"""

TINY_NOTEBOOK_CELLS = [
    (
        "import io\n"
        "import ipywidgets as widgets\n"
        "import matplotlib\n"
        "matplotlib.use('Agg')\n"
        "import matplotlib.pyplot as plt\n"
        "import numpy as np\n"
    ),
    (
        "def render(n_mels):\n"
        "    fig, ax = plt.subplots(figsize=(4, 2.5))\n"
        "    ax.imshow(np.random.default_rng(n_mels).random((n_mels, 40)), aspect='auto', origin='lower')\n"
        "    ax.set(title=f'{n_mels} mel bands', xlabel='frame', ylabel='band')\n"
        "    buf = io.BytesIO()\n"
        "    fig.savefig(buf, format='png')\n"
        "    plt.close(fig)\n"
        "    return buf.getvalue()\n"
        "\n"
        "def mfcc_explorer():\n"
        "    slider = widgets.IntSlider(value=40, min=10, max=128, description='n_mels', continuous_update=False)\n"
        "    slider.add_class('sertools-n-mels')\n"
        "    image = widgets.Image(value=render(slider.value), format='png')\n"
        "    image.add_class('sertools-mfcc-figure')\n"
        "    slider.observe(lambda change: setattr(image, 'value', render(change['new'])), names='value')\n"
        "    return widgets.VBox([slider, image])\n"
    ),
    "mfcc_explorer()\n",
]


def _write_tiny_notebook(folder: Path) -> Path:
    nb = {
        "cells": [
            {"cell_type": "code", "execution_count": None, "id": f"c{i}", "metadata": {}, "outputs": [], "source": src}
            for i, src in enumerate(TINY_NOTEBOOK_CELLS)
        ],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path = folder / "tiny_widget.ipynb"
    path.write_text(json.dumps(nb, indent=1), encoding="utf-8")
    return path


def _lab_settings(folder: Path) -> Path:
    """User settings: render every cell (no windowing), no autosave, never fetch news/updates."""
    settings = folder / "lab-user-settings"
    (settings / "@jupyterlab" / "notebook-extension").mkdir(parents=True)
    (settings / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings").write_text(
        json.dumps({"windowingMode": "none", "autoStartDefaultKernel": True})
    )
    (settings / "@jupyterlab" / "docmanager-extension").mkdir(parents=True)
    (settings / "@jupyterlab" / "docmanager-extension" / "plugin.jupyterlab-settings").write_text(
        json.dumps({"autosave": False})  # never write outputs into the repository's notebook
    )
    (settings / "@jupyterlab" / "apputils-extension").mkdir(parents=True)
    (settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    return settings


class LabServer:
    def __init__(self, root: Path, workdir: Path) -> None:
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.log = workdir / "jupyter-lab.log"
        env = dict(os.environ)
        env.setdefault("SERTOOLS_CACHE", str(REPO / ".cache" / "sertools"))
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        env["JUPYTER_RUNTIME_DIR"] = str(workdir / "runtime")
        env["JUPYTER_CONFIG_DIR"] = str(workdir / "config")
        cmd = [
            sys.executable, "-m", "jupyterlab",
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={self.port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={root}",
            f"--LabApp.user_settings_dir={_lab_settings(workdir)}",
            f"--LabApp.workspaces_dir={workdir / 'workspaces'}",
            "--LabApp.extension_manager=readonly",  # never query PyPI for extensions
            "--allow-root",  # CI containers run as root
        ]  # fmt: skip
        self._log_file = self.log.open("w")
        self.proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=self._log_file, stderr=subprocess.STDOUT)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"jupyter lab exited with {self.proc.returncode}:\n{self.log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{self.base}/api/status?token={self.token}", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.5)
        pytest.fail(f"jupyter lab did not answer within {timeout:.0f} s:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._log_file.close()


def _image_digest(page: object) -> tuple[int, str]:
    figure = page.locator(FIGURE).first  # type: ignore[attr-defined]
    figure.wait_for(state="visible", timeout=60_000)
    page.wait_for_function(  # type: ignore[attr-defined]
        "sel => { const i = document.querySelector(sel); return i && i.complete && i.naturalWidth > 0; }",
        arg=FIGURE,
        timeout=60_000,
    )
    size, digest = figure.evaluate(IMAGE_DIGEST_JS)
    return int(size), str(digest)


def _wait_kernel_idle(page: object, timeout_ms: int = 240_000) -> None:
    """Wait until the kernel is idle and no cell shows the busy prompt ``[*]``."""
    page.wait_for_function(  # type: ignore[attr-defined]
        """() => {
            const busy = Array.from(document.querySelectorAll('.jp-InputPrompt')).some(p => p.textContent.includes('*'));
            const ind = document.querySelector('.jp-Notebook-ExecutionIndicator');
            return !busy && (!ind || ind.getAttribute('data-status') === 'idle');
        }""",
        timeout=timeout_ms,
    )


def _accept_kernel_dialog(page: object) -> None:
    """Accept JupyterLab's "Select Kernel" dialog (the notebook's python3 kernel) if it shows up."""
    dialog = page.locator(".jp-Dialog")  # type: ignore[attr-defined]
    try:
        dialog.wait_for(state="visible", timeout=3_000)
    except Exception:  # noqa: BLE001 - no dialog: nothing to accept
        return
    dialog.locator(".jp-mod-accept").click()
    dialog.wait_for(state="hidden", timeout=10_000)


def run_widget_cell_and_move_slider(browser: object, url: str, screenshot: Path) -> dict[str, object]:
    """Open a notebook in JupyterLab, run up to the widget cell, move the slider; return what changed."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})  # type: ignore[attr-defined]
    external: list[str] = []

    def route(r: object) -> None:
        if is_local(r.request.url):  # type: ignore[attr-defined]
            r.continue_()  # type: ignore[attr-defined]
        else:
            external.append(r.request.url)  # type: ignore[attr-defined]
            r.abort()  # type: ignore[attr-defined]

    context.route("**/*", route)
    page = context.new_page()
    page_errors: list[str] = []
    page.on("pageerror", lambda exc: page_errors.append(str(exc)))
    try:
        page.goto(url, wait_until="domcontentloaded", timeout=120_000)
        page.locator(".jp-Notebook .jp-Cell").first.wait_for(state="visible", timeout=120_000)
        page.wait_for_selector('.jp-Notebook-ExecutionIndicator[data-status="idle"]', timeout=120_000)
        page.wait_for_function(  # the notebook's cells are filled in after the panel appears
            "call => Array.from(document.querySelectorAll('.jp-Notebook .jp-Cell .jp-InputArea'))"
            ".some(e => e.innerText.includes(call))",
            arg=WIDGET_CALL,
            timeout=60_000,
        )

        _accept_kernel_dialog(page)
        cells = page.locator(".jp-Notebook .jp-CodeCell")
        sources = [cells.nth(i).locator(".jp-InputArea-editor").inner_text() for i in range(cells.count())]
        hits = [i for i, s in enumerate(sources) if CALL_NOT_DEF.search(s)]
        assert hits, f"no code cell whose source contains {WIDGET_CALL!r} in {url}"
        widget_cell = cells.nth(hits[0])

        # Run every code cell up to and including the widget cell, one at a time, as a
        # reader would (select the cell, Ctrl+Enter), waiting for its execution count.
        for i in range(hits[0] + 1):
            cell = cells.nth(i)
            cell.locator(".jp-InputPrompt").click()
            page.keyboard.press("Escape")
            page.keyboard.press("Control+Enter")
            cell.locator(".jp-InputPrompt").filter(has_text=re.compile(r"\[\d+\]")).wait_for(timeout=180_000)
        _wait_kernel_idle(page)
        errors_out = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").all_inner_texts()
        tracebacks = [t for t in errors_out if "Traceback" in t]  # exceptions, not library warnings
        assert not tracebacks, f"cells raised:\n{tracebacks[0][-2000:]}"

        before = _image_digest(page)
        slider = widget_cell.locator(SLIDER).first
        readout = slider.locator(".widget-readout")
        old_value = readout.inner_text().strip()
        handle = slider.locator(".noUi-handle").first
        handle.focus()
        handle.press("End")
        if readout.inner_text().strip() == old_value:  # already at the maximum
            handle.press("Home")
        new_value = readout.inner_text().strip()
        assert new_value != old_value, f"slider did not move (value stays {old_value})"
        after = _image_digest(page)
        deadline = time.monotonic() + 120
        while after[1] == before[1] and time.monotonic() < deadline:  # the kernel re-renders the figure
            page.wait_for_timeout(500)
            after = _image_digest(page)
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        widget_cell.scroll_into_view_if_needed()
        page.screenshot(path=str(screenshot))
        return {
            "before": before,
            "after": after,
            "values": (old_value, new_value),
            "external": external,
            "page_errors": page_errors,
        }
    except Exception:
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(screenshot.with_name(screenshot.stem + "_failure.png")))
        raise
    finally:
        context.close()


def _check(result: dict[str, object]) -> None:
    before, after = result["before"], result["after"]
    assert before[1] != after[1], f"figure bytes unchanged after moving n_mels {result['values']}"  # type: ignore[index]
    assert not result["external"], f"JupyterLab made requests that left localhost: {result['external']}"
    assert not result["page_errors"], f"uncaught JavaScript errors in JupyterLab: {result['page_errors']}"


def test_lab_harness_on_a_tiny_widget_notebook(tmp_path: Path, browser: object) -> None:
    nb = _write_tiny_notebook(tmp_path)
    server = LabServer(tmp_path, tmp_path)
    try:
        server.wait_ready()
        url = f"{server.base}/lab/tree/{nb.name}?token={server.token}"
        _check(run_widget_cell_and_move_slider(browser, url, REPO / "_build" / "screenshots" / "lab_tiny_widget.png"))
    finally:
        server.stop()


def test_lab_mfcc_chapter_slider_changes_the_figure(tmp_path: Path, browser: object) -> None:
    assert MFCC_CHAPTER.exists(), f"{MFCC_CHAPTER} is missing: the MFCC chapter (features engineer) must exist"
    stored = MFCC_CHAPTER.read_bytes()
    server = LabServer(REPO, tmp_path)
    try:
        server.wait_ready()
        url = f"{server.base}/lab/tree/book/04_mfcc.ipynb?token={server.token}"
        _check(run_widget_cell_and_move_slider(browser, url, REPO / "_build" / "screenshots" / "lab_04_mfcc.png"))
    finally:
        server.stop()
    assert MFCC_CHAPTER.read_bytes() == stored, "the Lab session modified book/04_mfcc.ipynb (autosave?)"
