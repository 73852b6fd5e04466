"""The engine interface and the values that cross it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping, Protocol, Sequence

__all__ = ["AuditData", "Capabilities", "EncodedTarget", "Engine", "ExplanationRows", "FairnessOptions", "ModelRun",
           "check_support"]


@dataclass(frozen=True)
class FairnessOptions:
    """How fairness is assessed: the policy's ``fairness`` section, its groups and the run's seed."""

    sensitive_features: tuple[str, ...]
    intersections: tuple[tuple[str, ...], ...]
    metrics: tuple[str, ...]
    reference_groups: Mapping[str, str]
    min_group_size: int
    bootstrap: int
    confidence: float
    seed: int

    @classmethod
    def from_policy(cls, policy, seed: int) -> "FairnessOptions":
        fs = policy.fairness
        return cls(sensitive_features=tuple(policy.sensitive_features), intersections=tuple(policy.intersections),
                   metrics=tuple(fs.metrics), reference_groups=dict(fs.reference_groups),
                   min_group_size=fs.min_group_size, bootstrap=fs.bootstrap, confidence=fs.confidence, seed=seed)

    def keywords(self) -> dict:
        """The keyword arguments of :func:`auditkit.fairness.assess_fairness` (groups aside)."""
        return dict(intersections=self.intersections, metrics=self.metrics, reference_groups=dict(self.reference_groups),
                    min_group_size=self.min_group_size, bootstrap=self.bootstrap, confidence=self.confidence,
                    seed=self.seed)


@dataclass(frozen=True)
class Capabilities:
    """What an engine computes.

    Attributes
    ----------
    evidence : frozenset of str
        Stage results it can produce: ``contract``, ``data_bias``, ``drift``, ``fairness``,
        ``comparison`` (a champion), ``packs``, ``explanations``.
    comparison_metrics : frozenset of str or None
        The fairness metrics a champion comparison can compute (None: all of them).
    registry_models : bool
        It can run a model fetched from an MLflow registry.
    pending_labels : bool
        It can audit a batch whose labels have not arrived (``labels="pending"``).
    """

    evidence: frozenset[str]
    comparison_metrics: frozenset[str] | None = None
    registry_models: bool = True
    pending_labels: bool = False


@dataclass(frozen=True)
class AuditData:
    """The audited rows as an engine holds them.

    ``native`` is the engine's own table (a pandas DataFrame, a Spark DataFrame); the stages
    never look inside it.
    """

    native: Any
    columns: tuple[str, ...]
    rows: int
    shown_path: str          # the data's location as outputs show it (relative to the policy)
    local_file: Any = None   # the local file read, when there is one (for its SHA-256)


@dataclass(frozen=True)
class EncodedTarget:
    """The target column as the audit uses it: 0/1 for classification, numbers for regression."""

    task: str                       # classification | regression
    positive_label: str | None
    labels: tuple[str, ...]
    base_rate: float | None
    native: Any                     # the engine's encoded column (numpy array, Spark column name)


@dataclass(frozen=True)
class ModelRun:
    """One model's decisions (and scores) on the audited rows."""

    role: str                        # "model" or "champion"
    loaded: Any                      # the LoadedModel, or None for prediction columns
    threshold: float | None
    feature_columns: tuple[str, ...]
    has_scores: bool
    native: Any                      # the engine's predictions (Predictions arrays, a scored Spark DataFrame)


@dataclass(frozen=True)
class ExplanationRows:
    """The rows explanations are computed on: all of them or a stratified sample."""

    X: Any                           # pandas DataFrame of the model's input columns
    sensitive: Any                   # pandas DataFrame of the sensitive features, or None
    sample_rows: int | None = None   # with a sample: its size ...
    population: int | None = None    # ... and the rows it was drawn from


class Engine(Protocol):
    """Reads, counts and predicts the rows of an audit. See ``docs/architecture.md``."""

    name: str
    capabilities: Capabilities

    def columns(self, policy) -> list[str]:
        """The data's column names, from its header alone."""

    def read(self, policy, say: Callable[[str], None]) -> AuditData:
        """The audited rows."""

    def validate_contract(self, data: AuditData, contract, *, name: str):
        """The data contract's result (:class:`auditkit.contract.ContractResult`)."""

    def check_sensitive_features(self, data: AuditData, policy) -> None:
        """Refuse a sensitive feature that is not one category per row, or has a single group."""

    def encode_target(self, data: AuditData, policy) -> EncodedTarget:
        """The target column, encoded (``DataError`` for a target auditkit cannot use)."""

    def without_columns(self, data: AuditData, columns: Sequence[str]) -> AuditData:
        """The rows without these columns (those it does not have are ignored)."""

    def pending_target(self, data: AuditData, policy, *, model=None) -> EncodedTarget:
        """The target of a batch whose labels are pending: the task and positive label, no values."""

    def predict(self, data: AuditData, target: EncodedTarget, spec, loaded, *, role: str, policy) -> ModelRun:
        """A model's decisions: running ``loaded``, or reading the prediction columns of ``spec``."""

    def data_bias(self, data: AuditData, target: EncodedTarget, policy):
        """Representation, base rates and missingness per group (:class:`DataBiasResult`)."""

    def numeric_columns(self, data: AuditData) -> frozenset[str]:
        """The columns holding numbers (drift compares numeric and categorical columns differently)."""

    def drift(self, data: AuditData, reference, *, columns: Sequence[str], target: str | None,
              run: ModelRun | None, reference_outputs):
        """Drift of the columns, the target and the model's outputs against a pandas reference frame."""

    def fairness(self, target: EncodedTarget, run: ModelRun, data: AuditData, policy, options):
        """The fairness result of one model."""

    def compare(self, target: EncodedTarget, run: ModelRun, champion: ModelRun, data: AuditData, policy, options):
        """The candidate against the champion on the same rows (:class:`FairnessComparison`)."""

    def group_counts(self, data: AuditData, run: ModelRun | None, columns: Sequence[str], *, flag=None):
        """Rows (``n``) and flagged rows (``hits``) per combination of the columns' values."""

    def score_median(self, run: ModelRun) -> float:
        """The exact median of the model's scores over all audited rows."""

    def explanation_rows(self, data: AuditData, run: ModelRun, policy, *, rows: int, seed: int) -> ExplanationRows:
        """The rows to explain."""

    def facts(self) -> Mapping[str, Any] | None:
        """What ran the audit (for provenance), or None."""


def check_support(capabilities: Capabilities, engine_name: str, policy, *, labels: str = "present") -> None:
    """Refuse, before any work, what the policy asks and the engine does not compute.

    Raises
    ------
    PolicyError
        Naming the policy key and the engine.
    """
    from ..errors import PolicyError
    from ..metrics import get_metric

    where = str(policy.source) if policy.source is not None else "policy"
    has = capabilities.evidence

    def refuse(key: str, what: str) -> None:
        raise PolicyError(f"{where}: key '{key}': {what} is not computed by the {engine_name} engine; "
                          f"use engine: pandas or remove it.")

    if labels == "pending" and not capabilities.pending_labels:
        raise PolicyError(f"{where}: an audit with labels pending is not computed by the {engine_name} engine; "
                          "use engine: pandas (data.engine or --engine pandas) or audit the batch once its labels arrive.")
    if policy.data.contract is not None and "contract" not in has:
        refuse("data.contract", "the data contract")
    if policy.data.reference is not None and "drift" not in has:
        refuse("data.reference", "drift against reference data")
    if policy.champion is not None:
        if "comparison" not in has:
            refuse("champion", "the champion comparison")
        if capabilities.comparison_metrics is not None:
            for i, metric in enumerate(policy.fairness.metrics):
                if metric not in capabilities.comparison_metrics:
                    refuse(f"fairness.metrics[{i}]", f"comparing '{metric}' with the champion")
    if policy.extends and "packs" not in has:
        refuse("extends", "a policy pack")
    if policy.champion is not None and policy.champion.uri is not None and not capabilities.registry_models:
        refuse("champion.path", "a registry model")
    if policy.model is not None and policy.model.uri is not None and not capabilities.registry_models:
        refuse("model.path", "a registry model")
    for i, rule in enumerate(policy.rules):
        metric = get_metric(rule.metric)
        evidence = "packs" if metric.evidence.startswith("pack:") else metric.evidence
        if rule.compare is not None:
            evidence = "comparison"
        if evidence == "fairness" and metric.family == "disparity" and "model" not in metric.needs and policy.model is None:
            evidence = "data_bias"  # from the labels alone
        if evidence not in has:
            refuse(f"rules[{i}].metric", f"rule '{rule.id}': '{rule.metric}'")
