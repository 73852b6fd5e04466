"""Stage 8: the evidence of policy packs (``auditkit.packs`` plugins), computed from counts the
engine makes, so every pack runs on every engine that computes packs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, Callable, Mapping, Sequence

from ..errors import DataError

__all__ = ["EnginePackInputs", "pack_evidence"]


@dataclass(frozen=True)
class EnginePackInputs:
    """What a pack's ``evidence`` hook may read: policy facts and counts from the engine."""

    engine: Any
    data: Any
    run: Any                                   # the candidate's ModelRun
    task: str
    sensitive_features: tuple[str, ...]
    intersections: tuple[tuple[str, ...], ...]
    min_group_size: int
    confidence: float
    today: date
    policy_rules: tuple
    data_file: str                             # the data file's name, as a published summary states it
    say: Callable[[str], None]

    @property
    def has_scores(self) -> bool:
        return self.run is not None and self.run.has_scores

    def group_counts(self, columns: Sequence[str], *, flag="decision"):
        """Rows and flagged rows per combination of the columns' values (see ``Engine.group_counts``).

        ``flag`` is ``"decision"`` (the model's positive decision) or ``("score_above", x)``.
        """
        return self.engine.group_counts(self.data, self.run, list(columns), flag=flag)

    def score_median(self) -> float:
        """The exact median of the model's scores over all audited rows."""
        return self.engine.score_median(self.run)


def pack_evidence(plan, data, predicted) -> Mapping[str, Any]:
    """Each pack's evidence, by pack name (packs that have nothing to judge are left out)."""
    from ..packs import plugins

    policy = plan.policy
    wanted = []
    for name, plugin in plugins().items():
        values = policy.pack_settings.get(name)  # None when the policy does not extend the pack
        if plugin.wants_evidence(values, policy.rules):
            wanted.append((name, plugin, values if values is not None else plugin.default_settings()))
    if not wanted or predicted.candidate is None:
        return {}
    if predicted.target.task != "classification":
        names = ", ".join(name for name, _, _ in wanted)
        raise DataError(f"{policy.data.path}: the {names} pack's audit needs selections (a classification target); "
                        f"'{policy.data.target}' is numeric, so remove those rules or set data.positive_label.")
    inputs = EnginePackInputs(
        engine=plan.engine, data=data, run=predicted.candidate, task=predicted.target.task,
        sensitive_features=tuple(policy.sensitive_features), intersections=tuple(policy.intersections),
        min_group_size=policy.fairness.min_group_size, confidence=policy.fairness.confidence,
        today=plan.today or datetime.now(timezone.utc).date(), policy_rules=tuple(policy.rules),
        data_file=policy.data.path.name, say=plan.say)
    out = {}
    for name, plugin, values in wanted:
        evidence = plugin.evidence(inputs, values)
        if evidence is not None:
            out[name] = evidence
    return out
