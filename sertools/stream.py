"""Sliding-window emotion recognition over long recordings and live audio.

A trained model (a :class:`sertools.bundle.ModelBundle`) classifies one clip
at a time. To follow emotion through a conversation, :func:`stream` slides a
window of ``window`` seconds along the signal, moving it by ``hop`` seconds,
and classifies each window:

- it consumes an *iterator of chunks* of any sizes, so the same generator
  serves a file (:func:`stream_file`), an array in memory
  (:func:`stream_signal`) or a live microphone callback loop;
- windows without speech are reported as silent (``voiced: False``) and are
  not classified (voice-activity gating);
- class probabilities are smoothed over time with an exponential moving
  average whose time constant is given in seconds, so that it does not depend
  on the hop;
- the windows cover the whole signal without gaps: full windows start every
  ``hop`` seconds, and when the input ends one last (shorter) window covers
  whatever the full windows have not; a signal shorter than one window gives
  exactly one window.

Each window is a dict, ready to be printed as one JSON line (this is what
``sertools stream MODEL FILE`` does): ``start`` and ``end`` in seconds,
``voiced``, ``emotion`` (``None`` when not classified), ``probabilities``
(smoothed, ``{label: p}``, ``None`` when not classified) and ``raw``
(this window's own probabilities before smoothing).

Notebook: ``book/10_applications.ipynb`` (chapter "Applications").
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from sertools.errors import AudioError, DataError, SertoolsError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "Classifier",
    "chunked",
    "default_vad",
    "emotion_at",
    "flag_sustained",
    "smooth",
    "stream",
    "stream_file",
    "stream_signal",
    "synthetic_conversation",
    "window_bounds",
    "window_features",
]


class Classifier(Protocol):
    """What :func:`stream` needs from a model: ``labels`` and ``predict_proba(y, sr)``.

    :class:`sertools.bundle.ModelBundle` has both.

    Notebook: ``book/10_applications.ipynb``.
    """

    labels: Sequence[str]

    def predict_proba(self, y: np.ndarray, sr: int) -> np.ndarray:  # pragma: no cover - protocol
        ...


def _check_params(sr: int, window: float, hop: float) -> tuple[int, int]:
    """Validate the window settings; return (window, hop) in samples."""
    if not isinstance(sr, (int, np.integer)) or sr <= 0:
        raise SertoolsError(f"sr: must be a positive integer sample rate, got {sr!r}")
    for name, value in (("window", window), ("hop", hop)):
        if not isinstance(value, (int, float, np.floating, np.integer)) or not math.isfinite(value) or value <= 0:
            raise SertoolsError(f"{name}: must be a positive number of seconds, got {value!r}")
    if hop > window:
        raise SertoolsError(
            f"hop: {hop} s is longer than the window ({window} s); the windows would leave gaps"
        )
    win_n = int(round(window * sr))
    hop_n = int(round(hop * sr))
    if hop_n < 1:
        raise SertoolsError(f"hop: {hop} s is shorter than one sample at {sr} Hz")
    return win_n, hop_n


def window_bounds(n_samples: int, sr: int, window: float = 2.0, hop: float = 0.5) -> list[tuple[float, float]]:
    """Start and end times (seconds) of the windows :func:`stream` produces for ``n_samples``.

    Full windows of ``window`` seconds start every ``hop`` seconds while they
    fit; if the last full window ends before the signal does, one shorter
    window starting one hop later runs to the end. A signal shorter than one
    window gives the single window ``(0, duration)``; an empty one gives none.

    Notebook: ``book/10_applications.ipynb``.
    """
    win_n, hop_n = _check_params(sr, window, hop)
    if n_samples < 0:
        raise SertoolsError(f"n_samples: must be >= 0, got {n_samples}")
    bounds: list[tuple[float, float]] = []
    start, last_end = 0, 0
    while start + win_n <= n_samples:
        bounds.append((start / sr, (start + win_n) / sr))
        last_end = start + win_n
        start += hop_n
    if n_samples > last_end:
        bounds.append((start / sr, n_samples / sr))
    return bounds


def default_vad(y: np.ndarray, sr: int, threshold_db: float = -45.0, min_voiced: float = 0.2) -> bool:
    """Is there speech in this window? An energy gate on 25 ms frames.

    The window counts as voiced when at least ``min_voiced`` of its frames
    have an RMS level (:func:`sertools.preprocess.frame_energy_db`) above
    ``threshold_db`` dB re full scale. Unlike
    :func:`sertools.preprocess.speech_mask`, whose threshold is relative to the
    loudest frame of the signal, the threshold is absolute: a window of pure
    background must not count as speech just because it is all there is.

    Notebook: ``book/10_applications.ipynb``.
    """
    from sertools.preprocess import frame_energy_db

    if not math.isfinite(threshold_db):
        raise SertoolsError(f"threshold_db: must be a finite level in dBFS, got {threshold_db!r}")
    if not 0.0 <= min_voiced <= 1.0:
        raise SertoolsError(f"min_voiced: must be a fraction in [0, 1], got {min_voiced!r}")
    if np.asarray(y).size == 0:
        return False
    _, level_db = frame_energy_db(np.asarray(y, dtype=np.float64), sr, frame_ms=25.0, hop_ms=25.0)
    return bool(np.mean(level_db > threshold_db) >= min_voiced)


class _EMA:
    """Exponential moving average with time constant ``smoothing`` s, updated every ``step`` s."""

    def __init__(self, step: float, smoothing: float) -> None:
        if not (isinstance(smoothing, (int, float)) and math.isfinite(smoothing) and smoothing >= 0):
            raise SertoolsError(f"smoothing: must be a time constant >= 0 seconds, got {smoothing!r}")
        self.alpha = 1.0 if smoothing == 0 else 1.0 - math.exp(-step / smoothing)
        self.state: np.ndarray | None = None

    def reset(self) -> None:
        self.state = None

    def update(self, p: np.ndarray) -> np.ndarray:
        self.state = p if self.state is None else self.alpha * p + (1.0 - self.alpha) * self.state
        return self.state


def smooth(
    windows: Sequence[dict[str, Any]], hop: float, smoothing: float = 1.0, reset_on_silence: bool = True
) -> list[dict[str, Any]]:
    """Re-smooth streamed windows with another time constant, from their ``raw`` probabilities.

    Gives what :func:`stream` would have produced with this ``smoothing``
    without classifying again (cheap enough for a slider).

    Notebook: ``book/10_applications.ipynb``.
    """
    if not (isinstance(hop, (int, float)) and math.isfinite(hop) and hop > 0):
        raise SertoolsError(f"hop: must be a positive number of seconds, got {hop!r}")
    ema = _EMA(float(hop), smoothing)
    out = []
    for w in windows:
        w = dict(w)
        raw = w.get("raw")
        if raw is None:
            if not w.get("voiced", False) and reset_on_silence:
                ema.reset()
        else:
            labels = list(raw)
            p = ema.update(np.array([raw[lab] for lab in labels], dtype=np.float64))
            w["probabilities"] = {lab: float(v) for lab, v in zip(labels, p, strict=True)}
            w["emotion"] = labels[int(np.argmax(p))]
        out.append(w)
    return out


def window_features(
    manifest: Any,
    config: Any,
    window: float = 2.0,
    hop: float = 1.0,
    progress: bool = True,
) -> tuple[list[np.ndarray], pd.DataFrame]:
    """Features of every clip of a manifest cut into the windows the stream will see.

    A model that will classify 2-second windows should be trained on
    2-second windows, not on whole clips: the statistics of a functionals
    vector change with the length of the signal. Each clip is cut with
    :func:`window_bounds` (so short clips give one window, and the last
    partial window is kept) and each window gets ``config.extract``.

    Parameters
    ----------
    manifest : DataFrame or path
        Rows with ``path``, ``emotion``, ``speaker`` (see :func:`sertools.training.load_data`).
    config : sertools.training.FeatureConfig
        Feature settings (the bundle's).
    window, hop : float
        Window length and step in seconds.
    progress : bool
        Show a progress bar.

    Returns
    -------
    features : list of np.ndarray
        One feature array per window.
    rows : pandas.DataFrame
        The manifest's columns for each window's clip, plus ``start`` and ``end`` (seconds).

    Notebook: ``book/10_applications.ipynb``.
    """
    from tqdm.auto import tqdm

    from sertools.audio import load
    from sertools.training import load_data

    df = load_data(manifest).reset_index(drop=True)
    feats: list[np.ndarray] = []
    rows: list[dict[str, Any]] = []
    for rec in tqdm(df.to_dict("records"), desc="window features", unit="clip", disable=not progress):
        y, sr = load(rec["path"], sr=config.sr)
        for start, end in window_bounds(y.size, sr, window, hop):
            seg = y[int(round(start * sr)) : int(round(end * sr))]
            feats.append(config.extract(seg, sr))
            rows.append({**rec, "start": start, "end": end})
    import pandas as pd

    return feats, pd.DataFrame(rows)


def _as_chunk(chunk: Any, index: int) -> np.ndarray:
    """A 1-D float32 array from one chunk (2-D (frames, channels) is averaged)."""
    a = np.asarray(chunk, dtype=np.float32)
    if a.ndim == 2:
        a = a.mean(axis=1, dtype=np.float32)
    if a.ndim != 1:
        raise AudioError(f"chunk {index}: expected a 1-D signal or (frames, channels), got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise AudioError(f"chunk {index}: contains NaN or infinite samples")
    return a


def stream(
    bundle: Classifier,
    chunks: Iterable[np.ndarray],
    sr: int,
    window: float = 2.0,
    hop: float = 0.5,
    *,
    smoothing: float = 1.0,
    vad: bool | Callable[[np.ndarray, int], bool] = True,
    reset_on_silence: bool = True,
    min_duration: float = 0.25,
) -> Iterator[dict[str, Any]]:
    """Classify a signal window by window as its chunks arrive.

    Parameters
    ----------
    bundle : ModelBundle or any object with ``labels`` and ``predict_proba(y, sr)``
        The trained model.
    chunks : iterable of np.ndarray
        The signal in pieces of any lengths (1-D, or (frames, channels) which
        is averaged to mono), e.g. blocks from a microphone callback queue.
    sr : int
        Sample rate of the chunks in Hz (the bundle resamples if it needs to).
    window, hop : float, default 2.0 and 0.5
        Window length and step in seconds (``hop <= window``).
    smoothing : float, default 1.0
        Time constant in seconds of the exponential moving average of the
        probabilities: each window's weight is ``1 - exp(-hop / smoothing)``.
        0 turns smoothing off.
    vad : bool or callable, default True
        Voice-activity gate: ``True`` uses :func:`default_vad`, ``False``
        classifies every window, or a function ``(y, sr) -> bool``.
    reset_on_silence : bool, default True
        Forget the smoothed probabilities after a silent window (a new turn
        of the conversation starts afresh).
    min_duration : float, default 0.25
        Windows shorter than this (only possible at the end of the signal)
        are reported but not classified.

    Yields
    ------
    dict
        ``start``, ``end`` (seconds), ``voiced`` (bool), ``emotion`` (str or
        ``None``), ``probabilities`` (smoothed ``{label: p}`` or ``None``),
        ``raw`` (this window's unsmoothed ``{label: p}`` or ``None``).

    Raises
    ------
    SertoolsError
        Bad window settings; :class:`AudioError` for a malformed chunk.

    Notebook: ``book/10_applications.ipynb``.
    """
    win_n, hop_n = _check_params(sr, window, hop)
    gate: Callable[[np.ndarray, int], bool] | None
    if vad is True:
        gate = default_vad
    elif vad is False or vad is None:
        gate = None
    elif callable(vad):
        gate = vad
    else:
        raise SertoolsError(f"vad: must be True, False or a function (y, sr) -> bool, got {vad!r}")
    labels = [str(label) for label in bundle.labels]
    ema = _EMA(hop_n / sr, smoothing)
    min_n = int(round(min_duration * sr))

    def classify(seg: np.ndarray, start: int, end: int) -> dict[str, Any]:
        voiced = True if gate is None else bool(gate(seg, sr))
        out: dict[str, Any] = {"start": start / sr, "end": end / sr, "voiced": voiced,
                               "emotion": None, "probabilities": None, "raw": None}
        if not voiced:
            if reset_on_silence:
                ema.reset()
            return out
        if seg.size < min_n:
            return out
        p = np.asarray(bundle.predict_proba(seg, sr), dtype=np.float64).reshape(-1)
        if p.shape != (len(labels),) or not np.all(np.isfinite(p)):
            raise SertoolsError(
                f"bundle: predict_proba returned {p.shape[0]} values (finite: {bool(np.all(np.isfinite(p)))}) "
                f"for {len(labels)} labels"
            )
        smoothed = ema.update(p)
        out["emotion"] = labels[int(np.argmax(smoothed))]
        out["probabilities"] = {lab: float(v) for lab, v in zip(labels, smoothed, strict=True)}
        out["raw"] = {lab: float(v) for lab, v in zip(labels, p, strict=True)}
        return out

    buf = np.zeros(0, dtype=np.float32)
    buf_off = 0  # absolute index of buf[0]
    total = 0  # samples received so far
    start = 0  # absolute start of the next window
    last_end = 0
    for i, chunk in enumerate(chunks):
        a = _as_chunk(chunk, i)
        if a.size == 0:
            continue
        buf = np.concatenate([buf, a]) if buf.size else a
        total += a.size
        while start + win_n <= total:
            seg = buf[start - buf_off : start - buf_off + win_n]
            yield classify(seg, start, start + win_n)
            last_end = start + win_n
            start += hop_n
            buf = buf[start - buf_off :]
            buf_off = start
    if total > last_end:
        yield classify(buf[start - buf_off : total - buf_off], start, total)


def chunked(y: np.ndarray, size: int) -> Iterator[np.ndarray]:
    """Cut a signal into consecutive blocks of ``size`` samples (the last may be shorter).

    Useful to feed :func:`stream` the way a microphone would.

    Notebook: ``book/10_applications.ipynb``.
    """
    if size < 1:
        raise SertoolsError(f"size: block size must be >= 1 sample, got {size}")
    y = np.asarray(y)
    for i in range(0, y.shape[0], size):
        yield y[i : i + size]


def stream_signal(
    bundle: Classifier,
    y: np.ndarray,
    sr: int,
    window: float = 2.0,
    hop: float = 0.5,
    **kwargs: Any,
) -> list[dict[str, Any]]:
    """All windows of a signal held in memory (see :func:`stream` for the options).

    Notebook: ``book/10_applications.ipynb``.
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise AudioError(f"y: expected a 1-D signal, got shape {y.shape}")
    return list(stream(bundle, [y], sr, window, hop, **kwargs))


def _bundle_sr(bundle: Any, default: int = 16000) -> int:
    """The sample rate a bundle's features expect (falls back to ``default``)."""
    for obj in (bundle, getattr(bundle, "config", None), getattr(bundle, "feature_config", None)):
        sr = getattr(obj, "sr", None)
        if isinstance(sr, (int, np.integer)) and sr > 0:
            return int(sr)
    return default


def stream_file(
    bundle: Classifier,
    path: str | os.PathLike[str],
    window: float = 2.0,
    hop: float = 0.5,
    block: float = 0.5,
    **kwargs: Any,
) -> Iterator[dict[str, Any]]:
    """Stream the windows of an audio file, read at the bundle's sample rate in ``block``-second pieces.

    Notebook: ``book/10_applications.ipynb``.
    """
    from sertools.audio import load

    y, sr = load(path, sr=_bundle_sr(bundle))
    if not (math.isfinite(block) and block > 0):
        raise SertoolsError(f"block: must be a positive number of seconds, got {block!r}")
    yield from stream(bundle, chunked(y, max(1, int(round(block * sr)))), sr, window, hop, **kwargs)


def emotion_at(windows: Sequence[dict[str, Any]], times: np.ndarray | Sequence[float]) -> list[str | None]:
    """The emotion the stream reports at each time: that of the window whose centre is nearest.

    Times before the first or after the last window take the nearest one;
    silent windows give ``None``. This turns the overlapping windows into a
    timeline that can be compared with the truth segment by segment.

    Notebook: ``book/10_applications.ipynb``.
    """
    if not windows:
        raise SertoolsError("windows: empty; nothing was streamed")
    centres = np.array([(w["start"] + w["end"]) / 2 for w in windows])
    t = np.asarray(times, dtype=np.float64).reshape(-1)
    idx = np.searchsorted(centres, t)
    idx = np.clip(idx, 1, len(centres) - 1) if len(centres) > 1 else np.zeros_like(idx)
    if len(centres) > 1:
        left_closer = (t - centres[idx - 1]) <= (centres[idx] - t)
        idx = np.where(left_closer, idx - 1, idx)
    return [windows[i]["emotion"] for i in idx]


def flag_sustained(
    windows: Sequence[dict[str, Any]],
    emotion: str = "angry",
    threshold: float = 0.5,
    min_duration: float = 3.0,
) -> list[tuple[float, float]]:
    """Alerts where the smoothed probability of ``emotion`` stays above ``threshold`` for ``min_duration`` s.

    The call-centre use: flag a caller who has sounded angry for some time,
    not a single loud word. Time is measured in decision time, i.e. at the
    windows' ends, when each decision becomes available. A run of
    consecutive windows whose smoothed probability of ``emotion`` is at
    least ``threshold`` (a silent window breaks the run) is reported as
    ``(start, end)``: the end of its first window (when the emotion was first
    detected) and the end of its last window, if it lasts at least
    ``min_duration`` seconds. A live alarm fires at ``start + min_duration``.

    Notebook: ``book/10_applications.ipynb``.
    """
    if not (0.0 <= threshold <= 1.0):
        raise SertoolsError(f"threshold: must be a probability in [0, 1], got {threshold}")
    if min_duration < 0:
        raise SertoolsError(f"min_duration: must be >= 0 seconds, got {min_duration}")
    alerts: list[tuple[float, float]] = []
    run: tuple[float, float] | None = None
    for w in windows:
        probs = w.get("probabilities")
        if probs is not None and emotion not in probs:
            raise SertoolsError(f"emotion: {emotion!r} is not one of the model's labels {sorted(probs)}")
        hot = probs is not None and probs[emotion] >= threshold
        if hot:
            run = (w["end"], w["end"]) if run is None else (run[0], w["end"])
        else:
            if run is not None and run[1] - run[0] >= min_duration:
                alerts.append(run)
            run = None
    if run is not None and run[1] - run[0] >= min_duration:
        alerts.append(run)
    return alerts


def synthetic_conversation(
    turns: Sequence[tuple[int, str]] | None = None,
    *,
    n_turns: int = 10,
    speakers: Sequence[int] = (100, 101, 102),
    emotions: Sequence[str] = ("neutral", "happy", "sad", "angry"),
    utterances_per_turn: int = 2,
    pause: tuple[float, float] = (0.8, 2.0),
    gap: float = 0.25,
    noise_db: float = -65.0,
    seed: int = 0,
    sr: int = 16000,
    return_tracks: bool = False,
) -> tuple[np.ndarray, pd.DataFrame] | tuple[np.ndarray, pd.DataFrame, dict[str, np.ndarray]]:
    """A long synthetic conversation with known emotions: the test signal for streaming.

    Each turn is one speaker saying ``utterances_per_turn`` utterances
    (:func:`sertools.synth.synthesize`) in one emotion, ``gap`` seconds apart;
    turns are separated by pauses drawn uniformly from ``pause`` seconds. A
    faint pink background noise at ``noise_db`` dBFS runs throughout, so the
    pauses are quiet but not digital silence.

    Parameters
    ----------
    turns : sequence of (speaker index, emotion), optional
        The script. Default: ``n_turns`` turns, speakers taking turns in order
        and emotions drawn at random.
    speakers : sequence of int
        Speaker indices for the default script (:func:`sertools.synth.make_speaker`
        with this ``seed``: pick a seed or indices the model was not trained on).
    emotions : sequence of str
        Emotions the default script draws from.
    utterances_per_turn : int
        Utterances per turn.
    pause, gap : seconds
        Range of the pause between turns; silence between utterances of a turn.
    noise_db : float
        Background level in dBFS (RMS).
    seed : int
        Seeds the script, the voices, the utterances and the noise.
    sr : int
        Sample rate.
    return_tracks : bool
        Also return each speaker's own track (as a call centre records the
        agent and the caller on separate channels).

    Returns
    -------
    y : np.ndarray, float32
        The conversation.
    truth : pandas.DataFrame
        One row per utterance: ``start``, ``end`` (seconds), ``turn``,
        ``speaker``, ``gender``, ``emotion``.
    tracks : dict of str to np.ndarray
        Only with ``return_tracks``: speaker name -> that speaker's utterances
        at their times, silence elsewhere, with the same background noise.

    Notebook: ``book/10_applications.ipynb``.
    """
    import pandas as pd

    from sertools import synth
    from sertools.preprocess import make_noise

    rng = np.random.default_rng([seed, 9])
    if turns is None:
        if n_turns < 1 or not speakers or not emotions:
            raise DataError("n_turns, speakers and emotions: need at least one of each")
        turns = [(int(speakers[i % len(speakers)]), str(rng.choice(list(emotions)))) for i in range(n_turns)]
    turns = list(turns)
    if not turns:
        raise DataError("turns: the script is empty")
    if utterances_per_turn < 1:
        raise DataError(f"utterances_per_turn: must be >= 1, got {utterances_per_turn}")
    lo, hi = pause
    if not (0 <= lo <= hi) or gap < 0:
        raise DataError(f"pause={pause}, gap={gap}: need 0 <= pause[0] <= pause[1] and gap >= 0")
    voices: dict[int, Any] = {}
    pieces: list[np.ndarray] = []
    rows: list[dict[str, Any]] = []
    t = int(round(rng.uniform(lo, hi) * sr))  # start with a pause
    pieces.append(np.zeros(t, dtype=np.float32))
    for k, (spk, emotion) in enumerate(turns):
        if spk not in voices:
            voices[spk] = synth.make_speaker(spk, seed)
        for u in range(utterances_per_turn):
            y = np.asarray(synth.synthesize(voices[spk], emotion, k * utterances_per_turn + u, seed=seed, sr=sr))
            rows.append({"start": t / sr, "end": (t + y.size) / sr, "turn": k, "speaker": voices[spk].name,
                         "gender": voices[spk].gender, "emotion": emotion})
            pieces.append(y.astype(np.float32))
            t += y.size
            g = int(round((gap if u < utterances_per_turn - 1 else rng.uniform(lo, hi)) * sr))
            pieces.append(np.zeros(g, dtype=np.float32))
            t += g
    out = np.concatenate(pieces)
    background = (10 ** (noise_db / 20) * make_noise(out.size, "pink", rng)).astype(np.float32)
    truth = pd.DataFrame(rows)
    if not return_tracks:
        return out + background, truth
    tracks = {}
    for name in truth["speaker"].unique():
        track = background.copy()
        for r in truth[truth["speaker"] == name].itertuples():
            a, b = int(round(r.start * sr)), int(round(r.end * sr))
            track[a:b] += out[a:b]
        tracks[str(name)] = track
    return out + background, truth, tracks
