"""The audit of stated reasons inside ``audit check``: shares per group recomputed from
``auditkit.reasons``, intervals against statsmodels, stability recomputed by hand, and the rules
on reasons deciding as documented."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from auditkit.adverse_action._audit import RESAMPLES, _newcombe, wilson
from auditkit.cli import main


def run(argv) -> int:
    with pytest.raises(SystemExit) as exit_info:
        main([str(a) for a in argv])
    return exit_info.value.code


@pytest.fixture(scope="module")
def demo_results(demo_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("reasons-audit")
    code = run(["check", demo_dir / "audit.yaml", "--out", out, "-q"])
    return code, json.loads((out / "results.json").read_text())


def test_intervals_equal_statsmodels():
    from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

    z = 1.959963984540054
    for count, n in ((0, 10), (3, 10), (10, 10), (17, 54), (51, 54)):
        low, high = proportion_confint(count, n, alpha=0.05, method="wilson")
        assert wilson(count, n, z) == pytest.approx((low, high), abs=1e-12)
    for c1, n1, c2, n2 in ((16, 26, 8, 28), (3, 30, 12, 31), (30, 30, 0, 30)):
        low, high = confint_proportions_2indep(c1, n1, c2, n2, method="newcomb", compare="diff", alpha=0.05)
        assert _newcombe(c1, n1, c2, n2, z) == pytest.approx((low, high), abs=1e-9)


def test_the_demo_audits_its_reasons(demo_results):
    code, results = demo_results
    assert code == 0
    rules = {r["id"]: r for r in results["rules"]}
    assert rules["reasons-stable"]["status"] == "pass" and rules["reasons-stable"]["observed"] >= 0.9
    assert rules["no-protected-reasons"]["status"] == "pass" and rules["no-protected-reasons"]["observed"] == 0
    reasons = results["reasons"]
    assert reasons["k"] == 4 and reasons["baseline"] == "approved" and reasons["explained"] == reasons["adverse"]


def test_shares_recomputed_from_the_reasons_api(demo_dir, demo_results):
    import auditkit
    from auditkit import load_model

    _, results = demo_results
    audit = results["reasons"]
    frame = pd.read_csv(demo_dir / "data" / "credit.csv")
    model = load_model(demo_dir / "models" / "credit_model.skops").estimator
    table = auditkit.reasons(model, frame, k=4, baseline="approved",
                             exclude=["personal_status", "age", "foreign_worker"], seed=0)
    told = table.groupby("row")["column"].agg(set)
    adverse = told.index
    assert audit["adverse"] == len(frame.index[model.predict_proba(frame)[:, 1] < 0.5])
    for entry in audit["overall"]:
        count = sum(entry["column"] in s for s in told)
        assert entry["count"] == count and entry["share"] == pytest.approx(count / audit["explained"], abs=1e-12)
    for group in audit["groups"]:
        if group["feature"] != "sex":
            continue
        members = [s for row, s in told.items() if frame.loc[row, "sex"] == group["group"]]
        assert group["n"] == len(members)
        for entry in group["reasons"]:
            assert entry["count"] == sum(entry["column"] in s for s in members)
    assert len(adverse) == audit["explained"]


def test_stability_recomputed_by_hand(demo_dir, demo_results):
    import auditkit
    from auditkit import load_model

    _, results = demo_results
    frame = pd.read_csv(demo_dir / "data" / "credit.csv")
    model = load_model(demo_dir / "models" / "credit_model.skops").estimator
    kwargs = dict(k=4, baseline="approved", exclude=["personal_status", "age", "foreign_worker"])

    def sets(seed):
        return auditkit.reasons(model, frame, seed=seed, **kwargs).groupby("row")["column"].agg(frozenset)

    main_sets = sets(0)
    others = [sets(1 + r) for r in range(RESAMPLES)]
    per_row = [np.mean([len(s & o.get(row, frozenset())) / len(s | o.get(row, frozenset())) for o in others])
               for row, s in main_sets.items()]
    assert results["reasons"]["stability"]["mean"] == pytest.approx(float(np.mean(per_row)), abs=1e-12)


def test_a_stated_protected_input_fails_its_rule(tmp_path):
    """A model that leans on a sensitive input: allowed to be stated, it is; the rule catches it."""
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    n = 400
    frame = pd.DataFrame({"income": rng.normal(size=n), "group_flag": rng.integers(0, 2, n)})
    frame["outcome"] = np.where(frame["income"] + 2.5 * frame["group_flag"] + rng.normal(size=n) > 1.2, "yes", "no")
    frame["group"] = np.where(frame["group_flag"] == 1, "a", "b")
    model = LogisticRegression().fit(frame[["income", "group_flag"]], frame["outcome"])
    sio.dump(model, tmp_path / "model.skops")
    frame.to_csv(tmp_path / "data.csv", index=False)
    (tmp_path / "audit.yaml").write_text(
        "version: 1\ndata: {path: data.csv, target: outcome, positive_label: 'yes'}\nmodel: {path: model.skops}\n"
        "sensitive_features: [group]\nexplain: {enabled: false}\n"
        "reasons: {k: 2, allow: [group_flag]}\n"
        "rules:\n  - {id: no-protected-reasons, metric: reason_protected_share, max: 0}\n")
    # group_flag is protected only as a flagged proxy; explanations are off, so it is stated as any input
    code = run(["check", tmp_path / "audit.yaml", "--out", tmp_path / "out", "-q"])
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert code == 0 and results["reasons"]["protected_stated"]["count"] == 0
    text = (tmp_path / "audit.yaml").read_text().replace("sensitive_features: [group]", "sensitive_features: [group_flag]")
    (tmp_path / "audit.yaml").write_text(text)
    code = run(["check", tmp_path / "audit.yaml", "--out", tmp_path / "out2", "-q"])
    results = json.loads((tmp_path / "out2" / "results.json").read_text())
    assert code == 1 and results["reasons"]["protected_stated"]["count"] > 0
    assert next(r for r in results["rules"] if r["id"] == "no-protected-reasons")["status"] == "fail"


def test_rules_on_reasons_need_a_reasons_block(write_policy, demo_copy, capsys):
    text = (demo_copy / "audit.yaml").read_text()
    start = text.index("reasons:\n")
    end = text.index("rules:\n")
    policy = write_policy(text[:start] + text[end:])
    code = run(["check", policy, "--out", demo_copy / "out"])
    err = capsys.readouterr().err
    assert code == 2 and "reasons-stable" in err and "'reasons:' block" in err


def test_the_docs_quote_the_demos_audit_of_reasons(demo_results):
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    _, results = demo_results
    audit = results["reasons"]
    stability = audit["stability"]
    docs = re.sub(r"\s+", " ", (root / "docs" / "reasons.md").read_text(encoding="utf-8"))
    match = re.search(r"the (\d+) declined applicants' reasons are stable \((\d\.\d{3}), interval (\d\.\d{3}) to "
                      r"(\d\.\d{3}); (\d+)% never change\)", docs)
    assert match, "docs/reasons.md no longer quotes the demo's stability"
    assert int(match[1]) == audit["adverse"]
    assert float(match[2]) == round(stability["mean"], 3)
    assert (float(match[3]), float(match[4])) == (round(stability["ci"][0], 3), round(stability["ci"][1], 3))
    assert int(match[5]) == round(100 * stability["share_identical"])
    sexes = {g["group"]: g["n"] for g in audit["groups"] if g["feature"] == "sex"}
    assert re.search(rf"with {sexes['female']} and {sexes['male']} declined women and men", docs)
    readme = re.sub(r"\s+", " ", (root / "README.md").read_text(encoding="utf-8"))
    assert f"the {audit['adverse']} declined applicants' reasons are stable under resampled baselines " \
           f"({round(stability['mean'], 3)})" in readme
