"""Keras 3 model builders for speech emotion recognition.

Notebook: ``book/06_cnn_rnn_keras.ipynb`` (chapter "CNNs and RNNs with Keras").

Every builder takes the input shape (without the batch axis) and the number of
classes and returns an uncompiled :class:`keras.Model` whose output is a
softmax over the classes:

- :func:`article_cnn` - the article's Conv1D CNN, fixed (the article's code
  uses ``num_classes`` without ever defining it);
- :func:`cnn2d` - a small 2-D CNN on log-mel spectrograms;
- :func:`bilstm` - a bidirectional LSTM over frames, masking padded frames;
- :func:`crnn` - convolutions, a bidirectional GRU and attention pooling;
- :func:`mlp` - a multilayer perceptron on utterance functionals.

Frame-sequence models take ``(n_frames, n_features)`` inputs (``n_frames``
may be ``None`` for variable length); padded frames are all-zero rows, which
:class:`FrameMask` turns into a mask so that padding does not vote.

The custom layers are registered with Keras, so a saved ``.keras`` file loads
with ``keras.saving.load_model(path, safe_mode=True)`` once this module is
imported.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
from keras import layers, ops  # noqa: E402

from sertools.errors import SertoolsError  # noqa: E402

__all__ = [
    "BUILDERS",
    "AttentionPooling",
    "FrameMask",
    "article_cnn",
    "bilstm",
    "build",
    "cnn2d",
    "count_params",
    "crnn",
    "mlp",
]


@keras.saving.register_keras_serializable(package="sertools")
class FrameMask(layers.Layer):
    """``(batch, frames, features)`` -> ``(batch, ceil(frames / pool))`` float mask of non-padded frames.

    A frame is padding when all its features are exactly zero. ``pool`` > 1
    max-pools the mask in time to follow a network that pools time by that
    factor (``padding="same"``).

    Notebook: ``book/06_cnn_rnn_keras.ipynb``.
    """

    def __init__(self, pool: int = 1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pool = int(pool)

    def call(self, x: Any) -> Any:
        m = ops.cast(ops.any(ops.not_equal(x, 0.0), axis=-1), "float32")
        if self.pool > 1:
            m = ops.max_pool(m[:, :, None], pool_size=self.pool, strides=self.pool, padding="same")[:, :, 0]
        return m

    def compute_output_shape(self, input_shape: Sequence[Any]) -> tuple[Any, ...]:
        t = input_shape[1]
        return (input_shape[0], None if t is None else -(-t // self.pool))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "pool": self.pool}


@keras.saving.register_keras_serializable(package="sertools")
class AttentionPooling(layers.Layer):
    """Attention pooling over time: ``sum_t a_t h_t`` with ``a = softmax_t(v^T tanh(W h_t + b))``.

    Called on ``h`` of shape ``(batch, frames, units)``, or on ``[h, mask]``
    with a ``(batch, frames)`` mask of valid frames (also takes a Keras mask);
    masked frames get zero weight. Returns ``(batch, units)``, or with
    ``stats=True`` (attentive statistics pooling) ``(batch, 2 * units)``: the
    weighted mean and the weighted standard deviation
    ``sqrt(sum_t a_t h_t^2 - mean^2)``, so the next layer sees how much each
    feature varies over the clip (pitch range, loudness variation), not only
    its average.

    Notebook: ``book/06_cnn_rnn_keras.ipynb``.
    """

    def __init__(self, units: int = 64, stats: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.units = int(units)
        self.stats = bool(stats)
        self.supports_masking = True

    def build(self, input_shape: Any) -> None:
        shape = input_shape[0] if isinstance(input_shape, (list, tuple)) and isinstance(input_shape[0], (list, tuple)) else input_shape
        d = int(shape[-1])
        self.W = self.add_weight(shape=(d, self.units), initializer="glorot_uniform", name="W")
        self.b = self.add_weight(shape=(self.units,), initializer="zeros", name="b")
        self.v = self.add_weight(shape=(self.units, 1), initializer="glorot_uniform", name="v")

    def call(self, inputs: Any, mask: Any = None) -> Any:
        if isinstance(inputs, (list, tuple)):
            h, m = inputs
        else:
            h, m = inputs, mask
        score = ops.matmul(ops.tanh(ops.matmul(h, self.W) + self.b), self.v)[..., 0]
        if m is not None:
            m = ops.cast(m, score.dtype)
            score = score + (1.0 - m) * -1e9
        a = ops.softmax(score, axis=-1)[..., None]
        mean = ops.sum(h * a, axis=1)
        if not self.stats:
            return mean
        var = ops.sum(h * h * a, axis=1) - mean * mean
        return ops.concatenate([mean, ops.sqrt(ops.maximum(var, 1e-6))], axis=-1)

    def compute_mask(self, inputs: Any, mask: Any = None) -> None:
        return None

    def compute_output_shape(self, input_shape: Any) -> tuple[Any, ...]:
        shape = input_shape[0] if isinstance(input_shape, (list, tuple)) and isinstance(input_shape[0], (list, tuple)) else input_shape
        return (shape[0], shape[-1] * (2 if self.stats else 1))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "units": self.units, "stats": self.stats}


def _check(input_shape: Sequence[Any], n_classes: int, ndim: int, name: str) -> tuple[Any, ...]:
    shape = tuple(input_shape)
    if len(shape) != ndim:
        raise SertoolsError(f"{name}: input_shape must have {ndim} axes (without the batch), got {shape}")
    if not isinstance(n_classes, int) or n_classes < 2:
        raise SertoolsError(f"{name}: n_classes must be an integer >= 2, got {n_classes!r}")
    return shape


def article_cnn(
    input_shape: Sequence[int | None],
    n_classes: int,
    global_pool: bool = True,
    dropout: float = 0.1,
    name: str = "article_cnn",
) -> keras.Model:
    """The article's Conv1D CNN, fixed.

    Layers as in the article: Conv1D(256, 5) - Conv1D(128, 5) - Dropout -
    MaxPooling1D(8) - Conv1D(128, 5) - Conv1D(128, 5) - Dense(n_classes,
    softmax), all ReLU, ``padding="same"``. The fixes: the number of classes is
    an argument (the article's ``Dense(num_classes)`` refers to a name it never
    defines), the input is frames x coefficients (not one number per frame),
    and ``global_pool=True`` replaces ``Flatten`` by global average pooling, so
    the model accepts any clip length and has far fewer weights.

    Parameters
    ----------
    input_shape : (n_frames, n_features)
        ``n_frames`` may be ``None`` when ``global_pool`` is True.
    n_classes : int
        Number of emotions.

    Notebook: ``book/06_cnn_rnn_keras.ipynb``.
    """
    shape = _check(input_shape, n_classes, 2, "article_cnn")
    if not global_pool and shape[0] is None:
        raise SertoolsError("article_cnn: Flatten (global_pool=False) needs a fixed number of frames")
    inp = keras.Input(shape=shape, name="features")
    x = layers.Conv1D(256, 5, padding="same", activation="relu")(inp)
    x = layers.Conv1D(128, 5, padding="same", activation="relu")(x)
    x = layers.Dropout(dropout)(x)
    x = layers.MaxPooling1D(8, padding="same")(x)
    x = layers.Conv1D(128, 5, padding="same", activation="relu")(x)
    x = layers.Conv1D(128, 5, padding="same", activation="relu")(x)
    x = layers.GlobalAveragePooling1D()(x) if global_pool else layers.Flatten()(x)
    out = layers.Dense(n_classes, activation="softmax", name="emotion")(x)
    return keras.Model(inp, out, name=name)


def _conv_block(x: Any, filters: int, pool: tuple[int, int]) -> Any:
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
    # momentum 0.9 (Keras default 0.99): with a few hundred clips an epoch is a
    # handful of steps, and slow moving averages leave inference statistics wrong
    x = layers.BatchNormalization(momentum=0.9)(x)
    x = layers.Activation("relu")(x)
    return layers.MaxPooling2D(pool, padding="same")(x)


def cnn2d(
    input_shape: Sequence[int | None],
    n_classes: int,
    filters: Sequence[int] = (16, 32, 64),
    dropout: float = 0.3,
    name: str = "cnn2d",
) -> keras.Model:
    """A 2-D CNN on a log-mel spectrogram ``(n_frames, n_mels)``.

    Conv(3x3) - BatchNorm - ReLU - MaxPool(2x2) blocks, then global average
    pooling over time and frequency, dropout and a softmax layer.

    Notebook: ``book/06_cnn_rnn_keras.ipynb``.
    """
    shape = _check(input_shape, n_classes, 2, "cnn2d")
    inp = keras.Input(shape=shape, name="features")
    x = layers.Reshape((-1, shape[1], 1))(inp)
    for f in filters:
        x = _conv_block(x, f, (2, 2))
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(dropout)(x)
    out = layers.Dense(n_classes, activation="softmax", name="emotion")(x)
    return keras.Model(inp, out, name=name)


def bilstm(
    input_shape: Sequence[int | None],
    n_classes: int,
    units: int = 64,
    dropout: float = 0.3,
    name: str = "bilstm",
) -> keras.Model:
    """A bidirectional LSTM over frames with attention pooling; padded frames masked.

    ``Masking(0.0)`` marks all-zero frames as padding: the LSTM skips them and
    attention pooling gives them zero weight.

    Notebook: ``book/06_cnn_rnn_keras.ipynb``.
    """
    shape = _check(input_shape, n_classes, 2, "bilstm")
    inp = keras.Input(shape=shape, name="features")
    x = layers.Masking(mask_value=0.0)(inp)
    x = layers.Bidirectional(layers.LSTM(units, return_sequences=True))(x)
    x = AttentionPooling(units)(x)
    x = layers.Dropout(dropout)(x)
    out = layers.Dense(n_classes, activation="softmax", name="emotion")(x)
    return keras.Model(inp, out, name=name)


def crnn(
    input_shape: Sequence[int | None],
    n_classes: int,
    filters: Sequence[int] = (16, 32, 48),
    units: int = 48,
    dropout: float = 0.3,
    stats: bool = True,
    name: str = "crnn",
) -> keras.Model:
    """Convolutional recurrent network with attention pooling, on ``(n_frames, n_mels)``.

    Three Conv(3x3)-BatchNorm-ReLU blocks (the first two halve time and
    frequency, the third halves frequency only), the remaining frequency axis
    flattened into the channels, a bidirectional GRU over the 4x shorter frame
    sequence, then attentive statistics pooling (weighted mean and standard
    deviation over frames, ``stats=True``; plain attention pooling otherwise)
    that ignores padded frames (the mask is pooled in time like the
    features), dropout and softmax.

    Notebook: ``book/06_cnn_rnn_keras.ipynb``.
    """
    shape = _check(input_shape, n_classes, 2, "crnn")
    inp = keras.Input(shape=shape, name="features")
    pools = [(2, 2), (2, 2)] + [(1, 2)] * (len(filters) - 2)
    t_pool = 1
    for p in pools:
        t_pool *= p[0]
    mask = FrameMask(pool=t_pool, name="frame_mask")(inp)
    x = layers.Reshape((-1, shape[1], 1))(inp)
    f_out = shape[1]
    for f, p in zip(filters, pools, strict=False):
        x = _conv_block(x, f, p)
        f_out = -(-f_out // p[1])
    x = layers.Reshape((-1, f_out * filters[-1]))(x)
    x = layers.Dense(units * 2, activation="relu")(x)
    x = layers.Bidirectional(layers.GRU(units, return_sequences=True))(x)
    x = AttentionPooling(units, stats=stats, name="attention")([x, mask])
    x = layers.Dropout(dropout)(x)
    out = layers.Dense(n_classes, activation="softmax", name="emotion")(x)
    return keras.Model(inp, out, name=name)


def mlp(
    input_shape: Sequence[int],
    n_classes: int,
    hidden: Sequence[int] = (128, 64),
    dropout: float = 0.3,
    name: str = "mlp",
) -> keras.Model:
    """A multilayer perceptron on utterance-level functionals ``(n_features,)``.

    Notebook: ``book/06_cnn_rnn_keras.ipynb``.
    """
    shape = _check(input_shape, n_classes, 1, "mlp")
    inp = keras.Input(shape=shape, name="features")
    x = inp
    for h in hidden:
        x = layers.Dense(h, activation="relu")(x)
        x = layers.Dropout(dropout)(x)
    out = layers.Dense(n_classes, activation="softmax", name="emotion")(x)
    return keras.Model(inp, out, name=name)


#: Model names accepted by :func:`build` (and ``sertools train --model``).
BUILDERS: dict[str, Callable[..., keras.Model]] = {
    "cnn": article_cnn,
    "cnn2d": cnn2d,
    "lstm": bilstm,
    "crnn": crnn,
    "mlp": mlp,
}


def build(kind: str, input_shape: Sequence[int | None], n_classes: int, **kwargs: Any) -> keras.Model:
    """Build a model by name (``cnn``, ``cnn2d``, ``lstm``, ``crnn``, ``mlp``).

    Notebook: ``book/06_cnn_rnn_keras.ipynb``.
    """
    if kind not in BUILDERS:
        raise SertoolsError(f"model: unknown kind {kind!r}; expected one of {sorted(BUILDERS)}")
    return BUILDERS[kind](input_shape, n_classes, **kwargs)


def count_params(model: keras.Model) -> dict[str, int]:
    """Trainable and non-trainable parameter counts of a model.

    Notebook: ``book/06_cnn_rnn_keras.ipynb``.
    """
    trainable = int(sum(int(ops.size(w)) for w in model.trainable_weights))
    frozen = int(sum(int(ops.size(w)) for w in model.non_trainable_weights))
    return {"trainable": trainable, "non_trainable": frozen, "total": trainable + frozen}
