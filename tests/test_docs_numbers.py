"""Figures the README and the docs quote, checked against fresh runs.

Every number is parsed out of the document itself (README.md, docs/packs.md,
docs/explanations.md, examples/hiring/README.md), so the test fails as soon as the text and
what the code computes drift apart. A quoted decimal must equal the computed value rounded to
as many decimals as the text writes.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NUMBER = r"(\d[\d,]*(?:\.\d+)?)"


def _text(relative: str) -> str:
    # one line per paragraph, so quoted phrases may be wrapped anywhere in the source
    return re.sub(r"\s*\n\s*", " ", (ROOT / relative).read_text(encoding="utf-8"))


def _find(text: str, pattern: str, where: str) -> tuple[str, ...]:
    match = re.search(pattern, text)
    assert match, f"{where} no longer contains /{pattern}/: update the text and this test together"
    return match.groups()


def _agrees(quoted: str, value: float) -> bool:
    """``quoted`` (e.g. "0.8248", "3,000", "6.6") equals ``value`` rounded as it is written."""
    quoted = quoted.replace(",", "")
    decimals = len(quoted.split(".")[1]) if "." in quoted else 0
    return round(float(value), decimals) == float(quoted)


def _check(quoted: str, value: float, what: str) -> None:
    assert _agrees(quoted, value), f"the docs say {what} is {quoted}, the run gives {value!r}"


# ---------------------------------------------------------------- the demo (README)


@pytest.fixture(scope="module")
def demo_result(demo_dir):
    from auditkit import run_audit

    return run_audit(demo_dir / "audit.yaml", seed=0)


def _readme_demo_rows() -> list[tuple[str, str]]:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    start = lines.index("| rule | checks | demo outcome (seed 0) |")
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        rule_id = re.fullmatch(r"`([^`]+)`", cells[0])
        assert rule_id, f"README demo table: the first cell of {line!r} should be a `rule-id`"
        rows.append((rule_id.group(1), cells[-1]))
    return rows


STATUS_WORDS = {"holds": "pass", "passes": "pass", "fails": "fail", "inconclusive": "inconclusive", "warns": "warn"}


def test_readme_lists_every_rule_of_the_demo_in_order(demo_result):
    quoted = [rule_id for rule_id, _ in _readme_demo_rows()]
    assert quoted == [r["id"] for r in demo_result.to_dict()["rules"]]


def test_readme_demo_outcomes_match_a_fresh_run(demo_result):
    results = demo_result.to_dict()
    rules = {r["id"]: r for r in results["rules"]}
    confidence = demo_result.policy.fairness.confidence
    for rule_id, cell in _readme_demo_rows():
        rule = rules[rule_id]
        word = re.search(r"(holds|passes|fails|inconclusive|warns)", cell)
        assert word, f"README: the outcome of {rule_id} names no status"
        expected_status = STATUS_WORDS[word.group(1)]
        assert rule["status"] == expected_status, f"README says {rule_id} {word.group(1)}; it is {rule['status']}"
        observed = re.search(NUMBER + r"(%?)", cell)
        assert observed, f"README: the outcome of {rule_id} quotes no value"
        value = rule["observed"] * (100 if observed.group(2) else 1)
        _check(observed.group(1), value, f"{rule_id}'s observed value")
        down = re.search(r"interval reaches down to " + NUMBER, cell)
        if down:
            _check(down.group(1), rule["ci"][0], f"the lower end of {rule_id}'s interval")
        both = re.search(r"interval runs from " + NUMBER + " to " + NUMBER, cell)
        if both:
            _check(both.group(1), rule["ci"][0], f"the lower end of {rule_id}'s interval")
            _check(both.group(2), rule["ci"][1], f"the upper end of {rule_id}'s interval")
        level = re.search(NUMBER + r"% interval", cell)
        if level:
            _check(level.group(1), 100 * confidence, "the interval's coverage")
        small = re.search(NUMBER + r" applicants under 25", cell)
        if small:
            n = next(g["n"] for g in results["fairness"]["groups"]
                     if g["feature"] == "age_group" and g["group"] == "under 25")
            _check(small.group(1), n, "the number of applicants under 25")


def test_readme_demo_verdict_and_size(demo_result):
    results = demo_result.to_dict()
    readme = _text("README.md")
    rows = _find(readme, r"on " + NUMBER + r" applicants it did not see in training", "README.md")[0]
    _check(rows, results["data"]["rows"], "the number of audited applicants")
    passed, inconclusive = _find(readme, r"So the gate \*\*passes\*\* \(exit 0; " + NUMBER + r" rules pass, "
                                 + NUMBER + r" is inconclusive\)", "README.md")
    assert demo_result.exit_code == 0 and results["status"] == "passed"
    statuses = [r["status"] for r in results["rules"]]
    _check(passed, statuses.count("pass"), "the number of passing rules")
    _check(inconclusive, statuses.count("inconclusive"), "the number of inconclusive rules")


# ---------------------------------------------------------------- the four-fifths pack on the demo (docs/packs.md)


def test_packs_doc_four_fifths_on_the_demo(demo_dir, tmp_path):
    import shutil

    from auditkit import run_audit

    for part in ("data", "models", "schemas"):
        if (demo_dir / part).exists():
            shutil.copytree(demo_dir / part, tmp_path / part)
    policy = tmp_path / "audit.yaml"
    policy.write_text(textwrap.dedent("""\
        version: 1
        name: four-fifths-on-the-demo
        extends: [four-fifths]
        data: {path: data/credit.csv, target: credit_risk, positive_label: good}
        model: {path: models/credit_model.skops}
        sensitive_features: [sex, age_group]
        fairness: {bootstrap: 0}
        explain: {enabled: false}
        """), encoding="utf-8")
    results = run_audit(policy, seed=0).to_dict()
    rules = {r["id"]: r for r in results["rules"]}
    doc = _text("docs/packs.md")
    ratio, p = _find(doc, r"women's ratio is " + NUMBER + r" — above 0\.8 — but Fisher's test gives p = " + NUMBER,
                     "docs/packs.md")
    sex = rules["four-fifths:sex"]
    assert sex["status"] == "fail" and sex["group"] == "female"
    assert "Verdict driven by the statistical test" in sex["message"]
    female = next(d for d in sex["details"] if d["group"] == "female")
    _check(ratio, female["impact_ratio"], "women's impact ratio")
    _check(p, female["p_value"], "Fisher's p for women")
    ratio, p = _find(doc, r"applicants under 25 \(ratio " + NUMBER + r", p = " + NUMBER + r"\) pass", "docs/packs.md")
    age = rules["four-fifths:age_group"]
    assert age["status"] == "pass"
    under = next(d for d in age["details"] if d["group"] == "under 25")
    _check(ratio, under["impact_ratio"], "the impact ratio of applicants under 25")
    _check(p, under["p_value"], "Fisher's p for applicants under 25")


# ---------------------------------------------------------------- the hiring example


@pytest.fixture(scope="module")
def hiring():
    from auditkit import run_audit

    folder = ROOT / "examples" / "hiring"
    selection = run_audit(folder / "audit-selection.yaml")
    scoring = run_audit(folder / "audit-scoring.yaml")
    return selection, scoring


def _hiring_facts(selection) -> dict:
    results = selection.to_dict()
    impact = {f["feature"]: f for f in results["adverse_impact"]["features"]}
    details = {(r["feature"], d["group"]): d for r in results["rules"] if r["metric"] == "impact_ratio"
               for d in r["details"]}
    return {"results": results, "impact": impact, "details": details}


def test_packs_doc_hiring_example(hiring):
    selection, scoring = hiring
    facts = _hiring_facts(selection)
    results, impact, details = facts["results"], facts["impact"], facts["details"]
    doc = _text("docs/packs.md")
    rows = _find(doc, r"synthetic hiring data set \(" + NUMBER + " applicants", "docs/packs.md")[0]
    _check(rows, results["data"]["rows"], "the hiring example's rows")
    assert "`audit-selection.yaml` fails (exit 1)" in doc and selection.exit_code == 1
    assert "`audit-scoring.yaml` passes (exit 0)" in doc and scoring.exit_code == 0
    women = _find(doc, r"flags women \(impact ratio " + NUMBER + " against men\\)", "docs/packs.md")[0]
    _check(women, details[("sex", "Female")]["impact_ratio"], "women's impact ratio")
    black, hispanic = _find(doc, r"flags Black or African American \(" + NUMBER + r"\) and Hispanic or Latino \("
                            + NUMBER + r"\)", "docs/packs.md")
    _check(black, details[("race_ethnicity", "Black or African American")]["impact_ratio"], "the Black ratio")
    _check(hispanic, details[("race_ethnicity", "Hispanic or Latino")]["impact_ratio"], "the Hispanic ratio")
    flagged = {k for k, d in details.items() if d["verdict"] == "fail"}
    assert flagged == {("sex", "Female"), ("race_ethnicity", "Black or African American"),
                       ("race_ethnicity", "Hispanic or Latino")}
    lowest = _find(doc, r"lowest ratio \(" + NUMBER + r", Female & Black or African American\)", "docs/packs.md")[0]
    ll144 = results["ll144"]["lowest_impact_ratio"]
    assert ll144["category"] == "Female & Black or African American"
    _check(lowest, ll144["value"], "the lowest LL144 impact ratio")
    sex_unknown, race_unknown = _find(doc, r"The " + NUMBER + r" applicants of unknown sex .{0,40}? and the "
                                      + NUMBER + " of unknown race/ethnicity", "docs/packs.md")
    _check(sex_unknown, impact["sex"]["unknown"]["n"], "applicants of unknown sex")
    _check(race_unknown, impact["race_ethnicity"]["unknown"]["n"], "applicants of unknown race/ethnicity")


def test_hiring_readme(hiring):
    selection, _ = hiring
    facts = _hiring_facts(selection)
    results, impact, details = facts["results"], facts["impact"], facts["details"]
    readme = _text("examples/hiring/README.md")
    rows = _find(readme, r"A synthetic data set of " + NUMBER + " applicants", "examples/hiring/README.md")[0]
    _check(rows, results["data"]["rows"], "the hiring example's rows")
    share = _find(readme, r'"Native Hawaiian or Other Pacific Islander" is ' + NUMBER + "% of rows",
                  "examples/hiring/README.md")[0]
    table = next(t for t in results["ll144"]["tables"] if t["name"] == "race_ethnicity")
    nhpi = next(c for c in table["categories"] if c["category"] == "Native Hawaiian or Other Pacific Islander")
    _check(share, 100 * nhpi["share"], "the NHPI share")
    assert nhpi["excluded"] and "under the 2% rule" in readme
    women, black, hispanic = _find(readme, r"women \(impact ratio " + NUMBER + r"\), Black or African American \("
                                   + NUMBER + r"\) and Hispanic or Latino \(" + NUMBER + r"\)",
                                   "examples/hiring/README.md")
    _check(women, details[("sex", "Female")]["impact_ratio"], "women's impact ratio")
    _check(black, details[("race_ethnicity", "Black or African American")]["impact_ratio"], "the Black ratio")
    _check(hispanic, details[("race_ethnicity", "Hispanic or Latino")]["impact_ratio"], "the Hispanic ratio")
    assert "fails (exit 1)" in readme and selection.exit_code == 1
    sex_unknown, race_unknown = _find(readme, r"The " + NUMBER + r" applicants of unknown sex .{0,40}? and the "
                                      + NUMBER + " of unknown race/ethnicity", "examples/hiring/README.md")
    _check(sex_unknown, impact["sex"]["unknown"]["n"], "applicants of unknown sex")
    _check(race_unknown, impact["race_ethnicity"]["unknown"]["n"], "applicants of unknown race/ethnicity")


# ---------------------------------------------------------------- XGBoost additivity (docs/explanations.md)


def test_explanations_doc_xgboost_additivity():
    """The quoted additivity errors are of the right order: within a factor of 3 of a fresh run."""
    xgboost = pytest.importorskip("xgboost")
    import numpy as np
    import pandas as pd
    from threadpoolctl import threadpool_limits

    from auditkit.explanations import explain

    doc = _text("docs/explanations.md")
    quoted = re.findall(r"(\d(?:\.\d+)?e-\d+) for (\d+) trees of depth (\d+)", doc)
    assert len(quoted) >= 2 and "XGBoost" in doc, "docs/explanations.md no longer quotes XGBoost's additivity error"
    rng = np.random.default_rng(9)
    n = 600
    X = pd.DataFrame({"age": rng.integers(18, 80, n).astype(float), "income": rng.normal(50, 15, n),
                      "hours": rng.integers(10, 60, n).astype(float)})
    X.loc[rng.random(n) < 0.1, "income"] = np.nan
    y = ((X["age"] > 40).astype(float) + X["hours"] / 40 + rng.normal(0, 0.5, n) > 1.5).astype(int).to_numpy()
    with threadpool_limits(limits=1):
        for value, trees, depth in quoted:
            model = xgboost.XGBClassifier(n_estimators=int(trees), max_depth=int(depth), n_jobs=1).fit(X, y)
            error = explain(model, X, max_rows=200, max_background=50).max_additivity_error
            assert float(value) / 3 <= error <= 3 * float(value), (
                f"docs/explanations.md: XGBoost with {trees} trees of depth {depth} is quoted at about {value}; "
                f"this run gives {error:.2g}")


def test_packs_doc_quotes_the_hiring_message_and_the_pack_defaults(hiring):
    from auditkit.packs import load_pack

    selection, _ = hiring
    doc = _text("docs/packs.md")
    quoted = _find(doc, r'\("(Not judged and not used as the reference: [^"]+)"\)', "docs/packs.md")[0]
    sex = next(r for r in selection.to_dict()["rules"] if r["id"] == "four-fifths:sex")
    assert quoted in sex["message"]
    default = _find(doc, r"\| `unknown_values` \| `\[([^\]]*)\]` \|", "docs/packs.md")[0]
    assert [v.strip() for v in default.split(",")] == load_pack("four-fifths").settings["unknown_values"].default
    adjust = _find(doc, r"\| `adjust` \| `(\w+)` \|", "docs/packs.md")[0]
    assert adjust == load_pack("four-fifths").settings["adjust"].default
