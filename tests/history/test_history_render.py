"""render_history: the HTML page, the CSV table and the JSON document."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess

import pytest
from history_fakes import add_rule, make_entries, results, widening_entries
from markupsafe import escape

from auditkit.history import history_points, render_history
from auditkit.history._series import POINT_FIELDS, entry_facts
from auditkit.report.charts import charts_disabled, history_chart


@pytest.fixture()
def widening() -> list:
    """demographic_parity_difference for 'sex' rising 0.05, 0.08, 0.12, 0.17, the model replaced at entry 3."""
    return widening_entries()

CSP = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'")
HOSTILE_POLICY = "<script>alert('policy')</script>\"'"
HOSTILE_RULE = "<img src=x onerror=alert(1)>"
HOSTILE_FEATURE = "\"><script>alert(\"feature\")</script>"


@pytest.fixture(scope="module")
def widening_page() -> str:
    return render_history(widening_entries(), ledger_id="3f2a9c0d4b5e4f6a8b7c9d0e1f2a3b4c")


def hostile_entries():
    docs = []
    for value in (0.05, 0.09):
        doc = add_rule(results(policy=HOSTILE_POLICY), HOSTILE_RULE, "demographic_parity_difference", HOSTILE_FEATURE,
                       value, threshold={"max": 0.15})
        docs.append(doc)
    return make_entries(docs, batches=["<b>batch</b>", "=cmd|' /C calc'!A0"])


def test_the_widening_series_renders_with_its_chart_and_markers(widening_page):
    page = widening_page
    assert "<title>Audit history: german-credit-scoring</title>" in page
    assert "3f2a9c0d4b5e4f6a8b7c9d0e1f2a3b4c" in page
    assert "4 (3 passed, 1 failed)" in page
    assert "2026-01-15 09:30 UTC to 2026-04-15 09:30 UTC" in page
    assert "entry #3 (2026-03-15): model changed" in page
    assert "0.05 → 0.08 → 0.12 → 0.17" in page and "Moving in the worse direction" in page
    # one chart per series, each a data URI with alt text
    images = re.findall(r'<img src="(data:image/svg\+xml;base64,[A-Za-z0-9+/=]+)" alt="([^"]+)"', page)
    assert len(images) == 11
    assert "demographic_parity_difference for sex over 4 audits" in {alt for _, alt in images}
    assert "Needs attention" in page and 'href="#series-11"' in page


def test_a_series_that_did_not_worsen_has_no_warning():
    docs = [add_rule(results(), "dp", "demographic_parity_difference", "sex", v, threshold={"max": 0.15})
            for v in (0.05, 0.08, 0.06, 0.07)]
    page = render_history(make_entries(docs))
    assert "Moving in the worse direction" not in page


def test_the_page_is_offline_and_has_the_csp(widening_page):
    page = widening_page
    assert f'<meta http-equiv="Content-Security-Policy" content="{CSP}">' in page
    assert "<script" not in page.lower() and "<link" not in page.lower() and "@import" not in page
    references = re.findall(r'(?:src|href|action)\s*=\s*"([^"]*)"', page)
    assert references and all(r.startswith(("#", "data:")) for r in references)
    outside_text = re.sub(r">[^<]*<", "><", page)  # drop text between tags
    assert not re.search(r"https?://", outside_text)
    assert "@media print" in page


def test_hostile_names_are_escaped():
    page = render_history(hostile_entries())
    for raw in (HOSTILE_POLICY, HOSTILE_RULE, HOSTILE_FEATURE, "<b>batch</b>"):
        assert raw not in page
    assert "<script" not in page.lower() and "onerror=alert" not in page.replace("onerror=alert(1)&gt;", "")
    assert str(escape(HOSTILE_POLICY)) in page
    assert str(escape(HOSTILE_RULE)) in page
    assert str(escape(HOSTILE_FEATURE)) in page


def test_a_label_pending_entry_shows_labels_pending_not_zero():
    docs = [add_rule(results(), "acc-sex", "demographic_parity_difference", "sex", v, threshold={"max": 0.15})
            for v in (0.05, 0.06)]
    docs.append(add_rule(results(**{"accuracy-floor": None}), "acc-sex", "demographic_parity_difference", "sex", None,
                         threshold={"max": 0.15}))
    entries = make_entries(docs, labels=["present", "present", "pending"])
    page = render_history(entries)
    assert "1 awaiting labels" in page
    start = page.index('<code>accuracy</code>')
    accuracy = page[start:page.index("</table>", start)]
    assert "labels pending" in accuracy
    latest_row = accuracy[accuracy.index("<tbody>"):accuracy.index("</tr>", accuracy.index("<tbody>"))]
    assert "labels pending" in latest_row and ">0<" not in latest_row
    assert "Latest value <strong>0.787</strong> (entry #2" in accuracy  # the latest audit with a value


def test_only_the_chosen_policy_is_shown():
    docs = [results(policy=name) for name in ("credit", "hiring", "credit")]
    entries = make_entries(docs)
    with charts_disabled():
        page = render_history(entries, policy="credit")
        both = render_history(entries)
    assert "Audit history: credit" in page and "hiring" not in page
    data = json.loads(render_history(entries, policy="credit", fmt="json"))
    assert [e["seq"] for e in data["entries"]] == [1, 3] and data["policy"] == "credit"
    assert "Audit history: credit, hiring" in both


def test_an_empty_history_renders():
    page = render_history([], policy="credit")
    assert "No audits are recorded for credit." in page


def test_csv_has_one_row_per_point_and_is_formula_safe():
    entries = hostile_entries()
    doc = entries[0].body["results"]
    doc["rules"][0]["id"] = "=HYPERLINK(\"http://evil\",\"x\")"
    entries = make_entries([doc, entries[1].body["results"]], batches=["@SUM(1+1)", "-2+3"])
    text = render_history(entries, fmt="csv")
    rows = list(csv.reader(io.StringIO(text)))
    assert tuple(rows[0]) == POINT_FIELDS and len(rows) == 1 + len(history_points(entries))
    cells = [cell for row in rows[1:] for cell in row]
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells)
    assert "'=HYPERLINK(\"http://evil\",\"x\")" in cells and "'@SUM(1+1)" in cells and "'-2+3" in cells
    value = rows[1][POINT_FIELDS.index("value")]
    assert value == "0.0"  # numbers stay numbers


def test_json_round_trip(widening):
    data = json.loads(render_history(widening, fmt="json", ledger_id="abc"))
    assert data["format"] == "auditkit-history/1"
    assert data["policy"] == "german-credit-scoring" and data["ledger_id"] == "abc"
    assert data["points"] == history_points(widening)
    assert data["entries"] == entry_facts(widening)
    assert [e["model_changed"] for e in data["entries"]] == [False, False, True, False]


def test_an_unknown_format_is_refused(widening):
    with pytest.raises(ValueError, match="pdf"):
        render_history(widening, fmt="pdf")


def test_the_page_is_the_same_for_the_same_entries(widening_page):
    assert render_history(widening_entries(), ledger_id="3f2a9c0d4b5e4f6a8b7c9d0e1f2a3b4c") == widening_page


def test_history_chart_draws_only_with_values(widening):
    dp = [p for p in history_points(widening) if p["metric"] == "demographic_parity_difference"]
    assert history_chart(dp, metric="demographic_parity_difference", direction=-1).startswith("data:image/svg+xml;base64,")
    assert history_chart([{**p, "value": None} for p in dp]) is None
    assert history_chart([]) is None
    with charts_disabled():
        assert history_chart(dp) is None


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_the_widening_page_screenshots(widening_page, tmp_path):
    page = tmp_path / "history.html"
    page.write_text(widening_page, encoding="utf-8")
    shot = tmp_path / "history.png"
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    f"--user-data-dir={tmp_path / 'chrome'}", "--window-size=1280,2400", f"--screenshot={shot}",
                    page.as_uri()], capture_output=True, timeout=120, check=False)
    assert shot.exists() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000


def test_the_public_names():
    import auditkit.history

    assert auditkit.history.__all__ == ["history_points", "render_history", "trend_frame"]


def test_importing_the_history_stays_light():
    import subprocess
    import sys

    code = ("import sys, auditkit.history, auditkit.history._cli; "
            "print(sorted(m for m in ('pandas', 'matplotlib', 'jinja2', 'sqlalchemy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
