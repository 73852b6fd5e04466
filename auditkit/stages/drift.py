"""Stage 6: drift of the audited data (and the model's outputs) against the reference data."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import DataError, ModelError

__all__ = ["DriftOutcome", "measure"]


@dataclass(frozen=True)
class DriftOutcome:
    result: object | None            # DriftResult, or None without reference data
    warnings: tuple[str, ...] = ()   # columns or outputs left unmeasured, and why


def measure(plan, data, predicted) -> DriftOutcome:
    """Drift of every shared column, the target (unless its labels are pending) and the model's
    outputs against ``data.reference``.

    The reference (typically the training data) is read with pandas on every engine; the
    engine compares the audited rows with it.
    """
    policy = plan.policy
    if policy.data.reference is None:
        return DriftOutcome(None)
    from ..data import load_table

    plan.say(f"drift against {policy.data.reference.name}")
    reference = load_table(policy.data.reference)
    reference.columns = [str(c) for c in reference.columns]
    warnings: list[str] = []
    columns = _comparable_columns(plan, data, reference, warnings)
    target_column = policy.data.target if policy.data.target in reference.columns else None
    # With labels pending the target is never compared: the audited rows have no labels.
    measured_target = target_column if getattr(plan, "labels", "present") != "pending" else None
    run = predicted.candidate
    reference_outputs = None
    if run is not None:
        reference_outputs = _reference_outputs(plan, reference, run, predicted.target, target_column, warnings)
    result = plan.engine.drift(data, reference, columns=columns, target=measured_target,
                               run=run if reference_outputs is not None else None,
                               reference_outputs=reference_outputs)
    return DriftOutcome(result, tuple(warnings))


def _comparable_columns(plan, data, reference, warnings: list[str]) -> list[str]:
    policy = plan.policy
    skip = {policy.data.target}
    if policy.model is not None and policy.model.predictions is not None:
        skip |= {policy.model.predictions.label, policy.model.predictions.score}
    numeric_now = plan.engine.numeric_columns(data)
    import pandas as pd

    columns = []
    for column in data.columns:
        if column in skip:
            continue
        if column not in reference.columns:
            warnings.append(f"drift: column '{column}' is not in the reference data {policy.data.reference.name}; not measured.")
            continue
        if pd.api.types.is_numeric_dtype(reference[column]) and column not in numeric_now:
            warnings.append(f"drift: column '{column}' is numeric in the reference data but not in the audited data; not measured (the contract shows why).")
            continue
        columns.append(column)
    return columns


def _reference_outputs(plan, reference, run, target, target_column, warnings: list[str]):
    """The model's outputs on the reference data (scores when it has them, else decisions), or None."""
    policy = plan.policy
    if run.loaded is None:
        cols = policy.model.predictions
        source = cols.score if run.has_scores else cols.label
        if source not in reference.columns:
            return None
        if run.has_scores:
            return reference[source].to_numpy()
        from ..predictions import label_key

        return (reference[source].map(label_key) == target.positive_label).astype("int8").to_numpy()
    return _predict_reference(plan, reference, run, target, target_column, warnings)


def _predict_reference(plan, reference, run, target, target_column, warnings: list[str]):
    """The model run on the reference data, or None (with a warning) when it cannot take that data.

    A reference without the target's labels or the model's columns only leaves the drift of the
    predictions unmeasured; a model that fails or misbehaves on rows it can take is exit 2, as
    on the audited data.
    """
    from ..predictions import Target, encode_target, model_feature_columns, predict_with_model

    policy = plan.policy
    loaded = run.loaded
    try:
        if target_column:
            ref_target = encode_target(reference[policy.data.target], policy.data.positive_label,
                                       source=policy.data.reference)
        else:  # the labels are not needed to predict; only the positive label is
            ref_target = Target(values=None, task=target.task, positive_label=target.positive_label,
                                labels=tuple(target.labels))
        model_feature_columns(loaded.estimator, list(reference.columns), exclude={policy.data.target}, path=loaded.path)
    except (DataError, ModelError) as exc:
        warnings.append(f"drift of the predictions not measured: {exc.message}")
        return None
    try:
        predicted = predict_with_model(loaded, reference, ref_target, threshold=policy.model.threshold,
                                       exclude={policy.data.target})
    except ModelError as exc:
        raise ModelError(f"{exc.message.rstrip('.')} (on the reference data {policy.data.reference.name}).") from None
    return predicted.y_score if run.has_scores else predicted.y_pred
