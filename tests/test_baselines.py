"""sertools.baselines: speaker-grouped model selection, scaler inside the folds."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import balanced_accuracy_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from sertools import DataError
from sertools.baselines import GRIDS, fit_baseline, make_pipeline

CLASSES = ["neutral", "sad", "angry", "happy"]


def _data(seed: int = 0, n_spk: int = 8, per_class: int = 6, n_feat: int = 12):
    """Class-dependent means + a per-speaker offset, features on very different scales."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 2.0, size=(len(CLASSES), n_feat))
    scales = np.logspace(-2, 3, n_feat)
    X, y, g = [], [], []
    for s in range(n_spk):
        offset = rng.normal(0, 0.7, n_feat)
        for k, lab in enumerate(CLASSES):
            X.append(centres[k] + offset + rng.normal(0, 1.0, (per_class, n_feat)))
            y += [lab] * per_class
            g += [f"spk{s}"] * per_class
    return np.vstack(X) * scales, np.array(y), np.array(g)


@pytest.mark.parametrize("kind", ["svm", "tree"])
def test_fit_baseline_returns_fitted_pipeline_that_generalises(kind: str) -> None:
    X, y, g = _data()
    train = ~np.isin(g, ["spk6", "spk7"])
    model = fit_baseline(X[train], y[train], g[train], kind=kind, seed=0)
    assert isinstance(model, Pipeline)
    assert isinstance(model.steps[0][1], StandardScaler)
    assert set(model.best_params_) == set(GRIDS[kind])
    for name, value in model.best_params_.items():
        assert value in GRIDS[kind][name]
    assert 0.0 <= model.cv_uar_ <= 1.0
    uar = balanced_accuracy_score(y[~train], model.predict(X[~train]))
    assert uar > 0.6, f"{kind}: UAR {uar:.2f} on held-out speakers"
    # deterministic per seed
    again = fit_baseline(X[train], y[train], g[train], kind=kind, seed=0)
    np.testing.assert_array_equal(again.predict(X), model.predict(X))


def test_scaler_is_fitted_on_whole_training_speakers_only(monkeypatch) -> None:
    X, y, g = _data(n_spk=5)
    rows = np.arange(len(X), dtype=float)[:, None]
    X = np.hstack([X, rows * 1e-9])  # last column encodes the row: we can see what each fit saw
    seen: list[np.ndarray] = []
    original = StandardScaler.fit

    def spy(self, X_fit, y_fit=None, sample_weight=None):
        seen.append(np.rint(np.asarray(X_fit)[:, -1] * 1e9).astype(int))
        return original(self, X_fit, y_fit, sample_weight)

    monkeypatch.setattr(StandardScaler, "fit", spy)
    fit_baseline(X, y, g, kind="tree", n_splits=5)
    assert len(seen) > 1
    cv_fits = [idx for idx in seen if len(idx) < len(X)]
    assert cv_fits, "the scaler was never fitted inside a cross-validation fold"
    for idx in cv_fits:
        speakers_in = set(g[idx])
        # each fold's scaler saw all clips of its speakers and none of the held-out ones
        assert sorted(idx.tolist()) == np.flatnonzero(np.isin(g, list(speakers_in))).tolist()
        assert len(speakers_in) == 4
    assert any(len(idx) == len(X) for idx in seen)  # final refit on all training clips


def test_probability_option_gives_predict_proba() -> None:
    X, y, g = _data(n_spk=4, per_class=5)
    model = fit_baseline(X, y, g, kind="svm", probability=True)
    proba = model.predict_proba(X[:3])
    assert proba.shape == (3, len(CLASSES))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert list(model.classes_) == sorted(CLASSES)


@pytest.mark.parametrize(
    ("kwargs", "msg"),
    [
        ({"kind": "forest"}, "kind"),
        ({"groups": ["s"] * 96}, "at least 2 speakers"),
        ({"y": ["a"] * 96}, "2 classes"),
        ({"X": np.ones(96)}, "2-D"),
        ({"groups": ["s", "t"]}, "same length"),
    ],
)
def test_bad_input_raises_data_error(kwargs, msg) -> None:
    X, y, g = _data(n_spk=4, per_class=6)
    args = {"X": X, "y": y, "groups": g}
    args.update(kwargs)
    with pytest.raises(DataError, match=msg):
        fit_baseline(**args)


def test_nan_features_are_named() -> None:
    X, y, g = _data(n_spk=3, per_class=3)
    X[5, 2] = np.nan
    with pytest.raises(DataError, match=r"rows \[5\]"):
        fit_baseline(X, y, g)
    with pytest.raises(DataError, match="kind"):
        make_pipeline("knn")
