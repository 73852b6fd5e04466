"""``docs/metrics.md``: the metric table, written from the registry (``python -m auditkit.metrics``)."""

from __future__ import annotations

from ._registry import metrics

__all__ = ["metrics_markdown"]

_FEATURE = {"group": "sensitive feature or intersection", "column": "data column", "input": "model input column",
            None: "—"}
_DIRECTION = {1: "higher", -1: "lower", 0: "—"}
_FAMILY_TITLES = (
    ("group", "Per group and overall (fairness)"),
    ("disparity", "Disparities between groups"),
    ("data", "Bias in the data itself"),
    ("contract", "Data contract"),
    ("drift", "Drift against the reference data"),
    ("explanation", "Explanations"),
    ("reasons", "Reasons for adverse decisions (with a `reasons:` block)"),
    ("pack", "Policy packs"),
)


def metrics_markdown() -> str:
    """The Markdown reference of every registered metric, by family."""
    lines = [
        "# Metrics",
        "",
        "Every metric a rule can name (`metric:` in a policy rule), generated from the metric registry",
        "(`auditkit/metrics/`) by `python -m auditkit.metrics > docs/metrics.md`; a test keeps this page",
        "in step with the code. *Better* says which direction a champion comparison's `max_regression`",
        "treats as worse. *Feature* is what a rule's `feature:` names (required where marked). *Needs*",
        "`labels`: the metric reads the true outcomes, so an audit of a batch whose labels have not arrived",
        "(`run_audit(..., labels=\"pending\")`) reports its rules as `pending` (not gating) until they do.",
        "",
    ]
    everything = metrics()
    for family, title in _FAMILY_TITLES:
        chosen = [m for m in everything if m.family == family]
        if not chosen:
            continue
        lines += [f"## {title}", "", "| metric | meaning | formula | better | feature | needs |", "|---|---|---|---|---|---|"]
        for m in chosen:
            feature = _FEATURE[m.feature] + (" (required)" if m.feature_required else "")
            needs = ", ".join(sorted(m.needs)) or "—"
            pack = f" (pack `{m.pack}`)" if m.pack else ""
            lines.append(f"| `{m.name}`{pack} | {_cell(m.summary)} | {_cell(m.formula) or '—'} | "
                         f"{_DIRECTION[m.direction]} | {feature} | {needs} |")
        lines.append("")
    return "\n".join(lines)


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")
