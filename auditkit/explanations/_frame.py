"""Row mixing on raw DataFrames that keeps every column's dtype (strings, categoricals, NaN)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def mix_rows(pool: pd.DataFrame, positions: np.ndarray) -> pd.DataFrame:
    """Build rows whose column ``j`` is taken from row ``positions[:, j]`` of ``pool``.

    Parameters
    ----------
    pool : DataFrame
        Source rows, positionally indexed.
    positions : ndarray of shape (n, n_columns)
        Integer row positions into ``pool``, one per output row and column.

    Returns
    -------
    DataFrame
        ``n`` rows with ``pool``'s columns and dtypes and a fresh ``RangeIndex``.
    """
    positions = np.asarray(positions, dtype=np.intp)
    columns = {
        name: pool.iloc[:, j].take(positions[:, j]).reset_index(drop=True)
        for j, name in enumerate(pool.columns)
    }
    return pd.DataFrame(columns, columns=pool.columns)


def first_occurrence_codes(pool: pd.DataFrame) -> np.ndarray:
    """Encode each cell as the position of the first row holding the same value.

    Equal values (missing values included) get equal codes, so masking code matrices
    behaves like masking the raw values, and :func:`mix_rows` decodes them exactly.

    Parameters
    ----------
    pool : DataFrame
        Rows to encode.

    Returns
    -------
    ndarray of shape (len(pool), n_columns), float64
        The codes, as floats so shap's maskers accept them.
    """
    n = len(pool)
    codes = np.empty((n, pool.shape[1]), dtype=np.float64)
    order = np.arange(n)
    for j in range(pool.shape[1]):
        labels, uniques = pd.factorize(pool.iloc[:, j], use_na_sentinel=False)
        first = np.empty(len(uniques), dtype=np.intp)
        # Writing in reverse order leaves the smallest position per label.
        first[labels[::-1]] = order[::-1]
        codes[:, j] = first[labels]
    return codes


def is_numeric_column(series: pd.Series) -> bool:
    """Whether a column holds numbers (booleans and categoricals do not count)."""
    dtype = series.dtype
    return (
        pd.api.types.is_numeric_dtype(dtype)
        and not pd.api.types.is_bool_dtype(dtype)
        and not isinstance(dtype, pd.CategoricalDtype)
    )
