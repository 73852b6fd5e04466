"""Benchmark: validating 1,000,000 rows x 20 columns, auditkit beside plain pandera.

Run ``python benchmarks/validate.py [--rows N] [--repeat R]``. The frame mixes integer
ranges, nullable floats with bounds, text columns checked against allowed categories and an
id column that must be unique; the contract is a pandera schema written to YAML and loaded
back, as ``audit validate`` does. Both validators see the same clean frame (the common
case), then a frame where every row of every column fails (bounded output).
"""

from __future__ import annotations

import argparse
import time

CATEGORIES = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf"]


def build_frame(rows: int = 1_000_000, *, seed: int = 0):
    """A clean frame of ``rows`` x 20 columns matching :func:`build_schema`."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    columns = {"id": np.arange(rows, dtype="int64")}
    for i in range(7):
        columns[f"int_{i}"] = rng.integers(0, 1000, rows)
    for i in range(6):
        values = rng.normal(50.0, 10.0, rows)
        values[rng.random(rows) < 0.02] = np.nan
        columns[f"float_{i}"] = values
    cats = np.array(CATEGORIES, dtype=object)
    for i in range(6):
        columns[f"cat_{i}"] = pd.array(cats[rng.integers(0, len(CATEGORIES), rows)], dtype="str")
    return pd.DataFrame(columns)


def build_schema():
    """The pandera schema of the benchmark frame."""
    import pandera.pandas as pa

    columns = {"id": pa.Column("int64", pa.Check.ge(0), unique=True)}
    for i in range(7):
        columns[f"int_{i}"] = pa.Column("int64", pa.Check.in_range(0, 999))
    for i in range(6):
        columns[f"float_{i}"] = pa.Column("float64", [pa.Check.ge(-100.0), pa.Check.le(200.0)], nullable=True)
    for i in range(6):
        columns[f"cat_{i}"] = pa.Column("str", pa.Check.isin(CATEGORIES))
    return pa.DataFrameSchema(columns, strict=True, name="benchmark")


def _best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv=None) -> None:
    import pandas as pd
    import pandera.errors
    import pandera.pandas as pa

    from auditkit.contract import validate

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pandera-failing", action="store_true",
                        help="also time plain pandera when every row fails (slow, several GB of memory at 1M rows)")
    args = parser.parse_args(argv)

    frame = build_frame(args.rows)
    schema = pa.DataFrameSchema.from_yaml(build_schema().to_yaml())

    def plain_pandera(data):
        try:
            schema.validate(data, lazy=True)
        except pandera.errors.SchemaErrors:
            pass

    print(f"frame: {len(frame):,} rows x {frame.shape[1]} columns, pandas {pd.__version__}, pandera {pandera.__version__}")
    clean_pa = _best(lambda: plain_pandera(frame), args.repeat)
    clean_ak = _best(lambda: validate(frame, schema), args.repeat)
    assert validate(frame, schema).passed
    print(f"clean data    pandera lazy validate: {clean_pa:6.3f} s   auditkit.contract.validate: {clean_ak:6.3f} s   "
          f"ratio pandera/auditkit: {clean_pa / clean_ak:5.1f}x")

    bad = frame.copy()
    bad["id"] = 7
    for i in range(7):
        bad[f"int_{i}"] = -1
    for i in range(6):
        bad[f"float_{i}"] = 1e9
    for i in range(6):
        bad[f"cat_{i}"] = pd.array(["zulu"] * len(bad), dtype="str")
    failing_ak = _best(lambda: validate(bad, schema), 1)
    result = validate(bad, schema)
    size = len(str(result.to_dict()))
    print(f"every row fails: auditkit {failing_ak:6.3f} s, {result.total_failures:,} failures in "
          f"{len(result.violations)} violations, result size {size:,} characters (examples capped at 5)")
    if args.pandera_failing:
        print(f"every row fails: pandera  {_best(lambda: plain_pandera(bad), 1):6.3f} s")


if __name__ == "__main__":
    main()
