"""``audit report``, ``audit diff`` and ``audit ll144`` on a results.json that may have been tampered with.

A results file is untrusted input. Whatever it holds, these commands end either in a correct
render (exit 0) or in exit 2 with one ``Error:`` line that names the file and, for a wrong
value, the JSON key path -- never "internal error", never a traceback (issue 13, "Fail closed").

The named cases below each make one deliberate change; the Hypothesis test applies random ones
(delete a key, replace a value with random JSON, duplicate list items) at random paths of a real
results document and checks the contract above, through the command line.
"""

from __future__ import annotations

import copy
import json
import os
import re

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from auditkit.cli import cli
from auditkit.errors import DataError
from auditkit.report.results_file import MAX_DEPTH, load_results
from auditkit.report.schema import key_path, validate_results

# ---------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def demo_results(demo_dir) -> dict:
    """The demo's results (fairness, drift, data bias, contract, explanations), audited once."""
    from auditkit.pipeline import run_audit

    return run_audit(demo_dir / "audit.yaml", seed=0).to_dict()


@pytest.fixture(scope="module")
def hiring_results() -> dict:
    """The hiring example's results: regulatory packs, adverse impact and the LL144 tables."""
    from pathlib import Path

    from auditkit.pipeline import run_audit

    policy = Path(__file__).resolve().parents[2] / "examples" / "hiring" / "audit-selection.yaml"
    return run_audit(policy, seed=0).to_dict()


def _trim(node, n: int = 3):
    """The same document with every list cut to its first ``n`` items (still a valid results file)."""
    if isinstance(node, dict):
        return {k: _trim(v, n) for k, v in node.items()}
    if isinstance(node, list):
        return [_trim(v, n) for v in node[:n]]
    return node


def _write(path, document) -> str:
    path.write_text(json.dumps(document), encoding="utf-8")  # \u escapes: lone surrogates survive
    return str(path)


def _run(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr, result.exception


def _assert_clean_error(code, out, err, exc, *, names: str, says: str | None = None) -> str:
    """Exit 2 with exactly one ``Error:`` line naming ``names`` (and ``says``), nothing else."""
    assert code == 2, (code, out, err, exc)
    assert exc is None or isinstance(exc, SystemExit), repr(exc)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), err
    line = lines[0]
    assert names in line, line
    assert "internal error" not in line and "Traceback" not in err, line
    if says is not None:
        assert re.search(says, line), line
    return line


def report(tmp_path, document_or_path, *extra) -> tuple:
    source = document_or_path if isinstance(document_or_path, str) else _write(tmp_path / "results.json",
                                                                               document_or_path)
    return _run("report", source, "-o", tmp_path / "report.html", *extra)


def report_fails(tmp_path, document, says: str) -> str:
    code, out, err, exc = report(tmp_path, document)
    line = _assert_clean_error(code, out, err, exc, names=str(tmp_path / "results.json"), says=says)
    assert not (tmp_path / "report.html").exists()
    return line


def report_renders(tmp_path, document) -> str:
    code, out, err, exc = report(tmp_path, document)
    assert code == 0, (out, err, exc)
    return (tmp_path / "report.html").read_text(encoding="utf-8")


# ---------------------------------------------------------------------------- the file itself


def test_duplicate_json_keys_are_refused(tmp_path, demo_results):
    text = json.dumps(demo_results)
    assert text.startswith('{"schema_version": 1, "status": "')
    text = text.replace('{"schema_version": 1, ', '{"schema_version": 1, "status": "passed", ', 1)
    path = tmp_path / "results.json"
    path.write_text(text, encoding="utf-8")
    report_fails(tmp_path, str(path), says=r"key 'status' appears twice in one object")


def test_nan_literal_is_refused(tmp_path, demo_results):
    text = json.dumps(demo_results)
    assert '"observed": 0.0,' in text
    (tmp_path / "results.json").write_text(text.replace('"observed": 0.0,', '"observed": NaN,', 1), encoding="utf-8")
    report_fails(tmp_path, str(tmp_path / "results.json"), says=r"key 'rules\[0\]\.observed' holds NaN, which is not a JSON number")


@pytest.mark.parametrize("literal", ["Infinity", "-Infinity", "1e999"])
def test_infinite_numbers_are_refused(tmp_path, demo_results, literal):
    text = json.dumps(demo_results).replace('"observed": 0.0,', f'"observed": {literal},', 1)
    (tmp_path / "results.json").write_text(text, encoding="utf-8")
    report_fails(tmp_path, str(tmp_path / "results.json"), says=r"key 'rules\[0\]\.observed' holds (-?Infinity|the number 1e999, too large)")


def test_integer_beyond_reason_is_refused(tmp_path, demo_results):
    text = json.dumps(demo_results).replace('"seed": 0', '"seed": ' + "9" * 5000, 1)
    (tmp_path / "results.json").write_text(text, encoding="utf-8")
    report_fails(tmp_path, str(tmp_path / "results.json"), says=r"key '[a-z_.]*seed' holds an integer of 5,000 digits")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_as_results_path_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "results.json"
    os.mkfifo(fifo)
    report_fails(tmp_path, str(fifo), says="FIFO")
    code, out, err, exc = _run("diff", fifo, fifo)
    _assert_clean_error(code, out, err, exc, names=str(fifo), says="FIFO")


def test_oversized_results_file_is_refused_before_reading(tmp_path):
    path = tmp_path / "results.json"
    with open(path, "wb") as handle:  # sparse: 300 MB on paper, nothing on disk
        handle.truncate(300 * 1024 * 1024)
    report_fails(tmp_path, str(path), says="over auditkit's limit")


def test_deeply_nested_json_is_refused(tmp_path):
    path = tmp_path / "results.json"
    path.write_text('{"schema_version": 1, "rules": ' + "[" * 200_000 + "]" * 200_000 + "}", encoding="utf-8")
    report_fails(tmp_path, str(path), says="nested too deeply")


def test_nesting_under_an_unknown_key_is_bounded(tmp_path, demo_results):
    document = copy.deepcopy(demo_results)
    deep: list = []
    for _ in range(MAX_DEPTH + 5):
        deep = [deep]
    document["added_by_a_later_version"] = deep
    report_fails(tmp_path, document, says=rf"key 'added_by_a_later_version\[0\].*nested more than {MAX_DEPTH} levels")


def test_lone_surrogate_is_refused_with_its_key_path(tmp_path, demo_results):
    document = copy.deepcopy(demo_results)
    document["fairness"]["groups"][1]["group"] = "\ud800"
    report_fails(tmp_path, document, says=r"key 'fairness\.groups\[1\]\.group' holds text that is not valid Unicode")


@pytest.mark.parametrize("content, says", [
    (b"", "is empty"),
    (b"\xff\xfe{}", "not UTF-8"),
    (b'{"schema_version": 1, "rules": [', r"not valid JSON \(line 1"),
    (b"[1, 2, 3]", r"not an auditkit results file \(it holds a list"),
    (b'{"rules": []}', "key 'schema_version' is missing"),
    (b'{"schema_version": 2, "rules": []}', "key 'schema_version' is 2: results schema version 2 is not supported"),
    (b'{"schema_version": "1", "rules": []}', "key 'schema_version' must be 1"),
])
def test_files_that_are_not_results(tmp_path, content, says):
    (tmp_path / "results.json").write_bytes(content)
    report_fails(tmp_path, str(tmp_path / "results.json"), says=says)


# ---------------------------------------------------------------------------- wrong values, named by key path


def _set(document, path, value):
    node = document
    for part in path[:-1]:
        node = node[part]
    if value is _DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return document


_DELETE = object()


@pytest.mark.parametrize("path, value, says", [
    (("fairness", "groups", 3, "n"), "x", r"key 'fairness\.groups\[3\]\.n' must be an integer ≥ 0 \(at most 10\^15\), not 'x'"),
    (("fairness", "groups", 0, "n"), -4, r"key 'fairness\.groups\[0\]\.n' must be an integer ≥ 0 \(at most 10\^15\), not -4"),
    (("rules", 1, "status"), "ok", r"key 'rules\[1\]\.status' must be one of 'pass', 'fail'"),
    (("rules", 0, "metric"), _DELETE, r"key 'rules\[0\]\.metric' is missing"),
    (("rules", 0, "threshold"), {}, r"key 'rules\[0\]\.threshold' must be an object with 'min' and/or 'max'"),
    (("rules", 0, "waiver"), "approved", r"key 'rules\[0\]\.waiver' must be an object or null"),
    (("fairness", "confusion", "tp"), _DELETE, r"key 'fairness\.confusion\.tp' is missing"),
    (("fairness", "overall_ci", "accuracy"), [0.1, 0.2, 0.3], r"key 'fairness\.overall_ci\.accuracy' must be an interval"),
    (("fairness", "groups", 0, "metrics", "tpr"), "high", r"key 'fairness\.groups\[0\]\.metrics\.tpr' must be a number .*or null, not 'high'"),
    (("data_bias", "representation", 0, "share"), 1e300, r"key 'data_bias\.representation\[0\]\.share' must be a number from 0 to 1"),
    (("fairness", "metrics"), 7, r"key 'fairness\.metrics' must be a list, not 7"),
    (("provenance", "git"), "abc123", r"key 'provenance\.git' must be an object or null"),
    (("data", "path"), None, r"key 'data\.path' must be a string, not null"),
    (("explanations", "status"), "done", r"key 'explanations\.status' must be one of 'ok', 'skipped', 'error'"),
    (("drift", "features", 0, "bins", 0), [], r"key 'drift\.features\[0\]\.bins\[0\]' must be an object"),
    (("status",), _DELETE, r"key 'status' is missing"),
])
def test_a_wrong_value_is_named_by_its_key_path(tmp_path, demo_results, path, value, says):
    document = _set(copy.deepcopy(demo_results), path, value)
    line = report_fails(tmp_path, document, says=says)
    assert "re-run 'audit check'" in line


def test_several_problems_are_listed_in_one_line(tmp_path, demo_results):
    document = copy.deepcopy(demo_results)
    for group in document["fairness"]["groups"][:5]:
        group["n"] = "many"
    line = report_fails(tmp_path, document, says=r"groups\[0\]\.n.*; key 'fairness\.groups\[1\]\.n'.*\(and 2 more\)")
    assert len(line) <= 620


def test_key_paths_quote_keys_that_are_not_names():
    assert key_path(["fairness", "groups", 3, "n"]) == "fairness.groups[3].n"
    assert key_path(["fairness", "overall", "a b"]) == 'fairness.overall["a b"]'


# ---------------------------------------------------------------------------- odd but valid: renders


def test_unknown_top_level_keys_are_kept_for_later_versions(tmp_path, demo_results):
    document = copy.deepcopy(demo_results)
    document["added_by_a_later_version"] = {"anything": [1, None, "x"]}
    report_renders(tmp_path, document)


def test_interval_with_low_above_high_renders(tmp_path, demo_results):
    document = copy.deepcopy(demo_results)
    document["fairness"]["groups"][0]["ci"]["selection_rate"] = [0.9, 0.1]
    document["rules"][1]["ci"] = [0.95, 0.05]
    html = report_renders(tmp_path, document)
    assert "[0.900, 0.100]" in html


def test_duplicate_groups_and_colliding_rule_ids_render_and_compare(tmp_path, demo_results):
    document = copy.deepcopy(demo_results)
    document["fairness"]["groups"].append(copy.deepcopy(document["fairness"]["groups"][0]))
    document["rules"].append(copy.deepcopy(document["rules"][0]))
    report_renders(tmp_path, document)
    old = _write(tmp_path / "old.json", demo_results)
    code, out, err, exc = _run("diff", old, tmp_path / "results.json")
    assert code in (0, 1) and not err, (out, err, exc)


def test_extreme_numbers_render_with_charts(tmp_path, demo_results):
    """Numbers up to 10^15 in size render, charts included; larger ones are refused by key path
    (matplotlib cannot plot integers beyond 2^63, and its transforms overflow near 1e308)."""
    document = copy.deepcopy(demo_results)
    group = document["fairness"]["groups"][0]
    group["metrics"]["selection_rate"] = 1e15
    group["ci"]["selection_rate"] = [-1e15, 1e15]
    document["fairness"]["overall"]["accuracy"] = -1e15
    document["rules"][1]["observed"] = 10**15
    document["rules"][1]["threshold"] = {"min": -1e15}
    document["drift"]["features"][0]["psi"] = 1e15
    document["explanations"]["importance"][0]["mean_abs_shap"] = 10**15
    document["explanations"]["by_group"][0]["values"][0]["mean_shap"] = -(10**15)
    document["explanations"]["beeswarm"]["points"][0]["shap"][0] = -1e15
    document["fairness"]["groups"][1]["n"] = 10**15
    report_renders(tmp_path, document)
    for where, value in ((("fairness", "groups", 0, "ci", "selection_rate", 0), -1e308),
                         (("explanations", "importance", 0, "mean_abs_shap"), 10**40)):
        folder = tmp_path / str(len(where))
        folder.mkdir()
        report_fails(folder, _set(copy.deepcopy(document), where, value),
                     says=rf"key '{re.escape(key_path(where))}' must be a number \(of size at most 10\^15\)")


def test_missing_optional_sections_render(tmp_path, demo_results):
    document = copy.deepcopy(demo_results)
    for key in ("bootstrap", "confusion", "metrics", "overall_ci"):
        document["fairness"].pop(key)
    document["provenance"].pop("platform")
    document["explanations"].pop("beeswarm")
    for key in ("data_bias", "drift", "warnings", "packs"):
        document.pop(key)
    report_renders(tmp_path, document)


def test_other_allowed_types_render(tmp_path, demo_results):
    """Every type the schema allows at a key renders, not only the one the demo happens to write."""
    document = copy.deepcopy(demo_results)
    document["data"]["positive_label"] = 1
    document["data"]["labels"] = [0, 1, None, True]
    document["rules"][0]["feature"] = ""
    document["rules"][0]["group"] = None
    document["rules"][0]["description"] = None
    document["contract"]["violations"] = [{"column": None, "check": "unique", "failure_count": 3,
                                           "examples": [1.5, "x", None, False]}]
    document["contract"]["passed"] = False
    document["provenance"]["command"] = None
    document["provenance"]["git"] = {"commit": "0" * 40, "branch": None, "dirty": None}
    document["provenance"]["model"] = None
    document["drift"]["features"][0]["bins"][0]["label"] = 3.25
    document["drift"]["target"] = None
    document["fairness"]["groups"][0]["metrics"] = {}
    document["fairness"]["groups"][0]["ci"] = {"tpr": None, "fpr": [None, None]}
    document["fairness"]["disparities"][0]["ratio"] = None
    document["explanations"]["importance"][0]["ci"] = [None, 0.3]
    document["explanations"]["beeswarm"]["points"][0]["value_rank"] = None
    document["model"]["threshold"] = None
    report_renders(tmp_path, document)
    code, out, err, exc = _run("diff", _write(tmp_path / "old.json", demo_results), tmp_path / "results.json",
                               "--format", "md")
    assert code in (0, 1) and not err, (out, err, exc)


def test_beeswarm_with_mismatched_lengths_renders(tmp_path, demo_results):
    document = copy.deepcopy(demo_results)
    point = document["explanations"]["beeswarm"]["points"][0]
    point["value_rank"] = point["value_rank"][:3]
    report_renders(tmp_path, document)


def test_long_text_and_control_characters_render(tmp_path, demo_results):
    document = copy.deepcopy(demo_results)
    document["fairness"]["groups"][0]["group"] = "x" * 100_000
    document["rules"][0]["id"] = "a\x1b[31mb\r\nc\u202ed\x00"
    document["policy"]["name"] = "\x07" * 50
    html = report_renders(tmp_path, document)
    assert "\x1b" not in html or "&" in html  # rendered; escaping is tested with the report


def test_null_sections_render(tmp_path, demo_results):
    document = copy.deepcopy(demo_results)
    for key in ("contract", "model", "fairness", "drift", "data_bias", "champion", "adverse_impact", "ll144",
                "packs"):
        document[key] = None
    document["explanations"] = {"status": "skipped"}
    report_renders(tmp_path, document)


# ---------------------------------------------------------------------------- diff and ll144 name the file


def test_diff_names_the_file_that_is_wrong(tmp_path, demo_results):
    good = _write(tmp_path / "good.json", demo_results)
    bad = copy.deepcopy(demo_results)
    bad["fairness"]["groups"][2]["status"] = "fine"
    bad_path = _write(tmp_path / "bad.json", bad)
    for args in ((good, bad_path), (bad_path, good)):
        code, out, err, exc = _run("diff", *args)
        line = _assert_clean_error(code, out, err, exc, names=bad_path,
                                   says=r"key 'fairness\.groups\[2\]\.status' must be one of 'ok', 'insufficient_data'")
        assert good not in line


def test_ll144_section_is_checked(tmp_path, hiring_results):
    document = copy.deepcopy(hiring_results)
    del document["ll144"]["rate_name"]
    document["ll144"]["tables"][0]["categories"][0]["rate"] = 2
    path = _write(tmp_path / "results.json", document)
    code, out, err, exc = _run("ll144", path, "-o", tmp_path / "out")
    _assert_clean_error(code, out, err, exc, names=path,
                        says=r"key 'll144\.rate_name' is missing.*key 'll144\.tables\[0\]\.categories\[0\]\.rate' "
                             r"must be a number ≥ 0 and ≤ 1, not 2")
    code, out, err, exc = _run("ll144", _write(tmp_path / "ok.json", hiring_results), "-o", tmp_path / "out")
    assert code == 0, (out, err, exc)


@pytest.mark.parametrize("path, value, says", [
    (("adverse_impact", "features", 0, "unknown", "values", 0, "group"), _DELETE,
     r"key 'adverse_impact\.features\[0\]\.unknown\.values\[0\]\.group' is missing"),
    (("adverse_impact", "unknown_values"), -1, r"key 'adverse_impact\.unknown_values' must be a list or null, not -1"),
    (("packs", 0, "rules", 0), ["x"], r"key 'packs\[0\]\.rules\[0\]' must be a string"),
    (("ll144", "lowest_impact_ratio", "table"), None, r"key 'll144\.lowest_impact_ratio\.table' must be a string, not null"),
    (("ll144", "columns"), _DELETE, r"key 'll144\.columns' is missing"),
])
def test_pack_sections_are_checked(tmp_path, hiring_results, path, value, says):
    report_fails(tmp_path, _set(copy.deepcopy(hiring_results), path, value), says=says)


def test_load_results_raises_data_error_naming_the_file(tmp_path, demo_results):
    document = copy.deepcopy(demo_results)
    document["summary"]["fail"] = -1
    path = _write(tmp_path / "results.json", document)
    with pytest.raises(DataError, match=r"results\.json: key 'summary\.fail' must be an integer ≥ 0 \(at most 10\^15\), not -1"):
        load_results(path)
    assert load_results(_write(tmp_path / "ok.json", demo_results)) == json.loads(json.dumps(demo_results))


def test_a_view_bug_names_the_file_and_section(tmp_path, demo_results, monkeypatch):
    """The last line of defence: a valid file the view still cannot show names file and section."""
    from auditkit.report import charts

    def broken(*args, **kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(charts, "drift_chart", broken)
    line = report_fails(tmp_path, demo_results, says=r"the report's 'drift' section cannot be rendered")
    assert "bug in auditkit" in line


# ---------------------------------------------------------------------------- fuzzing


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*prefix, index))


json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**20), 10**20),
    st.floats(allow_nan=False, allow_infinity=False), st.sampled_from([1e308, -1e308, 5e-324, 0, -1, 1]),
    st.text(max_size=12),
    st.sampled_from(["ok", "pass", "fail", "insufficient_data", "error", "skipped", "passed", "", "\x1b[2J\r",
                     "x" * 300, "sex", "female", "selection_rate", "tpr"]),
)
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)), max_leaves=10)


def _same_kind(value):
    """Values of the same JSON type as ``value``: edits a file could get and still be schema-valid."""
    if isinstance(value, bool):
        return st.booleans()
    if isinstance(value, int):
        return st.one_of(st.integers(0, 10**15), st.integers(-5, 5))
    if isinstance(value, float):
        return st.one_of(st.floats(0, 1), st.floats(-1e15, 1e15), st.sampled_from([0.0, 1.0, -0.0, 5e-324]))
    if isinstance(value, str):
        return st.one_of(st.text(max_size=20), st.sampled_from(["", "ok", "(missing)", "a & b", "<b>x</b>", "\u202e"]))
    if isinstance(value, list):
        return st.sampled_from([[], value[::-1], value + value, value[:1]])
    if value is None:
        return st.one_of(st.none(), st.floats(0, 1), st.text(max_size=8), st.just([0.2, 0.1]))
    return st.just({**value, "added_by_a_later_version": 1})


@st.composite
def mutations(draw, base, paths):
    """A few (kind, path, value) edits; the path is drawn from the unmutated document's paths."""
    edits = []
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(paths))
        kind = draw(st.sampled_from(["delete", "replace", "same_kind", "same_kind", "duplicate"]))
        value = None
        if kind == "replace":
            value = draw(json_values)
        elif kind == "same_kind":
            node = base
            for part in path:
                node = node[part]
            kind, value = "replace", draw(_same_kind(node))
        edits.append((kind, path, value))
    return edits


def _apply(document, edits):
    for kind, path, value in edits:
        node = document
        try:
            for part in path[:-1]:
                node = node[part]
            key = path[-1]
            target = node[key]
        except (KeyError, IndexError, TypeError):
            continue  # an earlier edit removed or replaced this path
        if kind == "delete":
            del node[key]
        elif kind == "replace":
            node[key] = value
        elif isinstance(target, list) and target:
            node[key] = target + copy.deepcopy(target[:2])
        elif isinstance(target, dict):
            node[key] = {**target, "duplicate": copy.deepcopy(target)}
        else:
            node[key] = [target, target]
    return document


@pytest.fixture(scope="module")
def fuzz_base(demo_results, hiring_results, tmp_path_factory) -> tuple[dict, list, str]:
    """A small real document holding every section (the demo's, with the hiring example's packs,
    adverse impact and LL144 tables and their rules), its key paths, and its file."""
    base = _trim(copy.deepcopy(demo_results), 3)
    for key in ("packs", "adverse_impact", "ll144"):
        base[key] = _trim(copy.deepcopy(hiring_results[key]), 3)
    base["rules"] = base["rules"] + [_trim(r, 3) for r in hiring_results["rules"]]
    base = json.loads(json.dumps(base))
    validate_results(base)
    paths = [p for p in _paths(base) if p]
    return base, paths, _write(tmp_path_factory.mktemp("fuzz-base") / "base.json", base)


@pytest.fixture()
def no_charts(monkeypatch):
    """Charts are laid out and drawn by matplotlib at ~0.5 s each; the fuzz test skips that part only.

    Each chart function still receives exactly what the view gives it and makes every plot call
    the real one makes; the layout and SVG drawing are skipped. Extremes in charted values are
    covered, with real charts, by ``test_extreme_numbers_render_with_charts`` and the beeswarm
    and interval cases above.
    """
    from matplotlib.figure import Figure

    from auditkit.report import charts

    monkeypatch.setattr(Figure, "tight_layout", lambda self, *a, **k: None)
    monkeypatch.setattr(charts, "_to_data_uri", lambda fig: (charts._plt().close(fig), "data:image/svg+xml;base64,")[1])


@pytest.mark.usefixtures("no_charts")
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                    HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_results_render_or_fail_cleanly(tmp_path_factory, fuzz_base, data):
    base, paths, base_path = fuzz_base
    edits = data.draw(mutations(base, paths))
    document = _apply(copy.deepcopy(base), edits)
    folder = tmp_path_factory.mktemp("fuzz")
    path = _write(folder / "results.json", document)
    for args in (("report", path, "-o", folder / "report.html"), ("diff", base_path, path), ("diff", path, base_path),
                 ("ll144", path, "-o", folder / "ll144")):
        code, out, err, exc = _run(*args)
        event(f"{args[0]} exit {code}")
        assert code in (0, 1, 2) and (code != 1 or args[0] == "diff"), (args, code, out, err, exc)
        assert exc is None or isinstance(exc, SystemExit), (edits, repr(exc))
        assert "internal error" not in err and "Traceback" not in err, (edits, err)
        if code == 2:
            line = _assert_clean_error(code, out, err, exc, names=path)
            # Specific: a key path (or the LL144 section being absent), never the catch-all's "bug" message.
            assert "key '" in line or "has no LL144 bias audit" in line, (edits, line)
            assert "bug in auditkit" not in line, (edits, line)
