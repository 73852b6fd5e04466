"""The report in a real browser (headless Chromium): no console errors, no network request,
nothing injected executes, it screenshots and prints."""

from __future__ import annotations

import shutil
import textwrap

import pytest

from auditkit.pipeline import run_audit
from auditkit.report import write_outputs

playwright = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield instance
        instance.close()


def open_report(browser, path, *, width=1280):
    page = browser.new_page(viewport={"width": width, "height": 900})
    events = {"console_errors": [], "requests": [], "dialogs": [], "page_errors": []}
    page.on("console", lambda m: m.type == "error" and events["console_errors"].append(m.text))
    page.on("pageerror", lambda e: events["page_errors"].append(str(e)))
    page.on("request", lambda r: events["requests"].append(r.url))
    page.on("dialog", lambda d: (events["dialogs"].append(d.message), d.dismiss()))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return page, events


@pytest.fixture(scope="module")
def demo_report(demo_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("browser-demo")
    write_outputs(run_audit(demo_dir / "audit.yaml", seed=0).to_dict(), out)
    return out / "report.html"


def test_demo_report_loads_cleanly(browser, demo_report, tmp_path):
    assert demo_report.stat().st_size <= 2_000_000, "the demo report stays under 2 MB"
    page, events = open_report(browser, demo_report)
    assert events["console_errors"] == [] and events["page_errors"] == []
    network = [u for u in events["requests"] if not u.startswith(("file:", "data:"))]
    assert network == [], f"the report tried to reach the network: {network}"
    assert page.locator("h1").inner_text().startswith("Audit report")
    assert page.locator("section.verdict").count() == 1
    for img in page.locator("img").all():
        assert img.get_attribute("alt"), "every chart has alt text"
        assert img.evaluate("i => i.naturalWidth") > 0, "every chart decodes"
    shot = tmp_path / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 20_000
    page.close()


def test_demo_report_fits_a_phone(browser, demo_report):
    page, _ = open_report(browser, demo_report, width=390)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"the page scrolls sideways by {overflow}px on a phone"
    page.close()


def test_demo_report_prints_to_pdf(browser, demo_report, tmp_path):
    page, _ = open_report(browser, demo_report)
    pdf = tmp_path / "report.pdf"
    page.pdf(path=str(pdf), format="A4", print_background=True)
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and data.count(b"/Type /Page") >= 3
    page.close()


HOSTILE = '<script>window.__pwned=1</script>"><img src=x onerror="window.__pwned=2">'


def test_injected_markup_never_executes(browser, tmp_path):
    import pandas as pd

    column = '"><img src=x onerror="window.__pwned=3">'
    rows = []
    for i in range(120):
        rows.append({column: HOSTILE if i % 2 else "<b>plain</b>", "y": "yes" if i % 3 else "no",
                     "pred": "yes" if i % 4 else "no"})
    pd.DataFrame(rows).to_csv(tmp_path / "data.csv", index=False)
    policy = tmp_path / "audit.yaml"
    policy.write_text(textwrap.dedent(f"""\
        version: 1
        name: '{HOSTILE.replace("'", "''")}'
        data: {{path: data.csv, target: y, positive_label: 'yes'}}
        model:
          predictions: {{label: pred}}
        sensitive_features: ['{column.replace("'", "''")}']
        fairness: {{bootstrap: 100, min_group_size: 10}}
        rules:
          - id: '{HOSTILE.replace("'", "''")}'
            metric: selection_rate_ratio
            feature: '{column.replace("'", "''")}'
            min: 0.8
            rationale: '{HOSTILE.replace("'", "''")}'
        """))
    out = tmp_path / "out"
    write_outputs(run_audit(policy, seed=0).to_dict(), out)
    page, events = open_report(browser, out / "report.html")
    assert page.evaluate("window.__pwned === undefined")
    assert events["dialogs"] == []
    assert page.locator("script").count() == 0
    assert page.locator("img[onerror]").count() == 0
    assert HOSTILE in page.locator("body").inner_text(), "the hostile text is shown, as text"
    network = [u for u in events["requests"] if not u.startswith(("file:", "data:"))]
    assert network == []
    page.close()
