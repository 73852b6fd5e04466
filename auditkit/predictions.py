"""Turning the target column and a model (or a model's saved outputs) into audit-ready arrays.

Classification targets are encoded as 1 for the positive label and 0 otherwise; labels are
matched by their text, so ``positive_label: 1`` matches a column of ``1``, ``1.0`` or ``"1"``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import DataError, ModelError

__all__ = ["Predictions", "Target", "encode_target", "predict_with_model", "predictions_from_columns"]


@dataclass(frozen=True)
class Target:
    values: Any  # numpy array: 0/1 (classification) or float (regression)
    task: str
    positive_label: str | None
    labels: tuple[str, ...]


@dataclass(frozen=True)
class Predictions:
    """What the audited model decided for each row."""

    y_pred: Any
    y_score: Any | None
    source: str  # "model" or "columns"
    feature_columns: tuple[str, ...] = ()
    threshold: float | None = None


def label_key(value: Any) -> str:
    """Text form of a label used for matching (``1``, ``1.0`` and ``"1"`` are the same label)."""
    if isinstance(value, bool):
        return str(value).lower()
    try:
        import numpy as np

        if isinstance(value, np.generic):
            value = value.item()
    except ImportError:  # pragma: no cover
        pass
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    return text.lower() if text.lower() in ("true", "false") else text


def _keys(series):
    import pandas as pd

    values = series.astype(object)
    return pd.Series([label_key(v) for v in values], index=series.index) if len(values) < 50_000 else _fast_keys(series)


def _fast_keys(series):
    import pandas as pd

    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    mapped = [label_key(u) for u in uniques]
    import numpy as np

    table = np.array(mapped + [None], dtype=object)
    return pd.Series(table[codes], index=series.index)


def encode_target(series, positive_label: Any, *, source: Path | str) -> Target:
    """Encode the label column.

    Raises
    ------
    DataError
        Missing labels, a positive label absent from the data, a single class, or more than
        two classes.
    """
    import numpy as np
    import pandas as pd

    name = series.name
    missing = int(series.isna().sum())
    if missing:
        raise DataError(f"{source}: target column '{name}' has {missing} missing value(s); drop or fill those rows before auditing.")
    if positive_label is None:
        if pd.api.types.is_bool_dtype(series):
            return Target(series.to_numpy().astype(np.int8), "classification", "true", ("false", "true"))
        if pd.api.types.is_numeric_dtype(series):
            uniques = set(np.unique(series.to_numpy()))
            if uniques <= {0, 1}:
                if len(uniques) < 2:
                    raise DataError(f"{source}: target column '{name}' has only one class; an audit needs both outcomes.")
                return Target(series.to_numpy().astype(np.int8), "classification", "1", ("0", "1"))
            values = series.to_numpy(dtype=float)
            if not np.isfinite(values).all():
                raise DataError(f"{source}: target column '{name}' holds infinite values; clean the data.")
            return Target(values, "regression", None, ())
        raise DataError(f"{source}: target column '{name}' holds text labels; set data.positive_label to the label counted as the positive outcome.")
    keys = _keys(series)
    labels = tuple(sorted(pd.unique(keys)))
    positive = label_key(positive_label)
    if positive not in labels:
        raise DataError(f"{source}: positive label '{positive_label}' does not occur in target column '{name}' (values: {', '.join(labels[:8])}); fix data.positive_label.")
    if len(labels) == 1:
        raise DataError(f"{source}: target column '{name}' has only one class ('{labels[0]}'); an audit needs both outcomes.")
    if len(labels) > 2:
        raise DataError(f"{source}: target column '{name}' has {len(labels)} classes ({', '.join(labels[:8])}); auditkit audits binary decisions, so map the target to two classes.")
    return Target((keys.to_numpy() == positive).astype(np.int8), "classification", positive, labels)


def model_feature_columns(estimator, columns: list[str], *, exclude: set[str], path) -> tuple[str, ...]:
    """The columns the model was trained on, in training order."""
    names = getattr(estimator, "feature_names_in_", None)
    if names is None and hasattr(estimator, "steps"):
        names = getattr(estimator.steps[0][1], "feature_names_in_", None)
    if names is not None:
        names = [str(n) for n in names]
        absent = [n for n in names if n not in columns]
        if absent:
            raise ModelError(f"{path}: the model expects column(s) {', '.join(absent[:8])} that the data does not have; audit it on data with the training columns.")
        return tuple(names)
    candidates = [c for c in columns if c not in exclude]
    expected = getattr(estimator, "n_features_in_", None)
    if expected is not None and expected != len(candidates):
        raise ModelError(f"{path}: the model was fitted without column names and expects {expected} features, but the data has {len(candidates)} non-target columns; refit the model on a DataFrame.")
    return tuple(candidates)


def predict_with_model(loaded, frame, target: Target, *, threshold: float, exclude: set[str]) -> Predictions:
    """Run a loaded model on the rows, giving the model exactly its training columns."""
    import numpy as np

    estimator = loaded.estimator
    path = loaded.path
    features = model_feature_columns(estimator, [str(c) for c in frame.columns], exclude=exclude, path=path)
    X = frame[list(features)]
    try:
        if target.task == "regression":
            y_pred = np.asarray(estimator.predict(X), dtype=float)
            _check_length(y_pred, X, path)
            if not np.isfinite(y_pred).all():
                raise ModelError(f"{path}: the model predicted non-finite values; check the data for infinities or the model for bugs.")
            return Predictions(y_pred=y_pred, y_score=None, source="model", feature_columns=features)
        classes = [label_key(c) for c in getattr(estimator, "classes_", [])]
        if classes and target.positive_label not in classes:
            raise ModelError(f"{path}: the model's classes ({', '.join(classes)}) do not include the positive label '{target.positive_label}'; check data.positive_label.")
        if hasattr(estimator, "predict_proba") and classes:
            if len(classes) != 2:
                raise ModelError(f"{path}: the model has {len(classes)} classes; auditkit audits binary classifiers.")
            proba = np.asarray(estimator.predict_proba(X), dtype=float)
            _check_length(proba, X, path)
            score = proba[:, classes.index(target.positive_label)]
            if not np.isfinite(score).all():
                raise ModelError(f"{path}: the model returned non-finite probabilities; check the data for infinities or missing values the model cannot handle.")
            return Predictions(y_pred=(score >= threshold).astype(np.int8), y_score=score, source="model",
                               feature_columns=features, threshold=threshold)
        raw = estimator.predict(X)
        _check_length(raw, X, path)
        keys = np.array([label_key(v) for v in raw], dtype=object)
        unknown = sorted(set(keys) - set(target.labels))
        if unknown:
            raise ModelError(f"{path}: the model predicts label(s) {', '.join(unknown[:5])} that the target does not have ({', '.join(target.labels)}); check data.positive_label and the target column.")
        return Predictions(y_pred=(keys == target.positive_label).astype(np.int8), y_score=None, source="model",
                           feature_columns=features)
    except ModelError:
        raise
    except Exception as exc:
        reason = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise ModelError(f"{path}: the model failed to predict ({type(exc).__name__}: {reason}); check that the data matches what the model was trained on.") from None


def _check_length(values, X, path) -> None:
    if len(values) != len(X):
        raise ModelError(f"{path}: the model returned {len(values)} predictions for {len(X)} rows.")


def predictions_from_columns(frame, target: Target, *, label: str, score: str | None, threshold: float,
                             source: Path | str) -> Predictions:
    """Use a model's saved outputs (label and optional score columns) instead of running it."""
    import numpy as np
    import pandas as pd

    column = frame[label]
    if column.isna().any():
        raise DataError(f"{source}: prediction column '{label}' has {int(column.isna().sum())} missing value(s); every row needs a prediction.")
    y_score = None
    if score is not None:
        raw = frame[score]
        if not pd.api.types.is_numeric_dtype(raw):
            raise DataError(f"{source}: score column '{score}' is not numeric; it must hold the probability or score of the positive class.")
        y_score = raw.to_numpy(dtype=float)
        if not np.isfinite(y_score).all():
            raise DataError(f"{source}: score column '{score}' has missing or infinite values; every row needs a finite score.")
    if target.task == "regression":
        if not pd.api.types.is_numeric_dtype(column):
            raise DataError(f"{source}: prediction column '{label}' is not numeric but the target is; store predicted values.")
        return Predictions(y_pred=column.to_numpy(dtype=float), y_score=None, source="columns")
    keys = _keys(column)
    unknown = sorted(set(pd.unique(keys)) - set(target.labels))
    if unknown:
        raise DataError(f"{source}: prediction column '{label}' has label(s) {', '.join(map(str, unknown[:5]))} that the target does not have ({', '.join(target.labels)}); predictions must use the target's labels.")
    y_pred = (keys.to_numpy() == target.positive_label).astype(np.int8)
    return Predictions(y_pred=y_pred, y_score=y_score, source="columns")
