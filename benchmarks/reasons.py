"""Benchmark of ``auditkit.reasons``: adverse-action reasons at scale vs shap (issue 17).

1. A scikit-learn Pipeline (ColumnTransformer: OneHotEncoder on three string columns,
   passthrough of four numeric ones; LogisticRegression), trained on 50,000 synthetic rows, then
   ``auditkit.reasons(model, X, rows="all")`` on 1,000,000 rows drawn from a riskier population
   (most are declined; the count is printed), against the default background of 200 rows.
   Target: <= 10 s. Anchor: shap's ``LinearExplainer`` on the Pipeline's transformed data with
   the same 200 background rows (interventional, ``shap.maskers.Independent``), the transform
   included, timed on ``--linear-shap-rows`` rows and extrapolated linearly to 1,000,000; its
   values, one-hot columns summed back per raw column, are compared with auditkit's.
2. ``lightgbm.LGBMClassifier(n_estimators=200)`` on 100,000 synthetic rows with four numeric
   and three pandas categorical columns (native categorical splits), then
   ``auditkit.reasons(model, X, rows="all")`` on the 100,000 rows against 200 background rows.
   Target: <= 30 s. Anchor: shap's ``TreeExplainer(model, masker, feature_perturbation=
   "interventional")`` with the same 200 background rows. shap's TreeExplainer refuses
   categorical splits with a background, so the anchor model is the same LightGBM trained on the
   category codes as numbers (same rows, same settings); it is timed on ``--tree-shap-rows``
   rows and extrapolated linearly to 100,000. auditkit's values on that coded model are
   compared with shap's on the sample rows.

Run: ``python benchmarks/reasons.py [--rows N] [--tree-rows N] [--check]``.
Timings are the best of ``--repeat`` runs (shared machines are noisy); the ratio is
auditkit's time / shap's (extrapolated) time on the same rows, measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

# Time the checkout this file lives in, whatever auditkit is installed.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import auditkit

LINEAR_TARGET = 10.0
TREE_TARGET = 30.0
BACKGROUND = 200
NUMERIC = ["income", "debt_ratio", "age", "inquiries"]
CATEGORICAL = {"purpose": ["car", "education", "business", "home", "other"],
               "housing": ["own", "rent", "free"],
               "employment": ["none", "short", "medium", "long"]}


def best_of(repeat: int, fn):
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def synthetic(n: int, seed: int, risk: float = 0.0) -> tuple[pd.DataFrame, np.ndarray]:
    """Applicants; ``risk`` > 0 shifts the population towards declines."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({
        "income": rng.lognormal(10.5 - 0.4 * risk, 0.5, n),
        "debt_ratio": np.clip(rng.normal(0.35 + 0.15 * risk, 0.15, n), 0, None),
        "age": rng.integers(18, 80, n).astype(np.float64),
        "inquiries": rng.poisson(1.5 + 2.0 * risk, n).astype(np.float64),
    })
    for name, levels in CATEGORICAL.items():
        X[name] = rng.choice(levels, n)
    logit = (1.2 * (np.log(X["income"]) - 10.5) - 4.0 * (X["debt_ratio"] - 0.35) + 0.02 * (X["age"] - 45)
             - 0.35 * (X["inquiries"] - 1.5) + 0.6 * (X["housing"] == "own") - 0.5 * (X["purpose"] == "business")
             + 0.4 * (X["employment"] == "long") - 0.6 * (X["employment"] == "none") + 0.3)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int64)
    return X, y


def _background_rows(n: int, seed: int) -> np.ndarray:
    """The background ``reasons`` samples (its ``_baseline_rows`` rule for baseline="background")."""
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(np.arange(n), size=min(BACKGROUND, n), replace=False))


# ---------------------------------------------------------------- 1. linear pipeline


def bench_linear(n_rows: int, shap_rows: int, seed: int, repeat: int) -> dict:
    import shap
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    train, y = synthetic(50_000, seed)
    categorical = list(CATEGORICAL)
    prep = ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), categorical),
                              ("num", "passthrough", NUMERIC)])
    model = Pipeline([("prep", prep), ("clf", LogisticRegression(max_iter=2000))]).fit(train, y)
    X, _ = synthetic(n_rows, seed + 1, risk=1.0)

    auditkit.reasons(model, X.iloc[:2000], rows="all", seed=seed)  # warm up imports
    seconds, table = best_of(repeat, lambda: auditkit.reasons(model, X, rows="all", seed=seed))
    adverse = int((model.predict_proba(X)[:, 1] < 0.5).sum())

    # shap's LinearExplainer on the transformed data, same background rows.
    background = X.iloc[_background_rows(len(X), seed)]
    sample = X.iloc[:shap_rows]

    def run_shap():
        Zb = model[:-1].transform(background)
        Zs = model[:-1].transform(sample)
        explainer = shap.LinearExplainer(model[-1], shap.maskers.Independent(Zb, max_samples=len(Zb)))
        return explainer.shap_values(Zs)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        shap_seconds, shap_values = best_of(repeat, run_shap)
    shap_values = np.asarray(shap_values.toarray() if hasattr(shap_values, "toarray") else shap_values)
    # Sum the one-hot columns back per raw column, in the model's raw column order.
    names = model[:-1].get_feature_names_out()
    raw = categorical + NUMERIC
    owner = []
    for name in names:
        inner = name.split("__", 1)[1]
        owner.append(next(c for c in raw if inner == c or inner.startswith(c + "_")))
    features = [str(c) for c in model.feature_names_in_]
    per_raw = np.column_stack([shap_values[:, [i for i, o in enumerate(owner) if o == c]].sum(axis=1)
                               for c in features])
    # auditkit's stated reasons on the sample, against shap's values of the same cells.
    mine = table[table["row"].isin(sample.index)]
    position = {c: j for j, c in enumerate(features)}
    row_position = {label: i for i, label in enumerate(sample.index)}
    theirs = per_raw[[row_position[r] for r in mine["row"]], [position[c] for c in mine["column"]]]
    gap = float(np.max(np.abs(mine["contribution"].to_numpy() - theirs))) if len(mine) else float("nan")
    extrapolated = shap_seconds * n_rows / shap_rows
    return {"rows": n_rows, "adverse": adverse, "reasons": len(table), "seconds": seconds,
            "shap_rows": shap_rows, "shap_seconds": shap_seconds, "shap_extrapolated": extrapolated,
            "ratio": seconds / extrapolated, "gap": gap, "output": table.attrs["output"]}


# ---------------------------------------------------------------- 2. LightGBM


def bench_tree(n_rows: int, shap_rows: int, seed: int, repeat: int) -> dict:
    import lightgbm
    import shap

    X, y = synthetic(n_rows, seed + 2, risk=0.5)
    for name, levels in CATEGORICAL.items():
        X[name] = pd.Categorical(X[name], categories=levels)
    params = {"n_estimators": 200, "random_state": seed, "verbose": -1}
    model = lightgbm.LGBMClassifier(**params).fit(X, y)

    auditkit.reasons(model, X.iloc[:500], rows="all", seed=seed)  # warm up (numba compile / cache load)
    seconds, table = best_of(repeat, lambda: auditkit.reasons(model, X, rows="all", seed=seed))
    adverse = int((model.predict_proba(X)[:, 1] < 0.5).sum())

    # Anchor: the same model on the category codes (shap refuses categorical splits with a background).
    coded = X.copy()
    for name in CATEGORICAL:
        coded[name] = coded[name].cat.codes.astype(np.float64)
    anchor = lightgbm.LGBMClassifier(**params).fit(coded, y)
    background = coded.iloc[_background_rows(len(coded), seed)]
    sample = coded.iloc[:shap_rows]
    masker = shap.maskers.Independent(background.to_numpy(), max_samples=len(background))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        explainer = shap.TreeExplainer(anchor, masker, feature_perturbation="interventional")
        assert explainer.data.shape[0] == len(background)
        explainer.shap_values(sample.to_numpy()[:1], check_additivity=False)  # warm up
        shap_seconds, shap_values = best_of(1, lambda: explainer.shap_values(sample.to_numpy(), check_additivity=False))
    shap_values = np.asarray(shap_values)
    if shap_values.ndim == 3:
        shap_values = shap_values[..., 1]
    anchor_seconds, anchor_table = best_of(repeat, lambda: auditkit.reasons(anchor, coded, rows="all", seed=seed))
    mine = anchor_table[anchor_table["row"].isin(sample.index)]
    features = list(coded.columns)
    theirs = shap_values[mine["row"].to_numpy(), [features.index(c) for c in mine["column"]]]
    gap = float(np.max(np.abs(mine["contribution"].to_numpy() - theirs))) if len(mine) else float("nan")
    extrapolated = shap_seconds * n_rows / shap_rows
    return {"rows": n_rows, "adverse": adverse, "reasons": len(table), "seconds": seconds,
            "anchor_seconds": anchor_seconds, "shap_rows": shap_rows, "shap_seconds": shap_seconds,
            "shap_extrapolated": extrapolated, "ratio": seconds / extrapolated, "gap": gap,
            "output": table.attrs["output"], "anchor_output": anchor_table.attrs["output"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the linear benchmark")
    parser.add_argument("--tree-rows", type=int, default=100_000, help="rows of the LightGBM benchmark")
    parser.add_argument("--linear-shap-rows", type=int, default=50_000)
    parser.add_argument("--tree-shap-rows", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-linear", action="store_true")
    parser.add_argument("--skip-tree", action="store_true")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}")
    missed = False
    if not args.skip_linear:
        r = bench_linear(args.rows, args.linear_shap_rows, args.seed, args.repeat)
        print(f"1. OneHotEncoder + LogisticRegression Pipeline, {r['rows']:,} rows ({r['adverse']:,} declined),"
              f" rows='all', background {BACKGROUND}; output: {r['output']}")
        print(f"  auditkit.reasons: {r['seconds']:.2f} s, {r['reasons']:,} reasons (target <= {LINEAR_TARGET:.0f} s)")
        print(f"  shap LinearExplainer (transform included): {r['shap_seconds']:.2f} s for {r['shap_rows']:,} rows"
              f" -> {r['shap_extrapolated']:.2f} s extrapolated to {r['rows']:,}")
        print(f"  ratio auditkit / shap: {r['ratio']:.2f}x; max |difference| of stated contributions {r['gap']:.1e}")
        missed = missed or r["seconds"] > LINEAR_TARGET
    if not args.skip_tree:
        r = bench_tree(args.tree_rows, args.tree_shap_rows, args.seed, args.repeat)
        print(f"2. LGBMClassifier(n_estimators=200), 4 numeric + 3 pandas categorical columns, {r['rows']:,} rows"
              f" ({r['adverse']:,} declined), rows='all', background {BACKGROUND}; output: {r['output']}")
        print(f"  auditkit.reasons: {r['seconds']:.2f} s, {r['reasons']:,} reasons (target <= {TREE_TARGET:.0f} s)")
        print(f"  anchor model on numeric category codes (shap's TreeExplainer refuses categorical splits"
              f" with a background): auditkit.reasons {r['anchor_seconds']:.2f} s")
        print(f"  shap TreeExplainer (interventional, {BACKGROUND} background rows): {r['shap_seconds']:.2f} s for"
              f" {r['shap_rows']:,} rows -> {r['shap_extrapolated']:.0f} s extrapolated to {r['rows']:,}")
        print(f"  ratio auditkit / shap: {r['ratio']:.3f}x ({1 / r['ratio']:.0f}x faster); max |difference| of"
              f" stated contributions on the coded model {r['gap']:.1e} ({r['anchor_output']})")
        missed = missed or r["seconds"] > TREE_TARGET
    print("targets: " + ("missed" if missed else "met"))
    if args.check and missed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
