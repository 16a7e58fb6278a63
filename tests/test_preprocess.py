"""Tests of sertools.preprocess: framing, windows, resampling, filters, denoising, VAD."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sertools.errors import AudioError
from sertools.preprocess import (
    add_noise,
    apply_filter,
    deemphasis,
    design_filter,
    detect_speech,
    frame,
    frame_energy_db,
    frequency_response,
    get_window,
    make_noise,
    preemphasis,
    reduce_noise,
    resample,
    snr_db,
    speech_mask,
    trim_silence,
)

# ---------------------------------------------------------------- framing


def test_frame_is_a_strided_view_with_the_right_frames() -> None:
    y = np.arange(10.0)
    f = frame(y, 4, 3)
    assert f.shape == (3, 4)
    assert np.shares_memory(f, y)
    np.testing.assert_array_equal(f[1], y[3:7])
    np.testing.assert_array_equal(f[-1], y[6:10])


@pytest.mark.parametrize(("n", "fl", "hop"), [(2048, 2048, 512), (16000, 400, 160), (1000, 7, 3)])
def test_frame_count_formula(n: int, fl: int, hop: int) -> None:
    f = frame(np.zeros(n), fl, hop)
    assert f.shape == (1 + (n - fl) // hop, fl)


def test_frame_too_short_raises_unless_allowed() -> None:
    y = np.zeros(100)
    with pytest.raises(AudioError, match="shorter than one frame"):
        frame(y, 2048, 512)
    assert frame(y, 2048, 512, allow_empty=True).shape == (0, 2048)


@pytest.mark.parametrize("bad", [0, -1, 2.5])
def test_frame_bad_lengths(bad: object) -> None:
    with pytest.raises(AudioError, match="frame_length"):
        frame(np.zeros(10), bad, 1)  # type: ignore[arg-type]
    with pytest.raises(AudioError, match="hop_length"):
        frame(np.zeros(10), 4, bad)  # type: ignore[arg-type]


def test_frame_rejects_2d() -> None:
    with pytest.raises(AudioError, match="1-D"):
        frame(np.zeros((10, 2)), 4, 2)


# ---------------------------------------------------------------- windows


@pytest.mark.parametrize("name", ["hann", "hamming", "boxcar"])
@pytest.mark.parametrize("n", [1, 2, 3, 400, 2048])
@pytest.mark.parametrize("periodic", [True, False])
def test_windows_match_scipy(name: str, n: int, periodic: bool) -> None:
    np.testing.assert_allclose(
        get_window(name, n, periodic), scipy.signal.get_window(name, n, fftbins=periodic), atol=1e-12
    )


def test_rectangular_alias_and_unknown_name() -> None:
    np.testing.assert_array_equal(get_window("rectangular", 5), np.ones(5))
    with pytest.raises(AudioError, match="unknown window"):
        get_window("kaiser-bessel-wrong", 8)


def test_periodic_hann_overlap_adds_to_constant() -> None:
    w = get_window("hann", 512)
    total = w[:256] + w[256:]
    np.testing.assert_allclose(total, 1.0, atol=1e-12)


# ---------------------------------------------------------------- resampling


@pytest.mark.parametrize(("orig", "target"), [(48000, 16000), (8000, 16000), (44100, 16000), (16000, 16000)])
def test_resample_keeps_duration_and_a_tone(orig: int, target: int) -> None:
    t = np.arange(orig) / orig  # one second
    y = (0.5 * np.sin(2 * np.pi * 440.0 * t)).astype(np.float32)
    out = resample(y, orig, target)
    assert out.dtype == np.float32
    assert abs(len(out) - target) <= 1
    spec = np.abs(np.fft.rfft(out[: target // 2 * 2]))
    peak_hz = np.argmax(spec) * target / (target // 2 * 2)
    assert abs(peak_hz - 440.0) < 3.0
    # level kept (RMS of a 0.5 sine is 0.5/sqrt 2), ignoring the edges
    mid = out[target // 10 : -target // 10]
    assert np.sqrt(np.mean(mid**2)) == pytest.approx(0.5 / np.sqrt(2), rel=0.01)


def test_resample_removes_content_above_new_nyquist() -> None:
    sr = 48000
    t = np.arange(sr) / sr
    y = np.sin(2 * np.pi * 12000.0 * t)  # above 8 kHz: must not alias to 4 kHz
    out = resample(y, sr, 16000)
    assert np.sqrt(np.mean(out[1000:-1000] ** 2)) < 1e-3


@pytest.mark.parametrize("bad", [0, -16000])
def test_resample_bad_rates(bad: int) -> None:
    with pytest.raises(AudioError, match="sr"):
        resample(np.zeros(10), bad, 16000)
    with pytest.raises(AudioError, match="target_sr"):
        resample(np.zeros(10), 16000, bad)


# ---------------------------------------------------------------- pre-emphasis


def test_preemphasis_round_trip_is_exact(rng: np.random.Generator) -> None:
    y = rng.standard_normal(5000).astype(np.float32) * 0.3
    for coef in (0.0, 0.5, 0.97):
        back = deemphasis(preemphasis(y, coef), coef)
        assert back.dtype == np.float32
        np.testing.assert_allclose(back, y, atol=1e-5)


def test_preemphasis_definition_and_gain_at_dc_and_nyquist() -> None:
    y = np.array([1.0, 2.0, 3.0, 4.0])
    np.testing.assert_allclose(preemphasis(y, 0.5), [1.0, 1.5, 2.0, 2.5])
    n = 4096
    dc = np.ones(n)
    nyq = np.cos(np.pi * np.arange(n))
    assert preemphasis(dc, 0.97)[10:].mean() == pytest.approx(0.03)
    assert np.abs(preemphasis(nyq, 0.97)[10:]).mean() == pytest.approx(1.97)
    # de-emphasis does the opposite: boost at DC (1/(1-a)), cut at Nyquist (1/(1+a))
    assert deemphasis(dc, 0.9)[-1] == pytest.approx(10.0, rel=1e-6)
    assert np.abs(deemphasis(nyq, 0.9)[-100:]).mean() == pytest.approx(1 / 1.9, rel=1e-3)


@pytest.mark.parametrize("coef", [-0.1, 1.0, 1.5, float("nan")])
def test_preemphasis_bad_coef(coef: float) -> None:
    with pytest.raises(AudioError, match="coef"):
        preemphasis(np.ones(4), coef)


# ---------------------------------------------------------------- filters


def _tone_gain_db(sos: np.ndarray, freq: float, sr: int, zero_phase: bool) -> float:
    t = np.arange(sr) / sr
    x = np.sin(2 * np.pi * freq * t)
    out = apply_filter(x, sos, zero_phase=zero_phase)
    mid = slice(sr // 4, 3 * sr // 4)  # steady state
    return 20 * np.log10(np.sqrt(np.mean(out[mid] ** 2)) / np.sqrt(np.mean(x[mid] ** 2)))


@pytest.mark.parametrize("kind", ["butter", "cheby1"])
@pytest.mark.parametrize("zero_phase", [False, True])
def test_filter_responses_at_known_frequencies(kind: str, zero_phase: bool) -> None:
    sr = 16000
    lp = design_filter("lowpass", 1000.0, sr, order=6, kind=kind)
    assert _tone_gain_db(lp, 200.0, sr, zero_phase) > -2.5  # pass band (cheby ripple 1 dB, twice if zero phase)
    assert _tone_gain_db(lp, 4000.0, sr, zero_phase) < -40.0  # stop band
    hp = design_filter("highpass", 1000.0, sr, order=6, kind=kind)
    assert _tone_gain_db(hp, 4000.0, sr, zero_phase) > -2.5
    assert _tone_gain_db(hp, 200.0, sr, zero_phase) < -40.0
    bp = design_filter("bandpass", (300.0, 3400.0), sr, order=4, kind=kind)
    assert _tone_gain_db(bp, 1000.0, sr, zero_phase) > -2.5
    assert _tone_gain_db(bp, 50.0, sr, zero_phase) < -30.0
    assert _tone_gain_db(bp, 7000.0, sr, zero_phase) < -30.0


def test_butterworth_is_minus_3db_at_cutoff_and_zero_phase_doubles_it() -> None:
    sr = 16000
    sos = design_filter("lowpass", 2000.0, sr, order=4)
    freqs, gain = frequency_response(sos, sr, n=8000)
    assert gain[np.argmin(np.abs(freqs - 2000.0))] == pytest.approx(-3.01, abs=0.05)
    _, gain2 = frequency_response(sos, sr, n=8000, zero_phase=True)
    ok = gain > -90.0
    np.testing.assert_allclose(gain2[ok], 2 * gain[ok])
    assert _tone_gain_db(sos, 2000.0, sr, True) == pytest.approx(-6.02, abs=0.2)


def test_zero_phase_filter_does_not_shift_a_pulse() -> None:
    sr = 16000
    x = np.zeros(4000)
    x[2000] = 1.0
    sos = design_filter("lowpass", 1000.0, sr, order=4)
    assert np.argmax(apply_filter(x, sos, zero_phase=True)) == 2000
    assert np.argmax(apply_filter(x, sos, zero_phase=False)) > 2000  # causal: delayed


def test_filters_work_on_very_short_signals() -> None:
    sos = design_filter("bandpass", (300.0, 3400.0), 16000, order=8)
    for n in (1, 2, 10, 100):
        out = apply_filter(np.ones(n, dtype=np.float32), sos, zero_phase=True)
        assert out.shape == (n,) and out.dtype == np.float32 and np.all(np.isfinite(out))


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (("lowpass", 8000.0, 16000), "Nyquist"),
        (("lowpass", 9000.0, 16000), "Nyquist"),
        (("highpass", 0.0, 16000), "> 0"),
        (("highpass", -5.0, 16000), "> 0"),
        (("bandpass", (3000.0, 300.0), 16000), "below high"),
        (("bandpass", (300.0, 300.0), 16000), "below high"),
        (("bandpass", 300.0, 16000), "pair"),
        (("lowpass", (300.0, 3000.0), 16000), "one frequency"),
        (("notch", 300.0, 16000), "btype"),
    ],
)
def test_design_filter_bad_arguments(args: tuple, match: str) -> None:
    with pytest.raises(AudioError, match=match):
        design_filter(*args)


def test_design_filter_bad_kind_and_order() -> None:
    with pytest.raises(AudioError, match="kind"):
        design_filter("lowpass", 1000.0, 16000, kind="elliptic")
    with pytest.raises(AudioError, match="order"):
        design_filter("lowpass", 1000.0, 16000, order=0)


# ---------------------------------------------------------------- SNR and noise


def test_snr_db_definition_and_edge_cases(rng: np.random.Generator) -> None:
    clean = rng.standard_normal(1000)
    assert snr_db(clean, clean + 0.1 * clean) == pytest.approx(20.0)
    assert snr_db(clean, clean) == float("inf")
    with pytest.raises(AudioError, match="silent"):
        snr_db(np.zeros(10), np.ones(10))
    with pytest.raises(AudioError, match="length"):
        snr_db(np.ones(10), np.ones(11))


@pytest.mark.parametrize("kind", ["white", "pink", "brown", "babble"])
@pytest.mark.parametrize("target", [-5.0, 0.0, 10.0, 20.0])
def test_add_noise_hits_the_requested_snr(kind: str, target: float) -> None:
    y = _speechlike()
    noisy = add_noise(y, target, kind=kind, rng=3)
    assert noisy.dtype == y.dtype
    assert snr_db(y, noisy) == pytest.approx(target, abs=0.01)


def test_add_noise_is_reproducible_and_seeded() -> None:
    y = _speechlike()
    a = add_noise(y, 5.0, rng=7)
    np.testing.assert_array_equal(a, add_noise(y, 5.0, rng=np.random.default_rng(7)))
    assert not np.array_equal(a, add_noise(y, 5.0, rng=8))


def test_noise_colours_have_the_right_slope() -> None:
    n = 2**16
    for kind, slope in (("white", 0.0), ("pink", -3.0), ("brown", -6.0)):
        x = make_noise(n, kind, rng=0)
        assert np.sqrt(np.mean(x**2)) == pytest.approx(1.0)
        f, p = scipy.signal.welch(x, fs=16000, nperseg=4096)
        upper = 10 * np.log10(p[(f >= 2000) & (f < 4000)].mean())
        lower = 10 * np.log10(p[(f >= 1000) & (f < 2000)].mean())
        measured = upper - lower  # dB per octave
        assert measured == pytest.approx(slope, abs=0.7), kind


def test_add_noise_bad_inputs() -> None:
    with pytest.raises(AudioError, match="silent"):
        add_noise(np.zeros(100), 10.0)
    with pytest.raises(AudioError, match="kind"):
        add_noise(np.ones(100), 10.0, kind="purple")
    with pytest.raises(AudioError, match="rng"):
        add_noise(np.ones(100), 10.0, rng="seed")  # type: ignore[arg-type]


# ---------------------------------------------------------------- noise reduction


def _speechlike(sr: int = 16000) -> np.ndarray:
    """Voiced 'syllables' (harmonics of 150 Hz with an envelope) separated by pauses."""
    from sertools.synth import synthesize

    return synthesize(1, "neutral", 0, seed=0, sr=sr)


@pytest.mark.parametrize("method", ["subtract", "gate"])
@pytest.mark.parametrize("kind", ["white", "pink"])
def test_noise_reduction_improves_snr_on_a_corpus_clip(method: str, kind: str) -> None:
    clean = _speechlike()
    noisy = add_noise(clean, 5.0, kind=kind, rng=0)
    den = reduce_noise(noisy, 16000, method=method, strength=1.5)
    assert den.shape == noisy.shape and den.dtype == noisy.dtype
    assert snr_db(clean, den) > snr_db(clean, noisy) + 2.0


def test_noise_reduction_with_a_noise_clip_and_strength_zero() -> None:
    clean = _speechlike()
    noise = make_noise(clean.size + 16000, "white", rng=5) * 0.05
    noisy = clean + noise[: clean.size].astype(np.float32)
    den = reduce_noise(noisy, 16000, noise=noise[clean.size :], strength=1.0)
    assert snr_db(clean, den) > snr_db(clean, noisy) + 2.0
    np.testing.assert_allclose(reduce_noise(noisy, 16000, strength=0.0), noisy)


def test_stronger_reduction_removes_more_noise_from_noise_alone() -> None:
    clean = _speechlike()
    noisy = add_noise(clean, 0.0, kind="white", rng=0)
    pauses = slice(0, 800)  # the clip's first 50 ms: pre-speech pause
    levels = [np.sqrt(np.mean(reduce_noise(noisy, 16000, strength=s)[pauses] ** 2)) for s in (0.5, 1.0, 3.0)]
    assert levels[0] > levels[1] > levels[2]


def test_noise_reduction_keeps_silence_and_short_clips_finite() -> None:
    assert np.all(reduce_noise(np.zeros(16000), 16000) == 0)
    short = reduce_noise(np.ones(100) * 0.1, 16000)
    assert short.shape == (100,) and np.all(np.isfinite(short))


def test_noise_reduction_bad_arguments() -> None:
    with pytest.raises(AudioError, match="strength"):
        reduce_noise(np.ones(1000), 16000, strength=-1.0)
    with pytest.raises(AudioError, match="method"):
        reduce_noise(np.ones(1000), 16000, method="wiener")
    with pytest.raises(AudioError, match="hop_length"):
        reduce_noise(np.ones(1000), 16000, n_fft=256, hop_length=200)


# ---------------------------------------------------------------- voice activity


def _burst(sr: int = 16000) -> np.ndarray:
    y = np.zeros(2 * sr)
    t = np.arange(int(0.5 * sr)) / sr
    y[int(0.8 * sr) : int(1.3 * sr)] = 0.3 * np.sin(2 * np.pi * 300 * t)
    return y + make_noise(y.size, "white", rng=1) * 1e-4  # faint hiss, -80 dBFS


def test_vad_finds_a_tone_burst_in_silence() -> None:
    segments = detect_speech(_burst(), 16000, hangover_ms=0.0)
    assert len(segments) == 1
    start, end = segments[0]
    assert start == pytest.approx(0.8, abs=0.03)
    assert end == pytest.approx(1.3, abs=0.03)


def test_trim_silence_cuts_to_the_burst_with_hangover() -> None:
    y = _burst()
    trimmed, (a, b) = trim_silence(y, 16000, hangover_ms=50.0)
    assert a / 16000 == pytest.approx(0.75, abs=0.03)
    assert b / 16000 == pytest.approx(1.35, abs=0.03)
    np.testing.assert_array_equal(trimmed, y[a:b])


def test_vad_on_silence_and_short_clips() -> None:
    assert detect_speech(np.zeros(16000), 16000) == []
    y, (a, b) = trim_silence(np.zeros(16000), 16000)
    assert y.size == 16000 and (a, b) == (0, 16000)
    assert trim_silence(np.zeros(16000), 16000, keep_if_silent=False)[0].size == 0
    times, active = speech_mask(np.full(50, 0.1), 16000)  # shorter than a frame
    assert times.shape == active.shape == (1,) and bool(active[0])
    t, level = frame_energy_db(np.zeros(10), 16000)
    assert level.tolist() == [-200.0]


# ---------------------------------------------------------------- properties (hypothesis)

# audio-like samples: exact zeros or magnitudes from 1e-6 (-120 dBFS) to full scale
_samples = st.one_of(st.just(0.0), st.floats(1e-6, 1.0), st.floats(-1.0, -1e-6))
_signals = arrays(np.float64, st.integers(1, 3000), elements=_samples)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(y=_signals, coef=st.floats(0.0, 0.99))
def test_property_deemphasis_inverts_preemphasis(y: np.ndarray, coef: float) -> None:
    np.testing.assert_allclose(deemphasis(preemphasis(y, coef), coef), y, atol=1e-9)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(y=_signals, fl=st.integers(1, 600), hop=st.integers(1, 300))
def test_property_frames_are_the_slices(y: np.ndarray, fl: int, hop: int) -> None:
    f = frame(y, fl, hop, allow_empty=True)
    n = 0 if y.size < fl else 1 + (y.size - fl) // hop
    assert f.shape == (n, fl)
    for i in (0, n // 2, n - 1) if n else ():
        np.testing.assert_array_equal(f[i], y[i * hop : i * hop + fl])


@settings(max_examples=40, deadline=None, derandomize=True)
@given(y=_signals, target=st.floats(-20, 30))
def test_property_add_noise_exact_snr(y: np.ndarray, target: float) -> None:
    if np.mean(y**2) == 0.0:  # silent (or so small that its power underflows): SNR undefined
        with pytest.raises(AudioError, match="silent"):
            add_noise(y, target, rng=0)
        return
    assert snr_db(y, add_noise(y, target, rng=0)) == pytest.approx(target, abs=1e-6)
