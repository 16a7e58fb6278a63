"""Signal preprocessing: framing, windows, resampling, filters, denoising, VAD.

Notebook: ``book/03_signal_processing.ipynb`` (chapter "Signal processing").

Everything here works on 1-D float signals (mono, as returned by
:func:`sertools.audio.load`). Bad arguments raise :class:`sertools.errors.AudioError`
(a ``ValueError``) whose message names the argument and the reason.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.ndimage
import scipy.signal
import soxr

from sertools.errors import AudioError

__all__ = [
    "add_noise",
    "apply_filter",
    "deemphasis",
    "design_filter",
    "detect_speech",
    "frame",
    "frame_energy_db",
    "frequency_response",
    "get_window",
    "make_noise",
    "preemphasis",
    "reduce_noise",
    "resample",
    "snr_db",
    "speech_mask",
    "trim_silence",
]

#: Window names accepted by :func:`get_window` (aliases map to the same window).
WINDOWS: tuple[str, ...] = ("hann", "hamming", "rectangular", "boxcar")


def _as_signal(y: np.ndarray, name: str = "y") -> np.ndarray:
    """Return ``y`` as a 1-D float array, or raise AudioError naming ``name``."""
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise AudioError(f"{name}: expected a 1-D (mono) signal, got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.floating):
        if np.issubdtype(arr.dtype, np.number) and not np.issubdtype(arr.dtype, np.complexfloating):
            arr = arr.astype(np.float64)
        else:
            raise AudioError(f"{name}: expected real numbers, got dtype {arr.dtype}")
    if not np.all(np.isfinite(arr)):
        raise AudioError(f"{name}: contains NaN or infinite samples")
    return arr


def _positive_int(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise AudioError(f"{name}: expected a positive integer, got {value!r}")
    return int(value)


def frame(
    y: np.ndarray, frame_length: int, hop_length: int, *, allow_empty: bool = False
) -> np.ndarray:
    """Cut a signal into overlapping frames, as a strided view (no copy).

    Frame ``i`` is ``y[i * hop_length : i * hop_length + frame_length]``; a
    trailing partial frame is dropped (pad the signal first, as ``stft`` does
    with ``center=True``, to keep it).

    Parameters
    ----------
    y : np.ndarray, shape (n_samples,)
        The signal.
    frame_length : int
        Samples per frame.
    hop_length : int
        Samples between the starts of consecutive frames.
    allow_empty : bool, default False
        What to do when ``y`` is shorter than one frame: by default raise
        :class:`AudioError` (a silent empty result usually hides a bug); with
        ``allow_empty=True`` return an array of shape ``(0, frame_length)``.

    Returns
    -------
    np.ndarray, shape (n_frames, frame_length)
        A read-only view into ``y`` with
        ``n_frames = 1 + (len(y) - frame_length) // hop_length``. Copy it
        (``.copy()``) before writing to it.

    Raises
    ------
    AudioError
        ``y`` is not 1-D, the lengths are not positive integers, or ``y`` is
        shorter than one frame and ``allow_empty`` is false.

    Notebook: ``book/03_signal_processing.ipynb``.
    """
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise AudioError(f"y: expected a 1-D (mono) signal, got shape {arr.shape}")
    frame_length = _positive_int(frame_length, "frame_length")
    hop_length = _positive_int(hop_length, "hop_length")
    if arr.shape[0] < frame_length:
        if not allow_empty:
            raise AudioError(
                f"y: signal of {arr.shape[0]} samples is shorter than one frame of "
                f"{frame_length} samples (pad it, or pass allow_empty=True for 0 frames)"
            )
        view = np.lib.stride_tricks.as_strided(
            arr, shape=(0, frame_length), strides=(arr.strides[0] * hop_length, arr.strides[0]),
            writeable=False,
        )
        return view
    windows = np.lib.stride_tricks.sliding_window_view(arr, frame_length)
    return windows[::hop_length]


def get_window(window: str | np.ndarray, n: int, periodic: bool = True) -> np.ndarray:
    """Return an analysis window of ``n`` samples (float64).

    Same values as ``scipy.signal.get_window(window, n, fftbins=periodic)``
    and therefore as librosa: ``periodic=True`` (the default, for spectral
    analysis) is the ``n + 1``-point symmetric window without its last
    sample, so that overlapping windows add up to a constant.

    Parameters
    ----------
    window : {"hann", "hamming", "rectangular", "boxcar"} or np.ndarray
        The window's name (``"rectangular"`` and ``"boxcar"`` are the same),
        or the window itself as an array of length ``n`` (returned as float64).
    n : int
        Window length in samples.
    periodic : bool, default True
        Periodic (DFT-even) window if true, symmetric if false.

    Returns
    -------
    np.ndarray, shape (n,)

    Raises
    ------
    AudioError
        Unknown window name, ``n`` not a positive integer, or an array of the
        wrong length.

    Notebook: ``book/03_signal_processing.ipynb``.
    """
    n = _positive_int(n, "n")
    if not isinstance(window, str):
        w = np.asarray(window, dtype=np.float64)
        if w.shape != (n,):
            raise AudioError(f"window: array of shape {w.shape} does not match n={n}")
        return w
    name = window.lower()
    if name in ("rectangular", "boxcar", "rect", "ones"):
        return np.ones(n)
    if name in ("hann", "hanning", "hamming"):
        if n == 1:
            return np.ones(1)
        m = n if periodic else n - 1
        alpha = 0.5 if name != "hamming" else 0.54
        k = np.arange(n)
        return alpha - (1.0 - alpha) * np.cos(2.0 * np.pi * k / m)
    raise AudioError(f"window: unknown window {window!r}; expected one of {', '.join(WINDOWS)}")


def resample(y: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    """Change the sample rate of a signal with soxr (high quality, anti-aliased).

    The output has ``ceil(len(y) * target_sr / orig_sr)`` samples (soxr's
    rounding), the same dtype as the input for float32/float64, and covers
    the same duration. Downsampling low-pass filters below the new Nyquist
    frequency first, so nothing above ``target_sr / 2`` folds back (aliases).
    Unlike ``scipy.signal.resample(x, num)``, whose second argument is a
    *number of samples*, both arguments here are *rates* in Hz.

    Parameters
    ----------
    y : np.ndarray, shape (n_samples,) or (n_samples, n_channels)
        The signal.
    orig_sr, target_sr : int
        Its sample rate and the wanted one, in Hz.

    Returns
    -------
    np.ndarray
        The resampled signal (``y`` itself, unchanged, when the rates match).

    Raises
    ------
    AudioError
        Rates that are not positive, a signal that is not 1-D/2-D or not finite.

    Notebook: ``book/03_signal_processing.ipynb``.
    """
    orig_sr = _positive_int(orig_sr, "orig_sr")
    target_sr = _positive_int(target_sr, "target_sr")
    arr = np.asarray(y)
    if arr.ndim not in (1, 2):
        raise AudioError(f"y: expected shape (n,) or (n, channels), got {arr.shape}")
    if arr.dtype not in (np.float32, np.float64):
        arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise AudioError("y: contains NaN or infinite samples")
    if orig_sr == target_sr:
        return arr
    out = soxr.resample(arr, orig_sr, target_sr, quality="HQ")
    return np.asarray(out, dtype=arr.dtype)


# ---------------------------------------------------------------- pre-emphasis


def _check_coef(coef: float) -> float:
    if not np.isfinite(coef) or not 0.0 <= coef < 1.0:
        raise AudioError(f"coef: expected 0 <= coef < 1, got {coef!r}")
    return float(coef)


def preemphasis(y: np.ndarray, coef: float = 0.97) -> np.ndarray:
    """First-order high-frequency boost ``y[n] - coef * y[n-1]`` (FIR filter ``[1, -coef]``).

    Speech loses about 6 dB per octave above ~500 Hz (glottal source
    roll-off); pre-emphasis flattens that tilt before spectral analysis. Its
    response is ``|1 - coef e^{-jw}|``: ``1 - coef`` at 0 Hz (about -30 dB for
    0.97) rising to ``1 + coef`` at Nyquist. The first output sample is
    ``y[0]`` (zero initial state), so :func:`deemphasis` inverts it exactly.

    Parameters
    ----------
    y : np.ndarray, shape (n_samples,)
    coef : float, default 0.97
        In [0, 1); 0 leaves the signal unchanged.

    Returns
    -------
    np.ndarray
        Same shape, float dtype of the input (float32 stays float32).

    Notebook: ``book/03_signal_processing.ipynb``.
    """
    arr = _as_signal(y)
    coef = _check_coef(coef)
    out = scipy.signal.lfilter([1.0, -coef], [1.0], arr)
    return out.astype(arr.dtype, copy=False)


def deemphasis(y: np.ndarray, coef: float = 0.97) -> np.ndarray:
    """Inverse of :func:`preemphasis`: the IIR filter ``x[n] = y[n] + coef * x[n-1]``.

    This is ``scipy.signal.lfilter([1], [1, -coef], y)``: a low-pass *boost*
    of low frequencies (``1 / (1 - coef)`` at 0 Hz), i.e. what the source
    article calls pre-emphasis by mistake.

    Notebook: ``book/03_signal_processing.ipynb``.
    """
    arr = _as_signal(y)
    coef = _check_coef(coef)
    out = scipy.signal.lfilter([1.0], [1.0, -coef], arr)
    return out.astype(arr.dtype, copy=False)


# ---------------------------------------------------------------- filters

_BTYPES = {"lowpass": "lowpass", "low": "lowpass", "highpass": "highpass", "high": "highpass",
           "bandpass": "bandpass", "band": "bandpass", "bandstop": "bandstop", "stop": "bandstop"}


def design_filter(
    btype: str,
    cutoff: float | Sequence[float],
    sr: int,
    order: int = 4,
    kind: str = "butter",
    ripple_db: float = 1.0,
) -> np.ndarray:
    """Design a Butterworth or Chebyshev type I filter as second-order sections.

    Parameters
    ----------
    btype : {"lowpass", "highpass", "bandpass", "bandstop"}
        Filter type (``"low"``, ``"high"``, ``"band"``, ``"stop"`` also accepted).
    cutoff : float or (float, float)
        Cut-off frequency in Hz (the -3 dB point for Butterworth, the edge of
        the ripple band for Chebyshev); a ``(low, high)`` pair for band filters.
    sr : int
        Sample rate in Hz; every cut-off must lie strictly between 0 and
        ``sr / 2`` (Nyquist).
    order : int, default 4
        Filter order (band filters have twice as many poles), 1 to 20.
    kind : {"butter", "cheby1"}, default "butter"
        Butterworth (maximally flat pass band) or Chebyshev I (steeper
        transition, ``ripple_db`` of pass-band ripple).
    ripple_db : float, default 1.0
        Pass-band ripple of the Chebyshev filter, in dB.

    Returns
    -------
    np.ndarray, shape (n_sections, 6)
        ``scipy.signal`` SOS array, for :func:`apply_filter` and
        :func:`frequency_response`. SOS avoids the numerical trouble of
        high-order ``(b, a)`` polynomials.

    Raises
    ------
    AudioError
        Unknown type or kind, a cut-off <= 0 or >= Nyquist, low >= high,
        the wrong number of cut-offs, a bad order or ripple.

    Notebook: ``book/03_signal_processing.ipynb``.
    """
    if btype not in _BTYPES:
        raise AudioError(f"btype: unknown filter type {btype!r}; expected lowpass, highpass, bandpass or bandstop")
    bt = _BTYPES[btype]
    sr = _positive_int(sr, "sr")
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or not 1 <= order <= 20:
        raise AudioError(f"order: expected an integer from 1 to 20, got {order!r}")
    nyq = sr / 2.0
    cut = np.atleast_1d(np.asarray(cutoff, dtype=np.float64))
    need = 2 if bt in ("bandpass", "bandstop") else 1
    if cut.shape != (need,):
        what = "a (low, high) pair" if need == 2 else "one frequency"
        raise AudioError(f"cutoff: a {bt} filter needs {what} in Hz, got {cutoff!r}")
    for c in cut:
        if not np.isfinite(c) or c <= 0:
            raise AudioError(f"cutoff: {c:g} Hz must be > 0")
        if c >= nyq:
            raise AudioError(f"cutoff: {c:g} Hz must be below the Nyquist frequency {nyq:g} Hz (sr={sr})")
    if need == 2 and cut[0] >= cut[1]:
        raise AudioError(f"cutoff: low {cut[0]:g} Hz must be below high {cut[1]:g} Hz")
    wn = cut if need == 2 else float(cut[0])
    if kind == "butter":
        sos = scipy.signal.butter(int(order), wn, btype=bt, fs=sr, output="sos")
    elif kind in ("cheby1", "chebyshev", "chebyshev1"):
        if not np.isfinite(ripple_db) or ripple_db <= 0:
            raise AudioError(f"ripple_db: expected a positive pass-band ripple in dB, got {ripple_db!r}")
        sos = scipy.signal.cheby1(int(order), float(ripple_db), wn, btype=bt, fs=sr, output="sos")
    else:
        raise AudioError(f"kind: unknown filter family {kind!r}; expected 'butter' or 'cheby1'")
    return np.asarray(sos)


def apply_filter(y: np.ndarray, sos: np.ndarray, zero_phase: bool = False) -> np.ndarray:
    """Filter a signal with second-order sections.

    Parameters
    ----------
    y : np.ndarray, shape (n_samples,)
    sos : np.ndarray, shape (n_sections, 6)
        From :func:`design_filter`.
    zero_phase : bool, default False
        ``False``: causal ``sosfilt`` (usable in real time; delays and
        disperses the signal by the filter's phase response). ``True``:
        ``sosfiltfilt``, forward then backward, so no phase shift and the
        magnitude response squared (offline only). Short signals get a
        shorter edge padding instead of an error.

    Returns
    -------
    np.ndarray
        Same shape and float dtype as ``y``.

    Notebook: ``book/03_signal_processing.ipynb``.
    """
    arr = _as_signal(y)
    sos_arr = np.asarray(sos, dtype=np.float64)
    if sos_arr.ndim != 2 or sos_arr.shape[1] != 6 or sos_arr.shape[0] == 0:
        raise AudioError(f"sos: expected an (n_sections, 6) array, got shape {sos_arr.shape}")
    if arr.size == 0:
        return arr.copy()
    if zero_phase:
        default_pad = 3 * (2 * sos_arr.shape[0] + 1 - min((sos_arr[:, 2] == 0).sum(), (sos_arr[:, 5] == 0).sum()))
        padlen = min(default_pad, arr.size - 1)
        out = scipy.signal.sosfiltfilt(sos_arr, arr, padlen=padlen)
    else:
        out = scipy.signal.sosfilt(sos_arr, arr)
    return out.astype(arr.dtype, copy=False)


def frequency_response(
    sos: np.ndarray, sr: int, n: int = 1024, zero_phase: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Magnitude response of an SOS filter in dB.

    Parameters
    ----------
    sos : np.ndarray, shape (n_sections, 6)
    sr : int
        Sample rate in Hz.
    n : int, default 1024
        Number of frequencies from 0 to Nyquist (exclusive).
    zero_phase : bool, default False
        Report the response of :func:`apply_filter` with ``zero_phase=True``
        (the magnitude squared, i.e. twice the dB values).

    Returns
    -------
    freqs : np.ndarray, shape (n,)
        Frequencies in Hz.
    gain_db : np.ndarray, shape (n,)
        ``20 log10 |H(f)|``, floored at -200 dB (never ``-inf``).

    Notebook: ``book/03_signal_processing.ipynb``.
    """
    sr = _positive_int(sr, "sr")
    n = _positive_int(n, "n")
    freqs, h = scipy.signal.sosfreqz(np.asarray(sos, dtype=np.float64), worN=n, fs=sr)
    gain = 20.0 * np.log10(np.maximum(np.abs(h), 1e-10))
    if zero_phase:
        gain = 2.0 * gain
    return freqs, np.maximum(gain, -200.0)


# ---------------------------------------------------------------- levels, SNR, noise


def frame_energy_db(
    y: np.ndarray, sr: int, frame_ms: float = 25.0, hop_ms: float = 10.0
) -> tuple[np.ndarray, np.ndarray]:
    """Short-time RMS level in dBFS, per frame.

    The signal is zero-padded at the end so every sample belongs to a frame
    (a clip shorter than one frame gives one frame). Silence is -200 dB.

    Returns
    -------
    times : np.ndarray, shape (n_frames,)
        Start time of each frame in seconds.
    level_db : np.ndarray, shape (n_frames,)

    Notebook: ``book/03_signal_processing.ipynb``.
    """
    arr = _as_signal(y).astype(np.float64, copy=False)
    sr = _positive_int(sr, "sr")
    n = max(1, int(round(frame_ms * sr / 1000.0)))
    hop = max(1, int(round(hop_ms * sr / 1000.0)))
    if arr.size == 0:
        return np.zeros(0), np.zeros(0)
    n_frames = 1 + max(0, -(-(arr.size - n) // hop))
    padded = np.pad(arr, (0, (n_frames - 1) * hop + n - arr.size))
    frames = frame(padded, n, hop)
    rms = np.sqrt(np.mean(frames**2, axis=1))
    level = 20.0 * np.log10(np.maximum(rms, 1e-10))
    return np.arange(n_frames) * hop / sr, np.where(rms > 0, level, -200.0)


def snr_db(clean: np.ndarray, noisy: np.ndarray) -> float:
    """Signal-to-noise ratio ``10 log10(sum clean^2 / sum (noisy - clean)^2)`` in dB.

    The noise is whatever ``noisy`` adds to ``clean`` (sample-aligned, same
    length). Identical signals give ``+inf``.

    Raises
    ------
    AudioError
        Different lengths, an empty or non-finite signal, or a silent ``clean``
        (no signal: the ratio is undefined).

    Notebook: ``book/03_signal_processing.ipynb``.
    """
    c = _as_signal(clean, "clean").astype(np.float64)
    x = _as_signal(noisy, "noisy").astype(np.float64)
    if c.shape != x.shape:
        raise AudioError(f"noisy: length {x.size} differs from clean's {c.size}; align them first")
    if c.size == 0:
        raise AudioError("clean: empty signal")
    ps = float(np.sum(c**2))
    if ps == 0.0:
        raise AudioError("clean: the signal is silent, so its SNR is undefined")
    pn = float(np.sum((x - c) ** 2))
    return float("inf") if pn == 0.0 else 10.0 * np.log10(ps / pn)


def _rng(rng: int | np.random.Generator | None) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None:
        return np.random.default_rng(0)
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise AudioError(f"rng: expected a seed (int) or a numpy Generator, got {rng!r}")


NOISE_KINDS: tuple[str, ...] = ("white", "pink", "brown", "babble")


def make_noise(
    n: int,
    kind: str = "white",
    rng: int | np.random.Generator | None = 0,
    speech: np.ndarray | None = None,
    n_talkers: int = 6,
) -> np.ndarray:
    """Generate ``n`` samples of unit-RMS noise.

    Parameters
    ----------
    n : int
        Number of samples.
    kind : {"white", "pink", "brown", "babble"}
        White (flat spectrum), pink (power ~ 1/f, -3 dB per octave, like
        many real backgrounds), brown (1/f^2), or babble: the sum of
        ``n_talkers`` randomly shifted, time-reversed copies of ``speech``,
        i.e. a crowd-like noise with a speech spectrum and no intelligible words.
    rng : int, np.random.Generator or None, default 0
        Seed or generator (``None`` means seed 0: results are reproducible).
    speech : np.ndarray, optional
        Source signal for ``"babble"`` (required for it).
    n_talkers : int, default 6
        Number of overlapped copies for babble.

    Returns
    -------
    np.ndarray, shape (n,), float64, RMS 1

    Notebook: ``book/03_signal_processing.ipynb``.
    """
    n = _positive_int(n, "n")
    g = _rng(rng)
    if kind == "white":
        noise = g.standard_normal(n)
    elif kind in ("pink", "brown"):
        spec = np.fft.rfft(g.standard_normal(n))
        f = np.arange(spec.size, dtype=np.float64)
        f[0] = 1.0  # no division by zero; the DC bin is removed below
        spec = spec / (np.sqrt(f) if kind == "pink" else f)
        spec[0] = 0.0
        noise = np.fft.irfft(spec, n)
    elif kind == "babble":
        if speech is None:
            raise AudioError("speech: kind='babble' needs a speech signal to build the babble from")
        s = _as_signal(speech, "speech").astype(np.float64)
        if s.size == 0 or not np.any(s):
            raise AudioError("speech: the babble source is empty or silent")
        n_talkers = _positive_int(n_talkers, "n_talkers")
        src = np.resize(s[::-1], n)  # time-reversed (unintelligible), tiled to length n
        noise = np.zeros(n)
        for _ in range(n_talkers):
            noise += np.roll(src, int(g.integers(0, n)))
    else:
        raise AudioError(f"kind: unknown noise {kind!r}; expected one of {', '.join(NOISE_KINDS)}")
    rms = float(np.sqrt(np.mean(noise**2)))
    if rms == 0.0:  # e.g. n == 1 for pink noise
        noise = g.standard_normal(n)
        rms = float(np.sqrt(np.mean(noise**2)))
    return noise / rms


def add_noise(
    y: np.ndarray,
    snr: float,
    kind: str = "white",
    rng: int | np.random.Generator | None = 0,
    noise: np.ndarray | None = None,
) -> np.ndarray:
    """Mix noise into a signal at an exact signal-to-noise ratio.

    The noise is scaled so that ``snr_db(y, result) == snr`` (up to rounding).

    Parameters
    ----------
    y : np.ndarray, shape (n_samples,)
        Clean signal (must not be silent).
    snr : float
        Wanted SNR in dB (may be negative: more noise than signal).
    kind : {"white", "pink", "brown", "babble"}, default "white"
        Noise colour, see :func:`make_noise` (babble is built from ``y``).
        Ignored when ``noise`` is given.
    rng : int, np.random.Generator or None, default 0
        Seed or generator for the noise.
    noise : np.ndarray, optional
        A recorded noise to use instead (tiled or cut to ``len(y)``).

    Returns
    -------
    np.ndarray
        ``y + noise``, same shape and float dtype as ``y`` (values may exceed
        1 at low SNR: normalise before saving).

    Notebook: ``book/03_signal_processing.ipynb`` (used again in ``book/11_challenges.ipynb``).
    """
    arr = _as_signal(y)
    if arr.size == 0:
        raise AudioError("y: cannot add noise to an empty signal")
    if not np.isfinite(snr):
        raise AudioError(f"snr: expected a finite SNR in dB, got {snr!r}")
    x = arr.astype(np.float64)
    ps = float(np.mean(x**2))
    if ps == 0.0:
        raise AudioError("y: the signal is silent, so no noise level gives the requested SNR")
    if noise is not None:
        nz = _as_signal(noise, "noise").astype(np.float64)
        if nz.size == 0 or not np.any(nz):
            raise AudioError("noise: empty or silent noise signal")
        nz = np.resize(nz, x.size)
        if not np.any(nz):
            raise AudioError("noise: silent over the length of y")
        nz = nz / np.sqrt(np.mean(nz**2))
    else:
        nz = make_noise(x.size, kind, rng, speech=x if kind == "babble" else None)
    scale = np.sqrt(ps / 10.0 ** (snr / 10.0))
    return (x + scale * nz).astype(arr.dtype, copy=False)


# ---------------------------------------------------------------- noise reduction


def _stft_setup(n_fft: int, hop_length: int, sr: int) -> scipy.signal.ShortTimeFFT:
    return scipy.signal.ShortTimeFFT(get_window("hann", n_fft), hop_length, sr)


def reduce_noise(
    y: np.ndarray,
    sr: int,
    noise: np.ndarray | None = None,
    strength: float = 1.0,
    method: str = "subtract",
    n_fft: int = 512,
    hop_length: int = 128,
    quiet_fraction: float = 0.1,
    floor: float = 0.05,
    smooth: bool = True,
) -> np.ndarray:
    """Reduce stationary background noise by spectral subtraction or spectral gating.

    The noise power spectrum ``N(f)`` is estimated from ``noise`` (a clip of
    the background alone) if given, else from the quietest ``quiet_fraction``
    of the signal's own STFT frames. Each STFT bin ``X(t, f)`` is then scaled
    by a gain and the signal is re-synthesised (the phase is kept):

    - ``"subtract"`` (power spectral subtraction, Boll 1979):
      ``G = sqrt(max(1 - strength * N / |X|^2, floor^2))``;
    - ``"gate"``: ``G = 1`` where ``|X|^2 > strength * 4 * N`` (6 dB above the
      scaled noise level), else ``floor``.

    With ``smooth`` the gains are averaged over 3 frames x 3 bins, which
    reduces "musical noise" (isolated bins flickering on and off).
    ``strength=0`` returns the input (to rounding).

    Parameters
    ----------
    y : np.ndarray, shape (n_samples,)
    sr : int
        Sample rate in Hz.
    noise : np.ndarray, optional
        Noise-only recording at the same rate.
    strength : float, default 1.0
        Over-subtraction factor (0 = off; 1 = subtract the estimate; 2-4 =
        more aggressive, more distortion).
    method : {"subtract", "gate"}, default "subtract"
    n_fft, hop_length : int, default 512, 128
        STFT size and hop (Hann window; 32 ms / 8 ms at 16 kHz).
    quiet_fraction : float, default 0.1
        Share of lowest-energy frames used as the noise estimate without ``noise``.
    floor : float, default 0.05
        Smallest gain (-26 dB): keeps some background instead of holes.
    smooth : bool, default True

    Returns
    -------
    np.ndarray
        Same length and float dtype as ``y``. Silence stays silence (no NaN).

    Notebook: ``book/03_signal_processing.ipynb``.
    """
    arr = _as_signal(y)
    sr = _positive_int(sr, "sr")
    n_fft = _positive_int(n_fft, "n_fft")
    hop_length = _positive_int(hop_length, "hop_length")
    if hop_length > n_fft // 2:
        raise AudioError(f"hop_length: {hop_length} must be at most n_fft/2 = {n_fft // 2} for exact resynthesis")
    if not np.isfinite(strength) or strength < 0:
        raise AudioError(f"strength: expected a number >= 0, got {strength!r}")
    if method not in ("subtract", "gate"):
        raise AudioError(f"method: expected 'subtract' or 'gate', got {method!r}")
    if not 0.0 < quiet_fraction <= 1.0:
        raise AudioError(f"quiet_fraction: expected a value in (0, 1], got {quiet_fraction!r}")
    if not 0.0 <= floor <= 1.0:
        raise AudioError(f"floor: expected a gain in [0, 1], got {floor!r}")
    if arr.size == 0 or strength == 0.0:
        return arr.copy()
    x = arr.astype(np.float64)
    n = x.size
    xp = np.pad(x, (0, max(0, n_fft - n)))
    stft = _stft_setup(n_fft, hop_length, sr)
    spec = stft.stft(xp)
    power = np.abs(spec) ** 2
    if noise is not None:
        nz = _as_signal(noise, "noise").astype(np.float64)
        if nz.size == 0:
            raise AudioError("noise: empty noise clip")
        nz = np.pad(nz, (0, max(0, n_fft - nz.size)))
        noise_psd = np.mean(np.abs(stft.stft(nz)) ** 2, axis=1)
    else:
        energy = power.sum(axis=0)
        k = max(1, int(np.ceil(quiet_fraction * energy.size)))
        quiet = np.argsort(energy, kind="stable")[:k]
        noise_psd = np.mean(power[:, quiet], axis=1)
    noise_psd = noise_psd[:, None]
    tiny = np.finfo(np.float64).tiny
    if method == "subtract":
        gain = np.sqrt(np.maximum(1.0 - strength * noise_psd / np.maximum(power, tiny), floor**2))
    else:
        gain = np.where(power > 4.0 * strength * noise_psd, 1.0, floor)
    if smooth:
        gain = scipy.ndimage.uniform_filter(gain, size=3, mode="nearest")
    out = stft.istft(spec * gain, k1=xp.size)[:n]
    return out.astype(arr.dtype, copy=False)


# ---------------------------------------------------------------- voice activity


def speech_mask(
    y: np.ndarray,
    sr: int,
    top_db: float = 40.0,
    min_db: float = -60.0,
    frame_ms: float = 25.0,
    hop_ms: float = 10.0,
    hangover_ms: float = 100.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Energy-based voice-activity detection, per frame.

    A frame is active when its RMS level (:func:`frame_energy_db`) is within
    ``top_db`` of the loudest frame *and* above ``min_db`` dBFS (so pure
    silence or faint hiss is never "speech"). Activity is then extended by
    ``hangover_ms`` on both sides (morphological dilation) so that weak word
    onsets and endings are kept.

    Returns
    -------
    times : np.ndarray, shape (n_frames,)
        Frame start times in seconds.
    active : np.ndarray of bool, shape (n_frames,)

    Notebook: ``book/03_signal_processing.ipynb``.
    """
    times, level = frame_energy_db(y, sr, frame_ms, hop_ms)
    if not np.isfinite(top_db) or top_db <= 0:
        raise AudioError(f"top_db: expected a positive number of dB, got {top_db!r}")
    if level.size == 0:
        return times, np.zeros(0, dtype=bool)
    active = (level > level.max() - top_db) & (level > min_db)
    hang = int(round(hangover_ms / hop_ms))
    if hang > 0 and active.any():
        active = scipy.ndimage.binary_dilation(active, structure=np.ones(2 * hang + 1, dtype=bool))
    return times, active


def detect_speech(
    y: np.ndarray, sr: int, min_duration_ms: float = 50.0, **kwargs: float
) -> list[tuple[float, float]]:
    """Speech segments ``[(start_s, end_s), ...]`` found by :func:`speech_mask`.

    Segments shorter than ``min_duration_ms`` are dropped. ``kwargs`` go to
    :func:`speech_mask` (``top_db``, ``min_db``, ``frame_ms``, ``hop_ms``,
    ``hangover_ms``). Silence gives ``[]``.

    Notebook: ``book/03_signal_processing.ipynb``.
    """
    arr = _as_signal(y)
    sr = _positive_int(sr, "sr")
    frame_ms = float(kwargs.get("frame_ms", 25.0))
    hop_ms = float(kwargs.get("hop_ms", 10.0))
    times, active = speech_mask(arr, sr, **kwargs)
    duration = arr.size / sr
    segments: list[tuple[float, float]] = []
    if active.size == 0:
        return segments
    edges = np.diff(np.concatenate([[0], active.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    for s, e in zip(starts, ends, strict=True):
        t0 = float(times[s])
        t1 = min(float(times[e - 1]) + frame_ms / 1000.0, duration)
        if (t1 - t0) * 1000.0 >= min_duration_ms - hop_ms / 2:
            segments.append((t0, t1))
    return segments


def trim_silence(
    y: np.ndarray, sr: int, keep_if_silent: bool = True, **kwargs: float
) -> tuple[np.ndarray, tuple[int, int]]:
    """Cut leading and trailing silence, keeping everything between the first
    and the last detected speech segment (:func:`detect_speech`).

    Parameters
    ----------
    y : np.ndarray, shape (n_samples,)
    sr : int
    keep_if_silent : bool, default True
        When no speech is found (silence, or a clip too faint for
        ``min_db``), return the signal unchanged rather than an empty array,
        which would break feature extraction downstream.
    **kwargs
        Passed to :func:`detect_speech` / :func:`speech_mask`.

    Returns
    -------
    y_trimmed : np.ndarray
        A slice (view) of ``y``.
    interval : (int, int)
        Sample indices ``start, end`` of the kept part.

    Notebook: ``book/03_signal_processing.ipynb``.
    """
    arr = _as_signal(y)
    segments = detect_speech(arr, sr, **kwargs)
    if not segments:
        if keep_if_silent:
            return arr, (0, arr.size)
        return arr[:0], (0, 0)
    start = int(np.floor(segments[0][0] * sr))
    end = min(int(np.ceil(segments[-1][1] * sr)), arr.size)
    return arr[start:end], (start, end)
