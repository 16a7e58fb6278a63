"""Tests of sertools.models: shapes, masking, parameter counts, safe-mode save/load."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from sertools import models  # noqa: E402
from sertools.errors import SertoolsError  # noqa: E402

SEQ_MODELS = ["cnn", "cnn2d", "lstm", "crnn"]


@pytest.mark.parametrize("kind", SEQ_MODELS)
def test_sequence_models_give_probabilities_for_any_length(kind: str, rng: np.random.Generator) -> None:
    m = models.build(kind, (None, 24), 5)
    for t in (37, 120):
        p = np.asarray(m(rng.normal(size=(3, t, 24)).astype("float32"), training=False))
        assert p.shape == (3, 5)
        assert np.allclose(p.sum(axis=1), 1.0, atol=1e-5) and np.all(p >= 0)


def test_mlp_shape(rng: np.random.Generator) -> None:
    m = models.mlp((30,), 8)
    assert np.asarray(m(rng.normal(size=(4, 30)).astype("float32"))).shape == (4, 8)


def test_article_cnn_parameter_count_matches_hand_count() -> None:
    d, k = 20, 8
    m = models.article_cnn((None, d), k)
    hand = (5 * d * 256 + 256) + (5 * 256 * 128 + 128) + 2 * (5 * 128 * 128 + 128) + (128 * k + k)
    assert models.count_params(m)["trainable"] == hand
    # with Flatten (the article's choice) the dense layer grows with the clip length
    flat = models.article_cnn((216, d), k, global_pool=False)
    assert models.count_params(flat)["trainable"] == hand - (128 * k + k) + (27 * 128 * k + k)
    with pytest.raises(SertoolsError, match="Flatten"):
        models.article_cnn((None, d), k, global_pool=False)


@pytest.mark.parametrize("kind", ["lstm", "crnn"])
def test_padding_does_not_change_masked_models_much(kind: str, rng: np.random.Generator) -> None:
    m = models.build(kind, (None, 16), 4)
    x = rng.normal(size=(1, 64, 16)).astype("float32")
    padded = np.concatenate([x, np.zeros((1, 64, 16), "float32")], axis=1)
    a = np.asarray(m(x, training=False))
    b = np.asarray(m(padded, training=False))
    # padded frames get zero attention weight; only convolution edge effects remain (crnn)
    assert np.abs(a - b).max() < (1e-5 if kind == "lstm" else 2e-2)


def test_attention_pooling_ignores_masked_frames() -> None:
    layer = models.AttentionPooling(8)
    h = np.random.default_rng(0).normal(size=(2, 5, 3)).astype("float32")
    mask = np.array([[1, 1, 0, 0, 0], [1, 1, 1, 1, 1]], "float32")
    out = np.asarray(layer([h, mask]))
    h2 = h.copy()
    h2[0, 2:] = 1e3  # garbage in masked frames must not leak into the pooled vector
    out2 = np.asarray(layer([h2, mask]))
    assert np.allclose(out[0], out2[0], atol=1e-5)
    assert out.shape == (2, 3)


def test_crnn_saves_and_loads_in_safe_mode(tmp_path, rng: np.random.Generator) -> None:
    m = models.crnn((None, 20), 3)
    x = rng.normal(size=(2, 50, 20)).astype("float32")
    path = tmp_path / "m.keras"
    m.save(path)
    m2 = keras.saving.load_model(path, safe_mode=True, compile=False)
    assert np.allclose(np.asarray(m(x)), np.asarray(m2(x)), atol=1e-6)


def test_bad_arguments() -> None:
    with pytest.raises(SertoolsError, match="unknown kind"):
        models.build("transformer", (None, 10), 3)
    with pytest.raises(SertoolsError, match="n_classes"):
        models.crnn((None, 10), 1)
    with pytest.raises(SertoolsError, match="axes"):
        models.mlp((None, 10), 3)
