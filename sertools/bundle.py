"""One saved model artifact: everything ``predict`` needs, in one folder.

Notebook: ``book/09_project.ipynb`` (chapter "End-to-end project"; the
training itself is in ``book/07_training_without_leaks.ipynb``).

A :class:`ModelBundle` folder holds

``bundle.json``
    format name and version, the sertools version, model type, label order,
    the feature settings (:class:`sertools.training.FeatureConfig`, including
    the sample rate), the normaliser's statistics (fitted on training data
    only) and, optionally, the metrics measured when it was trained;
``model.keras``
    a Keras 3 model, loaded with ``safe_mode=True`` (no arbitrary code), or
``model.joblib``
    a scikit-learn estimator (the ``svm`` baseline). This is a pickle:
    loading a pickle can run arbitrary code, so **only load ``.joblib``
    bundles you made yourself or trust**.

The most common complaint about popular SER repositories is that a saved
model cannot predict because the scaler or label encoder was not saved; here
they cannot be separated from the weights.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sertools.errors import BundleError, DataError, SertoolsError
from sertools.training import FeatureConfig, GlobalNormalizer, pad_sequences

__all__ = ["FORMAT", "FORMAT_VERSION", "ModelBundle"]

#: Name written into every ``bundle.json``.
FORMAT = "sertools-model"
#: Version of the folder layout; :meth:`ModelBundle.load` refuses any other.
FORMAT_VERSION = 1

KERAS_FILE = "model.keras"
SKLEARN_FILE = "model.joblib"
META_FILE = "bundle.json"


class ModelBundle:
    """A trained classifier with its feature settings, normaliser and label order.

    Parameters
    ----------
    model : keras.Model or scikit-learn estimator
        Outputs probabilities over ``labels`` (in that order).
    labels : sequence of str
        Emotion of each model output.
    feature_config : FeatureConfig
        How features are computed (sample rate included).
    normalizer : GlobalNormalizer or None
        Training-set statistics applied to features before the model
        (``None`` when the estimator standardises itself, as the SVM pipeline does).
    kind : str
        Model name (``crnn``, ``cnn``, ``lstm``, ``mlp``, ``svm``...).
    crop_frames : int or None
        Sequence models: clips longer than this are split into crops whose
        probabilities are averaged (``None``: the whole clip at once).
    metrics : dict, optional
        Numbers measured at training time (stored in ``bundle.json``).

    Notebook: ``book/09_project.ipynb``.
    """

    def __init__(
        self,
        model: Any,
        labels: Sequence[str],
        feature_config: FeatureConfig,
        normalizer: GlobalNormalizer | None = None,
        kind: str = "keras",
        crop_frames: int | None = None,
        metrics: dict[str, Any] | None = None,
    ) -> None:
        self.model = model
        self.labels = [str(lb) for lb in labels]
        self.feature_config = feature_config
        self.normalizer = normalizer
        self.kind = str(kind)
        self.crop_frames = None if crop_frames is None else int(crop_frames)
        self.metrics = dict(metrics or {})
        self._fn: Any = None
        self._check_consistent()

    # -- properties ---------------------------------------------------------

    @property
    def sr(self) -> int:
        """Sample rate the features expect (audio is resampled to it)."""
        return int(self.feature_config.sr)

    @property
    def config(self) -> FeatureConfig:
        """Alias of :attr:`feature_config`."""
        return self.feature_config

    @property
    def is_keras(self) -> bool:
        """Whether the model is a Keras model (else a scikit-learn estimator)."""
        return hasattr(self.model, "trainable_weights")

    def __repr__(self) -> str:
        return (f"ModelBundle(kind={self.kind!r}, features={self.feature_config.kind!r}, "
                f"sr={self.sr}, labels={self.labels})")

    def _n_outputs(self) -> int | None:
        if self.is_keras:
            return int(self.model.output_shape[-1])
        classes = getattr(self.model, "classes_", None)
        return None if classes is None else len(classes)

    def _check_consistent(self, where: str = "bundle") -> None:
        if len(self.labels) < 2 or len(set(self.labels)) != len(self.labels):
            raise BundleError(f"{where}: labels must be at least 2 distinct names, got {self.labels}")
        n_out = self._n_outputs()
        if n_out is not None and n_out != len(self.labels):
            raise BundleError(
                f"{where}: the model has {n_out} outputs but the bundle lists {len(self.labels)} labels"
            )
        if not self.is_keras:
            classes = getattr(self.model, "classes_", None)
            if classes is not None and [str(c) for c in classes] != self.labels:
                raise BundleError(f"{where}: the estimator's classes {list(classes)} differ from labels {self.labels}")
            if not hasattr(self.model, "predict_proba"):
                raise BundleError(f"{where}: the estimator has no predict_proba (fit the SVM with probability=True)")
        if self.is_keras and self.normalizer is not None and self.normalizer.mean_ is not None:
            d = self.model.input_shape[-1]
            if d is not None and int(d) != self.normalizer.mean_.shape[0]:
                raise BundleError(
                    f"{where}: the model takes {d} features but the normaliser has {self.normalizer.mean_.shape[0]}"
                )

    # -- prediction ---------------------------------------------------------

    def _keras_fn(self) -> Any:
        """A traced ``tf.function`` calling the model (much faster than ``model.predict`` per clip)."""
        if self._fn is None:
            import tensorflow as tf

            shape = tuple(self.model.input_shape)
            spec = tf.TensorSpec(shape=(None,) + shape[1:], dtype=tf.float32)
            model = self.model
            self._fn = tf.function(lambda x: model(x, training=False), input_signature=[spec])
        return self._fn

    def _prepare(self, feats: np.ndarray) -> np.ndarray:
        if self.normalizer is not None:
            feats = self.normalizer.transform(feats if feats.ndim == 2 else feats[None, :])
            feats = np.asarray(feats)
        return feats

    def predict_features(self, features: Sequence[np.ndarray]) -> np.ndarray:
        """Probabilities ``(n, n_labels)`` for already-extracted (not normalised) features.

        Notebook: ``book/09_project.ipynb``.
        """
        features = list(features)
        if not features:
            raise DataError("features: empty list")
        if not self.is_keras:
            X = np.stack([np.asarray(f, dtype=np.float64).ravel() for f in features])
            if self.normalizer is not None:
                X = self.normalizer.transform(X)
            return np.asarray(self.model.predict_proba(X), dtype=np.float64)
        fn = self._keras_fn()
        fixed_t = self.model.input_shape[1] if len(self.model.input_shape) == 3 else None
        out = []
        for f in features:
            x = self._prepare(np.asarray(f, dtype=np.float32))
            if x.ndim == 1 or (x.ndim == 2 and len(self.model.input_shape) == 2):
                batch = x.reshape(1, -1)
            elif fixed_t is not None:
                batch = pad_sequences([x], fixed_t, mode="center")
            elif self.crop_frames is not None and x.shape[0] > self.crop_frames:
                from sertools.training import crops

                batch = crops(x, self.crop_frames)
            else:
                batch = x[None]
            out.append(np.asarray(fn(batch.astype(np.float32))).mean(axis=0))
        return np.stack(out).astype(np.float64)

    def predict_proba(self, y: np.ndarray, sr: int) -> np.ndarray:
        """Probabilities over :attr:`labels` for one signal (resampled if needed).

        Notebook: ``book/09_project.ipynb``.
        """
        feats = self.feature_config.extract(np.asarray(y, dtype=np.float32), int(sr))
        return self.predict_features([feats])[0]

    def predict(self, y: np.ndarray, sr: int) -> str:
        """The most probable emotion of one signal."""
        return self.labels[int(np.argmax(self.predict_proba(y, sr)))]

    def predict_file(self, path: str | os.PathLike[str]) -> dict[str, Any]:
        """``{"path", "emotion", "probabilities": {label: p}}`` for one audio file.

        Notebook: ``book/09_project.ipynb``.
        """
        from sertools.audio import load

        y, sr = load(path, sr=self.sr)
        p = self.predict_proba(y, sr)
        return {
            "path": str(path),
            "emotion": self.labels[int(np.argmax(p))],
            "probabilities": {lb: round(float(v), 6) for lb, v in zip(self.labels, p, strict=True)},
        }

    def evaluate(self, manifest: Any, progress: bool = True) -> dict[str, Any]:
        """Metrics (:func:`sertools.evaluation.report`) of the bundle on every row of a manifest.

        Notebook: ``book/09_project.ipynb``.
        """
        from sertools.evaluation import report
        from sertools.training import extract_features

        df = manifest
        if not hasattr(df, "columns"):
            from sertools.training import _read

            df = _read(manifest)
        unknown = sorted(set(df["emotion"].astype(str)) - set(self.labels))
        if unknown:
            raise DataError(f"manifest: emotions {unknown} are not among the model's labels {self.labels}")
        feats = extract_features(df, self.feature_config, progress=progress)
        probs = self.predict_features(feats)
        pred = [self.labels[i] for i in probs.argmax(axis=1)]
        return report(df["emotion"].astype(str).tolist(), pred, labels=self.labels)

    # -- persistence --------------------------------------------------------

    def save(self, folder: str | os.PathLike[str]) -> Path:
        """Write the bundle into ``folder`` (created; existing bundle files are replaced).

        Notebook: ``book/09_project.ipynb``.
        """
        import sertools

        folder = Path(folder)
        if folder.exists() and not folder.is_dir():
            raise BundleError(f"{folder}: exists and is not a folder")
        folder.mkdir(parents=True, exist_ok=True)
        for stale in (KERAS_FILE, SKLEARN_FILE):
            (folder / stale).unlink(missing_ok=True)
        if self.is_keras:
            model_file = KERAS_FILE
            self.model.save(folder / model_file)
        else:
            import joblib

            model_file = SKLEARN_FILE
            joblib.dump(self.model, folder / model_file)
        meta = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "sertools_version": sertools.__version__,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "kind": self.kind,
            "model_file": model_file,
            "labels": self.labels,
            "sample_rate": self.sr,
            "feature_config": self.feature_config.to_dict(),
            "normalizer": None if self.normalizer is None else self.normalizer.to_dict(),
            "crop_frames": self.crop_frames,
            "metrics": _jsonable(self.metrics),
        }
        tmp = folder / (META_FILE + ".tmp")
        tmp.write_text(json.dumps(meta, indent=2), encoding="utf-8")
        os.replace(tmp, folder / META_FILE)
        return folder

    @classmethod
    def load(cls, folder: str | os.PathLike[str]) -> ModelBundle:
        """Load a bundle folder, checking version and files; :class:`BundleError` says what is wrong.

        Keras models load with ``safe_mode=True``. scikit-learn models are
        pickles (joblib): only load bundles you trust.

        Notebook: ``book/09_project.ipynb``.
        """
        folder = Path(folder)
        if not folder.exists():
            raise BundleError(f"{folder}: no such model folder")
        if not folder.is_dir():
            raise BundleError(f"{folder}: a model is a folder (with {META_FILE}), not a file")
        meta_path = folder / META_FILE
        if not meta_path.is_file():
            raise BundleError(f"{folder}: missing {META_FILE}; not a sertools model folder")
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise BundleError(f"{meta_path}: corrupt JSON ({e})") from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise BundleError(f"{meta_path}: not a sertools model description (format {FORMAT!r} expected)")
        version = meta.get("format_version")
        if version != FORMAT_VERSION:
            raise BundleError(
                f"{meta_path}: format version {version!r} is not supported by this sertools "
                f"(it reads version {FORMAT_VERSION}); retrain or use the matching sertools version"
            )
        missing = [k for k in ("labels", "feature_config", "model_file", "kind") if k not in meta]
        if missing:
            raise BundleError(f"{meta_path}: missing keys {missing}")
        labels = meta["labels"]
        if not isinstance(labels, list) or not all(isinstance(lb, str) for lb in labels):
            raise BundleError(f"{meta_path}: 'labels' must be a list of strings")
        try:
            config = FeatureConfig.from_dict(dict(meta["feature_config"]))
            normalizer = None if meta.get("normalizer") is None else GlobalNormalizer.from_dict(meta["normalizer"])
        except (SertoolsError, TypeError, KeyError, ValueError) as e:
            raise BundleError(f"{meta_path}: invalid feature settings or normaliser ({e})") from None
        if meta.get("sample_rate") not in (None, config.sr):
            raise BundleError(f"{meta_path}: sample_rate {meta['sample_rate']} differs from the features' {config.sr}")
        model_file = meta["model_file"]
        if model_file not in (KERAS_FILE, SKLEARN_FILE):
            raise BundleError(f"{meta_path}: unknown model file {model_file!r}")
        model_path = folder / model_file
        if not model_path.is_file():
            raise BundleError(f"{folder}: missing {model_file} (the model weights)")
        if model_file == KERAS_FILE:
            os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
            import keras

            import sertools.models  # noqa: F401  (registers the custom layers)

            try:
                model = keras.saving.load_model(model_path, safe_mode=True, compile=False)
            except Exception as e:  # corrupt zip, unknown layer, unsafe lambda...
                raise BundleError(f"{model_path}: cannot load the Keras model ({type(e).__name__}: {e})") from None
        else:
            import joblib

            try:
                model = joblib.load(model_path)
            except Exception as e:
                raise BundleError(f"{model_path}: cannot load the scikit-learn model ({type(e).__name__}: {e})") from None
        crop = meta.get("crop_frames")
        try:
            bundle = cls.__new__(cls)
            bundle.model = model
            bundle.labels = list(labels)
            bundle.feature_config = config
            bundle.normalizer = normalizer
            bundle.kind = str(meta["kind"])
            bundle.crop_frames = None if crop is None else int(crop)
            bundle.metrics = dict(meta.get("metrics") or {})
            bundle._fn = None
            bundle._check_consistent(where=str(folder))
        except BundleError:
            raise
        except (TypeError, ValueError) as e:
            raise BundleError(f"{meta_path}: invalid value ({e})") from None
        return bundle


def _jsonable(obj: Any) -> Any:
    """Numbers, lists and dicts as plain JSON types (numpy scalars/arrays converted)."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    return obj
