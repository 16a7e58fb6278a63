"""Unit tests of sertools.features: known values, properties, edge cases and input checks.

(Agreement with librosa is in ``test_features_parity.py``.)
"""

from __future__ import annotations

import numpy as np
import pytest

from sertools import features
from sertools.errors import AudioError, SertoolsError

SR = 16000


def tone(f: float, seconds: float = 1.0, sr: int = SR, harmonics: int = 1) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return sum(np.sin(2 * np.pi * f * k * t + k) / k for k in range(1, harmonics + 1))


# --------------------------------------------------------------------------- mel scale
def test_mel_scale_known_values():
    assert features.hz_to_mel(700.0, htk=True) == pytest.approx(2595 * np.log10(2))
    assert features.hz_to_mel(1000.0) == pytest.approx(15.0)  # Slaney: 3 f / 200 below 1 kHz
    assert features.hz_to_mel(6400.0) == pytest.approx(15.0 + 27.0)  # log step ln(6.4)/27
    # the article's formula 700 log10(1 + f/1000) is not the mel scale
    assert features.hz_to_mel(1000.0, htk=True) != pytest.approx(700 * np.log10(2))
    assert isinstance(features.hz_to_mel(440.0), float)


@pytest.mark.parametrize("htk", [False, True])
def test_mel_round_trip_and_monotonic(htk):
    f = np.linspace(0, 8000, 500)
    m = features.hz_to_mel(f, htk=htk)
    assert np.all(np.diff(m) > 0)
    np.testing.assert_allclose(features.mel_to_hz(m, htk=htk), f, atol=1e-9)


@pytest.mark.parametrize("norm", ["slaney", None])
def test_filterbank_triangles(norm):
    fb = features.mel_filterbank(sr=SR, n_fft=512, n_mels=40, norm=norm)
    assert fb.shape == (40, 257) and fb.dtype == np.float32
    assert np.all(fb >= 0)
    peaks = fb.argmax(axis=1)
    assert np.all(np.diff(peaks) >= 0)  # centres rise with the filter index
    if norm is None:
        assert fb.max(axis=1).max() <= 1.0 + 1e-6
    else:  # Slaney: equal area in Hz, i.e. sum * bin width == 1 (up to sampling of the triangle)
        widths = fb.sum(axis=1) * SR / 512
        np.testing.assert_allclose(widths[5:], 1.0, rtol=0.05)


def test_filterbank_cache_is_not_shared_with_callers():
    fb = features.mel_filterbank(sr=SR, n_fft=256, n_mels=20)
    fb[:] = 0
    assert features.mel_filterbank(sr=SR, n_fft=256, n_mels=20).max() > 0


# --------------------------------------------------------------------------- spectra and MFCC
def test_stft_shape_dtype_and_parseval():
    y = tone(440.0, 0.5).astype(np.float32)
    X = features.stft(y, n_fft=512, hop_length=128)
    assert X.shape == (257, 1 + len(y) // 128) and X.dtype == np.complex64
    k = np.argmax(np.abs(X[:, 10]))
    assert abs(k * SR / 512 - 440) < SR / 512


def test_silence_gives_finite_floor():
    y = np.zeros(SR, dtype=np.float32)
    S = features.melspectrogram(y, sr=SR, n_fft=512, hop_length=160, n_mels=40)
    db = features.power_to_db(S)
    np.testing.assert_allclose(db, -100.0, rtol=1e-6)  # 10 log10(amin = 1e-10)
    C = features.mfcc(y, sr=SR, n_fft=512, hop_length=160, n_mels=40, n_mfcc=13)
    assert np.isfinite(C).all() and np.allclose(C[1:], 0, atol=1e-4)


def test_power_to_db_top_db_and_ref():
    S = np.array([[1.0, 1e-3, 1e-12]])
    np.testing.assert_allclose(features.power_to_db(S, top_db=None), [[0, -30, -100]])
    np.testing.assert_allclose(features.power_to_db(S, top_db=20), [[0, -20, -20]])
    np.testing.assert_allclose(features.power_to_db(S, ref=np.max, top_db=None)[0, 0], 0.0)
    np.testing.assert_allclose(features.db_to_power(features.power_to_db(S[:, :2], top_db=None)), S[:, :2])


def test_mfcc_is_dct_of_log_mel_and_inverts():
    y = tone(150.0, 0.6, harmonics=20) + 0.01 * np.random.default_rng(0).standard_normal(int(0.6 * SR))
    kw = dict(sr=SR, n_fft=512, hop_length=160, n_mels=40)
    L = features.power_to_db(features.melspectrogram(y, **kw))
    C = features.mfcc(y, n_mfcc=40, **kw)
    # orthonormal DCT-II: the energy of each frame is preserved
    np.testing.assert_allclose((C**2).sum(axis=0), (L**2).sum(axis=0), rtol=1e-8)
    # all 40 coefficients: the inverse gives the log-mel spectrogram back
    np.testing.assert_allclose(features.power_to_db(features.mfcc_to_mel(C, n_mels=40), top_db=None), L, atol=1e-6)
    # liftering only rescales coefficients, and the inverse undoes it
    CL = features.mfcc(y, n_mfcc=13, lifter=22, **kw)
    w = 1 + 11 * np.sin(np.pi * np.arange(1, 14) / 22)
    np.testing.assert_allclose(CL, C[:13] * w[:, None], rtol=1e-10)
    np.testing.assert_allclose(features.mfcc_to_mel(CL, n_mels=40, lifter=22), features.mfcc_to_mel(C[:13], n_mels=40), rtol=1e-8)


def test_truncated_mfcc_keeps_envelope_drops_harmonics():
    """Few coefficients smooth the log spectrum: the harmonic ripple goes, the tilt stays."""
    y = tone(200.0, 0.5, harmonics=30)
    kw = dict(sr=SR, n_fft=1024, hop_length=256, n_mels=128, fmax=SR / 2)
    L = features.power_to_db(features.melspectrogram(y, **kw))[:, 10]
    env = features.power_to_db(features.mfcc_to_mel(features.mfcc(y, n_mfcc=13, **kw), n_mels=128), top_db=None)[:, 10]
    assert np.std(np.diff(env)) < 0.5 * np.std(np.diff(L))
    assert abs(np.mean(env) - np.mean(L)) < 1.0


def test_delta_of_a_ramp_is_its_slope():
    x = np.tile(np.arange(50.0) * 0.5, (3, 1))
    np.testing.assert_allclose(features.delta(x), 0.5, atol=1e-10)
    np.testing.assert_allclose(features.delta(x, order=2), 0.0, atol=1e-10)


def test_lpc_recovers_an_ar2_process():
    rng = np.random.default_rng(5)
    e = rng.standard_normal(20000)
    x = np.zeros_like(e)
    for n in range(2, len(x)):  # x[n] = 1.3 x[n-1] - 0.6 x[n-2] + e[n]
        x[n] = 1.3 * x[n - 1] - 0.6 * x[n - 2] + e[n]
    a = features.lpc(x, order=2)
    np.testing.assert_allclose(a, [1.0, -1.3, 0.6], atol=0.02)


# --------------------------------------------------------------------------- descriptors
@pytest.mark.parametrize("f", [80.0, 130.0, 220.0, 350.0, 500.0])
@pytest.mark.parametrize("harmonics", [1, 12])
def test_f0_on_tones(f, harmonics):
    y = tone(f, 1.0, harmonics=harmonics) + 0.01 * np.random.default_rng(1).standard_normal(SR)
    f0_hz, voiced = features.f0(y, SR)
    inner = slice(3, -3)
    assert voiced[inner].all()
    assert np.max(np.abs(f0_hz[inner] / f - 1)) < 0.005


def test_f0_unvoiced_for_noise_and_silence():
    rng = np.random.default_rng(2)
    for y in (rng.standard_normal(SR), np.zeros(SR)):
        f0_hz, voiced = features.f0(y, SR)
        assert voiced.mean() < 0.05
        assert np.isfinite(f0_hz).all() and np.all(f0_hz[~voiced] == 0)



def test_f0_long_pause_gives_no_warning_and_keeps_pitch():
    """A second of silence between two voiced stretches: no numpy warning, pitch kept on both sides."""
    import warnings

    y = np.concatenate([tone(150.0, 0.6, harmonics=8), np.zeros(SR), tone(150.0, 0.6, harmonics=8)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f0_hz, voiced = features.f0(y, SR)
    assert voiced.sum() > 20
    assert np.max(np.abs(f0_hz[voiced] / 150.0 - 1)) < 0.02

def test_rms_zcr_centroid_rolloff_flux_on_tones():
    y = tone(1000.0, 0.5)
    r = features.rms(y, frame_length=400, hop_length=160)
    np.testing.assert_allclose(r[0, 3:-3], 1 / np.sqrt(2), rtol=0.01)
    z = features.zero_crossing_rate(y, frame_length=400, hop_length=160)
    np.testing.assert_allclose(z[0, 3:-3], 2 * 1000 / SR, atol=0.003)
    c = features.spectral_centroid(y, SR, n_fft=512, hop_length=160)
    np.testing.assert_allclose(c[0, 3:-3], 1000, rtol=0.05)
    ro = features.spectral_rolloff(y, SR, n_fft=512, hop_length=160)
    assert np.all(np.abs(ro[0, 3:-3] - 1000) < 100)
    fl = features.spectral_flux(y, SR, n_fft=512, hop_length=160)
    assert fl.shape == c.shape and fl[0, 0] == 0 and np.all(fl[0, 5:-5] < 1e-6)
    # a jump to another tone gives a flux peak at the change
    y2 = np.concatenate([tone(500.0, 0.3), tone(2000.0, 0.3)])
    fl2 = features.spectral_flux(y2, SR, n_fft=512, hop_length=160)[0]
    assert abs(int(np.argmax(fl2)) - 0.3 * SR / 160) <= 3


# --------------------------------------------------------------------------- functionals
def test_functionals_length_names_and_values():
    names = features.functional_names()
    assert len(names) == len(set(names))
    y = tone(200.0, 1.0, harmonics=10)
    v = features.functionals(y, SR)
    assert v.shape == (len(names),) and v.dtype == np.float64
    d = dict(zip(names, v, strict=True))
    assert d["f0_mean_hz"] == pytest.approx(200.0, rel=0.01)
    assert d["voiced_rate"] > 0.9
    assert abs(d["f0_slope_hz_per_s"]) < 2.0
    assert len(features.functionals(y, SR, n_mfcc=20)) == len(features.functional_names(20))


def test_functionals_see_a_rising_pitch():
    t = np.arange(SR) / SR
    f_inst = 150 + 100 * t  # 150 -> 250 Hz in one second
    y = np.sin(2 * np.pi * np.cumsum(f_inst) / SR)
    d = dict(zip(features.functional_names(), features.functionals(y, SR), strict=True))
    assert d["f0_slope_hz_per_s"] == pytest.approx(100, rel=0.1)
    assert d["f0_range_st"] > 6


@pytest.mark.parametrize(
    "y", [np.zeros(SR), np.zeros(10), np.array([0.5]), np.full(300, 1e-12), np.ones(2000)],
    ids=["silence", "10-zeros", "1-sample", "tiny", "dc"],
)
def test_functionals_finite_on_degenerate_input(y):
    v = features.functionals(y, SR)
    assert np.isfinite(v).all()


# --------------------------------------------------------------------------- input checks
@pytest.mark.parametrize(
    "call",
    [
        lambda: features.mfcc(np.array([]), sr=SR),
        lambda: features.mfcc(np.array([0.0, np.nan, 1.0]), sr=SR),
        lambda: features.mfcc(np.zeros((2, 100)), sr=SR),
        lambda: features.mfcc(None, sr=SR),
        lambda: features.stft(np.zeros(100), n_fft=512, center=False),
        lambda: features.stft(np.zeros(1000), n_fft=0),
        lambda: features.stft(np.zeros(1000), n_fft=512, win_length=1024),
        lambda: features.stft(np.zeros(1000), pad_mode="wrap"),
        lambda: features.mfcc(np.zeros(1000), sr=SR, n_mels=10, n_mfcc=20),
        lambda: features.mfcc(np.zeros(1000), sr=SR, lifter=-1),
        lambda: features.mel_filterbank(sr=SR, fmin=5000, fmax=1000),
        lambda: features.power_to_db(np.ones(3), amin=0),
        lambda: features.delta(np.zeros((2, 5)), width=9),
        lambda: features.delta(np.zeros((2, 50)), width=4),
        lambda: features.lpc(np.zeros(3), order=5),
        lambda: features.f0(np.zeros(1000), SR, fmin=500, fmax=100),
        lambda: features.functionals(np.array([np.inf]), SR),
    ],
)
def test_bad_input_raises_sertools_error(call):
    with pytest.raises(SertoolsError) as info:
        call()
    assert isinstance(info.value, AudioError)
    assert ":" in str(info.value)  # names the argument


def test_integer_input_is_accepted():
    y = (tone(300.0, 0.2) * 10000).astype(np.int16)
    C = features.mfcc(y, sr=SR, n_fft=512, hop_length=160, n_mels=40, n_mfcc=13)
    assert C.dtype == np.float64 and np.isfinite(C).all()


def test_f0_against_the_synthesisers_true_pitch():
    """On synthetic speech with known F0, few gross (> 20 %) errors and a sensible voicing decision."""
    from sertools import synth

    gross, agree = [], []
    for spk, emo in [(0, "neutral"), (1, "angry"), (4, "happy"), (5, "angry"), (6, "sad"), (3, "fearful")]:
        y, info = synth.synthesize(spk, emo, 1, return_info=True)
        est, voiced = features.f0(y, SR, hop_length=160)
        true_f0 = np.asarray(info["f0"])[::160]
        true_v = np.asarray(info["voiced"])[::160].astype(bool)
        n = min(len(est), len(true_f0))
        both = voiced[:n] & true_v[:n]
        gross.append(np.mean(np.abs(est[:n][both] / true_f0[:n][both] - 1) > 0.2))
        agree.append(np.mean(voiced[:n] == true_v[:n]))
    assert np.mean(gross) < 0.05, gross
    assert np.mean(agree) > 0.8, agree
