"""Predictions on Spark: the model runs on the executors through ``mapInPandas``.

Each executor gets the fitted estimator (pickled with the task, as for any Python UDF)
and applies it to Arrow batches with the one-machine code; labels are matched with the
same ``label_key`` normalisation as ``auditkit.predictions``, so ``1``, ``1.0`` and
``"1"`` are the same label. The target is encoded by :func:`encode_target_spark`; only
small checks (the target's and the prediction column's distinct values) reach the driver.
"""

from __future__ import annotations

from collections.abc import Sequence

from auditkit.errors import DataError, ModelError

from ._columns import column
from ._target import encode_target_spark

__all__ = ["predict_spark", "predictions_from_columns_spark"]

_SOURCE = "Spark data"


def _with_outputs(sdf, columns: Sequence[str]):
    from pyspark.sql.types import ByteType, DoubleType, StructField, StructType

    fields = [f for f in sdf.schema.fields if f.name not in columns[:3]]
    return StructType(fields + [
        StructField(columns[0], ByteType(), False),
        StructField(columns[1], ByteType(), False),
        StructField(columns[2], DoubleType(), True),
    ])


def predict_spark(
    sdf,
    loaded_model,
    *,
    target: str,
    positive_label,
    threshold: float = 0.5,
    feature_columns: Sequence[str] | None = None,
    exclude: Sequence[str] = (),
    output_columns: Sequence[str] = ("y_true", "y_pred", "y_score"),
):
    """Apply a binary classifier on the executors; add y_true, y_pred (0/1) and y_score.

    Parameters
    ----------
    sdf : pyspark.sql.DataFrame
    loaded_model : auditkit.model.LoadedModel or estimator
        From :func:`auditkit.model.load_model` (or a fitted scikit-learn estimator).
    target : str
        Label column.
    positive_label : object
        Label counted as the positive outcome.
    threshold : float
        Predicted positive when P(positive) >= threshold.
    feature_columns : sequence of str, optional
        Model inputs; default the model's ``feature_names_in_``, else every column but
        the target and `exclude` (as on one machine).
    exclude : sequence of str
        Columns never given to the model (e.g. sensitive features).
    output_columns : three str
        Names of the added columns.

    Returns
    -------
    pyspark.sql.DataFrame
        The input columns plus ``y_true`` and ``y_pred`` (0/1) and ``y_score`` (the
        probability of the positive label; null for a model without ``predict_proba``).

    Raises
    ------
    DataError, ModelError
        As the one-machine ``encode_target`` / ``predict_with_model`` would.
    """
    from auditkit.model import run_model_code
    from auditkit.predictions import label_key, model_classes, model_feature_columns

    estimator = getattr(loaded_model, "estimator", loaded_model)
    path = getattr(loaded_model, "path", "model")
    yt_name, yp_name, ys_name = output_columns
    encoded, positive, _ = encode_target_spark(sdf, target, positive_label, source=_SOURCE, output_column=yt_name)
    columns = [c for c in sdf.columns]
    if feature_columns is None:
        features = model_feature_columns(estimator, columns, exclude={target, *exclude, *output_columns}, path=path)
    else:
        features = tuple(feature_columns)
    classes = model_classes(estimator, path) or []
    if classes and positive not in classes:
        raise ModelError(f"{path}: the model's classes ({', '.join(classes)}) do not include the positive label '{positive}'; check data.positive_label.")
    use_proba = bool(classes) and run_model_code(path, "looking up predict_proba failed",
                                                 lambda: hasattr(estimator, "predict_proba"))
    if use_proba and len(classes) != 2:
        raise ModelError(f"{path}: the model has {len(classes)} classes; auditkit audits binary classifiers.")
    index = classes.index(positive) if use_proba else None
    schema = _with_outputs(sdf, output_columns)
    features = list(features)
    threshold = float(threshold)

    def apply(batches):
        import numpy as np

        from auditkit.predictions import check_probabilities

        for batch in batches:
            true = batch[yt_name].to_numpy(dtype=np.int8)
            X = batch[features]
            # The same guards as on one machine: whatever the model raises is a ModelError, and
            # its probabilities are checked before they are judged.
            if use_proba:
                proba = run_model_code(path, "predict_proba() failed on a Spark partition",
                                       lambda: estimator.predict_proba(X))
                score = check_probabilities(proba, n_rows=len(X), n_classes=2, path=path)[:, index]
                pred = (score >= threshold).astype(np.int8)
            else:
                raw = run_model_code(path, "predict() failed on a Spark partition",
                                     lambda: np.asarray(estimator.predict(X)).reshape(-1))
                if len(raw) != len(X):
                    raise ModelError(f"{path}: the model returned {len(raw)} predictions for {len(X)} rows.")
                pred = np.array([label_key(v) == positive for v in raw], dtype=np.int8)
                score = np.full(len(batch), np.nan)
            out = batch.drop(columns=[c for c in output_columns if c in batch.columns])
            out[yt_name], out[yp_name], out[ys_name] = true, pred, score
            yield out

    return encoded.mapInPandas(apply, schema)


def predictions_from_columns_spark(
    sdf,
    *,
    target: str,
    positive_label,
    label: str,
    score: str | None = None,
    output_columns: Sequence[str] = ("y_true", "y_pred", "y_score"),
):
    """Use precomputed prediction columns (same labels as the target) instead of a model.

    Returns the input columns plus 0/1 ``y_true``, ``y_pred`` and ``y_score`` (the score
    column as double, or null). Raises :class:`DataError` when the label column is missing
    or has labels the target does not have.
    """
    from pyspark.sql import functions as F

    from auditkit.predictions import label_key

    for name in [label] + ([score] if score else []):
        if name not in sdf.columns:
            raise DataError(f"Prediction column '{name}' is not in the Spark data; check model.predictions.")
    yt_name, yp_name, ys_name = output_columns
    encoded, positive, labels = encode_target_spark(sdf, target, positive_label, source=_SOURCE, output_column=yt_name)
    distinct = [r[0] for r in sdf.select(column(label)).distinct().limit(1000).collect()]
    if any(v is None for v in distinct):
        raise DataError(f"Spark data: prediction column '{label}' has missing values; every row needs a prediction.")
    unknown = sorted({label_key(v) for v in distinct} - set(labels))
    if unknown:
        raise DataError(f"Spark data: prediction column '{label}' has label(s) {', '.join(unknown[:5])} that the target does not have ({', '.join(labels)}); predictions must use the target's labels.")
    hits = [v for v in distinct if label_key(v) == positive]
    out = encoded.withColumn(yp_name, column(label).isin(hits).cast("tinyint"))
    scored = column(score).cast("double") if score else F.lit(None).cast("double")
    return out.withColumn(ys_name, scored)
