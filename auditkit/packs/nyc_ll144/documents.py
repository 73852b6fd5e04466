"""The NYC LL144 bias audit summary on its own: a standalone HTML page and a CSV.

Both are pure functions of a ``results.json`` document (its ``ll144`` section), so
``audit ll144 results.json -o DIR`` re-creates exactly what ``audit check`` wrote. The page is
the pack's ``templates/ll144.html.j2``, rendered in the report's sandboxed environment.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from ...errors import DataError
from ...sanitize import csv_cell

__all__ = ["CSV_COLUMNS", "ll144_documents", "render_ll144_csv", "render_ll144_html", "write_ll144"]

CSV_COLUMNS = ("table", "sex", "race_ethnicity", "number_of_applicants", "number_selected_or_scoring_above_median",
               "rate", "rate_kind", "impact_ratio", "share_of_data", "excluded_from_impact_ratio", "note")


def _section(results: dict, source: str | Path = "results") -> dict:
    ll144 = results.get("ll144")
    if not ll144:
        raise DataError(f"{source}: has no LL144 bias audit; run 'audit check' with a policy that extends nyc-ll144.")
    return ll144


def render_ll144_html(results: dict, *, templates: Path | None = None) -> str:
    """The standalone LL144 summary page (self-contained, escaped, no network)."""
    from ...report.templates import environment
    from .view import ll144_view

    ll144 = _section(results)
    pack = next((p for p in results.get("packs") or [] if p.get("name") == "nyc-ll144"), {})
    provenance = results.get("provenance") or {}
    tool = ll144.get("tool")
    view = {
        "title": "Bias audit summary — NYC Local Law 144" + (f": {tool}" if tool else ""),
        "ll144": ll144_view(ll144),
        "framing": pack.get("framing", ""),
        "policy_name": (results.get("policy") or {}).get("name", ""),
        "finished_at": provenance.get("finished_at", ""),
        "data_sha256": (provenance.get("data") or {}).get("sha256") or "—",
        "version": (provenance.get("versions") or {}).get("auditkit", ""),
    }
    return environment(templates=templates).get_template("packs/nyc-ll144/ll144.html.j2").render(v=view)


def render_ll144_csv(results: dict) -> str:
    """One row per category of every table, plus one row per table for the unknown category.

    The file is meant for publication, so every cell goes through :func:`csv_cell`: a category
    named ``=HYPERLINK(...)`` is written as ``'=HYPERLINK(...)``, text no spreadsheet runs.
    """
    ll144 = _section(results)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")

    def writerow(cells) -> None:
        writer.writerow([csv_cell(c) for c in cells])

    writerow(CSV_COLUMNS)
    rate_kind = "scoring_rate" if ll144["mode"] == "scoring" else "selection_rate"
    share = f"{ll144['exclude_below']:.0%}"
    for table in ll144["tables"]:
        for c in table["categories"]:
            note = "most selected" if c.get("is_reference") else ""
            if c["excluded"]:
                note = f"excluded from the impact ratios: under {share} of the data"
            writerow([table["name"], c.get("sex") or "", c.get("race_ethnicity") or "", c["n"], c["selected"],
                      _num(c["rate"]), rate_kind, _num(c["impact_ratio"]), _num(c["share"]),
                      "true" if c["excluded"] else "false", note])
        writerow([table["name"], "(unknown)" if table["name"] != "race_ethnicity" else "",
                  "(unknown)" if table["name"] != "sex" else "", table["unknown"], "", "", rate_kind, "", "",
                  "true", "unknown category: not included in the calculations"])
    return buffer.getvalue()


def _num(value) -> str:
    return "" if value is None else f"{value:.6f}"


def ll144_documents(results: dict, *, templates: Path | None = None) -> dict[str, str]:
    """``ll144.html`` and ``ll144.csv`` of a results document, by name (nothing without an LL144 audit)."""
    if not results.get("ll144"):
        return {}
    return {"ll144.html": render_ll144_html(results, templates=templates), "ll144.csv": render_ll144_csv(results)}


def write_ll144(results_path: str | Path, out_dir: str | Path, *, templates: Path | None = None) -> tuple[Path, Path]:
    """``audit ll144``: re-create ll144.html and ll144.csv from a saved results.json.

    Both are rendered before anything is written, then added to the folder's output set
    together (:func:`auditkit.outputs.write_output_set`); other files there are left alone.
    """
    from ...outputs import write_output_set
    from ...report.results_file import load_results

    results = load_results(results_path)
    _section(results, results_path)
    out = Path(out_dir)
    documents = ll144_documents(results, templates=templates)
    write_output_set(out, documents, replace_set=False, hint="choose another folder with -o")
    return out / "ll144.html", out / "ll144.csv"
