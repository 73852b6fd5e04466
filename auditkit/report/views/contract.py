"""The data contract section: the contract held, or every violation with examples."""

from __future__ import annotations

from pathlib import Path

from ..formatting import fmt_number

__all__ = ["contract_view"]


def contract_view(results: dict) -> dict | None:
    """The contract's outcome; None when the policy has no contract."""
    contract = results.get("contract")
    if contract is None:
        return None
    return {
        "passed": contract["passed"],
        "name": Path(contract["contract"]).name if contract.get("contract") else "contract",
        "rows": fmt_number(contract.get("rows")),
        "total": fmt_number(contract.get("total_failures", 0)),
        "columns_checked": len(contract.get("columns_checked", [])),
        "not_checked": [str(c) for c in contract.get("not_checked") or []],  # the target, while labels are pending
        "violations": [{"column": v.get("column") or "(table)", "check": v["check"],
                        "count": fmt_number(v["failure_count"]),
                        "examples": ", ".join("∅" if e is None else str(e) for e in v.get("examples", []))}
                       for v in contract.get("violations", [])],
    }
