"""Drift against the reference data: every column's shift, largest first, with charts of the
columns that moved or that a rule names."""

from __future__ import annotations

from ...metrics import metric_names
from .. import charts
from ..formatting import fmt_number

__all__ = ["drift_terms", "drift_view"]

#: At most this many columns are charted.
CHARTED = 6


def drift_view(results: dict) -> dict | None:
    """The drift section; None without reference data."""
    drift = results.get("drift")
    if not drift:
        return None
    drift_metrics = metric_names(family="drift")
    rules = results.get("rules", [])
    features = sorted(drift.get("features", []), key=lambda f: -(f.get("psi") or 0))
    named = {r.get("feature") for r in rules if r["metric"] in drift_metrics and r.get("feature")}
    to_chart = [f for f in features if (f.get("psi") or 0) >= 0.1 or f["feature"] in named][:CHARTED]
    extra = [x for x in (drift.get("target"), drift.get("predictions")) if x]
    charts_out = []
    for f in to_chart + extra:
        uri = charts.drift_chart(f)
        if uri:
            charts_out.append({"feature": f["feature"], "chart": uri,
                               "alt": f"Share of rows per bin of {f['feature']} in the reference and the audited data."})
    extra_rows = []
    if drift.get("target"):
        extra_rows.append({**_row(drift["target"]), "feature": f"{drift['target']['feature']} (target)"})
    if drift.get("predictions"):
        extra_rows.append({**_row(drift["predictions"]), "feature": "model output (predictions)"})
    return {"features": [_row(f) for f in features], "extra": extra_rows, "charts": charts_out,
            "bins": drift.get("bins")}


def drift_terms(results: dict) -> set[str]:
    """With reference data: the drift metrics."""
    return set(metric_names(family="drift")) if results.get("drift") else set()


def _row(feature: dict) -> dict:
    psi = feature.get("psi")
    level = "major" if psi is not None and psi > 0.25 else "moderate" if psi is not None and psi >= 0.1 else "small"
    return {"feature": feature["feature"], "kind": feature.get("kind"), "psi": fmt_number(psi),
            "ks": fmt_number(feature.get("ks")), "js": fmt_number(feature.get("js")),
            "unseen": feature.get("unseen_categories") or 0, "level": level}
