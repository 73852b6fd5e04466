"""The audits whose ``results.json`` are kept as golden files (issue 14: "nothing changes for users").

Each audit is built from data shipped in the repository and run through the CLI, exactly as
a user would. ``python tests/goldens/audits.py`` rewrites the golden files; do that only
when a change to an output is intended, and say so in the commit.

The golden files guard a refactor against unintended change; they are not evidence of
correctness (the reference tests against fairlearn, shap and pandera are).
"""

from __future__ import annotations

import gzip
import json
import math
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GOLDENS = Path(__file__).resolve().parent
ADULT_COLUMNS = ("age workclass fnlwgt education education_num marital_status occupation relationship race sex "
                 "capital_gain capital_loss hours_per_week native_country income").split()

# Keys whose values legitimately differ between runs: clocks, the machine, absolute
# locations, and digests of files the audit's own set-up writes afresh (a .skops model is a
# zip archive with time stamps).
VOLATILE = {
    ("provenance", "started_at"), ("provenance", "finished_at"), ("provenance", "versions"),
    ("provenance", "platform"), ("provenance", "git"), ("provenance", "command"),
    ("provenance", "model", "sha256"), ("provenance", "champion", "sha256"),
}


def _cli(*args) -> int:
    from click.testing import CliRunner

    from auditkit.cli import cli

    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    if result.exit_code not in (0, 1):
        raise RuntimeError(f"audit {' '.join(map(str, args))} exited {result.exit_code}: {result.output}")
    return result.exit_code


def _adult_csv(folder: Path, rows: int) -> Path:
    import pandas as pd

    with gzip.open(ROOT / "examples" / "data" / "adult" / "adult.data.gz", "rt", encoding="utf-8") as raw:
        frame = pd.read_csv(raw, header=None, names=ADULT_COLUMNS, skipinitialspace=True, na_values="?",
                            nrows=rows)
    path = folder / "adult.csv"
    frame.to_csv(path, index=False)
    return path


def run_demo(work: Path, *, with_champion: bool = False, engine: str = "pandas") -> dict:
    name = "champion" if with_champion else "demo"
    folder = work / f"{name}-build"
    if not folder.exists():
        args = ["demo", folder, "--quiet"] + (["--with-champion"] if with_champion else [])
        _cli(*args)
    out = work / f"{name}-{engine}-out"
    _cli("check", folder / "audit.yaml", "--out", out, "--engine", engine, "--quiet")
    return json.loads((out / "results.json").read_text())


def run_hiring(work: Path, policy: str, *, engine: str = "pandas") -> dict:
    folder = work / "hiring"
    if not folder.exists():
        shutil.copytree(ROOT / "examples" / "hiring", folder)
    out = work / f"hiring-{policy}-{engine}-out"
    _cli("check", folder / f"audit-{policy}.yaml", "--out", out, "--engine", engine, "--quiet")
    return json.loads((out / "results.json").read_text())


def run_adult_init(work: Path) -> dict:
    """`audit init` on 4,000 Adult rows, then `audit check` of the scaffolded policy (as tests/test_cli.py)."""
    folder = work / "adult-init"
    folder.mkdir(exist_ok=True)
    data = _adult_csv(folder, 4000)
    _cli("init", data, "--target", "income", "--sensitive", "sex,race", "--dir", folder)
    out = folder / "out"
    _cli("check", folder / "audit.yaml", "--out", out, "--quiet")
    return json.loads((out / "results.json").read_text())


def run_adult_model(work: Path) -> dict:
    """A model audit on Adult: a Pipeline (one-hot + logistic regression) saved as .skops,
    fairness over sex, race and their intersection with the bootstrap, drift against the
    other half of the file, data bias and an explanation rule."""
    import numpy as np
    import pandas as pd
    import skops.io as sio
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    folder = work / "adult-model"
    folder.mkdir(exist_ok=True)
    frame = pd.read_csv(_adult_csv(folder, 8000))
    frame = frame.dropna().reset_index(drop=True)
    train, audit = frame.iloc[: len(frame) // 2], frame.iloc[len(frame) // 2:]
    train.to_csv(folder / "train.csv", index=False)
    audit.to_csv(folder / "audit.csv", index=False)
    numeric = ["age", "education_num", "hours_per_week", "capital_gain"]
    categorical = ["workclass", "marital_status", "occupation", "relationship"]
    model = Pipeline([
        ("prep", ColumnTransformer([("num", StandardScaler(), numeric),
                                    ("cat", OneHotEncoder(handle_unknown="ignore"), categorical)])),
        ("clf", LogisticRegression(max_iter=2000)),
    ]).fit(train[numeric + categorical], train["income"])
    sio.dump(model, folder / "model.skops")
    trusted = [t for t in sio.get_untrusted_types(file=folder / "model.skops")]
    (folder / "audit.yaml").write_text(
        "version: 1\nname: adult-income\n"
        "data: {path: audit.csv, target: income, positive_label: '>50K', reference: train.csv}\n"
        f"model: {{path: model.skops, threshold: 0.5, trust: {json.dumps(trusted)}}}\n"
        "sensitive_features: [sex, race]\nintersections: [[sex, race]]\n"
        "fairness: {metrics: [selection_rate, tpr, fpr, ppv, accuracy, auc], bootstrap: 200, min_group_size: 30}\n"
        "explain: {max_rows: 300}\n"
        "rules:\n"
        "  - {id: dp, metric: selection_rate_ratio, feature: sex, min: 0.8, decide_on: ci}\n"
        "  - {id: eo, metric: equalized_odds_difference, feature: sex, max: 0.1}\n"
        "  - {id: tpr-race, metric: tpr, feature: race, min: 0.3, severity: warning}\n"
        "  - {id: auc, metric: auc, min: 0.8}\n"
        "  - {id: drift, metric: psi, max: 0.25}\n"
        "  - {id: rep, metric: representation_min_share, feature: race, min: 0.01, severity: warning}\n"
        "  - {id: base, metric: base_rate_ratio, feature: sex, min: 0.3, severity: warning}\n"
        "  - {id: sex-share, metric: shap_share, feature: relationship, max: 0.9, severity: warning}\n")
    out = folder / "out"
    _cli("check", folder / "audit.yaml", "--out", out, "--quiet")
    return json.loads((out / "results.json").read_text())


AUDITS = {
    "demo": lambda work: run_demo(work),
    "champion-demo": lambda work: run_demo(work, with_champion=True),
    "hiring-selection": lambda work: run_hiring(work, "selection"),
    "hiring-scoring": lambda work: run_hiring(work, "scoring"),
    "adult-init": run_adult_init,
    "adult-model": run_adult_model,
}


def normalized(document, path=()):
    """The document with volatile values removed (see VOLATILE)."""
    if isinstance(document, dict):
        return {k: normalized(v, path + (k,)) for k, v in document.items() if path + (k,) not in VOLATILE}
    if isinstance(document, list):
        return [normalized(v, path) for v in document]
    return document


def differences(golden, actual, path="$", tolerance=1e-12) -> list[str]:
    """Where ``actual`` departs from ``golden``: a missing key or a changed value (new keys are allowed)."""
    out = []
    if isinstance(golden, dict):
        if not isinstance(actual, dict):
            return [f"{path}: was an object, now {type(actual).__name__}"]
        for key, value in golden.items():
            if key not in actual:
                out.append(f"{path}.{key}: missing")
            else:
                out.extend(differences(value, actual[key], f"{path}.{key}", tolerance))
        return out
    if isinstance(golden, list):
        if not isinstance(actual, list) or len(actual) != len(golden):
            return [f"{path}: was a list of {len(golden)}, now {actual!r:.200}"]
        for i, (g, a) in enumerate(zip(golden, actual)):
            out.extend(differences(g, a, f"{path}[{i}]", tolerance))
        return out
    if isinstance(golden, float) and isinstance(actual, (int, float)) and not isinstance(actual, bool):
        if math.isnan(golden) and math.isnan(actual):
            return out
        if not math.isclose(golden, actual, rel_tol=tolerance, abs_tol=tolerance):
            out.append(f"{path}: {golden!r} -> {actual!r}")
        return out
    if golden != actual or type(golden) is not type(actual):
        out.append(f"{path}: {golden!r} -> {actual!r}")
    return out


def main(argv: list[str]) -> None:
    import tempfile

    names = argv or list(AUDITS)
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            document = normalized(AUDITS[name](Path(tmp)))
            (GOLDENS / f"{name}.json").write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
            print(f"wrote {name}.json ({document['status']}, {len(document['rules'])} rules)")


if __name__ == "__main__":
    main(sys.argv[1:])
