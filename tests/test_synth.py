"""Tests of the source-filter synthesiser (sertools.synth)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from scipy import signal

from sertools import DataError, synth
from sertools.datasets import EMOTIONS


def _clip(speaker: int, emotion: str, utt: int = 0, seed: int = 0, sr: int = 16000) -> np.ndarray:
    y = synth.synthesize(speaker, emotion, utt, seed=seed, sr=sr)
    assert isinstance(y, np.ndarray)
    return y


def test_same_seed_gives_identical_samples_and_other_seed_differs() -> None:
    a = _clip(3, "happy", 2, seed=7)
    b = _clip(3, "happy", 2, seed=7)
    assert a.dtype == np.float32
    assert a.tobytes() == b.tobytes()
    c = _clip(3, "happy", 2, seed=8)
    assert a.shape != c.shape or not np.array_equal(a, c)
    d = _clip(3, "happy", 3, seed=7)  # another utterance index differs too
    assert a.shape != d.shape or not np.array_equal(a, d)


def _digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*.wav"))
    }


def test_larger_corpus_contains_the_smaller_one_byte_for_byte(tmp_path: Path) -> None:
    small = tmp_path / "small"
    big = tmp_path / "big"
    synth.write_corpus(small, n_speakers=2, n_utterances=1, emotions=["sad", "angry"], seed=5, sr=8000, progress=False)
    synth.write_corpus(big, n_speakers=3, n_utterances=2, emotions=["neutral", "sad", "angry"], seed=5, sr=8000, progress=False)
    ds, db = _digests(small), _digests(big)
    assert len(ds) == 4 and len(db) == 18
    for name, digest in ds.items():
        assert db[name] == digest, name
    # a second run writes identical bytes
    again = tmp_path / "again"
    synth.write_corpus(again, n_speakers=2, n_utterances=1, emotions=["sad", "angry"], seed=5, sr=8000, progress=False)
    assert _digests(again) == ds


@pytest.mark.parametrize("emotion", EMOTIONS)
def test_no_clipping_no_nan_and_sensible_length(emotion: str) -> None:
    for spk in (0, 1):
        y, info = synth.synthesize(spk, emotion, 1, return_info=True)
        assert np.all(np.isfinite(y))
        assert np.max(np.abs(y)) < 0.99
        assert 1.0 < len(y) / 16000 < 6.0, info["duration"]
        assert np.sqrt(np.mean(y**2)) > 1e-3  # not silent


def _autocorr_f0(frame: np.ndarray, sr: int, fmin: float = 60.0, fmax: float = 600.0) -> tuple[float, float]:
    frame = (frame - frame.mean()) * np.hanning(len(frame))
    ac = np.correlate(frame, frame, mode="full")[len(frame) - 1 :]
    ac /= ac[0]
    lo, hi = int(sr / fmax), int(sr / fmin)
    lag = lo + int(np.argmax(ac[lo:hi]))
    return sr / lag, float(ac[lag])


@pytest.mark.parametrize("speaker", [0, 1])
def test_voiced_frames_are_periodic_at_the_planned_f0(speaker: int) -> None:
    sr = 16000
    y, info = synth.synthesize(speaker, "neutral", 0, sr=sr, return_info=True)
    voiced = info["voiced"]
    f0 = info["f0"]
    # frames of 40 ms inside voiced stretches
    win = int(0.04 * sr)
    checked = 0
    for start in range(0, len(y) - win, win):
        if not voiced[start : start + win].all():
            continue
        planned = float(np.median(f0[start : start + win]))
        # strongest periodicity within half an octave of the planned F0
        est, strength = _autocorr_f0(y[start : start + win].astype(np.float64), sr, planned / 1.4, planned * 1.4)
        assert strength > 0.4, "voiced frames must be strongly periodic (harmonic structure)"
        assert abs(est / planned - 1) < 0.08, (est, planned)
        checked += 1
    assert checked >= 5
    spk = synth.make_speaker(speaker)
    med = float(np.median(f0[voiced]))
    lo, hi = (150, 330) if spk.gender == "female" else (75, 190)
    assert lo < med < hi


def test_speakers_of_both_genders_with_typical_f0() -> None:
    spks = [synth.make_speaker(i) for i in range(8)]
    assert [s.gender for s in spks].count("female") == 4
    f = np.mean([s.f0 for s in spks if s.gender == "female"])
    m = np.mean([s.f0 for s in spks if s.gender == "male"])
    assert 190 < f < 240 and 105 < m < 150  # Hillenbrand et al. 1995: ~220 / ~130 Hz


def test_formant_response_peaks_at_the_formants() -> None:
    formants = [730.0, 1090.0, 2440.0, 3500.0, 4500.0]
    freqs, gain = synth.formant_response(formants, sr=16000, n_freqs=8000)
    peaks, _ = signal.find_peaks(gain)
    found = freqs[peaks]
    for f in formants:
        assert np.min(np.abs(found - f)) / f < 0.03, (f, found)
    assert abs(gain[0]) < 1e-6  # unity gain at 0 Hz
    with pytest.raises(DataError):
        synth.formant_response([500.0, 1500.0], bandwidths=[50.0])


def test_vowel_spectrum_has_formant_peaks_near_the_targets() -> None:
    # a steady vowel /a/ of a male speaker: LPC-free check by smoothing the spectrum
    sr = 16000
    y, info = synth.synthesize(1, "neutral", 0, sr=sr, return_info=True)
    fmt = info["formants"]  # per 5 ms block
    hop = info["hop"]
    # take the block where F1 is highest (most open vowel) and check energy around F1 > at 0.5*F1 valley
    b = int(np.argmax(fmt[:, 0] * info["voiced"][::hop][: len(fmt)]))
    seg = y[max(0, b * hop - 400) : b * hop + 400].astype(np.float64)
    spec = np.abs(np.fft.rfft(seg * np.hanning(len(seg)), 4096)) ** 2
    f = np.fft.rfftfreq(4096, 1 / sr)
    f1 = fmt[b, 0]
    near = spec[(f > 0.8 * f1) & (f < 1.2 * f1)].mean()
    high = spec[(f > 5000) & (f < 7000)].mean()
    assert near > 30 * high  # speech-like: energy around F1, far less at 5-7 kHz


def test_glottal_flow_shape() -> None:
    phase = np.linspace(0, 1, 1000, endpoint=False)
    u = synth.glottal_flow(phase, 0.5)
    assert u.max() == pytest.approx(1.0, abs=1e-3)
    assert phase[np.argmax(u)] == pytest.approx(0.5 * 2 / 3, abs=2e-3)
    assert np.all(u[phase >= 0.5] == 0)  # closed phase
    assert np.all(u >= 0)


@pytest.mark.parametrize("tilt", [3.0, 8.0, 24.0])
def test_tilt_filter_attenuates_3khz_by_tl(tilt: float) -> None:
    sr = 16000
    a = synth.tilt_coefficient(tilt, sr)
    _, h = signal.freqz([1 - a], [1, -a], worN=[0.0, 3000.0], fs=sr)
    assert 20 * np.log10(abs(h[0]) / abs(h[1])) == pytest.approx(tilt, abs=0.01)


def _stats(emotion: str, speaker: int = 1, n: int = 4) -> dict[str, float]:
    f0s, durs, rms = [], [], []
    for u in range(n):
        y, info = synth.synthesize(speaker, emotion, u, return_info=True)
        f0s.append(np.median(info["f0"][info["voiced"]]))
        durs.append(info["duration"] / info["n_syllables"])
        rms.append(np.sqrt(np.mean(y[info["voiced"]] ** 2)))
    return {"f0": float(np.mean(f0s)), "syl_dur": float(np.mean(durs)), "rms": float(np.mean(rms))}


def test_emotion_rules_move_prosody_the_documented_way() -> None:
    neutral, angry, sad = _stats("neutral"), _stats("angry"), _stats("sad")
    assert angry["f0"] > 1.15 * neutral["f0"] > 1.15 * sad["f0"]  # F0: angry up, sad down
    assert sad["syl_dur"] > neutral["syl_dur"] > angry["syl_dur"]  # tempo
    assert angry["rms"] > 1.4 * sad["rms"]  # intensity


def test_bad_arguments_raise_data_errors() -> None:
    with pytest.raises(DataError, match="emotion"):
        synth.synthesize(0, "bored")
    with pytest.raises(DataError, match="utterance"):
        synth.synthesize(0, "sad", -1)
    with pytest.raises(DataError, match="sample rate"):
        synth.synthesize(0, "sad", 0, sr=4000)
    with pytest.raises(DataError, match="speaker"):
        synth.make_speaker(-2)
    with pytest.raises(DataError, match="emotion"):
        synth.write_corpus("unused", emotions=["sad", "joy"], progress=False)


def test_write_corpus_manifest_and_pcm16(tmp_path: Path) -> None:
    manifest = synth.write_corpus(tmp_path, n_speakers=2, n_utterances=1, emotions=["calm"], sr=8000, progress=False)
    lines = manifest.read_text().splitlines()
    assert lines[0] == "path,emotion,speaker,gender,corpus"
    assert lines[1].startswith("S01/S01_calm_00.wav,calm,S01,female,")
    info = sf.info(str(tmp_path / "S02" / "S02_calm_00.wav"))
    assert info.subtype == "PCM_16" and info.samplerate == 8000


def test_fast_formant_filter_equals_public_sosfilt(monkeypatch: pytest.MonkeyPatch) -> None:
    # the synthesiser calls scipy's compiled sosfilt kernel directly; it must equal signal.sosfilt
    rng = np.random.default_rng(0)
    x = rng.standard_normal(2000)
    freqs = rng.uniform(300, 3000, (25, 5))
    sos = synth._resonator_sos(freqs, np.full((25, 5), 90.0), 16000)
    fast = synth._time_varying_cascade(x, sos, 80)
    monkeypatch.setattr(synth, "_sosfilt_kernel", None)
    public = synth._time_varying_cascade(x, sos, 80)
    np.testing.assert_allclose(fast, public, rtol=1e-12, atol=1e-9)
    # and with constant coefficients it is plain sosfilt over the whole signal
    const = np.broadcast_to(sos[0], sos.shape).copy()
    np.testing.assert_allclose(synth._time_varying_cascade(x, const, 80)[:2000], signal.sosfilt(sos[0], x), atol=1e-9)


def test_style_zero_is_the_default_and_style_is_fixed_per_speaker_and_emotion() -> None:
    base = synth.synthesize(2, "angry", 1)
    assert np.array_equal(synth.synthesize(2, "angry", 1, style=0.0), base)
    styled = synth.synthesize(2, "angry", 1, style=1.5)
    assert not np.array_equal(styled, base) and np.isfinite(styled).all() and np.max(np.abs(styled)) < 1
    # one personal deviation per (speaker, emotion): the same for every utterance, other per speaker
    a = synth.expression_style(2, "angry", seed=0, style=1.0)
    assert a == synth.expression_style(2, "angry", seed=0, style=1.0)
    assert a != synth.expression_style(3, "angry", seed=0, style=1.0)
    assert synth.expression_style(2, "angry", seed=0, style=2.0)["f0"] == pytest.approx(2 * a["f0"])
    _, info1 = synth.synthesize(2, "angry", 0, style=1.0, return_info=True)
    _, info0 = synth.synthesize(2, "angry", 0, return_info=True)
    assert info1["params"].f0 == pytest.approx(info0["params"].f0 * np.exp(a["f0"]))


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf")])
def test_bad_style_raises_data_error(bad: float, tmp_path: Path) -> None:
    with pytest.raises(DataError, match="style"):
        synth.synthesize(0, "sad", 0, style=bad)
    with pytest.raises(DataError, match="style"):
        synth.write_corpus(tmp_path / "c", n_speakers=1, n_utterances=1, style=bad, progress=False)
    assert not (tmp_path / "c" / "manifest.csv").exists()
