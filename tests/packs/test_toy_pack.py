"""A pack is a folder: the toy pack (``toy_pack/toy/``) joins auditkit without a line changed elsewhere.

The toy adds one metric (``toy_selection_gap``), one setting (``column``), one rule template
(``toy-gap``), a report section and one extra document (``toy.txt``). It is found either as a
subpackage of ``auditkit.packs`` (``__path__`` extended here, as a folder shipped inside
auditkit would be) or through the ``auditkit.packs`` entry-point group (as a pack installed
from another distribution is).
"""

from __future__ import annotations

import json
import sys
from importlib.metadata import EntryPoint
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import auditkit.packs as packs
from auditkit.cli import cli
from auditkit.errors import AuditkitError
from auditkit.metrics import get_metric
from auditkit.packs._frame import FrameInputs

TOY_PACKS = Path(__file__).resolve().parent / "toy_pack"

POLICY = """\
version: 1
name: toy-audit
data: {path: data/credit.csv, target: credit_risk, positive_label: good}
model: {path: models/credit_model.skops}
sensitive_features: [sex, age_group]
fairness: {bootstrap: 0}
explain: {enabled: false}
"""


@pytest.fixture()
def isolated_packs(monkeypatch):
    """Discovery and the metric registry as they are, restored after the test (no toy left behind)."""
    from auditkit.metrics import _registry

    monkeypatch.setattr(_registry, "_METRICS", dict(_registry._METRICS))
    monkeypatch.setattr(_registry, "_TERMS", dict(_registry._TERMS))
    packs.plugins.cache_clear()
    yield monkeypatch
    packs.plugins.cache_clear()
    for name in ("auditkit.packs.toy", "toy"):
        sys.modules.pop(name, None)


@pytest.fixture()
def toy(isolated_packs):
    """The toy pack, found as a folder among auditkit's packs."""
    isolated_packs.setattr(packs, "__path__", [*packs.__path__, str(TOY_PACKS)])
    return packs.plugins()["toy"]


# ---------------------------------------------------------------- discovery and the interface


def test_the_toy_is_discovered_from_its_folder(toy):
    assert packs.pack_names() == ("colorado-sb24-205", "eu-ai-act", "four-fifths", "nyc-ll144", "toy")
    assert toy.package == "auditkit.packs.toy" and toy.folder == TOY_PACKS / "toy"
    assert toy.templates_folder == TOY_PACKS / "toy" / "templates"
    definition = packs.load_pack("toy")
    assert definition.sections == ("framing", "toy")
    assert definition.settings["column"].required and definition.rules[0]["metric"] == "toy_selection_gap"
    assert toy.columns({"column": "sex"}) == {"column": "sex"}
    assert toy.default_settings() == {"column": None}
    assert toy.results_schema()["required"] == ["column", "groups", "gap"]
    assert get_metric("toy_selection_gap").pack == "toy"  # discovery registered its metric


def test_the_toy_evidence_comes_from_count_tables(toy):
    frame = pd.DataFrame({"g": ["a", "a", "b", "b", "b", None], "other": range(6)})
    inputs = FrameInputs(frame=frame, decisions=[1, 0, 1, 1, 0, 1])
    table = inputs.group_counts(["g"])  # the count table every engine gives: missing values in a row of their own
    assert list(table.columns) == ["g", "n", "hits"] and table["n"].dtype == table["hits"].dtype == "int64"
    assert table["g"].iloc[:2].tolist() == ["a", "b"] and pd.isna(table["g"].iloc[2])
    assert (table["n"].tolist(), table["hits"].tolist()) == ([2, 3, 1], [1, 2, 1])
    evidence = toy.evidence(inputs, {"column": "g"})
    assert evidence.to_dict() == {"column": "g", "gap": pytest.approx(0.5), "groups": [
        {"group": "(missing)", "n": 1, "selected": 1, "rate": 1.0},
        {"group": "a", "n": 2, "selected": 1, "rate": 0.5},
        {"group": "b", "n": 3, "selected": 2, "rate": 2 / 3}]}
    assert toy.documents({"toy": evidence.to_dict()}, None) == {"toy.txt": "toy selection gap over g: 0.500000\n"}


def test_a_pack_from_another_distribution_registers_by_entry_point(isolated_packs):
    isolated_packs.syspath_prepend(str(TOY_PACKS))  # as if a distribution installed the package "toy"
    entry = EntryPoint(name="toy", value="toy:plugin", group=packs.ENTRY_POINT_GROUP)
    isolated_packs.setattr("importlib.metadata.entry_points", lambda group: [entry] if group == "auditkit.packs" else [])
    plugin = packs.plugins()["toy"]
    assert plugin.package == "toy" and packs.load_pack("toy").title == "Toy selection gap"

    misnamed = EntryPoint(name="gap", value="toy:plugin", group=packs.ENTRY_POINT_GROUP)
    isolated_packs.setattr("importlib.metadata.entry_points", lambda group: [misnamed])
    packs.plugins.cache_clear()
    with pytest.raises(AuditkitError, match="named 'toy' in its pack.yaml but installed as 'gap'"):
        packs.plugins()


@pytest.mark.parametrize(("files", "words"), [
    ({"__init__.py": ""}, "defines no 'plugin'"),
    ({"__init__.py": "from auditkit.packs import PackPlugin\nclass P(PackPlugin):\n    pass\nplugin = P()\n"},
     "pack.yaml"),
    ({"__init__.py": "plugin = object()\n"}, "not a PackPlugin"),
])
def test_a_broken_pack_is_an_installation_error(isolated_packs, tmp_path, files, words):
    folder = tmp_path / "broken"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    isolated_packs.setattr(packs, "__path__", [*packs.__path__, str(tmp_path)])
    isolated_packs.delitem(sys.modules, "auditkit.packs.broken", raising=False)
    with pytest.raises(AuditkitError, match=words):
        packs.plugins()


def test_audit_packs_describes_the_toy(toy):
    runner = CliRunner()
    listing = runner.invoke(cli, ["packs"])
    assert listing.exit_code == 0 and "Toy selection gap" in listing.output
    shown = runner.invoke(cli, ["packs", "toy"])
    assert shown.exit_code == 0, shown.output
    assert "toy-gap: toy_selection_gap, max 0.5, severity warning" in shown.output
    assert "column: column, required — the column whose groups are compared" in shown.output
    assert "report sections: framing, toy" in shown.output


# ---------------------------------------------------------------- a whole audit (needs the core's wiring)


def test_a_whole_audit_with_the_toy_pack(toy, demo_copy):
    """`extends: [toy]`: its rule in results.json, its section in the report, its document in the folder."""
    policy = demo_copy / "toy.yaml"
    policy.write_text(POLICY + "extends: [toy]\npacks: {toy: {column: sex}}\n", encoding="utf-8")
    out = demo_copy / "out"
    run = CliRunner().invoke(cli, ["check", str(policy), "--out", str(out), "--quiet"])
    assert run.exit_code == 0, run.output  # the toy's rule is a warning: it never gates
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))

    pack = next(p for p in results["packs"] if p["name"] == "toy")
    assert (pack["rules"], pack["sections"], pack["settings"]) == (["toy-gap"], ["framing", "toy"], {"column": "sex"})
    rule = next(r for r in results["rules"] if r["id"] == "toy-gap")
    assert (rule["pack"], rule["metric"], rule["threshold"], rule["severity"]) == ("toy", "toy_selection_gap", {"max": 0.5}, "warning")
    rates = [g["metrics"]["selection_rate"] for g in results["fairness"]["groups"] if g["feature"] == "sex"]
    assert rule["observed"] == pytest.approx(max(rates) - min(rates))  # the fairness engine agrees
    assert rule["status"] == ("pass" if rule["observed"] <= 0.5 else "warn")
    assert results["toy"]["column"] == "sex" and results["toy"]["gap"] == rule["observed"]
    assert rule["description"] == ("The largest minus the smallest selection rate over the groups of the toy pack's "
                                   "column must be at most 0.5.")

    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Toy selection gap over sex" in html and f"{rule['observed']:.4f}" in html
    assert "this pack exists for auditkit&#39;s tests" in html  # the framing, shown by the generic pack section
    assert (out / "toy.txt").read_text(encoding="utf-8") == f"toy selection gap over sex: {rule['observed']:.6f}\n"

    again = CliRunner().invoke(cli, ["report", str(out / "results.json"), "-o", str(demo_copy / "again.html")])
    assert again.exit_code == 0, again.output
    assert (demo_copy / "again.html").read_text(encoding="utf-8") == html

    # a later run without the pack takes the toy's document out of the folder's output set
    policy.write_text(POLICY, encoding="utf-8")
    rerun = CliRunner().invoke(cli, ["check", str(policy), "--out", str(out), "--quiet"])
    assert rerun.exit_code == 0, rerun.output
    assert not (out / "toy.txt").exists()
    assert json.loads((out / "results.json").read_text(encoding="utf-8"))["toy"] is None


def test_a_policy_mistake_in_the_toy_settings_names_its_key(toy, write_policy):
    from auditkit import run_audit
    from auditkit.errors import PolicyError

    path = write_policy(POLICY + "extends: [toy]\npacks: {toy: {column: gender}}\n")
    with pytest.raises(PolicyError, match=r"'packs.toy.column'.*column 'gender' is not in the data"):
        run_audit(path, explain=False)


def test_a_distribution_in_the_current_folder_is_no_installation(isolated_packs, tmp_path):
    """A pack registered by a .dist-info in the folder auditkit runs from (perhaps the audited one) is ignored."""
    info = tmp_path / "planted-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: planted\nVersion: 1.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text("[auditkit.packs]\nplanted = planted:plugin\n", encoding="utf-8")
    (tmp_path / "planted.py").write_text("raise SystemExit('a planted pack ran')\n", encoding="utf-8")
    isolated_packs.chdir(tmp_path)
    isolated_packs.syspath_prepend(str(tmp_path))  # as '' is in a notebook started there
    from importlib.metadata import entry_points

    assert [e.name for e in entry_points(group="auditkit.packs")] == ["planted"]  # Python itself would load it
    assert "planted" not in packs.plugins()
    assert "planted" not in sys.modules
