"""The remedies search: every candidate fitted on K-1 folds of the audit rows, decided on the
fold it never saw, and judged on all rows by the policy's own rules with the audit's
bootstrap intervals.

Candidates:

* ``single_threshold`` -- one decision threshold for everyone, chosen on the fitting folds
  as the most accurate one that meets the failing disparity rules there;
* ``group_thresholds_randomized`` -- fairlearn's ``ThresholdOptimizer`` (the constraint that
  matches the focus rule, the policy's objective): exact on its constraint, but identical
  applicants may get different outcomes;
* ``group_thresholds`` -- the deterministic rule nearest to it, one threshold per group;
* ``neutralize_proxy`` -- a flagged proxy input replaced by draws from other rows (no
  retraining): an estimate;
* ``reweigh`` -- the model refitted on its training data with Kamiran & Calders weights (a
  scikit-learn estimator or Pipeline and training data are needed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from ..errors import AuditkitError
from ._folds import fold_ids
from ._result import Estimate, RemedyCandidate, RemedyResult, RuleVerdict

__all__ = ["RemedyInputs", "RemedyOptions", "find_remedies", "judged_rules"]

KINDS = ("single_threshold", "group_thresholds", "neutralize_proxy", "reweigh")
GROUP_AWARE_KINDS = ("group_thresholds",)
JOIN = " & "

DISPARATE_TREATMENT = (
    "Disparate treatment: the decision threshold depends on group membership. This is unlawful "
    "in some uses -- for example US employment tests (42 U.S.C. 2000e-2(l) forbids different "
    "cutoff scores by race, color, religion, sex or national origin) and US credit decisions "
    "under ECOA -- so have it reviewed by counsel before any use.")


@dataclass(frozen=True)
class RemedyOptions:
    """What the search tries (the policy's ``remedies:`` block, or its defaults)."""

    candidates: tuple[str, ...] = KINDS
    group_aware: bool = True
    folds: int = 5
    objective: str = "accuracy_score"
    train: Any = None  # path of training data for reweighing (default: data.reference)


@dataclass(frozen=True)
class RemedyInputs:
    """Everything the search needs from one audit (pandas rows).

    ``frame`` holds the audit rows (model inputs and sensitive columns); ``y`` the encoded
    labels; ``scores`` / ``decisions`` the audited model's; ``champion_*`` the champion's when the
    policy has one; ``estimator`` the loaded model (None for prediction columns).
    """

    policy: Any
    evidence: Any
    outcomes: tuple
    frame: pd.DataFrame
    y: np.ndarray
    scores: np.ndarray | None
    decisions: np.ndarray
    threshold: float
    positive_label: Any
    estimator: Any = None
    feature_columns: tuple[str, ...] = ()
    champion_decisions: np.ndarray | None = None
    champion_scores: np.ndarray | None = None
    proxies: tuple[str, ...] = ()
    fairness_keywords: dict = field(default_factory=dict)
    fail_on: str = "error"
    today: date | None = None
    seed: int = 0
    requested: bool = False
    training: tuple[pd.DataFrame, np.ndarray] | None = None  # rows and 0/1 labels for reweighing


def judged_rules(policy, outcomes) -> list:
    """The audit's rule outcomes a remedy can change: rules read from the fairness results or
    the champion comparison (group metrics, disparities, comparisons), failed or inconclusive.
    Trend rules are not among them: they judge the ledger's history, which a candidate cannot
    change; the metric a remedy moves is judged by the trend when the remedied model is audited."""
    from ..metrics import get_metric

    chosen = []
    for outcome in outcomes:
        rule = outcome.rule
        metric = get_metric(rule.metric)
        reads_fairness = rule.compare == "champion" or (metric is not None and metric.evidence == "fairness")
        if reads_fairness and rule.trend is None and outcome.status in ("fail", "inconclusive"):
            chosen.append(outcome)
    return chosen


def find_remedies(inputs: RemedyInputs, options: RemedyOptions = RemedyOptions(), *, say=lambda _m: None) -> RemedyResult | None:
    """Search the remedies of the failing fairness rules; None when there is nothing to remedy
    and the policy did not ask.

    Raises
    ------
    AuditkitError
        The audit has no scores (decisions read from columns) or too few rows for the folds.
    """
    failing = judged_rules(inputs.policy, inputs.outcomes)
    if not failing and not inputs.requested:
        return None
    rules = [o.rule for o in failing]
    notes: list[str] = []
    focus_outcome = next((o for o in failing if o.rule.feature), failing[0] if failing else None)
    group_columns = _group_columns(rules, inputs.policy)
    group_feature = JOIN.join(group_columns) if group_columns else None
    labels, codes = _group_codes(inputs.frame, group_columns)
    folds = fold_ids(inputs.y, codes, n_folds=options.folds, seed=inputs.seed)
    judge = _Judge(inputs, rules, focus_outcome)

    candidates = [judge("current", "current", "The model as audited", inputs.decisions, inputs.scores,
                        parameters={"threshold": inputs.threshold}, lawful_use="", how_to_apply="")]
    models: dict[str, Any] = {}
    sweep = None
    if inputs.scores is None:
        notes.append("The audited decisions come from prediction columns without scores: no threshold can be moved.")
    elif failing:
        wanted = set(options.candidates)
        if "single_threshold" in wanted:
            say("remedies: one threshold for everyone")
            candidate, sweep, model = _single_threshold(inputs, judge, rules, codes, len(labels), folds)
            candidates.append(candidate)
            models[candidate.id] = model
        if "group_thresholds" in wanted:
            if not options.group_aware:
                notes.append("Group-aware candidates are switched off by the policy (remedies.group_aware: false).")
            elif focus_outcome is None or _constraint(focus_outcome.rule) is None:
                notes.append("No group-threshold candidate: no failing rule has a matching fairlearn constraint.")
            elif not group_columns:
                notes.append("No group-threshold candidate: no failing rule names a sensitive feature.")
            else:
                say("remedies: group-specific thresholds (fairlearn's ThresholdOptimizer)")
                try:
                    found, model = _group_thresholds(inputs, options, judge, focus_outcome.rule, codes, labels,
                                                     folds, group_columns)
                except AuditkitError as exc:  # e.g. a group with one outcome in a fold
                    notes.append(f"No group-threshold candidate: {exc.message}")
                else:
                    candidates.extend(found)
                    models["group-thresholds"] = model
    if "neutralize_proxy" in options.candidates and inputs.estimator is not None and failing:
        for column in inputs.proxies:
            say(f"remedies: neutralising the proxy {column}")
            candidates.append(_neutralize(inputs, judge, column))
    if "reweigh" in options.candidates and failing:
        refit = _reweigh(inputs, judge, group_columns, notes)
        if refit is not None:
            candidate, model = refit
            candidates.append(candidate)
            models[candidate.id] = model
    return RemedyResult(
        triggered_by=tuple(o.rule.id for o in failing) or ("policy",),
        failing_rules=tuple(_rule_summary(o) for o in failing),
        folds=options.folds, seed=inputs.seed, rows=len(inputs.y), group_feature=group_feature,
        focus=_focus_summary(focus_outcome), candidates=tuple(candidates), sweep=sweep, notes=tuple(notes),
        models=models)


# ---------------------------------------------------------------------------------- judging


class _Judge:
    """Judges decisions on all audit rows with the policy's rules (paired with the audited
    model's decisions for the changes in accuracy and selection rate)."""

    def __init__(self, inputs: RemedyInputs, rules: list, focus_outcome):
        self.inputs = inputs
        self.rules = rules
        self.focus_rule = focus_outcome.rule if focus_outcome is not None else None
        from ..metrics import SCORE_METRICS

        # Score metrics (AUC, calibration) cost most of the bootstrap on many rows; they are
        # computed only when a judged rule reads one.
        self.with_scores = any(rule.metric == m or rule.metric.startswith(m + "_") for m in SCORE_METRICS
                               for rule in rules)
        keywords = dict(inputs.fairness_keywords)
        metrics = tuple(m for m in (keywords.get("metrics") or ()) if self.with_scores or m not in SCORE_METRICS)
        keywords["metrics"] = tuple(dict.fromkeys(metrics + ("accuracy", "selection_rate")))
        # Intersections are resampled only when a judged rule names one.
        named = {rule.feature for rule in rules if rule.feature}
        keywords["intersections"] = tuple(i for i in keywords.get("intersections", ()) if JOIN.join(i) in named)
        self.keywords = keywords
        self.sensitive = inputs.frame[[c for c in inputs.policy.sensitive_features]] if inputs.policy.sensitive_features \
            else pd.DataFrame(index=inputs.frame.index)

    def __call__(self, candidate_id, kind, title, decisions, scores, *, parameters, lawful_use, how_to_apply,
                 group_aware=False, deterministic=True, estimate=False, writable=False) -> RemedyCandidate:
        from ..fairness import compare_fairness
        from ..rules import Evidence, evaluate_rules

        inputs = self.inputs
        scored = self.with_scores
        versus_current = compare_fairness(inputs.y, decisions, inputs.decisions, self.sensitive,
                                          y_score=scores if scored else None,
                                          y_score_champion=inputs.scores if scored else None,
                                          task="classification", **self.keywords)
        fairness = versus_current.candidate
        comparison = None
        if inputs.champion_decisions is not None:
            comparison = compare_fairness(inputs.y, decisions, inputs.champion_decisions, self.sensitive,
                                          y_score=scores if scored else None,
                                          y_score_champion=inputs.champion_scores if scored else None,
                                          task="classification", **self.keywords)
        base = inputs.evidence
        evidence = Evidence(contract=base.contract, fairness=fairness, comparison=comparison,
                            explanations=base.explanations, explanation_error=base.explanation_error,
                            drift=base.drift, data_bias=base.data_bias, packs=base.packs)
        gate = evaluate_rules(self.rules, evidence, fail_on=inputs.fail_on, today=inputs.today)
        verdicts = tuple(RuleVerdict(o.rule.id, o.status, o.observed, o.ci, o.gating) for o in gate.outcomes)
        focus = next((v for v in verdicts if self.focus_rule is not None and v.id == self.focus_rule.id), None)
        return RemedyCandidate(
            id=candidate_id, kind=kind, title=title, group_aware=group_aware, deterministic=deterministic,
            estimate=estimate, writable=writable, parameters=parameters,
            accuracy=_estimate(fairness.value("accuracy")),
            selection_rate=_estimate(fairness.value("selection_rate")),
            accuracy_change=_estimate(versus_current.change("accuracy")),
            selection_rate_change=_estimate(versus_current.change("selection_rate")),
            focus=Estimate(focus.observed, focus.ci) if focus else Estimate(None),
            rules=verdicts, passes=bool(verdicts) and not any(v.gating for v in verdicts),
            lawful_use=lawful_use, how_to_apply=how_to_apply)


def _estimate(metric_value) -> Estimate:
    value = metric_value.value
    ci = metric_value.ci
    return Estimate(None if value is None else float(value), tuple(float(x) for x in ci) if ci else None)


# ------------------------------------------------------------------------------- candidates


def _single_threshold(inputs, judge, rules, codes, n_groups, folds):
    """One threshold for everyone: per fold, the most accurate threshold of the sweep that meets
    the failing disparity rules on the other folds (else the one closest to meeting them)."""
    from ._models import GroupThresholdClassifier
    from ._thresholds import sweep_single_threshold

    scores, y = inputs.scores, inputs.y
    decisions = np.empty(len(y), dtype=np.int8)
    chosen = []
    for k in range(int(folds.max()) + 1):
        fit = folds != k
        t = _best_single(sweep_single_threshold(scores[fit], y[fit], codes[fit], n_groups), rules)
        chosen.append(t)
        decisions[~fit] = (scores[~fit] >= t).astype(np.int8)
    full = sweep_single_threshold(scores, y, codes, n_groups)
    threshold = _best_single(full, rules)
    candidate = judge(
        "single-threshold", "single_threshold", f"One threshold for everyone ({threshold:.3f})", decisions, scores,
        parameters={"threshold": threshold, "fold_thresholds": chosen, "decision_threshold": inputs.threshold},
        lawful_use="Treats everyone alike: one threshold for all, whatever their group.",
        how_to_apply=f"Set model.threshold: {threshold:.6g} in the policy, or deploy the model file "
                     "`audit remedy` writes (it applies that threshold).",
        writable=True)
    model = GroupThresholdClassifier(estimator=inputs.estimator, positive_label=inputs.positive_label,
                                     default_threshold=float(threshold), decision_threshold=float(inputs.threshold))
    focus = judge.focus_rule
    curve = {"thresholds": full.thresholds, "accuracy": full.accuracy,
             "focus": _disparity_curve(full, focus) if focus is not None else None}
    return candidate, curve, model


def _best_single(sweep, rules) -> float:
    """The most accurate threshold meeting every disparity rule on the sweep's rows, else the
    one with the smallest total shortfall."""
    shortfall = np.zeros(len(sweep.thresholds))
    for rule in rules:
        curve = _disparity_curve(sweep, rule)
        if curve is None:
            continue
        bound = _bound(rule)
        if bound is None:
            continue
        kind, limit = bound
        gap = (limit - curve) if kind == "min" else (curve - limit)
        shortfall += np.where(np.isnan(gap), 0.0, np.maximum(gap, 0.0))
    ok = shortfall <= 0
    if ok.any():
        index = np.flatnonzero(ok)[np.argmax(sweep.accuracy[ok])]
    else:
        index = int(np.argmin(shortfall))
    return float(sweep.thresholds[index])


def _disparity_curve(sweep, rule):
    """The rule's disparity along the sweep (max over groups), or None for other rules."""
    metric = rule.metric
    rates = None
    if metric.startswith("demographic_parity") or metric.startswith("selection_rate"):
        rates = [sweep.group_selection_rate]
    elif metric.startswith("equalized_odds"):
        rates = [sweep.group_tpr, sweep.group_fpr]
    elif metric.startswith("true_positive_rate") or metric.startswith("equal_opportunity") or metric == "tpr":
        rates = [sweep.group_tpr]
    elif metric.startswith("false_positive_rate") or metric == "fpr":
        rates = [sweep.group_fpr]
    if rates is None or rule.compare is not None:
        return None
    ratio = metric.endswith("_ratio")
    worst = None
    for r in rates:
        with np.errstate(invalid="ignore", divide="ignore"):
            low, high = np.nanmin(r, axis=1), np.nanmax(r, axis=1)
            value = np.where(high > 0, low / high, 1.0) if ratio else high - low
        worst = value if worst is None else (np.minimum(worst, value) if ratio else np.maximum(worst, value))
    return worst


def _bound(rule):
    if rule.min is not None:
        return "min", float(rule.min)
    if rule.max is not None:
        return "max", float(rule.max)
    return None


def _constraint(rule) -> str | None:
    from ._thresholds import constraint_for

    return constraint_for(rule.metric)


def _group_thresholds(inputs, options, judge, rule, codes, labels, folds, group_columns):
    """fairlearn's randomized solution and its nearest deterministic rule, cross-fitted."""
    from ._models import GroupThresholdClassifier
    from ._thresholds import apply_group_thresholds, apply_randomized, fit_group_thresholds, nearest_deterministic

    scores, y = inputs.scores, inputs.y
    constraint = _constraint(rule)
    rng = np.random.default_rng(inputs.seed)
    randomized = np.empty(len(y), dtype=np.int8)
    deterministic = np.empty(len(y), dtype=np.int8)
    for k in range(int(folds.max()) + 1):
        fit = folds != k
        fitted = fit_group_thresholds(scores[fit], y[fit], codes[fit], labels, constraint=constraint,
                                      objective=options.objective)
        randomized[~fit] = apply_randomized(fitted, scores[~fit], codes[~fit], rng)
        deterministic[~fit] = apply_group_thresholds(nearest_deterministic(fitted, scores[fit], y[fit], codes[fit]),
                                                     scores[~fit], codes[~fit])
    fitted = fit_group_thresholds(scores, y, codes, labels, constraint=constraint, objective=options.objective)
    thresholds = nearest_deterministic(fitted, scores, y, codes)
    where = ", ".join(group_columns)
    apply_text = (f"Deploy the model file `audit remedy` writes: it needs the column(s) {where} at prediction "
                  "time and applies each group's threshold.")
    per_group = {str(label): float(t) for label, t in zip(labels, thresholds)}
    found = [
        judge("group-thresholds", "group_thresholds", f"Group-specific thresholds by {' & '.join(group_columns)}",
              deterministic, scores, parameters={"constraint": constraint, "objective": options.objective,
                                                  "thresholds": per_group, "decision_threshold": inputs.threshold},
              lawful_use=DISPARATE_TREATMENT, how_to_apply=apply_text, group_aware=True, writable=True),
        judge("group-thresholds-randomized", "group_thresholds_randomized",
              f"Randomized group thresholds by {' & '.join(group_columns)} (fairlearn)", randomized, scores,
              parameters={"constraint": constraint, "objective": options.objective},
              lawful_use=DISPARATE_TREATMENT + " In addition, identical applicants may get different outcomes: "
                                               "between two thresholds a random draw decides.",
              how_to_apply="Not written as a model file: a model whose decisions are random cannot be re-audited "
                           "reproducibly. fairlearn's ThresholdOptimizer implements it.",
              group_aware=True, deterministic=False),
    ]
    model = GroupThresholdClassifier(estimator=inputs.estimator, positive_label=inputs.positive_label,
                                     group_columns=list(group_columns), group_labels=[str(x) for x in labels],
                                     thresholds=[float(t) for t in thresholds],
                                     default_threshold=float(inputs.threshold),
                                     decision_threshold=float(inputs.threshold))
    return found, model


def _neutralize(inputs, judge, column: str) -> RemedyCandidate:
    """The proxy's values replaced by those of randomly drawn other rows (its marginal), the
    model re-scored, no retraining."""
    rng = np.random.default_rng(inputs.seed)
    frame = inputs.frame[list(inputs.feature_columns)].copy()
    frame[column] = frame[column].to_numpy()[rng.integers(0, len(frame), len(frame))]
    scores = _positive_scores(inputs.estimator, frame, inputs.positive_label, "re-scoring without " + column)
    decisions = (scores >= inputs.threshold).astype(np.int8)
    return judge(
        f"neutralize-{column}", "neutralize_proxy", f"Without the proxy {column} (estimate)", decisions, scores,
        parameters={"column": column},
        lawful_use="Treats everyone alike. An estimate: the input is replaced by values drawn from other rows, "
                   "without retraining; a model retrained without it may behave differently.",
        how_to_apply=f"Retrain without {column} (or with it decorrelated from the sensitive feature) and audit the "
                     "retrained model.",
        estimate=True)


def _reweigh(inputs, judge, group_columns, notes):
    """The model refitted on its training data with Kamiran & Calders weights, audited here."""
    from ._reweigh import refit_with_weights, reweigh

    if inputs.training is None:
        notes.append("No reweighing candidate: the policy names no training data (data.reference or remedies.train).")
        return None
    if inputs.estimator is None or not hasattr(inputs.estimator, "fit"):
        notes.append("No reweighing candidate: the model is not a scikit-learn estimator that can be refitted.")
        return None
    columns = group_columns or list(inputs.policy.sensitive_features)
    train, labels = inputs.training
    missing = [c for c in (*columns, *inputs.feature_columns) if c not in train.columns]
    if missing:
        notes.append(f"No reweighing candidate: the training data lacks {', '.join(missing)}.")
        return None
    table = train[columns].copy()
    table["__label__"] = labels
    weights = reweigh(table, "__label__", columns).to_numpy()
    from ..model import run_model_code

    X_train, y_train = train[list(inputs.feature_columns)], _label_values(inputs, labels)
    try:
        model = run_model_code("the audited model", "refitting it with the reweighing weights failed",
                               lambda: refit_with_weights(inputs.estimator, X_train, y_train, weights))
    except AuditkitError as exc:
        notes.append(f"No reweighing candidate: {exc.message}")
        return None
    scores = _positive_scores(model, inputs.frame[list(inputs.feature_columns)], inputs.positive_label,
                              "scoring the reweighed refit")
    decisions = (scores >= inputs.threshold).astype(np.int8)
    candidate = judge(
        "reweigh", "reweigh", "Retrained with reweighed training rows", decisions, scores,
        parameters={"weights": "Kamiran & Calders: P(group) P(label) / P(group, label)",
                    "groups": list(columns), "training_rows": int(len(train)),
                    "decision_threshold": inputs.threshold},
        lawful_use="Treats everyone alike at decision time; the training rows are weighted by group and label so "
                   "that group and label are independent in training.",
        how_to_apply="Deploy the refitted model file `audit remedy` writes, or refit your pipeline with "
                     "auditkit.reweigh(...) as sample_weight.",
        writable=True)
    return candidate, model


def _positive_scores(estimator, frame: pd.DataFrame, positive_label, doing: str) -> np.ndarray:
    """The model's probability of the positive label, its code run as model code (errors are
    ModelError) and its output checked like the audit's."""
    from ..model import run_model_code
    from ..predictions import check_probabilities

    def call():
        classes = list(estimator.classes_)
        proba = np.array(estimator.predict_proba(frame), copy=True, subok=False)
        return classes, proba

    classes, proba = run_model_code("the audited model", f"{doing}: predict_proba() failed", call)
    proba = check_probabilities(proba, n_rows=len(frame), n_classes=len(classes), path="the audited model")
    return proba[:, classes.index(positive_label)]


def _label_values(inputs, labels: np.ndarray) -> np.ndarray:
    """Training labels as the model's classes: the positive label and the other class."""
    classes = list(inputs.estimator.classes_)
    other = next(c for c in classes if c != inputs.positive_label)
    return np.where(np.asarray(labels) == 1, inputs.positive_label, other)


# ---------------------------------------------------------------------------------- groups


def _group_columns(rules, policy) -> list[str]:
    """The sensitive columns the failing rules name (an intersection names several), in the
    policy's order."""
    named: set[str] = set()
    for rule in rules:
        if rule.feature:
            named.update(part.strip() for part in str(rule.feature).split(JOIN))
    return [c for c in policy.sensitive_features if c in named]


def _group_codes(frame: pd.DataFrame, columns: list[str]) -> tuple[list[str], np.ndarray]:
    """Group labels (as the fairness results write them) and each row's code."""
    from ..sensitive import group_labels

    if not columns:
        return ["all"], np.zeros(len(frame), dtype=np.int64)
    codes, uniques = pd.factorize(pd.Series(group_labels(frame, columns), dtype=object), sort=True)
    return [str(u) for u in uniques], codes.astype(np.int64)


def _rule_summary(outcome) -> dict:
    r = outcome.rule
    return {"id": r.id, "metric": r.metric, "feature": r.feature, "status": outcome.status,
            "observed": outcome.observed, "ci": list(outcome.ci) if outcome.ci else None,
            "threshold": r.threshold, "compare": r.compare, "change_limits": dict(r.change_limits) if r.compare else None}


def _focus_summary(outcome) -> dict | None:
    if outcome is None:
        return None
    r = outcome.rule
    return {"rule": r.id, "metric": r.metric, "feature": r.feature, "threshold": r.threshold,
            "compare": r.compare, "change_limits": dict(r.change_limits) if r.compare else None}
