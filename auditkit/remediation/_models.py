"""The model file a remedy writes: the audited classifier with its decision threshold set per
group (or once for everyone), saved with skops so that ``audit check --model`` loads it safely.

auditkit decides ``score >= threshold`` with the policy's ``model.threshold``. The wrapper keeps
that rule and moves the scores instead: within each group, a score at the group's threshold
``t`` maps to the policy's threshold ``T`` (scores below ``t`` to ``[0, T)``, above to
``[T, 1]``, linearly), so each group's ranking (and AUC) is unchanged while its decisions follow
its own threshold. The scores are therefore no longer calibrated across groups.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from ..sensitive import group_labels

__all__ = ["GroupThresholdClassifier", "TRUSTED_TYPES"]


class GroupThresholdClassifier(ClassifierMixin, BaseEstimator):
    """A fitted binary classifier whose decision threshold depends on group columns.

    Parameters
    ----------
    estimator : fitted classifier
        The audited model (with ``predict_proba`` and ``classes_``).
    positive_label : str
        The favourable class; its probability is the score.
    group_columns : list of str
        The columns whose values (joined with ``" & "``) name a row's group; empty for one
        threshold for everyone.
    group_labels, thresholds : list
        The threshold of each group label.
    default_threshold : float
        The threshold of rows in no listed group (and of everyone without group columns).
    decision_threshold : float
        The threshold the audit applies to the scores (the policy's ``model.threshold``).
    """

    def __init__(self, estimator=None, positive_label=None, group_columns=(), group_labels=(), thresholds=(),
                 default_threshold=0.5, decision_threshold=0.5):
        self.estimator = estimator
        self.positive_label = positive_label
        self.group_columns = group_columns
        self.group_labels = group_labels
        self.thresholds = thresholds
        self.default_threshold = default_threshold
        self.decision_threshold = decision_threshold

    # -- what auditkit reads --------------------------------------------------------------
    @property
    def classes_(self):
        return self.estimator.classes_

    @property
    def base_features_(self) -> list[str]:
        names = getattr(self.estimator, "feature_names_in_", None)
        if names is None and hasattr(self.estimator, "steps"):
            names = getattr(self.estimator.steps[0][1], "feature_names_in_", None)
        if names is None:
            raise AttributeError("the wrapped model was fitted without column names")
        return [str(n) for n in names]

    @property
    def feature_names_in_(self):
        base = self.base_features_
        return np.array(base + [c for c in self.group_columns if c not in base], dtype=object)

    @property
    def n_features_in_(self) -> int:
        return len(self.feature_names_in_)

    def fit(self, X, y=None):
        """Nothing to fit: the wrapper is built from an already fitted model."""
        return self

    # -- predictions ------------------------------------------------------------------------
    def row_thresholds(self, X) -> np.ndarray:
        """The decision threshold of every row of ``X``."""
        n = len(X)
        if not self.group_columns:
            return np.full(n, float(self.default_threshold))
        labels = group_labels(X, list(self.group_columns))
        lookup = dict(zip([str(g) for g in self.group_labels], [float(t) for t in self.thresholds]))
        default = float(self.default_threshold)
        return np.array([lookup.get(label, default) for label in labels], dtype=np.float64)

    def predict_proba(self, X):
        """Scores moved so that ``score >= decision_threshold`` iff the raw score reaches the
        row's own threshold (see the module docstring)."""
        classes = list(self.classes_)
        positive = classes.index(self.positive_label)
        proba = np.asarray(self.estimator.predict_proba(X[self.base_features_]), dtype=np.float64)
        moved = adjust_scores(proba[:, positive], self.row_thresholds(X), float(self.decision_threshold))
        out = np.empty((len(moved), 2))
        out[:, positive] = moved
        out[:, 1 - positive] = 1.0 - moved
        return out

    def predict(self, X):
        classes = np.asarray(self.classes_)
        positive = list(classes).index(self.positive_label)
        chosen = self.predict_proba(X)[:, positive] >= float(self.decision_threshold)
        return np.where(chosen, classes[positive], classes[1 - positive])


def adjust_scores(scores: np.ndarray, thresholds: np.ndarray, target: float) -> np.ndarray:
    """Map each score so that it reaches ``target`` exactly when it reaches its threshold.

    Below its threshold ``t`` a score ``s`` becomes ``target * s / t`` (strictly below
    ``target``); from ``t`` on, ``target + (1 - target) (s - t) / (1 - t)`` (``target`` when
    ``t >= 1``).
    """
    scores = np.asarray(scores, dtype=np.float64)
    t = np.asarray(thresholds, dtype=np.float64)
    reached = scores >= t
    below = np.where(t > 0, target * scores / np.where(t > 0, t, 1.0), 0.0)
    below = np.minimum(below, np.nextafter(target, 0.0))  # rounding never lifts a score to target
    span = np.where(t < 1.0, 1.0 - t, 1.0)
    above = np.where(t < 1.0, target + (1.0 - target) * (scores - t) / span, target)
    return np.clip(np.where(reached, np.maximum(above, target), below), 0.0, 1.0)


#: auditkit's own types, which ``load_model`` trusts by name in a skops file.
TRUSTED_TYPES = (f"{GroupThresholdClassifier.__module__}.{GroupThresholdClassifier.__qualname__}",)
