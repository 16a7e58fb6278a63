"""Tests of sertools.stream: window coverage, chunking, VAD gating, smoothing, alerts, CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sertools.errors import AudioError, DataError, SertoolsError
from sertools.stream import (
    chunked,
    default_vad,
    emotion_at,
    flag_sustained,
    smooth,
    stream,
    stream_file,
    stream_signal,
    synthetic_conversation,
    window_bounds,
    window_features,
)

SR = 1000  # a low rate keeps the arithmetic readable: 1 sample = 1 ms


class FakeBundle:
    """A stand-in model: P(angry) = the fraction of the window's samples that are positive."""

    labels = ("neutral", "angry")
    sr = SR

    def __init__(self) -> None:
        self.calls: list[int] = []

    def predict_proba(self, y: np.ndarray, sr: int) -> np.ndarray:
        assert sr == SR
        self.calls.append(len(y))
        p = float(np.mean(y > 0))
        return np.array([1.0 - p, p])


def assert_covers(bounds: list[tuple[float, float]], duration: float, window: float, hop: float) -> None:
    """Windows start at 0, end at the duration, never leave a gap, full windows step by hop."""
    assert bounds[0][0] == 0.0
    assert bounds[-1][1] == pytest.approx(duration)
    for (s0, e0), (s1, _e1) in zip(bounds, bounds[1:], strict=False):
        assert s1 <= e0 + 1e-12, "gap between windows"
        assert s1 == pytest.approx(s0 + hop)
    for s, e in bounds[:-1]:
        assert e - s == pytest.approx(window)
    assert 0 < bounds[-1][1] - bounds[-1][0] <= window + 1e-12


def test_bounds_with_a_partial_last_window() -> None:
    # 3.3 s with 2 s windows every 0.5 s: full windows at 0, 0.5, 1.0; then 1.5-3.3 covers the tail
    b = window_bounds(3300, SR, window=2.0, hop=0.5)
    assert b == [(0.0, 2.0), (0.5, 2.5), (1.0, 3.0), (1.5, 3.3)]
    assert_covers(b, 3.3, 2.0, 0.5)


def test_bounds_exact_fit_has_no_extra_window() -> None:
    assert window_bounds(3000, SR, 2.0, 0.5) == [(0.0, 2.0), (0.5, 2.5), (1.0, 3.0)]


def test_signal_shorter_than_one_window_gives_one_window() -> None:
    assert window_bounds(700, SR, 2.0, 0.5) == [(0.0, 0.7)]
    assert window_bounds(0, SR, 2.0, 0.5) == []


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 20000),
    window=st.sampled_from([0.3, 1.0, 2.0, 2.5]),
    hop_frac=st.sampled_from([0.1, 0.25, 0.5, 1.0]),
)
def test_bounds_always_cover_the_signal(n: int, window: float, hop_frac: float) -> None:
    hop = window * hop_frac
    assert_covers(window_bounds(n, SR, window, hop), n / SR, window, hop)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 9000), seed=st.integers(0, 10_000))
def test_stream_matches_bounds_whatever_the_chunk_sizes(n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    y = rng.standard_normal(n).astype(np.float32)
    sizes = rng.integers(1, 1500, size=n)  # more than enough blocks
    cuts = np.cumsum(sizes)
    chunks = np.split(y, cuts[cuts < n])
    bundle = FakeBundle()
    got = list(stream(bundle, chunks, SR, 2.0, 0.5, vad=False, smoothing=0, min_duration=0))
    assert [(w["start"], w["end"]) for w in got] == window_bounds(n, SR, 2.0, 0.5)
    # each window saw exactly its own samples
    for w in got:
        seg = y[int(round(w["start"] * SR)) : int(round(w["end"] * SR))]
        assert w["raw"]["angry"] == pytest.approx(float(np.mean(seg > 0)))


def test_chunked_stream_equals_whole_signal(rng: np.random.Generator) -> None:
    y = rng.standard_normal(7777).astype(np.float32)
    whole = stream_signal(FakeBundle(), y, SR, 2.0, 0.5, vad=False)
    pieces = list(stream(FakeBundle(), chunked(y, 333), SR, 2.0, 0.5, vad=False))
    assert whole == pieces


def test_stereo_chunks_are_averaged(rng: np.random.Generator) -> None:
    y = rng.standard_normal(3000).astype(np.float32)
    mono = stream_signal(FakeBundle(), y, SR, vad=False)
    stereo = list(stream(FakeBundle(), [np.stack([y, y], axis=1)], SR, vad=False))
    assert mono == stereo


def test_silent_windows_are_reported_but_not_classified() -> None:
    t = np.arange(6000) / SR
    y = np.where((t >= 2.0) & (t < 4.0), 0.0, 0.3 * np.sin(2 * np.pi * 100 * t)).astype(np.float32)
    bundle = FakeBundle()
    got = stream_signal(bundle, y, SR, window=1.0, hop=0.5)
    silent = [w for w in got if not w["voiced"]]
    assert [(w["start"], w["end"]) for w in silent] == [(2.0, 3.0), (2.5, 3.5), (3.0, 4.0)]
    assert all(w["emotion"] is None and w["probabilities"] is None for w in silent)
    assert all(w["emotion"] in FakeBundle.labels for w in got if w["voiced"])
    assert len(bundle.calls) == len(got) - len(silent)


def test_default_vad_threshold() -> None:
    rng = np.random.default_rng(0)
    quiet = (1e-4 * rng.standard_normal(SR)).astype(np.float32)  # -80 dBFS
    loud = (0.1 * rng.standard_normal(SR)).astype(np.float32)  # -20 dBFS
    assert not default_vad(quiet, SR)
    assert default_vad(loud, SR)
    assert not default_vad(np.zeros(5, dtype=np.float32), SR)
    assert default_vad(quiet, SR, threshold_db=-100.0)
    with pytest.raises(SertoolsError, match="threshold_db"):
        default_vad(loud, SR, threshold_db=float("nan"))
    with pytest.raises(SertoolsError, match="min_voiced"):
        default_vad(loud, SR, min_voiced=2.0)


def step_signal() -> np.ndarray:
    """2 s of negative samples (neutral for FakeBundle) then 4 s of positive ones (angry)."""
    return np.concatenate([-0.2 * np.ones(2 * SR), 0.2 * np.ones(4 * SR)]).astype(np.float32)


def test_smoothing_lags_the_raw_probabilities_and_zero_turns_it_off() -> None:
    y = step_signal()
    raw = stream_signal(FakeBundle(), y, SR, window=1.0, hop=0.5, smoothing=0)
    smooth = stream_signal(FakeBundle(), y, SR, window=1.0, hop=0.5, smoothing=1.0)
    for w in raw:
        assert w["probabilities"] == w["raw"]
    pr = np.array([w["probabilities"]["angry"] for w in raw])
    ps = np.array([w["probabilities"]["angry"] for w in smooth])
    assert np.all(ps <= pr + 1e-12)  # rising step: the average lags behind
    assert pr[-1] == 1.0 and 0.9 < ps[-1] < 1.0
    alpha = 1 - np.exp(-0.5 / 1.0)
    np.testing.assert_allclose(ps[1], alpha * pr[1] + (1 - alpha) * pr[0])
    for w in smooth:  # probabilities stay a distribution
        assert sum(w["probabilities"].values()) == pytest.approx(1.0)


def test_smoothing_restarts_after_silence() -> None:
    y = np.concatenate([-0.2 * np.ones(2 * SR), np.zeros(2 * SR), 0.2 * np.ones(2 * SR)]).astype(np.float32)
    got = stream_signal(FakeBundle(), y, SR, window=1.0, hop=0.5, smoothing=5.0)
    first_after = next(w for w in got if w["start"] >= 3.0 and w["voiced"])
    assert first_after["start"] == 3.5
    assert first_after["probabilities"] == first_after["raw"]  # not dragged by the earlier turn
    kept = stream_signal(FakeBundle(), y, SR, window=1.0, hop=0.5, smoothing=5.0, reset_on_silence=False)
    w = next(w for w in kept if w["start"] == 3.5)
    assert w["raw"]["angry"] == 0.5 and w["probabilities"]["angry"] < 0.1


def test_custom_vad_and_too_short_tail() -> None:
    bundle = FakeBundle()
    got = stream_signal(bundle, np.ones(2100, dtype=np.float32), SR, 2.0, 2.0, vad=lambda y, sr: True)
    assert [(w["start"], w["end"]) for w in got] == [(0.0, 2.0), (2.0, 2.1)]
    assert got[1]["voiced"] and got[1]["emotion"] is None  # 0.1 s < min_duration: not classified
    assert bundle.calls == [2000]


@pytest.mark.parametrize(
    "kwargs",
    [dict(window=1.0, hop=2.0), dict(window=0.0, hop=0.0), dict(window=-1.0, hop=0.5),
     dict(window=float("nan"), hop=0.5), dict(window=1.0, hop=1e-6), dict(smoothing=-1.0),
     dict(vad="yes")],
)
def test_bad_settings_raise_sertools_errors(kwargs: dict) -> None:
    with pytest.raises(SertoolsError):
        list(stream(FakeBundle(), [np.zeros(3000, dtype=np.float32)], SR, **kwargs))


def test_bad_chunks_name_the_chunk() -> None:
    bad = np.ones(100, dtype=np.float32)
    bad[3] = np.nan
    with pytest.raises(AudioError, match="chunk 1"):
        list(stream(FakeBundle(), [np.ones(100), bad], SR, vad=False))
    with pytest.raises(AudioError, match="chunk 0"):
        list(stream(FakeBundle(), [np.ones((2, 2, 2))], SR))


def test_wrong_number_of_probabilities_is_an_error() -> None:
    class Broken(FakeBundle):
        def predict_proba(self, y: np.ndarray, sr: int) -> np.ndarray:
            return np.ones(3) / 3

    with pytest.raises(SertoolsError, match="2 labels"):
        stream_signal(Broken(), np.ones(3000, dtype=np.float32), SR, vad=False)


def test_flag_sustained_needs_a_long_enough_run() -> None:
    def w(s: float, p: float | None) -> dict:
        probs = None if p is None else {"neutral": 1 - p, "angry": p}
        return {"start": s, "end": s + 2.0, "probabilities": probs}

    wins = [w(0.0, 0.9), w(0.5, 0.9), w(1.0, 0.2), w(1.5, 0.8), w(2.0, 0.8), w(2.5, 0.8), w(3.0, 0.7),
            w(3.5, None), w(4.0, 0.9)]
    # runs (in window-end time): 2.0-2.5, 3.5-5.0, 6.0-6.0
    assert flag_sustained(wins, "angry", threshold=0.6, min_duration=1.5) == [(3.5, 5.0)]
    assert flag_sustained(wins, "angry", threshold=0.6, min_duration=0.5) == [(2.0, 2.5), (3.5, 5.0)]
    assert flag_sustained(wins, "angry", threshold=0.6, min_duration=0.0) == [(2.0, 2.5), (3.5, 5.0), (6.0, 6.0)]
    assert flag_sustained(wins, "angry", threshold=0.85, min_duration=0.0) == [(2.0, 2.5), (6.0, 6.0)]
    assert flag_sustained(wins, "angry", threshold=0.95, min_duration=0.0) == []
    with pytest.raises(SertoolsError, match="happy"):
        flag_sustained(wins, "happy")


def test_emotion_at_takes_the_nearest_window_centre() -> None:
    wins = [{"start": 0.0, "end": 2.0, "emotion": "sad"}, {"start": 0.5, "end": 2.5, "emotion": None},
            {"start": 1.0, "end": 3.0, "emotion": "angry"}]
    assert emotion_at(wins, [0.0, 1.2, 1.3, 1.8, 10.0]) == ["sad", "sad", None, "angry", "angry"]
    assert emotion_at(wins[:1], [0.0, 5.0]) == ["sad", "sad"]


def test_smooth_reproduces_the_stream_with_another_time_constant(rng: np.random.Generator) -> None:
    y = np.concatenate([rng.standard_normal(3000), np.zeros(2000), rng.standard_normal(4000) + 0.5])
    y = (0.1 * y).astype(np.float32)
    raw = stream_signal(FakeBundle(), y, SR, 1.0, 0.25, smoothing=0)
    for tau in (0.0, 0.7, 3.0):
        direct = stream_signal(FakeBundle(), y, SR, 1.0, 0.25, smoothing=tau)
        again = smooth(raw, hop=0.25, smoothing=tau)
        assert [w["emotion"] for w in again] == [w["emotion"] for w in direct]
        for a, d in zip(again, direct, strict=True):
            if d["probabilities"] is None:
                assert a["probabilities"] is None
            else:
                assert a["probabilities"] == pytest.approx(d["probabilities"])
    with pytest.raises(SertoolsError, match="hop"):
        smooth(raw, hop=0)


def test_synthetic_conversation_truth_matches_the_signal() -> None:
    y, truth = synthetic_conversation([(0, "angry"), (1, "sad")], utterances_per_turn=2, seed=5, sr=16000)
    assert list(truth["emotion"]) == ["angry", "angry", "sad", "sad"]
    assert list(truth["turn"]) == [0, 0, 1, 1]
    assert truth["speaker"].nunique() == 2
    starts, ends = truth["start"].to_numpy(), truth["end"].to_numpy()
    assert np.all(ends > starts) and np.all(starts[1:] >= ends[:-1])
    assert starts[0] >= 0.8 and y.size / 16000 >= ends[-1] + 0.8  # pauses before and after
    level = lambda a: 20 * np.log10(np.sqrt(np.mean(np.asarray(a, dtype=np.float64) ** 2)))  # noqa: E731
    speech = np.concatenate([y[int(s * 16000) : int(e * 16000)] for s, e in zip(starts, ends, strict=True)])
    assert level(speech) > -45 > level(y[: int(starts[0] * 16000)]) > -75  # quiet, not digital silence
    y2, truth2, tracks = synthetic_conversation([(0, "angry"), (1, "sad")], utterances_per_turn=2, seed=5, sr=16000,
                                                return_tracks=True)
    assert np.array_equal(y, y2) and truth.equals(truth2)
    assert sorted(tracks) == sorted(truth["speaker"].unique())
    first, second = truth["speaker"][0], truth["speaker"][2]
    a, b = int(truth["start"][2] * 16000), int(truth["end"][2] * 16000)
    assert level(tracks[second][a:b]) > -45 > level(tracks[first][a:b])  # the first speaker is silent there
    background = tracks[first] + tracks[second] - y  # each track = its speech + the one shared background
    np.testing.assert_allclose(background[a:b], tracks[first][a:b], atol=1e-6)
    assert -70 < level(background) < -60
    with pytest.raises(DataError):
        synthetic_conversation([])


# --- with a real model: a small SVM bundle trained on the synthetic corpus ----------------------

E4 = ["neutral", "happy", "sad", "angry"]


@pytest.fixture(scope="module")
def svm_bundle_dir(tmp_path_factory: pytest.TempPathFactory):
    from sertools import datasets, training

    df = datasets.read_manifest(datasets.preset("small", progress=False))
    df = df[df["emotion"].isin(E4)].reset_index(drop=True)
    res = training.train(df, model="svm", seed=0, progress=False)
    return res.bundle.save(tmp_path_factory.mktemp("model") / "svm")


@pytest.mark.slow
def test_window_features_cut_every_clip_like_the_stream() -> None:
    from sertools import datasets
    from sertools.training import FeatureConfig

    df = datasets.read_manifest(datasets.preset("small", progress=False)).iloc[:3]
    cfg = FeatureConfig(kind="functionals")
    feats, rows = window_features(df, cfg, window=1.0, hop=0.5, progress=False)
    assert len(feats) == len(rows)
    for path, grp in rows.groupby("path", sort=False):
        from sertools.audio import load

        y, sr = load(path, sr=cfg.sr)
        assert list(zip(grp["start"], grp["end"], strict=True)) == window_bounds(y.size, sr, 1.0, 0.5)
    first = rows.iloc[0]
    y, sr = load(first["path"], sr=cfg.sr)
    np.testing.assert_allclose(feats[0], cfg.extract(y[: int(first["end"] * sr)], sr))


@pytest.mark.slow
def test_stream_file_with_a_real_bundle_covers_the_file(svm_bundle_dir, tmp_path) -> None:
    from sertools.audio import save
    from sertools.bundle import ModelBundle

    bundle = ModelBundle.load(svm_bundle_dir)
    y, truth = synthetic_conversation([(0, "angry"), (1, "neutral")], utterances_per_turn=1, pause=(2.6, 3.0), seed=2)
    path = save(tmp_path / "conv.wav", y, 16000)
    wins = list(stream_file(bundle, path, window=2.0, hop=0.5))
    n = int(round(y.size))
    got = np.array([(w["start"], w["end"]) for w in wins])
    np.testing.assert_allclose(got, np.array(window_bounds(n, 16000, 2.0, 0.5)))
    voiced = [w for w in wins if w["voiced"]]
    assert voiced and len(voiced) < len(wins)  # the pauses at both ends are gated
    for w in voiced:
        assert w["emotion"] in bundle.labels
        assert sum(w["probabilities"].values()) == pytest.approx(1.0)


@pytest.mark.slow
def test_cli_stream_prints_one_json_line_per_window(svm_bundle_dir, tmp_path) -> None:
    from sertools.audio import save

    y = synthetic_conversation([(3, "happy")], utterances_per_turn=1, seed=1)[0]
    path = save(tmp_path / "clip.wav", y, 16000)
    res = subprocess.run(
        [sys.executable, "-m", "sertools", "stream", str(svm_bundle_dir), str(path), "--window", "1.5", "--hop", "0.5"],
        capture_output=True, text=True,
    )
    assert res.returncode == 0, res.stderr
    lines = [json.loads(line) for line in res.stdout.splitlines()]
    got = np.array([(d["start"], d["end"]) for d in lines])
    np.testing.assert_allclose(got, np.array(window_bounds(y.size, 16000, 1.5, 0.5)), atol=1e-4)
    assert set(lines[0]) == {"start", "end", "voiced", "emotion", "probabilities"}
    assert any(d["voiced"] for d in lines) and not lines[0]["voiced"]
    strict = subprocess.run(
        [sys.executable, "-m", "sertools", "stream", str(svm_bundle_dir), str(path), "--vad-db", "0"],
        capture_output=True, text=True,
    )
    assert strict.returncode == 0 and strict.stdout
    assert not any(json.loads(line)["voiced"] for line in strict.stdout.splitlines())  # nothing reaches 0 dBFS


@pytest.mark.parametrize(
    "args, message",
    [(["--hop", "3"], "hop"), (["--window", "-1"], "window"), (["--vad-db", "nan"], "threshold_db")],
)
def test_cli_stream_bad_options_are_one_line_exit_2(svm_bundle_dir, tmp_path, args, message) -> None:
    from sertools.audio import save

    path = save(tmp_path / "x.wav", np.zeros(16000, dtype=np.float32), 16000)
    res = subprocess.run([sys.executable, "-m", "sertools", "stream", str(svm_bundle_dir), str(path), *args],
                         capture_output=True, text=True)
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sertools: error:") and message in lines[0], res.stderr


def test_cli_stream_missing_model_is_one_line_exit_2(tmp_path) -> None:
    res = subprocess.run([sys.executable, "-m", "sertools", "stream", str(tmp_path / "nope"), str(tmp_path / "x.wav")],
                         capture_output=True, text=True)
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sertools: error:"), res.stderr
