"""Scale benchmark: a whole `audit check` on a 5,000,000-row synthetic Parquet file.

Contract validation, predictions of a scikit-learn Pipeline on every row, data bias,
fairness with 1,000 bootstrap resamples over two sensitive features and their intersection,
and SHAP explanations on the stratified sample. Targets on a 2-core machine: the whole audit
<= 12 s, no stage over 1.5x its floor without a stated reason, peak memory <= 3 GB.

Each stage is timed on its own (the stage functions ``run_audit`` calls, wrapped), and beside
it its floor, measured in the same run on the same data after the audit:

* reading: ``pd.read_parquet`` of the file alone;
* contract: one vectorised pass of the contract's checks: null counts, ``min``/``max`` of each
  numeric column with numpy, and ``pyarrow.compute.is_in`` of each text column's values;
* predictions: the model's ``predict_proba`` on the feature columns alone;
* data bias and fairness: one ``np.bincount`` pass of group counts over the rows (the
  intersection's group codes weighted by the target, the decisions and their product);
* explanations: the explainer call (``auditkit.explain``) alone;
* writing: ``json.dumps`` of the results document.

    python benchmarks/scale.py [--rows 5000000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

# Measure the auditkit of this checkout, whatever another (editable) install points at.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TARGET_SECONDS = 12.0
TARGET_GB = 3.0
MAX_RATIO = 1.5

#: Why a stage may stay above 1.5x its floor (printed beside its ratio).
REASONS = {
    "reading": "the sensitive features checked after the read (one category per row, at least two groups)",
    "contract": "importing pandera and loading the contract (a fixed ~0.7 s, whatever the rows) before the checks",
    "predictions": "the target's labels encoded, the model loaded from skops, the probabilities checked and cut",
    "data bias": "the floor starts from coded groups: coding the sensitive text, the target and each column's "
                 "missing values are the stage's passes",
    "fairness": "1,000 multinomial bootstrap resamples of each group's counts and score histogram (a fixed ~0.4 s), "
                "and the scores sorted once for the data and once per feature (each group's slice) for the exact "
                "AUC and calibration: four integer sorts of every row",
    "explanations": "the stratified sample's random permutation of every row (what fixes which rows are drawn) and "
                    "the rows' group codes beside the explainer",
    "writing": "the report's seven matplotlib charts drawn to SVG (a fixed ~1.5 s, whatever the rows), importing "
               "matplotlib and jsonschema, and the schema check of the results",
}


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

    import auditkit
    from auditkit.pipeline import run_audit
    from auditkit.report import write_outputs
    from auditkit.stages import data as data_stage
    from auditkit.stages import plan as plan_stage

    timings: dict[str, float] = {}

    def timed(label, module, name):
        function = getattr(module, name)

        @functools.wraps(function)
        def wrapper(*a, **k):
            t0 = time.perf_counter()
            try:
                return function(*a, **k)
            finally:
                timings[label] = timings.get(label, 0.0) + time.perf_counter() - t0

        setattr(module, name, wrapper)

    from auditkit.stages import contract as s_contract
    from auditkit.stages import data_bias as s_bias
    from auditkit.stages import drift as s_drift
    from auditkit.stages import explain as s_explain
    from auditkit.stages import fairness as s_fair
    from auditkit.stages import gate as s_gate
    from auditkit.stages import packs as s_packs
    from auditkit.stages import predict as s_predict
    from auditkit.stages import summary as s_summary

    for label, module, name in (("plan", plan_stage, "plan_audit"), ("reading", data_stage, "read_data"),
                                ("contract", s_contract, "check_contract"), ("predictions", s_predict, "predict"),
                                ("data bias", s_bias, "assess_data"), ("drift", s_drift, "measure"),
                                ("fairness", s_fair, "assess"), ("packs", s_packs, "pack_evidence"),
                                ("explanations", s_explain, "explain_candidate"), ("gate", s_gate, "judge"),
                                ("summaries", s_summary, "data_summary"), ("summaries", s_summary, "model_summary"),
                                ("summaries", s_summary, "provenance")):
        timed(label, module, name)

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    result = run_audit(folder / "audit.yaml", seed=0)
    t0 = time.perf_counter()
    document = result.to_dict()
    write_outputs(document, folder / "out")
    timings["writing"] = time.perf_counter() - t0
    total = time.perf_counter() - start
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024

    load = os.getloadavg()[0]
    floors = measure_floors(folder, result, document)
    print(f"\nauditkit from {Path(auditkit.__file__).parent}; load average {load:.1f} on {os.cpu_count()} cores "
          "(a machine shared with other work slows every stage)")
    print("\nstages (seconds; floor measured in the same run; ratio = time / floor):")
    print(f"  {'stage':<14}{'time':>8}{'floor':>8}{'ratio':>8}  floor / reason above {MAX_RATIO}x")
    over = []
    for label in ("plan", "reading", "contract", "predictions", "data bias", "drift", "fairness", "packs",
                  "explanations", "gate", "summaries", "writing"):
        seconds = timings.get(label, 0.0)
        floor = floors.get(label)
        if floor is None:
            print(f"  {label:<14}{seconds:8.2f}{'':>8}{'':>8}")
            continue
        name, value = floor
        ratio = seconds / value if value > 0 else float("inf")
        note = f"floor: {name}"
        if ratio > MAX_RATIO:
            over.append(label)
            note += f"; above: {REASONS.get(label, 'no reason stated')}"
        print(f"  {label:<14}{seconds:8.2f}{value:8.2f}{ratio:7.1f}x  {note}")
    print(f"\nverdict: {result.status}; rules: " + ", ".join(f"{o.rule.id}={o.status}" for o in result.rules))
    print(f"total audit time: {total:.1f} s (target <= {TARGET_SECONDS:g} s)")
    print(f"peak RSS of the whole process, data generation included: {peak_gb:.2f} GB (target <= {TARGET_GB:g} GB; "
          f"{rss_before / 1024 / 1024:.2f} GB before the audit started)")
    unexplained = [label for label in over if label not in REASONS]
    if args.keep is None:
        shutil.rmtree(folder, ignore_errors=True)
    ok = total <= TARGET_SECONDS and peak_gb <= TARGET_GB and not unexplained
    print("targets met" if ok else "TARGETS MISSED")
    return 0 if ok else 1


def _best(function, repeat: int = 1) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - t0)
    return best


def measure_floors(folder: Path, result, document: dict) -> dict[str, tuple[str, float]]:
    """Each stage's floor, on the same data: the one operation the stage cannot do without."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from auditkit import explain
    from auditkit.contract import load_contract
    from auditkit.model import load_model

    path = folder / "data.parquet"
    floors: dict[str, tuple[str, float]] = {}
    frame = None

    def read():
        nonlocal frame
        frame = pd.read_parquet(path)

    floors["reading"] = ("pd.read_parquet alone", _best(read))

    schema = load_contract(folder / "contract.yaml")

    def contract_pass():
        for name, column in schema.columns.items():
            series = frame[name]
            int(series.isna().sum())
            if series.dtype.kind in "iuf":
                values = series.to_numpy()
                values.min(), values.max()
            else:
                allowed = next(c.statistics["allowed_values"] for c in column.checks if c.name == "isin")
                pc.all(pc.is_in(pa.chunked_array([series.array]) if not hasattr(series.array, "_pa_array")
                                else series.array._pa_array, value_set=pa.array(allowed)))

    floors["contract"] = ("null counts, numpy min/max, pyarrow is_in per column", _best(contract_pass))

    estimator = load_model(folder / "model.skops").estimator
    features = list(result.model_summary["feature_columns"])
    proba = None

    def predict_proba():
        nonlocal proba
        proba = estimator.predict_proba(frame[features])

    floors["predictions"] = ("predict_proba alone", _best(predict_proba))

    sex = frame["sex"].to_numpy()
    race = frame["race"].to_numpy()
    codes = (pd.factorize(sex)[0] * 5 + pd.factorize(race)[0]).astype(np.intp)
    y = (frame["decision"].to_numpy() == "approved").astype(np.float64)
    positive = list(estimator.classes_).index("approved")
    decisions = (proba[:, positive] >= 0.5).astype(np.float64)
    proba = None

    def counts():
        np.bincount(codes, minlength=10)
        np.bincount(codes, weights=y, minlength=10)
        np.bincount(codes, weights=decisions, minlength=10)
        np.bincount(codes, weights=y * decisions, minlength=10)

    floor = _best(counts, 3)
    floors["data bias"] = ("one np.bincount pass of group counts", floor)
    floors["fairness"] = ("one np.bincount pass of group counts", floor)

    if result.explanations is not None:
        policy_sample = min(2000, len(frame))
        rows = frame.sample(policy_sample, random_state=0)
        floors["explanations"] = ("the explainer call alone", _best(lambda: explain(
            estimator, rows[features], sensitive_features=rows[["sex", "race"]], intersections=[["sex", "race"]],
            positive_class="approved", max_rows=2000, seed=0)))
    floors["writing"] = ("json.dumps of the results", _best(lambda: json.dumps(document, indent=2), 3))
    return floors


if __name__ == "__main__":
    sys.exit(main())
