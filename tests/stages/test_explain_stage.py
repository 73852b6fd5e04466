"""`audit check` explains the models people ship: a Pipeline fed raw strings,
HistGradientBoosting and LightGBM, each with importance per raw column and additivity."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import skops.io as sio
from click.testing import CliRunner

from auditkit.cli import cli
from auditkit.demo import CATEGORICAL, TARGET, model_features


def _policy(folder, model_name, trust=None):
    trust_line = f"  trust: {json.dumps(trust)}\n" if trust else ""
    text = (
        "version: 1\nname: explain\n"
        "data: {path: data/credit.csv, target: credit_risk, positive_label: good}\n"
        f"model:\n  path: models/{model_name}\n{trust_line}"
        "sensitive_features: [sex, age_group]\n"
        "fairness: {bootstrap: 100}\nexplain: {max_rows: 300}\n"
        "rules:\n  - {id: no-direct-sex, metric: shap_share, feature: personal_status, max: 0.5}\n")
    path = folder / f"{model_name}.yaml"
    path.write_text(text)
    return path


def _check(policy, out):
    result = CliRunner().invoke(cli, ["check", str(policy), "--out", str(out)], catch_exceptions=False)
    assert result.exit_code in (0, 1), result.output
    return json.loads((out / "results.json").read_text())


def _assert_explained(results, method_prefix, features):
    explanations = results["explanations"]
    assert explanations["status"] == "ok", explanations
    assert explanations["method"].startswith(method_prefix)
    assert explanations["max_additivity_error"] < 1e-6
    assert sorted(r["feature"] for r in explanations["importance"]) == sorted(features)
    assert "log-odds" in explanations["output"]
    assert results["rules"][0]["status"] in ("pass", "fail")


def test_pipeline_with_raw_strings(demo_dir, tmp_path):
    results = _check(demo_dir / "audit.yaml", tmp_path / "out")
    features = model_features(pd.read_csv(demo_dir / "data" / "train.csv"))
    _assert_explained(results, "linear", features)


def _train(model, demo_copy, name):
    train = pd.read_csv(demo_copy / "data" / "train.csv")
    features = model_features(train)
    model.fit(train[features], train[TARGET])
    sio.dump(model, demo_copy / "models" / name)
    return features, sio.get_untrusted_types(file=demo_copy / "models" / name)


def test_hist_gradient_boosting(demo_copy, tmp_path):
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OrdinalEncoder

    train = pd.read_csv(demo_copy / "data" / "train.csv")
    categorical = [c for c in model_features(train) if c in CATEGORICAL]
    model = Pipeline([
        ("prepare", ColumnTransformer([("cat", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1), categorical)],
                                      remainder="passthrough")),
        ("classifier", HistGradientBoostingClassifier(max_iter=60, random_state=0)),
    ])
    features, untrusted = _train(model, demo_copy, "hgb.skops")
    results = _check(_policy(demo_copy, "hgb.skops", untrusted), tmp_path / "out")
    _assert_explained(results, "tree", features)


def test_lightgbm(demo_copy, tmp_path):
    lightgbm = pytest.importorskip("lightgbm")
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    train = pd.read_csv(demo_copy / "data" / "train.csv")
    categorical = [c for c in model_features(train) if c in CATEGORICAL]
    model = Pipeline([
        ("prepare", ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), categorical)],
                                      remainder="passthrough")),
        ("classifier", lightgbm.LGBMClassifier(n_estimators=60, num_leaves=15, verbose=-1, random_state=0)),
    ])
    features, untrusted = _train(model, demo_copy, "lgbm.skops")
    assert untrusted, "LightGBM types are not trusted by skops by default"
    refused = CliRunner().invoke(cli, ["check", str(_policy(demo_copy, "lgbm.skops")), "--out", str(tmp_path / "x")])
    assert refused.exit_code == 2 and "lightgbm" in refused.stderr.lower()
    results = _check(_policy(demo_copy, "lgbm.skops", untrusted), tmp_path / "out")
    _assert_explained(results, "tree", features)
