"""The registry: every metric by name, glossary terms, and the questions asked of a name."""

from __future__ import annotations

from typing import Mapping

from ._metric import Metric

__all__ = [
    "bound_text",
    "change_bounds",
    "change_sentence",
    "define",
    "format_value",
    "get_metric",
    "metric_names",
    "register_metric",
    "register_term",
    "rule_sentence",
]

_METRICS: dict[str, Metric] = {}
_TERMS: dict[str, str] = {}


def register_metric(metric: Metric) -> Metric:
    """Add a metric (core catalog or a pack). Registering the same definition twice is harmless;
    a different metric under a taken name is a programming error."""
    known = _METRICS.get(metric.name)
    if known is not None and known != metric:
        raise ValueError(f"metric {metric.name!r} is already defined{f' by pack {known.pack}' if known.pack else ''}")
    _METRICS[metric.name] = metric
    return metric


def register_term(term: str, definition: str) -> None:
    """A glossary term that is not a rule metric (``share``, ``confidence_interval``, a pack's test name)."""
    _TERMS.setdefault(term, definition)


def get_metric(name: str) -> Metric | None:
    """The metric a rule names, or None when no metric has that name."""
    return _METRICS.get(name) if isinstance(name, str) else None


def metric_names(*, family: str | None = None) -> list[str]:
    """Every metric name a rule may use, sorted (optionally of one family)."""
    return sorted(n for n, m in _METRICS.items() if family is None or m.family == family)


def metrics() -> list[Metric]:
    """Every registered metric, by name."""
    return [_METRICS[n] for n in sorted(_METRICS)]


def define(term: str) -> str:
    """The plain-language definition of a metric or glossary term ('' when unknown)."""
    metric = _METRICS.get(term)
    if metric is not None:
        return metric.summary
    return _TERMS.get(term, "")


def format_value(value) -> str:
    """A metric value as rule messages write it: 3 significant digits, whole numbers plain."""
    if value is None:
        return "n/a"
    if isinstance(value, float) and value.is_integer() and abs(value) >= 1:
        return str(int(value))
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def bound_text(threshold: Mapping[str, float]) -> str:
    """'at least 0.8', 'at most 0.1' or both, from a rule's ``threshold`` mapping."""
    bounds = []
    if "min" in threshold:
        bounds.append(f"at least {threshold['min']:g}")
    if "max" in threshold:
        bounds.append(f"at most {threshold['max']:g}")
    return " and ".join(bounds)


def rule_sentence(metric: str, feature: str | None, threshold: Mapping[str, float]) -> str:
    """One plain-language sentence of what a rule checks."""
    definition = get_metric(metric)
    bound = bound_text(threshold)
    if definition is None:
        return f"The {metric.replace('_', ' ')} must be {bound}."
    return definition.sentence(feature, bound)


def change_bounds(metric: str, limits: Mapping[str, float]) -> tuple[float | None, float | None]:
    """Translate max_regression / max_increase / max_decrease into bounds on (candidate - champion)."""
    lows, highs = [], []
    if "max_increase" in limits:
        highs.append(limits["max_increase"])
    if "max_decrease" in limits:
        lows.append(-limits["max_decrease"])
    if "max_regression" in limits:
        if _direction(metric) > 0:
            lows.append(-limits["max_regression"])
        else:
            highs.append(limits["max_regression"])
    return (max(lows) if lows else None), (min(highs) if highs else None)


def change_sentence(metric: str, feature: str | None, limits: Mapping[str, float]) -> str:
    """A plain-language sentence of what a comparison rule checks."""
    label = metric.replace("_", " ")
    definition = get_metric(metric)
    across = definition is not None and definition.family == "disparity"
    scope = (f"across the groups of '{feature}'" if across else f"for every group of '{feature}'") if feature \
        else "over all rows"
    parts = []
    if "max_regression" in limits:
        worse = "fall" if _direction(metric) > 0 else "rise"
        parts.append(f"must not {worse} (get worse) by more than {limits['max_regression']:g}")
    if "max_increase" in limits:
        parts.append(f"must not rise by more than {limits['max_increase']:g}")
    if "max_decrease" in limits:
        parts.append(f"must not fall by more than {limits['max_decrease']:g}")
    return f"Compared with the champion, the {label} {scope} " + " and ".join(parts) + "."


def _direction(metric: str) -> int:
    definition = get_metric(metric)
    return definition.direction if definition is not None else 0
