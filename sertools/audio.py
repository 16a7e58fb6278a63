"""Audio input and output.

Notebook: ``book/03_signal_processing.ipynb`` (chapter "Signal processing").

(Initial version: the signal-processing issue hardens it with every bad-input
case; the signature ``load(path, sr=16000) -> (y, sr)`` is the public contract.)
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from sertools.errors import AudioError

__all__ = ["load", "save"]


def load(path: str | os.PathLike[str], sr: int | None = 16000) -> tuple[np.ndarray, int]:
    """Load an audio file as mono float32 at the requested sample rate.

    Parameters
    ----------
    path : str or path-like
        WAV, FLAC or OGG file.
    sr : int or None, default 16000
        Target sample rate in Hz; ``None`` keeps the file's own rate.

    Returns
    -------
    y : np.ndarray, shape (n_samples,), float32
        Mono signal in [-1, 1] (channels averaged).
    sr : int
        Its sample rate.

    Raises
    ------
    AudioError
        Naming the file and the reason (missing, not audio, empty, non-finite).

    Notebook: ``book/03_signal_processing.ipynb``.
    """
    p = Path(path)
    if not p.is_file():
        raise AudioError(f"{p}: no such file")
    try:
        data, file_sr = sf.read(str(p), dtype="float32", always_2d=True)
    except Exception as e:  # soundfile raises LibsndfileError / RuntimeError
        raise AudioError(f"{p}: not a readable audio file ({e})") from None
    if data.shape[0] == 0:
        raise AudioError(f"{p}: the file has zero samples")
    y = data.mean(axis=1, dtype=np.float32)
    if not np.all(np.isfinite(y)):
        raise AudioError(f"{p}: contains NaN or infinite samples")
    if sr is not None and sr != file_sr:
        y = soxr.resample(y, file_sr, sr).astype(np.float32)
        file_sr = sr
    return y, int(file_sr)


def save(path: str | os.PathLike[str], y: np.ndarray, sr: int, subtype: str = "PCM_16") -> Path:
    """Write a mono signal to a WAV file (16-bit PCM by default) and return its path.

    Notebook: ``book/03_signal_processing.ipynb``.
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    y = np.asarray(y, dtype=np.float32)
    if not np.all(np.isfinite(y)):
        raise AudioError(f"{p}: refusing to write NaN or infinite samples")
    sf.write(str(p), np.clip(y, -1.0, 1.0), int(sr), subtype=subtype)
    return p
