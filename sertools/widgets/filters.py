"""The filter explorer: filter type, cut-offs, order, pre-emphasis and noise reduction.

Notebook: ``book/03_signal_processing.ipynb`` (section "Try it").

The logic is two pure functions, :func:`filter_explorer_state` (parameters in,
arrays out) and :func:`plot_filter_state` (state in, matplotlib figure out);
:func:`filter_explorer` wires them to ipywidgets controls. The returned
:class:`FilterExplorer` exposes its controls and its latest state as
attributes, so tests (and curious readers) can drive it without a browser.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from sertools.errors import AudioError, SertoolsError
from sertools.preprocess import (
    apply_filter,
    design_filter,
    frequency_response,
    preemphasis,
    reduce_noise,
)
from sertools.widgets import figure_png

__all__ = ["FILTER_TYPES", "FilterExplorer", "filter_explorer", "filter_explorer_state", "plot_filter_state"]

#: Filter types offered by the explorer ("none" bypasses the filter).
FILTER_TYPES: tuple[str, ...] = ("none", "lowpass", "highpass", "bandpass", "bandstop")


def _spectrogram_db(y: np.ndarray, sr: int, n_fft: int, hop_length: int) -> np.ndarray:
    from sertools.features import power_to_db, stft

    spec = np.abs(stft(np.asarray(y, dtype=np.float32), n_fft=n_fft, hop_length=hop_length)) ** 2
    return power_to_db(spec, ref=1.0, top_db=None)


def _cutoff_for(filter_type: str, low: float, high: float) -> float | tuple[float, float]:
    if filter_type == "lowpass":
        return float(high)
    if filter_type == "highpass":
        return float(low)
    return (float(low), float(high))


def filter_explorer_state(
    y: np.ndarray,
    sr: int,
    filter_type: str = "bandpass",
    cutoff: float | tuple[float, float] = (300.0, 3400.0),
    order: int = 4,
    kind: str = "butter",
    zero_phase: bool = True,
    preemph: float = 0.0,
    nr_strength: float = 0.0,
    n_fft: int = 512,
    hop_length: int = 128,
) -> dict[str, Any]:
    """Run the explorer's chain on a signal and return everything it shows.

    The chain is noise reduction (:func:`sertools.preprocess.reduce_noise`,
    spectral subtraction, skipped when ``nr_strength`` is 0) -> pre-emphasis
    (:func:`~sertools.preprocess.preemphasis`, skipped when ``preemph`` is 0)
    -> filter (:func:`~sertools.preprocess.design_filter` +
    :func:`~sertools.preprocess.apply_filter`, skipped for ``"none"``).

    Parameters
    ----------
    y : np.ndarray, shape (n_samples,)
        Input signal.
    sr : int
        Sample rate in Hz.
    filter_type : {"none", "lowpass", "highpass", "bandpass", "bandstop"}
    cutoff : float or (float, float)
        Cut-off(s) in Hz, as for :func:`~sertools.preprocess.design_filter`.
    order : int, default 4
    kind : {"butter", "cheby1"}, default "butter"
    zero_phase : bool, default True
    preemph : float, default 0.0
        Pre-emphasis coefficient in [0, 1).
    nr_strength : float, default 0.0
        Noise-reduction strength (over-subtraction factor).
    n_fft, hop_length : int
        Spectrogram settings.

    Returns
    -------
    dict
        ``freqs`` (Hz) and ``response_db`` (the magnitude response of
        pre-emphasis and filter together, as applied, in dB),
        ``spec_before`` / ``spec_after`` (power spectrograms in dB, shape
        (1 + n_fft/2, n_frames)), ``spec_freqs`` (Hz), ``spec_times`` (s),
        ``y_in``, ``y_out`` (float32), ``sr``, ``rms_in_db``, ``rms_out_db``
        and ``params`` (the arguments).

    Raises
    ------
    AudioError
        Bad parameters (e.g. a cut-off at or above Nyquist, low >= high).

    Notebook: ``book/03_signal_processing.ipynb``.
    """
    if filter_type not in FILTER_TYPES:
        raise AudioError(f"filter_type: expected one of {', '.join(FILTER_TYPES)}, got {filter_type!r}")
    x = np.asarray(y, dtype=np.float32)
    params = dict(filter_type=filter_type, cutoff=cutoff, order=order, kind=kind, zero_phase=zero_phase,
                  preemph=preemph, nr_strength=nr_strength)
    n_resp = 1024
    freqs = np.arange(n_resp) * (sr / 2.0) / n_resp
    response_db = np.zeros(n_resp)
    out = x
    if nr_strength > 0:
        out = reduce_noise(out, sr, strength=float(nr_strength))
    if preemph > 0:
        out = preemphasis(out, float(preemph))
        w = np.pi * freqs / (sr / 2.0)
        response_db += 20.0 * np.log10(np.maximum(np.abs(1.0 - preemph * np.exp(-1j * w)), 1e-10))
    if filter_type != "none":
        sos = design_filter(filter_type, cutoff, sr, order=order, kind=kind)
        out = apply_filter(out, sos, zero_phase=zero_phase)
        _, gain = frequency_response(sos, sr, n=n_resp, zero_phase=zero_phase)
        response_db += gain
    out = np.asarray(out, dtype=np.float32)
    spec_before = _spectrogram_db(x, sr, n_fft, hop_length)
    spec_after = _spectrogram_db(out, sr, n_fft, hop_length)

    def _rms_db(v: np.ndarray) -> float:
        r = float(np.sqrt(np.mean(np.asarray(v, dtype=np.float64) ** 2))) if v.size else 0.0
        return 20.0 * np.log10(r) if r > 0 else -200.0

    return {
        "freqs": freqs,
        "response_db": np.maximum(response_db, -200.0),
        "spec_before": spec_before,
        "spec_after": spec_after,
        "spec_freqs": np.arange(spec_before.shape[0]) * sr / n_fft,
        "spec_times": np.arange(spec_before.shape[1]) * hop_length / sr,
        "y_in": x,
        "y_out": out,
        "sr": int(sr),
        "rms_in_db": _rms_db(x),
        "rms_out_db": _rms_db(out),
        "params": params,
    }


def plot_filter_state(state: dict[str, Any], fig: Figure | None = None) -> Figure:
    """Draw a state from :func:`filter_explorer_state`: response, spectrogram before and after.

    Returns a :class:`matplotlib.figure.Figure` (not registered with pyplot,
    so repeated redraws do not accumulate open figures).

    Notebook: ``book/03_signal_processing.ipynb``.
    """
    if fig is None:
        fig = Figure(figsize=(11, 3.4), layout="constrained")
    else:
        fig.clear()
    ax_r, ax_b, ax_a = fig.subplots(1, 3)
    ax_r.plot(state["freqs"], state["response_db"], color="C0")
    ax_r.set_ylim(-80, 20)
    ax_r.set_xlabel("frequency (Hz)")
    ax_r.set_ylabel("gain (dB)")
    ax_r.set_title("frequency response (as applied)")
    ax_r.grid(True, alpha=0.3)
    vmax = float(max(state["spec_before"].max(), state["spec_after"].max()))
    extent = (0.0, float(state["spec_times"][-1]) if state["spec_times"].size else 0.0,
              0.0, float(state["spec_freqs"][-1]))
    for ax, key, title in ((ax_b, "spec_before", "before"), (ax_a, "spec_after", "after")):
        im = ax.imshow(state[key], origin="lower", aspect="auto", extent=extent, cmap="magma",
                       vmin=vmax - 80.0, vmax=vmax)
        ax.set_xlabel("time (s)")
        ax.set_ylabel("frequency (Hz)")
        ax.set_title(f"spectrogram {title} (RMS {state['rms_in_db' if key == 'spec_before' else 'rms_out_db']:.1f} dBFS)")
    fig.colorbar(im, ax=[ax_b, ax_a], label="power (dB)")
    return fig


def _wav_bytes(y: np.ndarray, sr: int) -> bytes:
    import soundfile as sf

    buf = io.BytesIO()
    peak = float(np.max(np.abs(y))) if y.size else 0.0
    data = y / peak * 0.9 if peak > 0 else y  # like IPython.display.Audio: normalised for listening
    sf.write(buf, np.asarray(data, dtype=np.float32), int(sr), format="WAV", subtype="PCM_16")
    return buf.getvalue()


class FilterExplorer:
    """The filter explorer's widgets and latest state (built by :func:`filter_explorer`).

    Attributes
    ----------
    filter_type, kind : ipywidgets.Dropdown
    low, high : ipywidgets.FloatSlider
        Cut-offs in Hz (low-pass uses ``high``, high-pass uses ``low``).
    order : ipywidgets.IntSlider
    zero_phase : ipywidgets.Checkbox
    preemph, nr_strength : ipywidgets.FloatSlider
    plot : ipywidgets.Output
        Holds the figure (or the error message for invalid settings).
    audio : ipywidgets.Audio
        The processed clip as WAV bytes.
    message : ipywidgets.HTML
        Status line (level change, or why the settings are invalid).
    state : dict or None
        The latest :func:`filter_explorer_state` result (``None`` while the
        settings are invalid); ``error`` holds the message then.
    figure : matplotlib.figure.Figure
        The latest figure.
    png : bytes
        The latest figure as PNG, the picture shown in ``plot``.
    widget : ipywidgets.VBox
        The whole UI (display it, or let the notebook display the explorer).

    Notebook: ``book/03_signal_processing.ipynb``.
    """

    def __init__(self, y: np.ndarray, sr: int, *, draw: bool = True) -> None:
        import ipywidgets as w

        self.y = np.asarray(y, dtype=np.float32)
        self.sr = int(sr)
        self.draw = draw
        nyq = self.sr / 2.0
        style = {"description_width": "initial"}
        self.filter_type = w.Dropdown(options=list(FILTER_TYPES), value="bandpass", description="filter")
        self.kind = w.Dropdown(options=[("Butterworth", "butter"), ("Chebyshev I", "cheby1")],
                               value="butter", description="design")
        self.low = w.FloatSlider(value=300.0, min=20.0, max=nyq - 20.0, step=10.0,
                                 description="low cut (Hz)", style=style, continuous_update=False)
        self.high = w.FloatSlider(value=min(3400.0, nyq - 100.0), min=20.0, max=nyq - 20.0, step=10.0,
                                  description="high cut (Hz)", style=style, continuous_update=False)
        self.order = w.IntSlider(value=4, min=1, max=10, description="order", continuous_update=False)
        self.zero_phase = w.Checkbox(value=True, description="zero phase (filtfilt)")
        self.preemph = w.FloatSlider(value=0.0, min=0.0, max=0.99, step=0.01,
                                     description="pre-emphasis", style=style, continuous_update=False)
        self.nr_strength = w.FloatSlider(value=0.0, min=0.0, max=4.0, step=0.1,
                                         description="noise reduction", style=style, continuous_update=False)
        self.plot = w.Output()
        self.audio = w.Audio(value=_wav_bytes(self.y, self.sr), format="wav", autoplay=False, loop=False)
        self.message = w.HTML()
        self.state: dict[str, Any] | None = None
        self.error: str | None = None
        self.figure: Figure | None = None
        self.png: bytes = b""
        self.n_updates = 0
        controls = [self.filter_type, self.kind, self.low, self.high, self.order, self.zero_phase,
                    self.preemph, self.nr_strength]
        for c in controls:
            c.observe(self._on_change, names="value")
        wrap = w.Layout(flex_flow="row wrap")
        self.widget = w.VBox([
            w.HBox([self.filter_type, self.kind], layout=wrap),
            w.HBox([self.order, self.zero_phase], layout=wrap),
            w.HBox([self.low, self.high], layout=wrap),
            w.HBox([self.preemph, self.nr_strength], layout=wrap),
            self.message, self.plot, self.audio,
        ])
        self.update()

    def _on_change(self, change: dict[str, Any]) -> None:
        self.update()

    def params(self) -> dict[str, Any]:
        """The current control values as :func:`filter_explorer_state` arguments."""
        ft = self.filter_type.value
        return dict(filter_type=ft, cutoff=_cutoff_for(ft, self.low.value, self.high.value),
                    order=int(self.order.value), kind=self.kind.value, zero_phase=bool(self.zero_phase.value),
                    preemph=float(self.preemph.value), nr_strength=float(self.nr_strength.value))

    def update(self) -> None:
        """Recompute the state from the controls and redraw (called on every change)."""
        from IPython.display import display

        self.n_updates += 1
        try:
            self.state = filter_explorer_state(self.y, self.sr, **self.params())
            self.error = None
        except SertoolsError as e:
            self.state, self.error = None, str(e)
            self.message.value = f"<b style='color:#b00'>invalid settings:</b> {e}"
            self.plot.clear_output()
            return
        s = self.state
        self.message.value = (f"level {s['rms_in_db']:.1f} dBFS &rarr; {s['rms_out_db']:.1f} dBFS "
                              "(the player normalises loudness)")
        self.audio.value = _wav_bytes(s["y_out"], self.sr)
        if self.draw:
            from IPython.display import Image

            self.figure = plot_filter_state(s, self.figure)
            # Rendered to PNG here: displaying the Figure object itself needs pyplot's
            # inline backend, which a fresh kernel has not loaded (it would print
            # "<Figure size ...>" instead of the picture).
            self.png = figure_png(self.figure)
            with self.plot:
                self.plot.clear_output(wait=True)
                display(Image(data=self.png, format="png"))

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)


def filter_explorer(y: np.ndarray, sr: int, *, draw: bool = True) -> FilterExplorer:
    """Build the interactive filter explorer for a clip (display the result in a notebook).

    Parameters
    ----------
    y : np.ndarray, shape (n_samples,)
        The clip (a few seconds: each change reprocesses all of it).
    sr : int
        Its sample rate.
    draw : bool, default True
        Draw the matplotlib figure on each change (tests may turn it off).

    Returns
    -------
    FilterExplorer
        Its controls and latest state are attributes (see the class).

    Notebook: ``book/03_signal_processing.ipynb``.
    """
    return FilterExplorer(y, sr, draw=draw)
