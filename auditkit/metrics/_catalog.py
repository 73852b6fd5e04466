"""The core metrics, each defined once: per-group fairness metrics and their disparities, the
data, drift, contract and explanation metrics, and the glossary terms the report uses.

Packs add their own metrics through :func:`auditkit.metrics.register_metric` (see
``auditkit.packs``). ``docs/metrics.md`` is generated from this catalog
(``python -m auditkit.metrics``) and a test keeps it in step.
"""

from __future__ import annotations

from ._metric import Metric
from ._observe import (
    observe_contract,
    observe_data_bias,
    observe_drift,
    observe_explanation,
    observe_fairness,
    observe_label_disparity,
    observe_reasons,
    observe_representativeness,
)
from ._registry import register_metric, register_term

__all__ = ["AGGREGATES", "COUNT_METRICS", "DEFAULT_FAIRNESS_METRICS", "GROUP_METRICS", "LABEL_FREE_AGGREGATES", "LABEL_FREE_METRICS",
           "MISSING_GROUP", "REGRESSION_METRICS", "SCORE_METRICS"]

#: How a missing value of a sensitive feature is labelled as a group.
MISSING_GROUP = "(missing)"

#: The fairness metrics computed when a policy's ``fairness.metrics`` is not given.
DEFAULT_FAIRNESS_METRICS = ("selection_rate", "tpr", "fpr", "ppv", "accuracy")

# (name, direction, summary, formula) of the per-group metrics, by what they are computed from.
_COUNTS = (
    ("count", 0, "Number of rows (people) in the group.", "n"),
    ("base_rate", 0, "Share of the group whose true outcome is the positive one, before any model.",
     "(TP + FN) / n"),
    ("selection_rate", 0, "Share of the group the model predicts the positive outcome for.", "(TP + FP) / n"),
    ("tpr", 1, "True positive rate (recall): of those whose true outcome is positive, the share the model also predicts positive.",
     "TP / (TP + FN)"),
    ("fpr", -1, "False positive rate: of those whose true outcome is negative, the share the model wrongly predicts positive.",
     "FP / (FP + TN)"),
    ("fnr", -1, "False negative rate: of those whose true outcome is positive, the share the model wrongly predicts negative.",
     "FN / (TP + FN)"),
    ("tnr", 1, "True negative rate (specificity): of those whose true outcome is negative, the share predicted negative.",
     "TN / (FP + TN)"),
    ("ppv", 1, "Precision: of those predicted positive, the share whose true outcome is positive.", "TP / (TP + FP)"),
    ("npv", 1, "Negative predictive value: of those predicted negative, the share whose true outcome is negative.",
     "TN / (TN + FN)"),
    ("accuracy", 1, "Share of predictions that match the true outcome.", "(TP + TN) / n"),
    ("balanced_accuracy", 1, "Average of the true positive and true negative rates; robust to imbalanced outcomes.",
     "(TPR + TNR) / 2"),
    ("f1", 1, "Harmonic mean of precision and recall.", "2 TP / (2 TP + FP + FN)"),
)
_SCORES = (
    ("auc", 1, "Area under the ROC curve: the chance that a random positive case scores higher than a random negative one.",
     "Mann-Whitney U / (positives x negatives), ties counted half"),
    ("mean_score", 0, "Average model score (probability of the positive outcome).", "mean of the scores"),
)
_REGRESSION = (
    ("mean_prediction", 0, "Average predicted value (regression).", "mean of the predictions"),
    ("mean_target", 0, "Average true value (regression).", "mean of the targets"),
    ("mae", -1, "Mean absolute error (regression).", "mean |prediction - target|"),
    ("rmse", -1, "Root mean squared error (regression).", "sqrt(mean (prediction - target)^2)"),
)
#: fairlearn's aggregates and the per-group metrics each is built from.
AGGREGATES = {
    "demographic_parity": ("selection_rate",),
    "equalized_odds": ("tpr", "fpr"),
    "equal_opportunity": ("tpr",),
}
_AGGREGATE_SUMMARIES = {
    "demographic_parity": "Whether groups receive the positive prediction at the same rate (compares selection rates).",
    "equalized_odds": "Whether groups have the same true positive and false positive rates (the worse of the two gaps).",
    "equal_opportunity": "Whether qualified people in every group are recognised equally often (compares true positive rates).",
}

COUNT_METRICS = tuple(m[0] for m in _COUNTS)
SCORE_METRICS = tuple(m[0] for m in _SCORES)
REGRESSION_METRICS = tuple(m[0] for m in _REGRESSION)
GROUP_METRICS = COUNT_METRICS + SCORE_METRICS + REGRESSION_METRICS
#: The per-group metrics computed from the model's outputs alone, without the true outcomes:
#: what an audit with labels pending (``run_audit(..., labels="pending")``) can judge.
LABEL_FREE_METRICS = ("count", "selection_rate", "mean_score", "mean_prediction")
#: The aggregates whose components are all label-free.
LABEL_FREE_AGGREGATES = ("demographic_parity",)

_TERMS = {
    "share": "The group's share of all rows audited.",
    "difference": "Largest group value minus smallest; 0 means every group is treated alike.",
    "ratio": "Smallest group value divided by largest; 1 means every group is treated alike. The four-fifths rule asks for at least 0.8.",
    "confidence_interval": "Range that holds the true value with the stated confidence, estimated by resampling the audited rows (bootstrap).",
    "inconclusive": "The interval straddles the threshold: the data cannot tell whether the rule holds.",
    "shap": "SHAP values split one prediction into contributions of each input; their mean absolute size ranks the inputs by influence.",
    **_AGGREGATE_SUMMARIES,
}


def _group_sentence(label: str):
    def sentence(feature, bound):
        if feature:
            return f"For every group of '{feature}', the {label} must be {bound}."
        return f"Over all rows, the {label} must be {bound}."
    return sentence


def _disparity_sentence(base: str, kind: str):
    text = "ratio (smallest over largest)" if kind == "ratio" else "difference (largest minus smallest)"

    def sentence(feature, bound):
        return f"Across the groups of '{feature}', the {text} of {base.replace('_', ' ')} must be {bound}."
    return sentence


def _with_labels(name: str, needs) -> frozenset:
    """``needs`` plus ``"labels"`` when the metric's formula uses the true outcome."""
    return frozenset(needs) | ({"labels"} if name not in LABEL_FREE_METRICS + LABEL_FREE_AGGREGATES else set())


def _per_group(name, direction, summary, formula, *, needs) -> Metric:
    return Metric(name=name, family="group", summary=summary, formula=formula, direction=direction,
                  feature="group", needs=_with_labels(name, needs), evidence="fairness",
                  sentence=_group_sentence(name.replace("_", " ")), observe=observe_fairness,
                  comparable=name != "count")


_LABEL_DISPARITY_SUMMARIES = {
    "base_rate_ratio": "Smallest group base rate divided by the largest: how unevenly the positive outcome is spread in the data itself, before any model.",
    "base_rate_difference": "Largest group base rate minus the smallest, in the data itself.",
}


def _disparity(base: str, kind: str, summary: str, formula: str, *, needs) -> Metric:
    from_labels = base == "base_rate"  # the labels alone give it, with or without a model
    name = f"{base}_{kind}"
    return Metric(
        name=name, family="disparity",
        summary=_LABEL_DISPARITY_SUMMARIES.get(name, f"{_TERMS[kind]} Applied to: {summary}"),
        formula=(f"max over groups - min over groups of {formula}" if kind == "difference"
                 else f"min over groups / max over groups of {formula}"),
        direction=1 if kind == "ratio" else -1, feature="group", feature_required=True,
        needs=frozenset(("labels",)) if from_labels else _with_labels(base, needs), evidence="fairness",
        sentence=_disparity_sentence(base, kind),
        observe=observe_label_disparity if from_labels else observe_fairness, comparable=True)


def _drift_sentence(name: str):
    def sentence(feature, bound):
        scope = f"of '{feature}'" if feature else "of every feature (the largest counts)"
        return f"The {name} {scope} against the reference data must be {bound}."
    return sentence


def _core_metrics():
    for table, needs in ((_COUNTS, ("model",)), (_SCORES, ("model", "scores")), (_REGRESSION, ("model",))):
        for name, direction, summary, formula in table:
            yield _per_group(name, direction, summary, formula, needs=needs)
            if name != "count":
                for kind in ("difference", "ratio"):
                    yield _disparity(name, kind, summary, formula, needs=needs)
    for name, parts in AGGREGATES.items():
        for kind in ("difference", "ratio"):
            formula = " and ".join(parts) if len(parts) > 1 else parts[0]
            metric = _disparity(name, kind, _AGGREGATE_SUMMARIES[name],
                                f"{formula} (the worse of the components)" if len(parts) > 1 else formula,
                                needs=("model",))
            yield metric
    yield Metric(
        name="contract_violations", family="contract",
        summary="Number of values in the data that break the data contract (schema, ranges, allowed categories).",
        formula="failing values (all columns, or the column feature: names)", direction=-1, feature="column",
        needs=frozenset({"contract"}), evidence="contract", observe=observe_contract,
        sentence=lambda feature, bound: (f"The number of data contract violations{f' in column {chr(39)}{feature}{chr(39)}' if feature else ''} "
                                         f"must be {bound}."))
    drift = {
        "psi": ("population stability index", "Population stability index: how much a column's distribution moved from the reference data (below 0.1 little, 0.1 to 0.25 some, above 0.25 a major shift).",
                "sum over bins of (current share - reference share) x ln(current share / reference share)"),
        "ks": ("KS statistic", "Kolmogorov-Smirnov statistic: the largest gap between the reference and current cumulative distributions of a numeric column (0 to 1).",
               "max over x of |F_reference(x) - F_current(x)|"),
        "js": ("Jensen-Shannon distance", "Jensen-Shannon distance between the reference and current distributions of a column (0 identical, 1 disjoint).",
               "sqrt of the Jensen-Shannon divergence (base 2) of the binned shares"),
    }
    for name, (long_name, summary, formula) in drift.items():
        yield Metric(name=name, family="drift", summary=summary, formula=formula, direction=-1, feature="column",
                     needs=frozenset({"reference"}), evidence="drift", observe=observe_drift,
                     sentence=_drift_sentence(long_name))
    yield Metric(
        name="representation_min_share", family="data",
        summary="The smallest share of the data held by any group of a sensitive feature.",
        formula="min over groups of n_group / n", direction=1, feature="group", evidence="data_bias",
        observe=observe_data_bias,
        sentence=lambda feature, bound: (f"Every group {f'of {chr(39)}{feature}{chr(39)}' if feature else 'of every sensitive feature'} "
                                         f"must hold a share of the rows {bound}."))
    yield Metric(
        name="missingness_gap", family="data",
        summary="For a sensitive feature, the largest difference between groups in how often a column is missing.",
        formula="max over columns of (max - min over groups of the column's missing share)", direction=-1,
        feature="group", evidence="data_bias", observe=observe_data_bias,
        sentence=lambda feature, bound: (
            "How often a column is missing must not differ between "
            f"{f'the groups of {chr(39)}{feature}{chr(39)}' if feature else 'the groups of any sensitive feature'} "
            f"by more than allowed: the gap must be {bound}."))
    yield Metric(
        name="representation_ratio", family="data",
        summary="How well each group of a sensitive feature is represented in the data compared with a declared "
                "reference population (the policy's population: shares): the lowest, over the declared groups, of "
                "the group's share of the data divided by its declared share (1 = as in the population, 0.5 = half "
                "as many as expected), with a 95% Wilson interval. It compares counts only: it does not say "
                "whether the declared shares are right, whether the people in a group are typical of it, or "
                "whether the labels are fair.",
        formula="min over declared groups of (n_group / n) / declared share; interval: Wilson 95% bounds of "
                "n_group / n divided by the declared share",
        direction=1, feature="group", feature_required=True, evidence="data_bias", interval="analytic",
        observe=observe_representativeness,
        sentence=lambda feature, bound: (f"Every group of '{feature}' declared in the population must hold a share of "
                                         f"the data, relative to its declared share, {bound}."))
    yield Metric(
        name="representation_gof_pvalue", family="data",
        summary="Pearson chi-square goodness-of-fit p-value of a sensitive feature's group counts against the "
                "declared reference population's shares: the chance of a mismatch at least this large if the data "
                "were drawn from that population. A low value (below 0.05) is evidence that the data differ from "
                "the population; a high value only means no difference was detected (small data detect little), "
                "not that the data are representative. Rows in a group the population does not declare make it 0.",
        formula="P(chi2(k - 1) >= sum over groups of (n_group - n x share)^2 / (n x share)), k groups",
        direction=1, feature="group", feature_required=True, evidence="data_bias", interval="none",
        observe=observe_representativeness,
        sentence=lambda feature, bound: (f"The goodness-of-fit p-value of the groups of '{feature}' against the "
                                         f"declared population must be {bound}."))
    yield Metric(
        name="shap_share", family="explanation",
        summary="Share of the model's total feature attribution (mean |SHAP|) held by one feature; high for a sensitive feature means the model leans on it directly.",
        formula="mean |SHAP| of the input / sum over inputs of mean |SHAP|", direction=0, feature="input",
        feature_required=True, needs=frozenset({"model", "model_file"}), evidence="explanations",
        observe=observe_explanation,
        sentence=lambda feature, bound: f"The share of the model's attribution held by '{feature}' must be {bound}.")
    yield Metric(
        name="reason_stability", family="reasons",
        summary="How stable each adverse decision's stated reasons are when the baseline population is resampled: "
                "the Jaccard similarity of its reason sets, averaged over decisions (1 = always the same reasons).",
        formula="mean over adverse decisions of mean over 5 resampled baselines of |A ∩ B| / |A ∪ B|", direction=1,
        needs=frozenset({"model", "model_file", "reasons"}), evidence="reasons", observe=observe_reasons,
        sentence=lambda feature, bound: f"The stated reasons' stability under resampled baselines must be {bound}.")
    yield Metric(
        name="reason_protected_share", family="reasons",
        summary="Share of adverse decisions whose stated reasons include a sensitive feature or an input flagged as "
                "its proxy (possible only where reasons.allow permits it).",
        formula="decisions stating a protected input / adverse decisions explained", direction=-1,
        needs=frozenset({"model", "model_file", "reasons"}), evidence="reasons", observe=observe_reasons,
        sentence=lambda feature, bound: f"The share of adverse decisions stating a sensitive feature or proxy must be {bound}.")
    yield Metric(
        name="reason_share_difference", family="reasons",
        summary="The largest difference between the groups of a sensitive feature in the share of adverse decisions "
                "told one reason (over reasons): whether groups are told systematically different reasons.",
        formula="max over reasons of (highest - lowest group share told the reason)", direction=-1, feature="group",
        feature_required=True, needs=frozenset({"model", "model_file", "reasons"}), evidence="reasons",
        observe=observe_reasons,
        sentence=lambda feature, bound: f"Across the groups of '{feature}', the share told any one reason must differ by {bound}.")


def _register() -> None:
    for metric in _core_metrics():
        register_metric(metric)
    for term, text in _TERMS.items():
        register_term(term, text)


_register()
