"""The MLflow registry integration, against a real local MLflow store (SQLite, or files).

Versions of the registered model ``credit`` built by the ``registry`` fixture:

1. the demo pipeline as a lone ``credit_model.skops`` artifact     (alias champion)
2. a worse pipeline: an MLflow sklearn flavour (cloudpickle) plus ``worse.skops`` (alias challenger)
3. the worse pipeline as an MLflow sklearn flavour (cloudpickle) only
4. a ``.skops`` file holding a user function skops does not trust by default
5. a flavour whose ``model.pkl`` would run a command when unpickled (never is)
"""

from __future__ import annotations

import os
import pickle
import sys

import numpy as np
import pytest

from auditkit.errors import AuditkitError, ModelError, UntrustedModelError
from auditkit.mlflow_registry import (
    fetch_model,
    is_registry_uri,
    log_audit,
    parse_registry_uri,
    promote,
    sanitize_key,
)

NAME = "credit"


def _double(x):
    return x * 2


class _Exploit:
    """Unpickling this runs a shell command that creates a marker file."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_registry_uris_are_recognised():
    assert is_registry_uri("models:/credit/1")
    assert is_registry_uri("models:/credit@champion")
    assert is_registry_uri("models:/main.risk.credit-v2@prod_2")
    assert parse_registry_uri("models:/credit/12") == ("credit", "12", None)
    assert parse_registry_uri("models:/credit@champion") == ("credit", None, "champion")
    for text in ("models/credit.skops", "models:/credit", "models:/credit/latest", "models:/credit/1/extra",
                 "runs:/abc/model", "models:/credit@", "", "models:/@x", "models:/credit/1/", " models:/credit/1"):
        assert not is_registry_uri(text), text


def test_registry_uris_agree_with_policy_validation():
    from auditkit import registry_uri

    for text in ("models:/credit/1", "models:/credit@champion", "models:/a.b.c@x-1", "models:/credit",
                 "models:/credit/1/", "models:/x@y@z", "models://credit/1", "models:/credit@é", "models:/credit/v1"):
        assert is_registry_uri(text) == registry_uri.is_registry_uri(text), text


def test_metric_names_are_sanitised():
    assert sanitize_key("rule.four-fifths sex") == "rule.four-fifths_sex"
    assert sanitize_key("rule.a/b:c|<d>") == "rule.a_b_c__d_"
    assert sanitize_key("rule.ségrégation") == "rule.s_gr_gation"
    long = sanitize_key("rule." + "x" * 400)
    assert len(long) == 250 and long != sanitize_key("rule." + "x" * 401)


def test_importing_the_module_does_not_import_mlflow():
    import subprocess

    code = "import sys, auditkit.mlflow_registry, auditkit.diff; print(sorted(m for m in sys.modules if m.split('.')[0] in ('mlflow', 'sklearn', 'shap')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_without_mlflow_every_entry_point_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "mlflow", None)  # import mlflow now raises ImportError
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/none.db")
    for name in [n for n in list(sys.modules) if n.startswith("mlflow.")]:
        monkeypatch.setitem(sys.modules, name, None)
    for call in (lambda: fetch_model("models:/credit/1"),
                 lambda: promote("models:/credit/1", "champion")):
        with pytest.raises(AuditkitError, match=r"pip install 'auditkit\[mlflow\]'"):
            call()
    out = tmp_path / "out"
    out.mkdir()
    for name in ("report.html", "results.json", "junit.xml", "summary.md"):
        (out / name).write_text("x")
    with pytest.raises(AuditkitError, match=r"pip install 'auditkit\[mlflow\]'"):
        log_audit({"status": "passed", "rules": []}, out)


# ---------------------------------------------------------------------------- a real store


@pytest.fixture(scope="module")
def registry(tmp_path_factory, demo_dir):
    """A local MLflow store with three versions of ``credit``; yields a dict of facts."""
    mlflow = pytest.importorskip("mlflow")
    import skops.io as sio
    from mlflow import MlflowClient
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    root = tmp_path_factory.mktemp("mlflow")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)  # anything MLflow writes by default lands here, not in the repository
        uri = _store_uri(root, mp)
        mp.setenv("MLFLOW_TRACKING_URI", uri)
        mp.delenv("MLFLOW_REGISTRY_URI", raising=False)
        client = MlflowClient(tracking_uri=uri)
        experiment = client.create_experiment("models", artifact_location=(root / "artifacts").as_uri())
        client.create_registered_model(NAME)

        champion = sio.load(demo_dir / "models" / "credit_model.skops", trusted=[])
        # A worse model: the demo pipeline's preprocessing with a heavily regularised classifier.
        from sklearn.base import clone

        worse = make_pipeline(clone(champion.steps[0][1]), LogisticRegression(C=1e-4))
        frame = _demo_frame(demo_dir)
        worse.fit(frame.drop(columns=["credit_risk", "sex", "age_group"], errors="ignore"), frame["credit_risk"])

        versions = {}
        # 1: the .skops file only
        run = client.create_run(experiment)
        client.log_artifact(run.info.run_id, str(demo_dir / "models" / "credit_model.skops"), "model")
        versions[1] = _register(client, run.info.run_id, root)
        # 2: MLflow's sklearn flavour (cloudpickle) with the .skops file logged next to it
        import mlflow.sklearn

        run = client.create_run(experiment)
        folder = root / "v2"
        mlflow.sklearn.save_model(worse, str(folder), serialization_format="cloudpickle")
        sio.dump(worse, folder / "worse.skops")
        client.log_artifacts(run.info.run_id, str(folder), "model")
        versions[2] = _register(client, run.info.run_id, root)
        # 3: MLflow's sklearn flavour pickled with cloudpickle, and nothing else
        run = client.create_run(experiment)
        folder = root / "v3"
        mlflow.sklearn.save_model(worse, str(folder), serialization_format="cloudpickle")
        client.log_artifacts(run.info.run_id, str(folder), "model")
        versions[3] = _register(client, run.info.run_id, root)
        # 4: a .skops file that needs a type skops does not trust by default (a user function)
        from sklearn.preprocessing import FunctionTransformer

        run = client.create_run(experiment)
        custom = make_pipeline(FunctionTransformer(_double), LogisticRegression()).fit(np.array([[0.0], [1.0]]), [0, 1])
        sio.dump(custom, root / "custom.skops")
        client.log_artifact(run.info.run_id, str(root / "custom.skops"), "model")
        versions[4] = _register(client, run.info.run_id, root)
        # 5: a flavour whose model.pkl would run a command when unpickled
        marker = root / "pwned"
        run = client.create_run(experiment)
        folder = root / "v5"
        mlflow.sklearn.save_model(worse, str(folder), serialization_format="pickle")
        (folder / "model.pkl").write_bytes(pickle.dumps(_Exploit(marker)))
        client.log_artifacts(run.info.run_id, str(folder), "model")
        versions[5] = _register(client, run.info.run_id, root)
        client.set_registered_model_alias(NAME, "champion", "1")
        client.set_registered_model_alias(NAME, "challenger", "2")
        yield {"uri": uri, "client": client, "experiment": experiment, "versions": versions, "marker": marker,
               "champion": champion, "worse": worse, "frame": frame, "root": root, "mlflow": mlflow,
               "demo_model": demo_dir / "models" / "credit_model.skops"}


def _store_uri(root, mp) -> str:
    """SQLite when SQLAlchemy is there (MLflow's recommended local store), else the file store.

    ``AUDITKIT_TEST_MLFLOW_BACKEND=file`` forces the file store, to test both.
    """
    backend = os.environ.get("AUDITKIT_TEST_MLFLOW_BACKEND", "sqlite")
    try:
        import alembic  # noqa: F401
        import sqlalchemy  # noqa: F401
    except ImportError:  # mlflow-skinny alone
        backend = "file"
    if backend == "file":  # MLflow 3 keeps the file store in maintenance mode: opt in
        mp.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
        return (root / "store").as_uri()
    return f"sqlite:///{root / 'mlflow.db'}"


def _register(client, run_id: str, root) -> str:
    source = f"{client.get_run(run_id).info.artifact_uri}/model"
    return str(client.create_model_version(NAME, source, run_id=run_id).version)


def _demo_frame(demo_dir):
    import pandas as pd

    return pd.read_csv(demo_dir / "data" / "credit.csv")


def _features(registry):
    return registry["frame"].drop(columns=["credit_risk"])


def test_fetch_by_version_loads_the_skops_file(registry):
    loaded = fetch_model(f"models:/{NAME}/1")
    info = loaded.registry
    assert (info.name, info.version, info.alias, info.artifact) == (NAME, "1", None, "credit_model.skops")
    assert info.run_id == registry["client"].get_model_version(NAME, "1").run_id
    assert info.source.endswith("/model")
    assert loaded.format == "skops" and str(loaded.path) == f"models:/{NAME}/1"
    X = _features(registry)
    np.testing.assert_allclose(loaded.estimator.predict_proba(X), registry["champion"].predict_proba(X))
    # The logged file is a byte copy: its digest is the local file's, so provenance matches.
    from auditkit.data import sha256_file

    assert loaded.sha256 == sha256_file(registry["demo_model"])


def test_fetch_by_alias_resolves_the_version(registry):
    loaded = fetch_model(f"models:/{NAME}@champion")
    assert (loaded.registry.version, loaded.registry.alias) == ("1", "champion")
    assert loaded.registry.pinned_uri == f"models:/{NAME}/1"


def test_skops_file_is_preferred_over_the_flavour_pickle(registry):
    loaded = fetch_model(f"models:/{NAME}@challenger")  # no trust needed: the pickle is never opened
    assert loaded.registry.version == "2" and loaded.registry.artifact == "worse.skops"
    X = _features(registry)
    np.testing.assert_allclose(loaded.estimator.predict_proba(X), registry["worse"].predict_proba(X))


def test_pickle_only_version_is_refused_without_trust(registry):
    for trust in (False, ["sklearn.pipeline.Pipeline"]):
        with pytest.raises(UntrustedModelError) as info:
            fetch_model(f"models:/{NAME}/3", trust=trust)
        message = info.value.message
        assert f"models:/{NAME}/3" in message and "model.pkl" in message
        assert "serialization_format='skops'" in message and "--trust-model" in message
        assert "auditkit-mlflow-" not in message  # names the URI, not the temporary download
    for trust in (False, ["posix.system", "os.system"]):  # naming the exploit's globals is not enough
        with pytest.raises(UntrustedModelError):
            fetch_model(f"models:/{NAME}/5", trust=trust)
    assert not registry["marker"].exists()


def test_untrusted_skops_types_are_listed_with_the_uri(registry):
    with pytest.raises(UntrustedModelError) as info:
        fetch_model(f"models:/{NAME}/4")
    assert any(t.endswith("_double") for t in info.value.untrusted_types)
    assert f"models:/{NAME}/4 (version 4, custom.skops)" in info.value.message
    assert "auditkit-mlflow-" not in info.value.message
    loaded = fetch_model(f"models:/{NAME}/4", trust=list(info.value.untrusted_types))
    assert loaded.trusted_types == info.value.untrusted_types
    assert list(loaded.estimator.predict(np.array([[0.0], [1.0]]))) == [0, 1]


def test_credentials_never_reach_provenance():
    from auditkit.mlflow_registry import _redact

    assert _redact("https://alice:s3cret@mlflow.example.com/path") == "https://***@mlflow.example.com/path"
    assert _redact("sqlite:////tmp/mlflow.db") == "sqlite:////tmp/mlflow.db"
    assert _redact(None) is None


def test_trusted_pickle_version_loads(registry):
    loaded = fetch_model(f"models:/{NAME}/3", trust=True)
    assert loaded.format == "pickle" and loaded.registry.artifact == "model.pkl"
    X = _features(registry)
    np.testing.assert_allclose(loaded.estimator.predict_proba(X), registry["worse"].predict_proba(X))


def test_missing_version_and_alias_are_one_line_errors(registry):
    with pytest.raises(ModelError, match=f"models:/{NAME}/99") as info:
        fetch_model(f"models:/{NAME}/99")
    assert "\n" not in info.value.message
    with pytest.raises(ModelError, match="alias"):
        fetch_model(f"models:/{NAME}@nobody")
    with pytest.raises(ModelError, match="not a registry model URI"):
        fetch_model("models:/credit")


def test_no_configured_tracking_server_is_an_error(registry, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI")
    monkeypatch.setattr(registry["mlflow"], "is_tracking_uri_set", lambda: False, raising=False)
    with pytest.raises(AuditkitError, match="MLFLOW_TRACKING_URI"):
        fetch_model(f"models:/{NAME}/1")
    # An explicit tracking_uri needs no environment.
    assert fetch_model(f"models:/{NAME}/1", tracking_uri=registry["uri"]).registry.version == "1"


def test_native_skops_flavour_loads(registry):
    import mlflow.sklearn

    if not hasattr(mlflow.sklearn, "SERIALIZATION_FORMAT_SKOPS"):
        pytest.skip("this MLflow has no skops serialization format (added to MLflow in late 2025)")
    mlflow = registry["mlflow"]
    with mlflow.start_run(experiment_id=registry["experiment"]):
        info = mlflow.sklearn.log_model(registry["worse"], name="model", serialization_format="skops",
                                        registered_model_name="credit-native")
    loaded = fetch_model("models:/credit-native/1")
    assert loaded.format == "skops" and loaded.registry.artifact == "model.skops"
    assert loaded.registry.source  # a models:/m-... or runs:/ location, depending on the MLflow version
    X = _features(registry)
    np.testing.assert_allclose(loaded.estimator.predict_proba(X), registry["worse"].predict_proba(X))
    assert info is not None


# ---------------------------------------------------------------------------- log and promote


@pytest.fixture(scope="module")
def audited(registry, demo_dir, tmp_path_factory):
    from auditkit.pipeline import run_audit
    from auditkit.report import write_outputs

    result = run_audit(demo_dir / "audit.yaml", explain=False)
    results = result.to_dict()
    results["rules"][0]["id"] = "contract holds/all:rows"  # a name MLflow would refuse as is
    out = tmp_path_factory.mktemp("audit-out")
    write_outputs(results, out, github_summary=False)
    return results, out


def test_log_audit_records_metrics_params_tags_and_artifacts(registry, audited):
    results, out = audited
    run_id = log_audit(results, out, experiment="audits", run_name="candidate v2")
    client = registry["client"]
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED" and run.info.run_name == "candidate v2"
    assert client.get_experiment(run.info.experiment_id).name == "audits"
    metrics = run.data.metrics
    for rule in results["rules"]:
        if rule["observed"] is not None:
            assert metrics[sanitize_key(f"rule.{rule['id']}")] == pytest.approx(rule["observed"])
    assert "rule.contract_holds_all_rows" in metrics
    assert metrics["overall.accuracy"] == pytest.approx(results["fairness"]["overall"]["accuracy"])
    assert metrics["summary.pass"] == results["summary"]["pass"]
    assert metrics["contract.failing_values"] == 0
    assert run.data.params["policy"] == results["policy"]["name"]
    assert run.data.params["seed"] == "0"
    assert run.data.params["model"].endswith("credit_model.skops")
    assert run.data.tags["auditkit.verdict"] == results["status"]
    assert run.data.tags["auditkit.version"] == results["provenance"]["versions"]["auditkit"]
    names = sorted(a.path for a in client.list_artifacts(run_id))
    assert names == ["junit.xml", "report.html", "results.json", "summary.md"]


def test_log_audit_needs_the_written_outputs(registry, audited, tmp_path):
    from auditkit.errors import OutputError

    with pytest.raises(OutputError, match="report.html"):
        log_audit(audited[0], tmp_path)


def test_promote_moves_the_alias(registry):
    client = registry["client"]
    try:
        moved = promote(f"models:/{NAME}/2", "champion")
        assert (moved.version, moved.previous_version) == ("2", "1")
        assert str(client.get_model_version_by_alias(NAME, "champion").version) == "2"
        # By alias: the alias is resolved now, then the target alias moves to that version.
        moved = promote(f"models:/{NAME}@challenger", "production")
        assert (moved.version, moved.previous_version) == ("2", None)
        assert str(client.get_model_version_by_alias(NAME, "production").version) == "2"
        assert promote(NAME, "champion", version=1).version == "1"
        with pytest.raises(ModelError, match="version"):
            promote(NAME, "champion")
        with pytest.raises(ModelError):
            promote(f"models:/{NAME}/2", "champion", version=3)
        with pytest.raises(ModelError, match="99"):
            promote(f"models:/{NAME}/99", "champion")
        with pytest.raises(ModelError, match="alias"):
            promote(f"models:/{NAME}/2", "latest")  # reserved by MLflow
    finally:
        client.set_registered_model_alias(NAME, "champion", "1")


def test_audit_check_promotes_only_when_the_gate_passes(registry, demo_dir, tmp_path, monkeypatch):
    """End to end: audit two registered versions with `audit check --mlflow --promote`."""
    import json

    from click.testing import CliRunner

    from auditkit.cli import cli

    monkeypatch.setenv("MLFLOW_TRACKING_URI", registry["uri"])
    client = registry["client"]
    client.set_registered_model_alias(NAME, "prod", "1")
    policy = tmp_path / "audit.yaml"

    def check(floor: float, out: str):
        policy.write_text(
            "version: 1\nname: registry\n"
            f"data: {{path: {demo_dir / 'data' / 'credit.csv'}, target: credit_risk, positive_label: good}}\n"
            f"model: {{path: 'models:/{NAME}@challenger'}}\n"
            "sensitive_features: [sex]\nfairness: {bootstrap: 100}\n"
            f"rules:\n  - {{id: accuracy-floor, metric: accuracy, min: {floor}}}\n")
        return CliRunner().invoke(cli, ["check", str(policy), "--out", str(tmp_path / out), "--no-explain",
                                        "--mlflow", "--mlflow-experiment", "cli-gate", "--promote", "prod"])

    failed = check(0.99, "a")
    assert failed.exit_code == 1, failed.output
    assert "not promoted" in failed.output
    assert str(client.get_model_version_by_alias(NAME, "prod").version) == "1"

    passed = check(0.5, "b")
    assert passed.exit_code == 0, passed.output
    assert str(client.get_model_version_by_alias(NAME, "prod").version) == "2"
    results = json.loads((tmp_path / "b" / "results.json").read_text())
    assert str(results["provenance"]["model"]["registry"]["version"]) == "2"

    experiment = client.get_experiment_by_name("cli-gate")
    runs = client.search_runs([experiment.experiment_id])
    assert sorted(r.data.tags["auditkit.verdict"] for r in runs) == ["failed", "passed"]
