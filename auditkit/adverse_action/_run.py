"""``audit reasons``: the reasons of a policy's adverse decisions, with its reason codes and its
protections (sensitive features and their flagged proxies are never stated unless allowed)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..errors import PolicyError

__all__ = ["PolicyReasons", "reasons_for_policy"]


@dataclass(frozen=True)
class PolicyReasons:
    """The reasons of a policy's rows and how they were obtained."""

    frame: pd.DataFrame          # as auditkit.reasons returns it
    adverse: int                 # adverse decisions among the rows
    rows: int
    protected: tuple[str, ...]   # never stated (sensitive features, flagged proxies), minus allowed
    excluded: tuple[str, ...]    # never stated by the policy's reasons.exclude
    proxies: tuple[str, ...]     # inputs flagged as proxies of a sensitive feature
    k: int
    baseline: str
    coded: bool                  # whether the policy maps inputs to reason codes


def reasons_for_policy(policy, *, data=None, model=None, trust_model: bool = False, rows: str = "adverse",
                       seed: int = 0, say=lambda _m: None) -> PolicyReasons:
    """Compute the reasons of the rows of ``policy``'s data with its model and ``reasons:`` block.

    Raises
    ------
    AuditkitError
        A bad policy (no runnable model, codes naming no model input), data or model.
    """
    from ..data import load_table
    from ..model import load_model
    from ..policy import Policy, ReasonsSpec, load_policy
    from ._api import _model_columns, positive_scores, reasons
    from ._codes import ReasonCodes

    say = say or (lambda _m: None)
    policy = policy if isinstance(policy, Policy) else load_policy(Path(policy))
    policy = policy.with_overrides(data=data, model=model, trust=trust_model)
    where = policy.source or "policy"
    if policy.model is None or policy.model.path is None or policy.model.uri is not None:
        raise PolicyError(f"{where}: 'audit reasons' needs a model file in model.path (decisions read from columns "
                          "have no reasons to compute); add it or pass --model.")
    spec = policy.reasons or ReasonsSpec()
    say(f"reading {policy.data.path.name}")
    frame = load_table(policy.data.path)
    frame.columns = [str(c) for c in frame.columns]
    say(f"loading {policy.model.path.name}")
    estimator = load_model(policy.model.path, trust=policy.model.trust).estimator
    features = _model_columns(estimator, frame)
    unknown = [c for c in (spec.codes or {}) if c not in features]
    if unknown:
        raise PolicyError(f"{where}: key 'reasons.codes' names {', '.join(unknown[:8])}, which the model does not "
                          f"take as input; its inputs are {', '.join(features[:12])}{' …' if len(features) > 12 else ''}.")
    positive = _positive_class(estimator, policy.data.positive_label)
    sensitive = [c for c in policy.sensitive_features if c in frame.columns]
    proxies = _flagged_proxies(estimator, frame, features, sensitive, policy, seed, say)
    protected = tuple(dict.fromkeys([c for c in sensitive if c in features] + list(proxies)))
    codes = ReasonCodes(codes=spec.codes, exclude=spec.exclude, protected=protected, allow=spec.allow,
                        fallback=spec.fallback)
    threshold = policy.model.threshold
    scores = positive_scores(estimator, frame[features], positive)
    say("computing reasons")
    table = reasons(estimator, frame, k=spec.k, baseline=spec.baseline, codes=codes, rows=rows,
                    positive_class=positive, threshold=threshold, seed=seed)
    return PolicyReasons(frame=table, adverse=int((scores < threshold).sum()), rows=len(frame),
                         protected=tuple(c for c in protected if c not in spec.allow),
                         excluded=tuple(c for c in spec.exclude if c in features), proxies=proxies, k=spec.k,
                         baseline=spec.baseline, coded=spec.codes is not None)


def _positive_class(estimator, positive_label):
    """The model's class that is the policy's favourable label (matched as text, like the audit)."""
    from ..predictions import label_key

    classes = list(estimator.classes_)
    if positive_label is None:
        return classes[1]
    for c in classes:
        if label_key(c) == label_key(positive_label):
            return c
    raise PolicyError(f"data.positive_label {positive_label!r} is not one of the model's classes {classes!r}.")


def _flagged_proxies(estimator, frame, features, sensitive, policy, seed, say) -> tuple[str, ...]:
    """Inputs the explanations flag as proxies of a sensitive feature (on a sample of rows)."""
    if not sensitive:
        return ()
    from ..explanations import explain

    say("checking which inputs are proxies of the sensitive features")
    result = explain(estimator, frame[features], sensitive_features=frame[sensitive],
                     max_rows=min(policy.explain.max_rows, 2000), seed=seed, progress=False)
    proxies = result.proxies_frame
    flagged = proxies[proxies["flagged"].astype(bool)]["input_feature"].astype(str)
    return tuple(c for c in dict.fromkeys(flagged) if c in features)
