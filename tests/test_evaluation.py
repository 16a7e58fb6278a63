"""sertools.evaluation: every number equals scikit-learn's; intervals and tests behave."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
    recall_score,
)

from sertools import DataError
from sertools import evaluation as ev

EMO = ["neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised"]


def _sk(yt, yp, labels):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p, r, f, s = precision_recall_fscore_support(yt, yp, labels=labels, zero_division=0)
        present = [lab for lab, n in zip(labels, s, strict=True) if n > 0]
        return {
            "p": p, "r": r, "f": f, "s": s,
            "cm": confusion_matrix(yt, yp, labels=labels),
            "acc": accuracy_score(yt, yp),
            "f1": f1_score(yt, yp, labels=labels, average="macro", zero_division=0),
            "uar": recall_score(yt, yp, labels=present, average="macro", zero_division=0),
        }


@pytest.mark.parametrize("trial", range(30))
def test_report_matches_sklearn_on_random_inputs(trial: int) -> None:
    rng = np.random.default_rng(trial)
    n = int(rng.integers(5, 80))
    k = int(rng.integers(2, 8))
    classes = np.array(EMO[:k])
    # skewed class priors, and some classes dropped from y_true or y_pred on purpose
    yt = rng.choice(classes, size=n, p=rng.dirichlet(np.ones(k) * 0.7))
    yp = np.where(rng.random(n) < 0.5, yt, rng.choice(classes, size=n))
    if trial % 3 == 0:
        yp[yp == classes[0]] = classes[1]  # a class never predicted
    if trial % 4 == 1:
        yt[yt == classes[-1]] = classes[0]  # a class only predicted, never true
    rep = ev.report(yt, yp)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ba = balanced_accuracy_score(yt, yp)
    labels = sorted(set(yt) | set(yp))
    sk = _sk(yt, yp, labels)
    assert rep["labels"] == labels
    assert rep["uar"] == pytest.approx(ba, abs=1e-12)
    assert rep["uar"] == pytest.approx(sk["uar"], abs=1e-12)
    assert rep["accuracy"] == pytest.approx(sk["acc"], abs=1e-12)
    assert rep["macro_f1"] == pytest.approx(sk["f1"], abs=1e-12)
    assert rep["confusion"] == sk["cm"].tolist()
    for i, lab in enumerate(labels):
        pc = rep["per_class"][lab]
        assert pc["precision"] == pytest.approx(sk["p"][i], abs=1e-12)
        assert pc["recall"] == pytest.approx(sk["r"][i], abs=1e-12)
        assert pc["f1"] == pytest.approx(sk["f"][i], abs=1e-12)
        assert pc["support"] == sk["s"][i]
    assert rep["n"] == n


@pytest.mark.parametrize("trial", range(10))
def test_report_with_explicit_labels_including_unseen_ones(trial: int) -> None:
    rng = np.random.default_rng(100 + trial)
    n = 40
    present = EMO[:4]
    yt = rng.choice(present, size=n)
    yp = rng.choice(EMO[:5], size=n)  # "angry" predicted but never true
    rep = ev.report(yt, yp, labels=EMO)
    sk = _sk(yt, yp, EMO)
    assert rep["labels"] == EMO
    assert np.array(rep["confusion"]).shape == (8, 8)
    assert rep["confusion"] == sk["cm"].tolist()
    assert rep["macro_f1"] == pytest.approx(sk["f1"], abs=1e-12)
    # UAR only over classes with support, = balanced accuracy on the same data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert rep["uar"] == pytest.approx(balanced_accuracy_score(yt, yp), abs=1e-12)
    assert rep["uar"] == pytest.approx(sk["uar"], abs=1e-12)
    assert rep["per_class"]["surprised"]["support"] == 0
    assert rep["per_class"]["surprised"]["recall"] == 0.0


def test_report_integer_labels_and_json() -> None:
    yt = np.array([0, 1, 2, 2, 1, 0, 3])
    yp = np.array([0, 2, 2, 2, 1, 1, 3])
    rep = ev.report(yt, yp)
    text = json.dumps(rep)  # plain Python types only
    back = json.loads(text)
    assert back["labels"] == [0, 1, 2, 3]
    assert all(type(v) is int for v in rep["labels"])
    assert type(rep["uar"]) is float and type(rep["confusion"][0][0]) is int
    # hand check: recalls 1/2, 1/2, 1, 1 -> UAR 0.75; accuracy 5/7
    assert rep["uar"] == pytest.approx(0.75)
    assert rep["accuracy"] == pytest.approx(5 / 7)


def test_uar_differs_from_accuracy_on_imbalanced_data() -> None:
    yt = ["neutral"] * 90 + ["angry"] * 10
    yp = ["neutral"] * 100  # majority-class predictor
    rep = ev.report(yt, yp)
    assert rep["accuracy"] == pytest.approx(0.9)
    assert rep["uar"] == pytest.approx(0.5)
    assert ev.uar(yt, yp) == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("yt", "yp", "labels", "msg"),
    [
        ([], [], None, "empty"),
        (["a", "b"], ["a"], None, "same length"),
        (["a", "b"], ["a", "c"], ["a", "b"], "not in `labels`"),
        (["a", "b"], ["a", "b"], ["a", "a", "b"], "duplicates"),
        ([0, 1], [0, 1], ["0", "1"], "not in `labels`"),
        (["a", "b"], ["a", "b"], [], "empty"),
        ([[1, 2]], [[1, 2]], None, "1-D"),
        ([1.0, np.nan], [1.0, 1.0], None, "NaN"),
    ],
)
def test_report_bad_input_raises_data_error(yt, yp, labels, msg) -> None:
    with pytest.raises(DataError, match=msg):
        ev.report(yt, yp, labels=labels)


def _speaker_data(rng: np.random.Generator, n_spk: int = 8, per: int = 24, acc: float = 0.7):
    groups = np.repeat([f"spk{i}" for i in range(n_spk)], per)
    yt = rng.choice(EMO, size=len(groups))
    # speaker-dependent accuracy: clips of one speaker are correlated
    spk_acc = np.clip(acc + rng.normal(0, 0.15, n_spk), 0.05, 0.95)
    ok = rng.random(len(groups)) < np.repeat(spk_acc, per)
    yp = np.where(ok, yt, rng.choice(EMO, size=len(groups)))
    return yt, yp, groups


def test_bootstrap_ci_contains_point_estimate_and_is_reproducible(rng) -> None:
    yt, yp, groups = _speaker_data(rng)
    ci = ev.bootstrap_uar_ci(yt, yp, groups, n_boot=300, seed=3)
    assert ci["uar"] == pytest.approx(balanced_accuracy_score(yt, yp))
    assert ci["low"] < ci["uar"] < ci["high"]
    assert ci["n_groups"] == 8
    assert ev.bootstrap_uar_ci(yt, yp, groups, n_boot=300, seed=3) == ci
    wider = ev.bootstrap_uar_ci(yt, yp, groups, n_boot=300, alpha=0.01, seed=3)
    assert wider["low"] <= ci["low"] and wider["high"] >= ci["high"]


def test_bootstrap_resamples_speakers_not_clips(rng) -> None:
    yt, yp, groups = _speaker_data(rng, n_spk=6, per=40)
    by_speaker = ev.bootstrap_uar_ci(yt, yp, groups, n_boot=400, seed=0)
    by_clip = ev.bootstrap_uar_ci(yt, yp, np.arange(len(yt)), n_boot=400, seed=0)
    assert by_clip["n_groups"] == len(yt)
    # correlated clips within speakers: the speaker bootstrap is wider
    assert by_speaker["high"] - by_speaker["low"] > by_clip["high"] - by_clip["low"]
    # one speaker only: every replicate is the same data, zero width
    one = ev.bootstrap_uar_ci(yt, yp, ["s"] * len(yt), n_boot=50, seed=0)
    assert one["low"] == pytest.approx(one["high"]) == pytest.approx(one["uar"])


def test_bootstrap_bad_input() -> None:
    with pytest.raises(DataError, match="groups"):
        ev.bootstrap_uar_ci(["a", "b"], ["a", "b"], ["s"], n_boot=100)
    with pytest.raises(DataError, match="n_boot"):
        ev.bootstrap_uar_ci(["a", "b"], ["a", "b"], ["s", "t"], n_boot=1)
    with pytest.raises(DataError, match="alpha"):
        ev.bootstrap_uar_ci(["a", "b"], ["a", "b"], ["s", "t"], n_boot=100, alpha=1.5)


def test_mcnemar_exact_and_chi2_by_hand(rng) -> None:
    n = 200
    yt = rng.choice(EMO[:4], size=n)
    ok_a = rng.random(n) < 0.75
    ok_b = rng.random(n) < 0.6
    wrong = np.array([EMO[(EMO.index(v) + 1) % 4] for v in yt])
    pa = np.where(ok_a, yt, wrong)
    pb = np.where(ok_b, yt, wrong)
    b = int(np.sum(ok_a & ~ok_b))
    c = int(np.sum(~ok_a & ok_b))
    ex = ev.mcnemar(yt, pa, pb, exact=True)
    assert (ex["b"], ex["c"]) == (b, c)
    assert ex["p_value"] == pytest.approx(stats.binomtest(b, b + c, 0.5).pvalue)
    # exact two-sided binomial by hand: 2 * P(X <= min(b, c)), capped at 1
    k, m = min(b, c), b + c
    hand = min(1.0, 2 * sum(stats.binom.pmf(i, m, 0.5) for i in range(k + 1)))
    assert ex["p_value"] == pytest.approx(hand, rel=1e-9)
    ch = ev.mcnemar(yt, pa, pb, exact=False)
    stat = (abs(b - c) - 1) ** 2 / (b + c)
    assert ch["statistic"] == pytest.approx(stat)
    assert ch["p_value"] == pytest.approx(1 - stats.chi2.cdf(stat, 1))
    assert ch["method"] == "chi2" and ex["method"] == "exact"
    assert ex["acc_a"] == pytest.approx(np.mean(pa == yt))


def test_mcnemar_small_textbook_case() -> None:
    # b = 1, c = 9: exact p = 2 * (1 + 10) / 2**10
    yt = ["x"] * 10
    pa = ["x"] + ["y"] * 9
    pb = ["y"] + ["x"] * 9
    res = ev.mcnemar(yt, pa, pb)
    assert res["method"] == "exact"
    assert res["p_value"] == pytest.approx(22 / 1024)
    same = ev.mcnemar(yt, pa, pa)
    assert same["p_value"] == 1.0 and same["b"] == same["c"] == 0


def test_mcnemar_mismatched_length() -> None:
    with pytest.raises(DataError, match="pred_b"):
        ev.mcnemar(["a", "b"], ["a", "b"], ["a"])


def test_plots_are_labelled(rng) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yt, yp, _ = _speaker_data(rng, n_spk=3, per=20)
    fig = ev.plot_confusion(yt, yp, labels=EMO)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"
    assert "UAR" in ax.get_title()
    assert [t.get_text() for t in ax.get_yticklabels()] == EMO
    img = ax.images[0].get_array()
    rows = np.asarray(img).sum(axis=1)
    np.testing.assert_allclose(rows[rows > 0], 1.0)  # normalised rows
    counts = ev.plot_confusion(yt, yp, labels=EMO, normalize=False)
    assert np.asarray(counts.axes[0].images[0].get_array()).sum() == len(yt)
    fig2 = ev.plot_per_class(yt, yp, labels=EMO)
    ax2 = fig2.axes[0]
    assert ax2.get_ylabel() and ax2.get_xlabel() and ax2.get_title()
    assert len(ax2.patches) == 3 * len(EMO)
    assert any("UAR" in t.get_text() for t in ax2.get_legend().get_texts())
    plt.close("all")


def test_compare_models_table(rng) -> None:
    yt, yp_good, groups = _speaker_data(rng, acc=0.85)
    yp_bad = np.where(rng.random(len(yt)) < 0.3, yt, "neutral")
    table = ev.compare_models(
        {"good": (yt, yp_good, groups), "bad": (yt, yp_bad, groups)},
        n_boot=200,
        reference="good",
    )
    assert list(table.index) == ["good", "bad"]
    for col in ("uar", "uar_low", "uar_high", "accuracy", "macro_f1", "p_vs_good"):
        assert col in table.columns
    assert table.loc["good", "uar"] == pytest.approx(balanced_accuracy_score(yt, yp_good))
    assert table.loc["bad", "p_vs_good"] < 0.001
    assert table.loc["good", "p_vs_good"] == 1.0
    assert (table["uar_low"] <= table["uar"]).all() and (table["uar"] <= table["uar_high"]).all()
    with pytest.raises(DataError, match="same test clips"):
        ev.compare_models({"a": (yt, yp_good, groups), "b": (yt[::-1], yp_bad, groups)}, n_boot=20, reference="a")
    with pytest.raises(DataError, match="empty"):
        ev.compare_models({})


def test_plots_draw_into_given_axes_and_counts_are_integers(rng) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yt, yp, _ = _speaker_data(rng, n_spk=2, per=16)
    fig, (a1, a2) = plt.subplots(1, 2)
    assert ev.plot_confusion(yt, yp, labels=EMO, normalize=False, ax=a1, title="counts") is fig
    assert ev.plot_per_class(yt, yp, labels=EMO, ax=a2) is fig
    assert a1.get_title() == "counts"
    texts = [t.get_text() for t in a1.texts]
    assert len(texts) == len(EMO) ** 2 and all(t.isdigit() for t in texts)
    plt.close("all")


def test_bootstrap_accepts_a_generator_and_integer_labels(rng) -> None:
    yt, yp, groups = _speaker_data(rng)
    codes = {e: i for i, e in enumerate(EMO)}
    yt_i = np.array([codes[v] for v in yt])
    yp_i = np.array([codes[v] for v in yp])
    a = ev.bootstrap_uar_ci(yt_i, yp_i, groups, n_boot=100, seed=np.random.default_rng(7))
    b = ev.bootstrap_uar_ci(yt, yp, groups, n_boot=100, seed=np.random.default_rng(7))
    assert a == b  # same draws, same numbers, whatever the label type
