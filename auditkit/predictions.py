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

    if len(series) >= 50_000:
        return _fast_keys(series)
    return pd.Series([label_key(v) for v in series.astype(object)], index=series.index)


def _coded_keys(series):
    """``(codes, keys)``: the label key of row ``i`` is ``keys[codes[i]]`` (what :func:`_keys`
    gives, without a Python string per row). ``series`` has no missing values."""
    import pandas as pd

    if len(series) < 50_000:
        codes, keys = pd.factorize(_keys(series).to_numpy())
        return codes, [str(k) for k in keys]
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    return codes, [label_key(u) for u in uniques]


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
    codes, keys = _coded_keys(series)
    labels = tuple(sorted(set(keys)))
    positive = label_key(positive_label)
    if positive not in labels:
        raise DataError(f"{source}: positive label '{positive_label}' does not occur in target column '{name}' (values: {', '.join(labels[:8])}); fix data.positive_label.")
    if len(labels) == 1:
        raise DataError(f"{source}: target column '{name}' has only one class ('{labels[0]}'); an audit needs both outcomes.")
    if len(labels) > 2:
        raise DataError(f"{source}: target column '{name}' has {len(labels)} classes ({', '.join(labels[:8])}); auditkit audits binary decisions, so map the target to two classes.")
    is_positive = np.array([key == positive for key in keys], dtype=np.int8)
    return Target(is_positive[codes], "classification", positive, labels)


def model_feature_columns(estimator, columns: list[str], *, exclude: set[str], path) -> tuple[str, ...]:
    """The columns the model was trained on, in training order.

    The model's attributes are model code (properties may raise anything): they are read
    through :func:`auditkit.model.run_model_code`, so a failure is a :class:`ModelError`.
    """
    from .model import run_model_code
    from .sanitize import short_repr

    def read():
        names = getattr(estimator, "feature_names_in_", None)
        if names is None and hasattr(estimator, "steps"):
            names = getattr(estimator.steps[0][1], "feature_names_in_", None)
        if names is not None:
            import numpy as np

            names = [str(n) for n in np.asarray(names, dtype=object).ravel()]
        expected = getattr(estimator, "n_features_in_", None)
        if expected is not None:
            expected = int(expected)
        return names, expected

    names, expected = run_model_code(path, "reading its feature_names_in_ / n_features_in_ attributes failed", read)
    if names is not None:
        absent = [n for n in names if n not in columns]
        if absent:
            shown = ", ".join(short_repr(n, 60)[1:-1] for n in absent[:8])
            raise ModelError(f"{path}: the model expects column(s) {shown} that the data does not have; audit it on data with the training columns.")
        return tuple(names)
    candidates = [c for c in columns if c not in exclude]
    if expected is not None and expected != len(candidates):
        raise ModelError(f"{path}: the model was fitted without column names and expects {expected} features, but the data has {len(candidates)} non-target columns; refit the model on a DataFrame.")
    return tuple(candidates)


def model_classes(estimator, path) -> list[str] | None:
    """The label keys of the model's ``classes_`` (``None`` when it has none), read as model code."""
    from .model import run_model_code

    def read():
        classes = getattr(estimator, "classes_", None)
        if classes is None:
            return None
        import numpy as np

        return [label_key(c) for c in np.asarray(classes, dtype=object).ravel()]

    return run_model_code(path, "reading its classes_ attribute failed", read)


#: A predicted probability may miss [0, 1] by this much (float rounding) before it is an error.
PROBABILITY_RANGE_TOLERANCE = 1e-9
#: Each row of predict_proba must add up to 1 within this. For float types less precise than
#: float64 it is 64 machine epsilons of that type (at most 1e-3): float32 models are off by up
#: to ~2e-6 (GaussianNB; LightGBM, XGBoost, MLP and logistic regression by < 1e-7).
PROBABILITY_SUM_TOLERANCE = 1e-6


def check_probabilities(proba, *, n_rows: int, n_classes: int, path, index=None, what: str = "predict_proba()"):
    """Validate what ``predict_proba`` returned; returns it as a float64 array of shape (n_rows, n_classes).

    Parameters
    ----------
    proba : ndarray
        The returned values, already converted with ``np.asarray``.
    n_rows, n_classes : int
        Rows predicted and ``len(classes_)``.
    path : path or str
        The model file, named in messages.
    index : pandas Index, optional
        Labels of the predicted rows, to name an offending row.

    Raises
    ------
    ModelError
        Not 2-D, wrong shape, not numbers, non-finite values, values outside [0, 1], or rows
        that do not add up to 1; the message gives an example row.
    """
    import numpy as np

    where = f"{path}: the model's {what}"
    if proba.ndim != 2:
        raise ModelError(f"{where} returned a {proba.ndim}-D array of shape {tuple(proba.shape)}, not one row of {n_classes} "
                         "class probabilities per data row; audit a classifier whose predict_proba follows scikit-learn's contract.")
    if proba.shape[0] != n_rows:
        raise ModelError(f"{where} returned {proba.shape[0]} rows of probabilities for {n_rows} data rows; "
                         "check the model's predict_proba.")
    if proba.shape[1] != n_classes:
        raise ModelError(f"{where} returned {proba.shape[1]} probability column(s), but the model has {n_classes} classes "
                         "(classes_); audit a binary classifier whose predict_proba has one column per class.")
    if proba.dtype.kind not in "fiub":
        raise ModelError(f"{where} returned values of type {proba.dtype} (not real numbers); "
                         "audit a classifier whose predict_proba returns floats.")
    values = proba.astype(np.float64, copy=True)
    eps = float(np.finfo(proba.dtype).eps) if proba.dtype.kind == "f" else 0.0
    bad = ~np.isfinite(values).all(axis=1)
    if bad.any():
        row = _row_name(index, int(np.flatnonzero(bad)[0]))
        raise ModelError(f"{where} returned non-finite probabilities (NaN or infinite) for {int(bad.sum())} row(s), e.g. {row}; "
                         "check the data for values the model cannot handle.")
    range_tolerance = max(PROBABILITY_RANGE_TOLERANCE, 4 * eps)
    bad = ((values < -range_tolerance) | (values > 1 + range_tolerance)).any(axis=1)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise ModelError(f"{where} returned probabilities outside [0, 1] for {int(bad.sum())} row(s), e.g. {_row_name(index, first)} "
                         f"({', '.join(f'{v:.6g}' for v in values[first])}); a score that is not a probability "
                         "cannot be judged against model.threshold.")
    sum_tolerance = max(PROBABILITY_SUM_TOLERANCE, min(1e-3, 64 * eps)) if eps > 1e-12 else PROBABILITY_SUM_TOLERANCE
    sums = values.sum(axis=1)
    bad = np.abs(sums - 1.0) > sum_tolerance
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise ModelError(f"{where} returned probability rows that do not add up to 1 for {int(bad.sum())} row(s), e.g. "
                         f"{_row_name(index, first)} adds up to {sums[first]:.9g}; audit a classifier whose "
                         "predict_proba returns probabilities.")
    return np.clip(values, 0.0, 1.0)


def _row_name(index, position: int) -> str:
    from .sanitize import short_repr

    if index is not None:
        try:
            label = index[position]
            if label != position:
                return f"the row at position {position} (index {short_repr(label, 40)})"
        except Exception:  # noqa: BLE001 - an unusual index
            pass
    return f"the row at position {position}"


def _check_one_column(values, n_rows: int, path, what: str):
    """A prediction output as a 1-D array of n_rows values (a single column is accepted)."""
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.ndim != 1:
        raise ModelError(f"{path}: the model's {what} returned an array of shape {tuple(values.shape)}, not one value per "
                         "data row; check the model.")
    if len(values) != n_rows:
        raise ModelError(f"{path}: the model's {what} returned {len(values)} predictions for {n_rows} rows.")
    return values


def predict_with_model(loaded, frame, target: Target, *, threshold: float, exclude: set[str]) -> Predictions:
    """Run a loaded model on the rows, giving the model exactly its training columns.

    Every call into the model (attributes, ``predict``, ``predict_proba``, and turning what
    they return into arrays) goes through :func:`auditkit.model.run_model_code`; what they
    return is then checked: one value per row, numbers where numbers are due, no missing
    labels, and for ``predict_proba`` a (rows x 2) array of probabilities in [0, 1] whose
    rows add up to 1 (:func:`check_probabilities`).

    Raises
    ------
    ModelError
        The model fails (whatever it raises, ``SystemExit`` included) or returns something
        that is not a valid prediction; the message names the model file.
    """
    import numpy as np

    from .model import run_model_code
    from .sanitize import short_repr

    estimator = loaded.estimator
    path = loaded.path
    hint = "check that the data matches what the model was trained on"
    features = model_feature_columns(estimator, [str(c) for c in frame.columns], exclude=exclude, path=path)
    X = frame[list(features)]
    n = len(X)

    def array(method: str):
        def call():
            out = getattr(estimator, method)(X)
            return np.array(out, copy=True, subok=False)
        return run_model_code(path, f"{method}() failed to predict", call, hint=hint)

    if target.task == "regression":
        y_pred = _check_one_column(array("predict"), n, path, "predict()")
        if y_pred.dtype.kind not in "fiub":
            raise ModelError(f"{path}: the model's predict() returned values of type {y_pred.dtype}, not numbers, but the target is numeric; check the model.")
        y_pred = y_pred.astype(float)
        if not np.isfinite(y_pred).all():
            raise ModelError(f"{path}: the model predicted non-finite values; check the data for infinities or the model for bugs.")
        return Predictions(y_pred=y_pred, y_score=None, source="model", feature_columns=features)
    classes = model_classes(estimator, path)
    if classes and target.positive_label not in classes:
        shown = ", ".join(short_repr(c, 40)[1:-1] for c in classes[:8])
        raise ModelError(f"{path}: the model's classes ({shown}) do not include the positive label '{target.positive_label}'; check data.positive_label.")
    has_proba = run_model_code(path, "checking for predict_proba failed", lambda: hasattr(estimator, "predict_proba"))
    if has_proba and classes:
        if len(classes) != 2:
            raise ModelError(f"{path}: the model has {len(classes)} classes; auditkit audits binary classifiers.")
        if classes[0] == classes[1]:
            raise ModelError(f"{path}: the model's classes_ names the same label twice ({short_repr(classes[0], 40)}); check the model.")
        proba = check_probabilities(array("predict_proba"), n_rows=n, n_classes=len(classes), path=path, index=X.index)
        score = proba[:, classes.index(target.positive_label)]
        return Predictions(y_pred=(score >= threshold).astype(np.int8), y_score=score, source="model",
                           feature_columns=features, threshold=threshold)
    raw = _check_one_column(array("predict"), n, path, "predict()")

    def keys_of():
        import pandas as pd

        missing = pd.isna(raw) if raw.dtype.kind in "fOcmM" else np.zeros(len(raw), dtype=bool)
        return np.asarray(missing, dtype=bool), np.array([label_key(v) for v in raw], dtype=object)

    missing, keys = run_model_code(path, "reading the predicted labels failed", keys_of, hint=hint)
    if missing.any():
        row = _row_name(X.index, int(np.flatnonzero(missing)[0]))
        raise ModelError(f"{path}: the model's predict() returned missing labels (NaN or None) for {int(missing.sum())} row(s), e.g. {row}; "
                         "check the data for values the model cannot handle.")
    unknown = sorted(set(keys) - set(target.labels))
    if unknown:
        shown = ", ".join(short_repr(u, 40)[1:-1] for u in unknown[:5])
        raise ModelError(f"{path}: the model predicts label(s) {shown} that the target does not have ({', '.join(target.labels)}); check data.positive_label and the target column.")
    return Predictions(y_pred=(keys == target.positive_label).astype(np.int8), y_score=None, source="model",
                       feature_columns=features)


def predictions_from_columns(frame, target: Target, *, label: str, score: str | None, threshold: float,
                             source: Path | str) -> Predictions:
    """Use a model's saved outputs (label and optional score columns) instead of running it.

    Scores must be finite numbers; their range is not checked (a score column may hold a
    probability or any other score, and is used for score metrics such as AUC, never
    compared with ``model.threshold``: the decisions are the label column).
    """
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
    if target.values is None:  # labels pending: the decisions are two labels, one of them the positive one
        seen = sorted(set(pd.unique(keys)))
        if len(seen) > 2 or (len(seen) == 2 and target.positive_label not in seen):
            raise DataError(f"{source}: prediction column '{label}' has the labels {', '.join(map(str, seen[:5]))}, which are not "
                            f"two decisions including the positive label '{target.positive_label}'; check data.positive_label.")
        return Predictions(y_pred=(keys.to_numpy() == target.positive_label).astype(np.int8), y_score=y_score,
                           source="columns")
    unknown = sorted(set(pd.unique(keys)) - set(target.labels))
    if unknown:
        raise DataError(f"{source}: prediction column '{label}' has label(s) {', '.join(map(str, unknown[:5]))} that the target does not have ({', '.join(target.labels)}); predictions must use the target's labels.")
    y_pred = (keys.to_numpy() == target.positive_label).astype(np.int8)
    return Predictions(y_pred=y_pred, y_score=y_score, source="columns")
