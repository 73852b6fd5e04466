"""Association between an input feature and a sensitive feature, on a 0..1 scale.

* both categorical: Cramér's V with Bergsma's bias correction (plain V grows with the
  number of categories even for independent columns on small samples);
* one numeric, one categorical: the correlation ratio eta (share of the numeric column's
  spread explained by the categories, square-rooted);
* both numeric: the absolute Spearman rank correlation.

Missing values form their own category; numeric rows with missing values are dropped.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._frame import is_numeric_column

CRAMERS_V = "cramers_v"
CORRELATION_RATIO = "correlation_ratio"
SPEARMAN = "spearman"


def association(feature: pd.Series, sensitive: pd.Series) -> tuple[float | None, str]:
    """Strength of association between two columns.

    Parameters
    ----------
    feature, sensitive : Series
        Aligned columns.

    Returns
    -------
    value : float or None
        In [0, 1]; ``None`` when it cannot be computed (too few rows).
    measure : str
        ``"cramers_v"``, ``"correlation_ratio"`` or ``"spearman"``.
    """
    feature_numeric = is_numeric_column(feature)
    sensitive_numeric = is_numeric_column(sensitive)
    if feature_numeric and sensitive_numeric:
        return spearman(feature, sensitive), SPEARMAN
    if feature_numeric:
        return correlation_ratio(sensitive, feature), CORRELATION_RATIO
    if sensitive_numeric:
        return correlation_ratio(feature, sensitive), CORRELATION_RATIO
    return cramers_v(feature, sensitive), CRAMERS_V


def _codes(series: pd.Series) -> np.ndarray:
    codes, _ = pd.factorize(series, use_na_sentinel=False)
    return codes


def cramers_v(a: pd.Series, b: pd.Series) -> float | None:
    """Bias-corrected Cramér's V of two categorical columns (Bergsma, 2013)."""
    x, y = _codes(a), _codes(b)
    n = len(x)
    if n < 3:
        return None
    r, k = x.max() + 1, y.max() + 1
    if r < 2 or k < 2:
        return 0.0
    table = np.bincount(x * k + y, minlength=r * k).reshape(r, k).astype(np.float64)
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / n
    phi2 = float(((table - expected) ** 2 / expected).sum() / n)
    phi2 = max(0.0, phi2 - (k - 1) * (r - 1) / (n - 1))
    r_corr = r - (r - 1) ** 2 / (n - 1)
    k_corr = k - (k - 1) ** 2 / (n - 1)
    denominator = min(k_corr - 1, r_corr - 1)
    if denominator <= 0:
        return 0.0
    return float(min(1.0, np.sqrt(phi2 / denominator)))


def correlation_ratio(categories: pd.Series, values: pd.Series) -> float | None:
    """Correlation ratio eta of a numeric column given a categorical one."""
    y = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    keep = np.isfinite(y)
    if keep.sum() < 3:
        return None
    codes = _codes(categories)[keep]
    y = y[keep]
    total = float(((y - y.mean()) ** 2).sum())
    if total <= 0:
        return 0.0
    counts = np.bincount(codes)
    sums = np.bincount(codes, weights=y)
    present = counts > 0
    means = sums[present] / counts[present]
    between = float((counts[present] * (means - y.mean()) ** 2).sum())
    return float(min(1.0, np.sqrt(between / total)))


def spearman(a: pd.Series, b: pd.Series) -> float | None:
    """Absolute Spearman rank correlation of two numeric columns."""
    x = pd.to_numeric(a, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    y = pd.to_numeric(b, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    keep = np.isfinite(x) & np.isfinite(y)
    if keep.sum() < 3:
        return None
    rx = pd.Series(x[keep]).rank().to_numpy()
    ry = pd.Series(y[keep]).rank().to_numpy()
    if rx.std() == 0 or ry.std() == 0:
        return 0.0
    return float(abs(np.corrcoef(rx, ry)[0, 1]))
