"""The ``ll144_impact_ratio`` metric: the lowest impact ratio over the three LL144 tables.

LL144 sets no threshold, so the pack's rule on it is a warning that flags low ratios for
review; its message says so.
"""

from __future__ import annotations

__all__ = ["lowest_ratio_message", "lowest_ratio_sentence", "observe_lowest_ratio"]

PACK = "nyc-ll144"
TABLE_NAMES = {"sex": "sex", "race_ethnicity": "race/ethnicity", "intersectional": "intersectional"}


def lowest_ratio_sentence(feature: str | None, bound: str) -> str:
    return f"In the NYC LL144 bias audit tables, every impact ratio must be {bound}."


def observe_lowest_ratio(evidence, rule):
    """The lowest impact ratio of the tables, with the table and category it belongs to as its group."""
    from ...metrics import Observation

    ll144 = evidence.pack(PACK)
    if ll144 is None:
        return Observation(None, reason="the LL144 bias audit was not computed (extend the nyc-ll144 pack)")
    lowest = ll144.lowest_impact_ratio
    if lowest is None:
        return Observation(None, reason="no impact ratio is defined in the LL144 tables")
    return Observation(lowest["value"], group=f"{TABLE_NAMES[lowest['table']]}: {lowest['category']}")


def lowest_ratio_message(rule, observation, decision: str, decided_on: str, group: str | None) -> str | None:
    """The verdict sentence of a passing or failing rule (None: the standard sentence)."""
    from ...metrics import format_value as _fmt

    if decision not in ("pass", "fail"):
        return None
    bound = _fmt(rule.min) if rule.min is not None else "the limit"
    where = f" ({group})" if group else ""
    verdict = f"below the review flag of {bound}" if decision == "fail" else f"no category below {bound}"
    return (f"The lowest impact ratio in the LL144 tables{where} is {_fmt(observation.value)}: {verdict}. "
            "LL144 requires the ratios to be published and sets no threshold of its own.")
