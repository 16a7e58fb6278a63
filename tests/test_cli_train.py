"""End-to-end tests of ``sertools train``, ``evaluate`` and ``predict`` on a tiny synthetic corpus."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sertools.cli import main

EMOS = ["neutral", "happy", "sad", "angry"]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    return subprocess.run([sys.executable, "-m", "sertools", *args], capture_output=True, text=True, env=env, timeout=600)


def _in_process(capsys, *args: str) -> tuple[int, str, str]:
    try:
        code = main(list(args))
    except SystemExit as e:
        code = int(e.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory) -> Path:
    """6 speakers x 4 emotions x 2 clips, written by ``sertools corpus``."""
    out = tmp_path_factory.mktemp("tiny") / "corpus"
    code = main(["corpus", str(out), "--speakers", "6", "--utterances", "2", "--emotions", *EMOS,
                 "--seed", "0", "--no-progress"])
    assert code == 0 and (out / "manifest.csv").is_file()
    return out


@pytest.fixture(scope="session")
def svm_model(tiny_corpus: Path, tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("models") / "svm"
    code = main(["train", str(tiny_corpus), "--out", str(out), "--model", "svm", "--quiet"])
    assert code == 0
    return out, json.loads((out / "bundle.json").read_text())


def test_train_svm_prints_metrics_and_saves_bundle(tiny_corpus: Path, tmp_path: Path, capsys) -> None:
    code, out, err = _in_process(capsys, "train", str(tiny_corpus), "--out", str(tmp_path / "m"), "--model", "svm", "--quiet")
    assert code == 0, err
    m = json.loads(out)
    assert m["model"] == "svm" and 0.0 <= m["test_uar"] <= 1.0 and 0.0 <= m["val_uar"] <= 1.0
    split = m["split"]
    assert not set(split["train_speakers"]) & set(split["test_speakers"])
    assert not set(split["val_speakers"]) & set(split["test_speakers"])
    assert sorted(m["labels"]) == sorted(EMOS)
    assert (tmp_path / "m" / "bundle.json").is_file() and (tmp_path / "m" / "model.joblib").is_file()


def test_train_crnn_then_predict_from_a_fresh_process(tiny_corpus: Path, tmp_path: Path) -> None:
    model = tmp_path / "crnn"
    res = _cli("train", str(tiny_corpus), "--out", str(model), "--epochs", "1", "--quiet")
    assert res.returncode == 0, res.stderr
    m = json.loads(res.stdout)
    assert m["model"] == "crnn" and m["epochs_run"] == 1 and (model / "model.keras").is_file()
    wavs = sorted(tiny_corpus.rglob("*.wav"))[:2]
    res = _cli("predict", str(model), *map(str, wavs))
    assert res.returncode == 0, res.stderr
    lines = [json.loads(line) for line in res.stdout.splitlines()]
    assert [d["path"] for d in lines] == [str(w) for w in wavs]
    for d in lines:
        assert d["emotion"] in EMOS
        assert abs(sum(d["probabilities"].values()) - 1.0) < 1e-3
        assert d["emotion"] == max(d["probabilities"], key=d["probabilities"].get)


def test_train_mlp_two_epochs(tiny_corpus: Path, tmp_path: Path, capsys) -> None:
    code, out, err = _in_process(capsys, "train", str(tiny_corpus), "--out", str(tmp_path / "mlp"), "--model", "mlp", "--epochs", "2", "--quiet", "--seed", "3")
    assert code == 0, err
    m = json.loads(out)
    assert m["epochs_run"] == 2 and 1 <= m["best_epoch"] <= 2


def test_evaluate_prints_report(svm_model, tiny_corpus: Path, capsys) -> None:
    folder, _ = svm_model
    code, out, err = _in_process(capsys, "evaluate", str(folder), str(tiny_corpus), "--quiet")
    assert code == 0, err
    rep = json.loads(out)
    assert rep["n"] == 6 * 4 * 2
    assert {"uar", "accuracy", "macro_f1", "confusion", "labels"} <= set(rep)
    assert sum(map(sum, rep["confusion"])) == rep["n"]


def test_predict_svm_bundle(svm_model, tiny_corpus: Path, capsys) -> None:
    folder, meta = svm_model
    wav = next(tiny_corpus.rglob("*.wav"))
    code, out, err = _in_process(capsys, "predict", str(folder), str(wav))
    assert code == 0, err
    d = json.loads(out)
    assert d["emotion"] in meta["labels"]


def _damaged_copy(folder: Path, tmp_path: Path, edit) -> Path:
    bad = tmp_path / "bad"
    shutil.copytree(folder, bad)
    edit(bad)
    return bad


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda f: (f / "bundle.json").write_text("{oops"), "corrupt JSON"),
        (lambda f: (f / "bundle.json").write_text(json.dumps({**json.loads((f / "bundle.json").read_text()), "format_version": 0})), "format version 0"),
        (lambda f: (f / "model.joblib").unlink(), "missing model.joblib"),
        (lambda f: (f / "bundle.json").write_text(json.dumps({**json.loads((f / "bundle.json").read_text()), "labels": ["a", "b"]})), "4 outputs but the bundle lists 2 labels"),
    ],
)
def test_corrupt_or_mismatched_bundle_is_one_line_exit_2(svm_model, tiny_corpus: Path, tmp_path: Path, capsys, edit, message) -> None:
    folder, _ = svm_model
    bad = _damaged_copy(folder, tmp_path, edit)
    wav = next(tiny_corpus.rglob("*.wav"))
    code, out, err = _in_process(capsys, "predict", str(bad), str(wav))
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sertools: error:") and message in lines[0], err


def test_user_errors_are_one_line_exit_2(svm_model, tmp_path: Path, capsys) -> None:
    folder, _ = svm_model
    not_audio = tmp_path / "notes.wav"
    not_audio.write_text("hello")
    cases = [
        ("predict", str(tmp_path / "no_model"), str(not_audio)),
        ("predict", str(folder), str(not_audio)),
        ("train", str(tmp_path / "no_data"), "--out", str(tmp_path / "x")),
        ("train", str(tmp_path), "--out", str(tmp_path / "x"), "--model", "transformer"),
        ("evaluate", str(folder), str(tmp_path / "no_data")),
    ]
    for args in cases:
        code, out, err = _in_process(capsys, *args)
        lines = err.strip().splitlines()
        assert code == 2 and len(lines) == 1 and lines[0].startswith("sertools: error:"), (args, err)


def test_cli_errors_from_a_fresh_process(tmp_path: Path) -> None:
    res = _cli("predict", str(tmp_path / "missing"), "x.wav")
    assert res.returncode == 2 and res.stderr.count("\n") == 1 and "Traceback" not in res.stderr
