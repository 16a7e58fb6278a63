"""sertools.features against librosa 0.11 over a grid of parameters, on corpus clips.

librosa is the reference here only (sertools itself never imports it). The
clips are real-sounding synthetic speech from the "small" corpus preset
(voiced and unvoiced stretches, pauses, noise), so filterbank edges, silent
frames (the ``amin`` / ``top_db`` floor) and loud harmonics all get exercised.
"""

from __future__ import annotations

import librosa
import numpy as np
import pytest

from sertools import features
from sertools.audio import load
from sertools.datasets import preset, read_manifest

SR = 16000


@pytest.fixture(scope="module")
def clips() -> list[np.ndarray]:
    """Two clips of the small corpus (a female and a male speaker, different emotions), float64."""
    df = read_manifest(preset("small", progress=False))
    female = df[(df.gender == "female") & (df.emotion == "angry")].iloc[0].path
    male = df[(df.gender == "male") & (df.emotion == "sad")].iloc[0].path
    return [load(p, sr=SR)[0].astype(np.float64) for p in (female, male)]


def assert_close(actual: np.ndarray, expected: np.ndarray, rtol: float = 1e-4, atol_frac: float = 1e-6) -> None:
    """Relative tolerance ``rtol`` with an absolute floor of ``atol_frac`` times the largest |value|."""
    assert actual.shape == expected.shape
    assert actual.dtype == expected.dtype
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol_frac * np.abs(expected).max())


# n_fft, hop, n_mels, htk, fmin, fmax, center, lifter, top_db, dtype, n_mfcc
GRID = [
    (2048, 512, 128, False, 0.0, None, True, 0, 80.0, np.float32, 20),  # librosa defaults
    (2048, 512, 128, False, 0.0, None, True, 0, 80.0, np.float64, 20),
    (512, 160, 40, True, 0.0, None, True, 22, 80.0, np.float32, 13),  # HTK-like speech setup
    (512, 160, 40, False, 50.0, 7600.0, False, 22, None, np.float64, 13),
    (400, 160, 26, True, 20.0, 4000.0, True, 0, 60.0, np.float64, 13),  # non power-of-two FFT
    (1024, 256, 64, False, 133.0, 6855.0, False, 0, 80.0, np.float32, 20),
    (1024, 256, 80, True, 0.0, 8000.0, True, 40, None, np.float32, 30),
    (256, 64, 32, False, 0.0, None, True, 10, 100.0, np.float64, 32),
]


@pytest.mark.parametrize("n_fft,hop,n_mels,htk,fmin,fmax,center,lifter,top_db,dtype,n_mfcc", GRID)
def test_mel_and_mfcc_match_librosa(clips, n_fft, hop, n_mels, htk, fmin, fmax, center, lifter, top_db, dtype, n_mfcc):
    mel_kw = dict(n_mels=n_mels, htk=htk, fmin=fmin, fmax=fmax)
    atol = 1e-6 if dtype == np.float64 else 1e-5
    fb = features.mel_filterbank(sr=SR, n_fft=n_fft, **mel_kw)
    assert_close(fb, librosa.filters.mel(sr=SR, n_fft=n_fft, **mel_kw), atol_frac=1e-6)
    for y in clips:
        y = y.astype(dtype)
        kw = dict(sr=SR, n_fft=n_fft, hop_length=hop, center=center, **mel_kw)
        S = features.melspectrogram(y, **kw)
        assert_close(S, librosa.feature.melspectrogram(y=y, **kw), atol_frac=atol)
        db = features.power_to_db(S, top_db=top_db)
        assert_close(db, librosa.power_to_db(S, top_db=top_db), atol_frac=atol)
        C = features.mfcc(y, n_mfcc=n_mfcc, lifter=lifter, top_db=top_db, **kw)
        if top_db == 80.0:  # librosa.feature.mfcc(y=...) always uses power_to_db's default top_db
            C_ref = librosa.feature.mfcc(y=y, n_mfcc=n_mfcc, lifter=lifter, **kw)
        else:
            S_ref = librosa.power_to_db(librosa.feature.melspectrogram(y=y, **kw), top_db=top_db)
            C_ref = librosa.feature.mfcc(S=S_ref, n_mfcc=n_mfcc, lifter=lifter)
        assert_close(C, C_ref, atol_frac=atol)
        # the same through a precomputed log-mel spectrogram
        assert_close(features.mfcc(S=db, n_mfcc=n_mfcc, lifter=lifter),
                     librosa.feature.mfcc(S=db, n_mfcc=n_mfcc, lifter=lifter), atol_frac=atol)


@pytest.mark.parametrize("htk", [False, True])
def test_mel_scale_matches_librosa(htk):
    f = np.linspace(0, 11025, 1001)
    np.testing.assert_allclose(features.hz_to_mel(f, htk=htk), librosa.hz_to_mel(f, htk=htk), rtol=1e-12)
    m = np.linspace(0, 60 if not htk else 3000, 777)
    np.testing.assert_allclose(features.mel_to_hz(m, htk=htk), librosa.mel_to_hz(m, htk=htk), rtol=1e-12)
    np.testing.assert_allclose(
        features.mel_frequencies(40, fmin=30, fmax=8000, htk=htk),
        librosa.mel_frequencies(40, fmin=30, fmax=8000, htk=htk), rtol=1e-12,
    )


@pytest.mark.parametrize("win_length,window", [(None, "hann"), (400, "hann"), (400, "hamming"), (512, "rectangular")])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_stft_matches_librosa(clips, win_length, window, dtype):
    y = clips[0][:12000].astype(dtype)
    lwin = "boxcar" if window == "rectangular" else window
    X = features.stft(y, n_fft=512, hop_length=128, win_length=win_length, window=window)
    X_ref = librosa.stft(y, n_fft=512, hop_length=128, win_length=win_length, window=lwin)
    assert X.dtype == X_ref.dtype and X.shape == X_ref.shape
    np.testing.assert_allclose(X, X_ref, rtol=1e-4, atol=1e-5 * np.abs(X_ref).max())


@pytest.mark.parametrize("order", [2, 12, 16])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_lpc_matches_librosa(clips, order, dtype):
    y = clips[0][4000:4512].astype(dtype)
    a = features.lpc(y, order=order)
    a_ref = librosa.lpc(y, order=order)
    assert a.dtype == a_ref.dtype
    tol = 1e-9 if dtype == np.float64 else 2e-3
    np.testing.assert_allclose(a, a_ref, rtol=tol, atol=tol * np.abs(a_ref).max())
    # many frames at once, along axis 0 and axis -1
    frames = librosa.util.frame(clips[1].astype(dtype), frame_length=400, hop_length=1600)
    np.testing.assert_allclose(features.lpc(frames, order=order, axis=0),
                               librosa.lpc(frames, order=order, axis=0), rtol=tol, atol=tol * 50)


@pytest.mark.parametrize("width,order,mode", [(9, 1, "interp"), (5, 2, "interp"), (3, 1, "nearest"), (7, 1, "mirror")])
def test_delta_matches_librosa(clips, width, order, mode):
    C = librosa.feature.mfcc(y=clips[1], sr=SR, n_mfcc=13)
    np.testing.assert_allclose(
        features.delta(C, width=width, order=order, mode=mode),
        librosa.feature.delta(C, width=width, order=order, mode=mode), rtol=1e-10, atol=1e-10,
    )


def test_lld_match_librosa(clips):
    y = clips[0]
    kw = dict(frame_length=400, hop_length=160)
    np.testing.assert_allclose(features.rms(y, **kw), librosa.feature.rms(y=y, **kw), rtol=1e-5, atol=1e-9)
    np.testing.assert_array_equal(features.zero_crossing_rate(y, **kw), librosa.feature.zero_crossing_rate(y=y, **kw))
    skw = dict(sr=SR, n_fft=512, hop_length=160)
    np.testing.assert_allclose(features.spectral_centroid(y, **skw), librosa.feature.spectral_centroid(y=y, **skw), rtol=1e-8, atol=1e-6)
    np.testing.assert_allclose(features.spectral_rolloff(y, **skw), librosa.feature.spectral_rolloff(y=y, **skw), rtol=1e-8)


def test_mfcc_to_mel_matches_librosa(clips):
    C = features.mfcc(clips[0], sr=SR, n_mfcc=20, lifter=22, n_fft=512, hop_length=160, n_mels=40)
    np.testing.assert_allclose(
        features.mfcc_to_mel(C, n_mels=40, lifter=22),
        librosa.feature.inverse.mfcc_to_mel(C, n_mels=40, lifter=22), rtol=1e-8,
    )
