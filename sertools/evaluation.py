"""Evaluation done right: UAR, accuracy, macro-F1, confusion, intervals, significance.

Speech emotion recognition reports **UAR** (unweighted average recall, the
mean of the per-class recalls; scikit-learn calls it *balanced accuracy*)
next to **accuracy** (WA, weighted accuracy), **macro-F1** and the confusion
matrix. Every number here is computed by scikit-learn itself (the tests check
it on random inputs), so the book's figures are the ones a reader gets with
``sklearn.metrics``.

Notebook: ``book/08_evaluation.ipynb``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import stats
from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support
from sklearn.utils.multiclass import unique_labels
from tqdm.auto import tqdm

from sertools.errors import DataError

if TYPE_CHECKING:  # pragma: no cover - typing only
    import pandas as pd
    from matplotlib.figure import Figure

__all__ = [
    "bootstrap_uar_ci",
    "compare_models",
    "mcnemar",
    "plot_confusion",
    "plot_per_class",
    "report",
    "uar",
]


def _plain(value: Any) -> Any:
    """A numpy scalar as the plain Python value (str, int, float, bool); others unchanged."""
    return value.item() if isinstance(value, np.generic) else value


def _as_1d(values: Any, name: str) -> np.ndarray:
    """``values`` as a 1-D array, or a :class:`DataError` naming the argument."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise DataError(f"{name}: expected a 1-D sequence of labels, got shape {arr.shape}")
    if arr.size == 0:
        raise DataError(f"{name}: is empty; there is nothing to evaluate")
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        raise DataError(f"{name}: contains NaN or infinite labels")
    return arr


def _check_pair(y_true: Any, y_pred: Any, pred_name: str = "y_pred") -> tuple[np.ndarray, np.ndarray]:
    yt = _as_1d(y_true, "y_true")
    yp = _as_1d(y_pred, pred_name)
    if len(yt) != len(yp):
        raise DataError(f"y_true has {len(yt)} labels but {pred_name} has {len(yp)}; they must be the same length")
    return yt, yp


def _resolve_labels(yt: np.ndarray, yp: np.ndarray, labels: Sequence[Any] | None) -> list[Any]:
    """The label order: ``labels`` if given (checked), else scikit-learn's sorted union."""
    try:
        present = [_plain(v) for v in unique_labels(yt, yp)]
    except ValueError as exc:  # e.g. strings mixed with numbers
        raise DataError(f"y_true / y_pred: labels cannot be compared ({exc})") from exc
    if labels is None:
        return present
    out = [_plain(v) for v in np.asarray(list(labels)).tolist()] if len(labels) else []
    if not out:
        raise DataError("labels: is empty; give the class names in the order you want them")
    if len(set(out)) != len(out):
        raise DataError(f"labels: contains duplicates: {out}")
    unknown = sorted(str(v) for v in set(present) - set(out))
    if unknown:
        raise DataError(f"labels: y_true / y_pred contain labels not in `labels`: {unknown}")
    return out


def report(y_true: Any, y_pred: Any, labels: Sequence[Any] | None = None) -> dict[str, Any]:
    """All the numbers an SER result needs, as a JSON-serialisable dict.

    Parameters
    ----------
    y_true, y_pred : sequence of labels (str or int), same length
        The reference and the predicted class of each clip.
    labels : sequence, optional
        The classes and their order (rows/columns of ``confusion``). Default:
        the sorted union of the labels in ``y_true`` and ``y_pred``, as
        scikit-learn does. Every label of ``y_true``/``y_pred`` must be in it.

    Returns
    -------
    dict
        ``uar``
            unweighted average recall = mean of the per-class recalls over the
            labels that **occur in** ``y_true`` (support > 0). A class with no
            reference clip has no recall (0/0), so it is left out of the mean,
            exactly as :func:`sklearn.metrics.balanced_accuracy_score` does; it
            equals ``recall_score(average="macro", labels=<labels with support>)``.
            (``recall_score(average="macro")`` without ``labels`` would instead
            count a class that is only predicted as recall 0.)
        ``accuracy``
            fraction of clips classified correctly (WA, weighted accuracy).
        ``macro_f1``
            unweighted mean of the per-class F1 over all ``labels`` (F1 =
            harmonic mean of precision and recall), as
            ``f1_score(average="macro", labels=labels, zero_division=0)``.
        ``per_class``
            ``{label: {"precision", "recall", "f1", "support"}}``; a 0/0
            precision or recall is reported as 0.0 (scikit-learn's
            ``zero_division=0``), so a label with ``support`` 0 shows recall 0.0
            but does not enter ``uar``.
        ``confusion``
            list of lists of int, ``confusion[i][j]`` = clips of true class
            ``labels[i]`` predicted as ``labels[j]`` (rows = true).
        ``labels``
            the label order, as plain Python values.
        ``n``
            number of clips.

    Raises
    ------
    DataError
        Empty or mismatched inputs, duplicate labels, or labels outside ``labels``.

    Notebook: ``book/08_evaluation.ipynb``.
    """
    yt, yp = _check_pair(y_true, y_pred)
    labs = _resolve_labels(yt, yp, labels)
    lab_arr = np.asarray(labs)
    cm = confusion_matrix(yt, yp, labels=lab_arr)
    prec, rec, f1, support = precision_recall_fscore_support(
        yt, yp, labels=lab_arr, average=None, zero_division=0
    )
    has_support = support > 0
    per_class = {
        lab: {
            "precision": float(p),
            "recall": float(r),
            "f1": float(f),
            "support": int(s),
        }
        for lab, p, r, f, s in zip(labs, prec, rec, f1, support, strict=True)
    }
    return {
        "uar": float(np.mean(rec[has_support])),
        "accuracy": float(accuracy_score(yt, yp)),
        "macro_f1": float(np.mean(f1)),
        "per_class": per_class,
        "confusion": cm.astype(int).tolist(),
        "labels": labs,
        "n": len(yt),
    }


def uar(y_true: Any, y_pred: Any) -> float:
    """Unweighted average recall (balanced accuracy) over the classes present in ``y_true``.

    Same number as ``report(y_true, y_pred)["uar"]`` and
    :func:`sklearn.metrics.balanced_accuracy_score`, without building the full report.

    Notebook: ``book/08_evaluation.ipynb``.
    """
    yt, yp = _check_pair(y_true, y_pred)
    return _uar_fast(yt, yp)


def _uar_fast(yt: np.ndarray, yp: np.ndarray) -> float:
    """UAR of validated arrays with plain numpy (used inside the bootstrap loop)."""
    classes, inverse = np.unique(yt, return_inverse=True)
    correct = np.bincount(inverse, weights=(yt == yp).astype(float), minlength=len(classes))
    counts = np.bincount(inverse, minlength=len(classes))
    return float(np.mean(correct / counts))


def bootstrap_uar_ci(
    y_true: Any,
    y_pred: Any,
    groups: Any,
    n_boot: int = 1000,
    alpha: float = 0.05,
    seed: int | np.random.Generator = 0,
    progress: bool = False,
) -> dict[str, float]:
    """Percentile bootstrap confidence interval of the UAR, resampling **speakers**.

    Clips of one speaker are not independent (same voice, same recording), so
    resampling clips would give intervals that are far too narrow. Each
    bootstrap replicate draws as many speakers as there are, with replacement,
    and keeps all clips of each drawn speaker (a cluster bootstrap).

    Parameters
    ----------
    y_true, y_pred : sequence of labels
        Reference and predicted class per clip.
    groups : sequence
        The speaker of each clip (same length).
    n_boot : int
        Number of bootstrap replicates (>= 10).
    alpha : float
        1 - confidence level; 0.05 gives a 95 % interval.
    seed : int or numpy.random.Generator
        Randomness; the same seed gives the same interval.
    progress : bool
        Show a tqdm progress bar.

    Returns
    -------
    dict
        ``uar`` (point estimate on all clips), ``low``, ``high`` (percentile
        interval), ``std`` (bootstrap standard error), ``n_boot``,
        ``n_groups``, ``alpha``.

    Notes
    -----
    With few speakers (a leave-one-speaker-out run on 8 speakers, say) the
    interval is wide: that is the honest answer. A replicate can miss a class
    entirely; its UAR is then the mean recall over the classes it contains.

    Notebook: ``book/08_evaluation.ipynb``.
    """
    yt, yp = _check_pair(y_true, y_pred)
    g = _as_1d(groups, "groups")
    if len(g) != len(yt):
        raise DataError(f"groups has {len(g)} entries but y_true has {len(yt)}; give one speaker per clip")
    if int(n_boot) < 10:
        raise DataError(f"n_boot: must be at least 10, got {n_boot}")
    if not 0.0 < float(alpha) < 1.0:
        raise DataError(f"alpha: must be between 0 and 1, got {alpha}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    speakers, g_idx = np.unique(g, return_inverse=True)
    n_groups = len(speakers)
    members = [np.flatnonzero(g_idx == k) for k in range(n_groups)]
    draws = rng.integers(0, n_groups, size=(int(n_boot), n_groups))
    values = np.empty(int(n_boot))
    for b in tqdm(range(int(n_boot)), desc="bootstrap UAR", disable=not progress, leave=False):
        idx = np.concatenate([members[k] for k in draws[b]])
        values[b] = _uar_fast(yt[idx], yp[idx])
    low, high = np.quantile(values, [alpha / 2, 1 - alpha / 2])
    return {
        "uar": _uar_fast(yt, yp),
        "low": float(low),
        "high": float(high),
        "std": float(np.std(values, ddof=1)),
        "n_boot": int(n_boot),
        "n_groups": int(n_groups),
        "alpha": float(alpha),
    }


def mcnemar(y_true: Any, pred_a: Any, pred_b: Any, exact: bool | None = None) -> dict[str, Any]:
    """McNemar's test: do two classifiers make errors on different clips more than chance?

    Only the discordant clips count: ``b`` = clips A gets right and B gets
    wrong, ``c`` = clips A gets wrong and B gets right. Under the null
    hypothesis (equal error rates) each discordant clip is a fair coin flip.

    Parameters
    ----------
    y_true, pred_a, pred_b : sequence of labels, same length
        Reference and the predictions of the two models **on the same clips**.
    exact : bool, optional
        ``True``: exact two-sided binomial test, ``binomtest(b, b + c, 0.5)``.
        ``False``: chi-square with continuity correction,
        ``(|b - c| - 1)^2 / (b + c)`` with 1 degree of freedom.
        Default: exact when ``b + c < 25`` (the usual rule), else chi-square.

    Returns
    -------
    dict
        ``b``, ``c``, ``statistic`` (``min(b, c)`` for the exact test, the
        chi-square value otherwise), ``p_value``, ``method`` ("exact" or
        "chi2"), ``acc_a``, ``acc_b``.

    Notes
    -----
    The test assumes independent clips. Clips of the same speaker are not, so
    treat the p-value as optimistic and look at the speaker-bootstrap
    intervals too. With ``b + c = 0`` the models agree on every clip and the
    p-value is 1.

    Notebook: ``book/08_evaluation.ipynb``.
    """
    yt, pa = _check_pair(y_true, pred_a, "pred_a")
    _, pb = _check_pair(y_true, pred_b, "pred_b")
    ok_a = pa == yt
    ok_b = pb == yt
    b = int(np.sum(ok_a & ~ok_b))
    c = int(np.sum(~ok_a & ok_b))
    n_disc = b + c
    use_exact = n_disc < 25 if exact is None else bool(exact)
    if n_disc == 0:
        stat, p = 0.0, 1.0
    elif use_exact:
        stat = float(min(b, c))
        p = float(stats.binomtest(b, n_disc, 0.5, alternative="two-sided").pvalue)
    else:
        stat = float((abs(b - c) - 1) ** 2 / n_disc) if abs(b - c) >= 1 else 0.0
        p = float(stats.chi2.sf(stat, df=1))
    return {
        "b": b,
        "c": c,
        "statistic": stat,
        "p_value": min(1.0, p),
        "method": "exact" if use_exact else "chi2",
        "acc_a": float(np.mean(ok_a)),
        "acc_b": float(np.mean(ok_b)),
    }


def _confusion_and_labels(
    y_true: Any, y_pred: Any, labels: Sequence[Any] | None
) -> tuple[np.ndarray, list[Any], dict[str, Any]]:
    rep = report(y_true, y_pred, labels=labels)
    return np.asarray(rep["confusion"], dtype=float), rep["labels"], rep


def plot_confusion(
    y_true: Any,
    y_pred: Any,
    labels: Sequence[Any] | None = None,
    normalize: bool = True,
    title: str | None = None,
    ax: Any = None,
    cmap: str = "Blues",
) -> Figure:
    """Heat map of the confusion matrix, rows = true class, columns = predicted class.

    Parameters
    ----------
    y_true, y_pred, labels
        As in :func:`report`; pass ``labels`` to fix the order (e.g. grouped
        by arousal: calm, neutral, sad ... angry, happy, surprised, fearful).
    normalize : bool
        ``True``: each row divided by its support, so the diagonal is the
        per-class recall (a row with no clips stays 0); ``False``: counts.
    title : str, optional
        Figure title; default names the UAR and accuracy.
    ax : matplotlib Axes, optional
        Draw into this axes instead of a new figure.
    cmap : str
        Colour map name.

    Returns
    -------
    matplotlib.figure.Figure

    Notebook: ``book/08_evaluation.ipynb``.
    """
    import matplotlib.pyplot as plt

    cm, labs, rep = _confusion_and_labels(y_true, y_pred, labels)
    if normalize:
        rows = cm.sum(axis=1, keepdims=True)
        cm = np.divide(cm, rows, out=np.zeros_like(cm), where=rows > 0)
    if ax is None:
        size = max(4.0, 0.6 * len(labs) + 2.0)
        fig, ax = plt.subplots(figsize=(size + 1.0, size))
    else:
        fig = ax.figure
    vmax = 1.0 if normalize else max(1.0, float(cm.max()))
    im = ax.imshow(cm, cmap=cmap, vmin=0.0, vmax=vmax)
    cbar = fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    cbar.set_label("fraction of the true class" if normalize else "number of clips")
    ticks = np.arange(len(labs))
    ax.set_xticks(ticks, [str(v) for v in labs], rotation=45, ha="right")
    ax.set_yticks(ticks, [str(v) for v in labs])
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    for i in range(len(labs)):
        for j in range(len(labs)):
            val = cm[i, j]
            txt = f"{val:.2f}" if normalize else f"{int(val)}"
            colour = "white" if val > 0.6 * vmax else "black"
            ax.text(j, i, txt, ha="center", va="center", color=colour, fontsize=8)
    if title is None:
        kind = "row-normalised" if normalize else "counts"
        title = f"Confusion matrix ({kind}): UAR {rep['uar']:.2f}, accuracy {rep['accuracy']:.2f}"
    ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_per_class(
    y_true: Any,
    y_pred: Any,
    labels: Sequence[Any] | None = None,
    title: str | None = None,
    ax: Any = None,
) -> Figure:
    """Grouped bars of per-class precision, recall and F1, with UAR and macro-F1 as lines.

    Parameters
    ----------
    y_true, y_pred, labels
        As in :func:`report`.
    title : str, optional
        Figure title.
    ax : matplotlib Axes, optional
        Draw into this axes instead of a new figure.

    Returns
    -------
    matplotlib.figure.Figure

    Notebook: ``book/08_evaluation.ipynb``.
    """
    import matplotlib.pyplot as plt

    rep = report(y_true, y_pred, labels=labels)
    labs = rep["labels"]
    if ax is None:
        fig, ax = plt.subplots(figsize=(max(6.0, 0.9 * len(labs) + 2.0), 4.0))
    else:
        fig = ax.figure
    x = np.arange(len(labs))
    width = 0.27
    for k, (metric, name) in enumerate((("precision", "precision"), ("recall", "recall"), ("f1", "F1"))):
        vals = [rep["per_class"][lab][metric] for lab in labs]
        ax.bar(x + (k - 1) * width, vals, width, label=name)
    ax.axhline(rep["uar"], color="black", linestyle="--", linewidth=1, label=f"UAR = {rep['uar']:.2f}")
    ax.axhline(rep["macro_f1"], color="grey", linestyle=":", linewidth=1.5, label=f"macro-F1 = {rep['macro_f1']:.2f}")
    ax.set_xticks(x, [f"{lab}\n(n={rep['per_class'][lab]['support']})" for lab in labs])
    ax.set_ylim(0.0, 1.05)
    ax.set_xlabel("class (n = number of test clips)")
    ax.set_ylabel("score (0 to 1)")
    ax.set_title(title or "Per-class precision, recall and F1")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    fig.tight_layout()
    return fig


def compare_models(
    results: Mapping[str, tuple[Any, Any, Any]],
    n_boot: int = 1000,
    alpha: float = 0.05,
    seed: int = 0,
    reference: str | None = None,
    labels: Sequence[Any] | None = None,
) -> pd.DataFrame:
    """Side-by-side table of models evaluated on the same test clips.

    Parameters
    ----------
    results : mapping
        ``{model name: (y_true, y_pred, groups)}``; ``groups`` = speaker of
        each clip (used by the speaker bootstrap).
    n_boot, alpha, seed
        Passed to :func:`bootstrap_uar_ci` (same seed for every model).
    reference : str, optional
        A model name; adds McNemar's p-value of every other model against it
        (column ``p_vs_<reference>``). Needs the same ``y_true`` everywhere.
    labels : sequence, optional
        Label order for :func:`report`.

    Returns
    -------
    pandas.DataFrame
        One row per model (index = name): ``uar``, ``uar_low``, ``uar_high``,
        ``accuracy``, ``macro_f1``, ``n`` and, with ``reference``, the p-value.
        Sorted by UAR, best first.

    Notebook: ``book/08_evaluation.ipynb``.
    """
    import pandas as pd

    if not results:
        raise DataError("results: is empty; give {model name: (y_true, y_pred, groups)}")
    if reference is not None and reference not in results:
        raise DataError(f"reference: {reference!r} is not one of the models {list(results)}")
    rows = []
    ref_true = None
    if reference is not None:
        ref_true = np.asarray(results[reference][0])
    for name, triple in results.items():
        if len(triple) != 3:
            raise DataError(f"results[{name!r}]: expected (y_true, y_pred, groups), got {len(triple)} items")
        y_true, y_pred, groups = triple
        rep = report(y_true, y_pred, labels=labels)
        ci = bootstrap_uar_ci(y_true, y_pred, groups, n_boot=n_boot, alpha=alpha, seed=seed)
        row = {
            "model": name,
            "uar": rep["uar"],
            "uar_low": ci["low"],
            "uar_high": ci["high"],
            "accuracy": rep["accuracy"],
            "macro_f1": rep["macro_f1"],
            "n": rep["n"],
        }
        if reference is not None:
            yt = np.asarray(y_true)
            if ref_true is None or yt.shape != ref_true.shape or not np.array_equal(yt, ref_true):
                raise DataError(
                    f"results[{name!r}]: y_true differs from {reference!r}'s; McNemar needs the same test clips"
                )
            p = 1.0 if name == reference else mcnemar(yt, results[reference][1], y_pred)["p_value"]
            row[f"p_vs_{reference}"] = p
        rows.append(row)
    table = pd.DataFrame(rows).set_index("model")
    return table.sort_values("uar", ascending=False)

