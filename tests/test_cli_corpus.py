"""Tests of ``sertools corpus`` (sertools/cli/corpus.py)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import soundfile as sf

from sertools import datasets


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sertools", "corpus", *args], capture_output=True, text=True, timeout=300)


def test_corpus_writes_wavs_and_manifest(tmp_path: Path) -> None:
    out = tmp_path / "corpus"
    res = _run(str(out), "--speakers", "2", "--utterances", "2", "--emotions", "sad", "angry", "--sr", "8000", "--seed", "3")
    assert res.returncode == 0, res.stderr
    summary = json.loads(res.stdout.strip().splitlines()[-1])
    assert summary["clips"] == 8 and summary["sr"] == 8000 and summary["emotions"] == ["sad", "angry"]
    assert "synthesising" in res.stderr  # the tqdm progress bar goes to stderr
    with open(out / "manifest.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["path", "emotion", "speaker", "gender", "corpus"]
    assert len(rows) == 8
    for r in rows:
        assert not Path(r["path"]).is_absolute()
        info = sf.info(str(out / r["path"]))
        assert info.subtype == "PCM_16" and info.samplerate == 8000
    assert {r["gender"] for r in rows} == {"female", "male"}
    df = datasets.read_manifest(out)  # the manifest validates
    assert sorted(df.emotion.unique()) == ["angry", "sad"]


def test_same_seed_same_bytes_other_seed_differs(tmp_path: Path) -> None:
    args = ["--speakers", "1", "--utterances", "1", "--emotions", "happy", "--sr", "8000", "--no-progress"]
    for name, seed in (("a", "1"), ("b", "1"), ("c", "2")):
        assert _run(str(tmp_path / name), *args, "--seed", seed).returncode == 0
    wav = "S01/S01_happy_00.wav"
    a, b, c = ((tmp_path / n / wav).read_bytes() for n in "abc")
    assert a == b
    assert a != c


def test_bad_arguments_are_one_line_errors(tmp_path: Path) -> None:
    for args in (
        ["--emotions", "joy"],
        ["--speakers", "0"],
        ["--utterances", "-1"],
        ["--sr", "4000", "--speakers", "1", "--utterances", "1", "--emotions", "sad"],
        ["--preset", "huge"],
    ):
        res = _run(str(tmp_path / "x"), *args)
        assert res.returncode == 2, args
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("sertools: error:"), res.stderr
    (tmp_path / "file").write_text("x")
    res = _run(str(tmp_path / "file"), "--speakers", "1")
    assert res.returncode == 2 and "not a folder" in res.stderr
