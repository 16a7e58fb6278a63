"""A fully connected neural network written in numpy, from first principles.

Everything the chapter derives is here, small enough to read in one sitting:

- :class:`Dense` layers with ReLU / tanh / sigmoid / linear activations,
  He, Xavier (Glorot) or "std-1" initialisation (the source article's choice);
- :func:`softmax`, :func:`log_softmax` and the numerically stable losses
  :func:`softmax_cross_entropy` (log-sum-exp) and
  :func:`binary_cross_entropy_with_logits`, each returning the loss *and* its
  gradient with respect to the logits;
- :class:`Network`: forward pass, backpropagation, L2 weight decay,
  ``predict_proba`` / ``predict`` and a ``fit`` loop with mini-batches,
  validation tracking and early stopping on the **validation** UAR;
- the optimisers :class:`SGD` (with momentum) and :class:`Adam`
  (Kingma & Ba, 2015);
- :func:`gradient_check` (central differences in float64, relative error);
- :func:`to_keras` / :func:`from_keras`, which copy a network to an equivalent
  Keras ``Sequential`` model and back (TensorFlow is imported only inside them).

Labels are integer class indices ``0 .. n_classes-1`` (use
``sklearn.preprocessing.LabelEncoder`` or ``np.unique(..., return_inverse=True)``
for strings). Bad input raises :class:`sertools.errors.DataError` naming the
argument and the reason.

Notebook: ``book/05_nn_from_scratch.ipynb`` (chapter "A neural network from scratch").
"""

from __future__ import annotations

import contextlib
import copy
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from sertools.errors import DataError, SertoolsError

__all__ = [
    "ACTIVATIONS",
    "INITS",
    "SGD",
    "Adam",
    "Dense",
    "Network",
    "activate",
    "activation_grad",
    "binary_cross_entropy_with_logits",
    "from_keras",
    "gradient_check",
    "init_weights",
    "log_softmax",
    "softmax",
    "softmax_cross_entropy",
    "to_keras",
]

#: Activation functions a :class:`Dense` layer can use.
ACTIVATIONS: tuple[str, ...] = ("relu", "tanh", "sigmoid", "linear")
#: Weight initialisations: He (normal, std sqrt(2/fan_in)), Xavier/Glorot
#: (uniform, limit sqrt(6/(fan_in+fan_out))) and the article's std-1 normal.
INITS: tuple[str, ...] = ("he", "xavier", "std1")
#: Output layers: softmax + categorical cross-entropy (K >= 2 classes) or
#: sigmoid + binary cross-entropy (one output unit, two classes).
OUTPUTS: tuple[str, ...] = ("softmax", "sigmoid")


# ---------------------------------------------------------------------------
# activations
# ---------------------------------------------------------------------------


def _sigmoid(z: np.ndarray) -> np.ndarray:
    # 1 / (1 + e^-z) written with tanh: no overflow for large |z|.
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def activate(name: str, z: np.ndarray) -> np.ndarray:
    """Apply the activation ``name`` element-wise to pre-activations ``z``.

    Parameters
    ----------
    name : {"relu", "tanh", "sigmoid", "linear"}
    z : np.ndarray
        Pre-activations, any shape.

    Returns
    -------
    np.ndarray
        ``f(z)``, same shape and dtype as ``z``.

    Notebook: ``book/05_nn_from_scratch.ipynb``.
    """
    if name == "relu":
        return np.maximum(z, 0)
    if name == "tanh":
        return np.tanh(z)
    if name == "sigmoid":
        return _sigmoid(z)
    if name == "linear":
        return z
    raise DataError(f"activation: unknown {name!r}; use one of {ACTIVATIONS}")


def activation_grad(name: str, z: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Derivative ``f'(z)`` of the activation, given ``z`` and ``a = f(z)``.

    ReLU: ``1[z > 0]``; tanh: ``1 - a**2``; sigmoid: ``a (1 - a)``; linear: ``1``.

    Notebook: ``book/05_nn_from_scratch.ipynb``.
    """
    if name == "relu":
        return (z > 0).astype(z.dtype)
    if name == "tanh":
        return 1 - a * a
    if name == "sigmoid":
        return a * (1 - a)
    if name == "linear":
        return np.ones_like(z)
    raise DataError(f"activation: unknown {name!r}; use one of {ACTIVATIONS}")


# ---------------------------------------------------------------------------
# softmax and losses
# ---------------------------------------------------------------------------


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise ``log softmax(z) = z - logsumexp(z)``, stable for huge logits.

    The maximum of each row is subtracted before exponentiating
    (``logsumexp(z) = m + log sum exp(z - m)``), so logits like 1000 do not
    overflow.

    Notebook: ``book/05_nn_from_scratch.ipynb``.
    """
    z = np.asarray(logits)
    m = np.max(z, axis=-1, keepdims=True)
    shifted = z - m
    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax ``exp(z_k) / sum_j exp(z_j)``, computed stably.

    Notebook: ``book/05_nn_from_scratch.ipynb``.
    """
    z = np.asarray(logits)
    e = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def _check_int_labels(y: Any, n: int, n_classes: int, name: str = "y") -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1:
        raise DataError(f"{name}: expected a 1-D array of class indices, got shape {y.shape}")
    if y.shape[0] != n:
        raise DataError(
            f"{name}: {y.shape[0]} labels for {n} rows of inputs; the counts must match"
        )
    if y.dtype.kind not in "iu":
        if y.dtype.kind == "f" and np.all(np.isfinite(y)) and np.all(y == np.round(y)):
            y = y.astype(np.int64)
        elif y.dtype.kind == "b":
            y = y.astype(np.int64)
        else:
            raise DataError(
                f"{name}: labels must be integer class indices 0..{n_classes - 1}, got dtype "
                f"{y.dtype}; encode strings first (e.g. np.unique(labels, return_inverse=True))"
            )
    if n and (y.min() < 0 or y.max() >= n_classes):
        raise DataError(
            f"{name}: class indices must lie in 0..{n_classes - 1} for a network with "
            f"{n_classes} classes, got values {int(y.min())}..{int(y.max())}"
        )
    return y.astype(np.int64, copy=False)


def softmax_cross_entropy(logits: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean categorical cross-entropy of softmax(logits) and its gradient.

    ``L = -(1/N) sum_n log softmax(z_n)[y_n] = (1/N) sum_n (logsumexp(z_n) - z_n[y_n])``,
    and ``dL/dz = (softmax(z) - onehot(y)) / N``.

    Parameters
    ----------
    logits : np.ndarray, shape (N, K)
    y : np.ndarray of int, shape (N,)
        Class indices.

    Returns
    -------
    loss : float
    dlogits : np.ndarray, shape (N, K)

    Notebook: ``book/05_nn_from_scratch.ipynb``.
    """
    z = np.asarray(logits)
    if z.ndim != 2:
        raise DataError(f"logits: expected shape (N, K), got {z.shape}")
    n, k = z.shape
    y = _check_int_labels(y, n, k)
    logp = log_softmax(z)
    rows = np.arange(n)
    loss = float(-np.mean(logp[rows, y]))
    grad = np.exp(logp)
    grad[rows, y] -= 1
    return loss, grad / n


def binary_cross_entropy_with_logits(logits: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean binary cross-entropy of sigmoid(logits) and its gradient.

    ``L = -(1/N) sum_n [y_n log s(z_n) + (1 - y_n) log(1 - s(z_n))]``, evaluated
    as ``max(z, 0) - z y + log(1 + exp(-|z|))`` (no overflow, no ``log 0``);
    ``dL/dz = (s(z) - y) / N``.

    Parameters
    ----------
    logits : np.ndarray, shape (N, 1) or (N,)
    y : np.ndarray of 0/1, shape (N,)

    Notebook: ``book/05_nn_from_scratch.ipynb``.
    """
    z = np.asarray(logits)
    shape = z.shape
    if z.ndim == 2 and z.shape[1] == 1:
        z = z[:, 0]
    if z.ndim != 1:
        raise DataError(f"logits: expected shape (N,) or (N, 1) for a binary loss, got {shape}")
    y = _check_int_labels(y, z.shape[0], 2).astype(z.dtype)
    n = z.shape[0]
    loss = float(np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))))
    grad = (_sigmoid(z) - y) / n
    return loss, grad.reshape(shape)


# ---------------------------------------------------------------------------
# layers and network
# ---------------------------------------------------------------------------


def _rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def init_weights(
    fan_in: int,
    fan_out: int,
    init: str | float,
    rng: np.random.Generator,
    dtype: Any = np.float64,
) -> np.ndarray:
    """Draw a ``(fan_in, fan_out)`` weight matrix.

    ``"he"``: normal, std ``sqrt(2 / fan_in)`` (He et al. 2015, for ReLU);
    ``"xavier"``: uniform on ``+-sqrt(6 / (fan_in + fan_out))`` (Glorot & Bengio
    2010, for tanh/sigmoid; Keras' default); ``"std1"``: standard normal, the
    source article's choice; a float: normal with that standard deviation.

    Notebook: ``book/05_nn_from_scratch.ipynb``.
    """
    if isinstance(init, (int, float)) and not isinstance(init, bool):
        if not np.isfinite(init) or init < 0:
            raise DataError(f"init: a standard deviation must be finite and >= 0, got {init}")
        w = rng.normal(0.0, float(init), size=(fan_in, fan_out))
    elif init == "he":
        w = rng.normal(0.0, np.sqrt(2.0 / fan_in), size=(fan_in, fan_out))
    elif init == "xavier":
        lim = np.sqrt(6.0 / (fan_in + fan_out))
        w = rng.uniform(-lim, lim, size=(fan_in, fan_out))
    elif init == "std1":
        w = rng.normal(0.0, 1.0, size=(fan_in, fan_out))
    else:
        raise DataError(f"init: unknown {init!r}; use one of {INITS} or a standard deviation")
    return w.astype(dtype)


@dataclass
class Dense:
    """A fully connected layer ``A = f(X W + b)``.

    Attributes
    ----------
    W : np.ndarray, shape (n_in, n_out)
    b : np.ndarray, shape (n_out,)
    activation : str
        One of :data:`ACTIVATIONS`.

    Notebook: ``book/05_nn_from_scratch.ipynb``.
    """

    W: np.ndarray
    b: np.ndarray
    activation: str = "relu"

    def __post_init__(self) -> None:
        if self.activation not in ACTIVATIONS:
            raise DataError(f"activation: unknown {self.activation!r}; use one of {ACTIVATIONS}")
        if self.W.ndim != 2 or self.b.shape != (self.W.shape[1],):
            raise DataError(
                f"Dense: W must be (n_in, n_out) and b (n_out,), got {self.W.shape} and {self.b.shape}"
            )

    @property
    def n_in(self) -> int:
        return int(self.W.shape[0])

    @property
    def n_out(self) -> int:
        return int(self.W.shape[1])

    def forward(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(Z, A)``: pre-activations ``X W + b`` (N, n_out) and ``A = f(Z)``.

        Notebook: ``book/05_nn_from_scratch.ipynb``.
        """
        Z = X @ self.W + self.b
        return Z, activate(self.activation, Z)

    def backward(
        self, X: np.ndarray, Z: np.ndarray, A: np.ndarray, dA: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Backpropagate ``dL/dA`` (N, n_out) through the layer.

        Returns ``(dX, dW, db)``: ``dZ = dA * f'(Z)``; ``dW = X^T dZ`` (n_in, n_out);
        ``db = sum_n dZ`` (n_out,); ``dX = dZ W^T`` (N, n_in).

        Notebook: ``book/05_nn_from_scratch.ipynb``.
        """
        dZ = dA * activation_grad(self.activation, Z, A)
        return dZ @ self.W.T, X.T @ dZ, dZ.sum(axis=0)


class Network:
    """A multi-layer perceptron: hidden :class:`Dense` layers, then a linear output layer.

    The output layer produces logits; the loss applies softmax + categorical
    cross-entropy (``output="softmax"``, ``sizes[-1] = K >= 2`` classes) or
    sigmoid + binary cross-entropy (``output="sigmoid"``, ``sizes[-1] = 1``).

    Parameters
    ----------
    sizes : sequence of int
        Layer widths ``[n_features, hidden_1, ..., n_outputs]``.
    activation : str or sequence of str
        Hidden-layer activation(s), one name or one per hidden layer.
    output : {"softmax", "sigmoid"}
    init : {"he", "xavier", "std1"} or float
        Weight initialisation (see :func:`init_weights`); biases start at 0.
    weight_decay : float
        L2 penalty ``weight_decay / 2 * sum ||W||^2`` added to the loss (weights
        only, not biases), i.e. ``weight_decay * W`` added to each weight gradient.
    seed : int or np.random.Generator
        Seed of the initialisation.
    dtype : numpy float dtype
        float64 (default, exact gradient checks) or float32.

    Notebook: ``book/05_nn_from_scratch.ipynb``.
    """

    def __init__(
        self,
        sizes: Sequence[int],
        activation: str | Sequence[str] = "relu",
        output: str = "softmax",
        init: str | float = "he",
        weight_decay: float = 0.0,
        seed: int | np.random.Generator | None = 0,
        dtype: Any = np.float64,
    ) -> None:
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2 or min(sizes) < 1:
            raise DataError(
                f"sizes: need [n_features, ..., n_outputs] with every width >= 1, got {sizes}"
            )
        if output not in OUTPUTS:
            raise DataError(f"output: unknown {output!r}; use one of {OUTPUTS}")
        if output == "softmax" and sizes[-1] < 2:
            raise DataError(
                f"sizes: a softmax output needs >= 2 units, got {sizes[-1]} (use output='sigmoid')"
            )
        if output == "sigmoid" and sizes[-1] != 1:
            raise DataError(f"sizes: a sigmoid (binary) output has exactly 1 unit, got {sizes[-1]}")
        if not np.isfinite(weight_decay) or weight_decay < 0:
            raise DataError(f"weight_decay: must be finite and >= 0, got {weight_decay}")
        self.dtype = np.dtype(dtype)
        if self.dtype.kind != "f":
            raise DataError(f"dtype: must be a float dtype, got {self.dtype}")
        n_hidden = len(sizes) - 2
        acts = [activation] * n_hidden if isinstance(activation, str) else list(activation)
        if len(acts) != n_hidden:
            raise DataError(f"activation: {len(acts)} names for {n_hidden} hidden layers")
        rng = _rng(seed)
        self.output = output
        self.weight_decay = float(weight_decay)
        self.layers: list[Dense] = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            act = acts[i] if i < n_hidden else "linear"
            if act not in ACTIVATIONS:
                raise DataError(f"activation: unknown {act!r}; use one of {ACTIVATIONS}")
            self.layers.append(
                Dense(init_weights(a, b, init, rng, self.dtype), np.zeros(b, self.dtype), act)
            )
        self.history_: dict[str, list[float]] = {}
        self.best_epoch_: int | None = None

    # -- structure --------------------------------------------------------

    @property
    def sizes(self) -> list[int]:
        """Layer widths ``[n_features, hidden..., n_outputs]``."""
        return [self.layers[0].n_in] + [layer.n_out for layer in self.layers]

    @property
    def n_classes(self) -> int:
        """Number of classes (2 for a sigmoid output)."""
        return 2 if self.output == "sigmoid" else self.layers[-1].n_out

    @property
    def params(self) -> list[np.ndarray]:
        """The parameter arrays ``[W0, b0, W1, b1, ...]`` (views, not copies)."""
        return [p for layer in self.layers for p in (layer.W, layer.b)]

    @property
    def param_names(self) -> list[str]:
        """Names matching :attr:`params`: ``["W0", "b0", "W1", ...]``."""
        return [f"{k}{i}" for i in range(len(self.layers)) for k in ("W", "b")]

    def get_params(self) -> list[np.ndarray]:
        """Copies of :attr:`params`.

        Notebook: ``book/05_nn_from_scratch.ipynb``.
        """
        return [p.copy() for p in self.params]

    def set_params(self, params: Sequence[np.ndarray]) -> None:
        """Overwrite the parameters with ``params`` (same order and shapes as :attr:`params`).

        Notebook: ``book/05_nn_from_scratch.ipynb``.
        """
        params = list(params)
        if len(params) != len(self.params):
            raise DataError(f"params: expected {len(self.params)} arrays, got {len(params)}")
        for name, old, new in zip(self.param_names, self.params, params, strict=True):
            new = np.asarray(new)
            if new.shape != old.shape:
                raise DataError(f"params: {name} must have shape {old.shape}, got {new.shape}")
            old[...] = new

    def copy(self) -> Network:
        """A deep copy (weights, history).

        Notebook: ``book/05_nn_from_scratch.ipynb``.
        """
        return copy.deepcopy(self)

    def astype(self, dtype: Any) -> Network:
        """A copy of the network whose parameters have ``dtype``.

        Notebook: ``book/05_nn_from_scratch.ipynb``.
        """
        net = self.copy()
        net.dtype = np.dtype(dtype)
        for layer in net.layers:
            layer.W = layer.W.astype(net.dtype)
            layer.b = layer.b.astype(net.dtype)
        return net

    def __repr__(self) -> str:
        acts = [layer.activation for layer in self.layers[:-1]]
        return f"Network(sizes={self.sizes}, activation={acts}, output={self.output!r}, dtype={self.dtype})"

    # -- forward / backward -----------------------------------------------

    def _check_X(self, X: Any, name: str = "X") -> np.ndarray:
        X = np.asarray(X)
        if X.ndim != 2:
            raise DataError(
                f"{name}: expected a 2-D array (n_samples, n_features), got shape {X.shape}"
            )
        if X.shape[1] != self.layers[0].n_in:
            raise DataError(
                f"{name}: has {X.shape[1]} features but the network's input layer expects {self.layers[0].n_in}"
            )
        if X.dtype.kind not in "fiub":
            raise DataError(f"{name}: expected numbers, got dtype {X.dtype}")
        X = X.astype(self.dtype, copy=False)
        if not np.all(np.isfinite(X)):
            bad = int(np.sum(~np.all(np.isfinite(X), axis=1)))
            raise DataError(f"{name}: {bad} rows contain NaN or infinite values")
        return X

    def _forward(self, X: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Forward pass keeping the cache: inputs A_l of each layer and pre-activations Z_l."""
        inputs, zs = [], []
        A = X
        for layer in self.layers:
            inputs.append(A)
            Z, A = layer.forward(A)
            zs.append(Z)
        inputs.append(A)  # the logits (output layer is linear)
        return inputs, zs

    def forward(self, X: np.ndarray) -> np.ndarray:
        """The logits, shape (N, n_outputs).

        Notebook: ``book/05_nn_from_scratch.ipynb``.
        """
        return self._forward(self._check_X(X))[0][-1]

    def activations(self, X: np.ndarray) -> list[np.ndarray]:
        """Outputs of every layer ``[A_1, ..., A_L]`` (the last one is the logits).

        Used to look at what the initialisation does to each layer.

        Notebook: ``book/05_nn_from_scratch.ipynb``.
        """
        return self._forward(self._check_X(X))[0][1:]

    def _data_loss(self, logits: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        if self.output == "softmax":
            return softmax_cross_entropy(logits, y)
        return binary_cross_entropy_with_logits(logits, y)

    def _penalty(self) -> float:
        if not self.weight_decay:
            return 0.0
        return (
            0.5 * self.weight_decay * float(sum(np.sum(layer.W * layer.W) for layer in self.layers))
        )

    def loss(self, X: np.ndarray, y: np.ndarray) -> float:
        """Mean cross-entropy on ``(X, y)`` plus the L2 penalty.

        Notebook: ``book/05_nn_from_scratch.ipynb``.
        """
        X = self._check_X(X)
        y = _check_int_labels(y, X.shape[0], self.n_classes)
        return self._data_loss(self.forward(X), y)[0] + self._penalty()

    def loss_and_grads(self, X: np.ndarray, y: np.ndarray) -> tuple[float, list[np.ndarray]]:
        """Loss and its gradient for every parameter, by backpropagation.

        Returns ``(loss, [dW0, db0, dW1, db1, ...])`` in the order of :attr:`params`.

        Notebook: ``book/05_nn_from_scratch.ipynb``.
        """
        X = self._check_X(X)
        y = _check_int_labels(y, X.shape[0], self.n_classes)
        return self._loss_and_grads(X, y)

    def _loss_and_grads(self, X: np.ndarray, y: np.ndarray) -> tuple[float, list[np.ndarray]]:
        inputs, zs = self._forward(X)
        loss, dA = self._data_loss(inputs[-1], y)
        grads: list[np.ndarray] = []
        for i in range(len(self.layers) - 1, -1, -1):
            layer = self.layers[i]
            dA, dW, db = layer.backward(inputs[i], zs[i], inputs[i + 1], dA)
            if self.weight_decay:
                dW = dW + self.weight_decay * layer.W
            grads = [dW, db, *grads]
        return loss + self._penalty(), grads

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities, shape (N, n_classes); rows sum to 1.

        Notebook: ``book/05_nn_from_scratch.ipynb``.
        """
        logits = self.forward(X)
        if self.output == "softmax":
            return softmax(logits)
        p = _sigmoid(logits[:, 0])
        return np.stack([1 - p, p], axis=1)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Most probable class index per row, shape (N,).

        Notebook: ``book/05_nn_from_scratch.ipynb``.
        """
        return np.argmax(self.predict_proba(X), axis=1)

    # -- training -----------------------------------------------------------

    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        X_val: np.ndarray | None = None,
        y_val: np.ndarray | None = None,
        *,
        epochs: int = 100,
        batch_size: int = 32,
        optimizer: str | SGD | Adam = "adam",
        lr: float | None = None,
        momentum: float = 0.9,
        patience: int | None = None,
        restore_best: bool = True,
        seed: int | np.random.Generator | None = 0,
        progress: bool = False,
        n_threads: int | None = 1,
    ) -> dict[str, list[float]]:
        """Train with mini-batch gradient descent; track the validation set every epoch.

        Each epoch shuffles the training rows (with ``seed``), takes one
        optimiser step per mini-batch, then records the mean training loss, the
        training UAR and (when ``X_val`` is given) the validation loss and UAR.
        Model selection uses the **validation UAR only** (ties broken by lower
        validation loss): with ``restore_best`` the weights of the best epoch are
        put back at the end, and with ``patience`` training stops once the
        validation UAR has not improved for that many epochs. The test set is
        never passed here.

        Parameters
        ----------
        X, y : training features (N, n_features) and class indices (N,)
        X_val, y_val : validation features and class indices (both or neither)
        epochs : int
            Maximum number of passes over the training data.
        batch_size : int
        optimizer : {"adam", "sgd"} or an :class:`Adam` / :class:`SGD` instance
        lr : float, optional
            Learning rate of a named optimiser (default 1e-3 for Adam, 1e-2 for SGD).
        momentum : float
            Momentum of ``optimizer="sgd"``.
        patience : int, optional
            Early-stopping patience in epochs (needs a validation set).
        restore_best : bool
            Restore the weights of the best validation epoch.
        seed : int or np.random.Generator
            Seed of the mini-batch shuffling.
        progress : bool
            Show a tqdm progress bar with the current losses.
        n_threads : int or None
            BLAS threads while training (via ``threadpoolctl``). The default 1
            is fastest for the small matrices of this chapter, and much faster
            on a busy machine; ``None`` keeps the library's default.

        Returns
        -------
        dict
            History with lists ``epoch``, ``loss``, ``train_uar`` and, with a
            validation set, ``val_loss`` and ``val_uar`` (also kept in
            ``self.history_``; the best epoch is ``self.best_epoch_``).

        Raises
        ------
        DataError
            Bad shapes, labels or non-finite inputs.
        SertoolsError
            The loss became NaN or infinite (learning rate too large).

        Notebook: ``book/05_nn_from_scratch.ipynb``.
        """
        X = self._check_X(X, "X")
        y = _check_int_labels(y, X.shape[0], self.n_classes, "y")
        if X.shape[0] == 0:
            raise DataError("X: no training rows")
        if (X_val is None) != (y_val is None):
            raise DataError("X_val, y_val: give both or neither")
        has_val = X_val is not None
        if has_val:
            X_val = self._check_X(X_val, "X_val")
            y_val = _check_int_labels(y_val, X_val.shape[0], self.n_classes, "y_val")
            if X_val.shape[0] == 0:
                raise DataError("X_val: no validation rows")
        if patience is not None and int(patience) < 1:
            raise DataError(f"patience: must be >= 1 epoch, got {patience}")
        if patience is not None and not has_val:
            raise DataError("patience: early stopping needs a validation set (X_val, y_val)")
        if int(epochs) < 1 or int(batch_size) < 1:
            raise DataError(f"epochs and batch_size must be >= 1, got {epochs} and {batch_size}")
        # UAR is the evaluation chapter's metric (sklearn's balanced accuracy);
        # imported here so that ``import sertools.nn`` needs numpy only.
        from sertools.evaluation import uar

        if n_threads is not None and int(n_threads) < 1:
            raise DataError(f"n_threads: must be >= 1 or None, got {n_threads}")
        opt = _make_optimizer(optimizer, lr, momentum)
        if n_threads is None:
            limit: contextlib.AbstractContextManager[Any] = contextlib.nullcontext()
        else:
            from threadpoolctl import threadpool_limits  # installed with scikit-learn

            limit = threadpool_limits(limits=int(n_threads), user_api="blas")
        with limit:
            return self._fit(
                X, y, X_val, y_val, int(epochs), int(batch_size), opt, patience,
                restore_best, _rng(seed), progress, uar,
            )

    def _fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        X_val: np.ndarray | None,
        y_val: np.ndarray | None,
        epochs: int,
        batch_size: int,
        opt: SGD | Adam,
        patience: int | None,
        restore_best: bool,
        rng: np.random.Generator,
        progress: bool,
        uar: Any,
    ) -> dict[str, list[float]]:
        has_val = X_val is not None and y_val is not None
        n = X.shape[0]
        hist: dict[str, list[float]] = {"epoch": [], "loss": [], "train_uar": []}
        if has_val:
            hist.update(val_loss=[], val_uar=[])
        best: tuple[float, float] | None = None
        best_params: list[np.ndarray] | None = None
        self.best_epoch_ = None
        since_best = 0
        bar = tqdm(range(1, int(epochs) + 1), desc="epochs", disable=not progress, leave=False)
        for epoch in bar:
            order = rng.permutation(n)
            total = 0.0
            for start in range(0, n, int(batch_size)):
                idx = order[start : start + int(batch_size)]
                with np.errstate(over="ignore", invalid="ignore"):
                    loss, grads = self._loss_and_grads(X[idx], y[idx])
                if not np.isfinite(loss):
                    raise SertoolsError(
                        f"fit: the loss became {loss} at epoch {epoch}: training diverged; "
                        f"lower the learning rate (now {opt.lr})"
                    )
                opt.step(self.params, grads)
                total += loss * len(idx)
            hist["epoch"].append(epoch)
            hist["loss"].append(total / n)
            hist["train_uar"].append(uar(y, self.predict(X)))
            if has_val:
                vloss = self._data_loss(self.forward(X_val), y_val)[0] + self._penalty()
                vuar = uar(y_val, self.predict(X_val))
                hist["val_loss"].append(vloss)
                hist["val_uar"].append(vuar)
                if best is None or vuar > best[0] or (vuar == best[0] and vloss < best[1]):
                    best, best_params, self.best_epoch_, since_best = (
                        (vuar, vloss),
                        self.get_params(),
                        epoch,
                        0,
                    )
                else:
                    since_best += 1
                bar.set_postfix(loss=f"{hist['loss'][-1]:.3f}", val_uar=f"{vuar:.3f}")
                if patience is not None and since_best >= patience:
                    break
            else:
                bar.set_postfix(loss=f"{hist['loss'][-1]:.3f}")
        bar.close()
        if has_val and restore_best and best_params is not None:
            self.set_params(best_params)
        self.history_ = hist
        return hist


# ---------------------------------------------------------------------------
# optimisers
# ---------------------------------------------------------------------------


class SGD:
    """Stochastic gradient descent with (heavy-ball) momentum.

    ``v <- momentum * v - lr * g``;  ``p <- p + v`` (Keras' formulation; with
    ``momentum=0`` it is plain ``p <- p - lr * g``).

    Notebook: ``book/05_nn_from_scratch.ipynb``.
    """

    def __init__(self, lr: float = 0.01, momentum: float = 0.0) -> None:
        if not (np.isfinite(lr) and lr > 0):
            raise DataError(f"lr: must be > 0, got {lr}")
        if not 0 <= momentum < 1:
            raise DataError(f"momentum: must be in [0, 1), got {momentum}")
        self.lr = float(lr)
        self.momentum = float(momentum)
        self.velocity: list[np.ndarray] | None = None

    def step(self, params: Sequence[np.ndarray], grads: Sequence[np.ndarray]) -> None:
        """Update ``params`` in place from ``grads``.

        Notebook: ``book/05_nn_from_scratch.ipynb``.
        """
        if self.velocity is None:
            self.velocity = [np.zeros_like(p) for p in params]
        for p, g, v in zip(params, grads, self.velocity, strict=True):
            v *= self.momentum
            v -= self.lr * g
            p += v


class Adam:
    """Adam (Kingma & Ba, 2015, Algorithm 1).

    With step count ``t``: ``m <- b1 m + (1 - b1) g``; ``v <- b2 v + (1 - b2) g**2``;
    ``m_hat = m / (1 - b1**t)``; ``v_hat = v / (1 - b2**t)``;
    ``p <- p - lr * m_hat / (sqrt(v_hat) + eps)``.

    Notebook: ``book/05_nn_from_scratch.ipynb``.
    """

    def __init__(
        self, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8
    ) -> None:
        if not (np.isfinite(lr) and lr > 0):
            raise DataError(f"lr: must be > 0, got {lr}")
        if not (0 <= beta1 < 1 and 0 <= beta2 < 1):
            raise DataError(f"beta1, beta2: must be in [0, 1), got {beta1}, {beta2}")
        self.lr, self.beta1, self.beta2, self.eps = (
            float(lr),
            float(beta1),
            float(beta2),
            float(eps),
        )
        self.t = 0
        self.m: list[np.ndarray] | None = None
        self.v: list[np.ndarray] | None = None

    def step(self, params: Sequence[np.ndarray], grads: Sequence[np.ndarray]) -> None:
        """Update ``params`` in place from ``grads``.

        Notebook: ``book/05_nn_from_scratch.ipynb``.
        """
        if self.m is None or self.v is None:
            self.m = [np.zeros_like(p) for p in params]
            self.v = [np.zeros_like(p) for p in params]
        self.t += 1
        c1 = 1 - self.beta1**self.t
        c2 = 1 - self.beta2**self.t
        for p, g, m, v in zip(params, grads, self.m, self.v, strict=True):
            m *= self.beta1
            m += (1 - self.beta1) * g
            v *= self.beta2
            v += (1 - self.beta2) * g * g
            p -= self.lr * (m / c1) / (np.sqrt(v / c2) + self.eps)


def _make_optimizer(optimizer: str | SGD | Adam, lr: float | None, momentum: float) -> SGD | Adam:
    if isinstance(optimizer, (SGD, Adam)):
        if lr is not None:
            raise DataError("lr: set the learning rate on the optimizer instance, not in fit()")
        return optimizer
    if optimizer == "adam":
        return Adam(lr=1e-3 if lr is None else lr)
    if optimizer == "sgd":
        return SGD(lr=1e-2 if lr is None else lr, momentum=momentum)
    raise DataError(f"optimizer: unknown {optimizer!r}; use 'adam', 'sgd' or an Adam/SGD instance")


# ---------------------------------------------------------------------------
# gradient check
# ---------------------------------------------------------------------------


def gradient_check(
    net: Network, X: np.ndarray, y: np.ndarray, eps: float = 1e-6
) -> dict[str, float]:
    """Compare backpropagation with central finite differences, in float64.

    For every parameter entry ``p``: ``(L(p + eps) - L(p - eps)) / (2 eps)``
    (error O(eps**2)). For each parameter array the relative error
    ``||g_backprop - g_numeric|| / max(||g_backprop|| + ||g_numeric||, 1e-300)``
    is returned; below ~1e-7 means the gradients agree to about 7 digits.
    The network is copied to float64 first; ``net`` itself is not changed.

    Parameters
    ----------
    net : Network
    X : np.ndarray, shape (N, n_features)
    y : np.ndarray of int, shape (N,)
    eps : float
        Finite-difference step.

    Returns
    -------
    dict
        ``{"W0": err, "b0": err, ...}``; ``max(result.values())`` is the worst.

    Notebook: ``book/05_nn_from_scratch.ipynb``.
    """
    net64 = net.astype(np.float64)
    X = net64._check_X(X)
    y = _check_int_labels(y, X.shape[0], net64.n_classes)
    _, grads = net64._loss_and_grads(X, y)

    def loss() -> float:
        return net64._data_loss(net64._forward(X)[0][-1], y)[0] + net64._penalty()

    out: dict[str, float] = {}
    for name, p, g in zip(net64.param_names, net64.params, grads, strict=True):
        num = np.zeros_like(p)
        flat, nflat = p.reshape(-1), num.reshape(-1)
        for i in range(flat.size):
            old = flat[i]
            flat[i] = old + eps
            lp = loss()
            flat[i] = old - eps
            lm = loss()
            flat[i] = old
            nflat[i] = (lp - lm) / (2 * eps)
        denom = max(float(np.linalg.norm(g) + np.linalg.norm(num)), 1e-300)
        out[name] = float(np.linalg.norm(g - num)) / denom
    return out


# ---------------------------------------------------------------------------
# Keras equivalence
# ---------------------------------------------------------------------------


def to_keras(net: Network) -> Any:
    """Build a Keras ``Sequential`` model with the same architecture and weights.

    Each :class:`Dense` layer becomes ``keras.layers.Dense`` with the same
    activation; the output layer gets ``softmax`` (or ``sigmoid``), so
    ``model(X)`` equals ``net.predict_proba(X)`` (its positive column for a
    sigmoid output). The L2 weight decay becomes
    ``kernel_regularizer=keras.regularizers.L2(weight_decay / 2)``, so that
    ``loss + sum(model.losses)`` is the network's loss. The model uses the
    network's dtype. TensorFlow/Keras is imported here, not at module import.

    Notebook: ``book/05_nn_from_scratch.ipynb``.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    dtype = str(net.dtype)
    reg = keras.regularizers.L2(net.weight_decay / 2) if net.weight_decay else None
    layers: list[Any] = [keras.Input(shape=(net.layers[0].n_in,), dtype=dtype)]
    for i, layer in enumerate(net.layers):
        last = i == len(net.layers) - 1
        act = net.output if last else layer.activation
        layers.append(
            keras.layers.Dense(
                layer.n_out, activation=act, kernel_regularizer=reg, dtype=dtype, name=f"dense_{i}"
            )
        )
    model = keras.Sequential(layers, name="from_scratch")
    for layer, klayer in zip(net.layers, model.layers, strict=True):
        klayer.set_weights([layer.W, layer.b])
    return model


def from_keras(model: Any, weight_decay: float = 0.0) -> Network:
    """Build a :class:`Network` from a Keras ``Sequential`` model of ``Dense`` layers.

    The inverse of :func:`to_keras`: hidden layers must use relu/tanh/sigmoid/
    linear, the last layer softmax (K >= 2 units) or sigmoid (1 unit). Weights
    are copied; the network gets the model's dtype.

    Notebook: ``book/05_nn_from_scratch.ipynb``.
    """
    import keras

    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    if not dense or len(dense) != len(model.layers):
        raise DataError("model: from_keras needs a Sequential model made only of Dense layers")
    acts = [keras.activations.serialize(layer.activation) for layer in dense]
    acts = [a if isinstance(a, str) else a.get("config", {}).get("name", str(a)) for a in acts]
    weights = [layer.get_weights() for layer in dense]
    sizes = [weights[0][0].shape[0]] + [w[0].shape[1] for w in weights]
    net = Network(
        sizes,
        activation=acts[:-1],
        output=acts[-1],
        weight_decay=weight_decay,
        dtype=weights[0][0].dtype,
    )
    net.set_params([p for w in weights for p in w])
    return net
