"""The pandas engine: the audited rows in memory on one machine."""

from __future__ import annotations

from typing import Sequence

from ..paths import policy_relative
from ._interface import AuditData, Capabilities, EncodedTarget, ExplanationRows, ModelRun

__all__ = ["ENGINE", "PandasEngine"]


class PandasEngine:
    """Reads the data into a pandas DataFrame and computes every stage from its rows."""

    name = "pandas"
    capabilities = Capabilities(
        evidence=frozenset({"contract", "data_bias", "drift", "fairness", "comparison", "packs", "explanations",
                            "reasons"}),
        pending_labels=True)

    # ---- data
    def columns(self, policy) -> list[str]:
        from ..data import read_columns

        return read_columns(policy.data.path)

    def read(self, policy, say) -> AuditData:
        from ..data import load_table

        say(f"reading {policy.data.path.name}")
        frame = load_table(policy.data.path)
        frame.columns = [str(c) for c in frame.columns]
        return AuditData(native=frame, columns=tuple(frame.columns), rows=int(len(frame)),
                         shown_path=policy_relative(policy.data.path, policy.folder), local_file=policy.data.path)

    def check_sensitive_features(self, data: AuditData, policy) -> None:
        from ..sensitive import require_categories, require_groups

        frame = data.native
        for feature in policy.sensitive_features:
            column = frame[feature]
            require_categories(column, feature, policy.data.path)
            missing = column.isna().to_numpy(dtype=bool)
            require_groups(feature, policy.data.path, all_missing=bool(missing.all()),
                           groups=_groups_at_least_two(column, missing), first=column.iloc[0])

    def validate_contract(self, data: AuditData, contract, *, name: str):
        from ..contract import validate

        return validate(data.native, contract, contract_name=name)

    # ---- target and predictions
    def encode_target(self, data: AuditData, policy) -> EncodedTarget:
        from ..predictions import encode_target

        target = encode_target(data.native[policy.data.target], policy.data.positive_label, source=policy.data.path)
        base_rate = float(target.values.mean()) if target.task == "classification" else None
        return EncodedTarget(task=target.task, positive_label=target.positive_label, labels=tuple(target.labels),
                             base_rate=base_rate, native=target)

    def without_columns(self, data: AuditData, columns) -> AuditData:
        from dataclasses import replace

        dropped = [c for c in columns if c in data.native.columns]
        if not dropped:
            return data
        frame = data.native.drop(columns=dropped)
        return replace(data, native=frame, columns=tuple(frame.columns))

    def pending_target(self, data: AuditData, policy, *, model=None) -> EncodedTarget:
        from ..predictions import Target

        task, positive = _pending_task(data.native, policy, model)
        return EncodedTarget(task=task, positive_label=positive, labels=(), base_rate=None,
                             native=Target(values=None, task=task, positive_label=positive, labels=()))

    def predict(self, data: AuditData, target: EncodedTarget, spec, loaded, *, role: str, policy) -> ModelRun:
        from ..predictions import predict_with_model, predictions_from_columns

        frame = data.native
        if loaded is None:
            cols = spec.predictions
            predictions = predictions_from_columns(frame, target.native, label=cols.label, score=cols.score,
                                                   threshold=spec.threshold, source=policy.data.path)
        else:
            predictions = predict_with_model(loaded, frame, target.native, threshold=spec.threshold,
                                             exclude={policy.data.target})
        return ModelRun(role=role, loaded=loaded, threshold=predictions.threshold,
                        feature_columns=tuple(predictions.feature_columns), has_scores=predictions.y_score is not None,
                        native=predictions)

    # ---- evidence
    def data_bias(self, data: AuditData, target: EncodedTarget, policy):
        from ..data_bias import assess_data_bias

        return assess_data_bias(
            data.native, sensitive_features=list(policy.sensitive_features), intersections=policy.intersections,
            target=target.native.values if target.task == "classification" else None,
            min_group_size=policy.fairness.min_group_size)

    def numeric_columns(self, data: AuditData) -> frozenset[str]:
        import pandas as pd

        frame = data.native
        return frozenset(c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c]))

    def drift(self, data: AuditData, reference, *, columns, target, run, reference_outputs):
        from ..drift import measure_drift

        current = None
        if run is not None and reference_outputs is not None:
            p = run.native
            current = p.y_score if p.y_score is not None else p.y_pred
        return measure_drift(reference, data.native, columns=list(columns), target=target,
                             reference_predictions=reference_outputs if current is not None else None,
                             current_predictions=current)

    def fairness(self, target: EncodedTarget, run: ModelRun, data: AuditData, policy, options):
        from ..fairness import assess_fairness

        p = run.native
        if target.native.values is None:  # labels pending: only what the decisions and scores tell
            from ..fairness import assess_fairness_without_labels

            return assess_fairness_without_labels(p.y_pred, self._sensitive(data, options), y_score=p.y_score,
                                                  task=target.task, **options.keywords())
        return assess_fairness(target.native.values, p.y_pred, self._sensitive(data, options),
                               y_score=p.y_score, task=target.task, **options.keywords())

    def compare(self, target: EncodedTarget, run: ModelRun, champion: ModelRun, data: AuditData, policy, options):
        from ..fairness import compare_fairness

        p, c = run.native, champion.native
        return compare_fairness(target.native.values, p.y_pred, c.y_pred, self._sensitive(data, options),
                                y_score=p.y_score, y_score_champion=c.y_score, task=target.task,
                                **options.keywords())

    @staticmethod
    def _sensitive(data: AuditData, options):
        import pandas as pd

        frame = data.native
        if options.sensitive_features:
            return frame[list(options.sensitive_features)]
        return pd.DataFrame(index=frame.index)

    def group_counts(self, data: AuditData, run: ModelRun | None, columns: Sequence[str], *, flag=None):
        from ..group_counts import group_counts

        return group_counts(data.native, list(columns), flag=self._flag_values(run, flag))

    @staticmethod
    def _flag_values(run: ModelRun | None, flag):
        """The 0/1 flag per row: the model's positive decision, or a score above a cut."""
        import numpy as np

        if flag is None:
            return None
        if flag == "decision":
            return np.asarray(run.native.y_pred, dtype=np.int8)
        kind, cut = flag
        if kind != "score_above":
            raise ValueError(f"unknown flag {flag!r}")
        return (np.asarray(run.native.y_score) > cut).astype(np.int8)

    def score_median(self, run: ModelRun) -> float:
        import numpy as np

        return float(np.median(np.asarray(run.native.y_score)))

    def explanation_rows(self, data: AuditData, run: ModelRun, policy, *, rows: int, seed: int) -> ExplanationRows:
        frame = data.native
        sensitive = frame[list(policy.sensitive_features)] if policy.sensitive_features else None
        return ExplanationRows(X=frame[list(run.feature_columns)], sensitive=sensitive)

    def facts(self):
        return None


def _pending_task(frame, policy, loaded) -> tuple[str, str | None]:
    """(task, positive label key) of an audit whose labels are pending, from what is not a label:
    ``data.positive_label``; else the model's classes (0/1 or false/true), or its absence of
    classes (a regressor); else the prediction column's values."""
    import numpy as np
    import pandas as pd

    from ..errors import DataError
    from ..predictions import label_key, model_classes

    if policy.data.positive_label is not None:
        return "classification", label_key(policy.data.positive_label)
    if policy.model is None:  # no decisions to audit: the task is moot
        return "classification", None
    where = policy.source or "policy"
    fix = "set data.positive_label to the favourable outcome"
    if loaded is not None:
        classes = model_classes(loaded.estimator, loaded.path)
        if classes is None:
            return "regression", None
        for positive, pair in (("1", {"0", "1"}), ("true", {"false", "true"})):
            if set(classes) <= pair:
                return "classification", positive
        raise DataError(f"{where}: with labels pending the positive outcome cannot be read from the data, and the model's "
                        f"classes are not 0/1; {fix}.")
    if policy.model is not None and policy.model.predictions is not None:
        column = frame[policy.model.predictions.label]
        if pd.api.types.is_bool_dtype(column):
            return "classification", "true"
        if pd.api.types.is_numeric_dtype(column):
            if set(np.unique(column.dropna().to_numpy())) <= {0, 1}:
                return "classification", "1"
            return "regression", None
    raise DataError(f"{where}: with labels pending the positive outcome cannot be read from the data; {fix}.")


def _groups_at_least_two(column, missing) -> int:
    """``column.nunique(dropna=False)`` when it is below 2, else 2 (all a sensitive feature
    must have), from the column's codes, which the data-bias and fairness stages reuse."""
    if missing.any():
        return 2 if not missing.all() else 1  # missing values are a group of their own
    if len(column) == 0:
        return 0
    if column.dtype == object:  # values of mixed types: hashing decides what is one group
        return min(int(column.nunique(dropna=False)), 2)
    from ..sensitive import factorize

    return min(len(factorize(column)[1]), 2)


ENGINE = PandasEngine()
