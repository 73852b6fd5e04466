"""Reweighing (Kamiran & Calders, 2012): training weights that make the label independent of the group.

A row of group ``g`` and label ``y`` weighs what its (group, label) cell would hold if group
and label were independent, over what it holds::

    w(g, y) = P(g) P(y) / P(g, y) = n_g n_y / (n n_gy)

F. Kamiran and T. Calders, "Data preprocessing techniques for classification without
discrimination", Knowledge and Information Systems 33(1), 2012. The model is then refitted
with these weights (:func:`refit_with_weights`); the data are not changed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..errors import AuditkitError, DataError, ModelError

__all__ = ["refit_with_weights", "reweigh"]


def reweigh(df: pd.DataFrame, target: str, sensitive: str | Sequence[str], *, positive_label=None) -> pd.Series:
    """Kamiran & Calders (2012) weight of every row: ``P(g) P(y) / P(g, y)`` on ``df``.

    Under these weights the label is independent of the group (``P_w(g, y) = P_w(g) P_w(y)``)
    while every group keeps its row count and every label its row count as total weight
    (the weights of a group sum to ``n_g``, of a label to ``n_y``, of all rows to ``n``).

    The weights equal AIF360's ``Reweighing().fit_transform(dataset).instance_weights``
    exactly (a dataset with unit instance weights, one privileged and one unprivileged group
    covering every row): AIF360 computes the same closed form, ``n_fav n_p / (n n_p_fav)``,
    with no normalisation. AIF360 is limited to two groups; here a group is any combination
    of values of the sensitive columns.

    Parameters
    ----------
    df : pandas.DataFrame
        The rows the weights are computed on (e.g. the training rows of one fold).
    target : str
        The label column. No value may be missing.
    sensitive : str or sequence of str
        The sensitive column, or several whose combination of values is the group (coded as
        the fairness results code an intersection). A missing value is a value of its own,
        ``(missing)``.
    positive_label : optional
        The favourable value: the label is ``target == positive_label``, so any other value
        is the unfavourable label. When omitted the target must hold exactly two distinct
        values, used as they are (the weights do not depend on which one is favourable).

    Returns
    -------
    pandas.Series
        float64 weights, named ``"weight"``, with the index of ``df``.

    Raises
    ------
    DataError
        A column is missing, ``df`` has no rows, the target has missing values, a single
        label (all rows positive or all negative), or more than two values without
        ``positive_label``.
    AuditkitError
        ``sensitive`` names no column.
    """
    from ..fairness import code_groups

    columns = [sensitive] if isinstance(sensitive, str) else list(sensitive)
    if not columns:
        raise AuditkitError("reweigh needs at least one sensitive column; pass the column(s) that define the groups.")
    absent = [c for c in [target, *columns] if c not in df.columns]
    if absent:
        raise DataError(f"Column '{absent[0]}' is not in the data; reweighing needs the target and every sensitive "
                        f"column, so pass the name of an existing column (columns: {', '.join(map(str, df.columns))}).")
    if len(df) == 0:
        raise DataError("The data have no rows; reweighing needs labelled rows of every group, "
                        "so pass a non-empty frame.")
    labels = df[target]
    n_missing = int(labels.isna().sum())
    if n_missing:
        raise DataError(f"Target column '{target}' has {n_missing} missing value{'s' if n_missing != 1 else ''}; "
                        "drop or fill those rows before reweighing.")
    if positive_label is not None:
        y = (labels == positive_label).to_numpy(dtype=np.int64)
        if y.min() == y.max():
            raise DataError(f"Target column '{target}' has a single label ({'every' if y[0] else 'no'} row equals "
                            f"positive_label '{positive_label}'); reweighing needs both labels, so check "
                            "positive_label or use data with both outcomes.")
    else:
        y, values = pd.factorize(labels)
        if len(values) < 2:
            raise DataError(f"Target column '{target}' has a single value ('{values[0]}'); reweighing needs "
                            "both labels, so use data with both outcomes.")
        if len(values) > 2:
            shown = ", ".join(f"'{v}'" for v in values[:5]) + (", ..." if len(values) > 5 else "")
            raise DataError(f"Target column '{target}' has {len(values)} distinct values ({shown}); reweighing "
                            "needs two labels, so pass positive_label to say which value is the favourable one.")
    coded = code_groups({str(c): df[c] for c in columns}, [tuple(map(str, columns))] if len(columns) > 1 else [],
                        n_rows=len(df))
    groups = coded[-1].codes  # the intersection of several columns, or the one column
    cell = groups * 2 + y
    n_cell = np.bincount(cell, minlength=2 * len(coded[-1].labels)).astype(np.float64)
    n_group = n_cell[0::2] + n_cell[1::2]
    n_label = np.bincount(y, minlength=2).astype(np.float64)
    weights = n_group[groups] * n_label[y] / (len(df) * n_cell[cell])
    return pd.Series(weights, index=df.index, name="weight", dtype=np.float64)


def _sample_weight_key(estimator) -> str:
    """The fit parameter that carries sample weights to ``estimator``'s final step.

    ``"sample_weight"`` for an estimator, ``"<name>__sample_weight"`` for a Pipeline whose
    final step is named ``name`` (nested Pipelines add one prefix each).
    """
    from sklearn.pipeline import Pipeline
    from sklearn.utils.validation import has_fit_parameter

    if isinstance(estimator, Pipeline):
        name, final = estimator.steps[-1]
        if final is None or final == "passthrough":
            raise ModelError("The Pipeline has no final estimator (its last step is 'passthrough'); reweighing "
                             "refits a model, so end the pipeline with an estimator.")
        return f"{name}__{_sample_weight_key(final)}"
    if not has_fit_parameter(estimator, "sample_weight"):
        raise ModelError(f"{type(estimator).__name__}.fit takes no sample_weight, so the model cannot be refitted "
                         "with reweighing weights; use an estimator that accepts sample weights or another remedy.")
    return "sample_weight"


def refit_with_weights(estimator, X, y, weights):
    """A fresh copy of ``estimator`` fitted on ``X``, ``y`` with per-row ``weights``.

    ``sklearn.base.clone(estimator).fit(X, y, sample_weight=weights)``; for a Pipeline the
    weights go to the final step only (``<name>__sample_weight``), the preprocessing steps
    are fitted unweighted. ``estimator`` itself is left untouched.

    Parameters
    ----------
    estimator : scikit-learn estimator or Pipeline
        The model to refit (fitted or not: only its parameters are copied).
    X : array-like or pandas.DataFrame
        The training rows.
    y : array-like
        The labels of ``X``.
    weights : array-like of float
        One weight per row of ``X``, by position (e.g. the values of :func:`reweigh`
        computed on the same rows in the same order).

    Returns
    -------
    estimator
        The fitted clone.

    Raises
    ------
    ModelError
        ``estimator`` cannot be cloned (not a scikit-learn estimator), or its final
        estimator's ``fit`` takes no ``sample_weight`` (the message names its class).
    """
    from sklearn.base import clone

    try:
        model = clone(estimator)
    except TypeError as exc:
        raise ModelError(f"{type(estimator).__name__} cannot be copied for refitting ({exc}); reweighing needs a "
                         "scikit-learn compatible estimator (with get_params).") from exc
    model.fit(X, y, **{_sample_weight_key(model): np.asarray(weights, dtype=np.float64)})
    return model
