"""Signal preprocessing: framing, windows, resampling, filters, denoising, VAD.

Notebook: ``book/03_signal_processing.ipynb`` (chapter "Signal processing").

Everything here works on 1-D float signals (mono, as returned by
:func:`sertools.audio.load`). Bad arguments raise :class:`sertools.errors.AudioError`
(a ``ValueError``) whose message names the argument and the reason.
"""

from __future__ import annotations

import numpy as np
import soxr

from sertools.errors import AudioError

__all__ = [
    "frame",
    "get_window",
    "resample",
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
