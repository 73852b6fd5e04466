"""Monitoring before labels arrive: ``run_audit(..., labels="pending")``.

The demo is audited twice, with its labels and with labels pending. Rules on metrics that need
the true outcomes are ``pending`` and never gate; every other rule is judged on the same numbers
as with labels; and no number computed from labels appears anywhere in the results.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from auditkit.errors import PolicyError
from auditkit.pipeline import run_audit
from policies import MINIMAL_POLICY

#: Metric names (and parts of results) that only labels can give.
LABEL_WORDS = ("accuracy", "balanced_accuracy", "tpr", "fpr", "fnr", "tnr", "ppv", "npv", "f1", "auc", "ece",
               "base_rate", "mean_target", "mae", "rmse", "equalized_odds", "equal_opportunity",
               "fraction_positive", "tp", "fp", "fn", "tn")
PENDING_RULES = {"equalized-odds-age", "accuracy-floor", "label-balance-sex"}


@pytest.fixture(scope="module")
def demo_runs(demo_dir):
    """The demo audited with its labels and with labels pending (same seed)."""
    policy = demo_dir / "audit.yaml"
    labelled = run_audit(policy).to_dict()
    pending = run_audit(policy, labels="pending").to_dict()
    return labelled, pending


def _label_keys(node, path=""):
    """Every key (or metric name value) of a results document that names a label metric."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in LABEL_WORDS or any(key.startswith(w + "_") for w in LABEL_WORDS):
                if value not in (None, [], {}):
                    found.append(f"{path}.{key}")
            if key in ("metric", "metrics") and isinstance(value, str) and value in LABEL_WORDS and "rules" not in path:
                found.append(f"{path}.{key}={value}")
            found += _label_keys(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _label_keys(value, f"{path}[{i}]")
    return found


# ---------------------------------------------------------------- the gate


def test_label_rules_are_pending_and_do_not_gate(demo_runs):
    _, pending = demo_runs
    rules = {r["id"]: r for r in pending["rules"]}
    for rule_id in PENDING_RULES:
        rule = rules[rule_id]
        assert rule["status"] == "pending"
        assert rule["gating"] is False
        assert rule["observed"] is None and rule["ci"] is None
        assert rule["message"].startswith(f"Awaiting labels: {rule['metric']} needs the true outcomes")
        assert "labels of this batch arrive" in rule["message"]
    assert pending["summary"]["pending"] == 3
    assert pending["summary"]["error"] == 0
    assert pending["status"] == "passed"
    assert pending["data"]["label_status"] == "pending" and pending["data"]["labels"] is None


def test_label_free_rules_are_judged_on_the_labelled_runs_numbers(demo_runs):
    labelled, pending = demo_runs
    before = {r["id"]: r for r in labelled["rules"]}
    judged = [r for r in pending["rules"] if r["id"] not in PENDING_RULES]
    assert len(judged) == 7
    for rule in judged:
        assert rule["observed"] == before[rule["id"]]["observed"], rule["id"]
        assert rule["status"] == before[rule["id"]]["status"], rule["id"]
    # the intervals resample the same rows from (group x decision) counts: same meaning, other draws
    for rule_id in ("four-fifths-sex", "four-fifths-age"):
        lo, hi = next(r["ci"] for r in judged if r["id"] == rule_id)
        lo0, hi0 = before[rule_id]["ci"]
        assert lo <= next(r["observed"] for r in judged if r["id"] == rule_id) <= hi
        assert abs(lo - lo0) < 0.04 and abs(hi - hi0) < 0.04


def test_label_free_fairness_equals_the_labelled_runs(demo_runs):
    labelled, pending = demo_runs
    fa, fp = labelled["fairness"], pending["fairness"]
    assert fp["labels"] == "pending"
    assert set(fp["overall"]) == {"count", "selection_rate", "mean_score"}
    for metric in fp["overall"]:
        assert fp["overall"][metric] == fa["overall"][metric]
    before = {(d["feature"], d["metric"]): d for d in fa["disparities"]}
    assert {d["metric"] for d in fp["disparities"]} == {"count", "selection_rate", "mean_score", "demographic_parity"}
    for d in fp["disparities"]:
        ref = before[(d["feature"], d["metric"])]
        assert (d["difference"], d["ratio"]) == (ref["difference"], ref["ratio"])
        assert d["groups_compared"] == ref["groups_compared"] and d["reference_group"] == ref["reference_group"]
    groups = {(g["feature"], g["group"]): g for g in fa["groups"]}
    for g in fp["groups"]:
        ref = groups[(g["feature"], g["group"])]
        assert (g["n"], g["status"]) == (ref["n"], ref["status"])
        for metric, value in g["metrics"].items():
            assert value == ref["metrics"][metric]
    versus = {(v["feature"], v["group"], v["metric"]): v for v in fa["versus_reference"]}
    for v in fp["versus_reference"]:
        ref = versus[(v["feature"], v["group"], v["metric"])]
        assert (v["difference"], v["ratio"]) == (ref["difference"], ref["ratio"])


def test_no_label_metric_anywhere_in_the_results(demo_runs):
    _, pending = demo_runs
    document = {k: v for k, v in pending.items() if k != "rules"}
    assert _label_keys(document) == []
    fairness = pending["fairness"]
    assert fairness["confusion"] is None and fairness["calibration"] == []
    assert fairness["metrics"] == ["selection_rate"]  # the policy's focus, less what needs labels
    assert fairness["awaiting_labels"] == ["tpr", "fpr", "ppv", "accuracy"]
    assert pending["data"]["base_rate"] is None and pending["data"]["labels"] is None
    assert pending["data_bias"]["base_rates"] == [] and pending["data_bias"]["base_rate_disparity"] == []
    assert pending["drift"]["target"] is None
    assert pending["remedies"] is None
    for rule in pending["rules"]:
        if rule["id"] in PENDING_RULES:
            assert rule["observed"] is None and rule["ci"] is None and not rule.get("details")


def test_score_distribution_per_group(demo_runs, demo_dir):
    _, pending = demo_runs
    rows = {(d["feature"], d["group"]): d for d in pending["fairness"]["score_distribution"]}
    from auditkit.model import load_model

    frame = pd.read_csv(demo_dir / "data" / "credit.csv")
    model = load_model(demo_dir / "models" / "credit_model.skops")
    estimator = model.estimator
    columns = list(estimator.feature_names_in_)
    scores = estimator.predict_proba(frame[columns])[:, list(estimator.classes_).index("good")]
    everyone = rows[(None, "all rows")]
    assert everyone["n"] == len(frame)
    assert everyone["quantiles"]["p50"] == pytest.approx(float(np.median(scores)), abs=1e-12)
    women = scores[(frame["sex"] == "female").to_numpy()]
    assert rows[("sex", "female")]["n"] == len(women)
    assert rows[("sex", "female")]["quantiles"]["p25"] == pytest.approx(float(np.quantile(women, 0.25)), abs=1e-12)
    assert rows[("sex", "female")]["mean"] == pytest.approx(float(women.mean()), abs=1e-12)


def test_contract_leaves_the_target_out(demo_runs):
    labelled, pending = demo_runs
    assert pending["contract"]["not_checked"] == ["credit_risk"]
    assert "credit_risk" not in pending["contract"]["columns_checked"]
    assert "credit_risk" in labelled["contract"]["columns_checked"]
    assert "not_checked" not in labelled["contract"]
    assert pending["contract"]["passed"]  # the contract is strict: the dropped column is not "missing"


def test_pending_results_validate_against_the_schema(demo_runs):
    from auditkit.report.schema import validate_results

    labelled, pending = demo_runs
    validate_results(pending)
    validate_results(labelled)
    assert labelled["data"]["label_status"] == "present" and labelled["data"]["labels"] == ["bad", "good"]
    assert labelled["summary"]["pending"] == 0


# ---------------------------------------------------------------- the target column


def _write_data(demo_copy, frame, name="batch.csv"):
    path = demo_copy / "data" / name
    frame.to_csv(path, index=False)
    return path


def test_a_batch_without_the_target_column_is_audited(demo_copy, demo_runs):
    frame = pd.read_csv(demo_copy / "data" / "credit.csv").drop(columns=["credit_risk"])
    batch = _write_data(demo_copy, frame)
    result = run_audit(demo_copy / "audit.yaml", data=batch, labels="pending").to_dict()
    _, pending = demo_runs
    assert [(r["id"], r["status"], r["observed"], r["ci"]) for r in result["rules"]] == \
        [(r["id"], r["status"], r["observed"], r["ci"]) for r in pending["rules"]]
    assert result["fairness"]["disparities"] == pending["fairness"]["disparities"]
    with pytest.raises(PolicyError, match="credit_risk"):
        run_audit(demo_copy / "audit.yaml", data=batch, explain=False)


def test_the_target_column_is_ignored_whatever_it_holds(demo_copy, demo_runs):
    """Stale or partial labels in the batch are never read: garbage there changes nothing."""
    frame = pd.read_csv(demo_copy / "data" / "credit.csv")
    frame["credit_risk"] = ["good"] * 10 + [None] * (len(frame) - 10)  # partial, and not even a valid contract value
    batch = _write_data(demo_copy, frame)
    result = run_audit(demo_copy / "audit.yaml", data=batch, labels="pending").to_dict()
    _, pending = demo_runs
    assert result["rules"] == pending["rules"]
    assert result["fairness"] == pending["fairness"]
    assert result["contract"]["passed"]


def test_labels_must_be_present_or_pending(demo_dir):
    from auditkit.rules import Evidence, evaluate_rules
    from auditkit.stages.plan import plan_audit

    for call in (lambda: run_audit(demo_dir / "audit.yaml", labels="missing"),
                 lambda: plan_audit(demo_dir / "audit.yaml", labels=None),
                 lambda: evaluate_rules((), Evidence(), labels="later")):
        with pytest.raises(ValueError, match="labels must be 'present' or 'pending'"):
            call()


# ---------------------------------------------------------------- the gate on label-free rules only


def test_the_gate_fails_on_a_label_free_rule(write_policy):
    policy = write_policy(MINIMAL_POLICY.replace("    min: 0.5", "    min: 0.99") +
                          "  - {id: parity, metric: demographic_parity_ratio, feature: sex, min: 0.95}\n")
    result = run_audit(policy, labels="pending", explain=False)
    outcomes = {o.rule.id: o for o in result.rules}
    assert result.status == "failed" and result.exit_code == 1
    assert outcomes["parity"].status == "fail" and outcomes["parity"].gating
    assert outcomes["accuracy-floor"].status == "pending" and not outcomes["accuracy-floor"].gating
    assert [o.rule.id for o in result.rules if o.gating] == ["parity"]


def test_a_rule_only_labels_would_fail_does_not_gate_while_they_are_pending(write_policy):
    policy = write_policy(MINIMAL_POLICY.replace("    min: 0.5", "    min: 0.99"))
    assert run_audit(policy, explain=False).status == "failed"
    pending = run_audit(policy, labels="pending", explain=False)
    assert pending.status == "passed" and pending.exit_code == 0
    assert pending.gate.counts()["pending"] == 1


def test_fail_on_warning_does_not_gate_pending_rules(write_policy):
    policy = write_policy(MINIMAL_POLICY)
    result = run_audit(policy, labels="pending", explain=False, fail_on="warning")
    assert result.status == "passed"
    assert [o.status for o in result.rules] == ["pass", "pending"]


def test_champion_rules_wait_for_the_labelled_batch(write_policy):
    text = MINIMAL_POLICY.replace("sensitive_features:", "champion:\n  path: models/credit_model.skops\nsensitive_features:")
    text += ("  - {id: tpr-change, metric: tpr, feature: sex, compare: champion, max_regression: 0.02}\n"
             "  - {id: sel-change, metric: selection_rate, feature: sex, compare: champion, max_increase: 0.1}\n")
    result = run_audit(write_policy(text), labels="pending", explain=False)
    outcomes = {o.rule.id: o for o in result.rules}
    assert result.comparison is None and result.to_dict()["champion"] is None
    assert outcomes["tpr-change"].status == "pending"
    assert outcomes["sel-change"].status == "pending" and "comparison of selection_rate with the champion" in \
        outcomes["sel-change"].message
    assert result.status == "passed"


def test_prediction_columns_with_labels_pending(demo_copy, write_policy, demo_runs):
    """A batch scored elsewhere: the decisions come from columns; the task from data.positive_label."""
    from auditkit.model import load_model

    frame = pd.read_csv(demo_copy / "data" / "credit.csv")
    estimator = load_model(demo_copy / "models" / "credit_model.skops").estimator
    proba = estimator.predict_proba(frame[list(estimator.feature_names_in_)])
    score = proba[:, list(estimator.classes_).index("good")]
    frame["decision"] = np.where(score >= 0.5, "good", "bad")
    frame["score"] = score
    frame = frame.drop(columns=["credit_risk"])
    _write_data(demo_copy, frame, "scored.csv")
    text = MINIMAL_POLICY.replace("data/credit.csv", "data/scored.csv").replace(
        "  contract: schemas/german_credit.yaml\n", "").replace(
        "model:\n  path: models/credit_model.skops", "model:\n  predictions: {label: decision, score: score}")
    text = text.replace("rules:\n  - id: contract-holds\n    metric: contract_violations\n    max: 0\n", "rules:\n")
    text += "  - {id: parity, metric: demographic_parity_ratio, feature: sex, min: 0.8}\n"
    result = run_audit(write_policy(text), labels="pending", explain=False).to_dict()
    _, pending = demo_runs
    rules = {r["id"]: r for r in result["rules"]}
    assert rules["accuracy-floor"]["status"] == "pending"
    assert rules["parity"]["observed"] == next(r["observed"] for r in pending["rules"] if r["id"] == "four-fifths-sex")
    assert result["fairness"]["overall"]["mean_score"] == pytest.approx(pending["fairness"]["overall"]["mean_score"],
                                                                         abs=1e-12)


def test_prediction_columns_without_a_positive_label(demo_copy, write_policy):
    frame = pd.read_csv(demo_copy / "data" / "credit.csv")
    frame["decision"] = (frame["duration_months"] < 24).astype(int)
    frame = frame.drop(columns=["credit_risk"])
    _write_data(demo_copy, frame, "scored.csv")
    text = MINIMAL_POLICY.replace("data/credit.csv", "data/scored.csv").replace("  positive_label: good\n", "").replace(
        "  contract: schemas/german_credit.yaml\n", "").replace(
        "model:\n  path: models/credit_model.skops", "model:\n  predictions: {label: decision}")
    text = text.replace("rules:\n  - id: contract-holds\n    metric: contract_violations\n    max: 0\n", "rules:\n")
    result = run_audit(write_policy(text), labels="pending", explain=False)
    assert result.fairness.overall["selection_rate"] == pytest.approx(float((frame["duration_months"] < 24).mean()))
    assert result.data_summary["positive_label"] == "1"


# ---------------------------------------------------------------- engines


def test_an_engine_without_pending_labels_refuses_before_any_work(demo_dir):
    from auditkit.engines import Capabilities, check_support
    from auditkit.policy import load_policy

    policy = load_policy(demo_dir / "audit.yaml")
    everything = frozenset({"contract", "data_bias", "drift", "fairness", "comparison", "packs", "explanations",
                            "reasons"})
    check_support(Capabilities(evidence=everything, pending_labels=True), "x", policy, labels="pending")
    check_support(Capabilities(evidence=everything), "x", policy)
    with pytest.raises(PolicyError, match="labels pending is not computed by the x engine; use engine: pandas"):
        check_support(Capabilities(evidence=everything), "x", policy, labels="pending")


def test_the_spark_engine_declares_it_cannot_audit_pending_labels():
    from auditkit.engines.spark_engine import SparkEngine

    assert SparkEngine.capabilities.pending_labels is False


# ---------------------------------------------------------------- the outputs


def test_outputs_say_labels_pending(demo_dir, tmp_path, demo_runs):
    from auditkit.report import write_outputs
    from auditkit.report.terminal import terminal_summary, verdict_line

    _, pending = demo_runs
    out = write_outputs(pending, tmp_path / "out", hint="x")
    html = out.report.read_text(encoding="utf-8")
    assert "Labels pending." in html
    assert html.count("AWAITING LABELS") == 3
    assert "3 awaiting labels" in html
    assert "labels pending</span>" in html  # the performance table names each label metric as pending
    assert "Confusion matrix" not in html
    assert "distribution of the model&#39;s score per group" in html or "distribution of the model's score per group" in html
    assert "Not checked in this run" in html
    junit = out.junit.read_text(encoding="utf-8")
    assert 'skipped="3"' in junit and "[pending] Awaiting labels" in junit
    assert "3 awaiting labels" in out.summary.read_text(encoding="utf-8")
    assert verdict_line(pending) == ("PASSED: german-credit-scoring (labels pending) — 7 passed, 0 failed, "
                                     "3 awaiting labels")
    assert "3 rules await the labels of this batch" in terminal_summary(pending)


def test_the_labelled_report_is_unchanged_by_the_pending_machinery(demo_runs, tmp_path):
    from auditkit.report import write_outputs

    labelled, _ = demo_runs
    out = write_outputs(labelled, tmp_path / "out", hint="x")
    html = out.report.read_text(encoding="utf-8")
    assert "Labels pending" not in html and "AWAITING LABELS" not in html and "Confusion matrix" in html


def test_results_round_trip_through_json(demo_runs):
    _, pending = demo_runs
    assert json.loads(json.dumps(pending, allow_nan=False)) == pending


def test_rules_on_the_target_column_wait_for_the_labels(write_policy):
    policy = write_policy(MINIMAL_POLICY.replace("  positive_label: good\n", "  positive_label: good\n  reference: data/train.csv\n")
                          + "  - {id: target-drift, metric: psi, feature: credit_risk, max: 0.25}\n"
                          + "  - {id: target-valid, metric: contract_violations, feature: credit_risk, max: 0}\n"
                          + "  - {id: age-drift, metric: psi, feature: age, max: 0.25}\n")
    labelled = {o.rule.id: o for o in run_audit(policy, explain=False).rules}
    pending = {o.rule.id: o for o in run_audit(policy, labels="pending", explain=False).rules}
    assert labelled["target-drift"].status == "pass" and labelled["target-valid"].status == "pass"
    for rule_id in ("target-drift", "target-valid"):
        assert pending[rule_id].status == "pending" and not pending[rule_id].gating
        assert "'credit_risk' is the target column" in pending[rule_id].message
    assert pending["age-drift"].status == "pass" and pending["age-drift"].observed == labelled["age-drift"].observed
