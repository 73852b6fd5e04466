"""Stage 9: SHAP explanations of the candidate model."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import ExplanationError

__all__ = ["ExplanationOutcome", "explain_candidate", "flagged_proxies"]


@dataclass(frozen=True)
class ExplanationOutcome:
    result: object | None                   # ExplanationResult when explanations ran
    status: dict = field(default_factory=dict)  # {"status": "ok" | "skipped" | "error", "reason": ...}
    sample_rows: int | None = None          # explained on a stratified sample of this size ...
    population: int | None = None           # ... drawn from this many rows

    @property
    def reason(self) -> str | None:
        """Why there are no explanations (skipped or failed), for the rules that need them."""
        return self.status.get("reason")


def explain_candidate(plan, data, predicted) -> ExplanationOutcome:
    """Explain the candidate, or say why not (never raises for an explanation that fails)."""
    policy = plan.policy
    run = predicted.candidate
    skipped = _skip_reason(plan, run)
    if skipped is not None:
        return ExplanationOutcome(None, skipped)
    rows = plan.engine.explanation_rows(data, run, policy, rows=policy.explain.max_rows, seed=plan.seed)
    from ..explanations import explain

    if rows.sample_rows is not None:
        plan.say(f"SHAP explanations on a stratified sample of {rows.sample_rows:,} rows")
    else:
        plan.say(f"SHAP explanations (up to {policy.explain.max_rows:,} rows)")
    try:
        result = explain(run.loaded.estimator, rows.X, sensitive_features=rows.sensitive,
                         intersections=policy.intersections,
                         positive_class=positive_class(run.loaded, predicted.target.positive_label),
                         max_rows=policy.explain.max_rows, seed=plan.seed, algorithm=policy.explain.algorithm)
    except ExplanationError as exc:
        return ExplanationOutcome(None, {"status": "error", "reason": exc.message}, rows.sample_rows, rows.population)
    return ExplanationOutcome(result, {"status": "ok"}, rows.sample_rows, rows.population)


def _skip_reason(plan, run) -> dict | None:
    policy = plan.policy
    if policy.model is None:
        return {"status": "skipped", "reason": "the policy has no model"}
    if run is None or run.loaded is None:
        return {"status": "skipped", "reason": "the model is known only by its prediction columns, which cannot be explained"}
    if not policy.explain.enabled:
        return {"status": "skipped", "reason": "explain.enabled is false in the policy"}
    if not plan.explain:
        return {"status": "skipped", "reason": "--no-explain was given"}
    return None


def positive_class(loaded, positive_label):
    """The model's own class object for the positive label (read as model code: it may raise)."""
    from ..model import run_model_code
    from ..predictions import label_key

    def find():
        for cls in list(getattr(loaded.estimator, "classes_", [])):
            if label_key(cls) == positive_label:
                return cls
        return None

    return run_model_code(loaded.path, "reading its classes_ attribute failed", find)


def flagged_proxies(explained, feature_columns) -> tuple[str, ...]:
    """Model inputs the explanations flagged as proxies of a sensitive feature, in order."""
    result = getattr(explained, "result", None)
    if result is None:
        return ()
    frame = result.proxies_frame
    if frame is None or frame.empty or "flagged" not in frame:
        return ()
    flagged = frame[frame["flagged"].astype(bool)]["input_feature"].astype(str)
    return tuple(c for c in dict.fromkeys(flagged) if c in set(feature_columns))
