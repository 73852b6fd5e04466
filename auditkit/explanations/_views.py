"""Views of SHAP values: global importance, per-group summaries, proxies, beeswarm data."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._association import association
from ._frame import is_numeric_column

BY_GROUP_COLUMNS = ["feature", "group", "n", "input_feature", "mean_abs_shap", "mean_shap"]
PROXY_COLUMNS = [
    "input_feature",
    "sensitive_feature",
    "association",
    "association_measure",
    "importance_share",
    "flagged",
]


def importance(
    values: np.ndarray,
    features: list[str],
    *,
    rng: np.random.Generator,
    n_boot: int = 200,
    level: float = 0.95,
) -> pd.DataFrame:
    """Mean |SHAP| per feature with a percentile bootstrap interval over rows.

    Parameters
    ----------
    values : ndarray of shape (n, n_features)
        SHAP values of uniformly sampled rows.
    features : list of str
        Feature names.
    rng : Generator
        Random source for the bootstrap.
    n_boot : int
        Bootstrap resamples.
    level : float
        Coverage of the interval.

    Returns
    -------
    DataFrame
        Columns ``feature, mean_abs_shap, ci_low, ci_high, share``, most important first.
    """
    magnitude = np.abs(values)
    n = len(magnitude)
    mean_abs = magnitude.mean(axis=0) if n else np.zeros(len(features))
    if n > 1:
        counts = rng.multinomial(n, np.full(n, 1.0 / n), size=n_boot)
        boot = counts @ magnitude / n
        alpha = (1.0 - level) / 2.0
        low, high = np.quantile(boot, [alpha, 1.0 - alpha], axis=0)
    else:
        low = high = mean_abs
    total = mean_abs.sum()
    share = mean_abs / total if total > 0 else np.zeros_like(mean_abs)
    frame = pd.DataFrame(
        {
            "feature": pd.Series(features, dtype=object),
            "mean_abs_shap": mean_abs,
            "ci_low": low,
            "ci_high": high,
            "share": share,
        }
    )
    return frame.sort_values("mean_abs_shap", ascending=False, kind="stable").reset_index(drop=True)


def by_group(values: np.ndarray, features: list[str], labels: pd.DataFrame) -> pd.DataFrame:
    """Mean |SHAP| and mean signed SHAP per sensitive group and input feature.

    Parameters
    ----------
    values : ndarray of shape (n, n_features)
        SHAP values of the explained rows.
    features : list of str
        Input feature names.
    labels : DataFrame
        Group label per explained row, one column per sensitive feature or intersection.

    Returns
    -------
    DataFrame
        Columns ``feature, group, n, input_feature, mean_abs_shap, mean_shap``; ``feature``
        is the sensitive feature (or intersection), ``input_feature`` the model input.
    """
    records = []
    for name in labels.columns:
        column = labels[name].to_numpy()
        for group in sorted(set(column.tolist()), key=str):
            rows = column == group
            subset = values[rows]
            mean_abs = np.abs(subset).mean(axis=0)
            mean = subset.mean(axis=0)
            for j, feature in enumerate(features):
                records.append((name, group, int(rows.sum()), feature, float(mean_abs[j]), float(mean[j])))
    return pd.DataFrame.from_records(records, columns=BY_GROUP_COLUMNS).astype(
        {"feature": object, "group": object, "input_feature": object}
    )


def proxies(
    data: pd.DataFrame,
    sensitive: pd.DataFrame,
    importance_frame: pd.DataFrame,
    *,
    min_association: float,
    min_share: float,
) -> pd.DataFrame:
    """Association of every non-sensitive input with every sensitive feature.

    Parameters
    ----------
    data : DataFrame
        Raw model inputs (a uniform sample of rows).
    sensitive : DataFrame
        Sensitive features of the same rows.
    importance_frame : DataFrame
        Output of :func:`importance`.
    min_association, min_share : float
        A feature is flagged as a proxy when its association reaches ``min_association``
        and its importance share reaches ``min_share``.

    Returns
    -------
    DataFrame
        Columns ``input_feature, sensitive_feature, association, association_measure,
        importance_share, flagged``, flagged and strongest associations first.
    """
    share = dict(zip(importance_frame["feature"], importance_frame["share"]))
    sensitive_names = {str(c) for c in sensitive.columns}
    records = []
    for s_name in sensitive.columns:
        for feature in data.columns:
            if str(feature) in sensitive_names:
                continue
            value, measure = association(data[feature], sensitive[s_name])
            feature_share = float(share.get(str(feature), 0.0))
            flagged = value is not None and value >= min_association and feature_share >= min_share
            records.append((str(feature), str(s_name), value, measure, feature_share, bool(flagged)))
    frame = pd.DataFrame.from_records(records, columns=PROXY_COLUMNS)
    frame = frame.astype({"input_feature": object, "sensitive_feature": object, "association_measure": object})
    frame["association"] = frame["association"].astype(np.float64)
    frame["_order"] = frame["association"].fillna(-1.0)
    frame = frame.sort_values(["flagged", "_order"], ascending=[False, False], kind="stable")
    return frame.drop(columns="_order").reset_index(drop=True)


def beeswarm(
    values: np.ndarray,
    data: pd.DataFrame,
    order: list[str],
    *,
    rng: np.random.Generator,
    top: int = 10,
    max_points: int = 300,
) -> dict:
    """Bounded data for a beeswarm-style summary chart.

    Parameters
    ----------
    values : ndarray of shape (n, n_features)
        SHAP values of uniformly sampled rows.
    data : DataFrame
        Raw values of the same rows.
    order : list of str
        Features, most important first.
    rng : Generator
        Random source for the subsample of points.
    top : int
        Number of features shown.
    max_points : int
        Points per feature.

    Returns
    -------
    dict
        ``{"features": [...], "points": [{"feature", "shap", "value_rank"}]}``;
        ``value_rank`` is the feature value's rank scaled to 0..1 (``None`` for missing
        values and categorical features).
    """
    features = list(order[:top])
    n = len(values)
    rows = np.sort(rng.choice(n, size=max_points, replace=False)) if n > max_points else np.arange(n)
    columns = {str(c): i for i, c in enumerate(data.columns)}
    points = []
    for feature in features:
        j = columns[feature]
        shap_values = [float(v) for v in values[rows, j]]
        column = data.iloc[rows, j]
        if is_numeric_column(column):
            numbers = pd.to_numeric(column, errors="coerce").astype(np.float64)
            ranks = numbers.rank(pct=False).to_numpy()
            valid = np.isfinite(numbers.to_numpy())
            n_valid = int(valid.sum())
            scaled = (ranks - 1.0) / (n_valid - 1) if n_valid > 1 else np.full(len(ranks), 0.5)
            value_rank = [float(v) if ok else None for v, ok in zip(scaled, valid)]
        else:
            value_rank = [None] * len(rows)
        points.append({"feature": feature, "shap": shap_values, "value_rank": value_rank})
    return {"features": features, "points": points}
