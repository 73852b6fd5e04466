"""``audit reasons`` on the German Credit demo: every declined applicant gets coded reasons,
excluded and protected inputs are never stated, outputs are deterministic and safe, and a bad
``reasons:`` block is one line and exit 2."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from auditkit.cli import main


def run(argv) -> int:
    with pytest.raises(SystemExit) as exit_info:
        main([str(a) for a in argv])
    return exit_info.value.code


@pytest.fixture(scope="module")
def demo_reasons(demo_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("reasons") / "reasons.csv"
    code = run(["reasons", demo_dir / "audit.yaml", "--out", out, "-q"])
    return code, pd.read_csv(out)


def test_every_declined_applicant_gets_coded_reasons(demo_dir, demo_reasons):
    from auditkit import load_model

    code, table = demo_reasons
    assert code == 0
    frame = pd.read_csv(demo_dir / "data" / "credit.csv")
    model = load_model(demo_dir / "models" / "credit_model.skops").estimator
    features = [str(c) for c in model.feature_names_in_]
    score = model.predict_proba(frame[features])[:, list(model.classes_).index("good")]
    declined = set(frame.index[score < 0.5])
    assert set(table["row"]) == declined
    assert table.groupby("row")["rank"].max().le(4).all()
    assert table["code"].str.fullmatch(r"R\d\d").all()
    assert (table["contribution"] < 0).all()
    # strongest first within each applicant
    for _, reasons in table.groupby("row"):
        assert reasons["contribution"].is_monotonic_increasing and list(reasons["rank"]) == list(range(1, len(reasons) + 1))


def test_excluded_and_protected_inputs_are_never_stated(demo_reasons):
    _, table = demo_reasons
    assert not set(table["column"]) & {"personal_status", "age", "foreign_worker", "sex", "age_group"}


def test_reasons_are_deterministic(demo_dir, demo_reasons, tmp_path):
    _, table = demo_reasons
    again = tmp_path / "again.csv"
    assert run(["reasons", demo_dir / "audit.yaml", "--out", again, "-q"]) == 0
    pd.testing.assert_frame_equal(pd.read_csv(again), table)


def test_parquet_output(demo_dir, tmp_path):
    out = tmp_path / "reasons.parquet"
    assert run(["reasons", demo_dir / "audit.yaml", "--out", out, "--rows", "all", "-q"]) == 0
    table = pd.read_parquet(out)
    assert table["row"].nunique() > 200  # approved rows have reasons too (inputs that lower their score)


def test_csv_cells_are_safe_against_formulas(write_policy, demo_copy, tmp_path):
    text = (demo_copy / "audit.yaml").read_text().replace(
        "R01 Status of existing checking account", '"=HYPERLINK(\\"http://x\\")"')
    policy = write_policy(text)
    out = tmp_path / "r.csv"
    assert run(["reasons", policy, "--out", out, "-q"]) == 0
    raw = out.read_text()
    assert "'=HYPERLINK" in raw and ",=HYPERLINK" not in raw


def test_an_unmapped_input_is_an_error_naming_it(write_policy, demo_copy, tmp_path, capsys):
    text = (demo_copy / "audit.yaml").read_text().replace("    telephone: R17 Telephone registration\n", "")
    policy = write_policy(text)
    code = run(["reasons", policy, "--out", tmp_path / "r.csv"])
    err = capsys.readouterr().err
    assert code == 2 and "telephone" in err and "reasons.fallback" in err and "Traceback" not in err
    assert not (tmp_path / "r.csv").exists()


def test_a_fallback_states_unmapped_inputs(write_policy, demo_copy, tmp_path):
    text = (demo_copy / "audit.yaml").read_text().replace(
        "    telephone: R17 Telephone registration\n", "").replace("  k: 4\n", "  k: 4\n  fallback: R99 Other factors\n")
    policy = write_policy(text)
    out = tmp_path / "r.csv"
    assert run(["reasons", policy, "--out", out, "--rows", "all", "-q"]) == 0
    table = pd.read_csv(out)
    assert set(table.loc[table["column"] == "telephone", "code"]) <= {"R99"}


@pytest.mark.parametrize("replace, key", [
    ("  k: 4\n", "reasons.k"),
    ("  baseline: approved", "reasons.baseline"),
])
def test_a_bad_reasons_block_is_a_policy_error(write_policy, demo_copy, tmp_path, capsys, replace, key):
    bad = {"  k: 4\n": "  k: 40\n", "  baseline: approved": "  baseline: everyone"}[replace]
    policy = write_policy((demo_copy / "audit.yaml").read_text().replace(replace, bad))
    code = run(["reasons", policy, "--out", tmp_path / "r.csv"])
    assert code == 2 and key in capsys.readouterr().err


def test_codes_naming_no_model_input_are_an_error(write_policy, demo_copy, tmp_path, capsys):
    policy = write_policy((demo_copy / "audit.yaml").read_text().replace(
        "    housing: R13 Housing\n", "    housing: R13 Housing\n    shoe_size: R30 Shoe size\n"))
    code = run(["reasons", policy, "--out", tmp_path / "r.csv"])
    err = capsys.readouterr().err
    assert code == 2 and "shoe_size" in err and "reasons.codes" in err


def test_the_output_must_be_csv_or_parquet(demo_dir, tmp_path, capsys):
    assert run(["reasons", demo_dir / "audit.yaml", "--out", tmp_path / "r.xlsx"]) == 2
    assert ".csv or .parquet" in capsys.readouterr().err


def test_notebook_api_on_the_demo(demo_dir):
    import auditkit
    from auditkit import load_model

    frame = pd.read_csv(demo_dir / "data" / "credit.csv")
    model = load_model(demo_dir / "models" / "credit_model.skops").estimator
    table = auditkit.reasons(model, frame, k=2, baseline="approved", protected=["personal_status"])
    assert table.attrs["baseline"] == "approved" and "personal_status" not in set(table["column"])
    buffer = io.StringIO()
    table.to_csv(buffer, index=False)
    assert buffer.getvalue().startswith("row,rank,column,code,statement,contribution,value,score")


def test_the_readme_and_docs_quote_the_demos_reasons(demo_reasons):
    """The README's CSV excerpt and docs/reasons.md's table are the demo's first declined
    applicant's reasons, to the decimals they show."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    _, table = demo_reasons
    first = table[table["row"] == table["row"].iloc[0]]
    readme = (root / "README.md").read_text(encoding="utf-8")
    quoted = re.findall(r"^(\d+),(\d),(\w+),(R\d\d),[^,]+,(-\d\.\d{3}),", readme, flags=re.M)
    assert len(quoted) == 4
    for (row, rank, column, code, contribution), (_, expected) in zip(quoted, first.iterrows()):
        assert (int(row), int(rank), column, code) == (expected["row"], expected["rank"], expected["column"], expected["code"])
        assert float(contribution) == round(expected["contribution"], 3)
    docs = (root / "docs" / "reasons.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (\d) \| (R\d\d) \| [^|]+ \| (-\d\.\d{3}) \|", docs, flags=re.M)
    assert [(int(r), c, float(v)) for r, c, v in rows] == [
        (int(e["rank"]), e["code"], round(e["contribution"], 3)) for _, e in first.iterrows()]
