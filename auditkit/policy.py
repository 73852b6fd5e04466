"""The policy file (``audit.yaml``): frozen dataclasses and a strict loader.

``load_policy`` validates everything that can be checked without reading the data: unknown,
missing and mistyped keys, paths that do not exist, rules naming unknown metrics or
features. Checks that need the data's columns live in :func:`check_columns`, which the
pipeline calls once the data header is known. Every problem is a :class:`PolicyError` whose
message names the file and the key path (``rules[2].metric``) and says what to do.
"""

from __future__ import annotations

import difflib
import hashlib
import math
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Mapping

from .errors import PolicyError
from .sanitize import short_repr
from .metrics import DEFAULT_FAIRNESS_METRICS, GROUP_METRICS, change_bounds, get_metric, metric_names

__all__ = [
    "DataSpec",
    "ExplainSpec",
    "FairnessSpec",
    "ModelSpec",
    "Policy",
    "PopulationSpec",
    "PredictionColumns",
    "Rule",
    "Waiver",
    "check_columns",
    "load_policy",
    "policy_from_dict",
]

SUPPORTED_VERSIONS = (1,)
INTERSECTION_JOIN = " & "  # joins the features (and the groups) of an intersection in results
# Upper bounds of whole-number settings: far above any real use, low enough that a typo (or a
# hostile 10**30) cannot turn into a run that never ends or allocates without bound.
MAX_BOOTSTRAP = 100_000
MAX_EXPLAIN_ROWS = 1_000_000
MAX_MIN_GROUP_SIZE = 1_000_000_000
CHANGE_KEYS = ("max_regression", "max_increase", "max_decrease")
ENGINES = ("pandas", "spark")
TREND_KINDS = ("widening", "departs_from_first")
MAX_TREND_AUDITS = 100
RULE_KEYS = {"feature", "min", "max", "severity", "rationale", "decide_on", "on_inconclusive", "waiver", "compare",
             "trend", "audits", "min_change", *CHANGE_KEYS}
# What a policy may change in a rule it inherits from a pack (by giving a rule with the same id), besides
# the extra keys the rule's metric defines (Metric.rule_options).
OVERRIDE_KEYS = {"id", "metric", "feature", "min", "max", "severity", "rationale", "decide_on", "on_inconclusive",
                 "waiver"}


@dataclass(frozen=True)
class DataSpec:
    path: Path
    target: str
    positive_label: Any = None
    contract: Path | None = None
    reference: Path | None = None
    engine: str = "pandas"  # or "spark"
    source: str | None = None  # with engine spark: what Spark reads (file, folder, URI or table name)

    @property
    def location(self) -> str:
        return self.source or str(self.path)


@dataclass(frozen=True)
class PredictionColumns:
    label: str
    score: str | None = None


@dataclass(frozen=True)
class ModelSpec:
    path: Path | None = None
    predictions: PredictionColumns | None = None
    trust: bool | tuple[str, ...] = False
    threshold: float = 0.5
    uri: str | None = None  # a models:/ registry URI instead of a file

    @property
    def location(self) -> str | None:
        return self.uri or (str(self.path) if self.path is not None else None)

    @property
    def runnable(self) -> bool:
        """A model object can be loaded (not only its prediction columns)."""
        return self.path is not None or self.uri is not None


@dataclass(frozen=True)
class FairnessSpec:
    metrics: tuple[str, ...] = DEFAULT_FAIRNESS_METRICS
    reference_groups: Mapping[str, str] = field(default_factory=dict)
    min_group_size: int = 30
    bootstrap: int = 1000
    confidence: float = 0.95


EXPLAIN_ALGORITHMS = ("interventional", "path_dependent")


@dataclass(frozen=True)
class ExplainSpec:
    enabled: bool = True
    max_rows: int = 2000
    algorithm: str = "interventional"  # or "path_dependent" (tree models; docs/explanations.md)


@dataclass(frozen=True)
class RemediesSpec:
    """The policy's ``remedies:`` block (docs/remedies.md). Without it, remedies are searched
    whenever a fairness rule fails or is inconclusive, with these defaults."""

    enabled: bool = True
    requested: bool = False  # the block is present: search even when every rule passes
    candidates: tuple[str, ...] = ("single_threshold", "group_thresholds", "neutralize_proxy", "reweigh")
    group_aware: bool = True
    folds: int = 5
    objective: str = "accuracy_score"
    train: Path | None = None


@dataclass(frozen=True)
class ReasonsSpec:
    """The policy's ``reasons:`` block (docs/reasons.md): reason codes for adverse decisions."""

    k: int = 4
    baseline: str = "background"
    codes: Mapping[str, str] | None = None
    exclude: tuple[str, ...] = ()
    allow: tuple[str, ...] = ()
    fallback: str | None = None


REASON_BASELINES = ("background", "approved")
REMEDY_CANDIDATES = ("single_threshold", "group_thresholds", "neutralize_proxy", "reweigh")
REMEDY_OBJECTIVES = ("accuracy_score", "balanced_accuracy_score")


@dataclass(frozen=True)
class Waiver:
    """An approved, dated exception: a failing rule is reported as waived until ``expires``."""

    reason: str
    approved_by: str
    expires: date

    def active(self, today: date) -> bool:
        return today <= self.expires

    def to_dict(self) -> dict:
        return {"reason": self.reason, "approved_by": self.approved_by, "expires": self.expires.isoformat()}


@dataclass(frozen=True)
class Trend:
    """What a trend rule judges in the ledger's history of its metric (docs/ledger.md).

    ``widening``: the metric moved in its worse direction by more than ``min_change`` in each
    of the last ``audits`` audits (this one included). ``departs_from_first``: this audit's
    interval no longer overlaps the interval of the first audit in the ledger.
    """

    kind: str
    audits: int = 3
    min_change: float = 0.0

    def to_dict(self) -> dict:
        out = {"kind": self.kind}
        if self.kind == "widening":
            out.update(audits=self.audits, min_change=self.min_change)
        return out


@dataclass(frozen=True)
class PopulationSpec:
    """``population:``: the reference population the data should represent, as declared shares.

    ``shares`` maps a sensitive feature (or intersection) to its groups' declared shares (each
    feature's shares sum to 1); ``source`` says where they come from (required text).
    """

    source: str
    shares: Mapping[str, Mapping[str, float]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"source": self.source, "shares": {f: dict(g) for f, g in self.shares.items()}}


@dataclass(frozen=True)
class LedgerRef:
    """Where a policy's ``ledger:`` key appends: a SQLite file inside the policy's folder, or
    the URL held by an environment variable (``env:NAME``), so no credentials sit in the policy."""

    path: Path | None = None
    env: str | None = None

    def to_dict(self) -> dict:
        return {"env": self.env} if self.env else {"path": str(self.path)}


@dataclass(frozen=True)
class Rule:
    id: str
    metric: str
    feature: str | None = None
    min: float | None = None
    max: float | None = None
    severity: str = "error"
    rationale: str | None = None
    decide_on: str = "estimate"
    on_inconclusive: str = "fail"
    waiver: Waiver | None = None
    compare: str | None = None  # "champion": judge the change candidate - champion
    change_limits: Mapping[str, float] = field(default_factory=dict)  # max_regression / max_increase / max_decrease
    # the extra keys the rule's metric defines (Metric.rule_options), validated; e.g. impact_ratio's
    # test, statistical_test and alpha (docs/packs.md)
    options: Mapping[str, Any] = field(default_factory=dict)
    pack: str | None = None  # the pack the rule comes from, if any
    trend: Trend | None = None  # a trend rule: judged on the ledger's history of its metric

    def __getattr__(self, name: str):
        """A metric's own rule key (``rule.test`` of an impact_ratio rule) reads from :attr:`options`."""
        options = self.__dict__.get("options") or {}
        if name in options:
            return options[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @property
    def threshold(self) -> dict[str, float]:
        """Bounds on the observed value (for a comparison: on the change, candidate - champion)."""
        out = {}
        if self.min is not None:
            out["min"] = self.min
        if self.max is not None:
            out["max"] = self.max
        return out


@dataclass(frozen=True)
class Policy:
    """A validated policy. Paths are absolute, resolved against the policy file's folder."""

    name: str
    data: DataSpec
    model: ModelSpec | None
    sensitive_features: tuple[str, ...]
    intersections: tuple[tuple[str, ...], ...]
    fairness: FairnessSpec
    explain: ExplainSpec
    rules: tuple[Rule, ...]
    report_templates: Path | None = None
    champion: ModelSpec | None = None
    extends: tuple[str, ...] = ()
    pack_settings: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    remedies: RemediesSpec = field(default_factory=RemediesSpec)
    reasons: ReasonsSpec | None = None
    ledger: LedgerRef | None = None
    population: PopulationSpec | None = None  # population: the declared reference population (representativeness)
    # what only the provider or deployer can write (intended purpose, human oversight, ...): key -> text
    # or list of texts, echoed into results["documentation"] for the packs' documents (docs/regulation-packs.md)
    documentation: Mapping[str, Any] | None = None
    version: int = 1
    source: Path | None = None
    sha256: str | None = None

    @property
    def group_features(self) -> tuple[str, ...]:
        """Sensitive features and intersection names, as they appear in results."""
        return self.sensitive_features + tuple(INTERSECTION_JOIN.join(i) for i in self.intersections)

    @property
    def folder(self) -> Path:
        return self.source.parent if self.source is not None else Path.cwd()

    def with_overrides(
        self, *, data: Path | None = None, model: Path | None = None, trust: bool = False,
        engine: str | None = None,
    ) -> "Policy":
        """Return a copy with command-line overrides of the data and model paths applied."""
        from dataclasses import replace

        policy = self
        if engine is not None and engine != policy.data.engine:
            policy = replace(policy, data=replace(policy.data, engine=engine,
                                                  source=str(policy.data.path) if engine == "spark" else None))
        if data is not None:
            _require_file(Path(data), "--data", self.source, "the data file")
            resolved = _absolute(Path(data))
            policy = replace(policy, data=replace(policy.data, path=resolved,
                                                  source=str(resolved) if policy.data.engine == "spark" else None))
        if model is not None:
            _require_file(Path(model), "--model", self.source, "the model file")
            base = policy.model or ModelSpec()
            policy = replace(policy, model=replace(base, path=_absolute(Path(model)), predictions=None, uri=None))
        if trust:
            if policy.model is None:
                raise PolicyError("--trust-model was given but the policy has no model: add a 'model:' section or pass --model.")
            policy = replace(policy, model=replace(policy.model, trust=True))
        return policy


# ---------------------------------------------------------------- loading


def load_policy(path: str | Path) -> Policy:
    """Read and validate a policy file.

    Parameters
    ----------
    path : str or Path
        The ``audit.yaml`` file.

    Raises
    ------
    PolicyError
        When the file is missing, is not valid YAML, or breaks the policy schema.
    """
    from .inputs import read_capped
    from .yaml_loader import load_yaml

    path = Path(path)
    try:
        raw = read_capped(path, kind="policy", what="the policy file", error=PolicyError,
                          hint="pass its path (audit check path/to/audit.yaml) or create one with 'audit init'")
    except ValueError as exc:  # a NUL byte in the path (only possible from Python)
        raise PolicyError(f"{_show(str(path))}: is not a usable path ({exc}); check the path.") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise PolicyError(f"{path}: is not UTF-8 text; save the policy as UTF-8 YAML.") from None
    document = load_yaml(text, path, PolicyError)
    return policy_from_dict(document, source=_absolute(path), sha256=hashlib.sha256(raw).hexdigest())


def policy_from_dict(document: Any, *, source: Path | None = None, sha256: str | None = None) -> Policy:
    """Validate a policy given as a mapping (as parsed from YAML)."""
    v = _Validator(source)
    if document is None:
        v.fail("", "the file is empty; start from 'audit init' or the README's minimal policy")
    if not isinstance(document, dict):
        v.fail("", f"the top level must be a mapping of keys, not {_type_name(document)}")

    v.keys(document, "", required={"version", "data"}, optional={
        "name", "model", "champion", "sensitive_features", "intersections", "fairness", "explain", "rules", "report",
        "extends", "packs", "remedies", "reasons", "ledger", "documentation", "population"})
    version = v.integer(document["version"], "version")
    if version not in SUPPORTED_VERSIONS:
        v.fail("version", f"version {short_repr(version)} is not supported; this auditkit reads version 1")

    name = document.get("name")
    if name is None:
        name = source.parent.name if source is not None else "audit"
    name = v.string(name, "name")

    data = _data_spec(v, document["data"])
    model = _model_spec(v, document.get("model"))
    champion = _model_spec(v, document.get("champion"), "champion")
    if champion is not None and model is None:
        v.fail("champion", "a champion is compared with the candidate in 'model:'; add a 'model:' section")
    sensitive = tuple(v.string_list(document.get("sensitive_features", []) or [], "sensitive_features"))
    if len(set(sensitive)) != len(sensitive):
        v.fail("sensitive_features", "lists a feature twice; list each once")
    for i, feature in enumerate(sensitive):
        if INTERSECTION_JOIN in f" {feature} ":
            v.fail(f"sensitive_features[{i}]", f"'{_show(feature)}' contains '&' between spaces, which auditkit uses to name "
                   "intersections (sex & age_group), so results would be ambiguous; rename the column (e.g. with '_' or 'and')")
    intersections = _intersections(v, document.get("intersections", []) or [], sensitive)
    fairness = _fairness_spec(v, document.get("fairness"), sensitive, intersections)
    explain = _explain_spec(v, document.get("explain"))
    group_features = sensitive + tuple(INTERSECTION_JOIN.join(i) for i in intersections)
    packs, pack_settings = _extends(v, document.get("extends"), document.get("packs"), model, sensitive)
    entries = _rule_entries(v, document.get("rules", []) or [], packs, pack_settings, sensitive, intersections)
    reasons = _reasons_spec(v, document.get("reasons"))
    rules = _rules(v, entries, group_features, model, fairness, data, champion, reasons)

    report_templates = _report_templates(v, document.get("report"))
    remedies = _remedies_spec(v, document.get("remedies"))
    ledger = _ledger_ref(v, document.get("ledger"))
    population = _population_spec(v, document.get("population"), group_features, rules)
    documentation = _documentation(v, document.get("documentation"))
    return Policy(
        name=name, data=data, model=model, sensitive_features=sensitive,
        intersections=intersections, fairness=fairness, explain=explain, rules=rules,
        report_templates=report_templates, champion=champion, extends=tuple(p.name for p in packs),
        pack_settings=pack_settings, remedies=remedies, reasons=reasons, ledger=ledger, population=population, documentation=documentation, version=version, source=source,
        sha256=sha256,
    )


def check_columns(policy: Policy, columns: list[str], *, data_path: Path | None = None) -> None:
    """Check that every column the policy names exists in the data.

    Raises
    ------
    PolicyError
        Naming the policy key and the missing column, with the closest existing names.
    """
    v = _Validator(policy.source)
    shown = data_path or policy.data.path
    cols = [str(c) for c in columns]

    def need(column: str, key: str) -> None:
        if column not in cols:
            hint = difflib.get_close_matches(column, cols, n=1)
            suggestion = f"did you mean '{hint[0]}'?" if hint else f"the data has: {_short_list(cols)}"
            v.fail(key, f"column '{column}' is not in the data file {shown}; {suggestion}")

    need(policy.data.target, "data.target")
    for i, feature in enumerate(policy.sensitive_features):
        need(feature, f"sensitive_features[{i}]")
    for i, names in enumerate(policy.intersections):
        joined = INTERSECTION_JOIN.join(names)
        if joined in cols:
            v.fail(f"intersections[{i}]", f"the data file {shown} has a column named '{joined}', the name auditkit gives "
                   "this intersection in results, so one would silently replace the other; rename the column")
    if policy.model is not None and policy.model.predictions is not None:
        need(policy.model.predictions.label, "model.predictions.label")
        if policy.model.predictions.score:
            need(policy.model.predictions.score, "model.predictions.score")
    for i, rule in enumerate(policy.rules):
        if get_metric(rule.metric).feature in ("input", "column") and rule.feature is not None:
            need(rule.feature, f"rules[{i}].feature")
    from .packs import plugins

    for name, values in policy.pack_settings.items():
        for key, column in plugins()[name].columns(values).items():
            need(column, f"packs.{name}.{key}")


# ---------------------------------------------------------------- sections


def _data_spec(v: "_Validator", raw: Any) -> DataSpec:
    v.mapping(raw, "data")
    v.keys(raw, "data", required={"path", "target"}, optional={"contract", "positive_label", "reference", "engine"})
    engine = v.choice(raw.get("engine", "pandas"), "data.engine", ENGINES)
    if engine == "spark":
        path, source = _spark_source(v, raw["path"])
    else:
        path, source = v.path(raw["path"], "data.path", "the data file"), None
    contract = v.path(raw["contract"], "data.contract", "the contract file") if raw.get("contract") is not None else None
    reference = v.path(raw["reference"], "data.reference", "the reference data file") if raw.get("reference") is not None else None
    target = v.string(raw["target"], "data.target")
    positive = raw.get("positive_label")
    if positive is not None and not isinstance(positive, (str, int, float, bool)):
        v.fail("data.positive_label", f"must be a single value (text or number), not {_type_name(positive)}")
    return DataSpec(path=path, target=target, positive_label=positive, contract=contract, reference=reference,
                    engine=engine, source=source)


def _spark_source(v: "_Validator", raw: Any) -> tuple[Path, str]:
    """With engine spark, data.path may be a local file or folder, a URI or a table name."""
    text = v.string(raw, "data.path")
    if "://" in text:
        return Path(text.split("://", 1)[1]), text
    base = v.source.parent if v.source is not None else Path.cwd()
    local = _resolve(v, base, text, "data.path")
    if _kind(v, local, "data.path", text) is not None:
        return local, str(local)
    if "/" in text or text.lower().endswith((".csv", ".gz", ".parquet", ".pq")):
        v.fail("data.path", f"the data '{text}' does not exist (looked for {local}); give a file, folder, URI or Spark table name")
    return local, text  # a catalog table name, resolved by Spark


def _model_spec(v: "_Validator", raw: Any, section: str = "model") -> ModelSpec | None:
    if raw is None:
        return None
    v.mapping(raw, section)
    v.keys(raw, section, required=set(), optional={"path", "predictions", "trust", "threshold"})
    has_path = raw.get("path") is not None
    has_predictions = raw.get("predictions") is not None
    if has_path == has_predictions:
        v.fail(section, "give exactly one of 'path' (a model file or models:/ registry URI) or 'predictions' (columns holding a model's outputs)")
    path, uri = None, None
    if has_path:
        text = v.string(raw["path"], f"{section}.path")
        if text.startswith("models:/"):
            from .registry_uri import is_registry_uri

            if not is_registry_uri(text):
                v.fail(f"{section}.path", f"'{text}' is not a registry URI of the form models:/NAME/VERSION or models:/NAME@ALIAS")
            uri = text
        else:
            path = v.path(text, f"{section}.path", "the model file")
    predictions = None
    if has_predictions:
        p = raw["predictions"]
        v.mapping(p, f"{section}.predictions")
        v.keys(p, f"{section}.predictions", required={"label"}, optional={"score"})
        predictions = PredictionColumns(
            label=v.string(p["label"], f"{section}.predictions.label"),
            score=v.string(p["score"], f"{section}.predictions.score") if p.get("score") is not None else None,
        )
    trust_raw = raw.get("trust", False)
    if isinstance(trust_raw, bool):
        trust: bool | tuple[str, ...] = trust_raw
    elif isinstance(trust_raw, list):
        trust = tuple(v.string_list(trust_raw, f"{section}.trust"))
    else:
        v.fail(f"{section}.trust", f"must be true, false or a list of type names, not {_type_name(trust_raw)}")
    threshold = v.number(raw.get("threshold", 0.5), f"{section}.threshold")
    if not 0.0 <= threshold <= 1.0:
        v.fail(f"{section}.threshold", f"must be between 0 and 1 (a probability), not {threshold}")
    return ModelSpec(path=path, predictions=predictions, trust=trust, threshold=threshold, uri=uri)


def _intersections(v: "_Validator", raw: Any, sensitive: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    if not isinstance(raw, list):
        v.fail("intersections", f"must be a list of lists of sensitive features, not {_type_name(raw)}")
    out = []
    for i, item in enumerate(raw):
        key = f"intersections[{i}]"
        names = tuple(v.string_list(item, key))
        if len(names) < 2:
            v.fail(key, "an intersection combines at least two sensitive features")
        for name in names:
            if name not in sensitive:
                v.fail(key, f"'{name}' is not listed in sensitive_features; add it there first")
        if len(set(names)) != len(names):
            v.fail(key, "names a feature twice")
        out.append(names)
    return tuple(out)


def _fairness_spec(v: "_Validator", raw: Any, sensitive: tuple[str, ...], intersections) -> FairnessSpec:
    if raw is None:
        return FairnessSpec()
    v.mapping(raw, "fairness")
    v.keys(raw, "fairness", required=set(), optional={"metrics", "reference_groups", "min_group_size", "bootstrap", "confidence"})
    metrics = tuple(v.string_list(raw.get("metrics", list(DEFAULT_FAIRNESS_METRICS)), "fairness.metrics"))
    per_group = set(GROUP_METRICS)
    for i, m in enumerate(metrics):
        if m not in per_group:
            v.fail(f"fairness.metrics[{i}]", f"unknown metric '{m}'{_suggest(m, per_group)}; see docs/policy.md for the metric vocabulary")
    groups_raw = raw.get("reference_groups", {}) or {}
    v.mapping(groups_raw, "fairness.reference_groups")
    names = set(sensitive) | {INTERSECTION_JOIN.join(i) for i in intersections}
    reference_groups = {}
    for feature, group in groups_raw.items():
        if feature not in names:
            v.fail(f"fairness.reference_groups.{_show(feature)}", f"'{_show(feature)}' is not a sensitive feature or intersection of this policy (have: {', '.join(sorted(names)) or 'none'})")
        if not isinstance(group, (str, int, float, bool)) or (isinstance(group, float) and not math.isfinite(group)):
            v.fail(f"fairness.reference_groups.{_show(feature)}", f"must be a single group value, not {_what(group)}")
        reference_groups[str(feature)] = str(group)
    min_group_size = v.integer(raw.get("min_group_size", 30), "fairness.min_group_size", 1, MAX_MIN_GROUP_SIZE)
    bootstrap = v.integer(raw.get("bootstrap", 1000), "fairness.bootstrap")
    if bootstrap != 0 and not 50 <= bootstrap <= MAX_BOOTSTRAP:
        v.fail("fairness.bootstrap", f"must be 0 (no intervals) or between 50 and {MAX_BOOTSTRAP:,} resamples, not {short_repr(bootstrap)}")
    confidence = v.number(raw.get("confidence", 0.95), "fairness.confidence")
    if not 0.5 <= confidence < 1.0:
        v.fail("fairness.confidence", f"must be a level such as 0.9 or 0.95 (between 0.5 and 1, below 1), not {confidence:g}")
    return FairnessSpec(metrics=metrics, reference_groups=reference_groups, min_group_size=min_group_size,
                        bootstrap=bootstrap, confidence=confidence)


def _explain_spec(v: "_Validator", raw: Any) -> ExplainSpec:
    if raw is None:
        return ExplainSpec()
    v.mapping(raw, "explain")
    v.keys(raw, "explain", required=set(), optional={"enabled", "max_rows", "algorithm"})
    enabled = v.boolean(raw.get("enabled", True), "explain.enabled")
    max_rows = v.integer(raw.get("max_rows", 2000), "explain.max_rows", 10, MAX_EXPLAIN_ROWS)
    algorithm = v.choice(raw.get("algorithm", "interventional"), "explain.algorithm", EXPLAIN_ALGORITHMS)
    return ExplainSpec(enabled=enabled, max_rows=max_rows, algorithm=algorithm)


def _remedies_spec(v: "_Validator", raw: Any) -> RemediesSpec:
    if raw is None:
        return RemediesSpec()
    v.mapping(raw, "remedies")
    v.keys(raw, "remedies", required=set(),
           optional={"enabled", "candidates", "group_aware", "folds", "objective", "train"})
    enabled = v.boolean(raw.get("enabled", True), "remedies.enabled")
    candidates = tuple(v.string_list(raw.get("candidates", list(REMEDY_CANDIDATES)), "remedies.candidates"))
    for i, name in enumerate(candidates):
        v.choice(name, f"remedies.candidates[{i}]", REMEDY_CANDIDATES)
    group_aware = v.boolean(raw.get("group_aware", True), "remedies.group_aware")
    folds = v.integer(raw.get("folds", 5), "remedies.folds", 2, 20)
    objective = v.choice(raw.get("objective", "accuracy_score"), "remedies.objective", REMEDY_OBJECTIVES)
    train = None
    if raw.get("train") is not None:
        train = v.path(raw["train"], "remedies.train", "the training data for reweighing")
    return RemediesSpec(enabled=enabled, requested=enabled, candidates=candidates, group_aware=group_aware,
                        folds=folds, objective=objective, train=train)


def _reasons_spec(v: "_Validator", raw: Any) -> ReasonsSpec | None:
    if raw is None:
        return None
    v.mapping(raw, "reasons")
    v.keys(raw, "reasons", required=set(), optional={"k", "baseline", "codes", "exclude", "allow", "fallback"})
    k = v.integer(raw.get("k", 4), "reasons.k", 1, 20)
    baseline = v.choice(raw.get("baseline", "background"), "reasons.baseline", REASON_BASELINES)
    codes = None
    if raw.get("codes") is not None:
        v.mapping(raw["codes"], "reasons.codes")
        codes = {}
        for column, text in raw["codes"].items():
            key = f"reasons.codes.{_show(column, 40)}"
            codes[v.string(column, key)] = v.string(text, key)
    exclude = tuple(v.string_list(raw.get("exclude", []) or [], "reasons.exclude"))
    allow = tuple(v.string_list(raw.get("allow", []) or [], "reasons.allow"))
    fallback = v.string(raw["fallback"], "reasons.fallback") if raw.get("fallback") is not None else None
    return ReasonsSpec(k=k, baseline=baseline, codes=codes, exclude=exclude, allow=allow, fallback=fallback)


def _report_templates(v: "_Validator", raw: Any) -> Path | None:
    if raw is None:
        return None
    v.mapping(raw, "report")
    v.keys(raw, "report", required=set(), optional={"templates"})
    if raw.get("templates") is None:
        return None
    text = v.string(raw["templates"], "report.templates")
    base = v.source.parent if v.source is not None else Path.cwd()
    folder = _resolve(v, base, text, "report.templates")
    if _kind(v, folder, "report.templates", text) != "folder":
        v.fail("report.templates", f"templates folder '{text}' does not exist (looked for {folder}); paths are relative to the policy file")
    return folder


def _waiver(v: "_Validator", raw: Any, key: str) -> Waiver:
    v.mapping(raw, key)
    v.keys(raw, key, required={"reason", "approved_by", "expires"}, optional=set())
    expires = _date(v, raw["expires"], f"{key}.expires")
    return Waiver(reason=v.string(raw["reason"], f"{key}.reason"),
                  approved_by=v.string(raw["approved_by"], f"{key}.approved_by"), expires=expires)


def _date(v: "_Validator", value: Any, key: str) -> date:
    """A calendar day written YYYY-MM-DD (YAML reads it as a date; quoted, it is text)."""
    from datetime import datetime

    if isinstance(value, str) and len(value) <= 40:
        import re

        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
            try:
                value = date.fromisoformat(value.strip())
            except ValueError:
                pass
    if isinstance(value, datetime):
        v.fail(key, f"must be a day written YYYY-MM-DD, not a date and time ({short_repr(value.isoformat())})")
    if not isinstance(value, date):
        v.fail(key, f"must be a date written YYYY-MM-DD, not {_what(value)}")
    return value


def _rules(v, entries, group_features, model, fairness, data, champion=None, reasons=None) -> tuple[Rule, ...]:
    """Validate rules given as (key path for messages, rule mapping, pack name or None).

    What a metric allows (a feature, a model, a champion comparison, extra keys) is read from
    its definition in the metric registry (:mod:`auditkit.metrics`).
    """
    rules = []
    seen = set()
    for key, item, pack in entries:
        v.mapping(item, key)
        metric_name = v.string(item["metric"], f"{key}.metric") if isinstance(item.get("metric"), str) else None
        metric = get_metric(metric_name) if metric_name is not None else None
        _refuse_other_options(v, item, key, metric)
        v.keys(item, key, required={"id", "metric"}, optional=RULE_KEYS | set(metric.rule_options if metric else ()))
        rule_id = v.string(item["id"], f"{key}.id")
        if rule_id in seen:
            v.fail(f"{key}.id", f"rule id '{rule_id}' is used twice; ids must be unique")
        seen.add(rule_id)
        if metric is None:
            name = v.string(item["metric"], f"{key}.metric")
            v.fail(f"{key}.metric", f"unknown metric '{name}'{_suggest(name, metric_names())}; see docs/metrics.md for the metric vocabulary")
        feature = item.get("feature")
        if feature is not None:
            feature = v.string(feature, f"{key}.feature")
        _check_metric_needs(v, key, rule_id, metric, feature, group_features, model, data, reasons)
        compare = None
        limits: dict[str, float] = {}
        if item.get("compare") is not None:
            compare = v.choice(item["compare"], f"{key}.compare", ("champion",))
            if champion is None:
                v.fail(f"{key}.compare", f"rule '{rule_id}' compares with the champion, but the policy has no 'champion:' section")
            if not metric.comparable:
                v.fail(f"{key}.metric", f"rule '{rule_id}': '{metric.name}' cannot be compared between models; use a fairness metric or disparity")
            for bound in ("min", "max"):
                if item.get(bound) is not None:
                    v.fail(f"{key}.{bound}", f"rule '{rule_id}' compares with the champion: limit the change with {', '.join(CHANGE_KEYS)} instead of '{bound}'")
            for name in CHANGE_KEYS:
                if item.get(name) is not None:
                    limits[name] = v.number(item[name], f"{key}.{name}")
                    if limits[name] < 0:
                        v.fail(f"{key}.{name}", f"must be 0 or more (an allowed amount of change), not {limits[name]}")
            if not limits:
                v.fail(key, f"rule '{rule_id}' needs a limit on the change: {', '.join(CHANGE_KEYS)}")
            if "max_regression" in limits and metric.direction == 0:
                v.fail(f"{key}.max_regression", f"rule '{rule_id}': '{metric.name}' has no better or worse direction; use max_increase or max_decrease")
            low, high = change_bounds(metric.name, limits)
        else:
            for name in CHANGE_KEYS:
                if item.get(name) is not None:
                    v.fail(f"{key}.{name}", f"rule '{rule_id}': '{name}' limits a change and needs 'compare: champion'")
            low = v.number(item["min"], f"{key}.min") if item.get("min") is not None else None
            high = v.number(item["max"], f"{key}.max") if item.get("max") is not None else None
        trend = _trend(v, item, key, rule_id, metric, fairness, compare)
        if trend is not None and (low is not None or high is not None):
            v.fail(key, f"rule '{rule_id}' judges a trend over audits, not a bound; remove 'min:'/'max:' "
                        "(or make a second rule for the bound)")
        if trend is None and low is None and high is None:
            v.fail(key, f"rule '{rule_id}' needs a threshold: 'min:', 'max:' or both")
        if low is not None and high is not None and low > high:
            v.fail(key, f"rule '{rule_id}': min ({low}) is greater than max ({high})")
        severity = v.choice(item.get("severity", "error"), f"{key}.severity", ("error", "warning"))
        rationale = v.string(item["rationale"], f"{key}.rationale") if item.get("rationale") is not None else None
        decide_on = v.choice(item.get("decide_on", "estimate"), f"{key}.decide_on", ("estimate", "ci"))
        if decide_on == "ci" and metric.interval == "none":
            v.fail(f"{key}.decide_on", f"rule '{rule_id}': '{metric.name}' has no interval to decide on; use decide_on: estimate")
        if decide_on == "ci" and fairness.bootstrap == 0 and metric.interval == "bootstrap":
            v.fail(f"{key}.decide_on", f"rule '{rule_id}' decides on the confidence interval but fairness.bootstrap is 0; set bootstrap (e.g. 1000) or decide_on: estimate")
        on_inconclusive = v.choice(item.get("on_inconclusive", "fail"), f"{key}.on_inconclusive", ("fail", "warn"))
        waiver = _waiver(v, item["waiver"], f"{key}.waiver") if item.get("waiver") is not None else None
        options = {name: validate(v, item, key, rule_id, low, high, decide_on)
                   for name, validate in metric.rule_options.items()} if compare is None else {}
        rules.append(Rule(id=rule_id, metric=metric.name, feature=feature, min=low, max=high, severity=severity,
                          rationale=rationale, decide_on=decide_on, on_inconclusive=on_inconclusive, waiver=waiver,
                          compare=compare, change_limits=limits, options=options, pack=pack, trend=trend))
    return tuple(rules)


def _trend(v, item: dict, key: str, rule_id: str, metric, fairness, compare) -> Trend | None:
    """A rule's ``trend:`` (with ``audits:`` and ``min_change:``), checked against what its metric can give."""
    if item.get("trend") is None:
        for name in ("audits", "min_change"):
            if item.get(name) is not None:
                v.fail(f"{key}.{name}", f"rule '{rule_id}': '{name}' belongs to a trend rule; add 'trend: widening' or remove it")
        return None
    kind = v.choice(item["trend"], f"{key}.trend", TREND_KINDS)
    if compare is not None:
        v.fail(f"{key}.trend", f"rule '{rule_id}': a rule compares with the champion or judges a trend, not both")
    if metric.family == "group" or metric.judge is not None:
        hint = " (use its disparity, e.g. selection_rate_difference)" if metric.family == "group" else ""
        v.fail(f"{key}.metric", f"rule '{rule_id}': a trend rule follows one number per audit, and '{metric.name}' "
                                f"gives one per group or decides with tests of its own{hint}")
    audits, min_change = 3, 0.0
    if kind == "widening":
        if metric.direction == 0:
            v.fail(f"{key}.trend", f"rule '{rule_id}': '{metric.name}' has no better or worse direction, so it cannot "
                                   "widen; use trend: departs_from_first")
        if item.get("audits") is not None:
            audits = v.integer(item["audits"], f"{key}.audits")
            if not 1 <= audits <= MAX_TREND_AUDITS:
                v.fail(f"{key}.audits", f"must be between 1 and {MAX_TREND_AUDITS} (the number of consecutive audits), not {audits}")
        if item.get("min_change") is not None:
            min_change = v.number(item["min_change"], f"{key}.min_change")
            if min_change < 0:
                v.fail(f"{key}.min_change", f"must be 0 or more (the smallest change that counts as widening), not {min_change}")
    else:
        for name in ("audits", "min_change"):
            if item.get(name) is not None:
                v.fail(f"{key}.{name}", f"rule '{rule_id}': '{name}' applies to trend: widening only; remove it")
        if metric.interval == "none":
            v.fail(f"{key}.trend", f"rule '{rule_id}': '{metric.name}' has no interval to compare; use trend: widening")
        if metric.interval == "bootstrap" and fairness.bootstrap == 0:
            v.fail(f"{key}.trend", f"rule '{rule_id}' compares intervals but fairness.bootstrap is 0; set bootstrap (e.g. 1000)")
    return Trend(kind=kind, audits=audits, min_change=min_change)


MAX_DOCUMENTATION_KEYS = 200
MAX_DOCUMENTATION_TEXT = 20_000  # characters of one text
MAX_DOCUMENTATION_ITEMS = 200    # texts of one list


def _documentation(v, raw: Any) -> dict[str, Any] | None:
    """``documentation:``: the parts of a pack's documents only a person can write, by key.

    Each value is a text or a list of texts; keys are names (letters, digits, ``_`` and ``-``).
    Which keys a document asks for is the pack's business (its ``documentation:`` list in
    pack.yaml); the policy only bounds what it holds, since the texts are rendered into documents.
    """
    import re

    if raw is None:
        return None
    v.mapping(raw, "documentation")
    if len(raw) > MAX_DOCUMENTATION_KEYS:
        v.fail("documentation", f"has {len(raw)} keys; at most {MAX_DOCUMENTATION_KEYS}")
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if not isinstance(key, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]{0,63}", key):
            v.fail("documentation", f"key {_show(str(key))} must be a name (letters, digits, _ or -), such as intended_purpose")
        where = f"documentation.{key}"
        if isinstance(value, list):
            if len(value) > MAX_DOCUMENTATION_ITEMS:
                v.fail(where, f"lists {len(value)} texts; at most {MAX_DOCUMENTATION_ITEMS}")
            texts = [v.string(item, f"{where}[{i}]") for i, item in enumerate(value)]
        else:
            texts = [v.string(value, where)]
        for i, text in enumerate(texts):
            if len(text) > MAX_DOCUMENTATION_TEXT:
                v.fail(where if len(texts) == 1 else f"{where}[{i}]",
                       f"is {len(text):,} characters long; at most {MAX_DOCUMENTATION_TEXT:,} (link a longer document instead)")
        out[key] = texts if isinstance(value, list) else texts[0].strip()
    return out


MAX_POPULATION_GROUPS = 1_000  # declared groups of one feature
POPULATION_SUM_TOLERANCE = 0.001
POPULATION_METRICS = ("representation_ratio", "representation_gof_pvalue")


def _population_spec(v, raw: Any, group_features, rules) -> PopulationSpec | None:
    """``population:``: ``source`` (text) and ``shares`` (feature -> group -> share).

    Each feature is a sensitive feature or intersection of the policy with at least 2 groups,
    each share a number in (0, 1], a feature's shares summing to 1 within 0.001. A policy rule
    on a representativeness metric must name a feature declared here (a pack's rule without one
    reports an error when judged).
    """
    from .data_bias import label_text

    if raw is None:
        for rule in rules:
            if rule.metric in POPULATION_METRICS and rule.pack is None:
                v.fail("population", f"rule '{rule.id}' judges {rule.metric}, which compares the data with a declared "
                       "reference population; add a 'population:' block (source and shares) or remove the rule")
        return None
    v.mapping(raw, "population")
    v.keys(raw, "population", required={"source", "shares"}, optional=set())
    source = " ".join(v.string(raw["source"], "population.source").split())
    v.mapping(raw["shares"], "population.shares")
    if not raw["shares"]:
        v.fail("population.shares", "declares no feature; give the shares of at least one sensitive feature")
    shares: dict[str, dict[str, float]] = {}
    for feature, groups in raw["shares"].items():
        where = f"population.shares.{_show(str(feature))}"
        if not isinstance(feature, str) or feature not in group_features:
            v.fail(where, f"'{_show(str(feature))}' is not a sensitive feature or intersection of this policy "
                   f"(have: {', '.join(group_features) or 'none; add sensitive_features'})")
        v.mapping(groups, where)
        if len(groups) < 2:
            v.fail(where, f"declares {len(groups)} group; declare the shares of at least 2 groups")
        if len(groups) > MAX_POPULATION_GROUPS:
            v.fail(where, f"declares {len(groups):,} groups; at most {MAX_POPULATION_GROUPS:,}")
        declared: dict[str, float] = {}
        for group, share in groups.items():
            if isinstance(group, (bool, int, float, str)) and not (isinstance(group, str) and not group.strip()):
                name = label_text(group)  # as the data's group labels read (1.0 -> "1")
            else:
                v.fail(where, f"group {short_repr(group)} must be a group label (text or a number)")
            at = f"{where}.{_show(name)}"
            if name in declared:
                v.fail(at, f"group '{_show(name)}' is declared twice (group labels are compared as text); declare it once")
            value = v.number(share, at)
            if not 0 < value <= 1:
                v.fail(at, f"a share must be above 0 and at most 1, not {short_repr(share)}; leave out a group "
                       "the population does not have")
            declared[name] = value
        total = math.fsum(declared.values())
        if abs(total - 1) > POPULATION_SUM_TOLERANCE:
            v.fail(where, f"the shares sum to {total:.6g}, not 1 (within {POPULATION_SUM_TOLERANCE:g}); "
                   "correct them so that they describe the whole population")
        shares[feature] = declared
    for rule in rules:
        if rule.metric in POPULATION_METRICS and rule.pack is None and rule.feature not in shares:
            v.fail("population.shares", f"rule '{rule.id}' judges {rule.metric} of '{rule.feature}', which the "
                   f"population does not declare (declared: {', '.join(shares)}); add its shares or remove the rule")
    return PopulationSpec(source=source, shares=shares)


def _ledger_ref(v, raw: Any) -> LedgerRef | None:
    """``ledger:``: a SQLite file inside the policy's folder, or ``env:NAME`` (the URL is in that variable).

    The policy's folder may come from a pull request, so its ledger key can neither point
    outside the folder (a write anywhere) nor hold a database URL with credentials.
    """
    import os
    import re

    if raw is None:
        return None
    text = v.string(raw, "ledger")
    if text.startswith("env:"):
        name = text[len("env:"):]
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,127}", name):
            v.fail("ledger", f"'{_show(text)}' must name an environment variable (env:AUDITKIT_LEDGER_URL)")
        return LedgerRef(env=name)
    if "://" in text or text.startswith("sqlite:"):
        v.fail("ledger", "a database URL does not belong in the policy (it would carry credentials and could point "
                         "anywhere); write ledger: env:NAME and set NAME to the URL, or pass --ledger URL")
    parts = Path(text).parts
    if os.path.isabs(text) or ".." in parts or not parts:
        v.fail("ledger", f"'{_show(text)}' must be a file inside the policy's folder (e.g. ledger/audits.db); "
                         "to use a ledger elsewhere, pass --ledger on the command line")
    base = v.source.parent if v.source is not None else Path.cwd()
    path = _resolve(v, base, text, "ledger")
    try:
        inside = os.path.commonpath([os.path.realpath(path), os.path.realpath(base)]) == os.path.realpath(base)
    except ValueError:
        inside = False
    if not inside:
        v.fail("ledger", f"'{_show(text)}' leads outside the policy's folder (through a link); "
                         "pass --ledger on the command line to use a ledger elsewhere")
    if _kind(v, path, "ledger", text) == "folder":
        v.fail("ledger", f"'{_show(text)}' is a folder; name the ledger file (e.g. {_show(text)}/audits.db)")
    return LedgerRef(path=path)


def _refuse_other_options(v, item: dict, key: str, metric) -> None:
    """A key another metric defines (``test:`` of impact_ratio) given to a rule on a metric without it."""
    from .metrics import metrics

    own = set(metric.rule_options) if metric is not None else set()
    for name in item:
        if name in RULE_KEYS or name in own or not isinstance(name, str):
            continue
        owners = sorted(m.name for m in metrics() if name in m.rule_options)
        if owners:
            rule_id = _show(item.get("id")) if isinstance(item.get("id"), str) else "?"
            v.fail(f"{key}.{name}", f"rule '{rule_id}': '{name}' applies to {' and '.join(owners)} rules only; remove it")


def _check_metric_needs(v, key, rule_id, metric, feature, group_features, model, data, reasons=None) -> None:
    """What the metric needs from the policy: a feature of the right kind, a model, a contract, a reference."""
    name = metric.name
    if metric.feature_required and feature is None:
        v.fail(f"{key}.feature", f"rule '{rule_id}': metric '{name}' is {metric.kind} and needs 'feature:' (one of: {', '.join(group_features) or 'no sensitive features declared'})")
    if feature is not None and metric.feature is None:
        v.fail(f"{key}.feature", f"rule '{rule_id}': metric '{name}' takes no feature; remove 'feature:'")
    if "reference" in metric.needs and data.reference is None:
        v.fail(f"{key}.metric", f"rule '{rule_id}': {metric.kind} '{name}' needs data.reference (e.g. the training data); add it or remove the rule")
    if feature is not None and metric.feature == "group" and feature not in group_features:
        v.fail(f"{key}.feature", f"rule '{rule_id}': '{feature}' is not a sensitive feature or intersection of this policy (have: {', '.join(group_features) or 'none'})")
    if metric.needs_model and model is None:
        v.fail(f"{key}.metric", f"rule '{rule_id}': metric '{name}' needs a model or prediction columns; add a 'model:' section or remove the rule")
    if "model_file" in metric.needs and model is not None and not model.runnable:
        v.fail(f"{key}.metric", f"rule '{rule_id}': '{name}' needs a model file to explain; prediction columns alone cannot be explained")
    if "contract" in metric.needs and data.contract is None:
        v.fail(f"{key}.metric", f"rule '{rule_id}': '{name}' needs data.contract; add a contract or remove the rule")
    if "reasons" in metric.needs and reasons is None:
        v.fail(f"{key}.metric", f"rule '{rule_id}': '{name}' judges the stated reasons of adverse decisions and needs a "
               "'reasons:' block (docs/reasons.md); add it or remove the rule")


# ---------------------------------------------------------------- packs (extends:)


def _extends(v: "_Validator", raw: Any, settings_raw: Any, model, sensitive) -> tuple[tuple, dict]:
    """The packs a policy extends, and each pack's validated parameters.

    Packs are plugins (:mod:`auditkit.packs`): each checks its own settings; this function
    only knows what every pack has.
    """
    from .packs import plugins

    installed = plugins()
    if raw is None:
        if settings_raw is not None:
            v.fail("packs", "sets pack parameters but the policy extends no pack; add 'extends: [pack]' or remove 'packs'")
        return (), {}
    if isinstance(raw, str):
        raw = [raw]
    names = v.string_list(raw, "extends")
    available = sorted(installed)
    for i, name in enumerate(names):
        if name not in installed:
            v.fail(f"extends[{i}]", f"unknown pack '{name}'{_suggest(name, available)}; available: {', '.join(available)} (see 'audit packs')")
        if names.index(name) != i:
            v.fail(f"extends[{i}]", f"pack '{name}' is listed twice; list each once")
    packs = tuple(installed[name].definition for name in names)
    settings_raw = {} if settings_raw is None else settings_raw
    v.mapping(settings_raw, "packs")
    for name in settings_raw:
        if name not in names:
            v.fail(f"packs.{_show(name)}", f"sets parameters of '{_show(name)}', which is not in extends; add it to extends or remove this section")
    settings = {}
    for i, name in enumerate(names):
        plugin = installed[name]
        if plugin.requires_model and model is None:
            v.fail(f"extends[{i}]", f"pack '{name}' judges a model's decisions; add a 'model:' section (a model file or prediction columns)")
        values = _pack_settings(v, plugin.definition, settings_raw.get(name))
        plugin.check_settings(values, PackContext(key=f"extends[{i}]", settings_key=f"packs.{name}",
                                                  sensitive_features=sensitive, model=model, fail=v.fail))
        settings[name] = values
    return packs, settings


@dataclass(frozen=True)
class PackContext:
    """What a pack's ``check_settings`` may look at, and how it reports a mistake.

    ``fail(key, message)`` raises the PolicyError naming the policy file and the key, e.g.
    ``fail(f"{context.settings_key}.mode", "scoring mode needs ...")``.
    """

    key: str                      # the pack's entry in extends, e.g. "extends[0]"
    settings_key: str             # its settings section, e.g. "packs.nyc-ll144"
    sensitive_features: tuple[str, ...]
    model: ModelSpec | None
    fail: Any


def _pack_settings(v: "_Validator", pack, raw: Any) -> dict:
    """A pack's settings, each checked against its declared type, choices and range."""
    where = f"packs.{pack.name}"
    raw = {} if raw is None else raw
    v.mapping(raw, where)
    specs = pack.settings
    v.keys(raw, where, required={k for k, s in specs.items() if s.required}, optional=set(specs))
    values = {}
    for key, spec in specs.items():
        at = f"{where}.{key}"
        value = raw.get(key, spec.default)
        if value is None:
            values[key] = None
            continue
        if spec.type == "bool":
            value = v.boolean(value, at)
        elif spec.type == "number":
            value = v.number(value, at)
            if (spec.min is not None and value < spec.min) or (spec.max is not None and value > spec.max):
                low = f"{spec.min:g}" if spec.min is not None else "-inf"
                high = f"{spec.max:g}" if spec.max is not None else "inf"
                v.fail(at, f"must be between {low} and {high}, not {value:g}")
        elif spec.type in ("text", "column"):
            value = " ".join(v.string(value, at).split()) if spec.type == "text" else v.string(value, at)
        elif spec.type == "choice":
            value = v.choice(value, at, spec.choices)
        elif spec.type == "list":
            if isinstance(value, (str, int, float)) and not isinstance(value, bool):
                value = [value]
            value = v.string_list(value, at)
        elif spec.type == "date":
            value = _date(v, value, at).isoformat()
        values[key] = value
    return values


def _rule_entries(v: "_Validator", raw: Any, packs, settings, sensitive, intersections) -> list[tuple[str, dict, str | None]]:
    """Pack rules (expanded, with the policy's overrides applied) followed by the policy's own rules."""
    if not isinstance(raw, list):
        v.fail("rules", f"must be a list of rules, not {_type_name(raw)}")
    inherited: list[list] = []  # [key, rule mapping, pack name, template id]
    for i, pack in enumerate(packs):
        for template in pack.rules:
            rule = {k: val for k, val in template.items() if k != "for_each"}
            if template.get("for_each") == "sensitive_features":
                features = list(sensitive)
                if settings[pack.name].get("include_intersections"):
                    features += [INTERSECTION_JOIN.join(x) for x in intersections]
                for feature in features:
                    rid = f"{template['id']}:{feature}"
                    inherited.append([f"extends[{i}] (rule '{rid}' of pack {pack.name})",
                                      {**rule, "id": rid, "feature": feature}, pack.name, template["id"]])
            else:
                inherited.append([f"extends[{i}] (rule '{template['id']}' of pack {pack.name})", rule, pack.name,
                                  template["id"]])
    own: list[tuple[str, dict, str | None]] = []
    for j, item in enumerate(raw):
        key = f"rules[{j}]"
        v.mapping(item, key)
        targets = [e for e in inherited if item.get("id") in (e[1]["id"], e[3])] if "id" in item else []
        if not targets:
            if inherited and "metric" not in item and "id" in item:
                ids = ", ".join(sorted({e[1]["id"] for e in inherited} | {e[3] for e in inherited}))
                v.fail(key, f"rule '{_show(item['id'])}' has no metric and matches no rule of the extended packs (their ids: {ids})")
            own.append((key, item, None))
            continue
        allowed = OVERRIDE_KEYS | _option_keys(targets[0][1].get("metric"))
        for name in item:
            if name not in allowed:
                v.fail(f"{key}.{_show(name)}", f"rule '{_show(item['id'])}' overrides a pack rule; '{_show(name)}' cannot be overridden (allowed: {', '.join(sorted(allowed - {'id'}))})")
        for entry in targets:
            for fixed in ("metric", "feature"):
                if fixed in item and item[fixed] != entry[1].get(fixed):
                    v.fail(f"{key}.{fixed}", f"rule '{_show(item['id'])}' overrides pack rule '{entry[1]['id']}', whose {fixed} is {short_repr(entry[1].get(fixed))}; remove '{fixed}' or give the rule a new id")
            merged = {**entry[1], **{k: val for k, val in item.items() if k not in ("id", "metric", "feature")}}
            if "min" in item or "max" in item:  # a new threshold replaces the pack's bounds
                merged = {k: val for k, val in merged.items() if k not in ("min", "max") or k in item}
            entry[0], entry[1] = key, merged
    return [(key, rule, pack) for key, rule, pack, _ in inherited] + own


def _option_keys(metric_name: Any) -> set[str]:
    """The extra rule keys a metric defines (empty for an unknown name)."""
    metric = get_metric(metric_name) if isinstance(metric_name, str) else None
    return set(metric.rule_options) if metric is not None else set()


# ---------------------------------------------------------------- validation helpers


class _Validator:
    def __init__(self, source: Path | None) -> None:
        self.source = source

    def fail(self, key: str, message: str):
        where = str(self.source) if self.source is not None else "policy"
        at = f" key '{key}'" if key else ""
        raise PolicyError(f"{where}:{at}: {message}." if at else f"{where}: {message}.")

    def keys(self, mapping: dict, where: str, *, required: set, optional: set) -> None:
        allowed = required | optional
        for k in mapping:
            if not isinstance(k, str):
                self.fail(where, f"key {short_repr(k)} must be text (one of: {', '.join(sorted(allowed))})")
            if k not in allowed:
                shown = _show(k)
                full = f"{where}.{shown}" if where else shown
                self.fail(full, f"unknown key '{shown}'{_suggest(k, allowed)}; allowed here: {', '.join(sorted(allowed))}")
        for k in sorted(required):
            if k not in mapping or mapping[k] is None:
                full = f"{where}.{k}" if where else k
                self.fail(full, f"missing required key '{k}'")

    def mapping(self, value: Any, key: str) -> dict:
        if not isinstance(value, dict):
            self.fail(key, f"must be a mapping (key: value lines), not {_type_name(value)}")
        return value

    def string(self, value: Any, key: str) -> str:
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            self.fail(key, f"must be text, not {_type_name(value)}")
        text = str(value)
        if not text.strip():
            self.fail(key, "must not be empty")
        return text

    def string_list(self, value: Any, key: str) -> list[str]:
        if not isinstance(value, list):
            self.fail(key, f"must be a list, not {_type_name(value)}")
        return [self.string(item, f"{key}[{i}]") for i, item in enumerate(value)]

    def integer(self, value: Any, key: str, low: int | None = None, high: int | None = None) -> int:
        """A whole number (``true``/``false`` are not numbers), within ``[low, high]`` when given."""
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(key, f"must be a whole number, not {_what(value)}")
        if (low is not None and value < low) or (high is not None and value > high):
            self.fail(key, f"must be {_range_text(low, high)}, not {short_repr(value)}")
        return value

    def number(self, value: Any, key: str) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(key, f"must be a number, not {_what(value)}{_exponent_hint(value)}")
        import math

        try:
            number = float(value)
        except OverflowError:  # an integer beyond the float range
            number = math.inf
        if not math.isfinite(number):
            self.fail(key, f"must be a finite number, not {short_repr(value)}")
        return number

    def boolean(self, value: Any, key: str) -> bool:
        if not isinstance(value, bool):
            self.fail(key, f"must be true or false, not {short_repr(value)}")
        return value

    def choice(self, value: Any, key: str, choices: tuple[str, ...]) -> str:
        if not isinstance(value, str) or value not in choices:
            self.fail(key, f"must be one of {', '.join(choices)}, not {short_repr(value)}")
        return value

    def path(self, value: Any, key: str, what: str) -> Path:
        text = self.string(value, key)
        base = self.source.parent if self.source is not None else Path.cwd()
        resolved = _resolve(self, base, text, key)
        kind = _kind(self, resolved, key, text)
        if kind is None:
            self.fail(key, f"{what} '{text}' does not exist (looked for {resolved}); paths are relative to the policy file")
        if kind == "folder":
            self.fail(key, f"{what} '{text}' is a folder; give the path of a file")
        return resolved


def _absolute(path: Path) -> Path:
    """``path`` made absolute without following symbolic links, so messages name what the user wrote
    (a link to ``/dev/zero`` is reported under its own name, then refused for what it leads to)."""
    import os

    return Path(os.path.abspath(path))


def _resolve(v: "_Validator", base: Path, text: str, key: str) -> Path:
    """``text`` as an absolute path, relative to ``base`` (the policy's folder) unless absolute."""
    try:
        return _absolute(base / text)
    except (OSError, ValueError, RuntimeError) as exc:  # a NUL byte, a symlink loop, ...
        v.fail(key, f"'{_show(text)}' is not a usable path ({_show(str(exc))}); check the path")


def _kind(v: "_Validator", path: Path, key: str, text: str) -> str | None:
    """``"file"``, ``"folder"`` or None when nothing is there; an unusable path is a PolicyError."""
    import os
    import stat

    try:
        mode = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return None
    except (OSError, ValueError) as exc:  # a name too long, a NUL byte, no permission, a loop
        reason = getattr(exc, "strerror", None) or _show(str(exc))
        v.fail(key, f"'{_show(text)}' cannot be used as a path ({reason}); check the path")
    return "folder" if stat.S_ISDIR(mode) else "file"


def _require_file(path: Path, option: str, source, what: str) -> None:
    try:
        exists, is_dir = path.exists(), path.is_dir()
    except (OSError, ValueError) as exc:
        raise PolicyError(f"{option} {path}: cannot be used as a path ({getattr(exc, 'strerror', None) or exc}); check the path.") from None
    if not exists:
        raise PolicyError(f"{option} {path}: {what} does not exist; check the path.")
    if is_dir:
        raise PolicyError(f"{option} {path}: is a folder; give the path of {what}.")


def _show(value: Any, limit: int = 80) -> str:
    """A value from the policy for a message: text as it is (shortened), anything else summarised."""
    if isinstance(value, str):
        return value if len(value) <= limit else value[: limit - 1] + "…"
    return short_repr(value, limit)


def _exponent_hint(value: Any) -> str:
    """YAML 1.1 reads ``1e-3`` and ``1.5e3`` as text: its exponent needs a dot and a sign."""
    import re

    if isinstance(value, str) and len(value) < 100 and re.fullmatch(r"\s*[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+\s*", value):
        return " (YAML reads an exponent as a number only when written like 1.0e-3 or 1.5e+3)"
    return ""


def _what(value: Any) -> str:
    """A value for "must be X, not ...": its kind and, for a single value, the value itself."""
    if isinstance(value, (dict, list, tuple, set)):
        return short_repr(value)  # "a list of 3 items"
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) and value.bit_length() > 64:
        return short_repr(value)  # "a number of about 501 digits"
    if isinstance(value, date):
        return f"the date {value.isoformat()}"
    return f"{_type_name(value)} {short_repr(value)}"


def _range_text(low: int | None, high: int | None) -> str:
    if low is not None and high is not None:
        return f"a whole number from {low:,} to {high:,}"
    if low is not None:
        return f"a whole number of at least {low:,}"
    return f"a whole number of at most {high:,}"


def _suggest(word: str, options) -> str:
    hint = difflib.get_close_matches(word, sorted(options), n=1, cutoff=0.6)
    return f" (did you mean '{hint[0]}'?)" if hint else ""


def _short_list(items: list[str], limit: int = 12) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f", ... ({len(items)} columns)" if len(items) > limit else "")


def _type_name(value: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "text", int: "a number", float: "a number",
            bool: "true/false", type(None): "nothing"}.get(type(value), type(value).__name__)
