"""Benchmark: the fairness kernel with 1,000 bootstrap resamples vs fairlearn's MetricFrame.

Builds a 1,000,000-row classification data set with sex x race (2 x 5 = 10 groups),
times fairlearn's ``MetricFrame`` with 5 metrics and no bootstrap, then
``auditkit.fairness.assess_fairness`` with sex, race and sex & race and 1,000
resamples, in the same run. Prints both times, their ratio and the kernel's peak
traced memory against the input frame's size.

Run: ``python benchmarks/fairness.py [--rows N] [--repeat K] [--skip-fairlearn] [--check]``.
Targets (2 cores): kernel <= 1.5 s, >= 10x faster than MetricFrame, peak memory
<= 2x the input frame.
"""

from __future__ import annotations

import argparse
import gc
import time
import tracemalloc

import numpy as np
import pandas as pd

try:
    from auditkit.fairness import assess_fairness
except ModuleNotFoundError:  # running from a checkout without installing
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from auditkit.fairness import assess_fairness


def build_frame(n_rows: int, seed: int = 0) -> pd.DataFrame:
    """A synthetic audit frame: labels, predictions and two sensitive features."""
    rng = np.random.default_rng(seed)
    sex = rng.choice(np.array(["female", "male"]), size=n_rows, p=[0.45, 0.55])
    race = rng.choice(
        np.array(["white", "black", "asian", "hispanic", "other"]),
        size=n_rows,
        p=[0.55, 0.15, 0.1, 0.15, 0.05],
    )
    base = 0.3 + 0.1 * (sex == "male") + 0.05 * (race == "white")
    y_true = (rng.random(n_rows) < base).astype(np.int64)
    flip = rng.random(n_rows) < 0.2
    y_pred = np.where(flip, 1 - y_true, y_true).astype(np.int64)
    return pd.DataFrame({"y_true": y_true, "y_pred": y_pred, "sex": sex, "race": race})


def time_fairlearn(frame: pd.DataFrame) -> float:
    from fairlearn.metrics import (
        MetricFrame,
        false_positive_rate,
        selection_rate,
        true_positive_rate,
    )
    from sklearn.metrics import accuracy_score, precision_score

    metrics = {
        "selection_rate": selection_rate,
        "tpr": true_positive_rate,
        "fpr": false_positive_rate,
        "ppv": precision_score,
        "accuracy": accuracy_score,
    }
    start = time.perf_counter()
    mf = MetricFrame(
        metrics=metrics,
        y_true=frame["y_true"],
        y_pred=frame["y_pred"],
        sensitive_features=frame[["sex", "race"]],
    )
    mf.difference()
    mf.ratio()
    return time.perf_counter() - start


def run_kernel(frame: pd.DataFrame, resamples: int):
    return assess_fairness(
        frame["y_true"],
        frame["y_pred"],
        frame[["sex", "race"]],
        intersections=[("sex", "race")],
        bootstrap=resamples,
        seed=0,
    )


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise KeyError(field)


def _rss_peak_delta(work) -> int | None:
    """Peak resident memory added by `work()` (Linux only; None elsewhere).

    Resets the kernel's high-water mark (``/proc/self/clear_refs``), so allocations
    outside Python's tracemalloc (e.g. Arrow buffers) are counted too.
    """
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
        before = _status_kib("VmRSS")
        work()
        return _status_kib("VmHWM") - before
    except (OSError, KeyError):
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3, help="kernel runs; the best is reported")
    parser.add_argument("--skip-fairlearn", action="store_true")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()

    frame = build_frame(args.rows)
    frame_bytes = int(frame.memory_usage(deep=True).sum())
    print(f"rows: {args.rows:,}  groups: sex x race = 10  input frame: {frame_bytes / 2**20:.1f} MiB")

    run_kernel(frame.head(1000), 10)  # warm up imports and caches
    times = []
    for _ in range(args.repeat):
        gc.collect()
        start = time.perf_counter()
        result = run_kernel(frame, args.resamples)
        times.append(time.perf_counter() - start)
    kernel = min(times)
    print(
        f"kernel ({args.resamples:,} resamples, sex, race, sex & race): "
        f"{kernel:.3f} s (runs: {', '.join(f'{t:.3f}' for t in times)})"
    )

    gc.collect()
    rss_delta = _rss_peak_delta(lambda: run_kernel(frame, args.resamples))
    if rss_delta is not None:
        print(
            f"kernel peak RSS increase: {rss_delta / 2**20:.1f} MiB = "
            f"{rss_delta / frame_bytes:.2f}x the input frame"
        )
    gc.collect()
    tracemalloc.start()
    run_kernel(frame, args.resamples)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"kernel peak traced memory: {peak / 2**20:.1f} MiB = "
        f"{peak / frame_bytes:.2f}x the input frame (target <= 2x)"
    )

    missed = []
    if kernel > 1.5:
        missed.append(f"kernel took {kernel:.3f} s > 1.5 s")
    if peak > 2 * frame_bytes:
        missed.append(f"peak memory {peak / frame_bytes:.2f}x > 2x the input frame")
    if not args.skip_fairlearn:
        fairlearn = time_fairlearn(frame)
        print(f"fairlearn MetricFrame (5 metrics, no bootstrap): {fairlearn:.3f} s")
        print(f"speed-up: {fairlearn / kernel:.1f}x (target >= 10x); kernel target <= 1.5 s")
        if fairlearn / kernel < 10:
            missed.append(f"speed-up {fairlearn / kernel:.1f}x < 10x")
    d = result.value("selection_rate_difference", "sex & race")
    print(f"sex & race selection_rate_difference = {d.value:.4f}, 95% CI {d.ci}")
    print("targets: " + ("; ".join(missed) if missed else "all met"))
    if args.check and missed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
