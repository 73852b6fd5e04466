"""The NYC Local Law 144 bias audit tables (automated employment decision tools).

For sex, race/ethnicity and their intersection, per category: the number of individuals,
the number selected (selection mode: the tool's decision) or scoring above the median score
of the whole sample (scoring mode), that rate, and the impact ratio — the category's rate
divided by the highest rate among the categories that are not excluded.

* Unknown category: a missing value, or a value listed in ``unknown_values``. Such
  individuals are left out of that table and counted (for the intersection: unknown in
  either). They still count in the sample's median score and in the 2% base.
* The 2% rule: a category holding less than ``exclude_below`` of all audited rows is left
  out of the impact ratios (it is neither judged nor the reference); its number of
  individuals and rate are still reported, with the justification.

Everything is computed from one count table: individuals and hits per combination of the sex
and race/ethnicity values (:meth:`auditkit.packs.PackInputs.group_counts`). The result is
plain data; :mod:`.documents` renders the standalone HTML and CSV. See ``docs/packs.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["LL144Result", "assess_ll144", "ll144_from_counts"]

TABLES = (("sex", "Sex"), ("race_ethnicity", "Race/Ethnicity"), ("intersectional", "Intersectional (sex and race/ethnicity)"))
MODES = ("selection", "scoring")


@dataclass(frozen=True)
class LL144Result:
    """The audit tables and the facts a published summary states. ``to_dict()`` goes in results.json."""

    document: dict

    def to_dict(self) -> dict:
        import copy

        return copy.deepcopy(self.document)

    @property
    def lowest_impact_ratio(self) -> dict | None:
        return self.document.get("lowest_impact_ratio")


def _label(value) -> str | None:
    """The category label, or None when the value is missing."""
    import pandas as pd

    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def ll144_from_counts(table: "pd.DataFrame", *, mode: str, median: float | None = None, unknown_values=(),
                      exclude_below: float = 0.02, facts: dict | None = None) -> LL144Result:
    """Compute the LL144 bias audit tables from a count table.

    Parameters
    ----------
    table : DataFrame
        The sex column, the race/ethnicity column (in that order), ``n`` (individuals) and
        ``hits`` (selected, or scoring above ``median``), one row per combination of values,
        missing values included.
    mode : {"selection", "scoring"}
    median : float, optional
        The median score of the whole sample (scoring mode).
    unknown_values : sequence of str
        Values that mean "unknown" besides missing values.
    exclude_below : float
        Share of all rows under which a category is left out of the impact ratios (0 keeps all).
    facts : dict, optional
        Audit date, data source and the like, copied into the result.

    Raises
    ------
    DataError
        The table counts no row.
    """
    from ...errors import DataError

    if mode not in MODES:
        raise ValueError(f"mode must be selection or scoring, not {mode!r}")
    unknown = {str(u) for u in unknown_values}
    sex_column, race_column = [c for c in table.columns if c not in ("n", "hits")]
    total = int(table["n"].sum())
    if total == 0:
        raise DataError("the LL144 bias audit needs at least one row")
    counts: dict[str, dict[tuple, list[int]]] = {name: {} for name, _ in TABLES}
    unknown_counts = {name: 0 for name, _ in TABLES}
    for sex_value, race_value, n, hits in zip(table[sex_column], table[race_column], table["n"], table["hits"]):
        sex, race = _label(sex_value), _label(race_value)
        sex = None if sex in unknown else sex
        race = None if race in unknown else race
        keys = {"sex": (sex,) if sex is not None else None, "race_ethnicity": (race,) if race is not None else None,
                "intersectional": (sex, race) if sex is not None and race is not None else None}
        for name, key in keys.items():
            if key is None:
                unknown_counts[name] += int(n)
                continue
            cell = counts[name].setdefault(key, [0, 0])
            cell[0] += int(n)
            cell[1] += int(hits)
    tables = []
    lowest = None
    for name, title in TABLES:
        rows = []
        for key in sorted(counts[name]):
            n, hits = counts[name][key]
            share = n / total
            rows.append({"sex": key[0] if name != "race_ethnicity" else None,
                         "race_ethnicity": key[-1] if name != "sex" else None,
                         "category": " & ".join(key), "n": n, "selected": hits, "rate": hits / n, "share": share,
                         "excluded": share < exclude_below, "impact_ratio": None, "is_reference": False})
        included = [r for r in rows if not r["excluded"]]
        top = max(included, key=lambda r: r["rate"]) if included else None
        reason = None
        if top is None:
            reason = "every category is excluded by the 2% rule"
        elif top["rate"] == 0:
            reason = "no included category has any " + ("selection" if mode == "selection" else "score above the median")
        else:
            top["is_reference"] = True
            for r in included:
                r["impact_ratio"] = r["rate"] / top["rate"]
                if lowest is None or r["impact_ratio"] < lowest["value"]:
                    lowest = {"value": r["impact_ratio"], "table": name, "category": r["category"]}
        tables.append({"name": name, "title": title, "categories": rows, "unknown": unknown_counts[name],
                       "excluded": [r["category"] for r in rows if r["excluded"]],
                       "reference": top["category"] if top is not None and reason is None else None,
                       "reason": reason})
    document = {
        "mode": mode,
        "rate_name": "selection rate" if mode == "selection" else "scoring rate",
        "outcome_name": "selected" if mode == "selection" else "scoring above the median",
        "median_score": median,
        "total": total,
        "exclude_below": exclude_below,
        "unknown_values": sorted(unknown),
        "tables": tables,
        "lowest_impact_ratio": lowest,
        **(facts or {}),
    }
    return LL144Result(document=document)


def assess_ll144(sex, race_ethnicity, *, mode: str, selected=None, score=None, unknown_values=(),
                 exclude_below: float = 0.02, facts: dict | None = None) -> LL144Result:
    """:func:`ll144_from_counts` of rows in memory.

    Parameters
    ----------
    sex, race_ethnicity : array-like
        Each individual's categories (one value per row).
    mode : {"selection", "scoring"}
    selected : array-like of 0/1, optional
        The tool's decisions (selection mode).
    score : array-like of float, optional
        The tool's scores (scoring mode); every row must have one.
    unknown_values, exclude_below, facts
        As :func:`ll144_from_counts`.
    """
    import numpy as np
    import pandas as pd

    from ...errors import DataError
    from .._frame import FrameInputs

    frame = pd.DataFrame({"sex": np.asarray(sex, dtype=object), "race_ethnicity": np.asarray(race_ethnicity, dtype=object)})
    median = None
    if mode == "scoring":
        values = np.asarray(score, dtype=float)
        missing = int(np.isnan(values).sum())
        if missing:
            raise DataError(f"the LL144 scoring rate needs a score for every individual; {missing} of {len(values)} rows have none")
        inputs = FrameInputs(frame=frame, scores=values)
        median = inputs.score_median()
        table = inputs.group_counts(["sex", "race_ethnicity"], flag=("score_above", median))
    else:
        table = FrameInputs(frame=frame, decisions=selected).group_counts(["sex", "race_ethnicity"])
    return ll144_from_counts(table, mode=mode, median=median, unknown_values=unknown_values,
                             exclude_below=exclude_below, facts=facts)
