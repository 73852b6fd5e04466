"""Stage 7: fairness of the candidate, and its paired comparison with the champion."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

from ..engines import FairnessOptions
from ..errors import PolicyError

__all__ = ["FairnessOutcome", "assess"]


@dataclass(frozen=True)
class FairnessOutcome:
    fairness: object | None      # FairnessResult of the candidate
    comparison: object | None    # FairnessComparison with the champion


def assess(plan, data, predicted) -> FairnessOutcome:
    """The candidate's fairness result (None without predictions) and the champion comparison
    (None with labels pending: the candidate's result then holds only label-free metrics)."""
    if predicted.candidate is None:
        return FairnessOutcome(None, None)
    policy = plan.policy
    options = FairnessOptions.from_policy(policy, plan.seed)
    engine = plan.engine
    with _reference_groups_of(policy):
        plan.say(f"fairness metrics with {options.bootstrap:,} bootstrap resamples" if options.bootstrap
                 else "fairness metrics")
        if predicted.champion is None or getattr(plan, "labels", "present") == "pending":
            # With labels pending the paired comparison with the champion waits for the labels.
            return FairnessOutcome(engine.fairness(predicted.target, predicted.candidate, data, policy, options), None)
        plan.say("comparing the candidate with the champion (paired bootstrap)")
        # The candidate keeps its scores either way, so its own result is what it would be
        # without a champion; score-metric changes need both models' scores.
        comparison = engine.compare(predicted.target, predicted.candidate, predicted.champion, data, policy, options)
        return FairnessOutcome(comparison.candidate, comparison)


@contextmanager
def _reference_groups_of(policy):
    """A reference group the data does not have is a mistake in the policy: name its key."""
    from ..fairness import UnknownReferenceGroup

    try:
        yield
    except UnknownReferenceGroup as exc:
        raise PolicyError(f"{policy.source or 'policy'}: key 'fairness.reference_groups.{exc.feature}': {exc.message}") from None
