"""``audit diff``: comparing two real results documents of the demo.

Three audits of the German Credit demo, each built once:

* ``base``: the demo policy as built;
* ``shifted``: the same with ``model.threshold: 0.7``;
* ``edited``: ``accuracy-floor`` raised to 0.9, the rows of women under 25 dropped, and five
  men under 25 relabelled ``age_group: unknown`` (which the contract does not allow).

Expected changes are derived by hand from the data and the model, not from auditkit's engine.
"""

from __future__ import annotations

import copy
import json
import shutil

import numpy as np
import pandas as pd
import pytest

from auditkit.diff import diff_files, diff_results
from auditkit.report.diff_render import render_markdown, render_text
from auditkit.errors import AuditkitError, DataError


def _audit(folder):
    from auditkit.pipeline import run_audit

    return run_audit(folder / "audit.yaml", seed=0).to_dict()


def _copy_demo(demo_dir, target):
    shutil.copytree(demo_dir, target, ignore=shutil.ignore_patterns("audit-report"))
    return target


@pytest.fixture(scope="module")
def base(demo_dir):
    return _audit(demo_dir)


@pytest.fixture(scope="module")
def shifted(demo_dir, tmp_path_factory):
    folder = _copy_demo(demo_dir, tmp_path_factory.mktemp("shifted") / "demo")
    policy = folder / "audit.yaml"
    policy.write_text(policy.read_text().replace("threshold: 0.5", "threshold: 0.7"))
    return _audit(folder)


@pytest.fixture(scope="module")
def edited(demo_dir, tmp_path_factory):
    folder = _copy_demo(demo_dir, tmp_path_factory.mktemp("edited") / "demo")
    policy = folder / "audit.yaml"
    text = policy.read_text()
    assert "    min: 0.7\n    rationale: The model must" in text
    policy.write_text(text.replace("    min: 0.7\n    rationale: The model must", "    min: 0.9\n    rationale: The model must"))
    frame = pd.read_csv(folder / "data" / "credit.csv")
    frame = frame[~((frame["sex"] == "female") & (frame["age_group"] == "under 25"))].copy()
    relabel = frame.index[(frame["sex"] == "male") & (frame["age_group"] == "under 25")][:5]
    frame.loc[relabel, "age_group"] = "unknown"
    frame.to_csv(folder / "data" / "credit.csv", index=False)
    return _audit(folder)


@pytest.fixture(scope="module")
def demo_facts(demo_dir):
    """Probabilities of the demo model on the demo data, computed directly with skops + sklearn."""
    import skops.io as sio

    model = sio.load(demo_dir / "models" / "credit_model.skops", trusted=[])
    frame = pd.read_csv(demo_dir / "data" / "credit.csv")
    X = frame.drop(columns=["credit_risk"])
    classes = list(model.classes_)
    score = model.predict_proba(X)[:, classes.index("good")]
    return frame, score


def _moves(diff, kind):
    return {(m.feature, m.group, m.name): m for m in diff.metric_moves if m.kind == kind}


def _rule(diff, rule_id):
    found = [c for c in diff.rule_changes if c.id == rule_id]
    return found[0] if found else None


def test_identical_results_give_an_empty_diff(base):
    diff = diff_results(base, copy.deepcopy(base))
    assert diff.is_empty and not diff.regressed and diff.exit_code == 0
    assert diff.verdict_changed is None
    assert (diff.rule_changes, diff.metric_moves, diff.new_groups, diff.vanished_groups) == ((), (), (), ())
    assert "no differences beyond the tolerance 0.01" in render_text(diff)
    assert "no differences" in render_markdown(diff)


def test_shifted_threshold_moves_selection_rates_by_hand_computed_amounts(base, shifted, demo_facts):
    frame, score = demo_facts
    diff = diff_results(base, shifted)
    overall = _moves(diff, "overall")
    expected = np.mean(score >= 0.7) - np.mean(score >= 0.5)
    assert overall[(None, None, "selection_rate")].delta == pytest.approx(expected)
    groups = _moves(diff, "group")
    for sex in ("female", "male"):
        mask = (frame["sex"] == sex).to_numpy()
        delta = np.mean(score[mask] >= 0.7) - np.mean(score[mask] >= 0.5)
        assert groups[("sex", sex, "selection_rate")].delta == pytest.approx(delta)
        assert groups[("sex", sex, "selection_rate")].overlap in (True, False)  # both files have intervals
    # The four-fifths rule on sex, derived from the selection rates at 0.7.
    rates = [np.mean(score[(frame["sex"] == s).to_numpy()] >= 0.7) for s in ("female", "male")]
    ratio = min(rates) / max(rates)
    expected_status = "pass" if ratio >= 0.8 else "fail"
    assert next(r for r in shifted["rules"] if r["id"] == "four-fifths-sex")["observed"] == pytest.approx(ratio)
    change = _rule(diff, "four-fifths-sex")
    if expected_status == "pass":
        assert change is None
    else:
        assert (change.old_status, change.new_status, change.regressed) == ("pass", "fail", True)
    disparity = _moves(diff, "disparity")[("sex", None, "selection_rate ratio")]
    assert disparity.new == pytest.approx(ratio)
    # The threshold does not touch the probabilities the model is explained on, nor the groups.
    assert not _moves(diff, "importance_share")
    assert diff.new_groups == () and diff.vanished_groups == ()
    # Largest moves first; groups below min_group_size after the others.
    flags = [m.small_group for m in diff.metric_moves]
    assert flags == sorted(flags) and any(flags)
    sizes = frame.groupby(["sex", "age_group"]).size()
    small_groups = {f"{sex} & {age}" for (sex, age), n in sizes.items() if n < 30}  # min_group_size: 30
    assert small_groups == {"female & under 25", "male & under 25"}
    assert {(m.feature, m.group) for m in diff.metric_moves if m.small_group} <= {("sex & age_group", g) for g in small_groups}
    for small in (False, True):
        deltas = [abs(m.delta) for m in diff.metric_moves if m.delta is not None and m.small_group is small]
        assert deltas == sorted(deltas, reverse=True)
    # Only the policy's focus metrics (and those its rules use) are compared per group.
    assert {m.name for m in diff.metric_moves if m.kind == "group"} <= {"selection_rate", "tpr", "fpr", "ppv", "accuracy", "base_rate"}
    assert any(m.name == "tnr" for m in diff_results(base, shifted, all_metrics=True).metric_moves if m.kind == "group")
    assert all(abs(m.delta) > 0.01 for m in diff.metric_moves if m.delta is not None)


def test_edited_policy_and_data_regress_and_change_groups(base, edited, demo_dir):
    frame = pd.read_csv(demo_dir / "data" / "credit.csv")
    diff = diff_results(base, edited)
    women_under_25 = int(((frame["sex"] == "female") & (frame["age_group"] == "under 25")).sum())
    assert {(g.feature, g.group, g.n) for g in diff.vanished_groups} == {("sex & age_group", "female & under 25", women_under_25)}
    assert {(g.feature, g.group, g.n) for g in diff.new_groups} == {("age_group", "unknown", 5), ("sex & age_group", "male & unknown", 5)}

    accuracy = _rule(diff, "accuracy-floor")
    assert accuracy.kind == "changed" and accuracy.definition_changed
    assert (accuracy.old_threshold, accuracy.new_threshold) == ({"min": 0.7}, {"min": 0.9})
    assert (accuracy.old_status, accuracy.new_status, accuracy.regressed) == ("pass", "fail", True)
    contract = _rule(diff, "contract-holds")
    assert (contract.old_status, contract.new_status, contract.regressed) == ("pass", "fail", True)
    assert contract.old_observed == 0 and contract.new_observed == 5
    move = _moves(diff, "contract")[(None, None, "failing values")]
    assert (move.old, move.new, move.delta) == (0, 5, 5)
    assert diff.verdict_changed == ("passed", "failed") and diff.regressed and diff.exit_code == 1
    # The way back is no regression: the same rules no longer gate.
    back = diff_results(edited, base)
    assert not back.regressed and back.exit_code == 0
    assert {c.id for c in back.rule_changes if c.improved} >= {"accuracy-floor", "contract-holds"}
    assert {(g.feature, g.group) for g in back.new_groups} == {("sex & age_group", "female & under 25")}


def test_added_and_removed_rules(base):
    new = copy.deepcopy(base)
    dropped = new["rules"].pop(0)
    added = {**copy.deepcopy(base["rules"][1]), "id": "brand-new", "status": "fail", "gating": True}
    new["rules"].append(added)
    new["status"] = "failed"
    diff = diff_results(base, new)
    kinds = {c.id: c for c in diff.rule_changes}
    assert kinds["brand-new"].kind == "added" and kinds["brand-new"].regressed
    assert kinds[dropped["id"]].kind == "removed" and not kinds[dropped["id"]].regressed
    assert kinds[dropped["id"]].new_status is None
    assert diff.regressed
    # An added rule that passes is listed but does not regress.
    new["rules"][-1] = {**added, "status": "pass", "gating": False}
    new["status"] = "passed"
    assert not diff_results(base, new).regressed


def test_waived_to_fail_regresses_and_warn_does_not_gate(base):
    old, new = copy.deepcopy(base), copy.deepcopy(base)
    old["rules"][1].update(status="waived", gating=False)
    new["rules"][1].update(status="fail", gating=True)
    old["rules"][2].update(status="pass", gating=False)
    new["rules"][2].update(status="warn", gating=False)
    diff = diff_results(old, new)
    assert _rule(diff, base["rules"][1]["id"]).regressed
    warned = _rule(diff, base["rules"][2]["id"])
    assert warned.new_status == "warn" and not warned.regressed


def test_tolerance_hides_small_moves_but_not_undefined_values(base, shifted):
    diff = diff_results(base, shifted, tolerance=1.0)
    assert all(m.delta is None for m in diff.metric_moves)
    new = copy.deepcopy(base)
    new["fairness"]["groups"][0]["metrics"]["tpr"] = None
    diff = diff_results(base, new, tolerance=1.0)
    (move,) = diff.metric_moves
    assert (move.kind, move.name, move.new, move.delta) == ("group", "tpr", None, None)
    with pytest.raises(AuditkitError, match="tolerance"):
        diff_results(base, base, tolerance=-1)


def test_interval_overlap():
    from auditkit.diff import MetricMove

    assert MetricMove("group", "tpr", "sex", "f", 0.5, 0.7, (0.4, 0.6), (0.55, 0.8)).overlap is True
    assert MetricMove("group", "tpr", "sex", "f", 0.5, 0.9, (0.4, 0.6), (0.8, 0.95)).overlap is False
    assert MetricMove("group", "tpr", "sex", "f", 0.5, 0.9, None, (0.8, 0.95)).overlap is None


HOSTILE = "<img src=x onerror=alert(1)>|`x` **b** [l](http://e) @org/team\n# head"


def test_markdown_escapes_every_value_from_the_files(base):
    old, new = copy.deepcopy(base), copy.deepcopy(base)
    for doc in (old, new):
        doc["policy"]["name"] = HOSTILE
        doc["rules"][0]["id"] = HOSTILE
        doc["rules"][0]["feature"] = HOSTILE
    new["rules"][0].update(status="fail", gating=True)
    new["fairness"]["groups"][0]["group"] = HOSTILE
    new["fairness"]["groups"][1]["metrics"]["tpr"] = 0.01
    new["fairness"]["groups"][1]["feature"] = HOSTILE
    text = render_markdown(diff_results(old, new))
    assert "<img" not in text and "&lt;img" in text
    assert "@org" not in text and "&#64;org" in text
    assert "[l](http" not in text and "\\[l\\](http" in text  # the link brackets are escaped
    assert "\n# head" not in text
    for line in text.splitlines():
        if line.startswith("| ") and HOSTILE[:4] not in line:
            continue
        if line.startswith("|"):
            unescaped = line.replace("\\|", "")
            header_cells = {"rules": 8, "groups": 4, "moves": 8}
            assert unescaped.count("|") in header_cells.values(), line


def test_text_rendering_fits_the_width_and_strips_control_characters(base, shifted):
    new = copy.deepcopy(shifted)
    new["fairness"]["groups"][0]["group"] = "evil\x1b[31mred"
    text = render_text(diff_results(base, new), width=80)
    assert "\x1b" not in text
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "moved by more than 0.01 (largest first)" in text and "evil�[31mred" in text


def test_rules_table_in_markdown_and_text(base, edited):
    diff = diff_results(base, edited)
    md = render_markdown(diff)
    assert md.startswith("### ❌ auditkit diff: german-credit-scoring")
    assert "| accuracy-floor | accuracy | all | pass → fail |" in md and "≥ 0.700 → ≥ 0.900" in md
    assert "#### New groups" in md and "#### Vanished groups" in md
    text = render_text(diff)
    assert "REGRESSED" in text and "vanished groups" in text


def test_long_move_lists_are_capped(base, shifted):
    diff = diff_results(base, shifted)
    assert len(diff.metric_moves) > 3
    md = render_markdown(diff, limit=3)
    assert f"+{len(diff.metric_moves) - 3} more" in md
    assert f"+{len(diff.metric_moves) - 3} more" in render_text(diff, limit=3)


def test_diff_files_reads_validated_results(base, edited, tmp_path):
    from auditkit.report import render_json

    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_text(render_json(base))
    new.write_text(render_json(edited))
    assert diff_files(old, new).regressed
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"hello": 1}))
    with pytest.raises(DataError, match="bad.json"):
        diff_files(old, bad)
    with pytest.raises(DataError, match="missing.json"):
        diff_files(tmp_path / "missing.json", new)
