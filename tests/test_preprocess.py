"""Tests of sertools.preprocess: framing, windows, resampling, filters, denoising, VAD."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal

from sertools.errors import AudioError
from sertools.preprocess import frame, get_window, resample

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
