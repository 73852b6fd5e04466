"""NYC LL144 bias audit tables against hand-computed tables and an independent computation."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import shutil
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from auditkit.cli import cli
from auditkit.packs.nyc_ll144.tables import assess_ll144

HIRING = Path(__file__).resolve().parents[2] / "examples" / "hiring"

# (sex, race/ethnicity, individuals, selected); None and "Unknown" are unknown categories.
CELLS = [
    ("M", "White", 50, 30), ("F", "White", 50, 20),
    ("M", "Black", 30, 12), ("F", "Black", 30, 9),
    ("M", "Asian", 20, 10), ("F", "Asian", 16, 8),
    ("M", "Pacific Islander", 2, 2), ("F", "Pacific Islander", 1, 0),   # 3 of 202 rows: 1.49% < 2%
    (None, "Asian", 2, 1),                                              # sex unknown
    ("F", "Unknown", 1, 1),                                             # race unknown (a listed value)
]


def _frame(cells=CELLS) -> pd.DataFrame:
    rows = []
    for sex, race, n, selected in cells:
        rows += [(sex, race, int(i < selected)) for i in range(n)]
    return pd.DataFrame(rows, columns=["sex", "race", "selected"])


def _table(result, name):
    table = next(t for t in result.to_dict()["tables"] if t["name"] == name)
    return table, {c["category"]: c for c in table["categories"]}


def test_selection_mode_hand_computed_with_the_two_percent_rule():
    df = _frame()
    assert len(df) == 202
    result = assess_ll144(df["sex"], df["race"], mode="selection", selected=df["selected"], unknown_values=["Unknown"])

    sex, rows = _table(result, "sex")
    assert sex["unknown"] == 2
    assert (rows["M"]["n"], rows["M"]["selected"]) == (102, 54)       # 50+30+20+2, 30+12+10+2
    assert (rows["F"]["n"], rows["F"]["selected"]) == (98, 38)        # 50+30+16+1+1, 20+9+8+0+1
    assert rows["M"]["impact_ratio"] == 1.0 and sex["reference"] == "M"
    assert rows["F"]["impact_ratio"] == pytest.approx((38 / 98) / (54 / 102))  # 0.732426

    race, rows = _table(result, "race_ethnicity")
    assert race["unknown"] == 1
    pi = rows["Pacific Islander"]
    assert (pi["n"], pi["selected"], pi["excluded"]) == (3, 2, True)
    assert pi["share"] == pytest.approx(3 / 202) and pi["impact_ratio"] is None
    assert race["excluded"] == ["Pacific Islander"]
    # The excluded category has the highest rate (2/3) but is not the reference: White and
    # Asian (0.5) are, and Black is 21/60 = 0.35 -> 0.7.
    assert rows["White"]["impact_ratio"] == 1.0 and rows["Asian"]["impact_ratio"] == 1.0
    assert (rows["Asian"]["n"], rows["Asian"]["selected"]) == (38, 19)
    assert rows["Black"]["impact_ratio"] == pytest.approx(0.7)

    inter, rows = _table(result, "intersectional")
    assert inter["unknown"] == 3
    assert inter["reference"] == "M & White"
    expected = {"F & White": 0.4 / 0.6, "M & Black": 0.4 / 0.6, "F & Black": 0.3 / 0.6,
                "M & Asian": 0.5 / 0.6, "F & Asian": 0.5 / 0.6, "M & White": 1.0}
    for category, ratio in expected.items():
        assert rows[category]["impact_ratio"] == pytest.approx(ratio), category
    assert rows["M & Pacific Islander"]["excluded"] and rows["F & Pacific Islander"]["excluded"]
    assert result.lowest_impact_ratio == {"value": pytest.approx(0.5), "table": "intersectional", "category": "F & Black"}


def test_exclusion_can_be_turned_off():
    df = _frame()
    result = assess_ll144(df["sex"], df["race"], mode="selection", selected=df["selected"], exclude_below=0.0,
                          unknown_values=["Unknown"])
    race, rows = _table(result, "race_ethnicity")
    assert race["excluded"] == [] and race["reference"] == "Pacific Islander"
    assert rows["White"]["impact_ratio"] == pytest.approx(0.5 / (2 / 3))
    # a value not listed as unknown is a category of its own
    result = assess_ll144(df["sex"], df["race"], mode="selection", selected=df["selected"])
    assert _table(result, "race_ethnicity")[1]["Unknown"]["n"] == 1


def test_scoring_mode_hand_computed():
    # 11 scores 0.1 .. 1.1: the median is 0.6, and "above the median" is strictly above it.
    scores = [0.1, 0.3, 0.6, 0.8, 1.0, 1.1, 0.2, 0.4, 0.5, 0.7, 0.9]
    sex = ["M"] * 6 + ["F"] * 5
    race = ["X", "Y", "Y", "X", "X", "Y", "X", "Y", "Y", "X", "X"]
    result = assess_ll144(pd.Series(sex), pd.Series(race), mode="scoring", score=np.array(scores), exclude_below=0.0)
    doc = result.to_dict()
    assert doc["median_score"] == pytest.approx(0.6) and doc["rate_name"] == "scoring rate"
    _, rows = _table(result, "sex")
    assert (rows["M"]["selected"], rows["F"]["selected"]) == (3, 2)      # 0.8 1.0 1.1 | 0.7 0.9
    assert rows["F"]["impact_ratio"] == pytest.approx(0.4 / 0.5)
    _, rows = _table(result, "race_ethnicity")
    assert (rows["X"]["n"], rows["X"]["selected"]) == (6, 4)             # 0.8 1.0 0.7 0.9
    assert (rows["Y"]["n"], rows["Y"]["selected"]) == (5, 1)             # 1.1
    assert rows["Y"]["impact_ratio"] == pytest.approx(0.2 / (4 / 6))


def test_scoring_needs_every_score():
    from auditkit.errors import DataError

    with pytest.raises(DataError, match="1 of 3 rows"):
        assess_ll144(["M", "F", "M"], ["X", "X", "Y"], mode="scoring", score=np.array([0.1, np.nan, 0.3]))


# ---------------------------------------------------------------- the hiring example, end to end


def _make_hiring():
    spec = importlib.util.spec_from_file_location("make_hiring", HIRING / "make_hiring.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.make_hiring


def test_committed_example_data_is_what_the_script_generates():
    committed = pd.read_csv(HIRING / "applicants.csv")
    generated = _make_hiring()()
    pd.testing.assert_frame_equal(committed, pd.read_csv(io.StringIO(generated.to_csv(index=False))))


def _independent(df: pd.DataFrame, mode: str) -> dict:
    """The LL144 tables recomputed with pandas only, straight from the rules' definitions."""
    df = df.copy()
    if mode == "scoring":
        df["hit"] = df["score"] > df["score"].median()
    else:
        df["hit"] = df["selected"] == "yes"
    df["sex"] = df["sex"].replace("Decline to state", np.nan)
    out = {}
    total = len(df)
    for name, keys in (("sex", ["sex"]), ("race_ethnicity", ["race_ethnicity"]),
                       ("intersectional", ["sex", "race_ethnicity"])):
        known = df.dropna(subset=keys)
        g = known.groupby(keys)["hit"].agg(["size", "sum"])
        g["rate"] = g["sum"] / g["size"]
        g["excluded"] = g["size"] / total < 0.02
        top = g.loc[~g["excluded"], "rate"].max()
        g["ratio"] = np.where(g["excluded"], np.nan, g["rate"] / top)
        out[name] = {"unknown": total - len(known),
                     "rows": {(k if isinstance(k, tuple) else (k,)): r for k, r in g.iterrows()}}
    return out


@pytest.mark.parametrize("variant", ["selection", "scoring"])
def test_hiring_example_matches_an_independent_computation(tmp_path, variant):
    work = tmp_path / "hiring"
    shutil.copytree(HIRING, work)
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["check", str(work / f"audit-{variant}.yaml"), "--out", str(out)])
    assert result.exit_code in (0, 1), result.output
    assert (out / "ll144.html").exists() and (out / "ll144.csv").exists()

    expected = _independent(pd.read_csv(work / "applicants.csv"), variant)
    rows = list(csv.DictReader((out / "ll144.csv").open(encoding="utf-8")))
    assert {r["rate_kind"] for r in rows} == {f"{variant}_rate"}
    checked = 0
    for row in rows:
        table = expected[row["table"]]
        if row["note"].startswith("unknown category"):
            assert int(row["number_of_applicants"]) == table["unknown"]
            continue
        key = tuple(x for x in (row["sex"], row["race_ethnicity"]) if x)
        ref = table["rows"][key]
        assert int(row["number_of_applicants"]) == ref["size"]
        assert int(row["number_selected_or_scoring_above_median"]) == ref["sum"]
        assert float(row["rate"]) == pytest.approx(ref["rate"], abs=1e-6)
        assert (row["excluded_from_impact_ratio"] == "true") == bool(ref["excluded"])
        if ref["excluded"]:
            assert row["impact_ratio"] == ""
        else:
            assert float(row["impact_ratio"]) == pytest.approx(ref["ratio"], abs=1e-6)
        checked += 1
    assert checked == sum(len(t["rows"]) for t in expected.values())
    # the example keeps one race/ethnicity category under 2%, and the summary discloses it
    assert any(r["table"] == "race_ethnicity" and r["excluded_from_impact_ratio"] == "true"
               and not r["note"].startswith("unknown") for r in rows)
    html = (out / "ll144.html").read_text(encoding="utf-8")
    assert "Native Hawaiian or Other Pacific Islander" in html and "2026-11-01" in html
    assert "default-src 'none'" in html and "<script" not in html
    assert "not proof of fairness" in html
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert results["ll144"]["mode"] == variant

    # `audit ll144` re-creates both files from results.json alone
    again = tmp_path / "again"
    rerun = CliRunner().invoke(cli, ["ll144", str(out / "results.json"), "-o", str(again)])
    assert rerun.exit_code == 0, rerun.output
    for name in ("ll144.html", "ll144.csv"):
        assert (again / name).read_text(encoding="utf-8") == (out / name).read_text(encoding="utf-8")


def test_standalone_page_escapes_category_names(tmp_path):
    df = _frame([("M", "<script>alert(1)</script>", 40, 20), ("F", "White", 40, 10)])
    df["outcome"] = np.where(df["selected"] == 1, "yes", "no")
    df["decision"] = df["outcome"]
    df.to_csv(tmp_path / "d.csv", index=False)
    (tmp_path / "audit.yaml").write_text(textwrap.dedent("""\
        version: 1
        extends: [nyc-ll144]
        packs:
          nyc-ll144: {sex: sex, race_ethnicity: race, data_source: "<b>unit test</b>"}
        data: {path: d.csv, target: outcome, positive_label: "yes"}
        model: {predictions: {label: decision}}
        fairness: {bootstrap: 0}
        """), encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["check", str(tmp_path / "audit.yaml"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    html = (out / "ll144.html").read_text(encoding="utf-8")
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert "<b>unit test</b>" not in html
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "<script>alert" not in report and 'id="packs"' in report


def test_ll144_command_without_ll144_results(tmp_path, demo_dir):
    from auditkit import run_audit
    from auditkit.report import write_outputs

    results = run_audit(demo_dir / "audit.yaml", explain=False).to_dict()
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "ll144.html").write_text("a file of the user's, not auditkit's", encoding="utf-8")
    outputs = write_outputs(results, tmp_path / "plain")
    assert outputs.ll144_html is None
    assert (tmp_path / "plain" / "ll144.html").read_text(encoding="utf-8") == "a file of the user's, not auditkit's", \
        "auditkit deletes only files its own manifest lists"
    result = CliRunner().invoke(cli, ["ll144", str(tmp_path / "plain" / "results.json"), "-o", str(tmp_path / "x")])
    assert result.exit_code == 2
    assert "has no LL144 bias audit" in result.output


def test_scoring_mode_needs_a_score_column(write_policy):
    from auditkit.errors import PolicyError
    from auditkit.policy import load_policy

    path = write_policy("""\
        version: 1
        extends: [nyc-ll144]
        packs:
          nyc-ll144: {sex: sex, race_ethnicity: age_group, mode: scoring, data_source: demo}
        data: {path: data/credit.csv, target: credit_risk, positive_label: good}
        model: {predictions: {label: credit_risk}}
        """)
    with pytest.raises(PolicyError, match=r"'packs.nyc-ll144.mode'.*scoring mode needs the tool's score"):
        load_policy(path)
