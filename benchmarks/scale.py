"""Scale benchmark: a whole `audit check` on a 5,000,000-row synthetic Parquet file.

Contract validation, predictions of a scikit-learn Pipeline on every row, data bias,
fairness with 1,000 bootstrap resamples over two sensitive features and their intersection,
and SHAP explanations on the stratified sample. Targets on a 2-core machine: <= 60 s and
peak memory <= 6 GB. Prints the time of each stage, the total and the peak RSS.

    python benchmarks/scale.py [--rows 5000000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def make_data(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sex = rng.choice(["female", "male"], size=rows, p=[0.45, 0.55])
    race = rng.choice(["a", "b", "c", "d", "e"], size=rows, p=[0.6, 0.2, 0.1, 0.07, 0.03])
    age = rng.integers(18, 80, size=rows)
    income = rng.lognormal(10, 0.6, size=rows).round(2)
    tenure = rng.integers(0, 40, size=rows)
    region = rng.choice(["north", "south", "east", "west", "centre"], size=rows)
    channel = rng.choice(["web", "branch", "phone"], size=rows)
    debt = rng.gamma(2.0, 3000, size=rows).round(2)
    logit = 0.03 * (age - 45) + 0.8 * (np.log(income) - 10) - 0.00008 * debt + 0.2 * (sex == "male") + 0.3
    label = np.where(rng.random(rows) < 1 / (1 + np.exp(-logit)), "approved", "declined")
    return pd.DataFrame({"age": age, "income": income, "tenure": tenure, "debt": debt, "region": region,
                         "channel": channel, "sex": sex, "race": race, "decision": label})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--keep", type=Path, help="keep the generated files in this folder")
    args = parser.parse_args()

    folder = args.keep or Path(tempfile.mkdtemp(prefix="auditkit-scale-"))
    folder.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    frame = make_data(args.rows)
    frame.to_parquet(folder / "data.parquet", index=False)

    import skops.io as sio
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    features = ["age", "income", "tenure", "debt", "region", "channel"]
    sample = frame.sample(50_000, random_state=0)
    model = Pipeline([("prep", ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), ["region", "channel"]),
                                                  ("num", StandardScaler(), ["age", "income", "tenure", "debt"])])),
                      ("clf", LogisticRegression(max_iter=500))]).fit(sample[features], sample["decision"])
    sio.dump(model, folder / "model.skops")
    from auditkit.infer import infer_contract

    (folder / "contract.yaml").write_text(infer_contract(sample, source="data.parquet"))
    (folder / "audit.yaml").write_text(
        "version: 1\nname: scale\n"
        "data: {path: data.parquet, contract: contract.yaml, target: decision, positive_label: approved}\n"
        "model: {path: model.skops}\n"
        "sensitive_features: [sex, race]\nintersections: [[sex, race]]\n"
        "fairness: {bootstrap: 1000}\nexplain: {max_rows: 2000}\n"
        "rules:\n"
        "  - {id: four-fifths-sex, metric: demographic_parity_ratio, feature: sex, min: 0.8, decide_on: ci}\n"
        "  - {id: eo-race, metric: equalized_odds_difference, feature: race, max: 0.1, decide_on: ci}\n"
        "  - {id: accuracy, metric: accuracy, min: 0.5}\n")
    del frame, sample
    print(f"prepared {args.rows:,} rows in {time.perf_counter() - t:.1f} s ({folder})")

    from auditkit.pipeline import run_audit
    from auditkit.report import write_outputs

    stages: list[tuple[str, float]] = []

    def progress(message: str) -> None:
        now = time.perf_counter()
        stages.append((message, now))

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    result = run_audit(folder / "audit.yaml", seed=0, progress=progress)
    write_outputs(result.to_dict(), folder / "out")
    total = time.perf_counter() - start
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
    stages.append(("writing outputs", time.perf_counter()))
    print(f"\nstages (seconds from start):")
    for message, at in stages:
        print(f"  {at - start:7.2f}  {message}")
    print(f"\nverdict: {result.status}; rules: " + ", ".join(f"{o.rule.id}={o.status}" for o in result.rules))
    print(f"total audit time: {total:.1f} s (target <= 60 s)")
    print(f"peak RSS of the whole process, data generation included: {peak_gb:.2f} GB (target <= 6 GB; {rss_before / 1024 / 1024:.2f} GB before the audit started)")
    if args.keep is None:
        shutil.rmtree(folder, ignore_errors=True)
    ok = total <= 60 and peak_gb <= 6
    print("targets met" if ok else "TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
