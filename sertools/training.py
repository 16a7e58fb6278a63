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
    "FeatureConfig",
    "GlobalNormalizer",
    "SpeakerNormalizer",
    "cache_dir",
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
        return base * (1 + self.deltas)

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
        return np.concatenate(parts, axis=0).T.copy()


def cache_dir() -> Path:
    """The sertools cache folder: ``$SERTOOLS_CACHE`` or ``~/.cache/sertools``."""
    return Path(os.environ.get("SERTOOLS_CACHE") or Path.home() / ".cache" / "sertools")


def _feature_cache_path(path: str, config: FeatureConfig) -> Path | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    key = hashlib.sha1(f"{os.path.abspath(path)}|{st.st_mtime_ns}|{st.st_size}".encode()).hexdigest()
    return cache_dir() / "features" / config.key() / key[:2] / f"{key}.npy"


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
