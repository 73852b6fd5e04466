"""A bounded stratified sample brought to the driver (for explanations)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from auditkit.errors import AuditkitError

from ._columns import column

__all__ = ["stratified_sample"]

_KEY = "_auditkit_stratum"
_RANK = "_auditkit_rank"
_RAND = "_auditkit_rand"


def _quotas(sizes: dict, rows: int) -> dict:
    total = sum(sizes.values())
    if total <= rows:
        return dict(sizes)
    floor = max(1, min(30, rows // max(1, len(sizes))))  # every group present, small ones a little more
    quotas = {k: min(n, max(floor, math.floor(rows * n / total))) for k, n in sizes.items()}
    excess = sum(quotas.values()) - rows
    for key in sorted(quotas, key=lambda k: -quotas[k]):  # take the overshoot from the largest
        if excess <= 0:
            break
        cut = min(excess, quotas[key] - floor)
        if cut > 0:
            quotas[key] -= cut
            excess -= cut
    return quotas


def stratified_sample(sdf, *, sensitive_features: Sequence[str], rows: int, seed: int = 0):
    """Draw at most about `rows` rows, stratified by the combination of sensitive values.

    Each combination (missing values included) gets a share proportional to its size,
    but at least ``min(size, 30, rows // combinations)`` rows, so every group is present.
    The draw is deterministic for a seed and a given partitioning of the data.

    Parameters
    ----------
    sdf : pyspark.sql.DataFrame
    sensitive_features : sequence of str
    rows : int
        Target sample size (the result has at most this many rows, or the whole data
        when it is smaller; with many tiny groups the floor may add a few).
    seed : int

    Returns
    -------
    pandas.DataFrame
        The sampled rows, original columns only; ``.attrs["population_rows"]`` holds the
        number of rows sampled from.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    if isinstance(rows, bool) or not isinstance(rows, int) or rows < 1:
        raise AuditkitError(f"rows must be a whole number >= 1, got {rows!r}.")
    columns = list(sdf.columns)
    parts = [F.coalesce(column(c).cast("string"), F.lit("\u0000null")) for c in sensitive_features]
    key = F.concat_ws("\u0001", *parts) if parts else F.lit("")
    keyed = sdf.withColumn(_KEY, key)
    sizes = {r[0]: int(r[1]) for r in keyed.groupBy(_KEY).count().collect()}
    quotas = _quotas(sizes, rows)
    population = sum(sizes.values())
    if population <= rows:
        frame = sdf.toPandas()
    else:
        # Pre-filter with a generous per-group fraction, then keep the first `quota` by the
        # random number: an exact per-group size without sorting whole groups.
        fraction = F.create_map(*[x for k, q in quotas.items() for x in (F.lit(k), F.lit(min(1.0, 2.0 * q / sizes[k] + 20.0 / sizes[k])))])
        quota = F.create_map(*[x for k, q in quotas.items() for x in (F.lit(k), F.lit(q))])
        candidates = keyed.withColumn(_RAND, F.rand(seed)).filter(F.col(_RAND) <= fraction[F.col(_KEY)])
        window = Window.partitionBy(_KEY).orderBy(_RAND)
        picked = candidates.withColumn(_RANK, F.row_number().over(window)).filter(F.col(_RANK) <= quota[F.col(_KEY)])
        frame = picked.select(*[column(c) for c in columns]).toPandas()
    frame.attrs["population_rows"] = population
    return frame
