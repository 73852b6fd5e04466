"""Benchmark: threshold remedies on 1,000,000 rows vs fairlearn's ThresholdOptimizer.

Builds a 1,000,000-row scored data set with sex x age_group (2 x 4 = 8 groups, the
intersection the group thresholds use), then times, in the same run:

- ``sweep_single_threshold`` on all rows;
- ``fit_group_thresholds`` (demographic parity, accuracy) on all rows, ``nearest_deterministic``,
  and applying both rules;
- 5-fold cross-fitting of both candidates (single threshold: sweep on 4 folds, the most accurate
  threshold decides the 5th; group thresholds: fit + nearest on 4 folds, decide the 5th);
- fairlearn's ``ThresholdOptimizer`` fit + predict on the same rows.

``fit_group_thresholds`` re-implements fairlearn's optimizer on sorted arrays (equal rule);
everything but fairlearn's own fit is numpy (and one compiled hull loop). Prints every part's seconds and the ratio to fairlearn.

Then the whole search as ``audit check`` runs it (``--search``, on by default): a 1,000,000-row
Parquet file, a scikit-learn Pipeline (OneHotEncoder + LogisticRegression) whose four-fifths
rules on sex and on age_group fail, 1,000 bootstrap resamples: the remedies stage (single
threshold, group thresholds randomized and deterministic, reweighed refit on 50,000 training
rows, each cross-fitted over 5 folds and judged by the rules with the paired bootstrap) is timed
inside the audit, beside the audit without it.

Run: ``python benchmarks/remedies.py [--rows N] [--seed S] [--check] [--no-search]``.
Target (2 cores): all candidates with cross-fitting <= 10 s.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator

# Time the checkout this file lives in, whatever auditkit is installed.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from auditkit.remediation._thresholds import (
    apply_group_thresholds,
    apply_randomized,
    fit_group_thresholds,
    nearest_deterministic,
    sweep_single_threshold,
)

SEXES = ("female", "male")
AGE_GROUPS = ("18-25", "26-40", "41-60", "60+")
CONSTRAINT = "demographic_parity"
FOLDS = 5
TARGET_SECONDS = 10.0


class _PassThrough(BaseEstimator):
    """A fitted "estimator" whose ``predict`` returns the score column it is given."""

    def __sklearn_is_fitted__(self) -> bool:
        return True

    def fit(self, X, y=None):
        return self

    def predict(self, X):
        return np.asarray(X)[:, 0]


def build_rows(n_rows: int, seed: int = 0) -> dict[str, np.ndarray | list[str]]:
    """Synthetic scored rows: scores shifted by group, labels drawn from the scores."""
    rng = np.random.default_rng(seed)
    sex = rng.choice(len(SEXES), size=n_rows, p=[0.45, 0.55])
    age = rng.choice(len(AGE_GROUPS), size=n_rows, p=[0.15, 0.35, 0.35, 0.15])
    groups = (sex * len(AGE_GROUPS) + age).astype(np.int64)
    logit = rng.normal(-0.4 + 0.5 * sex + 0.25 * age, 1.2)
    scores = 1.0 / (1.0 + np.exp(-logit))
    y = (rng.random(n_rows) < scores).astype(np.int8)
    labels = [f"{s} & {a}" for s in SEXES for a in AGE_GROUPS]
    return {"scores": scores, "y": y, "groups": groups, "labels": labels}


def _timed(work):
    start = time.perf_counter()
    result = work()
    return result, time.perf_counter() - start


def _cross_fit_single(scores, y, groups, n_groups, folds) -> np.ndarray:
    decisions = np.empty(scores.size, dtype=np.int8)
    for k in range(FOLDS):
        fit = folds != k
        sweep = sweep_single_threshold(scores[fit], y[fit], groups[fit], n_groups)
        threshold = sweep.thresholds[np.argmax(sweep.accuracy)]
        decisions[~fit] = scores[~fit] >= threshold
    return decisions


def _cross_fit_groups(scores, y, groups, labels, folds, rng) -> tuple[np.ndarray, np.ndarray]:
    randomized = np.empty(scores.size, dtype=np.int8)
    deterministic = np.empty(scores.size, dtype=np.int8)
    for k in range(FOLDS):
        fit, held = folds != k, folds == k
        gt = fit_group_thresholds(scores[fit], y[fit], groups[fit], labels, constraint=CONSTRAINT)
        randomized[held] = apply_randomized(gt, scores[held], groups[held], rng)
        thresholds = nearest_deterministic(gt, scores[fit], y[fit], groups[fit])
        deterministic[held] = apply_group_thresholds(thresholds, scores[held], groups[held])
    return randomized, deterministic


def _fairlearn(scores, y, groups, labels) -> tuple[float, float]:
    from fairlearn.postprocessing import ThresholdOptimizer

    sensitive = np.asarray(labels, dtype=object)[groups]
    optimizer = ThresholdOptimizer(estimator=_PassThrough(), constraints=CONSTRAINT, prefit=True,
                                   predict_method="predict")
    _, fit_s = _timed(lambda: optimizer.fit(scores[:, None], y, sensitive_features=sensitive))
    _, predict_s = _timed(lambda: optimizer.predict(scores[:, None], sensitive_features=sensitive, random_state=0))
    return fit_s, predict_s


def bench_thresholds(n_rows: int, seed: int) -> dict:
    """Time every threshold candidate and fairlearn's ThresholdOptimizer on the same rows.

    Parameters
    ----------
    n_rows : int
        Rows of the synthetic data set (8 groups).
    seed : int
        Seed of the data, the folds and the randomized decisions.

    Returns
    -------
    dict
        Seconds per part (keys ending in ``_s``), their ``total_s`` (all candidates),
        ``fairlearn_s`` (fit + predict) and ``ratio`` = total_s / fairlearn_s, with ``rows`` and
        ``groups``.
    """
    rows = build_rows(n_rows, seed)
    scores, y, groups, labels = rows["scores"], rows["y"], rows["groups"], rows["labels"]
    rng = np.random.default_rng(seed)
    folds = rng.permutation(np.arange(n_rows) % FOLDS)
    times = {}
    _, times["sweep_s"] = _timed(lambda: sweep_single_threshold(scores, y, groups, len(labels)))
    gt, times["fit_group_thresholds_s"] = _timed(
        lambda: fit_group_thresholds(scores, y, groups, labels, constraint=CONSTRAINT))
    thresholds, times["nearest_deterministic_s"] = _timed(lambda: nearest_deterministic(gt, scores, y, groups))
    _, times["apply_both_s"] = _timed(lambda: (apply_randomized(gt, scores, groups, rng),
                                               apply_group_thresholds(thresholds, scores, groups)))
    _, times["cross_fit_single_s"] = _timed(lambda: _cross_fit_single(scores, y, groups, len(labels), folds))
    _, times["cross_fit_groups_s"] = _timed(lambda: _cross_fit_groups(scores, y, groups, labels, folds, rng))
    total = sum(times.values())
    fit_s, predict_s = _fairlearn(scores, y, groups, labels)
    return {"rows": n_rows, "groups": len(labels), **times, "total_s": total,
            "fairlearn_fit_s": fit_s, "fairlearn_predict_s": predict_s,
            "fairlearn_s": fit_s + predict_s, "ratio": total / (fit_s + predict_s)}


def _search_data(folder: Path, n_rows: int, seed: int) -> Path:
    """A Parquet file of ``n_rows`` audit rows, a fitted Pipeline (.skops), training rows and a
    policy whose four-fifths rules on sex and age_group fail; returns the policy's path."""
    import pandas as pd
    import skops.io as sio
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    def rows(n, rng):
        sex = rng.choice(SEXES, size=n, p=[0.45, 0.55])
        age = rng.choice(AGE_GROUPS, size=n, p=[0.15, 0.35, 0.35, 0.15])
        income = rng.normal(0, 1, n) + 0.6 * (sex == "male") + 0.3 * (age != "18-25")
        debt = rng.normal(0, 1, n)
        job = rng.choice(["clerk", "manual", "manager", "none"], size=n)
        logit = 0.9 * income - 0.7 * debt + 0.5 * (job == "manager") - 0.2
        label = np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), "good", "bad")
        return pd.DataFrame({"income": income, "debt": debt, "job": job, "sex": sex, "age_group": age,
                             "outcome": label})

    rng = np.random.default_rng(seed)
    train = rows(50_000, rng)
    model = Pipeline([
        ("prepare", ColumnTransformer([("job", OneHotEncoder(handle_unknown="ignore"), ["job"])],
                                      remainder="passthrough")),
        ("classifier", LogisticRegression(max_iter=1000)),
    ]).fit(train[["income", "debt", "job"]], train["outcome"])
    rows(n_rows, rng).to_parquet(folder / "audit.parquet", index=False)
    train.to_parquet(folder / "train.parquet", index=False)
    sio.dump(model, folder / "model.skops")
    policy = folder / "audit.yaml"
    policy.write_text(
        "version: 1\nname: remedies-benchmark\n"
        "data: {path: audit.parquet, target: outcome, positive_label: good, reference: train.parquet}\n"
        "model: {path: model.skops}\n"
        "sensitive_features: [sex, age_group]\n"
        "fairness: {bootstrap: 1000}\n"
        "explain: {enabled: false}\n"
        "rules:\n"
        "  - {id: four-fifths-sex, metric: demographic_parity_ratio, feature: sex, min: 0.8}\n"
        "  - {id: four-fifths-age, metric: demographic_parity_ratio, feature: age_group, min: 0.8}\n"
    )
    return policy


def bench_search(n_rows: int, seed: int) -> dict:
    """The remedies stage of a whole audit on ``n_rows`` rows, and the audit's total time."""
    import tempfile

    from auditkit import run_audit
    from auditkit.stages import remedies as stage

    with tempfile.TemporaryDirectory(prefix="auditkit-remedies-") as tmp:
        policy = _search_data(Path(tmp), n_rows, seed)
        original = stage.search
        timing = {}

        def timed_search(*args, **kwargs):
            result, timing["remedies_s"] = _timed(lambda: original(*args, **kwargs))
            return result

        stage.search = timed_search
        try:
            result, total = _timed(lambda: run_audit(policy, seed=seed))
        finally:
            stage.search = original
    found = result.remedies
    return {"rows": n_rows, "remedies_s": timing["remedies_s"], "audit_s": total,
            "candidates": [(c.id, c.passes, c.accuracy_change.value) for c in found.candidates],
            "failing": [r["id"] for r in found.failing_rules]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--check", action="store_true", help="exit 1 when the target is missed")
    parser.add_argument("--no-search", action="store_true", help="skip the whole-search benchmark")
    args = parser.parse_args()

    bench_thresholds(2000, args.seed)  # warm up imports and caches
    result = bench_thresholds(args.rows, args.seed)
    print(f"rows: {result['rows']:,}  groups: sex x age_group = {result['groups']}  constraint: {CONSTRAINT}")
    for key, value in result.items():
        if key.endswith("_s") and not key.startswith("fairlearn") and key != "total_s":
            print(f"  {key[:-2]:<24} {value:8.3f} s")
    print(f"all threshold candidates: {result['total_s']:.3f} s (target <= {TARGET_SECONDS:.0f} s)")
    print(f"fairlearn ThresholdOptimizer fit + predict: {result['fairlearn_s']:.3f} s "
          f"(fit {result['fairlearn_fit_s']:.3f} s, predict {result['fairlearn_predict_s']:.3f} s)")
    print(f"ratio all candidates / fairlearn fit + predict: {result['ratio']:.2f}x")
    missed = result["total_s"] > TARGET_SECONDS
    if not args.no_search:
        search = bench_search(args.rows, args.seed)
        print(f"whole search inside the audit ({search['rows']:,} rows, failing rules: {', '.join(search['failing'])}):")
        for candidate, passes, change in search["candidates"]:
            cost = "" if change is None else f", accuracy change {change:+.4f}"
            print(f"  {candidate:<28} clears the rules: {'yes' if passes else 'no'}{cost}")
        print(f"  remedies stage (all candidates, cross-fitted, judged with 1,000 resamples): "
              f"{search['remedies_s']:.2f} s of the audit's {search['audit_s']:.2f} s (target <= {TARGET_SECONDS:.0f} s)")
        print(f"  ratio to fairlearn's ThresholdOptimizer fit + predict alone: {search['remedies_s'] / result['fairlearn_s']:.2f}x")
        missed = missed or search["remedies_s"] > TARGET_SECONDS
    print("target: " + ("missed" if missed else "met"))
    if args.check and missed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
