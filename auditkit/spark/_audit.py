"""``audit_spark``: every Spark stage of an audit in one call, for the pipeline's Spark branch.

It only chains the public functions of this package (read -> contract -> predictions ->
fairness -> stratified sample) and returns plain results; rules, explanations and
writing stay with the pipeline, which treats them exactly as for the pandas engine.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from auditkit.fairness._vocabulary import DEFAULT_METRICS

__all__ = ["SparkAudit", "audit_spark"]


@dataclass(frozen=True)
class SparkAudit:
    """What the Spark stages produced.

    Attributes
    ----------
    rows : int
        Rows audited.
    columns : tuple of str
        Columns of the data as read by Spark.
    contract : ContractResult or None
    positive_label : str
        The positive label as matched (``label_key`` form).
    labels : tuple of str
        The target's two labels.
    fairness : FairnessResult or None
        None without a model or prediction columns.
    feature_columns : tuple of str
        The model's input columns (empty for prediction columns).
    sample : pandas.DataFrame or None
        Stratified rows for explanations (``explain_rows`` of them), or None.
    sample_population : int or None
        Rows the sample was drawn from.
    """

    rows: int
    columns: tuple[str, ...]
    contract: Any
    positive_label: str
    labels: tuple[str, ...]
    fairness: Any
    feature_columns: tuple[str, ...] = ()
    sample: Any = None
    sample_population: int | None = None

    @property
    def base_rate(self) -> float | None:
        if self.fairness is None:
            return None
        return self.fairness.overall.get("base_rate")


def audit_spark(
    source,
    *,
    target: str,
    positive_label,
    sensitive_features: Sequence[str] = (),
    intersections: Sequence[Sequence[str]] = (),
    contract=None,
    model=None,
    threshold: float = 0.5,
    prediction_label: str | None = None,
    prediction_score: str | None = None,
    metrics: Sequence[str] = DEFAULT_METRICS,
    reference_groups: Mapping[str, str] | None = None,
    min_group_size: int = 30,
    bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    explain_rows: int = 0,
    spark=None,
    master: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> SparkAudit:
    """Run the data, contract, prediction and fairness stages on Spark.

    Parameters
    ----------
    source : str, Path or pyspark.sql.DataFrame
        What :func:`read_table` reads (Parquet, CSV, table name), or a DataFrame.
    target, positive_label, sensitive_features, intersections
        As in the policy (``data.target``, ``data.positive_label``, ...).
    contract : str or Path, optional
        Pandera YAML contract (``data.contract``).
    model : LoadedModel, optional
        From :func:`auditkit.model.load_model`; applied on the executors.
    threshold : float
        ``model.threshold``.
    prediction_label, prediction_score : str, optional
        ``model.predictions.label`` / ``.score`` when no model is run.
    metrics, reference_groups, min_group_size, bootstrap, confidence, seed
        The policy's ``fairness`` section and the run's seed.
    explain_rows : int
        ``explain.max_rows`` when explanations will run (0: no sample).
    spark : SparkSession, optional
        Default: :func:`session` with `master`.
    progress : callable, optional
        Called with a short message before each stage.

    Returns
    -------
    SparkAudit
    """
    from ._contract import validate_spark
    from ._fairness import fairness_spark
    from ._predict import predict_spark, predictions_from_columns_spark
    from ._read import read_table
    from ._sample import stratified_sample
    from ._session import session

    say = progress or (lambda _msg: None)
    if hasattr(source, "schema") and hasattr(source, "groupBy"):
        sdf = source
    else:
        spark = spark or session(master)
        say(f"reading {source} with Spark")
        sdf = read_table(spark, source)
    sensitive = [str(c) for c in sensitive_features]

    contract_result = None
    if contract is not None:
        say("checking the data contract on Spark")
        contract_result = validate_spark(sdf, contract, contract_name=str(contract))

    from ._predict import _target_key

    positive, labels = _target_key(sdf, target, positive_label)
    scored, features = None, ()
    if model is not None:
        say("predicting on the executors")
        scored = predict_spark(sdf, model, target=target, positive_label=positive_label, threshold=threshold,
                               exclude=())
        estimator = getattr(model, "estimator", model)
        from auditkit.predictions import model_feature_columns

        features = model_feature_columns(estimator, list(sdf.columns), exclude={target},
                                         path=getattr(model, "path", "model"))
    elif prediction_label is not None:
        scored = predictions_from_columns_spark(sdf, target=target, positive_label=positive_label,
                                                label=prediction_label, score=prediction_score)

    fairness = None
    if scored is not None:
        say(f"fairness counts on Spark, {bootstrap:,} bootstrap resamples" if bootstrap else "fairness counts on Spark")
        has_score = model is not None and hasattr(getattr(model, "estimator", model), "predict_proba")
        fairness = fairness_spark(
            scored, sensitive_features=sensitive, intersections=intersections,
            y_score_col="y_score" if (has_score or prediction_score) else None,
            metrics=metrics, reference_groups=reference_groups, min_group_size=min_group_size,
            bootstrap=bootstrap, confidence=confidence, seed=seed,
        )
        rows = fairness.n_rows
    else:
        rows = int(sdf.count())

    sample, population = None, None
    if explain_rows and model is not None:
        say(f"drawing a stratified sample of {explain_rows:,} rows for explanations")
        sample = stratified_sample(sdf, sensitive_features=sensitive, rows=int(explain_rows), seed=seed)
        population = sample.attrs.get("population_rows")
    return SparkAudit(rows=rows, columns=tuple(sdf.columns), contract=contract_result, positive_label=positive,
                      labels=tuple(labels), fairness=fairness, feature_columns=tuple(features), sample=sample,
                      sample_population=population)
