"""Audio input and output: robust loading, saving and level normalisation.

Notebook: ``book/03_signal_processing.ipynb`` (chapter "Signal processing").

:func:`load` is the single entry point that turns a file into samples for the
rest of sertools: ``load(path, sr=16000) -> (y, sr)`` with ``y`` a mono
float32 array. It reads WAV (8/16/24/32-bit integer, 32/64-bit float, A-law,
mu-law, ADPCM), FLAC, OGG (Vorbis/Opus) and the other containers libsndfile
decodes (AIFF, MP3, ...), with any number of channels and any rate, and
resamples with :func:`sertools.preprocess.resample` (soxr). Every bad input
raises :class:`sertools.errors.AudioError` (a ``ValueError``) whose message
starts with the file name and says why.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from sertools.errors import AudioError

__all__ = ["AudioInfo", "info", "load", "save", "normalize_level", "peak_dbfs", "rms_dbfs"]

#: Extensions of compressed formats libsndfile cannot decode (clear message instead of
#: "format not recognised").
UNSUPPORTED_EXTENSIONS: dict[str, str] = {
    ".m4a": "AAC/ALAC in MP4",
    ".mp4": "MP4",
    ".aac": "AAC",
    ".wma": "Windows Media Audio",
    ".webm": "WebM",
    ".amr": "AMR",
    ".ape": "Monkey's Audio",
    ".3gp": "3GP",
}

#: WAV ``fmt `` format tags that libsndfile decodes.
_WAV_TAGS_SUPPORTED = {0x0001, 0x0002, 0x0003, 0x0006, 0x0007, 0x0011, 0x0031, 0xFFFE}
_WAV_TAG_NAMES = {0x0055: "MPEG Layer 3", 0x0050: "MPEG", 0x00FF: "AAC", 0x1610: "HE-AAC",
                  0x0161: "Windows Media Audio", 0x0022: "TrueSpeech", 0x0040: "G.721 ADPCM"}

#: Smallest level reported by :func:`rms_dbfs` / :func:`peak_dbfs` (digital silence).
SILENCE_DBFS = -200.0


@dataclass(frozen=True)
class AudioInfo:
    """What a file's header says (see :func:`info`)."""

    path: str
    samplerate: int
    channels: int
    frames: int
    duration: float
    format: str
    subtype: str


def _check_path(path: str | os.PathLike[str]) -> Path:
    p = Path(path)
    if not p.exists():
        raise AudioError(f"{p}: no such file")
    if p.is_dir():
        raise AudioError(f"{p}: is a directory, not an audio file")
    if not p.is_file():
        raise AudioError(f"{p}: not a regular file")
    ext = p.suffix.lower()
    if ext in UNSUPPORTED_EXTENSIONS:
        raise AudioError(
            f"{p}: unsupported format ({UNSUPPORTED_EXTENSIONS[ext]}); "
            "convert it to WAV, FLAC or OGG first (e.g. ffmpeg -i in.m4a out.wav)"
        )
    return p


def _wav_problem(p: Path) -> str | None:
    """Inspect a RIFF/WAVE header; return a reason if it is truncated or unsupported."""
    try:
        size = p.stat().st_size
        with open(p, "rb") as fh:
            head = fh.read(12)
            if len(head) < 12 or head[:4] not in (b"RIFF", b"RIFX") or head[8:12] != b"WAVE":
                return None
            big = head[:4] == b"RIFX"
            fmt = "<" if not big else ">"
            pos = 12
            tag = None
            while True:
                fh.seek(pos)
                ch = fh.read(8)
                if len(ch) < 8:
                    return "truncated header: no 'data' chunk" if tag is not None else (
                        "truncated header: no 'fmt ' chunk")
                cid, clen = ch[:4], struct.unpack(fmt + "I", ch[4:])[0]
                if cid == b"fmt ":
                    body = fh.read(min(clen, 40))
                    if len(body) < 16:
                        return "truncated or corrupt header: 'fmt ' chunk too short"
                    tag, channels = struct.unpack(fmt + "HH", body[:4])
                    if channels == 0:
                        return "corrupt header: channel count is zero"
                    if tag not in _WAV_TAGS_SUPPORTED:
                        name = _WAV_TAG_NAMES.get(tag, "unknown codec")
                        return f"unsupported format: WAV encoding 0x{tag:04X} ({name})"
                elif cid == b"data":
                    present = size - (pos + 8)
                    if clen not in (0, 0xFFFFFFFF) and present < clen:
                        return (f"truncated: the header declares {clen} bytes of audio data "
                                f"but only {max(present, 0)} are present")
                    return None
                pos += 8 + clen + (clen & 1)
    except OSError as e:
        return f"cannot be read ({e.strerror or e})"


def _describe_failure(p: Path, err: Exception) -> str:
    reason = _wav_problem(p)
    if reason is not None:
        return f"{p}: {reason}"
    msg = str(err)
    msg = msg.split(": ", 1)[1] if msg.startswith("Error opening") and ": " in msg else msg
    if p.stat().st_size == 0:
        return f"{p}: empty file (0 bytes), not audio"
    if "not recognised" in msg.lower() or "unknown format" in msg.lower():
        return f"{p}: not an audio file, or a format that is not supported ({msg.strip()})"
    return f"{p}: corrupt or unreadable audio ({msg.strip()})"


def info(path: str | os.PathLike[str]) -> AudioInfo:
    """Read a file's header: rate, channels, length, container and sample format.

    Raises
    ------
    AudioError
        As :func:`load` does for a missing, non-audio or corrupt file.

    Notebook: ``book/03_signal_processing.ipynb``.
    """
    p = _check_path(path)
    try:
        i = sf.info(str(p))
    except Exception as e:  # soundfile raises LibsndfileError / RuntimeError / TypeError
        raise AudioError(_describe_failure(p, e)) from None
    return AudioInfo(str(p), int(i.samplerate), int(i.channels), int(i.frames),
                     float(i.frames / i.samplerate) if i.samplerate else 0.0, i.format, i.subtype)


def load(path: str | os.PathLike[str], sr: int | None = 16000) -> tuple[np.ndarray, int]:
    """Load an audio file as mono float32 at the requested sample rate.

    Parameters
    ----------
    path : str or path-like
        WAV (8/16/24/32-bit integer or 32/64-bit float), FLAC, OGG, or any
        other format libsndfile decodes; any number of channels; any rate.
    sr : int or None, default 16000
        Target sample rate in Hz; ``None`` keeps the file's own rate.
        Resampling uses :func:`sertools.preprocess.resample` (soxr, high
        quality, anti-aliased).

    Returns
    -------
    y : np.ndarray, shape (n_samples,), float32
        Mono signal (channels averaged). Integer formats are scaled to
        [-1, 1); float files are returned as stored (they may exceed 1).
        Silence and clips shorter than an analysis frame load normally.
    sr : int
        Its sample rate.

    Raises
    ------
    AudioError
        The message names the file and the reason: no such file, a directory,
        not an audio file, truncated or corrupt header, unsupported format,
        zero samples, NaN or infinite samples; or a bad ``sr`` argument.

    Notebook: ``book/03_signal_processing.ipynb``.
    """
    if sr is not None and (isinstance(sr, bool) or not isinstance(sr, (int, np.integer)) or sr <= 0):
        raise AudioError(f"sr: expected a positive integer rate in Hz or None, got {sr!r}")
    p = _check_path(path)
    try:
        data, file_sr = sf.read(str(p), dtype="float32", always_2d=True)
    except Exception as e:  # soundfile raises LibsndfileError / RuntimeError / TypeError
        raise AudioError(_describe_failure(p, e)) from None
    reason = _wav_problem(p)
    if reason is not None:
        raise AudioError(f"{p}: {reason}")
    if data.shape[0] == 0:
        try:
            declared = int(sf.info(str(p)).frames)
        except Exception:  # the read worked, so this should too; fall back to the plain message
            declared = 0
        if declared > 0:
            raise AudioError(f"{p}: truncated or corrupt: the header declares {declared} samples "
                             "but none could be decoded")
        raise AudioError(f"{p}: the file has zero samples (no audio data)")
    if data.shape[1] == 1:
        y = np.ascontiguousarray(data[:, 0])
    else:
        y = data.mean(axis=1, dtype=np.float32)
    if not np.all(np.isfinite(data)):
        bad = int(np.count_nonzero(~np.isfinite(data)))
        raise AudioError(f"{p}: contains {bad} NaN or infinite samples")
    if sr is not None and sr != file_sr:
        from sertools.preprocess import resample

        y = resample(y, int(file_sr), int(sr)).astype(np.float32, copy=False)
        file_sr = sr
    return y, int(file_sr)


def save(
    path: str | os.PathLike[str], y: np.ndarray, sr: int, subtype: str | None = "PCM_16"
) -> Path:
    """Write a signal to an audio file and return its path.

    Parameters
    ----------
    path : str or path-like
        Output file; the container follows the extension (``.wav``, ``.flac``,
        ``.ogg``). Parent folders are created.
    y : np.ndarray, shape (n_samples,) or (n_samples, n_channels)
        Samples in [-1, 1]; integer subtypes clip values outside that range.
    sr : int
        Sample rate in Hz.
    subtype : str or None, default "PCM_16"
        libsndfile subtype (``"PCM_U8"``, ``"PCM_16"``, ``"PCM_24"``,
        ``"PCM_32"``, ``"FLOAT"``, ``"DOUBLE"``, ``"VORBIS"``...); ``None`` picks
        the container's default. PCM_16 is replaced by the default for OGG.

    Raises
    ------
    AudioError
        NaN/infinite samples, an empty signal, a bad rate or subtype.

    Notebook: ``book/03_signal_processing.ipynb``.
    """
    p = Path(path)
    if isinstance(sr, bool) or not isinstance(sr, (int, np.integer)) or sr <= 0:
        raise AudioError(f"{p}: sample rate must be a positive integer, got {sr!r}")
    arr = np.asarray(y, dtype=np.float64 if subtype == "DOUBLE" else np.float32)
    if arr.ndim not in (1, 2) or arr.shape[0] == 0:
        raise AudioError(f"{p}: expected a non-empty (n,) or (n, channels) signal, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise AudioError(f"{p}: refusing to write NaN or infinite samples")
    if p.suffix.lower() in (".ogg", ".oga") and subtype == "PCM_16":
        subtype = None
    if subtype is not None and subtype not in ("FLOAT", "DOUBLE"):
        arr = np.clip(arr, -1.0, 1.0)
    p.parent.mkdir(parents=True, exist_ok=True)
    try:
        sf.write(str(p), arr, int(sr), subtype=subtype)
    except Exception as e:  # LibsndfileError, ValueError for bad subtype/format
        raise AudioError(f"{p}: cannot write ({e})") from None
    return p


def rms_dbfs(y: np.ndarray) -> float:
    """RMS level in dB relative to full scale (a full-scale sine is -3.01 dBFS).

    Digital silence gives :data:`SILENCE_DBFS` (-200) instead of ``-inf``.

    Notebook: ``book/03_signal_processing.ipynb``.
    """
    arr = np.asarray(y, dtype=np.float64)
    if arr.size == 0:
        raise AudioError("y: empty signal has no level")
    rms = float(np.sqrt(np.mean(arr**2)))
    return max(20.0 * np.log10(rms), SILENCE_DBFS) if rms > 0 else SILENCE_DBFS


def peak_dbfs(y: np.ndarray) -> float:
    """Peak level in dB relative to full scale (-200 for digital silence).

    Notebook: ``book/03_signal_processing.ipynb``.
    """
    arr = np.asarray(y, dtype=np.float64)
    if arr.size == 0:
        raise AudioError("y: empty signal has no level")
    peak = float(np.max(np.abs(arr)))
    return max(20.0 * np.log10(peak), SILENCE_DBFS) if peak > 0 else SILENCE_DBFS


def normalize_level(y: np.ndarray, target_dbfs: float = -20.0, mode: str = "rms") -> np.ndarray:
    """Scale a signal so that its RMS or peak level is ``target_dbfs``.

    Parameters
    ----------
    y : np.ndarray
        The signal.
    target_dbfs : float, default -20.0
        Wanted level in dBFS (must be <= 0 for ``mode="peak"``).
    mode : {"rms", "peak"}, default "rms"
        Which level to set. RMS normalisation of a very peaky signal can push
        peaks above 0 dBFS; they are *not* clipped here (check
        :func:`peak_dbfs`, or clip before saving).

    Returns
    -------
    np.ndarray
        The scaled signal, same dtype (float32 stays float32). Digital silence
        (all zeros) is returned unchanged, never NaN.

    Notebook: ``book/03_signal_processing.ipynb``.
    """
    arr = np.asarray(y)
    if not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float64)
    if arr.size == 0:
        raise AudioError("y: cannot normalise an empty signal")
    if not np.all(np.isfinite(arr)):
        raise AudioError("y: contains NaN or infinite samples")
    if mode not in ("rms", "peak"):
        raise AudioError(f"mode: expected 'rms' or 'peak', got {mode!r}")
    if not np.isfinite(target_dbfs) or (mode == "peak" and target_dbfs > 0):
        raise AudioError(f"target_dbfs: expected a finite level (<= 0 for peak), got {target_dbfs!r}")
    x = arr.astype(np.float64)
    level = float(np.sqrt(np.mean(x**2))) if mode == "rms" else float(np.max(np.abs(x)))
    if level == 0.0:
        return arr.copy()
    gain = 10.0 ** (target_dbfs / 20.0) / level
    return (x * gain).astype(arr.dtype, copy=False)
