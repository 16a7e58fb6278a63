"""The MFCC explorer: its pure state function and the ipywidgets wiring (driven by setting .value)."""

from __future__ import annotations

import numpy as np
import pytest

from sertools import features
from sertools.errors import AudioError
from sertools.widgets.mfcc import mfcc_explorer, mfcc_explorer_state, plot_mfcc_state

SR = 16000


@pytest.fixture(scope="module")
def clip() -> np.ndarray:
    """A vowel-like harmonic signal (150 Hz, formant-shaped) with noise, 0.5 s."""
    t = np.arange(SR // 2) / SR
    amps = {k: 1.0 / (1 + ((150 * k - 700) / 150) ** 2) + 0.3 / (1 + ((150 * k - 1200) / 200) ** 2)
            for k in range(1, 40)}
    y = sum(a * np.sin(2 * np.pi * 150 * k * t) for k, a in amps.items())
    y = y + 0.001 * np.random.default_rng(0).standard_normal(t.size)
    return (0.3 * y / np.abs(y).max()).astype(np.float32)


def test_state_shapes_and_agreement_with_features(clip):
    s = mfcc_explorer_state(clip, SR, n_fft=512, hop_length=160, n_mels=40, n_mfcc=13)
    n_frames = 1 + len(clip) // 160
    assert s["filterbank"].shape == (40, 257)
    assert s["mel_db"].shape == (40, n_frames)
    assert s["mfcc"].shape == (13, n_frames)
    assert s["mel_freqs"].shape == s["band_db"].shape == s["envelope_db"].shape == (40,)
    np.testing.assert_allclose(s["mfcc"], features.mfcc(clip, sr=SR, n_fft=512, hop_length=160, n_mels=40, n_mfcc=13),
                               rtol=1e-5, atol=1e-3)
    # 13 coefficients rebuild a smooth envelope a few dB from the band energies; 40 rebuild them exactly
    assert 0 < s["envelope_error_db"] < 10
    full = mfcc_explorer_state(clip, SR, n_mels=40, n_mfcc=40)
    assert full["envelope_error_db"] < 1e-3


def test_state_reacts_to_scale_and_lifter(clip):
    slaney = mfcc_explorer_state(clip, SR, htk=False)
    htk = mfcc_explorer_state(clip, SR, htk=True)
    assert not np.allclose(slaney["mel_freqs"], htk["mel_freqs"])
    lift = mfcc_explorer_state(clip, SR, lifter=22)
    assert not np.allclose(lift["mfcc"], slaney["mfcc"])
    np.testing.assert_allclose(lift["envelope_db"], slaney["envelope_db"], atol=1e-3)  # lifter is undone


@pytest.mark.parametrize("kw", [dict(n_mels=10, n_mfcc=20), dict(fmin=4000.0, fmax=2000.0), dict(hop_length=1024, n_fft=512),
                                dict(fmax=9000.0)])
def test_state_rejects_invalid_settings(clip, kw):
    with pytest.raises(AudioError):
        mfcc_explorer_state(clip, SR, **kw)


def test_plot_has_labelled_axes(clip):
    fig = plot_mfcc_state(mfcc_explorer_state(clip, SR))
    axes = [a for a in fig.axes if a.get_label() != "<colorbar>"]
    assert len(axes) >= 4
    for ax in axes[:4]:
        assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()


def test_widget_wiring(clip):
    ex = mfcc_explorer(clip, SR)
    assert "sertools-mfcc-figure" in ex.image._dom_classes
    assert "sertools-n-mels" in ex.n_mels._dom_classes
    assert ex.state is not None and ex.png.startswith(b"\x89PNG") and ex.image.value == ex.png
    png0, n0 = ex.png, ex.n_updates

    ex.n_mels.value = 64
    assert ex.n_updates == n0 + 1
    assert ex.state["mel_db"].shape[0] == 64 and ex.state["filterbank"].shape[0] == 64
    assert ex.image.value != png0

    ex.scale.value = "htk"
    assert ex.state["params"]["htk"] is True

    ex.n_fft.value = 1024
    assert ex.state["filterbank"].shape == (64, 513)

    ex.n_mfcc.value = 20
    ex.lifter.value = 22
    assert ex.state["mfcc"].shape[0] == 20 and ex.state["params"]["lifter"] == 22

    # an invalid combination reports the reason and keeps the last figure
    png_before = ex.image.value
    ex.n_mels.value = 10
    assert ex.state is None and "n_mfcc" in ex.error and "invalid" in ex.message.value
    assert ex.image.value == png_before
    ex.n_mels.value = 30
    assert ex.state is not None and ex.error is None


def test_widget_without_drawing_still_updates_state(clip):
    ex = mfcc_explorer(clip, SR, draw=False)
    ex.hop_length.value = 320
    assert ex.state["times"][1] == pytest.approx(320 / SR)
    assert ex.png == b""
