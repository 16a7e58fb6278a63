"""Classical baselines: SVM (RBF kernel) and decision tree on utterance-level functionals.

The source article mentions both. Done right, they are a
:class:`~sklearn.pipeline.Pipeline` (standardisation + classifier) whose
hyper-parameters are chosen by cross-validation **grouped by speaker** on the
training speakers only, scoring balanced accuracy (UAR). The scaler is part of
the pipeline, so inside each cross-validation fold it is fitted on that fold's
training clips only: no statistics leak from the held-out speakers.

Notebook: ``book/08_evaluation.ipynb``.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.model_selection import GridSearchCV, GroupKFold, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

from sertools.errors import DataError

__all__ = ["GRIDS", "fit_baseline", "make_pipeline"]

#: Hyper-parameter grids (small on purpose: the search runs in seconds).
GRIDS: dict[str, dict[str, list[Any]]] = {
    "svm": {"clf__C": [1.0, 10.0, 100.0], "clf__gamma": ["scale", 0.003]},
    "tree": {"clf__max_depth": [3, 6, None], "clf__min_samples_leaf": [1, 4]},
}


def make_pipeline(kind: Literal["svm", "tree"] = "svm", seed: int = 0) -> Pipeline:
    """The unfitted baseline: ``StandardScaler`` followed by the classifier.

    Both classifiers use ``class_weight="balanced"``, so rare emotions weigh as
    much as frequent ones, which is what UAR rewards.

    Notebook: ``book/08_evaluation.ipynb``.
    """
    if kind == "svm":
        clf: Any = SVC(kernel="rbf", class_weight="balanced", random_state=seed)
    elif kind == "tree":
        clf = DecisionTreeClassifier(class_weight="balanced", random_state=seed)
    else:
        raise DataError(f"kind: must be 'svm' or 'tree', got {kind!r}")
    return Pipeline([("scale", StandardScaler()), ("clf", clf)])


def fit_baseline(
    X: Any,
    y: Any,
    groups: Any,
    kind: Literal["svm", "tree"] = "svm",
    seed: int = 0,
    n_splits: int = 4,
    probability: bool = False,
) -> Pipeline:
    """Fit an SVM or decision-tree baseline with speaker-grouped hyper-parameter search.

    Parameters
    ----------
    X : array (n_clips, n_features)
        Utterance-level features of the **training** clips only (e.g.
        :func:`sertools.features.functionals`). Finite values.
    y : sequence (n_clips,)
        Emotion label of each clip.
    groups : sequence (n_clips,)
        Speaker of each clip: the cross-validation folds never split a
        speaker, so the chosen hyper-parameters are those that generalise to
        new speakers.
    kind : {"svm", "tree"}
        RBF-kernel SVM or decision tree (grids in :data:`GRIDS`).
    seed : int
        Random state of the classifier.
    n_splits : int
        Folds of :class:`~sklearn.model_selection.GroupKFold` (capped at the
        number of speakers; at least 2 speakers are needed).
    probability : bool
        SVM only: wrap the chosen SVM in a sigmoid (Platt)
        :class:`~sklearn.calibration.CalibratedClassifierCV` so that the
        pipeline has ``predict_proba`` (the search itself runs without it,
        for speed). The decision tree always has ``predict_proba``.

    Returns
    -------
    sklearn.pipeline.Pipeline
        Refitted on all of ``X`` with the best hyper-parameters. Extra
        attributes: ``best_params_`` (dict), ``cv_uar_`` (mean cross-validated
        balanced accuracy of the best setting), ``cv_results_`` (the search's table).

    Raises
    ------
    DataError
        Mismatched lengths, non-finite features, fewer than 2 speakers or
        classes, or an unknown ``kind``.

    Notebook: ``book/08_evaluation.ipynb``.
    """
    Xa = np.asarray(X, dtype=float)
    ya = np.asarray(y)
    ga = np.asarray(groups)
    if Xa.ndim != 2:
        raise DataError(f"X: expected a 2-D array (clips x features), got shape {Xa.shape}")
    if not (len(Xa) == len(ya) == len(ga)):
        raise DataError(f"X, y and groups must have the same length, got {len(Xa)}, {len(ya)}, {len(ga)}")
    if not np.all(np.isfinite(Xa)):
        bad = np.unique(np.nonzero(~np.isfinite(Xa))[0])
        raise DataError(f"X: rows {bad[:10].tolist()} contain NaN or infinite features")
    if len(np.unique(ya)) < 2:
        raise DataError("y: needs at least 2 classes to train a classifier")
    n_groups = len(np.unique(ga))
    if n_groups < 2:
        raise DataError(f"groups: speaker-grouped cross-validation needs at least 2 speakers, got {n_groups}")
    pipe = make_pipeline(kind, seed=seed)
    cv = GroupKFold(n_splits=min(int(n_splits), n_groups))
    search = GridSearchCV(
        pipe,
        GRIDS[kind],
        scoring="balanced_accuracy",
        cv=cv,
        refit=True,
        n_jobs=1,
        error_score="raise",
    )
    search.fit(Xa, ya, groups=ga)
    best: Pipeline = search.best_estimator_
    if probability and kind == "svm":
        # Platt scaling on out-of-fold decision values (what SVC(probability=True) did,
        # deprecated in scikit-learn 1.9); the SVM itself is refitted on all clips.
        min_count = int(np.min(np.unique(ya, return_counts=True)[1]))
        if min_count < 2:
            raise DataError("y: probability=True needs at least 2 clips of every class")
        calib = CalibratedClassifierCV(
            clone(best.named_steps["clf"]),
            method="sigmoid",
            ensemble=False,
            cv=StratifiedKFold(n_splits=min(5, min_count), shuffle=True, random_state=seed),
        )
        best = Pipeline([("scale", StandardScaler()), ("clf", calib)]).fit(Xa, ya)
    best.best_params_ = dict(search.best_params_)
    best.cv_uar_ = float(search.best_score_)
    best.cv_results_ = search.cv_results_
    return best
