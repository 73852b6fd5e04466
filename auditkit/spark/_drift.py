"""Drift on Spark: the current data counted against the reference's bins, points and categories.

The reference (the training data) is a pandas frame on the driver; it fixes, per numeric
column, the quantile bins and the distinct values at which the two empirical CDFs are
compared (:class:`auditkit.drift.NumericReference`), and per categorical column its
categories. The current data is counted against them in **one** pass: each partition
counts its rows with the one-machine functions (:func:`auditkit.drift.count_numeric`,
:func:`auditkit.drift.category_counts`) and emits the non-zero counts, which a
``groupBy`` adds up. The driver receives at most, per numeric column, two counts per
distinct reference value plus the bins, and per categorical column one count per
category; PSI, KS and JS then come from :func:`auditkit.drift.numeric_drift` and
:func:`auditkit.drift.categorical_drift`, as on one machine, so the KS statistic is exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from auditkit.drift import (
    PREDICTIONS,
    DriftResult,
    NumericCounts,
    NumericReference,
    categorical_drift,
    category_counts,
    count_numeric,
    is_numeric_column,
    numeric_drift,
    numeric_reference,
    prediction_values,
)
from auditkit.errors import DataError

from ._columns import column, is_numeric, spark_type

__all__ = ["drift_spark"]

# What a partition emits: one row per non-zero count.
_SCHEMA = "spec int, kind int, position long, label string, n long"
_BIN, _RANK, _AT_POINT, _MISSING, _CATEGORY = range(5)


@dataclass(frozen=True)
class _Spec:
    """One measured column: its name in the result, its Spark column, and the reference's summary."""

    name: str
    source: str
    reference_rows: int
    numeric: NumericReference | None = None   # for a numeric column
    categories: dict | None = None            # for a categorical one: reference rows per category


def _spec(name: str, reference, sdf, source: str, bins: int) -> _Spec:
    if is_numeric_column(reference):
        kind = spark_type(sdf, source)
        if not is_numeric(kind):
            raise DataError(f"column '{name}' is numeric in the reference data but not in the current data "
                            f"({kind.simpleString()}); fix the current data (validate it against the contract).")
        return _Spec(name, source, len(reference), numeric=numeric_reference(reference, bins))
    return _Spec(name, source, len(reference), categories=category_counts(reference))


def _require(sdf, reference, name: str, *, is_target: bool) -> None:
    for present, which in ((reference.columns, "reference"), (sdf.columns, "current")):
        if name not in present:
            if is_target:
                raise DataError(f"target column '{name}' is not in the {which} data; drift of the target needs it "
                                "in both tables.")
            raise DataError(f"column '{name}' is not in the {which} data; drift needs it in both tables.")


def drift_spark(
    reference,
    sdf,
    *,
    columns: Sequence[str],
    target: str | None = None,
    reference_predictions=None,
    current_predictions_column: str | None = None,
    bins: int = 10,
) -> DriftResult:
    """Drift of each column between a pandas reference and a Spark DataFrame.

    Equal to :func:`auditkit.drift.measure_drift` (``reference``, the same rows as a pandas
    frame, ...), every number within floating-point summation order and the KS statistic
    exactly.

    Parameters
    ----------
    reference : pandas.DataFrame
        The reference data (e.g. the training set), read on the driver.
    sdf : pyspark.sql.DataFrame
        The data being audited.
    columns, target, bins
        As for :func:`auditkit.drift.measure_drift`. A column is numeric when its
        reference dtype is numeric (not bool) with more than two distinct values; the
        current column must then have a Spark integer, ``float`` or ``double`` type.
    reference_predictions : array-like, optional
        The model's outputs (labels or scores) on the reference rows.
    current_predictions_column : str, optional
        The column of `sdf` holding the model's outputs on the audited rows (e.g.
        ``y_score`` or ``y_pred``); give both or neither.

    Returns
    -------
    DriftResult

    Raises
    ------
    DataError
        A table has no rows, a column is missing from either table, or a column is numeric
        in the reference but not in the current data.
    ValueError
        ``bins`` below 2, or only one of the two predictions given.
    """
    if bins < 2:
        raise ValueError("bins must be at least 2")
    if len(reference) == 0 or sdf.isEmpty():
        which = "reference" if len(reference) == 0 else "current"
        raise DataError(f"the {which} data has no rows; drift needs rows in both tables.")
    specs = []
    for name in columns:
        _require(sdf, reference, name, is_target=False)
        specs.append(_spec(str(name), reference[name], sdf, name, bins))
    if target is not None:
        _require(sdf, reference, target, is_target=True)
        specs.append(_spec(str(target), reference[target], sdf, target, bins))
    if (reference_predictions is None) != (current_predictions_column is None):
        raise ValueError("give both reference_predictions and current_predictions_column, or neither")
    if reference_predictions is not None:
        if current_predictions_column not in sdf.columns:
            raise DataError(f"prediction column '{current_predictions_column}' is not in the Spark data.")
        specs.append(_spec(PREDICTIONS, prediction_values(reference_predictions), sdf, current_predictions_column,
                           bins))

    measured = [_drift(spec, counts) for spec, counts in zip(specs, _count(sdf, specs))]
    n_features = len(columns)
    target_drift = measured[n_features] if target is not None else None
    prediction_drift = measured[-1] if reference_predictions is not None else None
    return DriftResult(features=tuple(measured[:n_features]), target=target_drift, predictions=prediction_drift,
                       bins=bins)


def _drift(spec: _Spec, counts):
    if spec.numeric is not None:
        return numeric_drift(spec.name, spec.numeric, counts)
    return categorical_drift(spec.name, spec.categories, counts, reference_rows=spec.reference_rows,
                             current_rows=sum(counts.values()))


def _count(sdf, specs: list[_Spec]) -> list:
    """Every spec's current counts (NumericCounts, or rows per category) from one pass over `sdf`."""
    import numpy as np
    from pyspark.sql import functions as F

    if not specs:
        return []
    references = [spec.numeric for spec in specs]

    def count_partition(batches):
        import pandas as pd

        numeric = [None] * len(references)
        categories = [{} for _ in references]
        for batch in batches:
            for i, reference in enumerate(references):
                values = batch[f"c{i}"]
                if reference is None:
                    for label, n in category_counts(values).items():
                        categories[i][label] = categories[i].get(label, 0) + n
                else:
                    counts = count_numeric(values, reference)
                    numeric[i] = counts if numeric[i] is None else numeric[i] + counts
        parts = []
        for i, counts in enumerate(numeric):
            if counts is not None:
                for kind, values in ((_BIN, counts.bins), (_RANK, counts.ranks), (_AT_POINT, counts.at_point),
                                     (_MISSING, np.array([counts.missing]))):
                    where = np.flatnonzero(values)
                    parts.append(pd.DataFrame({"spec": i, "kind": kind, "position": where, "label": None,
                                               "n": values[where]}))
            if categories[i]:
                parts.append(pd.DataFrame({"spec": i, "kind": _CATEGORY, "position": 0,
                                           "label": list(categories[i]), "n": list(categories[i].values())}))
        if parts:
            yield pd.concat(parts, ignore_index=True).astype({"spec": "int32", "kind": "int32", "position": "int64",
                                                             "label": object, "n": "int64"})

    selected = sdf.select(*[column(spec.source).alias(f"c{i}") for i, spec in enumerate(specs)])
    table = (selected.mapInPandas(count_partition, _SCHEMA)
             .groupBy("spec", "kind", "position", "label").agg(F.sum("n").alias("n")).toPandas())
    out = []
    for i, reference in enumerate(references):
        mine = table[table["spec"] == i]
        if reference is None:
            out.append({str(label): int(n) for label, n in zip(mine["label"], mine["n"])})
            continue
        sizes = {_BIN: len(reference.cuts) + 1, _RANK: len(reference.points) + 1, _AT_POINT: len(reference.points),
                 _MISSING: 1}
        arrays = {kind: np.zeros(size, dtype=np.int64) for kind, size in sizes.items()}
        for kind, array in arrays.items():
            part = mine[mine["kind"] == kind]
            array[part["position"].to_numpy(dtype=np.int64)] = part["n"].to_numpy(dtype=np.int64)
        out.append(NumericCounts(bins=arrays[_BIN], ranks=arrays[_RANK], at_point=arrays[_AT_POINT],
                                 missing=int(arrays[_MISSING][0])))
    return out
