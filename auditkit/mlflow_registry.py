"""The MLflow model registry: fetch a candidate safely, log the audit, move an alias.

Needs the optional extra: ``pip install 'auditkit[mlflow]'``. MLflow is imported inside the
functions only, so ``import auditkit`` and ``audit --help`` stay fast without it.

Safety: auditkit never calls ``mlflow.pyfunc.load_model`` or ``mlflow.sklearn.load_model``
(they unpickle). It downloads the version's files and loads them itself:

1. the ``.skops`` file of an MLflow sklearn flavour saved with ``serialization_format="skops"``
   (MLflow's default outside Databricks since late 2025), or any single ``.skops`` file logged with
   the model, goes through :func:`auditkit.model.load_model` and skops' trusted-type checks.
   The ``skops_trusted_types`` an ``MLmodel`` file lists are ignored on purpose: they are written
   by whoever logged the model, so only the auditor's own ``trust`` counts;
2. a pickle (``model.pkl`` of the sklearn flavour, pickle or cloudpickle, or a ``.joblib``) is
   loaded only when trusted, exactly as a local pickle would be.

The registry is the one MLflow is configured for (``MLFLOW_TRACKING_URI`` and optionally
``MLFLOW_REGISTRY_URI``), or the ``tracking_uri=`` given.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from .errors import AuditkitError, ModelError, OutputError, UntrustedModelError
from .model import LoadedModel
from .registry_uri import is_registry_uri, parse_registry_uri

__all__ = [
    "Promotion",
    "RegistryLoadedModel",
    "RegistryModel",
    "fetch_model",
    "is_registry_uri",
    "log_audit",
    "parse_registry_uri",
    "promote",
    "sanitize_key",
]

INSTALL_HINT = "pip install 'auditkit[mlflow]'"


@dataclass(frozen=True)
class RegistryModel:
    """Which registered model version was audited, as the registry resolved it."""

    uri: str  # as given, e.g. models:/credit@champion
    name: str
    version: str
    alias: str | None
    run_id: str | None
    source: str | None  # where the registry says the version's files are
    artifact: str | None = None  # the file loaded, relative to the version's files
    tracking_uri: str | None = None
    registry_uri: str | None = None

    @property
    def pinned_uri(self) -> str:
        """``models:/name/version``: the URI that always means this version."""
        return f"models:/{self.name}/{self.version}"

    def to_dict(self) -> dict:
        return {"uri": self.uri, "pinned_uri": self.pinned_uri, "name": self.name, "version": self.version,
                "alias": self.alias, "run_id": self.run_id, "source": self.source, "artifact": self.artifact,
                "registry_uri": self.registry_uri}


@dataclass(frozen=True)
class RegistryLoadedModel(LoadedModel):
    """A :class:`~auditkit.model.LoadedModel` that came from the registry.

    ``path`` is the pinned ``models:/name/version`` URI (the downloaded files are removed once
    the model is loaded); ``sha256`` is that of the file that was loaded.
    """

    registry: RegistryModel | None = None


@dataclass(frozen=True)
class Promotion:
    name: str
    alias: str
    version: str
    previous_version: str | None  # the version the alias pointed at before, if any


# ---------------------------------------------------------------------------- fetching


def fetch_model(uri: str, *, trust: bool | tuple[str, ...] | list[str] = False,
                tracking_uri: str | None = None) -> RegistryLoadedModel:
    """Resolve a registry URI, download the version's files and load the model safely.

    Parameters
    ----------
    uri : str
        ``models:/NAME/VERSION`` or ``models:/NAME@ALIAS``.
    trust : bool or sequence of str
        As ``model.trust``: ``True`` trusts everything (allows pickles); a sequence trusts
        those type names only.
    tracking_uri : str, optional
        The MLflow tracking server (default: ``MLFLOW_TRACKING_URI``).

    Raises
    ------
    UntrustedModelError
        The version holds only a pickle, or a skops file with untrusted types.
    ModelError
        The URI is malformed, the version does not exist, or its files hold no loadable model.
    AuditkitError
        MLflow is not installed or no registry is configured.
    """
    parsed = parse_registry_uri(uri)
    if parsed is None:
        raise ModelError(f"{uri}: not a registry model URI; use models:/NAME/VERSION or models:/NAME@ALIAS.")
    name, version, alias = parsed
    client, tracking, registry = _client(tracking_uri)
    try:
        mv = client.get_model_version_by_alias(name, alias) if alias else client.get_model_version(name, version)
    except Exception as exc:
        raise ModelError(f"{uri}: {_mlflow_reason(exc)}; check the name and {'alias' if alias else 'version'} "
                         f"in the registry at {registry}.") from None
    info = RegistryModel(uri=str(uri), name=name, version=str(mv.version), alias=alias, run_id=mv.run_id or None,
                         source=_redact(mv.source), tracking_uri=_redact(tracking), registry_uri=_redact(registry))
    with tempfile.TemporaryDirectory(prefix="auditkit-mlflow-") as folder:
        local = _download(client, info, Path(folder), tracking, registry)
        chosen, kind = _choose_model_file(local, info)
        relative = chosen.relative_to(local).as_posix()
        loaded = _load(chosen, kind, trust, info, relative)
    info = replace(info, artifact=relative)
    return RegistryLoadedModel(estimator=loaded.estimator, path=Path(info.pinned_uri), sha256=loaded.sha256,
                               format=loaded.format, trusted_types=loaded.trusted_types, registry=info)


def _download(client, info: RegistryModel, folder: Path, tracking: str, registry: str) -> Path:
    from mlflow.artifacts import download_artifacts

    try:
        location = client.get_model_version_download_uri(info.name, info.version)
        with _quiet_progress():
            path = download_artifacts(artifact_uri=location, dst_path=str(folder), tracking_uri=tracking)
    except Exception as exc:
        raise ModelError(f"{info.uri}: the files of version {info.version} could not be downloaded "
                         f"({_mlflow_reason(exc)}); check access to the artifact store of {registry}.") from None
    return Path(path)


def _choose_model_file(local: Path, info: RegistryModel) -> tuple[Path, str]:
    """The file to load and how: the flavour's skops file, a lone .skops, then a pickle."""
    files = [local] if local.is_file() else sorted(p for p in local.rglob("*") if p.is_file())
    root = local if local.is_dir() else local.parent
    flavour = _sklearn_flavour(root)
    if flavour is not None:
        data = root / str(flavour.get("pickled_model") or "")
        fmt = str(flavour.get("serialization_format") or "cloudpickle")
        if data.is_file() and (fmt == "skops" or data.suffix == ".skops"):
            return data, "skops"
    skops_files = [p for p in files if p.suffix.lower() == ".skops"]
    if len(skops_files) == 1:
        return skops_files[0], "skops"
    if len(skops_files) > 1:
        names = ", ".join(p.relative_to(root).as_posix() for p in skops_files)
        raise ModelError(f"{info.uri}: version {info.version} holds several .skops files ({names}); "
                         "log exactly one model file per registered version.")
    if flavour is not None:
        data = root / str(flavour.get("pickled_model") or "")
        if data.is_file():
            return data, "pickle"
    pickles = [p for p in files if p.suffix.lower() in (".pkl", ".pickle", ".joblib")]
    if len(pickles) == 1:
        return pickles[0], "pickle"
    shown = ", ".join(p.relative_to(root).as_posix() for p in files[:8]) or "no files"
    raise ModelError(f"{info.uri}: version {info.version} has no model file auditkit can load ({shown}); "
                     "log the model with mlflow.sklearn.log_model(..., serialization_format='skops') "
                     "or log a .skops file with it.")


def _sklearn_flavour(root: Path) -> dict | None:
    from .inputs import read_capped
    from .yaml_loader import load_yaml

    mlmodel = root / "MLmodel"
    if not os.path.lexists(mlmodel):
        return None
    # Written by whoever logged the model: read like every other untrusted YAML file.
    raw = read_capped(mlmodel, kind="policy", what="the model's MLmodel file", error=ModelError,
                      hint="log the model again")
    try:
        spec = load_yaml(raw.decode("utf-8"), mlmodel, ModelError) or {}
    except UnicodeDecodeError:
        raise ModelError(f"{mlmodel}: is not UTF-8 text; log the model again.") from None
    flavour = (spec.get("flavors") or {}).get("sklearn") if isinstance(spec, dict) else None
    return flavour if isinstance(flavour, dict) else None


def _load(path: Path, kind: str, trust, info: RegistryModel, relative: str) -> LoadedModel:
    from .model import load_model

    where = f"{info.uri} (version {info.version}, {relative})"
    if kind == "pickle" and trust is not True:
        raise UntrustedModelError(
            f"{where}: this version holds only a pickle, and loading a pickle runs code; log the model with "
            "mlflow.sklearn.log_model(..., serialization_format='skops') or log a .skops file with it, "
            "or if you trust this version set model.trust: true (or pass --trust-model).", ())
    try:
        return load_model(path, trust=trust)
    except UntrustedModelError as exc:
        raise UntrustedModelError(_relocate(exc.message, path, where), exc.untrusted_types) from None
    except ModelError as exc:
        raise ModelError(_relocate(exc.message, path, where)) from None


def _relocate(message: str, path: Path, where: str) -> str:
    """Name the registry URI instead of the temporary download in an error message."""
    for form in (str(path.resolve()), str(path)):
        message = message.replace(form, where)
    return message.replace("check model.path in the policy or --model", "check the registered version's files")


# ---------------------------------------------------------------------------- logging


def log_audit(results: dict, outputs_folder: str | Path, *, experiment: str | None = None,
              run_name: str | None = None, tracking_uri: str | None = None) -> str:
    """Record one audit as an MLflow run; returns the run id.

    Metrics: every rule's observed value as ``rule.<id>``, the overall fairness metrics as
    ``overall.<metric>``, the summary counts as ``summary.<status>`` and the contract's failing
    values as ``contract.failing_values``. Params: policy name, seed, model path or URI,
    fail_on. Tags: ``auditkit.verdict`` (the results' status), ``auditkit.version``,
    ``auditkit.policy``. Artifacts: report.html, results.json, junit.xml, summary.md and the
    packs' documents of the output set in ``outputs_folder`` (as its manifest lists them).
    Names are made to fit MLflow's allowed characters.

    Raises
    ------
    OutputError
        An output file is missing, or MLflow refused the run.
    """
    folder = Path(outputs_folder)
    artifacts = _output_files(folder)
    client, tracking, _registry = _client(tracking_uri)
    from mlflow.entities import Metric, Param

    experiment_id = _experiment_id(client, experiment)
    metrics, params, tags = _run_contents(results)
    if run_name is None:
        run_name = f"audit {(results.get('policy') or {}).get('name', '')}".strip()
    try:
        run = client.create_run(experiment_id, run_name=run_name, tags=tags)
    except Exception as exc:
        raise OutputError(f"MLflow at {tracking}: the run could not be created ({_mlflow_reason(exc)}); "
                          "check MLFLOW_TRACKING_URI and the experiment.") from None
    run_id = run.info.run_id
    import time

    now = int(time.time() * 1000)
    try:
        metric_items = [Metric(k, v, now, 0) for k, v in metrics.items()]
        param_items = [Param(k, v) for k, v in params.items()]
        for start in range(0, max(len(metric_items), len(param_items), 1), 100):
            client.log_batch(run_id, metrics=metric_items[start:start + 100], params=param_items[start:start + 100])
        with _quiet_progress():
            for name in artifacts:
                client.log_artifact(run_id, str(folder / name))
    except Exception as exc:
        client.set_terminated(run_id, status="FAILED")
        raise OutputError(f"MLflow run {run_id}: logging the audit failed ({_mlflow_reason(exc)}).") from None
    client.set_terminated(run_id, status="FINISHED")
    return run_id


def _output_files(folder: Path) -> list[str]:
    """The files of the audit's output set in ``folder``: the core outputs, then the packs'
    documents its manifest lists.

    Raises
    ------
    OutputError
        A core output is missing, or the manifest is damaged.
    """
    from .errors import DataError
    from .outputs import read_manifest
    from .report.render import CORE_DOCUMENTS

    missing = [name for name in CORE_DOCUMENTS if not (folder / name).is_file()]
    if missing:
        raise OutputError(f"{folder}: {', '.join(missing)} not found; log the folder written by 'audit check --out'.")
    try:
        manifest = read_manifest(folder) or {"files": []}
    except DataError as exc:
        raise OutputError(exc.message) from None
    extra = sorted(entry["name"] for entry in manifest["files"]
                   if entry["name"] not in CORE_DOCUMENTS and (folder / entry["name"]).is_file())
    return [*CORE_DOCUMENTS, *extra]


def _run_contents(results: dict) -> tuple[dict, dict, dict]:
    metrics: dict[str, float] = {}

    def put(key: str, value) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            return
        key = sanitize_key(key)
        base, n = key, 2
        while key in metrics:  # two ids that sanitise alike keep both values
            key, n = f"{base[:245]}_{n}", n + 1
        metrics[key] = float(value)

    for rule in results.get("rules") or []:
        put(f"rule.{rule.get('id')}", rule.get("observed"))
    for metric, value in sorted(((results.get("fairness") or {}).get("overall") or {}).items()):
        put(f"overall.{metric}", value)
    for status, count in (results.get("summary") or {}).items():
        put(f"summary.{status}", count)
    contract = results.get("contract")
    if isinstance(contract, dict):
        put("contract.failing_values", contract.get("total_failures"))
    provenance = results.get("provenance") or {}
    model = results.get("model") or {}
    params = {
        "policy": (results.get("policy") or {}).get("name"),
        "policy_sha256": (provenance.get("policy") or {}).get("sha256"),
        "seed": provenance.get("seed"),
        "model": model.get("uri") or model.get("path") or (provenance.get("model") or {}).get("path"),
        "model_sha256": (provenance.get("model") or {}).get("sha256"),
        "data_sha256": (provenance.get("data") or {}).get("sha256"),
        "fail_on": (results.get("policy") or {}).get("fail_on"),
    }
    params = {k: str(v)[:500] for k, v in params.items() if v is not None}
    from ._version import __version__

    tags = {
        "auditkit.verdict": str(results.get("status")),
        "auditkit.version": str((provenance.get("versions") or {}).get("auditkit") or __version__),
        "auditkit.policy": str((results.get("policy") or {}).get("name") or "")[:500],
    }
    return metrics, params, tags


def sanitize_key(key: str) -> str:
    """A metric or param name MLflow accepts on every platform and backend.

    Letters, digits, ``_``, ``-``, ``.`` are kept; anything else becomes ``_``; at most 250
    characters (a longer name keeps a hash of the whole so two long names stay distinct).
    """
    text = re.sub(r"[^A-Za-z0-9_.\-]", "_", str(key))
    if not text or set(text) <= {"."}:
        text = "_" + text
    if len(text) > 250:
        import hashlib

        text = text[:241] + "_" + hashlib.sha256(str(key).encode()).hexdigest()[:8]
    return text


def _experiment_id(client, experiment: str | None) -> str:
    if experiment is None:
        experiment = os.environ.get("MLFLOW_EXPERIMENT_NAME")
        if experiment is None:
            return os.environ.get("MLFLOW_EXPERIMENT_ID") or "0"
    try:
        found = client.get_experiment_by_name(experiment)
        if found is not None:
            return found.experiment_id
        return client.create_experiment(experiment)
    except Exception as exc:
        raise OutputError(f"MLflow experiment '{experiment}': could not be found or created ({_mlflow_reason(exc)}).") from None


# ---------------------------------------------------------------------------- promoting


def promote(uri_or_name: str, alias: str, *, version: str | int | None = None,
            tracking_uri: str | None = None) -> Promotion:
    """Point ``alias`` of a registered model at the audited version.

    ``uri_or_name`` is ``models:/NAME/VERSION``, ``models:/NAME@ALIAS`` (resolved now, so pass
    the URI that was audited; prefer the pinned one) or a plain name with ``version=``.

    Raises
    ------
    ModelError
        The model or version does not exist, the version is ambiguous, or MLflow refused the alias.
    """
    parsed = parse_registry_uri(uri_or_name)
    if parsed is None:
        if str(uri_or_name).startswith("models:"):
            raise ModelError(f"{uri_or_name}: not a registry model URI; use models:/NAME/VERSION or models:/NAME@ALIAS.")
        name, uri_version, uri_alias = str(uri_or_name), None, None
    else:
        name, uri_version, uri_alias = parsed
    if version is not None and uri_version is not None and str(version) != uri_version:
        raise ModelError(f"{uri_or_name}: names version {uri_version} but version={version} was given; pass one of them.")
    client, _tracking, registry = _client(tracking_uri)
    target = str(version) if version is not None else uri_version
    try:
        if target is None and uri_alias is not None:
            target = str(client.get_model_version_by_alias(name, uri_alias).version)
        if target is None:
            raise ModelError(f"{uri_or_name}: which version to promote is not known; pass models:/{name}/VERSION.")
        client.get_model_version(name, target)  # a clear error for a version that does not exist
        try:
            previous = str(client.get_model_version_by_alias(name, alias).version)
        except Exception:
            previous = None
        client.set_registered_model_alias(name, alias, target)
    except ModelError:
        raise
    except Exception as exc:
        raise ModelError(f"{uri_or_name}: alias '{alias}' could not be set ({_mlflow_reason(exc)}) "
                         f"in the registry at {registry}.") from None
    return Promotion(name=name, alias=alias, version=target, previous_version=previous)


# ---------------------------------------------------------------------------- MLflow access


def _client(tracking_uri: str | None):
    """An MlflowClient for the configured registry, and the tracking and registry URIs."""
    try:
        import mlflow
        from mlflow import MlflowClient
    except ImportError:
        raise AuditkitError(f"the MLflow integration needs MLflow; install it with: {INSTALL_HINT}.") from None
    if tracking_uri is None and not (os.environ.get("MLFLOW_TRACKING_URI") or os.environ.get("MLFLOW_REGISTRY_URI")
                                     or _tracking_uri_set(mlflow)):
        # MLflow would otherwise create a store in the current folder and find nothing in it.
        raise AuditkitError("no MLflow tracking server is configured; set MLFLOW_TRACKING_URI "
                            "(and MLFLOW_REGISTRY_URI if the registry is elsewhere).")
    try:
        client = MlflowClient(tracking_uri=tracking_uri)
        tracking = client.tracking_uri if hasattr(client, "tracking_uri") else tracking_uri
        registry = getattr(client, "_registry_uri", None) or tracking
    except Exception as exc:
        raise AuditkitError(f"MLflow could not connect to {tracking_uri or os.environ.get('MLFLOW_TRACKING_URI')} "
                            f"({_mlflow_reason(exc)}); check MLFLOW_TRACKING_URI.") from None
    return client, tracking, registry


@contextlib.contextmanager
def _quiet_progress():
    """No MLflow progress bars on the auditor's terminal (auditkit reports its own stages)."""
    key = "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"
    before = os.environ.get(key)
    os.environ[key] = "false"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = before


def _redact(uri: str | None) -> str | None:
    """A URI without the user name and password it may carry, fit for provenance and reports."""
    if not uri:
        return uri
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(uri)
    except ValueError:
        return uri
    if "@" not in parts.netloc:
        return uri
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"***@{host}"))


def _tracking_uri_set(mlflow) -> bool:
    check = getattr(mlflow, "is_tracking_uri_set", None)
    try:
        return bool(check()) if check else False
    except Exception:
        return False


def _mlflow_reason(exc: BaseException) -> str:
    text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    text = " ".join(str(text).split())
    return text[:200] + "…" if len(text) > 200 else text
