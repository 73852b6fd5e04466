"""Benchmark of auditkit's explanation stage.

1. A scikit-learn Pipeline (OneHotEncoder + StandardScaler + LogisticRegression, six raw
   columns, three of them strings) on 10,000 rows: auditkit's exact linear path against
   shap's ``PermutationExplainer`` on the same rows and background. shap is timed on a
   sample of rows and extrapolated. Targets: >= 100x faster, <= 2 s for the 10,000 rows.
2. A gradient-boosted model (HistGradientBoosting behind a OneHotEncoder) on Adult
   (48,842 rows): the whole explanation stage with the default budget, sensitive groups
   and an intersection. Target: <= 5 s.

Run ``python benchmarks/explain.py`` (``--help`` for options). Timings are the best of
``--repeat`` runs, since shared machines are noisy.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ADULT_COLUMNS = [
    "age", "workclass", "fnlwgt", "education", "education_num", "marital_status", "occupation",
    "relationship", "race", "sex", "capital_gain", "capital_loss", "hours_per_week",
    "native_country", "income",
]


def credit_pipeline_data(n: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "age": rng.integers(18, 80, n).astype(float),
            "amount": rng.gamma(2.0, 1500.0, n),
            "duration": rng.integers(6, 72, n).astype(float),
            "job": rng.choice(["unskilled", "skilled", "management", "self-employed"], n),
            "housing": rng.choice(["own", "rent", "free"], n),
            "purpose": rng.choice(["car", "furniture", "radio/tv", "education", "business"], n),
        }
    )
    score = (X["age"] - 40) / 15 - X["duration"] / 36 + (X["job"] == "management") - 0.5 * (X["housing"] == "rent")
    y = (score + rng.normal(0, 0.8, n) > 0).astype(int).to_numpy()
    return X, y


def credit_pipeline(X: pd.DataFrame, y: np.ndarray):
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    pre = ColumnTransformer(
        [
            ("num", StandardScaler(), ["age", "amount", "duration"]),
            ("cat", OneHotEncoder(handle_unknown="ignore"), ["job", "housing", "purpose"]),
        ]
    )
    return Pipeline([("pre", pre), ("model", LogisticRegression(max_iter=1000))]).fit(X, y)


def best_of(repeat: int, fn):
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def bench_pipeline(rows: int, shap_rows: int, repeat: int) -> dict:
    import shap

    from auditkit.explanations import explain
    from auditkit.explanations._agnostic import coded_model

    X, y = credit_pipeline_data(rows)
    model = credit_pipeline(X, y)
    fast_time, result = best_of(
        repeat, lambda: explain(model, X, max_rows=rows, max_background=200, progress=False)
    )
    assert result.rows_explained == rows, result.rows_explained

    # shap's PermutationExplainer on the same rows and background; its Independent masker
    # cannot hold strings, so it sees the same integer codes as auditkit's agnostic path.
    pool = pd.concat([result.data, result.background], ignore_index=True)
    codes, wrapped = coded_model(pool, model.decision_function)
    masker = shap.maskers.Independent(codes[rows:], max_samples=result.background_rows)
    explainer = shap.explainers.Permutation(wrapped, masker, seed=0)
    sample = codes[:shap_rows]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        explainer(sample[:2], silent=True)  # warm-up (numba compilation)
        perm_time, perm = best_of(1, lambda: explainer(sample, silent=True))
    perm_total = perm_time / shap_rows * rows
    gap = float(np.max(np.abs(perm.values - result.values[:shap_rows])))
    return {
        "rows": rows,
        "method": result.method,
        "fast_seconds": fast_time,
        "permutation_seconds_sample": perm_time,
        "permutation_rows_sample": shap_rows,
        "permutation_seconds_extrapolated": perm_total,
        "speedup": perm_total / fast_time,
        "max_abs_difference": gap,
        "max_additivity_error": result.max_additivity_error,
    }


def load_adult(directory: Path) -> pd.DataFrame:
    frames = []
    for name, skip in (("adult.data.gz", 0), ("adult.test.gz", 1)):
        path = directory / name
        if not path.exists():
            raise FileNotFoundError(path)
        frames.append(
            pd.read_csv(
                path,
                header=None,
                names=ADULT_COLUMNS,
                skiprows=skip,
                skipinitialspace=True,
                na_values="?",
                comment="|",
            )
        )
    adult = pd.concat(frames, ignore_index=True).dropna(subset=["income"])
    adult["income"] = adult["income"].str.rstrip(".")
    return adult


def bench_adult(directory: Path, repeat: int, model_kind: str) -> dict:
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    from auditkit.explanations import explain

    adult = load_adult(directory)
    features = [c for c in ADULT_COLUMNS if c != "income"]
    X = adult[features]
    y = (adult["income"] == ">50K").astype(int).to_numpy()
    categorical = [c for c in features if not pd.api.types.is_numeric_dtype(X[c])]
    if model_kind == "lightgbm":
        import lightgbm

        estimator = lightgbm.LGBMClassifier(n_estimators=200, verbose=-1)
    else:
        estimator = HistGradientBoostingClassifier(random_state=0)
    pre = ColumnTransformer(
        [("cat", OneHotEncoder(handle_unknown="ignore", min_frequency=20, sparse_output=False), categorical)],
        remainder="passthrough",
    )
    model = Pipeline([("pre", pre), ("model", estimator)]).fit(X, y)
    sensitive = pd.DataFrame(
        {
            "sex": adult["sex"],
            "race": adult["race"],
            "age_group": pd.cut(adult["age"], [0, 25, 60, 200], labels=["<25", "25-60", ">60"]),
        }
    )
    elapsed, result = best_of(
        repeat,
        lambda: explain(
            model,
            X,
            sensitive_features=sensitive,
            intersections=[("sex", "race")],
            progress=False,
        ),
    )
    return {
        "rows": len(X),
        "model": type(estimator).__name__,
        "method": result.method,
        "seconds": elapsed,
        "rows_explained": result.rows_explained,
        "background_rows": result.background_rows,
        "max_additivity_error": result.max_additivity_error,
        "top_features": list(result.importance["feature"][:5]),
        "flagged_proxies": result.proxies.query("flagged")[["input_feature", "sensitive_feature"]]
        .apply(tuple, axis=1)
        .tolist(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000, help="rows of the Pipeline benchmark")
    parser.add_argument("--shap-rows", type=int, default=40, help="rows timed with PermutationExplainer")
    parser.add_argument("--repeat", type=int, default=3, help="runs per timing (best is kept)")
    parser.add_argument("--adult-dir", type=Path, default=Path(__file__).resolve().parents[1] / "examples" / "data" / "adult",
                        help="folder holding adult.data.gz and adult.test.gz (default: the copy in examples/)")
    parser.add_argument("--adult-model", choices=["hgb", "lightgbm"], default="hgb")
    parser.add_argument("--skip-adult", action="store_true")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

    ok = True
    p = bench_pipeline(args.rows, args.shap_rows, args.repeat)
    print(f"Pipeline (OneHotEncoder + StandardScaler + LogisticRegression), {p['rows']} rows:")
    print(f"  auditkit {p['method']}: {p['fast_seconds']:.2f} s (max additivity error {p['max_additivity_error']:.1e})")
    print(
        f"  shap PermutationExplainer: {p['permutation_seconds_sample']:.2f} s for {p['permutation_rows_sample']} rows"
        f" -> {p['permutation_seconds_extrapolated']:.0f} s extrapolated"
        f" (max |difference| {p['max_abs_difference']:.1e})"
    )
    print(f"  speed-up: {p['speedup']:.0f}x (target >= 100x); fast path target <= 2 s")
    ok &= p["speedup"] >= 100 and p["fast_seconds"] <= 2.0

    if not args.skip_adult:
        try:
            a = bench_adult(args.adult_dir, args.repeat, args.adult_model)
        except FileNotFoundError as missing:
            print(f"Adult: skipped ({missing} not found; pass --adult-dir)")
        else:
            print(f"Adult, {a['rows']} rows, {a['model']} behind a OneHotEncoder:")
            print(
                f"  explanation stage ({a['method']}, {a['rows_explained']} rows, {a['background_rows']} background):"
                f" {a['seconds']:.2f} s (target <= 5 s); max additivity error {a['max_additivity_error']:.1e}"
            )
            print(f"  top features: {', '.join(a['top_features'])}; flagged proxies: {a['flagged_proxies']}")
            ok &= a["seconds"] <= 5.0
    print("targets met" if ok else "targets NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
