"""Leak-free training: speaker-independent splits, normalisers, features, Keras training.

Notebook: ``book/07_training_without_leaks.ipynb`` (chapter "Training without leaks").

The cheap parts of this module (splits, normalisers, :class:`FeatureConfig`,
:func:`extract_features`) need only numpy; TensorFlow is imported lazily inside
the functions that train Keras models, so ``import sertools.training`` is fast.

The protocol it enforces:

1. no speaker is in more than one of train / validation / test
   (:func:`speaker_split`, :func:`speaker_kfold`, :func:`leave_one_speaker_out`);
2. normalisation statistics come from the training data only
   (:class:`GlobalNormalizer`, :class:`SpeakerNormalizer`);
3. the epoch / model is selected on the validation set, never on the test set
   (:func:`train_model` monitors validation UAR).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sertools.errors import DataError, SertoolsError

__all__ = [
    "DEFAULT_MODEL",
    "MODEL_KINDS",
    "FeatureConfig",
    "TrainResult",
    "class_weights",
    "crops",
    "default_feature_config",
    "load_data",
    "make_dataset",
    "pad_sequences",
    "predict_proba",
    "set_seed",
    "shard_dataset",
    "spec_augment",
    "train",
    "train_model",
    "write_shards",
    "GlobalNormalizer",
    "SpeakerNormalizer",
    "extract_features",
    "leave_one_speaker_out",
    "speaker_kfold",
    "speaker_split",
]

SPLITS = ("train", "val", "test")


# ---------------------------------------------------------------------------
# Splits
# ---------------------------------------------------------------------------


def _manifest_frame(manifest: Any) -> pd.DataFrame:
    """Accept a DataFrame, or a manifest path / corpus folder (read with sertools.datasets)."""
    if isinstance(manifest, pd.DataFrame):
        df = manifest
    elif isinstance(manifest, (str, os.PathLike)):
        from sertools.datasets import read_manifest

        df = read_manifest(manifest)
    else:
        raise DataError(f"manifest: expected a pandas DataFrame or a path, got {type(manifest).__name__}")
    if "speaker" not in df.columns:
        raise DataError("manifest: missing column 'speaker' (needed for speaker-independent splits)")
    if len(df) == 0:
        raise DataError("manifest: it has no rows")
    if df["speaker"].isna().any():
        raise DataError("manifest: column 'speaker' has empty values")
    return df


def _interleaved_speakers(df: pd.DataFrame, seed: int) -> list[str]:
    """Speakers shuffled within each gender, then interleaved F, M, F, M, ...

    Taking a prefix of this list gives a gender-balanced group of speakers.
    """
    rng = np.random.default_rng(seed)
    speakers = df["speaker"].astype(str)
    if "gender" in df.columns:
        genders = df["gender"].astype(str).str.lower().fillna("unknown")
        by_gender = (
            pd.DataFrame({"speaker": speakers, "gender": genders})
            .drop_duplicates("speaker")
            .groupby("gender")["speaker"]
            .apply(lambda s: sorted(s))
        )
        groups = [list(by_gender[g]) for g in sorted(by_gender.index)]
    else:
        groups = [sorted(speakers.unique())]
    for g in groups:
        rng.shuffle(g)
    # interleave so that every prefix is balanced (larger groups contribute proportionally)
    order: list[str] = []
    positions = []
    for gi, g in enumerate(groups):
        n = len(g)
        positions += [((i + 0.5) / n, gi, i) for i in range(n)]
    positions.sort()
    for _, gi, i in positions:
        order.append(groups[gi][i])
    return order


def speaker_split(
    manifest: pd.DataFrame | str | os.PathLike[str],
    test_fraction: float = 0.25,
    val_fraction: float = 0.15,
    seed: int = 0,
) -> np.ndarray:
    """Assign each row to "train", "val" or "test" with whole speakers per part.

    Speakers (not clips) are drawn at random, balanced by gender where the
    manifest has a ``gender`` column, so that no speaker's voice is in two
    parts. When the manifest has a ``split`` column, it is used as given
    (after checking its values), since a corpus' official split wins.

    Parameters
    ----------
    manifest : DataFrame or path
        Rows with at least ``speaker`` (and optionally ``gender``, ``split``).
    test_fraction, val_fraction : float
        Fractions of the *speakers* held out for test and validation (each part
        gets at least one speaker when its fraction is > 0).
    seed : int
        Seed of the speaker draw.

    Returns
    -------
    np.ndarray of str, shape (n_rows,)
        ``"train"``, ``"val"`` or ``"test"`` per row.

    Raises
    ------
    DataError
        Too few speakers for the requested parts, bad fractions or bad ``split`` values.

    Notebook: ``book/07_training_without_leaks.ipynb``.
    """
    df = _manifest_frame(manifest)
    if "split" in df.columns and df["split"].notna().all():
        split = df["split"].astype(str).str.strip().str.lower().to_numpy()
        bad = sorted(set(split) - set(SPLITS))
        if bad:
            raise DataError(f"manifest: column 'split' has values {bad}; expected train, val or test")
        if not (split == "train").any():
            raise DataError("manifest: column 'split' has no 'train' rows")
        return split.astype(object)
    for name, f in (("test_fraction", test_fraction), ("val_fraction", val_fraction)):
        if not 0.0 <= float(f) < 1.0:
            raise DataError(f"{name}={f}: must be in [0, 1)")
    if test_fraction + val_fraction >= 1.0:
        raise DataError(f"test_fraction + val_fraction = {test_fraction + val_fraction}: must be < 1")
    order = _interleaved_speakers(df, seed)
    n = len(order)
    n_test = max(1, round(test_fraction * n)) if test_fraction > 0 else 0
    n_val = max(1, round(val_fraction * n)) if val_fraction > 0 else 0
    if n_test + n_val >= n:
        raise DataError(
            f"manifest: {n} speakers are too few for {n_test} test + {n_val} validation speakers "
            "and at least one training speaker"
        )
    part = {s: "test" for s in order[:n_test]}
    part.update({s: "val" for s in order[n_test : n_test + n_val]})
    part.update({s: "train" for s in order[n_test + n_val :]})
    return df["speaker"].astype(str).map(part).to_numpy().astype(object)


def speaker_kfold(
    manifest: pd.DataFrame | str | os.PathLike[str], k: int = 5, seed: int = 0
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Speaker-grouped k-fold cross-validation: each speaker is in exactly one test fold.

    Speakers are shuffled (within gender, interleaved) and dealt round-robin to
    the ``k`` folds, so folds have near-equal numbers of speakers and genders.

    Returns
    -------
    list of (train_idx, test_idx)
        Integer row positions, one pair per fold.

    Notebook: ``book/07_training_without_leaks.ipynb``.
    """
    df = _manifest_frame(manifest)
    order = _interleaved_speakers(df, seed)
    if not isinstance(k, (int, np.integer)) or k < 2:
        raise DataError(f"k={k}: need at least 2 folds")
    if k > len(order):
        raise DataError(f"k={k}: more folds than the manifest's {len(order)} speakers")
    fold_of = {s: i % k for i, s in enumerate(order)}
    fold = df["speaker"].astype(str).map(fold_of).to_numpy()
    rows = np.arange(len(df))
    return [(rows[fold != f], rows[fold == f]) for f in range(k)]


def leave_one_speaker_out(
    manifest: pd.DataFrame | str | os.PathLike[str],
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Leave-one-speaker-out folds, one per speaker (in sorted speaker order).

    Returns
    -------
    list of (train_idx, test_idx)
        Integer row positions; the test part of fold ``i`` is every clip of the
        ``i``-th speaker in sorted order.

    Notebook: ``book/07_training_without_leaks.ipynb``.
    """
    df = _manifest_frame(manifest)
    speakers = df["speaker"].astype(str).to_numpy()
    names = sorted(set(speakers))
    if len(names) < 2:
        raise DataError("manifest: leave-one-speaker-out needs at least 2 speakers")
    rows = np.arange(len(df))
    return [(rows[speakers != s], rows[speakers == s]) for s in names]


# ---------------------------------------------------------------------------
# Normalisers
# ---------------------------------------------------------------------------


def _as_frames(X: Any, name: str = "X", rows_as_clips: bool = False) -> tuple[list[np.ndarray], bool]:
    """Return a list of 2-D float arrays (frames x features) and whether the input was a list.

    A 2-D array is one block of rows, or (``rows_as_clips``) one clip per row.
    """
    if isinstance(X, np.ndarray) and X.ndim == 2:
        arrays, is_list = ([r[None, :] for r in X] if rows_as_clips else [X]), False
    elif isinstance(X, np.ndarray) and X.ndim == 1 and X.dtype != object:
        raise DataError(f"{name}: expected 2-D (n, features) or a list of (frames, features) arrays, got 1-D")
    elif isinstance(X, (list, tuple)) or (isinstance(X, np.ndarray) and X.dtype == object):
        arrays, is_list = [np.asarray(a) for a in X], True
        if not arrays:
            raise DataError(f"{name}: empty list")
        arrays = [a[None, :] if a.ndim == 1 else a for a in arrays]
        if any(a.ndim != 2 for a in arrays):
            raise DataError(f"{name}: every item must be a (frames, features) array")
    else:
        raise DataError(f"{name}: expected a 2-D array or a list of 2-D arrays, got {type(X).__name__}")
    d = {a.shape[1] for a in arrays}
    if len(d) != 1:
        raise DataError(f"{name}: items have different numbers of features {sorted(d)}")
    for a in arrays:
        if not np.all(np.isfinite(a)):
            raise DataError(f"{name}: contains NaN or infinite values")
    return arrays, is_list


def _stats(arrays: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    allf = np.concatenate([np.asarray(a, dtype=np.float64) for a in arrays], axis=0)
    if allf.shape[0] == 0:
        raise DataError("normaliser: no frames to fit on")
    mean = allf.mean(axis=0)
    std = allf.std(axis=0)
    std = np.where(std > 1e-8 * max(1.0, float(np.abs(mean).max(initial=0.0))), std, 1.0)
    return mean.astype(np.float32), std.astype(np.float32)


class GlobalNormalizer:
    """Standardise each feature with mean and std of the TRAINING data only.

    Works on a 2-D array ``(n_clips, n_features)`` (utterance functionals) or
    on a list of ``(n_frames, n_features)`` arrays (frame sequences: the
    statistics are per feature over all training frames).

    Notebook: ``book/07_training_without_leaks.ipynb``.
    """

    def __init__(self) -> None:
        self.mean_: np.ndarray | None = None
        self.std_: np.ndarray | None = None

    def fit(self, X: Any) -> GlobalNormalizer:
        """Learn per-feature mean and std from training data ``X``; returns self."""
        arrays, _ = _as_frames(X)
        self.mean_, self.std_ = _stats(arrays)
        return self

    def _check(self, d: int) -> None:
        if self.mean_ is None or self.std_ is None:
            raise SertoolsError("GlobalNormalizer: call fit() on the training data before transform()")
        if d != self.mean_.shape[0]:
            raise DataError(f"X: has {d} features but the normaliser was fitted on {self.mean_.shape[0]}")

    def transform(self, X: Any) -> Any:
        """Standardise ``X`` (same type as given) with the fitted statistics."""
        arrays, is_list = _as_frames(X)
        self._check(arrays[0].shape[1])
        out = [((a - self.mean_) / self.std_).astype(np.float32) for a in arrays]
        return out if is_list else out[0]

    def fit_transform(self, X: Any) -> Any:
        """``fit(X)`` then ``transform(X)``."""
        return self.fit(X).transform(X)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable state (used by :class:`sertools.bundle.ModelBundle`)."""
        self._check(0 if self.mean_ is None else self.mean_.shape[0])
        return {"kind": "global", "mean": self.mean_.tolist(), "std": self.std_.tolist()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> GlobalNormalizer:
        """Inverse of :meth:`to_dict`."""
        obj = cls()
        obj.mean_ = np.asarray(d["mean"], dtype=np.float32)
        obj.std_ = np.asarray(d["std"], dtype=np.float32)
        if obj.mean_.shape != obj.std_.shape or obj.mean_.ndim != 1:
            raise DataError("normaliser: mean and std must be 1-D of the same length")
        return obj


class SpeakerNormalizer:
    """Per-speaker standardisation (speaker normalisation).

    Each clip is standardised with the mean and std of *its own speaker's*
    clips. Training speakers use statistics from their training clips
    (:meth:`fit`). A speaker not seen in ``fit`` (a test speaker) is normalised
    with statistics of its own clips passed to :meth:`transform` (this uses no
    labels, only the unlabelled audio of that speaker, the usual practice), or,
    with ``adapt=False`` or a single clip, with the global training statistics.

    Notebook: ``book/07_training_without_leaks.ipynb``.
    """

    def __init__(self, min_clips: int = 2) -> None:
        self.min_clips = int(min_clips)
        self.global_ = GlobalNormalizer()
        self.speakers_: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def fit(self, X: Any, speakers: Sequence[Any]) -> SpeakerNormalizer:
        """Learn per-speaker (and global fallback) statistics from training data."""
        arrays, _ = _as_frames(X, rows_as_clips=True)
        spk = self._speakers(speakers, len(arrays))
        self.global_.fit(arrays)
        self.speakers_ = {}
        for s in sorted(set(spk)):
            self.speakers_[s] = _stats([a for a, t in zip(arrays, spk, strict=True) if t == s])
        return self

    @staticmethod
    def _speakers(speakers: Sequence[Any], n: int) -> list[str]:
        spk = [str(s) for s in speakers]
        if len(spk) != n:
            raise DataError(f"speakers: has {len(spk)} entries for {n} clips")
        return spk

    def transform(self, X: Any, speakers: Sequence[Any], adapt: bool = True) -> Any:
        """Standardise each clip with its speaker's statistics (see the class doc)."""
        arrays, is_list = _as_frames(X, rows_as_clips=True)
        if self.global_.mean_ is None:
            raise SertoolsError("SpeakerNormalizer: call fit() on the training data before transform()")
        self.global_._check(arrays[0].shape[1])
        spk = self._speakers(speakers, len(arrays))
        stats: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for s in set(spk):
            if s in self.speakers_:
                stats[s] = self.speakers_[s]
            else:
                own = [a for a, t in zip(arrays, spk, strict=True) if t == s]
                if adapt and len(own) >= self.min_clips:
                    stats[s] = _stats(own)
                else:
                    stats[s] = (self.global_.mean_, self.global_.std_)
        out = [((a - stats[s][0]) / stats[s][1]).astype(np.float32) for a, s in zip(arrays, spk, strict=True)]
        if is_list:
            return out
        return np.concatenate(out, axis=0) if len(out) > 1 else out[0]

    def fit_transform(self, X: Any, speakers: Sequence[Any]) -> Any:
        """``fit(X, speakers)`` then ``transform(X, speakers)``."""
        return self.fit(X, speakers).transform(X, speakers)


# ---------------------------------------------------------------------------
# Features
# ---------------------------------------------------------------------------

FEATURE_KINDS = ("functionals", "mfcc", "logmel")


@dataclasses.dataclass(frozen=True)
class FeatureConfig:
    """Which features to compute from a clip, with every setting needed to repeat it.

    Attributes
    ----------
    kind : {"functionals", "mfcc", "logmel"}
        Utterance-level functionals (1-D vector per clip), MFCC frames or
        log-mel frames (``(n_frames, n_features)`` per clip).
    sr : int
        Sample rate the audio is resampled to.
    n_fft, hop_length, n_mels, n_mfcc : int
        Frame settings (librosa names).
    deltas : int
        0, 1 or 2: append first / second time derivatives (frame features only).
    fmin, fmax : float
        Mel filterbank range (``fmax=None`` is ``sr / 2``).
    max_seconds : float or None
        Keep at most the first ``max_seconds`` of each clip (bounds memory).
    pitch : bool
        Frame features only: append two rows per frame from
        :func:`sertools.features.f0`, the pitch in semitones above 100 Hz (0
        when unvoiced) and the voicing flag. Pitch is the strongest prosodic
        cue of arousal and 40 mel bands barely resolve it.

    Notebook: ``book/07_training_without_leaks.ipynb``.
    """

    kind: str = "logmel"
    sr: int = 16000
    n_fft: int = 512
    hop_length: int = 160
    n_mels: int = 40
    n_mfcc: int = 20
    deltas: int = 0
    fmin: float = 0.0
    fmax: float | None = None
    max_seconds: float | None = 4.0
    pitch: bool = False

    def __post_init__(self) -> None:
        if self.kind not in FEATURE_KINDS:
            raise DataError(f"FeatureConfig.kind={self.kind!r}: expected one of {FEATURE_KINDS}")
        for name in ("sr", "n_fft", "hop_length", "n_mels", "n_mfcc"):
            v = getattr(self, name)
            if not isinstance(v, (int, np.integer)) or v <= 0:
                raise DataError(f"FeatureConfig.{name}={v!r}: must be a positive integer")
        if self.deltas not in (0, 1, 2):
            raise DataError(f"FeatureConfig.deltas={self.deltas!r}: must be 0, 1 or 2")
        if self.max_seconds is not None and not self.max_seconds > 0:
            raise DataError(f"FeatureConfig.max_seconds={self.max_seconds!r}: must be > 0 or None")

    @property
    def n_features(self) -> int | None:
        """Features per frame (``None`` for functionals, whose length sertools.features decides)."""
        if self.kind == "functionals":
            return None
        base = self.n_mfcc if self.kind == "mfcc" else self.n_mels
        return base * (1 + self.deltas) + (2 if self.pitch else 0)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable settings."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FeatureConfig:
        """Inverse of :meth:`to_dict` (unknown keys are an error)."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise DataError(f"FeatureConfig: unknown settings {unknown}")
        return cls(**d)

    def key(self) -> str:
        """Short hash of the settings (cache key)."""
        return hashlib.sha1(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()[:16]

    def extract(self, y: np.ndarray, sr: int) -> np.ndarray:
        """Compute the features of one clip.

        Parameters
        ----------
        y : np.ndarray, shape (n_samples,)
            Mono signal.
        sr : int
            Its sample rate (resampled to ``self.sr`` if different).

        Returns
        -------
        np.ndarray, float32
            ``(n_features,)`` for functionals, else ``(n_frames, n_features)``.

        Notebook: ``book/07_training_without_leaks.ipynb``.
        """
        from sertools import features

        y = np.asarray(y, dtype=np.float32)
        if y.ndim != 1 or y.size == 0:
            raise DataError(f"y: expected a non-empty 1-D signal, got shape {y.shape}")
        if not np.all(np.isfinite(y)):
            raise DataError("y: contains NaN or infinite samples")
        if int(sr) != self.sr:
            from sertools.preprocess import resample

            y = np.asarray(resample(y, int(sr), self.sr), dtype=np.float32)
        if self.max_seconds is not None:
            y = y[: int(round(self.max_seconds * self.sr))]
        if self.kind == "functionals":
            return np.asarray(features.functionals(y, self.sr), dtype=np.float32)
        mel_kw: dict[str, Any] = {"n_mels": self.n_mels}
        if self.fmin:
            mel_kw["fmin"] = self.fmin
        if self.fmax is not None:
            mel_kw["fmax"] = self.fmax
        if self.kind == "mfcc":
            M = features.mfcc(
                y=y, sr=self.sr, n_mfcc=self.n_mfcc, n_fft=self.n_fft, hop_length=self.hop_length, **mel_kw
            )
        else:
            S = features.melspectrogram(
                y=y, sr=self.sr, n_fft=self.n_fft, hop_length=self.hop_length, **mel_kw
            )
            M = features.power_to_db(S)
        M = np.asarray(M, dtype=np.float32)
        parts = [M]
        if self.deltas >= 1:
            width = min(9, M.shape[1] if M.shape[1] % 2 == 1 else M.shape[1] - 1)
            if width >= 3:
                parts.append(np.asarray(features.delta(M, width=width, order=1), dtype=np.float32))
                if self.deltas == 2:
                    parts.append(np.asarray(features.delta(M, width=width, order=2), dtype=np.float32))
            else:  # too few frames for a delta window: zeros keep the shape
                parts += [np.zeros_like(M)] * self.deltas
        if self.pitch:
            parts.append(self._pitch_rows(y, M.shape[1]))
        return np.concatenate(parts, axis=0).T.copy()

    def _pitch_rows(self, y: np.ndarray, n_frames: int) -> np.ndarray:
        """(2, n_frames): semitones above 100 Hz where voiced (else 0) and the voicing flag."""
        from sertools import features

        hz, voiced = features.f0(y, self.sr, hop_length=self.hop_length, center=True)
        hz = np.asarray(hz, dtype=np.float64)[:n_frames]
        voiced = np.asarray(voiced, dtype=bool)[:n_frames] & (hz > 0)
        st = np.where(voiced, 12.0 * np.log2(np.maximum(hz, 1e-3) / 100.0), 0.0)
        rows = np.stack([st, voiced.astype(np.float64)]).astype(np.float32)
        if rows.shape[1] < n_frames:
            rows = np.pad(rows, ((0, 0), (0, n_frames - rows.shape[1])))
        return rows


@functools.lru_cache(maxsize=1)
def _code_key() -> str:
    """Hash of the feature code, so that cached features are recomputed when it changes."""
    import sertools
    from sertools import features, preprocess

    h = hashlib.sha1(sertools.__version__.encode())
    for mod in (features, preprocess):
        try:
            h.update(Path(mod.__file__ or "").read_bytes())
        except OSError:
            pass
    return h.hexdigest()[:8]


def _feature_cache_path(path: str, config: FeatureConfig) -> Path | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    from sertools.datasets import cache_dir

    key = hashlib.sha1(f"{os.path.abspath(path)}|{st.st_mtime_ns}|{st.st_size}".encode()).hexdigest()
    return cache_dir() / "features" / f"{config.key()}-{_code_key()}" / key[:2] / f"{key}.npy"


def _extract_one(path: str, config: FeatureConfig, cache: bool) -> np.ndarray:
    from sertools.audio import load

    cp = _feature_cache_path(path, config) if cache else None
    if cp is not None and cp.exists():
        try:
            return np.load(cp, allow_pickle=False)
        except (OSError, ValueError):
            pass  # a torn or corrupt cache entry: recompute it
    y, sr = load(path, sr=config.sr)
    feats = config.extract(y, sr)
    if cp is not None:
        cp.parent.mkdir(parents=True, exist_ok=True)
        tmp = cp.with_suffix(f".{os.getpid()}.{id(feats)}.tmp.npy")
        np.save(tmp, feats)
        os.replace(tmp, cp)  # atomic: concurrent writers never leave a half file
    return feats


def extract_features(
    manifest: pd.DataFrame | str | os.PathLike[str] | Sequence[str],
    config: FeatureConfig | None = None,
    cache: bool = True,
    n_jobs: int = 2,
    progress: bool = True,
) -> list[np.ndarray]:
    """Features of every clip of a manifest, in row order, cached on disk.

    Each clip's features are saved under ``$SERTOOLS_CACHE/features/<config
    hash>/`` keyed by the file's absolute path, modification time and size, so
    a second call (or another notebook) reads them back instead of
    recomputing. Clips are processed in parallel threads with a progress bar.

    Parameters
    ----------
    manifest : DataFrame, manifest path / corpus folder, or list of audio paths
        Rows with a ``path`` column of audio files.
    config : FeatureConfig, optional
        Which features (default: ``FeatureConfig()``, 40 log-mel bands).
    cache : bool
        Read and write the on-disk cache.
    n_jobs : int
        Worker threads.
    progress : bool
        Show a tqdm progress bar.

    Returns
    -------
    list of np.ndarray
        One array per row: ``(n_features,)`` or ``(n_frames, n_features)``.
        For functionals, ``np.stack(result)`` gives the ``(n, d)`` matrix.

    Notebook: ``book/07_training_without_leaks.ipynb``.
    """
    from tqdm.auto import tqdm

    config = config or FeatureConfig()
    if isinstance(manifest, pd.DataFrame) or isinstance(manifest, (str, os.PathLike)):
        df = manifest if isinstance(manifest, pd.DataFrame) else _read(manifest)
        if "path" not in df.columns:
            raise DataError("manifest: missing column 'path'")
        paths = [str(p) for p in df["path"]]
    else:
        paths = [str(p) for p in manifest]
    if n_jobs <= 1 or len(paths) < 4:
        it = (_extract_one(p, config, cache) for p in paths)
        return list(tqdm(it, total=len(paths), desc=f"{config.kind} features", disable=not progress))
    from joblib import Parallel, delayed

    gen = Parallel(n_jobs=n_jobs, prefer="threads", return_as="generator")(
        delayed(_extract_one)(p, config, cache) for p in paths
    )
    return list(tqdm(gen, total=len(paths), desc=f"{config.kind} features", disable=not progress))


def _read(path: str | os.PathLike[str]) -> pd.DataFrame:
    from sertools.datasets import read_manifest

    return read_manifest(path)


# ---------------------------------------------------------------------------
# Variable-length clips: padding, crops
# ---------------------------------------------------------------------------


def pad_sequences(seqs: Sequence[np.ndarray], n_frames: int | None = None, mode: str = "start") -> np.ndarray:
    """Stack ``(frames, features)`` arrays into ``(n, n_frames, features)`` with zero padding.

    Clips longer than ``n_frames`` are cut (``mode="start"`` keeps the
    beginning, ``"center"`` the middle); shorter ones are padded with all-zero
    frames, which the models mask out. ``n_frames=None`` uses the longest clip.

    Notebook: ``book/06_cnn_rnn_keras.ipynb``.
    """
    arrays, _ = _as_frames(list(seqs), "seqs")
    d = arrays[0].shape[1]
    t = max(a.shape[0] for a in arrays) if n_frames is None else int(n_frames)
    if t <= 0:
        raise DataError(f"n_frames={n_frames}: must be positive")
    if mode not in ("start", "center"):
        raise DataError(f"mode={mode!r}: expected 'start' or 'center'")
    out = np.zeros((len(arrays), t, d), dtype=np.float32)
    for i, a in enumerate(arrays):
        off = 0 if (mode == "start" or a.shape[0] <= t) else (a.shape[0] - t) // 2
        seg = a[off : off + t]
        out[i, : seg.shape[0]] = seg
    return out


def crops(seq: np.ndarray, n_frames: int, hop: int | None = None) -> np.ndarray:
    """Overlapping crops ``(k, n_frames, features)`` covering a clip, for test-time averaging.

    A clip shorter than ``n_frames`` gives one zero-padded crop. ``hop``
    defaults to half a crop; the last crop is aligned to the clip's end.

    Notebook: ``book/07_training_without_leaks.ipynb``.
    """
    seq = np.asarray(seq, dtype=np.float32)
    if seq.ndim != 2:
        raise DataError(f"seq: expected (frames, features), got shape {seq.shape}")
    n_frames = int(n_frames)
    hop = max(1, int(hop or n_frames // 2))
    if seq.shape[0] <= n_frames:
        return pad_sequences([seq], n_frames)
    starts = list(range(0, seq.shape[0] - n_frames + 1, hop))
    if starts[-1] != seq.shape[0] - n_frames:
        starts.append(seq.shape[0] - n_frames)
    return np.stack([seq[s : s + n_frames] for s in starts])


def class_weights(y: Sequence[int] | np.ndarray, n_classes: int) -> dict[int, float]:
    """Balanced class weights ``n / (n_classes * count_c)`` (absent classes get weight 0).

    Notebook: ``book/07_training_without_leaks.ipynb``.
    """
    y = np.asarray(y, dtype=int)
    counts = np.bincount(y, minlength=n_classes).astype(float)
    w = np.where(counts > 0, len(y) / (n_classes * np.maximum(counts, 1)), 0.0)
    return {i: float(w[i]) for i in range(n_classes)}


# ---------------------------------------------------------------------------
# TensorFlow parts (imported lazily)
# ---------------------------------------------------------------------------


def set_seed(seed: int = 0, deterministic: bool = True) -> None:
    """Seed Python, numpy, TensorFlow and Keras; optionally make TF ops deterministic.

    ``tf.config.experimental.enable_op_determinism()`` makes two runs with the
    same seed give the same weights (at some cost in speed on GPUs).

    Notebook: ``book/07_training_without_leaks.ipynb``.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(int(seed))
    if deterministic:
        tf.config.experimental.enable_op_determinism()


def get_strategy() -> Any:
    """``tf.distribute.MirroredStrategy`` when more than one GPU is visible, else ``None``.

    Notebook: ``book/07_training_without_leaks.ipynb``.
    """
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    return tf.distribute.MirroredStrategy() if len(gpus) > 1 else None


def spec_augment(x: Any, time_masks: int = 2, time_width: int = 12, freq_masks: int = 2, freq_width: int = 5) -> Any:
    """SpecAugment masks on one ``(frames, features)`` tensor (TensorFlow op, for ``tf.data``).

    Sets ``time_masks`` random runs of up to ``time_width`` frames and
    ``freq_masks`` runs of up to ``freq_width`` features to zero (the
    normalised mean). Randomness follows TensorFlow's seeds (:func:`set_seed`).

    Notebook: ``book/06_cnn_rnn_keras.ipynb``.
    """
    import tensorflow as tf

    t = tf.shape(x)[0]
    f = tf.shape(x)[1]
    keep = tf.ones_like(x)
    for axis, n_masks, width, size in ((0, time_masks, time_width, t), (1, freq_masks, freq_width, f)):
        idx = tf.range(size)
        for _ in range(n_masks):
            w = tf.random.uniform([], 0, width + 1, dtype=tf.int32)
            s = tf.random.uniform([], 0, tf.maximum(size - w, 1), dtype=tf.int32)
            m = tf.cast((idx < s) | (idx >= s + w), x.dtype)
            keep = keep * (m[:, None] if axis == 0 else m[None, :])
    return x * keep


def make_dataset(
    X: np.ndarray,
    y: np.ndarray | None = None,
    batch_size: int = 32,
    shuffle: bool = False,
    seed: int = 0,
    crop_frames: int | None = None,
    lengths: np.ndarray | None = None,
    augment: bool = False,
    cache: bool = True,
) -> Any:
    """A ``tf.data`` pipeline over in-memory features: cache, shuffle, crop, augment, batch, prefetch.

    Parameters
    ----------
    X : np.ndarray
        ``(n, n_frames, features)`` padded sequences or ``(n, features)`` vectors.
    y : np.ndarray of int, optional
        Class indices.
    crop_frames : int, optional
        Random crops of this many frames per example and epoch (sequences only;
        ``lengths`` keeps crops inside the real frames).
    augment : bool
        SpecAugment masks (sequences only, see :func:`spec_augment`).

    Notebook: ``book/07_training_without_leaks.ipynb``.
    """
    import tensorflow as tf

    X = np.asarray(X, dtype=np.float32)
    items: tuple[Any, ...] = (X,)
    if lengths is None and X.ndim == 3:
        lengths = np.full(len(X), X.shape[1], dtype=np.int32)
    if X.ndim == 3:
        items += (np.asarray(lengths, dtype=np.int32),)
    if y is not None:
        items += (np.asarray(y, dtype=np.int32),)
    ds = tf.data.Dataset.from_tensor_slices(items)
    if cache:
        ds = ds.cache()
    if shuffle:
        ds = ds.shuffle(len(X), seed=seed, reshuffle_each_iteration=True)

    @tf.autograph.experimental.do_not_convert  # static Python branches only
    def _map(*t: Any) -> Any:
        x = t[0]
        if X.ndim == 3:
            if crop_frames is not None:
                n = tf.maximum(t[1] - crop_frames, 0)
                off = tf.random.uniform([], 0, n + 1, dtype=tf.int32)
                x = x[off : off + crop_frames]
                x = tf.pad(x, [[0, crop_frames - tf.shape(x)[0]], [0, 0]])
                x.set_shape((crop_frames, X.shape[2]))
            if augment:
                x = spec_augment(x)
        return (x, t[-1]) if y is not None else x

    if shuffle:  # random ops in sequence: reproducible under a seed
        ds = ds.map(_map)
    else:
        ds = ds.map(_map, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def write_shards(
    features: Sequence[np.ndarray], labels: Sequence[int], folder: str | os.PathLike[str], shard_size: int = 256,
    n_frames: int | None = None,
) -> list[Path]:
    """Write padded features and labels to ``.npz`` shards, for corpora larger than memory.

    Notebook: ``book/07_training_without_leaks.ipynb``.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    labels = np.asarray(labels, dtype=np.int32)
    if len(labels) != len(features):
        raise DataError(f"labels: has {len(labels)} entries for {len(features)} feature arrays")
    out = []
    for k, start in enumerate(range(0, len(features), shard_size)):
        chunk = list(features[start : start + shard_size])
        Xc = pad_sequences(chunk, n_frames) if np.asarray(chunk[0]).ndim == 2 else np.stack(chunk).astype(np.float32)
        p = folder / f"shard-{k:05d}.npz"
        np.savez(p, X=Xc, y=labels[start : start + shard_size])
        out.append(p)
    return out


def shard_dataset(
    shards: Sequence[str | os.PathLike[str]], batch_size: int = 32, shuffle: bool = True, seed: int = 0,
    buffer: int = 1024,
) -> Any:
    """Stream ``(x, y)`` batches from shards written by :func:`write_shards`, one shard in memory at a time.

    Notebook: ``book/07_training_without_leaks.ipynb``.
    """
    import tensorflow as tf

    paths = [str(p) for p in shards]
    if not paths:
        raise DataError("shards: no shard files given")
    with np.load(paths[0]) as z:
        x_spec = tf.TensorSpec(shape=(None,) * 0 + z["X"].shape[1:], dtype=tf.float32)

    def gen() -> Any:
        order = np.random.default_rng(seed).permutation(len(paths)) if shuffle else range(len(paths))
        for i in order:
            with np.load(paths[i]) as z:
                yield from zip(z["X"], z["y"], strict=True)

    ds = tf.data.Dataset.from_generator(gen, output_signature=(x_spec, tf.TensorSpec((), tf.int32)))
    if shuffle:
        ds = ds.shuffle(buffer, seed=seed)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def predict_proba(model: Any, X: Any, batch_size: int = 64, crop_frames: int | None = None) -> np.ndarray:
    """Class probabilities of a Keras model, calling it directly (no ``model.predict`` overhead).

    ``X`` is an ``(n, features)`` array, an ``(n, frames, features)`` array or
    a list of ``(frames, features)`` arrays (padded per batch; or, with
    ``crop_frames``, split into crops whose probabilities are averaged).

    Notebook: ``book/06_cnn_rnn_keras.ipynb``.
    """
    if isinstance(X, np.ndarray) and X.ndim in (2, 3) and crop_frames is None:
        batches = [X[i : i + batch_size] for i in range(0, len(X), batch_size)]
        return np.concatenate([np.asarray(model(b.astype(np.float32), training=False)) for b in batches])
    seqs = list(X)
    if crop_frames is not None:
        out = []
        for s in seqs:
            c = crops(s, crop_frames)
            out.append(np.asarray(model(c, training=False)).mean(axis=0))
        return np.stack(out)
    order = np.argsort([len(s) for s in seqs])  # similar lengths together: less padding
    probs = np.zeros((len(seqs), 0), dtype=np.float32)
    parts = {}
    for i in range(0, len(order), batch_size):
        idx = order[i : i + batch_size]
        p = np.asarray(model(pad_sequences([seqs[j] for j in idx]), training=False))
        parts.update({int(j): p[k] for k, j in enumerate(idx)})
    probs = np.stack([parts[i] for i in range(len(seqs))])
    return probs


def _uar(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    from sertools.evaluation import uar

    return float(uar(y_true, y_pred))


def train_model(
    model: Any,
    X_train: Any,
    y_train: np.ndarray,
    X_val: Any,
    y_val: np.ndarray,
    epochs: int = 30,
    batch_size: int = 32,
    learning_rate: float = 1e-3,
    patience: int = 8,
    use_class_weights: bool = True,
    crop_frames: int | None = None,
    augment: bool = False,
    seed: int = 0,
    checkpoint: str | os.PathLike[str] | None = None,
    monitor: dict[str, tuple[Any, np.ndarray]] | None = None,
    progress: bool = True,
    cosine: bool = False,
) -> dict[str, list[float]]:
    """Train a Keras classifier, selecting the epoch by VALIDATION UAR (never test).

    After every epoch a callback computes the unweighted average recall on the
    validation set; the best weights are kept (and saved to ``checkpoint`` if
    given), training stops after ``patience`` epochs without improvement, and
    the best weights are restored at the end.

    Parameters
    ----------
    model : keras.Model
        Uncompiled or compiled; it is (re)compiled with Adam and sparse
        categorical cross-entropy.
    X_train, X_val : arrays or lists of (frames, features) arrays
        Features, already normalised with statistics of the training set.
    y_train, y_val : np.ndarray of int
        Class indices.
    crop_frames : int, optional
        Train on random crops of this many frames (sequences).
    augment : bool
        SpecAugment masks on training sequences.
    cosine : bool
        Cosine learning-rate decay from ``learning_rate`` to 5 % of it over
        ``epochs`` (smoother validation curves at the end).
    monitor : dict, optional
        Extra ``name: (X, y)`` sets whose UAR is *recorded* per epoch as
        ``<name>_uar`` for plots (e.g. to show why selecting on the test set
        is a leak); they never influence training or selection.

    Returns
    -------
    dict
        History: ``loss``, ``val_uar`` (+ ``<name>_uar``) per epoch,
        ``best_epoch`` (1-based) and ``best_val_uar``.

    Notebook: ``book/07_training_without_leaks.ipynb``.
    """
    import keras
    from tqdm.auto import tqdm

    y_train = np.asarray(y_train, dtype=np.int32)
    y_val = np.asarray(y_val, dtype=np.int32)
    n_classes = int(model.output_shape[-1])
    if isinstance(X_train, np.ndarray) and X_train.ndim == 2:
        Xtr, lengths = X_train.astype(np.float32), None
    else:
        seqs = list(X_train)
        lengths = np.array([len(s) for s in seqs], dtype=np.int32)
        t = max(int(lengths.max()), crop_frames or 0)
        Xtr = pad_sequences(seqs, t)
    if len(Xtr) != len(y_train):
        raise DataError(f"y_train: has {len(y_train)} labels for {len(Xtr)} examples")
    ds = make_dataset(Xtr, y_train, batch_size, shuffle=True, seed=seed, crop_frames=crop_frames,
                      lengths=lengths, augment=augment)
    lr: Any = learning_rate
    if cosine:  # decays to 5 % over the epoch budget: late epochs are small, stable steps
        steps = int(np.ceil(len(Xtr) / batch_size)) * int(epochs)
        lr = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=max(steps, 1), alpha=0.05)
    model.compile(optimizer=keras.optimizers.Adam(lr),
                  loss="sparse_categorical_crossentropy", jit_compile=False)

    class _ValUAR(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.best = -1.0
            self.best_epoch = 0
            self.best_weights: list[np.ndarray] | None = None
            self.wait = 0
            self.hist: dict[str, list[float]] = {"loss": [], "val_uar": []}
            self.bar = tqdm(total=epochs, desc=f"training {model.name}", disable=not progress)

        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            logs = logs if logs is not None else {}
            pv = predict_proba(self.model, X_val, batch_size=64)
            score = _uar(y_val, pv.argmax(axis=1))
            logs["val_uar"] = score
            self.hist["loss"].append(float(logs.get("loss", np.nan)))
            self.hist["val_uar"].append(score)
            for name, (Xm, ym) in (monitor or {}).items():
                pm = predict_proba(self.model, Xm, batch_size=64)
                self.hist.setdefault(f"{name}_uar", []).append(_uar(np.asarray(ym), pm.argmax(axis=1)))
            if score > self.best:
                self.best, self.best_epoch, self.wait = score, epoch + 1, 0
                self.best_weights = [w.copy() for w in self.model.get_weights()]
                if checkpoint is not None:
                    self.model.save(checkpoint)
            else:
                self.wait += 1
                if self.wait >= patience:
                    self.model.stop_training = True
            self.bar.update(1)
            self.bar.set_postfix(loss=f"{logs.get('loss', np.nan):.3f}", val_uar=f"{score:.3f}")

        def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
            self.bar.close()
            if self.best_weights is not None:
                self.model.set_weights(self.best_weights)

    cb = _ValUAR()
    cw = class_weights(y_train, n_classes) if use_class_weights else None
    model.fit(ds, epochs=int(epochs), verbose=0, callbacks=[cb], class_weight=cw, shuffle=False)
    hist: dict[str, Any] = dict(cb.hist)
    hist["best_epoch"] = cb.best_epoch
    hist["best_val_uar"] = cb.best
    return hist


# ---------------------------------------------------------------------------
# From a corpus to a saved model
# ---------------------------------------------------------------------------

#: The book's best model (chapter 6 compares them): ``sertools train`` uses it by default.
DEFAULT_MODEL = "crnn"
#: Model types ``train`` accepts.
MODEL_KINDS = ("crnn", "cnn", "cnn2d", "lstm", "mlp", "svm")


def default_feature_config(model: str) -> FeatureConfig:
    """The features each model type is trained on by default.

    ``crnn``/``cnn2d``: 40 log-mel bands (32 ms window, 10 ms hop) + pitch and voicing;
    ``cnn``/``lstm``: 20 MFCCs + deltas + pitch and voicing; ``mlp``/``svm``: utterance functionals.

    Notebook: ``book/06_cnn_rnn_keras.ipynb``.
    """
    if model in ("crnn", "cnn2d"):
        return FeatureConfig(kind="logmel", n_mels=40, pitch=True)
    if model in ("cnn", "lstm"):
        return FeatureConfig(kind="mfcc", n_mfcc=20, n_mels=40, deltas=1, pitch=True)
    if model in ("mlp", "svm"):
        return FeatureConfig(kind="functionals")
    raise DataError(f"model: unknown type {model!r}; expected one of {', '.join(MODEL_KINDS)}")


#: Default number of epochs per model (early stopping on validation UAR usually ends sooner).
DEFAULT_EPOCHS = {"crnn": 24, "cnn": 24, "cnn2d": 24, "lstm": 20, "mlp": 100}


@dataclasses.dataclass
class TrainResult:
    """What :func:`train` returns: the saved-ready bundle, metrics, history and split.

    Notebook: ``book/07_training_without_leaks.ipynb``.
    """

    bundle: Any
    metrics: dict[str, Any]
    history: dict[str, Any]
    split: np.ndarray


def load_data(data: Any) -> pd.DataFrame:
    """A manifest DataFrame from a DataFrame, a manifest CSV, a folder with ``manifest.csv``
    or a recognised corpus folder (RAVDESS, CREMA-D, EmoDB, TESS, SAVEE).

    Notebook: ``book/07_training_without_leaks.ipynb``.
    """
    if isinstance(data, pd.DataFrame):
        return data
    p = Path(data)
    if not p.exists():
        raise DataError(f"{p}: no such file or folder")
    from sertools import datasets

    if p.is_file() or (p / "manifest.csv").is_file():
        return datasets.read_manifest(p)
    loader = getattr(datasets, "load_corpus", None)
    if loader is None:
        raise DataError(f"{p}: no manifest.csv in this folder")
    return loader(p)


def _noisy_copies(
    paths: Sequence[str], config: FeatureConfig, snr_db: float, seed: int, progress: bool
) -> list[np.ndarray]:
    """Features of noise-augmented copies of the given clips (white/pink noise at ``snr_db``)."""
    from tqdm.auto import tqdm

    from sertools.audio import load
    from sertools.preprocess import add_noise

    out = []
    for i, p in enumerate(tqdm(paths, desc=f"noise {snr_db:g} dB", disable=not progress)):
        kind = ("white", "pink")[i % 2]
        noise_seed = seed * 100003 + i
        cp = _feature_cache_path(p, config)
        if cp is not None:
            cp = cp.with_name(f"{cp.stem}-{kind}-{snr_db:g}dB-{noise_seed}.npy")
            if cp.exists():
                try:
                    out.append(np.load(cp, allow_pickle=False))
                    continue
                except (OSError, ValueError):
                    pass
        y, sr = load(p, sr=config.sr)
        try:
            y = add_noise(y, snr_db, kind=kind, rng=noise_seed)
        except SertoolsError:  # a silent clip cannot be mixed at an SNR: keep it clean
            pass
        feats = config.extract(y, sr)
        if cp is not None:
            cp.parent.mkdir(parents=True, exist_ok=True)
            tmp = cp.with_suffix(f".{os.getpid()}.tmp.npy")
            np.save(tmp, feats)
            os.replace(tmp, cp)
        out.append(feats)
    return out


def train(
    data: Any,
    model: str = DEFAULT_MODEL,
    epochs: int | None = None,
    seed: int = 0,
    feature_config: FeatureConfig | None = None,
    split: np.ndarray | None = None,
    batch_size: int = 32,
    learning_rate: float = 2e-3,
    crop_frames: int | None = 200,
    augment: bool = True,
    noise_snr_db: float | None = 20.0,
    patience: int = 15,
    cosine: bool = True,
    deterministic: bool = True,
    progress: bool = True,
    checkpoint: str | os.PathLike[str] | None = None,
) -> TrainResult:
    """Train one model type on a corpus with the leak-free protocol; return a :class:`ModelBundle`.

    1. split by speaker (:func:`speaker_split`, or the manifest's ``split`` column, or ``split``);
    2. features (:func:`extract_features`, cached);
    3. normaliser fitted on the training clips only;
    4. Keras models: :func:`train_model` (validation UAR selects the epoch;
       class weights; random crops + SpecAugment; optional noise copies);
       ``svm``: :func:`sertools.baselines.fit_baseline` (grouped CV on training speakers);
    5. validation and test metrics with :func:`sertools.evaluation.report`
       (the test set is used once, at the end).

    Parameters
    ----------
    data : DataFrame or path
        See :func:`load_data`.
    model : {"crnn", "cnn", "cnn2d", "lstm", "mlp", "svm"}
        Model type (default :data:`DEFAULT_MODEL`).
    epochs : int, optional
        Maximum epochs (default :data:`DEFAULT_EPOCHS`); ignored for ``svm``.
    seed : int
        Seeds the split, the weights, shuffling and augmentation.
    noise_snr_db : float or None
        Keras models: add one noisy copy (white or pink noise at this SNR in dB,
        :func:`sertools.preprocess.add_noise`) of every training clip (default
        20 dB; ``None``: no copies). Validation and test clips stay clean.
    cosine : bool
        Cosine learning-rate decay over the epoch budget (see :func:`train_model`).

    Returns
    -------
    TrainResult
        ``bundle`` (call ``.save(folder)``), ``metrics`` (JSON-ready: ``val_uar``,
        ``test_uar``, the split's speakers, reports, timings), ``history``, ``split``.

    Notebook: ``book/07_training_without_leaks.ipynb``.
    """
    import time

    from sertools.bundle import ModelBundle
    from sertools.datasets import EMOTIONS
    from sertools.evaluation import report

    if model not in MODEL_KINDS:
        raise DataError(f"model: unknown type {model!r}; expected one of {', '.join(MODEL_KINDS)}")
    df = load_data(data).reset_index(drop=True)
    for col in ("path", "emotion", "speaker"):
        if col not in df.columns:
            raise DataError(f"manifest: missing column {col!r}")
    if split is None:
        split_method = "manifest split column" if "split" in df.columns else "speaker hold-out (speaker_split)"
        split = speaker_split(df, seed=seed)
    else:
        split_method = "given"
        split = np.asarray(split, dtype=object)
        if len(split) != len(df):
            raise DataError(f"split: has {len(split)} entries for {len(df)} rows")
    tr, va, te = (np.flatnonzero(split == s) for s in SPLITS)
    if len(tr) > 0 and len(va) == 0:  # e.g. an official train/test split: hold out validation speakers
        sub = df.iloc[tr].drop(columns=["split"], errors="ignore")
        inner = speaker_split(sub, test_fraction=0.0, val_fraction=0.15, seed=seed)
        split = split.copy()
        split[tr[inner == "val"]] = "val"
        split_method += " + validation speakers from the training part"
        tr, va, te = (np.flatnonzero(split == s) for s in SPLITS)
    if len(tr) == 0 or len(va) == 0:
        raise DataError("split: needs training and validation rows")
    emotions = df["emotion"].astype(str).to_numpy()
    present = set(emotions[tr])
    labels = [e for e in EMOTIONS if e in present] + sorted(present - set(EMOTIONS))
    if len(labels) < 2:
        raise DataError(f"manifest: the training speakers have only {len(labels)} emotion(s)")
    unknown = sorted(set(emotions[np.concatenate([va, te])]) - present)
    if unknown:
        raise DataError(f"manifest: emotions {unknown} are in val/test but not in the training speakers")
    index = {lb: i for i, lb in enumerate(labels)}
    y = np.array([index[e] for e in emotions], dtype=np.int32)
    speakers = df["speaker"].astype(str).to_numpy()

    config = feature_config or default_feature_config(model)
    if model in ("mlp", "svm") and config.kind != "functionals":
        raise DataError(f"model {model!r}: needs kind='functionals' features, got {config.kind!r}")
    if model not in ("mlp", "svm") and config.kind == "functionals":
        raise DataError(f"model {model!r}: needs frame features (mfcc or logmel), not functionals")
    t0 = time.perf_counter()
    feats = extract_features(df, config, progress=progress)
    t_feat = time.perf_counter() - t0

    t0 = time.perf_counter()
    hist: dict[str, Any] = {}
    if model == "svm":
        from sertools.baselines import fit_baseline

        X = np.stack(feats)
        est = fit_baseline(X[tr], emotions[tr], speakers[tr], kind="svm", seed=seed, probability=True)
        bundle = ModelBundle(est, [str(c) for c in est.classes_], config, None, kind="svm")
        hist = {"cv_uar": float(getattr(est, "cv_uar_", np.nan)), "best_params": getattr(est, "best_params_", {})}
    else:
        from sertools import models

        set_seed(seed, deterministic=deterministic)
        train_feats = [feats[i] for i in tr]
        train_y = y[tr]
        if noise_snr_db is not None:
            noisy = _noisy_copies([df["path"].iloc[i] for i in tr], config, float(noise_snr_db), seed, progress)
            train_feats, train_y = train_feats + noisy, np.concatenate([train_y, y[tr]])
        val_feats: Any = [feats[i] for i in va]
        if model == "mlp":  # one vector per clip: a (clips, features) matrix
            train_feats, val_feats = np.stack(train_feats), np.stack(val_feats)
        norm = GlobalNormalizer().fit(train_feats)
        Xtr = norm.transform(train_feats)
        Xva = norm.transform(val_feats)
        if model == "mlp":
            shape: tuple[Any, ...] = (Xtr.shape[1],)
            crop = None
        else:
            shape = (None, Xtr[0].shape[1])
            crop = crop_frames
        strategy = get_strategy()
        if strategy is not None:
            with strategy.scope():
                net = models.build(model, shape, len(labels))
        else:
            net = models.build(model, shape, len(labels))
        hist = train_model(
            net, Xtr, train_y, Xva, y[va],
            epochs=int(epochs or DEFAULT_EPOCHS[model]), batch_size=batch_size, learning_rate=learning_rate,
            patience=patience, crop_frames=crop, augment=augment and model != "mlp", seed=seed,
            checkpoint=checkpoint, progress=progress, cosine=cosine,
        )
        bundle = ModelBundle(net, labels, config, norm, kind=model, crop_frames=None)
    t_train = time.perf_counter() - t0

    metrics: dict[str, Any] = {
        "model": model,
        "seed": seed,
        "features": config.to_dict(),
        "split": {
            "method": split_method,
            **{f"{s}_speakers": sorted(set(speakers[idx])) for s, idx in zip(SPLITS, (tr, va, te), strict=True)},
            **{f"n_{s}": int(len(idx)) for s, idx in zip(SPLITS, (tr, va, te), strict=True)},
        },
        "feature_seconds": round(t_feat, 2),
        "train_seconds": round(t_train, 2),
    }
    if "best_epoch" in hist:
        metrics["best_epoch"] = hist["best_epoch"]
        metrics["epochs_run"] = len(hist["val_uar"])
    for name, idx in (("val", va), ("test", te)):
        if len(idx) == 0:
            continue
        probs = bundle.predict_features([feats[i] for i in idx])
        pred = [bundle.labels[k] for k in probs.argmax(axis=1)]
        rep = report(emotions[idx].tolist(), pred, labels=bundle.labels)
        metrics[f"{name}_uar"] = rep["uar"]
        metrics[name] = rep
    bundle.metrics = {k: v for k, v in metrics.items() if k not in ("val", "test")}
    return TrainResult(bundle=bundle, metrics=metrics, history=hist, split=split)
