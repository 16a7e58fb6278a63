"""Tests of the filter explorer: the pure state function and the ipywidgets wiring."""

from __future__ import annotations

import numpy as np
import pytest

from sertools.errors import AudioError
from sertools.preprocess import add_noise, snr_db
from sertools.widgets.filters import filter_explorer, filter_explorer_state, plot_filter_state

SR = 16000


@pytest.fixture(scope="module")
def clip() -> np.ndarray:
    """One second of a 200 Hz + 5 kHz two-tone signal."""
    t = np.arange(SR) / SR
    return (0.3 * np.sin(2 * np.pi * 200 * t) + 0.3 * np.sin(2 * np.pi * 5000 * t)).astype(np.float32)


def _band_power_db(y: np.ndarray, lo: float, hi: float) -> float:
    spec = np.abs(np.fft.rfft(y)) ** 2
    f = np.fft.rfftfreq(y.size, 1 / SR)
    return 10 * np.log10(spec[(f >= lo) & (f < hi)].sum() + 1e-20)


def _at(state: dict, freq: float) -> float:
    return float(state["response_db"][np.argmin(np.abs(state["freqs"] - freq))])


def test_state_shapes_and_identity_when_everything_is_off(clip: np.ndarray) -> None:
    s = filter_explorer_state(clip, SR, filter_type="none", preemph=0.0, nr_strength=0.0)
    np.testing.assert_array_equal(s["y_out"], clip)
    np.testing.assert_allclose(s["response_db"], 0.0)
    assert s["spec_before"].shape == s["spec_after"].shape == (257, 1 + SR // 128)
    assert s["spec_freqs"][-1] == pytest.approx(SR / 2)
    assert np.all(np.isfinite(s["spec_after"]))


def test_state_lowpass_removes_the_high_tone(clip: np.ndarray) -> None:
    s = filter_explorer_state(clip, SR, filter_type="lowpass", cutoff=1000.0, order=6)
    assert _at(s, 200.0) > -1.0 and _at(s, 5000.0) < -60.0
    drop = _band_power_db(clip, 4500, 5500) - _band_power_db(s["y_out"], 4500, 5500)
    assert drop > 40.0  # edge transients of the 1-s clip limit the measured drop
    assert _band_power_db(s["y_out"], 150, 250) == pytest.approx(_band_power_db(clip, 150, 250), abs=1.0)


def test_state_preemphasis_tilts_the_response(clip: np.ndarray) -> None:
    s = filter_explorer_state(clip, SR, filter_type="none", preemph=0.97)
    assert _at(s, 0.0) == pytest.approx(20 * np.log10(0.03), abs=0.1)
    assert _at(s, 7990.0) == pytest.approx(20 * np.log10(1.97), abs=0.1)


def test_state_noise_reduction_raises_snr() -> None:
    from sertools.synth import synthesize

    clean = synthesize(2, "happy", 0, seed=0)
    noisy = add_noise(clean, 5.0, "white", rng=0)
    s = filter_explorer_state(noisy, SR, filter_type="none", nr_strength=1.5)
    assert snr_db(clean, s["y_out"]) > snr_db(clean, noisy) + 2.0


def test_state_bad_settings_raise(clip: np.ndarray) -> None:
    with pytest.raises(AudioError, match="below high"):
        filter_explorer_state(clip, SR, filter_type="bandpass", cutoff=(3000.0, 300.0))
    with pytest.raises(AudioError, match="filter_type"):
        filter_explorer_state(clip, SR, filter_type="comb")


def test_plot_has_labelled_axes(clip: np.ndarray) -> None:
    fig = plot_filter_state(filter_explorer_state(clip, SR))
    axes = fig.axes[:3]
    assert [a.get_xlabel() for a in axes] == ["frequency (Hz)", "time (s)", "time (s)"]
    assert all(a.get_title() for a in axes)


def test_widget_wiring_updates_state_audio_and_figure(clip: np.ndarray) -> None:
    ex = filter_explorer(clip, SR)
    assert ex.state is not None and ex.figure is not None
    assert ex.png.startswith(b"\x89PNG")
    first_audio, first_png = ex.audio.value, ex.png
    n0 = ex.n_updates

    ex.filter_type.value = "lowpass"
    ex.high.value = 1000.0
    assert ex.n_updates >= n0 + 2
    assert ex.state["params"]["filter_type"] == "lowpass"
    assert ex.state["params"]["cutoff"] == 1000.0
    assert _at(ex.state, 5000.0) < -40.0
    assert ex.audio.value != first_audio
    assert ex.png != first_png  # the figure was redrawn

    ex.filter_type.value = "highpass"
    ex.low.value = 2000.0
    assert _at(ex.state, 200.0) < -40.0 and _at(ex.state, 5000.0) > -1.0

    before = ex.state["y_out"].copy()
    ex.order.value = 8
    assert ex.state["params"]["order"] == 8
    assert not np.allclose(ex.state["y_out"], before)

    ex.filter_type.value = "none"
    ex.preemph.value = 0.9
    assert _at(ex.state, 0.0) == pytest.approx(20 * np.log10(0.1), abs=0.1)

    ex.preemph.value = 0.0
    ex.nr_strength.value = 2.0
    assert ex.state["params"]["nr_strength"] == 2.0
    assert not np.allclose(ex.state["y_out"], clip)

    ex.kind.value = "cheby1"
    ex.zero_phase.value = False
    assert ex.state["params"]["kind"] == "cheby1" and ex.state["params"]["zero_phase"] is False


def test_widget_shows_an_error_for_invalid_band_and_recovers(clip: np.ndarray) -> None:
    ex = filter_explorer(clip, SR, draw=False)
    ex.filter_type.value = "bandpass"
    ex.low.value = 4000.0
    ex.high.value = 1000.0
    assert ex.state is None and "below high" in ex.error
    assert "invalid settings" in ex.message.value
    ex.high.value = 6000.0
    assert ex.state is not None and ex.error is None
    assert _at(ex.state, 5000.0) > -1.0 and _at(ex.state, 200.0) < -40.0
