"""PackInputs over rows held in memory: a pandas frame and the model's decisions and scores.

The count tables are a ``groupby`` with ``dropna=False``, exactly the format the audit's
engines give (:meth:`auditkit.packs.PackInputs.group_counts`). The packs' row-level
conveniences and their tests use it; an audit's evidence comes from its engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, Any, Sequence

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["FrameInputs"]


def _today() -> date:
    return datetime.now(timezone.utc).date()


@dataclass(frozen=True)
class FrameInputs:
    """:class:`~auditkit.packs.PackInputs` of a DataFrame.

    Parameters
    ----------
    frame : DataFrame
        The audited rows (at least the columns a pack counts).
    decisions : array-like of 0/1, optional
        The model's decision per row.
    scores : array-like of float, optional
        The model's score per row.
    """

    frame: "pd.DataFrame"
    decisions: Any = None
    scores: Any = None
    task: str = "classification"
    sensitive_features: tuple[str, ...] = ()
    intersections: tuple[tuple[str, ...], ...] = ()
    min_group_size: int = 30
    confidence: float = 0.95
    today: date = field(default_factory=_today)
    data_file: str = ""
    policy_rules: tuple = ()

    @property
    def has_scores(self) -> bool:
        return self.scores is not None

    def group_counts(self, columns: Sequence[str], *, flag: str | tuple[str, float] = "decision") -> "pd.DataFrame":
        """Rows (``n``) and flagged rows (``hits``) per combination of the columns' values."""
        import numpy as np
        import pandas as pd

        if flag == "decision":
            flags = np.asarray(self.decisions).astype(np.int64)
        elif isinstance(flag, tuple) and len(flag) == 2 and flag[0] == "score_above":
            flags = (np.asarray(self.scores, dtype=float) > flag[1]).astype(np.int64)
        else:
            raise ValueError(f"flag must be 'decision' or ('score_above', x), not {flag!r}")
        keys = self.frame[list(columns)].reset_index(drop=True)
        grouped = pd.Series(flags).groupby([keys[c] for c in columns], dropna=False, sort=False, observed=True)
        table = pd.DataFrame({"n": grouped.size(), "hits": grouped.sum()}).reset_index()
        return table.astype({"n": np.int64, "hits": np.int64})

    def score_median(self) -> float:
        import numpy as np

        return float(np.median(np.asarray(self.scores, dtype=float)))
