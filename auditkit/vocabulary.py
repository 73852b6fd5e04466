"""The metric vocabulary rules can refer to, and plain-language definitions for the report.

Per-group metrics and disparity names come from the fairness engine; this module adds the
data and model metrics and answers questions the policy loader asks about a metric name.
"""

from __future__ import annotations

DRIFT_METRICS = ("psi", "ks", "js")
GROUP_DATA_METRICS = ("representation_min_share", "missingness_gap")
LABEL_METRICS = ("base_rate_ratio", "base_rate_difference")  # from the labels alone: no model needed
DATA_METRICS = ("contract_violations",) + DRIFT_METRICS + GROUP_DATA_METRICS
MODEL_METRICS = ("shap_share",)
# Metrics of the regulatory packs (docs/packs.md): judged on the model's decisions per group.
ADVERSE_IMPACT_METRICS = ("impact_ratio",)      # needs feature: (a sensitive feature or intersection)
LL144_METRICS = ("ll144_impact_ratio",)         # the lowest impact ratio of the LL144 tables; no feature
PACK_METRICS = ADVERSE_IMPACT_METRICS + LL144_METRICS
AGGREGATES = ("demographic_parity", "equalized_odds", "equal_opportunity")
# The per-group metrics each of fairlearn's aggregates is built from.
AGGREGATE_BASE = {"demographic_parity": ("selection_rate",), "equalized_odds": ("tpr", "fpr"),
                  "equal_opportunity": ("tpr",)}

GLOSSARY = {
    "count": "Number of rows (people) in the group.",
    "share": "The group's share of all rows audited.",
    "base_rate": "Share of the group whose true outcome is the positive one, before any model.",
    "selection_rate": "Share of the group the model predicts the positive outcome for.",
    "tpr": "True positive rate (recall): of those whose true outcome is positive, the share the model also predicts positive.",
    "fpr": "False positive rate: of those whose true outcome is negative, the share the model wrongly predicts positive.",
    "fnr": "False negative rate: of those whose true outcome is positive, the share the model wrongly predicts negative.",
    "tnr": "True negative rate (specificity): of those whose true outcome is negative, the share predicted negative.",
    "ppv": "Precision: of those predicted positive, the share whose true outcome is positive.",
    "npv": "Negative predictive value: of those predicted negative, the share whose true outcome is negative.",
    "accuracy": "Share of predictions that match the true outcome.",
    "balanced_accuracy": "Average of the true positive and true negative rates; robust to imbalanced outcomes.",
    "f1": "Harmonic mean of precision and recall.",
    "auc": "Area under the ROC curve: the chance that a random positive case scores higher than a random negative one.",
    "mean_score": "Average model score (probability of the positive outcome).",
    "mean_prediction": "Average predicted value (regression).",
    "mean_target": "Average true value (regression).",
    "mae": "Mean absolute error (regression).",
    "rmse": "Root mean squared error (regression).",
    "demographic_parity": "Whether groups receive the positive prediction at the same rate (compares selection rates).",
    "equalized_odds": "Whether groups have the same true positive and false positive rates (the worse of the two gaps).",
    "equal_opportunity": "Whether qualified people in every group are recognised equally often (compares true positive rates).",
    "difference": "Largest group value minus smallest; 0 means every group is treated alike.",
    "ratio": "Smallest group value divided by largest; 1 means every group is treated alike. The four-fifths rule asks for at least 0.8.",
    "contract_violations": "Number of values in the data that break the data contract (schema, ranges, allowed categories).",
    "shap_share": "Share of the model's total feature attribution (mean |SHAP|) held by one feature; high for a sensitive feature means the model leans on it directly.",
    "psi": "Population stability index: how much a column's distribution moved from the reference data (below 0.1 little, 0.1 to 0.25 some, above 0.25 a major shift).",
    "ks": "Kolmogorov-Smirnov statistic: the largest gap between the reference and current cumulative distributions of a numeric column (0 to 1).",
    "js": "Jensen-Shannon distance between the reference and current distributions of a column (0 identical, 1 disjoint).",
    "representation_min_share": "The smallest share of the data held by any group of a sensitive feature.",
    "missingness_gap": "For a sensitive feature, the largest difference between groups in how often a column is missing.",
    "base_rate_ratio": "Smallest group base rate divided by the largest: how unevenly the positive outcome is spread in the data itself, before any model.",
    "base_rate_difference": "Largest group base rate minus the smallest, in the data itself.",
    "confidence_interval": "Range that holds the true value with the stated confidence, estimated by resampling the audited rows (bootstrap).",
    "inconclusive": "The interval straddles the threshold: the data cannot tell whether the rule holds.",
    "impact_ratio": "A group's selection rate divided by the selection rate of the group selected most often (29 CFR 1607.4(D)); below 0.8 is generally regarded as evidence of adverse impact.",
    "ll144_impact_ratio": "NYC Local Law 144: a category's selection or scoring rate divided by the rate of the most selected category; the lowest over the sex, race/ethnicity and intersectional tables.",
    "scoring_rate": "NYC Local Law 144: the share of a category scoring above the median score of the whole sample.",
    "fisher_exact": "Fisher's exact test: the probability, if selection did not depend on the group, of a split of selections between the two groups at least as uneven as the one observed (two-sided p-value).",
    "z_test": "Two-proportion z-test (pooled): the difference in selection rates in standard errors; |z| above about 2 corresponds to a two-sided p-value below 0.05.",
    "shap": "SHAP values split one prediction into contributions of each input; their mean absolute size ranks the inputs by influence.",
}


def _per_group_metrics() -> set[str]:
    from .fairness import COUNT_METRICS, REGRESSION_METRICS, SCORE_METRICS

    return set(COUNT_METRICS) | set(SCORE_METRICS) | set(REGRESSION_METRICS)


def all_metric_names() -> list[str]:
    """Every metric name a rule may use (disparities spelled out)."""
    names = set(DATA_METRICS) | set(MODEL_METRICS) | set(PACK_METRICS) | _per_group_metrics()
    for base in _per_group_metrics() | set(AGGREGATES):
        if base == "count":
            continue
        names.add(f"{base}_difference")
        names.add(f"{base}_ratio")
    return sorted(names)


def is_known_metric(name: str) -> bool:
    from .fairness import is_fairness_metric

    return name in DATA_METRICS or name in MODEL_METRICS or name in PACK_METRICS or is_fairness_metric(name)


def is_disparity(name: str) -> bool:
    """A fairness-engine disparity (``<metric>_difference`` / ``_ratio``); pack metrics are not."""
    return name not in PACK_METRICS and (name.endswith("_difference") or name.endswith("_ratio"))


def metric_needs_feature(name: str) -> bool:
    return is_disparity(name) or name in MODEL_METRICS or name in ADVERSE_IMPACT_METRICS


def metric_needs_model(name: str) -> bool:
    return name not in DATA_METRICS and name not in LABEL_METRICS


def metric_feature_kind(name: str) -> str:
    """What ``feature:`` names for this metric: 'group' (a sensitive feature or intersection),
    'column' (any data column) or 'input' (a model input column)."""
    if name in MODEL_METRICS:
        return "input"
    if name in DRIFT_METRICS or name == "contract_violations":
        return "column"
    return "group"


def describe_metric_kind(name: str) -> str:
    if name in DRIFT_METRICS:
        return "a drift metric"
    if name in DATA_METRICS:
        return "a data metric"
    if name in MODEL_METRICS:
        return "an explanation metric"
    if name in PACK_METRICS:
        return "an adverse impact ratio"
    if is_disparity(name):
        return "a disparity between groups"
    return "a per-group metric"


def define(name: str) -> str:
    """A plain-language definition of a metric or disparity name."""
    if name in GLOSSARY:
        return GLOSSARY[name]
    for suffix in ("_difference", "_ratio"):
        if name.endswith(suffix):
            base = name[: -len(suffix)]
            kind = suffix[1:]
            return f"{GLOSSARY.get(kind, '')} Applied to: {GLOSSARY.get(base, base)}".strip()
    return ""


def rule_sentence(metric: str, feature: str | None, threshold: dict) -> str:
    """One plain-language sentence of what a rule checks."""
    bounds = []
    if "min" in threshold:
        bounds.append(f"at least {threshold['min']:g}")
    if "max" in threshold:
        bounds.append(f"at most {threshold['max']:g}")
    bound = " and ".join(bounds)
    label = metric.replace("_", " ")
    if metric == "contract_violations":
        scope = f" in column '{feature}'" if feature else ""
        return f"The number of data contract violations{scope} must be {bound}."
    if metric == "shap_share":
        return f"The share of the model's attribution held by '{feature}' must be {bound}."
    if metric in DRIFT_METRICS:
        name = {"psi": "population stability index", "ks": "KS statistic", "js": "Jensen-Shannon distance"}[metric]
        scope = f"of '{feature}'" if feature else "of every feature (the largest counts)"
        return f"The {name} {scope} against the reference data must be {bound}."
    if metric == "representation_min_share":
        scope = f"of '{feature}'" if feature else "of every sensitive feature"
        return f"Every group {scope} must hold a share of the rows {bound}."
    if metric == "missingness_gap":
        scope = f"the groups of '{feature}'" if feature else "the groups of any sensitive feature"
        return f"How often a column is missing must not differ between {scope} by more than allowed: the gap must be {bound}."
    if metric == "impact_ratio":
        return (f"For every group of '{feature}', the selection rate divided by the highest group's rate must be {bound}, "
                "and (as the rule's test says) the group's rate must not be significantly lower.")
    if metric == "ll144_impact_ratio":
        return f"In the NYC LL144 bias audit tables, every impact ratio must be {bound}."
    if is_disparity(metric):
        kind = "ratio (smallest over largest)" if metric.endswith("_ratio") else "difference (largest minus smallest)"
        base = metric.rsplit("_", 1)[0].replace("_", " ")
        return f"Across the groups of '{feature}', the {kind} of {base} must be {bound}."
    if feature:
        return f"For every group of '{feature}', the {label} must be {bound}."
    return f"Over all rows, the {label} must be {bound}."


# Which way is better, for comparing a candidate with a champion: +1 higher is better,
# -1 lower is better, 0 neither (rates of selection, averages).
_HIGHER_BETTER = {"tpr", "tnr", "ppv", "npv", "accuracy", "balanced_accuracy", "f1", "auc"}
_LOWER_BETTER = {"fpr", "fnr", "mae", "rmse"}


def metric_direction(name: str) -> int:
    """+1 if a higher value is better, -1 if lower is better, 0 if neither."""
    if name.endswith("_ratio"):
        return 1  # closer to 1 (parity) is better; ratios never exceed 1
    if name.endswith("_difference"):
        return -1  # closer to 0 (parity) is better
    if name in _HIGHER_BETTER:
        return 1
    if name in _LOWER_BETTER:
        return -1
    return 0


def is_comparable(name: str) -> bool:
    """Metrics a candidate can be compared with a champion on (fairness metrics and disparities)."""
    from .fairness import is_fairness_metric

    return is_fairness_metric(name) and name != "count"


def change_bounds(metric: str, limits) -> tuple[float | None, float | None]:
    """Translate max_regression / max_increase / max_decrease into bounds on (candidate - champion)."""
    low, high = None, None

    def tighten_low(value):
        nonlocal low
        low = value if low is None else max(low, value)

    def tighten_high(value):
        nonlocal high
        high = value if high is None else min(high, value)

    if "max_increase" in limits:
        tighten_high(limits["max_increase"])
    if "max_decrease" in limits:
        tighten_low(-limits["max_decrease"])
    if "max_regression" in limits:
        if metric_direction(metric) > 0:
            tighten_low(-limits["max_regression"])
        else:
            tighten_high(limits["max_regression"])
    return low, high


def change_sentence(metric: str, feature: str | None, limits) -> str:
    """A plain-language sentence of what a comparison rule checks."""
    label = metric.replace("_", " ")
    scope = f"for every group of '{feature}'" if feature and not (metric.endswith("_ratio") or metric.endswith("_difference")) \
        else (f"across the groups of '{feature}'" if feature else "over all rows")
    parts = []
    if "max_regression" in limits:
        worse = "fall" if metric_direction(metric) > 0 else "rise"
        parts.append(f"must not {worse} (get worse) by more than {limits['max_regression']:g}")
    if "max_increase" in limits:
        parts.append(f"must not rise by more than {limits['max_increase']:g}")
    if "max_decrease" in limits:
        parts.append(f"must not fall by more than {limits['max_decrease']:g}")
    return f"Compared with the champion, the {label} {scope} " + " and ".join(parts) + "."
