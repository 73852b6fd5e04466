"""The Spark engine: the audited rows stay where they are; only bounded aggregates reach the driver.

It is the pandas engine's pipeline with Spark underneath: contracts are failure counts,
predictions run on the executors (``mapInPandas``), fairness, the champion comparison, data
bias and pack tables are group counts fed to the same pure functions as on one machine, drift
is counts per reference bin and per reference value, and explanations use a bounded
stratified sample. The numbers equal the pandas engine's (tests/spark). See ``docs/spark.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from ..errors import DataError
from ..paths import policy_relative
from ._interface import AuditData, Capabilities, EncodedTarget, ExplanationRows, ModelRun

__all__ = ["ENGINE", "SparkEngine", "SparkRun"]

CHAMPION_OUTPUTS = ("y_true_champion", "y_pred_champion", "y_score_champion")


@dataclass(frozen=True)
class SparkRun:
    """A model's outputs as Spark columns of ``scored`` (the audited rows plus the outputs)."""

    scored: Any                 # pyspark.sql.DataFrame
    spec: Any                   # the ModelSpec
    loaded: Any                 # the LoadedModel, or None for prediction columns


class SparkEngine:
    """Runs every stage on a Spark session (``data.engine: spark`` or ``--engine spark``)."""

    name = "spark"

    capabilities = Capabilities(
        evidence=frozenset({"contract", "data_bias", "drift", "fairness", "comparison", "packs", "explanations",
                            "reasons"}))

    # ---- data
    def columns(self, policy) -> list[str]:
        from ..spark import read_table, session

        # the names only: no scan of a CSV file to infer its types (read does that, once)
        return [str(c) for c in read_table(session(), policy.data.location, infer_schema=False).columns]

    def read(self, policy, say) -> AuditData:
        from ..spark import read_table, session

        say(f"reading {policy.data.location} with Spark")
        sdf = read_table(session(), policy.data.location)
        local = policy.data.path if policy.data.path.is_file() else None
        return AuditData(native=sdf, columns=tuple(str(c) for c in sdf.columns), rows=int(sdf.count()),
                         shown_path=policy_relative(policy.data.location, policy.folder), local_file=local)

    def check_sensitive_features(self, data: AuditData, policy) -> None:
        from pyspark.sql import functions as F
        from pyspark.sql.types import ArrayType, DoubleType, FloatType, MapType, StructType

        from ..sensitive import require_groups

        sdf = data.native
        types = {f.name: f.dataType for f in sdf.schema.fields}
        checks, missing = [], {}
        for feature in policy.sensitive_features:
            kind = types[feature]
            if isinstance(kind, (ArrayType, MapType, StructType)):
                raise DataError(f"{policy.data.location}: sensitive feature '{feature}' holds "
                                f"{kind.simpleString()} values; a sensitive feature must hold one category per row, "
                                "so flatten the column to text before auditing.")
            column = F.col(f"`{feature}`")
            is_missing = column.isNull() | F.isnan(column) if isinstance(kind, (DoubleType, FloatType)) else column.isNull()
            missing[feature] = is_missing
            checks += [F.count_distinct(F.when(~is_missing, column)).alias(f"d{len(checks)}"),
                       F.max(is_missing.cast("int")).alias(f"d{len(checks) + 1}")]
        if not checks:
            return
        row = sdf.agg(*checks).first()
        for i, feature in enumerate(policy.sensitive_features):
            distinct, any_missing = int(row[2 * i] or 0), bool(row[2 * i + 1])
            groups = distinct + (1 if any_missing else 0)
            first = None
            if groups < 2:
                first = sdf.select(f"`{feature}`").first()[0]
            require_groups(feature, policy.data.location, all_missing=distinct == 0, groups=groups, first=first)

    def validate_contract(self, data: AuditData, contract, *, name: str):
        from ..spark import validate_spark

        return validate_spark(data.native, contract, contract_name=name)

    # ---- target and predictions
    def encode_target(self, data: AuditData, policy) -> EncodedTarget:
        from pyspark.sql import functions as F

        from ..spark import encode_target_spark

        encoded, positive, labels = encode_target_spark(data.native, policy.data.target, policy.data.positive_label,
                                                        source=policy.data.location)
        base_rate = encoded.agg(F.avg(F.col("y_true").cast("double"))).first()[0]
        return EncodedTarget(task="classification", positive_label=positive, labels=tuple(labels),
                             base_rate=float(base_rate) if base_rate is not None else None, native=encoded)

    def predict(self, data: AuditData, target: EncodedTarget, spec, loaded, *, role: str, policy) -> ModelRun:
        from ..model import run_model_code
        from ..predictions import model_classes, model_feature_columns
        from ..spark import predict_spark, predictions_from_columns_spark

        sdf = data.native
        if loaded is None:
            cols = spec.predictions
            scored = predictions_from_columns_spark(sdf, target=policy.data.target, positive_label=policy.data.positive_label,
                                                    label=cols.label, score=cols.score)
            return ModelRun(role=role, loaded=None, threshold=None, feature_columns=(), has_scores=cols.score is not None,
                            native=SparkRun(_persist(scored) if role == "model" else scored, spec, None))
        estimator, path = loaded.estimator, loaded.path
        features = model_feature_columns(estimator, list(sdf.columns), exclude={policy.data.target}, path=path)
        classes = model_classes(estimator, path) or []
        has_scores = bool(classes) and run_model_code(path, "checking for predict_proba failed",
                                                      lambda: hasattr(estimator, "predict_proba"))
        scored = None
        if role == "model":
            scored = _persist(predict_spark(sdf, loaded, target=policy.data.target,
                                            positive_label=policy.data.positive_label, threshold=spec.threshold,
                                            feature_columns=features))
        return ModelRun(role=role, loaded=loaded, threshold=spec.threshold if has_scores else None,
                        feature_columns=tuple(features), has_scores=has_scores, native=SparkRun(scored, spec, loaded))

    # ---- evidence
    def data_bias(self, data: AuditData, target: EncodedTarget, policy):
        from ..spark import data_bias_spark

        return data_bias_spark(target.native, sensitive_features=list(policy.sensitive_features),
                               intersections=policy.intersections, target_column="y_true",
                               min_group_size=policy.fairness.min_group_size)

    def numeric_columns(self, data: AuditData) -> frozenset[str]:
        from pyspark.sql.types import NumericType

        return frozenset(f.name for f in data.native.schema.fields if isinstance(f.dataType, NumericType))

    def drift(self, data: AuditData, reference, *, columns, target, run, reference_outputs):
        from ..spark import drift_spark

        if run is None:
            return drift_spark(reference, data.native, columns=list(columns), target=target)
        output = "y_score" if run.has_scores else "y_pred"
        return drift_spark(reference, run.native.scored, columns=list(columns), target=target,
                           reference_predictions=reference_outputs, current_predictions_column=output)

    def fairness(self, target: EncodedTarget, run: ModelRun, data: AuditData, policy, options):
        from ..spark import fairness_spark

        return fairness_spark(run.native.scored, sensitive_features=list(options.sensitive_features),
                              y_score_col="y_score" if run.has_scores else None, **options.keywords())

    def compare(self, target: EncodedTarget, run: ModelRun, champion: ModelRun, data: AuditData, policy, options):
        from ..spark import compare_fairness_spark, predict_spark, predictions_from_columns_spark

        scored = run.native.scored
        spec, loaded = champion.native.spec, champion.native.loaded
        if loaded is None:
            joint = predictions_from_columns_spark(scored, target=policy.data.target, positive_label=policy.data.positive_label,
                                                   label=spec.predictions.label, score=spec.predictions.score,
                                                   output_columns=CHAMPION_OUTPUTS)
        else:
            joint = predict_spark(scored, loaded, target=policy.data.target, positive_label=policy.data.positive_label,
                                  threshold=spec.threshold, feature_columns=champion.feature_columns,
                                  output_columns=CHAMPION_OUTPUTS)
        if run.has_scores and champion.has_scores:
            return _compare_scored(joint, target, options)
        return compare_fairness_spark(
            joint, champion_column=CHAMPION_OUTPUTS[1], sensitive_features=list(options.sensitive_features),
            y_score_col="y_score" if run.has_scores else None,
            champion_score_col=CHAMPION_OUTPUTS[2] if champion.has_scores else None, **options.keywords())

    def group_counts(self, data: AuditData, run: ModelRun | None, columns: Sequence[str], *, flag=None):
        from pyspark.sql import functions as F

        from ..spark import group_counts_spark

        if flag is None:
            return group_counts_spark(data.native, list(columns))
        scored = run.native.scored
        if flag == "decision":
            return group_counts_spark(scored, list(columns), flag_column="y_pred")
        kind, cut = flag
        if kind != "score_above":
            raise ValueError(f"unknown flag {flag!r}")
        flagged = scored.withColumn("_auditkit_flag", (F.col("y_score") > F.lit(float(cut))).cast("tinyint"))
        return group_counts_spark(flagged, list(columns), flag_column="_auditkit_flag")

    def score_median(self, run: ModelRun) -> float:
        from ..spark import exact_median_spark

        return float(exact_median_spark(run.native.scored, "y_score"))

    def explanation_rows(self, data: AuditData, run: ModelRun, policy, *, rows: int, seed: int) -> ExplanationRows:
        from ..spark import stratified_sample

        sample = stratified_sample(data.native, sensitive_features=list(policy.sensitive_features), rows=int(rows),
                                   seed=seed)
        sensitive = sample[list(policy.sensitive_features)] if policy.sensitive_features else None
        return ExplanationRows(X=sample[list(run.feature_columns)], sensitive=sensitive, sample_rows=int(len(sample)),
                               population=sample.attrs.get("population_rows"))

    def facts(self) -> dict:
        """Which Spark ran the audit: pyspark version and master (or Spark Connect)."""
        import pyspark
        from pyspark.sql import SparkSession

        facts = {"name": "spark", "pyspark": pyspark.__version__}
        active = SparkSession.getActiveSession()
        if active is not None:
            try:
                facts["master"] = active.sparkContext.master
            except Exception:  # Spark Connect sessions have no SparkContext
                facts["master"] = "spark connect"
        return facts


def _compare_scored(joint, target, options):
    """The comparison of two scored models: their paired bootstrap of score-metric changes
    resamples blocks of rows in the data's order, so the sensitive features, the labels and both
    models' decisions and scores (five numbers a row) come to the driver, in that order, and the
    one-machine kernel compares them. Count metrics alone stay aggregates
    (:func:`auditkit.spark.compare_fairness_spark`)."""
    from ..fairness import compare_fairness

    names = list(options.sensitive_features)
    wanted = names + ["y_true", "y_pred", CHAMPION_OUTPUTS[1], "y_score", CHAMPION_OUTPUTS[2]]
    frame = joint.select(*[f"`{c}`" for c in wanted]).toPandas()
    return compare_fairness(frame["y_true"].to_numpy(), frame["y_pred"].to_numpy(),
                            frame[CHAMPION_OUTPUTS[1]].to_numpy(), frame[names],
                            y_score=frame["y_score"].to_numpy(), y_score_champion=frame[CHAMPION_OUTPUTS[2]].to_numpy(),
                            task=target.task, **options.keywords())


def _persist(sdf):
    """Keep a model's outputs once computed: every later stage reads them, and the model runs once."""
    from pyspark import StorageLevel

    try:
        return sdf.persist(StorageLevel.MEMORY_AND_DISK)
    except Exception:  # Spark Connect may not support persisting; then Spark recomputes
        return sdf


ENGINE = SparkEngine()
