"""Tests of sertools.bundle.ModelBundle: round trip, prediction, clear errors on bad folders."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

pytest.importorskip("keras")

from sertools import models  # noqa: E402
from sertools.bundle import FORMAT_VERSION, ModelBundle  # noqa: E402
from sertools.errors import BundleError  # noqa: E402
from sertools.training import FeatureConfig, GlobalNormalizer  # noqa: E402

LABELS = ["neutral", "happy", "sad"]


def _tone(f0: float, seconds: float = 1.0, sr: int = 16000) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (0.3 * np.sin(2 * np.pi * f0 * t)).astype(np.float32)


@pytest.fixture
def keras_bundle(rng: np.random.Generator) -> ModelBundle:
    cfg = FeatureConfig(kind="logmel", n_mels=16, n_fft=400, hop_length=160)
    feats = [cfg.extract(_tone(f), 16000) for f in (150, 300, 600)]
    norm = GlobalNormalizer().fit(feats)
    return ModelBundle(models.crnn((None, 16), 3), LABELS, cfg, norm, kind="crnn")


def test_roundtrip_gives_same_probabilities(keras_bundle: ModelBundle, tmp_path) -> None:
    y = _tone(220, 1.5)
    p = keras_bundle.predict_proba(y, 16000)
    assert p.shape == (3,) and abs(p.sum() - 1) < 1e-5
    folder = keras_bundle.save(tmp_path / "model")
    meta = json.loads((folder / "bundle.json").read_text())
    assert meta["format_version"] == FORMAT_VERSION and meta["labels"] == LABELS
    loaded = ModelBundle.load(folder)
    assert loaded.labels == LABELS and loaded.sr == 16000 and loaded.feature_config == keras_bundle.feature_config
    assert np.allclose(loaded.predict_proba(y, 16000), p, atol=1e-5)
    # another sample rate is resampled to the bundle's rate first
    assert loaded.predict_proba(_tone(220, 1.5, 8000), 8000).shape == (3,)


def test_predict_file(keras_bundle: ModelBundle, tmp_path) -> None:
    from sertools.audio import save

    wav = save(tmp_path / "x.wav", _tone(200), 16000)
    out = keras_bundle.predict_file(wav)
    assert out["emotion"] in LABELS and set(out["probabilities"]) == set(LABELS)
    assert out["emotion"] == max(out["probabilities"], key=out["probabilities"].get)


def test_prediction_latency_under_100ms(keras_bundle: ModelBundle) -> None:
    y = _tone(200, 3.0)
    keras_bundle.predict_proba(y, 16000)  # trace once
    t = time.perf_counter()
    for _ in range(5):
        keras_bundle.predict_proba(y, 16000)
    assert (time.perf_counter() - t) / 5 < 0.1


def test_sklearn_bundle_roundtrip(tmp_path, rng: np.random.Generator) -> None:
    from sklearn.linear_model import LogisticRegression

    X = rng.normal(size=(30, 4))
    y = np.array(LABELS * 10)
    est = LogisticRegression().fit(X, y)
    b = ModelBundle(est, list(est.classes_), FeatureConfig(kind="functionals"), None, kind="logreg")
    loaded = ModelBundle.load(b.save(tmp_path / "sk"))
    assert np.allclose(loaded.predict_features(list(X[:3])), est.predict_proba(X[:3]))
    with pytest.raises(BundleError, match="classes"):
        ModelBundle(est, LABELS, FeatureConfig(kind="functionals"))


def test_label_count_must_match_model_outputs(keras_bundle: ModelBundle, tmp_path) -> None:
    with pytest.raises(BundleError, match="3 outputs"):
        ModelBundle(keras_bundle.model, LABELS + ["angry"], keras_bundle.feature_config, keras_bundle.normalizer)
    folder = keras_bundle.save(tmp_path / "m")
    meta = json.loads((folder / "bundle.json").read_text())
    meta["labels"] = LABELS[:2]
    (folder / "bundle.json").write_text(json.dumps(meta))
    with pytest.raises(BundleError, match="3 outputs but the bundle lists 2 labels"):
        ModelBundle.load(folder)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda f: (f / "bundle.json").unlink(), "missing bundle.json"),
        (lambda f: (f / "model.keras").unlink(), "missing model.keras"),
        (lambda f: (f / "bundle.json").write_text("{not json"), "corrupt JSON"),
        (lambda f: (f / "model.keras").write_bytes(b"garbage"), "cannot load the Keras model"),
        (
            lambda f: (f / "bundle.json").write_text(
                json.dumps({**json.loads((f / "bundle.json").read_text()), "format_version": 99})
            ),
            "format version 99",
        ),
        (
            lambda f: (f / "bundle.json").write_text(
                json.dumps({**json.loads((f / "bundle.json").read_text()), "feature_config": {"kind": "x"}})
            ),
            "invalid feature settings",
        ),
    ],
)
def test_damaged_bundle_says_what_is_wrong(keras_bundle: ModelBundle, tmp_path, damage, message: str) -> None:
    folder = keras_bundle.save(tmp_path / "m")
    damage(folder)
    with pytest.raises(BundleError, match=message):
        ModelBundle.load(folder)


def test_not_a_folder(tmp_path) -> None:
    with pytest.raises(BundleError, match="no such model folder"):
        ModelBundle.load(tmp_path / "nope")
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(BundleError, match="not a file"):
        ModelBundle.load(f)
