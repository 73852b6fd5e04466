"""Remedies end to end on the champion demo: the worse candidate (which fails for applicants
under 25) gets a remedy file that passes ``audit check`` on rows it was not fitted on, with the
accuracy cost the table reported; the candidates' figures are recomputed independently."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from auditkit.cli import main


@pytest.fixture(scope="module")
def champion_demo(tmp_path_factory):
    from auditkit.demo import build_demo

    root = tmp_path_factory.mktemp("champion")
    build_demo(root, seed=0, with_champion=True)
    return root


@pytest.fixture(scope="module")
def searched(champion_demo):
    """``audit remedy`` run once on the champion demo: (exit code, output folder)."""
    out = champion_demo / "remedy"
    with pytest.raises(SystemExit) as exit_info:
        main([
            "remedy", str(champion_demo / "audit.yaml"), "--out", str(out), "--no-explain", "-q",
        ])
    return exit_info.value.code, out


def run(argv) -> int:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    return exit_info.value.code


def test_the_worse_candidate_fails_for_applicants_under_25(champion_demo, tmp_path):
    code = run(["check", str(champion_demo / "audit.yaml"), "--out", str(tmp_path / "r"), "--no-explain", "-q"])
    results = json.loads((tmp_path / "r" / "results.json").read_text())
    failed = {r["id"] for r in results["rules"] if r["status"] == "fail"}
    assert code == 1
    assert {"four-fifths-age", "no-worse-for-any-age-group"} <= failed
    assert results["remedies"]["triggered_by"]


def test_remedy_passes_the_gate_on_rows_it_was_not_fitted_on(champion_demo, searched, tmp_path):
    code, out = searched
    table = json.loads((out / "remedies.json").read_text())
    chosen = next(c for c in table["candidates"] if c["id"] == "reweigh")
    assert code == 0 and chosen["passes"] and not chosen["group_aware"]
    assert (out / "reweigh.skops").exists() and "path: reweigh.skops" in (out / "remedy.yaml").read_text()

    # The reweighed model was refitted on the training data: the audit rows are held out for it.
    before = tmp_path / "before"
    after = tmp_path / "after"
    run(["check", str(champion_demo / "audit.yaml"), "--out", str(before), "--no-explain", "-q"])
    code = run(["check", str(champion_demo / "audit.yaml"), "--model", str(out / "reweigh.skops"),
                "--out", str(after), "--no-explain", "-q"])
    assert code == 0
    old = json.loads((before / "results.json").read_text())
    new = json.loads((after / "results.json").read_text())
    assert new["status"] == "passed"
    change = new["fairness"]["overall"]["accuracy"] - old["fairness"]["overall"]["accuracy"]
    assert change == pytest.approx(chosen["accuracy_change"]["value"], abs=1e-12)
    lo, hi = chosen["accuracy_change"]["ci"]
    assert lo <= change <= hi


def _scores(champion_demo) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    from auditkit import load_model

    frame = pd.read_csv(champion_demo / "data" / "credit.csv")
    model = load_model(champion_demo / "models" / "candidate.skops").estimator
    classes = list(model.classes_)
    features = [str(c) for c in model.feature_names_in_]
    scores = model.predict_proba(frame[features])[:, classes.index("good")]
    y = (frame["credit_risk"] == "good").to_numpy().astype(int)
    return frame, y, scores


def test_single_threshold_figures_recomputed_by_hand(champion_demo, searched):
    """Out-of-fold decisions rebuilt from the recorded folds and thresholds; accuracy,
    selection rate and the four-fifths ratios computed with plain numpy."""
    from auditkit.remediation._folds import fold_ids

    _, out = searched
    table = json.loads((out / "remedies.json").read_text())
    single = next(c for c in table["candidates"] if c["id"] == "single-threshold")
    frame, y, scores = _scores(champion_demo)
    labels = (frame["sex"].astype(str) + " & " + frame["age_group"].astype(str))
    codes = pd.factorize(labels, sort=True)[0]
    folds = fold_ids(y, codes, n_folds=table["folds"], seed=table["seed"])
    decisions = np.zeros(len(y), dtype=int)
    for k, threshold in enumerate(single["parameters"]["fold_thresholds"]):
        decisions[folds == k] = scores[folds == k] >= threshold
    assert single["accuracy"]["value"] == pytest.approx((decisions == y).mean(), abs=1e-12)
    assert single["selection_rate"]["value"] == pytest.approx(decisions.mean(), abs=1e-12)
    for rule_id, column in (("four-fifths-sex", "sex"), ("four-fifths-age", "age_group")):
        rates = pd.Series(decisions).groupby(frame[column].to_numpy()).mean()
        verdict = next(r for r in single["rules"] if r["id"] == rule_id)
        assert verdict["observed"] == pytest.approx(rates.min() / rates.max(), abs=1e-12)
        assert verdict["status"] == ("pass" if rates.min() / rates.max() >= 0.8 else "fail")


def test_current_candidate_repeats_the_audit(champion_demo, searched, tmp_path):
    _, out = searched
    table = json.loads((out / "remedies.json").read_text())
    current = table["candidates"][0]
    run(["check", str(champion_demo / "audit.yaml"), "--out", str(tmp_path / "r"), "--no-explain", "-q"])
    results = json.loads((tmp_path / "r" / "results.json").read_text())
    by_id = {r["id"]: r for r in results["rules"]}
    for verdict in current["rules"]:
        assert verdict["status"] == by_id[verdict["id"]]["status"]
        assert verdict["observed"] == pytest.approx(by_id[verdict["id"]]["observed"], abs=1e-12)
    assert current["accuracy"]["value"] == pytest.approx(results["fairness"]["overall"]["accuracy"], abs=1e-12)


def test_group_aware_candidates_can_be_switched_off(champion_demo, tmp_path):
    root = tmp_path / "demo"
    shutil.copytree(champion_demo, root, ignore=shutil.ignore_patterns("remedy", "audit-report"))
    policy = root / "audit.yaml"
    policy.write_text(policy.read_text() + "remedies:\n  group_aware: false\n  candidates: [single_threshold, group_thresholds]\n")
    code = run(["remedy", str(policy), "--out", str(tmp_path / "out"), "--no-explain", "-q"])
    table = json.loads((tmp_path / "out" / "remedies.json").read_text())
    assert code == 0
    assert {c["kind"] for c in table["candidates"]} == {"current", "single_threshold"}
    assert any("group_aware: false" in note for note in table["notes"])


def test_remedy_command_errors_are_one_line_exit_2(champion_demo, tmp_path, capsys):
    code = run(["remedy", str(champion_demo / "audit.yaml"), "--out", str(tmp_path / "o"), "--no-explain",
                "--candidate", "no-such"])
    err = capsys.readouterr().err
    assert code == 2 and "no remedy candidate 'no-such'" in err and "Traceback" not in err
    code = run(["remedy", str(champion_demo / "audit.yaml"), "--out", str(tmp_path / "o"), "--no-explain",
                "--candidate", "group-thresholds-randomized"])
    assert code == 2 and "cannot be written" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()  # nothing half-written


def test_bad_remedies_block_is_a_policy_error(champion_demo, tmp_path, capsys):
    root = tmp_path / "demo"
    shutil.copytree(champion_demo, root, ignore=shutil.ignore_patterns("remedy", "audit-report"))
    policy = root / "audit.yaml"
    policy.write_text(policy.read_text() + "remedies:\n  candidates: [magic]\n")
    code = run(["remedy", str(policy), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and "remedies.candidates[0]" in err


def test_a_passing_audit_has_nothing_to_write(demo_dir, tmp_path, capsys):
    code = run(["remedy", str(demo_dir / "audit.yaml"), "--out", str(tmp_path / "o"), "--no-explain", "-q"])
    assert code == 0
    assert "no model file" in capsys.readouterr().out or not (tmp_path / "o").exists()
    assert not list((tmp_path / "o").glob("*.skops")) if (tmp_path / "o").exists() else True


def test_notebook_api_returns_the_candidates_as_a_dataframe(champion_demo):
    import auditkit

    frame = auditkit.remedies(champion_demo / "audit.yaml", explain=False)
    found = frame.attrs["remedies"]
    assert list(frame.index) == [c.id for c in found.candidates]
    assert frame.loc["reweigh", "passes"] and not frame.loc["current", "passes"]
    assert frame.loc["group-thresholds", "group_aware"]
    assert {"accuracy_change", "selection_rate_change", "rule:four-fifths-age"} <= set(frame.columns)
    weights = auditkit.reweigh(pd.read_csv(champion_demo / "data" / "train.csv"), "credit_risk", ["sex", "age_group"],
                               positive_label="good")
    assert weights.name == "weight" and weights.sum() == pytest.approx(len(weights))
