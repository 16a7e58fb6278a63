"""Tests of sertools.nn: gradients, losses, optimisers, training loop, Keras equivalence."""

from __future__ import annotations

import os

import numpy as np
import pytest

from sertools import nn
from sertools.errors import DataError, SertoolsError
from sertools.evaluation import uar

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _blobs(rng: np.random.Generator, n_per: int = 40, k: int = 3, d: int = 4, sep: float = 3.0):
    centres = rng.normal(0, sep, size=(k, d))
    X = np.concatenate([c + rng.normal(size=(n_per, d)) for c in centres])
    y = np.repeat(np.arange(k), n_per)
    return X, y


# --- gradient check: every activation x output x weight decay --------------------


@pytest.mark.parametrize("activation", nn.ACTIVATIONS)
@pytest.mark.parametrize("output", nn.OUTPUTS)
@pytest.mark.parametrize("weight_decay", [0.0, 0.05])
def test_gradient_check_every_combination(activation, output, weight_decay, rng):
    X = rng.normal(size=(12, 5))
    n_out = 4 if output == "softmax" else 1
    y = rng.integers(0, 4 if output == "softmax" else 2, size=12)
    net = nn.Network(
        [5, 6, 5, n_out], activation=activation, output=output, weight_decay=weight_decay, seed=3
    )
    # random biases keep ReLU pre-activations away from the kink at exactly 0
    net.set_params([p if p.ndim == 2 else rng.normal(0, 0.5, p.shape) for p in net.params])
    errs = nn.gradient_check(net, X, y)
    assert set(errs) == {"W0", "b0", "W1", "b1", "W2", "b2"}
    assert max(errs.values()) < 1e-6, errs


def test_gradient_check_mixed_activations_and_float32_net(rng):
    X = rng.normal(size=(10, 3))
    y = rng.integers(0, 3, size=10)
    net = nn.Network([3, 5, 4, 3], activation=["tanh", "sigmoid"], dtype=np.float32, seed=0)
    before = net.get_params()
    assert max(nn.gradient_check(net, X, y).values()) < 1e-6
    assert all(p.dtype == np.float32 for p in net.params)
    assert all(np.array_equal(a, b) for a, b in zip(before, net.params, strict=True))


def test_gradient_check_detects_a_wrong_gradient(rng, monkeypatch):
    X = rng.normal(size=(8, 3))
    y = rng.integers(0, 3, size=8)
    net = nn.Network([3, 4, 3], activation="tanh", seed=0)
    # a classic bug: forgetting the activation's derivative in backprop
    monkeypatch.setattr(nn, "activation_grad", lambda name, z, a: np.ones_like(z))
    assert max(nn.gradient_check(net, X, y).values()) > 1e-2


# --- losses -----------------------------------------------------------------------


def test_softmax_cross_entropy_is_stable_for_huge_logits():
    logits = np.array([[1000.0, 0.0, -1000.0], [1000.0, 1000.0, 0.0]])
    loss, grad = nn.softmax_cross_entropy(logits, np.array([1, 0]))
    # row 1: logsumexp = 1000, minus z[1] = 0 -> 1000; row 2: log 2
    assert np.isfinite(loss) and np.isfinite(grad).all()
    assert loss == pytest.approx((1000 + np.log(2)) / 2, rel=1e-12)
    np.testing.assert_allclose(grad, np.array([[1, -1, 0], [-0.5, 0.5, 0]]) / 2, atol=1e-12)
    np.testing.assert_allclose(nn.softmax(logits).sum(axis=1), 1.0)


def test_softmax_cross_entropy_matches_the_textbook_formula(rng):
    from scipy.special import softmax as sp_softmax

    z = rng.normal(size=(6, 4))
    y = rng.integers(0, 4, size=6)
    p = sp_softmax(z, axis=1)
    expected = -np.mean(np.log(p[np.arange(6), y]))
    loss, grad = nn.softmax_cross_entropy(z, y)
    assert loss == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(grad, (p - np.eye(4)[y]) / 6, atol=1e-14)
    np.testing.assert_allclose(nn.softmax(z), p, atol=1e-15)


def test_binary_cross_entropy_stable_and_correct(rng):
    z = np.array([1000.0, -1000.0, 0.0, 2.0])
    y = np.array([0, 0, 1, 1])
    loss, grad = nn.binary_cross_entropy_with_logits(z, y)
    s2 = 1 / (1 + np.exp(-2.0))
    expected = (1000 + 0 + np.log(2) - np.log(s2)) / 4
    assert loss == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(grad, (np.array([1, 0, 0.5, s2]) - y) / 4, atol=1e-12)


# --- optimisers against hand-computed steps ------------------------------------------


def test_sgd_momentum_hand_computed():
    p = np.array([1.0, -2.0])
    opt = nn.SGD(lr=0.1, momentum=0.9)
    opt.step([p], [np.array([0.5, 1.0])])
    # v1 = -0.1 * g1 = [-0.05, -0.1]; p1 = p0 + v1
    np.testing.assert_allclose(p, [0.95, -2.1], atol=1e-15)
    opt.step([p], [np.array([-1.0, 0.0])])
    # v2 = 0.9 v1 - 0.1 g2 = [-0.045 + 0.1, -0.09] = [0.055, -0.09]
    np.testing.assert_allclose(p, [0.95 + 0.055, -2.1 - 0.09], atol=1e-15)


def test_adam_hand_computed():
    p = np.array([1.0])
    opt = nn.Adam(lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8)
    opt.step([p], [np.array([0.5])])
    # m1 = 0.05, v1 = 0.00025; m_hat = 0.5, v_hat = 0.25 -> step = 0.1 * 0.5 / (0.5 + 1e-8)
    assert p[0] == pytest.approx(1 - 0.1 * 0.5 / (0.5 + 1e-8), abs=1e-15)
    p1 = p[0]
    opt.step([p], [np.array([-1.0])])
    m2 = 0.9 * 0.05 + 0.1 * -1.0  # -0.055
    v2 = 0.999 * 0.00025 + 0.001 * 1.0  # 0.00124975
    m_hat, v_hat = m2 / (1 - 0.9**2), v2 / (1 - 0.999**2)
    assert p[0] == pytest.approx(p1 - 0.1 * m_hat / (np.sqrt(v_hat) + 1e-8), abs=1e-15)


# --- training ------------------------------------------------------------------------


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_loss_decreases_on_a_toy_problem(optimizer, rng):
    X, y = _blobs(rng)
    net = nn.Network([4, 16, 3], seed=0, weight_decay=1e-4)
    initial = net.loss(X, y)
    hist = net.fit(X, y, epochs=30, batch_size=16, optimizer=optimizer, lr=0.01, seed=1)
    assert hist["loss"][-1] < 0.3 * initial
    assert hist["loss"][-1] < hist["loss"][0]
    assert uar(y, net.predict(X)) > 0.9
    proba = net.predict_proba(X)
    assert proba.shape == (120, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_binary_network_learns(rng):
    X, y = _blobs(rng, k=2)
    net = nn.Network([4, 8, 1], activation="tanh", output="sigmoid", init="xavier", seed=0)
    net.fit(X, y, epochs=30, lr=0.01)
    assert net.predict_proba(X).shape == (80, 2)
    assert uar(y, net.predict(X)) > 0.9


def test_fit_selects_on_validation_uar_and_restores_best(rng):
    X, y = _blobs(rng, sep=1.0)
    Xv, yv = _blobs(rng, n_per=15, sep=1.0)
    net = nn.Network([4, 32, 3], seed=0)
    hist = net.fit(X, y, Xv, yv, epochs=40, lr=0.05, patience=5, seed=0)
    assert set(hist) == {"epoch", "loss", "train_uar", "val_loss", "val_uar"}
    n_epochs = len(hist["epoch"])
    best = int(np.argmax(hist["val_uar"]))
    # the restored weights are those of the best validation epoch
    assert net.best_epoch_ == hist["epoch"][best]
    assert uar(yv, net.predict(Xv)) == pytest.approx(hist["val_uar"][best])
    # early stopping: stopped `patience` epochs after the best one (or ran to the end)
    assert n_epochs == 40 or n_epochs - net.best_epoch_ == 5


def test_fit_is_deterministic_given_seeds(rng):
    X, y = _blobs(rng)
    a = nn.Network([4, 8, 3], seed=5)
    b = nn.Network([4, 8, 3], seed=5)
    a.fit(X, y, epochs=3, seed=7)
    b.fit(X, y, epochs=3, seed=7)
    assert all(np.array_equal(p, q) for p, q in zip(a.params, b.params, strict=True))


def test_initialisations_have_the_stated_scale():
    g = np.random.default_rng(0)
    w = nn.init_weights(400, 300, "he", g)
    assert w.std() == pytest.approx(np.sqrt(2 / 400), rel=0.02)
    w = nn.init_weights(400, 300, "xavier", g)
    assert np.abs(w).max() <= np.sqrt(6 / 700) and w.std() == pytest.approx(
        np.sqrt(2 / 700), rel=0.02
    )
    assert nn.init_weights(400, 300, "std1", g).std() == pytest.approx(1.0, rel=0.02)


def test_divergence_raises_instead_of_nan(rng):
    X, y = _blobs(rng)
    net = nn.Network([4, 64, 64, 3], init="std1", seed=0)
    with pytest.raises(SertoolsError, match="diverged"):
        net.fit(X * 1e3, y, epochs=50, optimizer="sgd", lr=1e6, momentum=0.9)


# --- errors --------------------------------------------------------------------------


def test_clear_errors_for_bad_inputs(rng):
    net = nn.Network([4, 5, 3])
    X = rng.normal(size=(6, 4))
    y = np.array([0, 1, 2, 0, 1, 2])
    with pytest.raises(DataError, match="has 5 features"):
        net.predict(rng.normal(size=(6, 5)))
    with pytest.raises(DataError, match="2-D"):
        net.predict(np.zeros(4))
    bad = X.copy()
    bad[2, 1] = np.nan
    with pytest.raises(DataError, match="NaN"):
        net.fit(bad, y, epochs=1)
    with pytest.raises(DataError, match="5 labels for 6 rows"):
        net.fit(X, y[:5], epochs=1)
    with pytest.raises(DataError, match="0..2"):
        net.fit(X, y + 1, epochs=1)
    with pytest.raises(DataError, match="encode strings"):
        net.fit(X, np.array(list("abcabc")), epochs=1)
    with pytest.raises(DataError, match="both or neither"):
        net.fit(X, y, X_val=X, epochs=1)
    with pytest.raises(DataError, match="validation set"):
        net.fit(X, y, patience=3, epochs=1)
    with pytest.raises(DataError, match="activation"):
        nn.Network([4, 5, 3], activation="swish")
    with pytest.raises(DataError, match="sigmoid"):
        nn.Network([4, 5, 2], output="sigmoid")
    assert issubclass(DataError, ValueError)


# --- Keras equivalence ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sizes", "activation", "output", "weight_decay"),
    [([6, 8, 5, 4], ["relu", "tanh"], "softmax", 0.01), ([6, 7, 1], ["sigmoid"], "sigmoid", 0.0)],
)
def test_keras_equivalence_outputs_and_gradients(sizes, activation, output, weight_decay, rng):
    import keras
    import tensorflow as tf

    X = rng.normal(size=(16, 6))
    y = rng.integers(0, sizes[-1] if output == "softmax" else 2, size=16)
    net = nn.Network(sizes, activation=activation, output=output, weight_decay=weight_decay, seed=2)
    model = nn.to_keras(net)
    out = model(X).numpy()
    proba = net.predict_proba(X)
    expected = proba if output == "softmax" else proba[:, 1:]
    np.testing.assert_allclose(out, expected, atol=1e-5, rtol=0)

    if output == "softmax":
        keras_loss = keras.losses.SparseCategoricalCrossentropy(dtype="float64")
    else:
        keras_loss = keras.losses.BinaryCrossentropy(dtype="float64")
    with tf.GradientTape() as tape:
        pred = model(X, training=True)
        loss = keras_loss(y if output == "softmax" else y[:, None].astype(float), pred)
        if model.losses:
            loss = loss + tf.add_n(model.losses)
    k_grads = tape.gradient(loss, model.trainable_variables)
    our_loss, our_grads = net.loss_and_grads(X, y)
    assert float(loss) == pytest.approx(our_loss, abs=1e-5)
    assert len(k_grads) == len(our_grads)
    for kg, g in zip(k_grads, our_grads, strict=True):
        np.testing.assert_allclose(kg.numpy(), g, atol=1e-5, rtol=0)

    # and back: Keras weights -> a numpy network with the same outputs
    back = nn.from_keras(model, weight_decay=weight_decay)
    assert back.sizes == net.sizes and back.output == output
    np.testing.assert_allclose(back.predict_proba(X), proba, atol=1e-12)


def test_fit_options_progress_threads_and_optimizer_instances(rng, capsys):
    X, y = _blobs(rng)
    a = nn.Network([4, 8, 3], seed=1)
    b = nn.Network([4, 8, 3], seed=1)
    # one BLAS thread or the library default: the same arithmetic
    a.fit(X, y, X, y, epochs=3, progress=True, optimizer=nn.SGD(lr=0.05, momentum=0.9))
    b.fit(X, y, X, y, epochs=3, n_threads=None, optimizer="sgd", lr=0.05, momentum=0.9)
    assert all(np.allclose(p, q, atol=1e-12) for p, q in zip(a.params, b.params, strict=True))
    with pytest.raises(DataError, match="optimizer instance"):
        a.fit(X, y, epochs=1, optimizer=nn.Adam(), lr=0.1)
    with pytest.raises(DataError, match="patience"):
        a.fit(X, y, X, y, epochs=1, patience=0)
    with pytest.raises(DataError, match="W1 must have shape"):
        a.set_params([p if i != 2 else p[:2] for i, p in enumerate(a.params)])
