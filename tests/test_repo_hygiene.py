"""Checks on the repository itself: notebooks stored clean, the TOC complete, the CLI shell."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(p for p in (REPO / "book").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stored_without_outputs(nb: Path) -> None:
    cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
    dirty = [i for i, c in enumerate(cells) if c.get("outputs") or c.get("execution_count")]
    assert not dirty, f"{nb.name}: cells {dirty} have stored outputs; clear them (the book build executes notebooks)"


def _toc_files() -> list[str]:
    text = (REPO / "_toc.yml").read_text(encoding="utf-8")
    files = re.findall(r"^\s*(?:-\s*)?(?:file|root):\s*(\S+)", text, flags=re.M)
    return files


def test_toc_lists_only_existing_chapters() -> None:
    for f in _toc_files():
        assert any((REPO / (f + ext)).exists() for ext in (".md", ".ipynb")), f"_toc.yml lists missing {f}"


def test_every_chapter_is_in_the_toc() -> None:
    listed = set(_toc_files())
    pages = [p for p in (REPO / "book").rglob("*") if p.suffix in (".md", ".ipynb") and ".ipynb_checkpoints" not in p.parts]
    missing = [str(p.relative_to(REPO).with_suffix("")) for p in pages if str(p.relative_to(REPO).with_suffix("")) not in listed]
    assert not missing, f"pages not in _toc.yml: {missing}"


def test_cli_version_and_help() -> None:
    out = subprocess.run([sys.executable, "-m", "sertools", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("sertools ")
    helptext = subprocess.run([sys.executable, "-m", "sertools", "--help"], capture_output=True, text=True, check=True).stdout
    from sertools.cli import available_commands

    for cmd in available_commands():
        assert cmd in helptext


def test_cli_bad_argument_is_one_line_exit_2() -> None:
    res = subprocess.run([sys.executable, "-m", "sertools", "--no-such-option"], capture_output=True, text=True)
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sertools: error:"), res.stderr


def test_cli_closed_pipe_exits_quietly(tmp_path: Path) -> None:
    """`sertools ... | head` must not end in a BrokenPipe traceback."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "sertools", "corpus", str(tmp_path / "c"), "--speakers", "1",
         "--utterances", "1", "--emotions", "neutral", "--no-progress"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader goes away before the JSON summary is written
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0, err
    assert "Traceback" not in err and "BrokenPipe" not in err, err
