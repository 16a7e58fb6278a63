"""The MFCC explorer: FFT size, hop, mel bands, coefficients, frequency range, mel scale, lifter.

Notebook: ``book/04_mfcc.ipynb`` (section "Try it").

The logic is two pure functions, :func:`mfcc_explorer_state` (parameters in,
arrays out) and :func:`plot_mfcc_state` (state in, matplotlib figure out);
:func:`mfcc_explorer` wires them to ipywidgets controls. The figure is shown as
an ``ipywidgets.Image`` whose PNG bytes are re-rendered on every change (CSS
class ``sertools-mfcc-figure``; the mel-band slider has ``sertools-n-mels``), so
it updates in a live kernel and browser tests can find it. The returned
:class:`MfccExplorer` exposes its controls and latest state as attributes, so
tests (and curious readers) can drive it without a browser.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.figure import Figure

from sertools.errors import AudioError, SertoolsError
from sertools.features import (
    fft_frequencies,
    mel_filterbank,
    mel_frequencies,
    melspectrogram,
    mfcc,
    mfcc_to_mel,
    power_to_db,
    stft,
)
from sertools.widgets import figure_png

__all__ = ["MfccExplorer", "mfcc_explorer", "mfcc_explorer_state", "plot_mfcc_state"]

FFT_SIZES: tuple[int, ...] = (256, 512, 1024, 2048)


def mfcc_explorer_state(
    y: np.ndarray,
    sr: int,
    n_fft: int = 512,
    hop_length: int = 160,
    n_mels: int = 40,
    n_mfcc: int = 13,
    fmin: float = 0.0,
    fmax: float | None = None,
    htk: bool = False,
    lifter: float = 0.0,
    frame_index: int | None = None,
) -> dict[str, Any]:
    """Compute everything the MFCC explorer shows for one clip and one setting.

    Parameters
    ----------
    y : np.ndarray, shape (n_samples,)
        The clip.
    sr : int
        Its sample rate in Hz.
    n_fft, hop_length : int
        Frame (FFT) size and hop in samples (Hann window, centred frames).
    n_mels, n_mfcc : int
        Mel bands and cepstral coefficients kept (``n_mfcc <= n_mels``).
    fmin, fmax : float
        Frequency range of the filterbank in Hz (``fmax=None``: ``sr / 2``).
    htk : bool
        HTK mel formula instead of Slaney's.
    lifter : float
        Sinusoidal lifter (0 = none).
    frame_index : int, optional
        Frame whose spectrum and envelope are shown; default the loudest.

    Returns
    -------
    dict
        ``filterbank`` (n_mels, 1 + n_fft // 2) and ``fft_freqs`` (Hz);
        ``mel_db`` (n_mels, n_frames) log-mel spectrogram and ``mel_freqs``
        (band centres, Hz); ``mfcc`` (n_mfcc, n_frames); ``times`` (s);
        ``frame`` (the frame shown); ``spectrum_db`` (its power spectrum, dB);
        ``band_db`` (its mean power per mel band, dB) and ``envelope_db`` (the
        same rebuilt from the ``n_mfcc`` coefficients: the spectral envelope);
        ``envelope_error_db`` (RMS difference between the two); ``params``.

    Raises
    ------
    AudioError
        Invalid settings (``n_mfcc > n_mels``, ``fmin >= fmax``, hop > n_fft...).

    Notebook: ``book/04_mfcc.ipynb``.
    """
    x = np.asarray(y, dtype=np.float32)
    fmax = sr / 2.0 if fmax is None else float(fmax)
    if n_mfcc > n_mels:
        raise AudioError(f"n_mfcc: {n_mfcc} coefficients need at least as many mel bands (n_mels={n_mels})")
    if hop_length > n_fft:
        raise AudioError(f"hop_length: {hop_length} is longer than the frame (n_fft={n_fft}): samples would be skipped")
    if fmax > sr / 2.0:
        raise AudioError(f"fmax: {fmax} Hz is above the Nyquist frequency {sr / 2.0} Hz")
    params = dict(n_fft=int(n_fft), hop_length=int(hop_length), n_mels=int(n_mels), n_mfcc=int(n_mfcc),
                  fmin=float(fmin), fmax=fmax, htk=bool(htk), lifter=float(lifter))
    mel_kw = dict(n_mels=n_mels, fmin=fmin, fmax=fmax, htk=htk)
    fb = mel_filterbank(sr=sr, n_fft=n_fft, **mel_kw)
    mel = melspectrogram(x, sr=sr, n_fft=n_fft, hop_length=hop_length, **mel_kw)
    mel_db = power_to_db(mel)
    C = mfcc(S=mel_db, n_mfcc=n_mfcc, lifter=lifter)
    if frame_index is None:
        frame_index = int(np.argmax(mel.sum(axis=0)))
    frame_index = int(np.clip(frame_index, 0, mel.shape[1] - 1))
    spec = np.abs(stft(x, n_fft=n_fft, hop_length=hop_length)[:, frame_index]) ** 2
    # mean power per band (divide by the filter's weight sum) so it sits on the spectrum's scale
    area = np.maximum(fb.sum(axis=1).astype(np.float64), 1e-12)
    band = mel_db[:, frame_index] - 10 * np.log10(area)
    env_mel = mfcc_to_mel(C[:, frame_index : frame_index + 1], n_mels=n_mels, lifter=lifter)[:, 0]
    envelope = power_to_db(env_mel, top_db=None) - 10 * np.log10(area)
    return {
        "filterbank": fb,
        "fft_freqs": fft_frequencies(sr=sr, n_fft=n_fft),
        "mel_db": mel_db,
        "mel_freqs": mel_frequencies(n_mels + 2, fmin=fmin, fmax=fmax, htk=htk)[1:-1],
        "mfcc": C,
        "times": np.arange(mel.shape[1]) * hop_length / sr,
        "frame": frame_index,
        "spectrum_db": power_to_db(spec, top_db=None),
        "band_db": band,
        "envelope_db": envelope,
        "envelope_error_db": float(np.sqrt(np.mean((envelope - band) ** 2))),
        "sr": int(sr),
        "params": params,
    }


def plot_mfcc_state(state: dict[str, Any], fig: Figure | None = None) -> Figure:
    """Draw a state from :func:`mfcc_explorer_state`: filterbank, mel spectrogram, MFCCs, envelope.

    Returns a :class:`matplotlib.figure.Figure` (not registered with pyplot,
    so repeated redraws do not accumulate open figures).

    Notebook: ``book/04_mfcc.ipynb``.
    """
    if fig is None:
        fig = Figure(figsize=(11, 6.4), layout="constrained")
    else:
        fig.clear()
    (ax_fb, ax_env), (ax_mel, ax_c) = fig.subplots(2, 2)
    p = state["params"]
    scale = "HTK" if p["htk"] else "Slaney"
    ax_fb.plot(state["fft_freqs"], state["filterbank"].T, lw=0.8)
    ax_fb.set_xlabel("frequency (Hz)")
    ax_fb.set_ylabel("weight")
    ax_fb.set_title(f"{p['n_mels']} mel filters ({scale} scale, {p['fmin']:.0f}-{p['fmax']:.0f} Hz)")

    t = state["times"]
    t_end = float(t[-1]) if t.size > 1 else 1.0
    ax_mel.imshow(state["mel_db"], origin="lower", aspect="auto", cmap="magma",
                  extent=(0.0, t_end, 0, state["mel_db"].shape[0]))
    ax_mel.axvline(t[state["frame"]], color="w", ls="--", lw=0.8)
    ax_mel.set_xlabel("time (s)")
    ax_mel.set_ylabel("mel band")
    ax_mel.set_title(f"log-mel spectrogram (dB), n_fft={p['n_fft']}, hop={p['hop_length']}")

    C = state["mfcc"]
    lim = float(np.percentile(np.abs(C[1:]), 99)) if C.shape[0] > 1 else float(np.abs(C).max())
    im = ax_c.imshow(C, origin="lower", aspect="auto", cmap="coolwarm", vmin=-lim, vmax=lim,
                     extent=(0.0, t_end, -0.5, C.shape[0] - 0.5))
    fig.colorbar(im, ax=ax_c, label="value (c0 off scale)")
    ax_c.set_xlabel("time (s)")
    ax_c.set_ylabel("coefficient")
    ax_c.set_title(f"{p['n_mfcc']} MFCCs" + (f", lifter {p['lifter']:.0f}" if p["lifter"] else ""))

    ax_env.plot(state["fft_freqs"], state["spectrum_db"], color="0.7", lw=0.8, label="power spectrum")
    ax_env.plot(state["mel_freqs"], state["band_db"], "o-", ms=3, color="C0", label="mel bands (mean power)")
    ax_env.plot(state["mel_freqs"], state["envelope_db"], color="C3", lw=2,
                label=f"envelope from {p['n_mfcc']} MFCCs")
    top = float(np.max(state["spectrum_db"]))
    ax_env.set_ylim(top - 90, top + 10)
    ax_env.set_xlabel("frequency (Hz)")
    ax_env.set_ylabel("power (dB)")
    ax_env.set_title(f"frame {state['frame']} at {t[state['frame']]:.2f} s "
                     f"(envelope RMS error {state['envelope_error_db']:.1f} dB)")
    ax_env.legend(fontsize=8, loc="upper right")
    return fig





class MfccExplorer:
    """The MFCC explorer's widgets and latest state (built by :func:`mfcc_explorer`).

    Attributes
    ----------
    n_fft : ipywidgets.Dropdown
    hop_length, n_mels, n_mfcc, lifter : ipywidgets.IntSlider
        ``n_mels`` carries the CSS class ``sertools-n-mels``.
    fmin, fmax : ipywidgets.FloatSlider
        Filterbank range in Hz.
    scale : ipywidgets.Dropdown
        ``"slaney"`` or ``"htk"``.
    image : ipywidgets.Image
        The figure as PNG, re-rendered on every change (CSS class ``sertools-mfcc-figure``).
    message : ipywidgets.HTML
        Status line (envelope error, or why the settings are invalid).
    state : dict or None
        The latest :func:`mfcc_explorer_state` (``None`` while the settings
        are invalid; ``error`` holds the message then).
    figure : matplotlib.figure.Figure
    png : bytes
        The latest rendered PNG.
    n_updates : int
        How many times the state was recomputed.
    widget : ipywidgets.VBox
        The whole UI.

    Notebook: ``book/04_mfcc.ipynb``.
    """

    def __init__(self, y: np.ndarray, sr: int, *, draw: bool = True) -> None:
        import ipywidgets as w

        self.y = np.asarray(y, dtype=np.float32)
        self.sr = int(sr)
        self.draw = draw
        nyq = self.sr / 2.0
        style = {"description_width": "initial"}
        kw = dict(style=style, continuous_update=False)
        self.n_fft = w.Dropdown(options=list(FFT_SIZES), value=512, description="n_fft")
        self.hop_length = w.IntSlider(value=160, min=32, max=1024, step=16, description="hop (samples)", **kw)
        self.n_mels = w.IntSlider(value=40, min=8, max=128, step=1, description="mel bands", **kw)
        self.n_mels.add_class("sertools-n-mels")
        self.n_mfcc = w.IntSlider(value=13, min=2, max=40, step=1, description="MFCCs", **kw)
        self.fmin = w.FloatSlider(value=0.0, min=0.0, max=1000.0, step=10.0, description="fmin (Hz)", **kw)
        self.fmax = w.FloatSlider(value=nyq, min=1000.0, max=nyq, step=100.0, description="fmax (Hz)", **kw)
        self.scale = w.Dropdown(options=[("Slaney (librosa)", "slaney"), ("HTK 2595 log10(1+f/700)", "htk")],
                                value="slaney", description="mel scale", style=style)
        self.lifter = w.IntSlider(value=0, min=0, max=60, step=1, description="lifter", **kw)
        self.image = w.Image(format="png")
        self.image.add_class("sertools-mfcc-figure")
        self.message = w.HTML()
        self.state: dict[str, Any] | None = None
        self.error: str | None = None
        self.figure: Figure | None = None
        self.png: bytes = b""
        self.n_updates = 0
        self.controls = [self.n_fft, self.hop_length, self.n_mels, self.n_mfcc, self.fmin, self.fmax,
                         self.scale, self.lifter]
        for c in self.controls:
            c.observe(self._on_change, names="value")
        self.widget = w.VBox([
            w.HBox([self.n_fft, self.scale, self.hop_length]),
            w.HBox([self.n_mels, self.n_mfcc, self.lifter]),
            w.HBox([self.fmin, self.fmax]),
            self.message, self.image,
        ])
        self.update()

    def _on_change(self, change: dict[str, Any]) -> None:
        self.update()

    def params(self) -> dict[str, Any]:
        """The current control values as :func:`mfcc_explorer_state` arguments."""
        return dict(n_fft=int(self.n_fft.value), hop_length=int(self.hop_length.value),
                    n_mels=int(self.n_mels.value), n_mfcc=int(self.n_mfcc.value),
                    fmin=float(self.fmin.value), fmax=float(self.fmax.value),
                    htk=self.scale.value == "htk", lifter=float(self.lifter.value))

    def update(self) -> None:
        """Recompute the state from the controls and re-render the figure (on every change)."""
        self.n_updates += 1
        try:
            self.state = mfcc_explorer_state(self.y, self.sr, **self.params())
            self.error = None
        except SertoolsError as e:
            self.state, self.error = None, str(e)
            self.message.value = f"<b style='color:#b00'>invalid settings:</b> {e}"
            return
        s = self.state
        self.message.value = (f"{s['mel_db'].shape[1]} frames; the {s['params']['n_mfcc']} MFCCs rebuild the "
                              f"mel spectrum of the marked frame within {s['envelope_error_db']:.1f} dB RMS")
        if self.draw:
            self.figure = plot_mfcc_state(s, self.figure)
            self.png = figure_png(self.figure)
            self.image.value = self.png

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)


def mfcc_explorer(y: np.ndarray, sr: int, *, draw: bool = True) -> MfccExplorer:
    """Build the interactive MFCC explorer for a clip (display the result in a notebook).

    Parameters
    ----------
    y : np.ndarray, shape (n_samples,)
        The clip (a few seconds).
    sr : int
        Its sample rate.
    draw : bool, default True
        Render the figure on each change (tests may turn it off).

    Returns
    -------
    MfccExplorer
        Its controls and latest state are attributes (see the class).

    Notebook: ``book/04_mfcc.ipynb``.
    """
    return MfccExplorer(y, sr, draw=draw)
