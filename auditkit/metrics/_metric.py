"""What a metric is: one frozen definition, and what a rule sees of it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

__all__ = ["FAMILIES", "Judgement", "Metric", "Observation"]

#: Families of metrics, by where their numbers come from.
FAMILIES = {
    "group": "a per-group metric",                 # one value per group (and overall), from the model's outputs
    "disparity": "a disparity between groups",     # <metric>_difference / <metric>_ratio across a feature's groups
    "contract": "a data metric",                   # from the data contract
    "drift": "a drift metric",                     # the audited data against the reference data
    "data": "a data metric",                       # the data itself, per sensitive group (no model)
    "explanation": "an explanation metric",        # from SHAP values
    "reasons": "a reasons metric",                 # from the stated reasons of adverse decisions (reasons:)
    "pack": "a metric of a policy pack",           # defined by a pack (auditkit.packs)
}


@dataclass(frozen=True)
class Observation:
    """The measured value a rule is judged on."""

    value: float | None
    ci: tuple[float, float] | None = None
    reason: str | None = None
    group: str | None = None


@dataclass(frozen=True)
class Judgement:
    """A metric that judges a rule itself (its own tests, message and details), as ``impact_ratio`` does."""

    observation: Observation
    decision: str  # pass | fail | inconclusive | error
    decided_on: str
    message: str
    group: str | None = None
    details: tuple[dict, ...] = ()


@dataclass(frozen=True)
class Metric:
    """One metric a rule can judge, defined once.

    Attributes
    ----------
    name : str
        The name a rule's ``metric:`` gives.
    family : str
        One of :data:`FAMILIES`.
    summary : str
        The glossary text: what the number means, in plain words.
    formula : str
        How it is computed, from which counts or scores (shown in docs/metrics.md).
    direction : int
        +1 when a higher value is better, -1 when lower is better, 0 when neither
        (selection rates, averages). Champion comparisons use it for ``max_regression``.
    feature : {"group", "column", "input", None}
        What a rule's ``feature:`` names: a sensitive feature or intersection, any data
        column, a model input column, or nothing (the metric takes no feature).
    feature_required : bool
        A rule on this metric must give ``feature:``.
    needs : frozenset of str
        What the policy must provide: ``"model"`` (a model or prediction columns),
        ``"model_file"`` (a model that can be run and explained), ``"contract"``,
        ``"reference"`` (reference data), ``"labels"`` (the true outcomes: the target
        column's values; an audit with labels pending judges the rule when they arrive).
    evidence : str
        The stage result a rule reads (``fairness``, ``data_bias``, ``drift``, ``contract``,
        ``explanations`` or ``pack:<name>``); engines declare which of these they compute.
    sentence : callable
        ``sentence(feature, bound) -> str``: what a rule on this metric checks, e.g. "The
        population stability index of 'age' against the reference data must be at most 0.2."
    observe : callable, optional
        ``observe(evidence, rule)`` -> an :class:`Observation`, or for a per-group rule a list of
        ``(group, Observation)``; unavailable evidence is an Observation with a ``reason``.
    judge : callable, optional
        ``judge(evidence, rule)`` -> a :class:`Judgement`, for metrics that decide with tests of
        their own instead of comparing one value with the rule's bounds.
    describe : callable, optional
        ``describe(rule) -> str`` replacing :attr:`sentence` when a rule's own options change
        what it checks (``impact_ratio``'s tests).
    message : callable, optional
        ``message(rule, observation, decision, decided_on, group)`` -> str replacing the standard
        verdict sentence (return None to keep it).
    rule_options : mapping
        Extra rule keys this metric accepts, each with its validator
        ``validate(reader, item, key, rule_id, low, high, decide_on) -> value``.
    comparable : bool
        A candidate can be compared with a champion on it (``compare: champion``).
    interval : {"bootstrap", "analytic", "none"}
        Where the interval a ``decide_on: ci`` rule uses comes from; "bootstrap" needs
        ``fairness.bootstrap`` > 0.
    pack : str, optional
        The pack that defines the metric.
    """

    name: str
    family: str
    summary: str
    sentence: Callable[[str | None, str], str]
    formula: str = ""
    direction: int = 0
    feature: str | None = None
    feature_required: bool = False
    needs: frozenset[str] = frozenset()
    evidence: str = "fairness"
    observe: Callable[[Any, Any], Any] | None = None
    judge: Callable[[Any, Any], Judgement] | None = None
    describe: Callable[[Any], str] | None = None
    message: Callable[..., str | None] | None = None
    rule_options: Mapping[str, Callable[..., Any]] = field(default_factory=dict)
    comparable: bool = False
    interval: str = "bootstrap"
    pack: str | None = None

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ValueError(f"metric {self.name!r}: unknown family {self.family!r}")
        if (self.observe is None) == (self.judge is None):
            raise ValueError(f"metric {self.name!r}: give exactly one of observe or judge")
        if self.feature not in ("group", "column", "input", None):
            raise ValueError(f"metric {self.name!r}: feature must be group, column, input or None")

    @property
    def kind(self) -> str:
        """How the metric is described in messages ("a drift metric", "a per-group metric", ...)."""
        return FAMILIES[self.family]

    @property
    def needs_model(self) -> bool:
        return "model" in self.needs or "model_file" in self.needs

    @property
    def needs_labels(self) -> bool:
        """Its formula uses the true outcomes (the target column's values)."""
        return "labels" in self.needs
