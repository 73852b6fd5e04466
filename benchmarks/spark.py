"""Benchmark: a stage on a local Spark session against the pandas engine.

Writes a synthetic Parquet data set (y_true, y_pred, y_score, sex, race) in 1M-row
chunks, then times one stage on the same rows with the same settings (sex, race and
sex & race):

* ``--stage fairness`` (default; 1,000 bootstrap resamples): ``assess_fairness`` against
  ``auditkit.spark.fairness_spark``; the same group counts are checked;
* ``--stage data-bias``: ``assess_data_bias`` (target y_true) against ``data_bias_spark``;
* ``--stage drift``: ``measure_drift`` of y_score, sex and race against a 100,000-row
  reference, against ``drift_spark``;

the last two checked equal to 1e-12. pandas is timed from in-memory columns (after
reading the Parquet file), Spark including the scan (Spark reads lazily). Then, with
``--big-rows`` (default 20M), the Spark path alone on a larger file, with the peak
resident memory of the driver's Python process and of the JVM, sampled every 0.2 s.

Run: ``python benchmarks/spark.py [--stage fairness|data-bias|drift] [--rows 5000000]
[--big-rows 20000000] [--scores] [--master local[2]] [--driver-memory 2g] [--dir DIR]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from auditkit.data_bias import assess_data_bias  # noqa: E402
from auditkit.drift import measure_drift  # noqa: E402
from auditkit.fairness import assess_fairness  # noqa: E402

SETTINGS = dict(intersections=[("sex", "race")], bootstrap=1000, seed=0, min_group_size=30)
BIAS_SETTINGS = dict(sensitive_features=["sex", "race"], intersections=[("sex", "race")], min_group_size=30)
DRIFT_COLUMNS = ["y_score", "sex", "race"]
REFERENCE_ROWS = 100_000


def write_parquet(path: Path, rows: int, *, seed: int = 0, chunk: int = 1_000_000) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    sexes = np.array(["female", "male"])
    races = np.array(["white", "black", "asian", "hispanic", "other"])
    writer = None
    done = 0
    while done < rows:
        n = min(chunk, rows - done)
        sex = rng.choice(2, n, p=[0.45, 0.55])
        race = rng.choice(5, n, p=[0.55, 0.15, 0.1, 0.15, 0.05])
        base = 0.3 + 0.1 * sex + 0.05 * (race == 0)
        y_true = (rng.random(n) < base).astype(np.int8)
        score = np.round(np.clip(0.35 * y_true + 0.65 * rng.random(n), 0, 1), 4)
        table = pa.table({
            "y_true": y_true,
            "y_pred": (score >= 0.5).astype(np.int8),
            "y_score": score,
            "sex": pa.DictionaryArray.from_arrays(sex.astype(np.int32), sexes),
            "race": pa.DictionaryArray.from_arrays(race.astype(np.int32), races),
        })
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
        done += n
    writer.close()


def _descendant_java_rss() -> int:
    """Resident bytes of the java processes started below this one (Linux /proc)."""
    parents, names, rss = {}, {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
            with open(f"/proc/{entry}/statm") as f:
                pages = int(f.read().split()[1])
        except OSError:
            continue
        pid = int(entry)
        names[pid] = stat[stat.index("(") + 1 : stat.rindex(")")]
        parents[pid] = int(stat[stat.rindex(")") + 2 :].split()[1])
        rss[pid] = pages * os.sysconf("SC_PAGE_SIZE")
    me, total = os.getpid(), 0
    for pid, name in names.items():
        node = pid
        while node in parents and node not in (0, 1, me):
            node = parents[node]
        if node == me and pid != me and "java" in name:
            total += rss[pid]
    return total


class PeakMemory:
    """Peak resident memory (MB) of the JVM child processes and of this process."""

    def __init__(self):
        self.jvm = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.jvm = max(self.jvm, _descendant_java_rss() / 2**20)
            time.sleep(0.2)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    @staticmethod
    def python_peak_mb() -> float:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_pandas(stage: str, frame, reference, scores: bool):
    """The stage on in-memory columns."""
    if stage == "fairness":
        return assess_fairness(frame["y_true"], frame["y_pred"], frame[["sex", "race"]].astype(object),
                               y_score=frame["y_score"] if scores else None, **SETTINGS)
    if stage == "data-bias":
        return assess_data_bias(frame.drop(columns="y_true"), target=frame["y_true"], **BIAS_SETTINGS)
    return measure_drift(reference, frame, columns=DRIFT_COLUMNS)


def time_spark(spark, stage: str, path: Path, reference, scores: bool):
    from auditkit.spark import data_bias_spark, drift_spark, fairness_spark

    sdf = spark.read.parquet(str(path))
    start = time.perf_counter()
    if stage == "fairness":
        result = fairness_spark(sdf, sensitive_features=["sex", "race"], y_score_col="y_score" if scores else None,
                                **SETTINGS)
    elif stage == "data-bias":
        result = data_bias_spark(sdf, target_column="y_true", **BIAS_SETTINGS)
    else:
        result = drift_spark(reference, sdf, columns=DRIFT_COLUMNS)
    return time.perf_counter() - start, result


def same_result(stage: str, expected, got) -> bool:
    if stage == "fairness":
        return got.by_group[["feature", "group", "n"]].equals(expected.by_group[["feature", "group", "n"]])
    return _close(expected.to_dict(), got.to_dict())


def _close(a, b) -> bool:
    import math

    if isinstance(a, dict):
        return isinstance(b, dict) and list(a) == list(b) and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)
    return a == b


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", choices=("fairness", "data-bias", "drift"), default="fairness")
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--big-rows", type=int, default=20_000_000, help="0 skips the memory run")
    parser.add_argument("--scores", action="store_true", help="also score metrics (AUC, mean score, ECE)")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--driver-memory", default="2g")
    parser.add_argument("--skip-pandas", action="store_true",
                        help="Spark only (for a clean driver-memory figure at --big-rows)")
    parser.add_argument("--dir", default=None, help="where to write the Parquet files (default: a temp dir)")
    args = parser.parse_args(argv)

    import pandas as pd

    from auditkit.spark import session

    workdir = Path(args.dir or tempfile.mkdtemp(prefix="auditkit-spark-bench-"))
    small = workdir / f"fairness-{args.rows}.parquet"
    if not small.exists():
        write_parquet(small, args.rows)

    reference = None
    if args.stage == "drift":
        reference_path = workdir / f"reference-{REFERENCE_ROWS}.parquet"
        if not reference_path.exists():
            write_parquet(reference_path, REFERENCE_ROWS, seed=2)
        reference = pd.read_parquet(reference_path)

    expected = None
    if not args.skip_pandas:
        frame = pd.read_parquet(small)
        start = time.perf_counter()
        expected = run_pandas(args.stage, frame, reference, args.scores)
        pandas_seconds = time.perf_counter() - start
        del frame

    spark = session(args.master, app_name="auditkit-benchmark", config={
        "spark.driver.memory": args.driver_memory,
        "spark.sql.shuffle.partitions": "8",
        "spark.ui.enabled": "false",
    })
    spark.sparkContext.setLogLevel("ERROR")
    time_spark(spark, args.stage, small, reference, args.scores)  # warm-up: JVM start, code generation
    spark_seconds, got = time_spark(spark, args.stage, small, reference, args.scores)
    same = expected is None or same_result(args.stage, expected, got)

    details = {"fairness": "sex + race + sex & race, 1,000 resamples" + (", with scores" if args.scores else ""),
               "data-bias": "sex + race + sex & race, target y_true",
               "drift": f"y_score, sex, race against {REFERENCE_ROWS:,} reference rows"}
    print(f"{args.stage} stage, {args.rows:,} rows, {details[args.stage]}")
    print(f"{'engine':<8}{'seconds':>10}{'rows/s':>16}")
    if expected is not None:
        print(f"{'pandas':<8}{pandas_seconds:>10.2f}{args.rows / pandas_seconds:>16,.0f}")
    print(f"{'spark':<8}{spark_seconds:>10.2f}{args.rows / spark_seconds:>16,.0f}   ({args.master})")
    if expected is not None:
        print(f"same result: {same}")

    if args.big_rows:
        big = workdir / f"fairness-{args.big_rows}.parquet"
        if not big.exists():
            write_parquet(big, args.big_rows, seed=1)
        with PeakMemory() as peak:
            seconds, _ = time_spark(spark, args.stage, big, reference, args.scores)
        print(f"spark at {args.big_rows:,} rows: {seconds:.2f} s ({args.big_rows / seconds:,.0f} rows/s); "
              f"peak RSS: JVM {peak.jvm:,.0f} MB (driver memory {args.driver_memory}), "
              f"Python driver {PeakMemory.python_peak_mb():,.0f} MB"
              f"{'' if args.skip_pandas else ' (includes the pandas run)'}; "
              f"Parquet {sum(f.stat().st_size for f in big.rglob('*') if f.is_file()) / 2**20 if big.is_dir() else big.stat().st_size / 2**20:,.0f} MB")
    spark.stop()
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
