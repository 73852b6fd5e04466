"""What ``audit remedy`` writes: the candidates table (CSV and JSON), the chosen candidate as a
model file auditkit loads safely (``.skops``), and a policy snippet to audit it again."""

from __future__ import annotations

import json

from ..report.formatting import fmt_signed
from ..sanitize import csv_cell

__all__ = ["remedy_files"]


def remedy_files(result, chosen, *, policy_name: str) -> dict[str, str | bytes]:
    """The files of ``audit remedy`` by name: ``remedies.csv``, ``remedies.json`` and, for a
    chosen writable candidate, ``<id>.skops`` and ``remedy.yaml``."""
    files: dict[str, str | bytes] = {
        "remedies.csv": _csv(result),
        "remedies.json": json.dumps(result.to_dict(), indent=2, allow_nan=False) + "\n",
    }
    if chosen is not None:
        import skops.io as sio

        model_name = f"{chosen.id}.skops"
        files[model_name] = sio.dumps(result.models[chosen.id])
        files["remedy.yaml"] = _snippet(result, chosen, model_name, policy_name)
    return files


def _csv(result) -> str:
    frame = result.to_frame().reset_index()
    for column in frame.columns:
        frame[column] = frame[column].map(csv_cell)
    return frame.to_csv(index=False)


def _snippet(result, chosen, model_name: str, policy_name: str) -> str:
    """A policy fragment naming the remedied model, with the figures it was chosen on."""
    passing = ", ".join(v.id for v in chosen.rules if not v.gating) or "none"
    threshold = chosen.parameters.get("threshold") if chosen.kind == "single_threshold" else None
    lines = [
        f"# Remedy for policy {_comment(policy_name)}: {_comment(chosen.title)} ({chosen.id}).",
        f"# Judged by cross-fitting over {result.rows} audit rows ({result.folds} folds, seed {result.seed}):",
        f"#   rules that would no longer block: {_comment(passing)}",
        f"#   accuracy change {fmt_signed(chosen.accuracy_change.value, chosen.accuracy_change.ci)}, "
        f"selection rate change {fmt_signed(chosen.selection_rate_change.value, chosen.selection_rate_change.ci)}",
        "# Nothing was applied: deploying it is a decision for people, who are accountable for it.",
        f"# {_comment(chosen.lawful_use)}",
        _fitted_on(chosen),
        f"#   audit check audit.yaml --model {model_name} --data <fresh data>",
    ]
    if threshold is not None:
        lines.append(f"# Equivalent without the model file: keep the model and set model.threshold: {threshold:.6g}")
    lines += ["model:", f"  path: {model_name}", f"  threshold: {float(chosen.parameters['decision_threshold']):.6g}"]
    return "\n".join(lines) + "\n"


def _fitted_on(chosen) -> str:
    if chosen.kind == "reweigh":
        return ("# The model was refitted on the training data, not on the audit rows; audit it again on the "
                "audit data or fresh data, e.g.")
    return "# Its thresholds were fitted on all audit rows: audit it again on data it has not seen, e.g."


def _comment(text) -> str:
    """Text safe inside a YAML comment: one line."""
    return " ".join(str(text).split())
