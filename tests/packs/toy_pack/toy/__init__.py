"""The ``toy`` pack, for tests only: the largest gap in selection rate between a column's groups.

Everything it adds lives in this folder: its pack.yaml, this plugin (one metric, its evidence
from a count table, a report section and one extra document) and templates/report.html.j2.
It uses auditkit's public interface only, as a pack in another distribution would.
"""

from __future__ import annotations

from dataclasses import dataclass

from auditkit.packs import PackPlugin

__all__ = ["ToyGap", "plugin"]


@dataclass(frozen=True)
class ToyGap:
    """Selection rate per group of one column, and the largest minus the smallest."""

    column: str
    groups: tuple[tuple[str, int, int], ...]  # (group, rows, selected)

    @property
    def gap(self) -> float | None:
        rates = [selected / n for _, n, selected in self.groups]
        return max(rates) - min(rates) if len(rates) > 1 else None

    def to_dict(self) -> dict:
        return {"column": self.column, "gap": self.gap,
                "groups": [{"group": g, "n": n, "selected": s, "rate": s / n} for g, n, s in self.groups]}


def gap_sentence(feature, bound: str) -> str:
    return f"The largest minus the smallest selection rate over the groups of the toy pack's column must be {bound}."


def observe_gap(evidence, rule):
    from auditkit.metrics import Observation

    toy = evidence.pack("toy")
    if toy is None:
        return Observation(None, reason="the toy pack did not run")
    gap = toy.gap
    return Observation(gap, reason=None if gap is not None else "fewer than two groups")


def section_view(results: dict) -> dict | None:
    toy = results.get("toy")
    if not toy:
        return None
    return {"column": toy["column"], "gap": f"{toy['gap']:.4f}",
            "groups": [{"group": g["group"], "rate": f"{g['rate']:.4f}"} for g in toy["groups"]]}


class Toy(PackPlugin):
    results_key = "toy"
    document_names = frozenset({"toy.txt"})

    def metrics(self):
        from auditkit.metrics import Metric

        return (Metric(name="toy_selection_gap", family="pack", summary="The toy pack's largest gap in selection rate.",
                       sentence=gap_sentence, formula="max over groups - min over groups of the selection rate",
                       direction=-1, needs=frozenset({"model"}), evidence="pack:toy", observe=observe_gap,
                       interval="none", pack="toy"),)

    def evidence(self, inputs, values):
        import pandas as pd

        column = values["column"]
        table = inputs.group_counts([column], flag="decision")
        groups: dict[str, list[int]] = {}
        for value, n, hits in zip(table[column], table["n"], table["hits"]):
            cell = groups.setdefault("(missing)" if pd.isna(value) else str(value), [0, 0])
            cell[0] += int(n)
            cell[1] += int(hits)
        return ToyGap(column=column, groups=tuple((g, n, s) for g, (n, s) in sorted(groups.items())))

    def report_sections(self):
        from auditkit.report.sections import Section

        return (Section(id="toy", title="Toy selection gap", template="packs/toy/report.html.j2", build=section_view),)

    def documents(self, results, templates):
        toy = results.get("toy")
        if not toy:
            return {}
        return {"toy.txt": f"toy selection gap over {toy['column']}: {toy['gap']:.6f}\n"}


plugin = Toy()
