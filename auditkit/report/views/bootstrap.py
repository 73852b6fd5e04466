"""The bootstrap settings as the fairness and champion sections show them."""

from __future__ import annotations

__all__ = ["bootstrap_view"]


def bootstrap_view(bootstrap: dict | None) -> dict:
    """The bootstrap settings with every key the templates read (a results file may omit them)."""
    bootstrap = bootstrap or {}
    return {"resamples": bootstrap.get("resamples") or 0, "confidence": bootstrap.get("confidence"),
            "seed": bootstrap.get("seed"), "method": bootstrap.get("method")}
