"""The evidence blocks of a regulatory document, read from a ``results.json`` document.

Pure functions of the results: they read and format, and compute nothing. Every number is a
:func:`num` — the text the report's formatters give a value of ``results.json`` and the path
of that value (``fairness.overall.accuracy``) — so each number in a document can be traced to
its source (the HTML shows the path on hover; ``tests/regulation_packs/`` checks them all).

A block is a mapping with a ``kind``:

* ``kv`` — ``title``, ``rows``: (label, cell) pairs;
* ``table`` — ``title``, ``columns``, ``rows`` (lists of cells), optional ``note``;
* ``text`` — ``title`` (optional), ``paragraphs``: cells;
* ``provided`` / ``missing`` — a part only a person can write (see ``documents.py``).

A cell is a list of fragments: text, or a number ``{"t": text, "p": path}``.

Shared by the regulatory packs (``eu-ai-act``, ``colorado-sb24-205``), like ``_plugin.py``: each
pack's folder holds only what is its own (its headings, parts and rules); the document layout
is ``report_templates/regulatory/document.html.j2`` and ``.md.j2``.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ANNEX_PERFORMANCE_METRICS",
    "bias_blocks",
    "cell",
    "contract_blocks",
    "data_blocks",
    "declared_accuracy_rules",
    "discrimination_blocks",
    "drift_blocks",
    "findings_blocks",
    "group_accuracy_blocks",
    "model_blocks",
    "monitoring_blocks",
    "num",
    "pvalue",
    "rationale_blocks",
    "reasons_blocks",
    "record_blocks",
    "remedies_blocks",
    "rule_kind",
    "rules_blocks",
    "validation_blocks",
]

#: Rule metrics that state a level of accuracy or performance (Art. 15 of the EU AI Act).
ANNEX_PERFORMANCE_METRICS = ("accuracy", "balanced_accuracy", "auc", "f1", "tpr", "tnr", "ppv", "npv", "fpr", "fnr")
_DATA_RULE_METRICS = ("contract_violations", "base_rate_ratio", "base_rate_difference", "missingness_gap",
                      "representation_ratio", "representation_gof_pvalue", "representation_min_share")
_MAX_ROWS = 40
METRIC_NAMES = {"selection_rate": "Selection rate", "tpr": "True positive rate", "fpr": "False positive rate",
                "tnr": "True negative rate", "fnr": "False negative rate", "ppv": "Precision", "npv": "Negative predictive value",
                "accuracy": "Accuracy", "balanced_accuracy": "Balanced accuracy", "auc": "Area under the ROC curve",
                "f1": "F1 score", "base_rate": "Base rate", "mean_score": "Mean score"}


def num(value: Any, path: str, digits: int = 3) -> dict | str:
    """A number of the results, formatted as the report formats it, with where it comes from."""
    from ..report.formatting import fmt_number

    if value is None:
        return "—"
    return {"t": fmt_number(value, digits), "p": path}


def pvalue(value: Any, path: str) -> list | str:
    """A p-value to 4 decimals; one below 0.0001 is written "< 0.0001", never as 0."""
    if value is None:
        return "—"
    if 0 <= value < 0.0001:
        return ["< ", {"t": "0.0001", "p": path, "bound": "below"}]
    return [num(value, path, 4)]


def interval(ci: Any, path: str, digits: int = 3) -> list:
    """``[low, high]`` as fragments (nothing without an interval)."""
    if not ci or ci[0] is None or ci[1] is None:
        return []
    return ["[", num(ci[0], f"{path}[0]", digits), ", ", num(ci[1], f"{path}[1]", digits), "]"]


def cell(*fragments: Any) -> list:
    """A cell: its fragments, text or numbers (nested lists are flattened)."""
    out: list = []
    for f in fragments:
        if isinstance(f, list):
            out.extend(cell(*f))
        elif f is not None and f != "":
            out.append(f if isinstance(f, dict) else str(f))
    return out


def _kv(title: str, rows: list) -> dict:
    return {"kind": "kv", "title": title, "rows": [(label, cell(value)) for label, value in rows if value not in (None, [], "")]}


def _table(title: str, columns: list[str], rows: list[list], note: str | None = None) -> dict:
    shown = rows[:_MAX_ROWS]
    extra = f"The first {_MAX_ROWS} of {len(rows)} rows are shown; results.json holds them all." if len(rows) > _MAX_ROWS else None
    return {"kind": "table", "title": title, "columns": columns, "rows": [[cell(c) for c in r] for r in shown],
            "note": " ".join(x for x in (note, extra) if x) or None}


def _text(*paragraphs: Any, title: str | None = None) -> dict:
    return {"kind": "text", "title": title, "paragraphs": [cell(p) for p in paragraphs if p]}


def _hash(value: Any) -> str | None:
    return str(value) if value else None


def _file(entry: Any) -> str | None:
    if not isinstance(entry, dict) or not entry.get("path"):
        return None
    return str(entry["path"])


# ---------------------------------------------------------------- data and model


def data_blocks(r: dict) -> list[dict]:
    """What data were audited: the file and its SHA-256, rows, target, sensitive features."""
    data, prov = r.get("data") or {}, r.get("provenance") or {}
    pdata = prov.get("data") or {}
    ref = prov.get("reference") or {}
    labels = data.get("labels")
    rows = [
        ("Data file", _file(pdata) or data.get("path")),
        ("SHA-256 of the data file", _hash(pdata.get("sha256"))),
        ("Rows audited", num(data.get("rows"), "data.rows")),
        ("Columns", num(data.get("columns"), "data.columns")),
        ("Target (the outcome)", data.get("target")),
        ("Favourable outcome", data.get("positive_label")),
        ("Outcome values", ", ".join(map(str, labels)) if isinstance(labels, list) else None),
        ("Share of rows with the favourable outcome (base rate)", num(data.get("base_rate"), "data.base_rate")),
        ("Labels", data.get("label_status")),
        ("Sensitive features", ", ".join(data.get("sensitive_features") or []) or None),
        ("Intersections", "; ".join(x if isinstance(x, str) else " & ".join(map(str, x))
                                    for x in data.get("intersections") or []) or None),
        ("Reference data (drift)", _file(ref)),
        ("SHA-256 of the reference data", _hash(ref.get("sha256"))),
    ]
    return [_kv("Data audited (from results.json: data, provenance)", rows)]


def model_blocks(r: dict) -> list[dict]:
    """The model audited: file, type, SHA-256, decision threshold, inputs; software versions."""
    model, prov = r.get("model") or {}, r.get("provenance") or {}
    pmodel = prov.get("model") or {}
    versions = prov.get("versions") or {}
    rows = [
        ("Model file", model.get("path") or pmodel.get("path")),
        ("Model registry URI", model.get("uri") or pmodel.get("uri")),
        ("SHA-256 of the model file", _hash(pmodel.get("sha256"))),
        ("Type", model.get("description") or model.get("type")),
        ("Format", model.get("format")),
        ("Decision threshold", num(model.get("threshold"), "model.threshold")),
        ("Input columns", ", ".join(map(str, model.get("feature_columns") or [])) or None),
    ]
    blocks = [_kv("Model audited (from results.json: model, provenance)", rows)]
    if versions:
        blocks.append(_text(" · ".join(f"{name} {v}" for name, v in versions.items() if v),
                            title="Software used by the audit (provenance.versions)"))
    return blocks


def contract_blocks(r: dict) -> list[dict]:
    """The data contract check: passed or not, and its violations."""
    contract = r.get("contract")
    if not contract:
        return [_text("No data contract was checked in this audit (results.json: contract is null).",
                      title="Data contract")]
    pc = (r.get("provenance") or {}).get("contract") or {}
    rows = [("Contract file", contract.get("contract") or _file(pc)), ("SHA-256 of the contract", _hash(pc.get("sha256"))),
            ("Rows checked", num(contract.get("rows"), "contract.rows")),
            ("Result", "every value meets the contract" if contract.get("passed") else "the data break the contract"),
            ("Failing values", num(contract.get("total_failures"), "contract.total_failures"))]
    blocks = [_kv("Data contract (results.json: contract)", rows)]
    violations = contract.get("violations") or []
    if violations:
        blocks.append(_table("Contract violations", ["Column", "Check", "Failing values"],
                             [[v.get("column") or "(table)", v.get("check"), num(v.get("failure_count"), f"contract.violations[{i}].failure_count")]
                              for i, v in enumerate(violations)]))
    return blocks


# ---------------------------------------------------------------- bias examination


def bias_blocks(r: dict) -> list[dict]:
    """The data examined for biases: group sizes, base rates, missingness, representativeness."""
    bias = r.get("data_bias")
    if not bias:
        return [_text("The data were not examined for biases in this audit (results.json: data_bias is null).",
                      title="Bias examination of the data")]
    blocks = []
    rep = bias.get("representativeness")
    if rep:
        blocks.append(_text(["Declared reference population: ", str(rep.get("source") or "—"),
                             (". Each group's share of the data is compared with its declared share; the ratio is "
                              "observed share / declared share (1 = as in the population), with a Wilson interval at "
                              "confidence "),
                             num(rep.get("confidence"), "data_bias.representativeness.confidence"),
                             (". A chi-square goodness-of-fit test asks whether the counts could come from the "
                              "declared shares: a low p-value is evidence of a difference; a high one only means that "
                              "none was detected, not that the data are representative.")],
                            title="Representativeness against the declared population (data_bias.representativeness)"))
        rows = []
        for i, f in enumerate(rep.get("features") or []):
            base = f"data_bias.representativeness.features[{i}]"
            for j, g in enumerate(f.get("groups") or []):
                gp = f"{base}.groups[{j}]"
                rows.append([f.get("feature"), g.get("group"), num(g.get("n"), f"{gp}.n"),
                             cell(num(g.get("share"), f"{gp}.share"), " ", interval(g.get("share_ci"), f"{gp}.share_ci")),
                             num(g.get("expected_share"), f"{gp}.expected_share"),
                             cell(num(g.get("ratio"), f"{gp}.ratio"), " ", interval(g.get("ratio_ci"), f"{gp}.ratio_ci"))])
        blocks.append(_table("Groups against the declared shares",
                             ["Feature", "Group", "Rows", "Share of the data [interval]", "Declared share",
                              "Ratio [interval]"], rows))
        fit = []
        for i, f in enumerate(rep.get("features") or []):
            base = f"data_bias.representativeness.features[{i}]"
            fit.append([f.get("feature"), num(f.get("n"), f"{base}.n"), num(f.get("statistic"), f"{base}.statistic"),
                        num(f.get("df"), f"{base}.df"), pvalue(f.get("p_value"), f"{base}.p_value"),
                        cell(num(f.get("lowest_ratio"), f"{base}.lowest_ratio"), " ",
                             interval(f.get("lowest_ratio_ci"), f"{base}.lowest_ratio_ci"),
                             f" ({f.get('lowest_group')})" if f.get("lowest_group") else ""),
                        "; ".join(x for x in (
                            ("groups missing from the data: " + ", ".join(f["missing_groups"])) if f.get("missing_groups") else "",
                            f.get("reason") or "") if x) or "—"])
        blocks.append(_table("Goodness of fit per feature", ["Feature", "Rows", "Chi-square", "Degrees of freedom",
                                                             "p-value", "Lowest ratio [interval]", "Notes"], fit))
    else:
        blocks.append(_text("No reference population was declared (policy population:), so the data's "
                            "representativeness was not measured against one. Group sizes follow.",
                            title="Representativeness"))
    rows = [[g.get("feature"), g.get("group"), num(g.get("n"), f"data_bias.representation[{i}].n"),
             num(g.get("share"), f"data_bias.representation[{i}].share")]
            for i, g in enumerate(bias.get("representation") or [])]
    if rows:
        blocks.append(_table("Group sizes in the data", ["Feature", "Group", "Rows", "Share of the rows"], rows))
    rows = [[g.get("feature"), g.get("group"), num(g.get("n"), f"data_bias.base_rates[{i}].n"),
             num(g.get("base_rate"), f"data_bias.base_rates[{i}].base_rate")]
            for i, g in enumerate(bias.get("base_rates") or [])]
    if rows:
        blocks.append(_table("Label bias: the favourable outcome's rate per group in the data (base rates)",
                             ["Feature", "Group", "Rows", "Base rate"], rows,
                             note="Base rates describe the historical labels, before any model: a model trained on "
                                  "them can inherit their differences. A difference is not by itself proof of bias "
                                  "in the labels; it can also reflect real differences in the outcome."))
    rows = [[d.get("feature"), num(d.get("ratio"), f"data_bias.base_rate_disparity[{i}].ratio"),
             num(d.get("difference"), f"data_bias.base_rate_disparity[{i}].difference")]
            for i, d in enumerate(bias.get("base_rate_disparity") or [])]
    if rows:
        blocks.append(_table("Base-rate disparity per feature", ["Feature", "Lowest / highest base rate",
                                                                 "Highest − lowest base rate"], rows))
    missing = bias.get("missingness") or []
    if missing:
        rows = []
        for i, m in enumerate(missing):
            rates = m.get("rates") or {}
            rows.append([m.get("feature"), m.get("column"),
                         cell(*[[f"{g}: ", num(v, f"data_bias.missingness[{i}].rates.{g}"), "; "] for g, v in rates.items()])[:-1]
                         if rates else "—",
                         num(m.get("gap"), f"data_bias.missingness[{i}].gap"), "yes" if m.get("flagged") else "no"])
        blocks.append(_table("Missing values by group", ["Feature", "Column", "Missing share per group", "Gap", "Flagged"],
                             rows, note=_gap_note(bias)))
    else:
        blocks.append(_text("No column of the audited data has missing values in any sensitive group "
                            "(results.json: data_bias.missingness is empty).", title="Missing values by group"))
    return blocks


def _gap_note(bias: dict) -> str | None:
    flag = bias.get("missing_gap_flag")
    return None if flag is None else "A column is flagged when its missing shares differ between groups by more than the policy's flag."


# ---------------------------------------------------------------- validation and testing


def validation_blocks(r: dict) -> list[dict]:
    """How the model was tested, and its overall results with intervals."""
    fairness = r.get("fairness")
    if not fairness:
        return [_text("The model's outputs were not evaluated in this audit (results.json: fairness is null).",
                      title="Validation and testing")]
    boot = fairness.get("bootstrap") or {}
    data = r.get("data") or {}
    procedure = ["The model's decisions on the ", num(fairness.get("n_rows"), "fairness.n_rows"),
                 (f" rows of the audited data file ({data.get('path') or 'see provenance'}) were compared with the "
                  "recorded outcomes, overall and for each group of the sensitive features; groups with fewer than "),
                 num(fairness.get("min_group_size"), "fairness.min_group_size"), " rows are shown but not judged."]
    if boot.get("resamples"):
        procedure += [" Intervals: ", str(boot.get("method") or "bootstrap"), ", ",
                      num(boot.get("resamples"), "fairness.bootstrap.resamples"), " resamples at confidence ",
                      num(boot.get("confidence"), "fairness.bootstrap.confidence"), ", seed ",
                      num(boot.get("seed"), "fairness.bootstrap.seed"), "."]
    else:
        procedure += [" No bootstrap intervals were computed (fairness.bootstrap is 0 in the policy)."]
    overall, ci = fairness.get("overall") or {}, fairness.get("overall_ci") or {}
    names = [m for m in dict.fromkeys([*(fairness.get("metrics") or []), "accuracy", "balanced_accuracy", "auc"])
             if overall.get(m) is not None]
    rows = [[f"{METRIC_NAMES.get(m, m)} ({m})" if m in METRIC_NAMES else m, num(overall.get(m), f"fairness.overall.{m}"), interval(ci.get(m), f"fairness.overall_ci.{m}") or "—"]
            for m in names]
    blocks = [_text(procedure, title="Procedure (results.json: fairness)"),
              _table("Overall results on the audited data", ["Metric", "Value", "Interval"], rows)]
    conf = fairness.get("confusion")
    if conf:
        blocks.append(_kv("Decisions against outcomes (fairness.confusion)",
                          [("Favourable decisions, favourable outcome", num(conf.get("tp"), "fairness.confusion.tp")),
                           ("Favourable decisions, unfavourable outcome", num(conf.get("fp"), "fairness.confusion.fp")),
                           ("Unfavourable decisions, favourable outcome", num(conf.get("fn"), "fairness.confusion.fn")),
                           ("Unfavourable decisions, unfavourable outcome", num(conf.get("tn"), "fairness.confusion.tn"))]))
    return blocks


def group_accuracy_blocks(r: dict) -> list[dict]:
    """The degrees of accuracy for each group (and the selection rate), with intervals."""
    fairness = r.get("fairness")
    if not fairness:
        return []
    wanted = [m for m in ("accuracy", "selection_rate", "tpr", "fpr") if m in (fairness.get("overall") or {})]
    rows = []
    for i, g in enumerate(fairness.get("groups") or []):
        metrics, ci = g.get("metrics") or {}, g.get("ci") or {}
        base = f"fairness.groups[{i}]"
        row = [g.get("feature"), g.get("group"), num(g.get("n"), f"{base}.n")]
        for m in wanted:
            row.append(cell(num(metrics.get(m), f"{base}.metrics.{m}"), " ", interval(ci.get(m), f"{base}.ci.{m}")))
        row.append("judged" if g.get("status") == "ok" else "not judged (too few rows)"
                   if g.get("status") == "insufficient_data" else str(g.get("status") or ""))
        rows.append(row)
    titles = {"accuracy": "Accuracy", "selection_rate": "Selection rate", "tpr": "True positive rate", "fpr": "False positive rate"}
    return [_table("Results per group of the sensitive features (fairness.groups)",
                   ["Feature", "Group", "Rows", *[f"{titles[m]} [interval]" for m in wanted], "Status"], rows)]


def _threshold(rule: dict, i: int) -> list:
    t = rule.get("threshold") or {}
    parts = []
    if t.get("min") is not None:
        parts.append(["≥ ", num(t["min"], f"rules[{i}].threshold.min")])
    if t.get("max") is not None:
        parts.append(["≤ ", num(t["max"], f"rules[{i}].threshold.max")])
    if not parts:
        return ["see results.json"]
    return cell(*([p, " and "] for p in parts))[:-1]


def _rule_row(rule: dict, i: int) -> list:
    return [rule.get("id"), rule.get("metric"), rule.get("feature") or "—", _threshold(rule, i),
            cell(num(rule.get("observed"), f"rules[{i}].observed"), " ", interval(rule.get("ci"), f"rules[{i}].ci")),
            str(rule.get("status", "")).upper(), rule.get("severity")]


def rules_blocks(r: dict, *, which: str = "all") -> list[dict]:
    """The policy's rules (all, or ``performance`` / ``discrimination`` / ``data``) with their results."""
    selected = [(i, rule) for i, rule in enumerate(r.get("rules") or []) if which in ("all", rule_kind(rule))]
    if not selected:
        return []
    columns = ["Rule", "Metric", "Feature", "Threshold", "Observed [interval]", "Result", "Severity"]
    titles = {"all": "Every rule of the audit and its result (results.json: rules)",
              "performance": "Rules on the level of accuracy or performance",
              "discrimination": "Rules on potentially discriminatory impacts",
              "data": "Rules on the data"}
    return [_table(titles[which], columns, [_rule_row(rule, i) for i, rule in selected])]


def rationale_blocks(r: dict) -> list[dict]:
    """Every rule's metric, kind and rationale, as the policy (or its pack) states it."""
    rows = [[rule.get("id"), rule.get("metric"), rule.get("feature") or "—", rule_kind(rule), rule.get("rationale") or "—"]
            for rule in r.get("rules") or []]
    return [_table("Rules of the policy, with the rationale the policy gives", ["Rule", "Metric", "Feature", "Kind",
                                                                              "Rationale"], rows)] if rows else []


def findings_blocks(r: dict) -> list[dict]:
    """The rules that did not pass, first: what a reader must look at."""
    selected = [(i, rule) for i, rule in enumerate(r.get("rules") or []) if rule.get("status") != "pass"]
    if not selected:
        return [_text("Every rule of the audit passed.", title="Rules that did not pass")]
    return [_table("Rules that did not pass", ["Rule", "Metric", "Feature", "Threshold", "Observed [interval]", "Result",
                                               "Severity"], [_rule_row(rule, i) for i, rule in selected],
                   note="A warning does not gate the verdict; an inconclusive rule's interval straddles its threshold, "
                        "so the data cannot tell whether it holds.")]


def rule_kind(rule: dict) -> str:
    """``performance`` (an overall level of accuracy), ``data``, ``discrimination`` (a comparison between
    groups, or a group's performance) or ``other``."""
    from ..metrics import get_metric

    name = str(rule.get("metric") or "")
    metric = get_metric(name)
    family = metric.family if metric is not None else ""
    if name in ANNEX_PERFORMANCE_METRICS and not rule.get("feature") and not rule.get("compare"):
        return "performance"
    if name in _DATA_RULE_METRICS or family in ("data", "contract"):
        return "data"
    if family == "disparity" or (family == "group" and rule.get("feature")) or (family == "pack" and "ratio" in name):
        return "discrimination"
    return "other"


def declared_accuracy_rules(r: dict) -> list[dict]:
    """The rules that declare an overall level of accuracy or performance (Art. 15)."""
    return rules_blocks(r, which="performance")


def discrimination_blocks(r: dict) -> list[dict]:
    """Disparities between groups for the metrics the policy evaluates, with intervals."""
    fairness = r.get("fairness")
    if not fairness:
        return []
    wanted = set(fairness.get("metrics") or [])
    rows = []
    for i, d in enumerate(fairness.get("disparities") or []):
        if d.get("metric") not in wanted:
            continue
        base = f"fairness.disparities[{i}]"
        rows.append([d.get("feature"), d.get("metric"),
                     cell(num(d.get("difference"), f"{base}.difference"), " ", interval(d.get("difference_ci"), f"{base}.difference_ci")),
                     cell(num(d.get("ratio"), f"{base}.ratio"), " ", interval(d.get("ratio_ci"), f"{base}.ratio_ci")),
                     d.get("reference_group") or "—"])
    blocks = rules_blocks(r, which="discrimination")
    if rows:
        blocks.append(_table("Differences between groups for every metric the policy evaluates (fairness.disparities)",
                             ["Feature", "Metric", "Largest − smallest [interval]", "Smallest / largest [interval]",
                              "Reference group"], rows,
                             note="These figures compare outcomes between groups on the audited rows. They do not "
                                  "establish whether a difference is justified, lawful or caused by the model, nor "
                                  "that it will hold for other people or periods."))
    return blocks


def drift_blocks(r: dict) -> list[dict]:
    """Drift of the audited data from the reference data (a post-market monitoring signal)."""
    drift = r.get("drift")
    if not drift:
        return [_text("Drift was not measured in this audit (no reference data; results.json: drift is null).",
                      title="Drift from the reference data")]
    mx = drift.get("max") or {}
    rows = []
    for name in ("psi", "ks", "js"):
        m = mx.get(name)
        if m and m.get("value") is not None:
            rows.append([name, m.get("feature"), num(m.get("value"), f"drift.max.{name}.value")])
    for key, label in (("predictions", "model scores"), ("target", "outcome")):
        d = drift.get(key)
        if d and d.get("psi") is not None:
            rows.append(["psi", label, num(d.get("psi"), f"drift.{key}.psi")])
    return [_table("Drift from the reference data (results.json: drift)", ["Measure", "Column", "Value"], rows,
                   note="The largest value over the columns, then the model's scores and the outcome. A population "
                        "stability index above 0.25 is usually read as a major shift.")]


def remedies_blocks(r: dict) -> list[dict]:
    """Remedies tried and what they change, where the audit computed them."""
    remedies = r.get("remedies")
    if not remedies:
        return [_text("The audit computed no remedies (results.json: remedies is null): either no fairness rule "
                      "failed or the policy has no remedies: block.", title="Remedies examined")]
    rows = []
    for i, c in enumerate(remedies.get("candidates") or []):
        base = f"remedies.candidates[{i}]"
        acc, sel = c.get("accuracy") or {}, c.get("selection_rate") or {}
        rows.append([c.get("title") or c.get("id"), "yes" if c.get("passes") else "no",
                     cell(num(acc.get("value"), f"{base}.accuracy.value"), " ", interval(acc.get("ci"), f"{base}.accuracy.ci")),
                     cell(num(sel.get("value"), f"{base}.selection_rate.value"), " ", interval(sel.get("ci"), f"{base}.selection_rate.ci")),
                     "group-aware" if c.get("group_aware") else "—", c.get("lawful_use") or "—"])
    focus = remedies.get("focus") or {}
    return [_table("Remedies examined (results.json: remedies)",
                   ["Candidate", "Passes the rule", "Accuracy [interval]", "Selection rate [interval]",
                    "Uses group membership", "Lawful use"], rows,
                   note=(f"Computed for rule '{focus.get('rule')}'. " if focus.get("rule") else "") +
                        "A candidate is an option the audit measured, not a measure the provider has taken.")]


def reasons_blocks(r: dict) -> list[dict]:
    """The stated reasons of adverse decisions, where the audit computed them."""
    reasons = r.get("reasons")
    if not reasons:
        return []
    stab = reasons.get("stability") or {}
    prot = reasons.get("protected_stated") or {}
    return [_kv("Reasons of adverse decisions (results.json: reasons)",
                [("Adverse decisions", num(reasons.get("adverse"), "reasons.adverse")),
                 ("Explained", num(reasons.get("explained"), "reasons.explained")),
                 ("Reasons per decision", num(reasons.get("k"), "reasons.k")),
                 ("Stability of the reasons (mean Jaccard similarity)",
                  cell(num(stab.get("mean"), "reasons.stability.mean"), " ", interval(stab.get("ci"), "reasons.stability.ci"))),
                 ("Decisions stating a sensitive feature as a reason", num(prot.get("count"), "reasons.protected_stated.count"))])]


def monitoring_blocks(r: dict) -> list[dict]:
    """What the audit leaves for monitoring after deployment: the ledger entry and drift."""
    return record_blocks(r) + drift_blocks(r)


def record_blocks(r: dict) -> list[dict]:
    """The audit's own record: verdict counts, ledger entry, signature, run times."""
    prov = r.get("provenance") or {}
    summary = r.get("summary") or {}
    ledger = prov.get("ledger")
    sig = prov.get("signature")
    pol = prov.get("policy") or {}
    rows = [("Policy", (r.get("policy") or {}).get("name")), ("Policy file", pol.get("path")),
            ("SHA-256 of the policy file", _hash(pol.get("sha256"))),
            ("Verdict", str(r.get("status") or "").upper() or None),
            ("Rules", cell(num(summary.get("rules"), "summary.rules"), " in all: ", num(summary.get("pass"), "summary.pass"),
                           " passed, ", num(summary.get("fail"), "summary.fail"), " failed, ",
                           num(summary.get("warn"), "summary.warn"), " warned, ",
                           num(summary.get("inconclusive"), "summary.inconclusive"), " inconclusive")),
            ("Audit started", prov.get("started_at")), ("Audit finished", prov.get("finished_at")),
            ("Command", prov.get("command")),
            ("Ledger", ledger.get("url") if ledger else "not recorded in a ledger (provenance.ledger is null)"),
            ("Ledger entry", ledger.get("id") if ledger else None), ("Ledger batch", ledger.get("batch") if ledger else None),
            ("Signature", f"{sig.get('algorithm')}, key {sig.get('key_fingerprint')}" if sig else
             "the outputs were not signed (provenance.signature is null)")]
    return [_kv("The audit's record (results.json: summary, provenance)", rows)] + findings_blocks(r)


# ---------------------------------------------------------------- the parts a person writes


def part_blocks(r: dict, parts: dict, keys: tuple[str, ...], *, writer: str) -> list[dict]:
    """The documentation parts ``keys`` (of the pack's ``parts``): as written in the policy's
    ``documentation:`` block (echoed in ``results["documentation"]``), or a "not provided" block.

    Nothing is ever filled in for a part that is missing.
    """
    given = r.get("documentation") or {}
    blocks = []
    for key in keys:
        part = parts[key]
        value = given.get(key)
        if isinstance(value, str) and value.strip():
            paragraphs = [" ".join(p.split()) for p in value.split("\n\n") if p.strip()]
            blocks.append({"kind": "provided", "key": key, "heading": part["heading"], "paragraphs": paragraphs, "entries": []})
        elif isinstance(value, list) and any(str(x).strip() for x in value):
            blocks.append({"kind": "provided", "key": key, "heading": part["heading"], "paragraphs": [],
                           "entries": [" ".join(str(x).split()) for x in value if str(x).strip()]})
        else:
            blocks.append({"kind": "missing", "key": key, "heading": part["heading"], "help": part["help"],
                           "required": part["required"], "writer": writer})
    return blocks


def completeness(r: dict, parts: dict) -> dict:
    """Which documentation parts the results hold, and which required ones are missing."""
    given = r.get("documentation") or {}

    def present(key: str) -> bool:
        value = given.get(key)
        return (isinstance(value, str) and bool(value.strip())) or \
            (isinstance(value, list) and any(str(x).strip() for x in value))

    missing = [{"key": k, "heading": p["heading"]} for k, p in parts.items() if p["required"] and not present(k)]
    optional = [{"key": k, "heading": p["heading"]} for k, p in parts.items() if not p["required"] and not present(k)]
    known = set(parts)
    return {"provided": [k for k in parts if present(k)], "missing": missing, "optional_missing": optional,
            "unused": sorted(k for k in given if k not in known), "documentation_given": bool(given)}


def part(heading: str, help: str, required: bool = True) -> dict:
    """A part of a document only a person can write (``documentation.<key>`` in the policy)."""
    return {"heading": heading, "help": help, "required": required}


def subsection(label: str, blocks: list[dict], law: str | None = None, note: str | None = None) -> dict:
    """A subsection of a document; ``law`` is "<where>: <the law's words>" (quoted as verified)."""
    quote = dict(zip(("label", "text"), law.split(": ", 1))) if law else None
    return {"label": label, "law": quote, "note": note, "blocks": [b for b in blocks if b]}


def document_view(r: dict, pack: str, parts: dict, *, writer: str, accuracy: bool, title: str, **own) -> dict:
    """A document's view: what every regulatory document shows (the pack's framing, the
    completeness of the ``documentation:`` parts, the evidence gaps, the audit's record and its
    identifiers), with ``title`` followed by the system's name when the policy gives one, and the
    document's ``own`` keys (its sections, intro, notices)."""
    prov = r.get("provenance") or {}
    given = r.get("documentation") or {}
    name = given.get("system_name") if isinstance(given.get("system_name"), str) else None
    return {
        "title": title + (f": {name}" if name else ""),
        "framing": next((p for p in r.get("packs") or [] if p.get("name") == pack), {}).get("framing", ""),
        "writer": writer,
        "status": completeness(r, parts),
        "gaps": evidence_gaps(r, accuracy=accuracy),
        "record": record_blocks(r),
        "finished_at": prov.get("finished_at", ""),
        "version": (prov.get("versions") or {}).get("auditkit", ""),
        "policy_name": (r.get("policy") or {}).get("name", ""),
        "data_sha256": (prov.get("data") or {}).get("sha256") or "—",
        **own,
    }


def missing_part_warnings(pack: str, document: str, documentation, parts: dict, *, writer: str) -> tuple[str, ...]:
    """One warning per required part the policy's ``documentation:`` lacks (the pack's ``warnings`` hook)."""
    status = completeness({"documentation": dict(documentation or {})}, parts)
    return tuple(f"{pack}: {document} has no '{m['heading']}': the {writer} must write it under "
                 f"documentation.{m['key']} in the policy (the document marks it Not provided)"
                 for m in status["missing"])


def evidence_gaps(r: dict, *, accuracy: bool) -> list[str]:
    """Evidence the audit could not give, and what would give it (shown beside the missing parts)."""
    gaps = []
    if not (r.get("data_bias") or {}).get("representativeness"):
        gaps.append("Representativeness against a reference population: the policy declares none; add a population: "
                    "block (source and shares of each sensitive feature).")
    if not r.get("contract"):
        gaps.append("Data quality against a contract: the policy has no data.contract.")
    if not r.get("fairness"):
        gaps.append("Validation and testing of the model's outputs: the audit evaluated no model.")
    elif (r.get("data") or {}).get("label_status") not in (None, "present"):
        gaps.append("Accuracy and error rates: the outcomes (labels) of the audited rows are not available yet.")
    if accuracy and not rules_blocks(r, which="performance"):
        gaps.append("A declared level of accuracy (Art. 15(3)): no rule states one; add a rule such as "
                    "{id: declared-accuracy, metric: accuracy, min: <level>, decide_on: ci}.")
    for rule in r.get("rules") or []:
        if rule.get("status") == "error":
            gaps.append(f"Rule '{rule.get('id')}' could not be judged: {rule.get('message') or 'see results.json'}")
    return gaps


def render(view: dict, pack: str, *, templates=None) -> dict[str, str]:
    """The HTML and Markdown of one document view, rendered in the report's sandbox."""
    from ..report.templates import environment

    html = environment(templates=templates).get_template("regulatory/document.html.j2").render(v=view)
    md = environment(templates=templates, markdown=True).get_template("regulatory/document.md.j2").render(v=view)
    return {"html": html, "md": md}
