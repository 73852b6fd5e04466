"""Hostile model files and hostile model code (issue 13, "fail closed").

Every case must end in exit code 2 with one ``Error:`` line naming the model file, no
traceback and no outputs -- and a pickle that is refused must not have run a single opcode
of its payload (the payloads would create a marker file).

Out of scope, on purpose: code that is *trusted* (``--trust-model``, ``model.trust: true``, or
the code of a trusted type) runs with the auditor's privileges. It can call ``os._exit``, kill
the process, patch auditkit in memory or write to the terminal; no check inside the process
can stop that. What auditkit guarantees is that untrusted code never runs, and that whatever
trusted code *raises* (``SystemExit`` included) ends the audit with exit code 2.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import pickle
import signal
import struct
import sys
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import hostile_models
from auditkit.cli import cli
from auditkit.errors import ExplanationError, ModelError, UntrustedModelError
from auditkit.model import load_model, pickle_globals
from policies import MINIMAL_POLICY

NO_CONTRACT = MINIMAL_POLICY.replace("  contract: schemas/german_credit.yaml\n", "").replace(
    "  - id: contract-holds\n    metric: contract_violations\n    max: 0\n", "")
LR = "sklearn.linear_model._logistic.LogisticRegression"


def run_check(policy, out, *extra, explain=False):
    args = ["check", str(policy), "--out", str(out), *map(str, extra)]
    if not explain:
        args.append("--no-explain")
    return CliRunner().invoke(cli, args, catch_exceptions=False)


def assert_could_not_run(result, out, *needles):
    assert result.exit_code == 2, f"exit {result.exit_code}: {result.output}"
    err = result.stderr.strip()
    assert err.startswith("Error: ") and len(err.splitlines()) == 1, err
    assert "Traceback" not in result.output
    assert "\x1b" not in result.output
    for needle in needles:
        assert needle in err, f"{needle!r} not in {err!r}"
    assert not out.exists() or not any(out.iterdir()), "no partial outputs"
    return err


def model_policy(write_policy, name: str, trust: str | None = None) -> Path:
    text = NO_CONTRACT.replace("models/credit_model.skops", f"models/{name}")
    if trust is not None:
        text = text.replace(f"  path: models/{name}\n", f"  path: models/{name}\n  trust: {trust}\n")
    return write_policy(text)


def check_pickled(demo_copy, write_policy, tmp_path, model, *needles, name="hostile.pkl"):
    (demo_copy / "models" / name).write_bytes(pickle.dumps(model))
    result = run_check(model_policy(write_policy, name), tmp_path / "out", "--trust-model")
    return assert_could_not_run(result, tmp_path / "out", name, *needles)


# ------------------------------------------------------------------ model code that raises

@pytest.mark.parametrize(("kind", "needles"), [
    ("exit0", ["could not run", "SystemExit"]),
    ("exit-text", ["could not run", "SystemExit"]),
    ("base-exception", ["could not run", "HostileInterrupt"]),
    ("generator-exit", ["could not run", "GeneratorExit"]),
    ("classes-exit", ["could not run", "classes_", "SystemExit"]),
    ("classes-raise", ["could not run", "classes_", "RuntimeError"]),
    ("unprintable", ["could not run", "UnprintableError", "not printable"]),
])
def test_model_code_cannot_end_or_escape_the_audit(demo_copy, write_policy, tmp_path, kind, needles):
    check_pickled(demo_copy, write_policy, tmp_path, hostile_models.Hostile(kind), *needles)


def test_exception_text_from_the_model_is_one_short_clean_line(demo_copy, write_policy, tmp_path):
    err = check_pickled(demo_copy, write_policy, tmp_path, hostile_models.Hostile("ansi-message"), "RuntimeError")
    assert len(err) <= 700 and "\r" not in err


def test_keyboard_interrupt_stays_the_users_interrupt():
    from types import SimpleNamespace

    from auditkit.predictions import Target, predict_with_model

    frame = pd.DataFrame({"age": np.arange(10.0), "y": ["good", "bad"] * 5})
    target = Target((frame["y"] == "good").to_numpy().astype(np.int8), "classification", "good", ("bad", "good"))
    loaded = SimpleNamespace(estimator=hostile_models.Hostile("interrupt"), path=Path("m.pkl"))
    with pytest.raises(KeyboardInterrupt):
        predict_with_model(loaded, frame, target, threshold=0.5, exclude={"y"})


def test_exit_while_unpickling_a_trusted_file(demo_copy, write_policy, tmp_path):
    check_pickled(demo_copy, write_policy, tmp_path, hostile_models.ExitOnLoad(), "could not be unpickled", "SystemExit")


def test_exit_from_attribute_properties(demo_copy, write_policy, tmp_path):
    check_pickled(demo_copy, write_policy, tmp_path, hostile_models.FailingSteps(), "could not run", "SystemExit")


def test_exit_in_predict_of_a_label_only_model(demo_copy, write_policy, tmp_path):
    check_pickled(demo_copy, write_policy, tmp_path, hostile_models.LabelOnly("exit"), "could not run", "SystemExit")


# ------------------------------------------------------------------ what predict_proba returns

@pytest.mark.parametrize(("kind", "needles"), [
    ("above-one", ["outside [0, 1]", "position 3"]),
    ("not-summing", ["do not add up to 1", "position 7"]),
    ("three-columns", ["3 probability column(s)", "2 classes"]),
    ("one-d", ["1-D"]),
    ("three-d", ["3-D"]),
    ("nan", ["non-finite", "position 11"]),
    ("wrong-length", ["rows of probabilities for"]),
    ("object", ["type object"]),
    ("complex", ["type complex"]),
    ("classes-three", ["3 classes"]),
])
def test_invalid_probabilities_are_refused(demo_copy, write_policy, tmp_path, kind, needles):
    check_pickled(demo_copy, write_policy, tmp_path, hostile_models.Hostile(kind), *needles)


@pytest.mark.parametrize(("kind", "needles"), [
    ("none-label", ["missing labels", "position 5"]),
    ("nan-label", ["missing labels", "position 5"]),
    ("two-columns", ["shape"]),
])
def test_invalid_labels_are_refused(demo_copy, write_policy, tmp_path, kind, needles):
    check_pickled(demo_copy, write_policy, tmp_path, hostile_models.LabelOnly(kind), *needles)


def test_real_float32_probabilities_are_accepted(tmp_path):
    """GaussianNB on float32 data has rows off 1 by ~2e-6: a real model, not an error."""
    from sklearn.naive_bayes import GaussianNB

    from auditkit.predictions import check_probabilities

    rng = np.random.default_rng(0)
    X = rng.normal(size=(5000, 20)).astype(np.float32)
    y = (X[:, 0] + rng.normal(size=5000) > 0).astype(int)
    proba = np.asarray(GaussianNB().fit(X, y).predict_proba(X))
    checked = check_probabilities(proba, n_rows=5000, n_classes=2, path="nb.pkl")
    assert checked.dtype == np.float64 and checked.shape == (5000, 2)
    with pytest.raises(ModelError, match="do not add up to 1"):
        check_probabilities(np.array([[0.5, 0.49]]), n_rows=1, n_classes=2, path="m.pkl")


def test_regression_outputs_are_checked():
    from types import SimpleNamespace

    from auditkit.predictions import Target, predict_with_model

    class Regressor:
        feature_names_in_ = np.array(["x"])

        def __init__(self, out):
            self.out = out

        def predict(self, X):
            return self.out(len(X))

    frame = pd.DataFrame({"x": np.arange(10.0), "y": np.arange(10.0)})
    target = Target(frame["y"].to_numpy(), "regression", None, ())
    cases = {"shape": lambda n: np.ones((n, 2)), "predictions for": lambda n: np.ones(n - 1),
             "non-finite": lambda n: np.r_[np.ones(n - 1), np.nan], "not numbers": lambda n: np.array(["a"] * n),
             "SystemExit": lambda n: sys.exit(3)}
    for needle, out in cases.items():
        loaded = SimpleNamespace(estimator=Regressor(out), path=Path("reg.pkl"))
        with pytest.raises(ModelError, match=needle) as info:
            predict_with_model(loaded, frame, target, threshold=0.5, exclude={"y"})
        assert "reg.pkl" in info.value.message


# ------------------------------------------------------------------ explanations

def test_exit_during_explanations_is_an_explanation_error():
    from auditkit.explanations import explain

    X = pd.DataFrame({"age": np.arange(100.0)})
    models = [hostile_models.Hostile(kind) for kind in ("exit0", "base-exception", "generator-exit", "classes-exit")]
    for model in [*models, hostile_models.CoefExit("fine")]:
        with pytest.raises(ExplanationError, match="SystemExit|HostileInterrupt|GeneratorExit"):
            explain(model, X, max_rows=20, max_background=10, progress=False)


def test_exit_during_explanations_through_the_cli(demo_copy, write_policy, tmp_path):
    """The audit itself predicts fine; the model exits only once SHAP calls it: explanations error."""
    (demo_copy / "models" / "late.pkl").write_bytes(pickle.dumps(hostile_models.Hostile("exit0", when="explain")))
    out = tmp_path / "out"
    result = run_check(model_policy(write_policy, "late.pkl"), out, "--trust-model", explain=True)
    assert result.exit_code in (0, 1), result.output
    results = json.loads((out / "results.json").read_text())
    assert results["explanations"]["status"] == "error"
    assert "SystemExit" in results["explanations"]["reason"]


# ------------------------------------------------------------------ pickles that lie about their imports

def su(text: str) -> bytes:
    """SHORT_BINUNICODE."""
    data = text.encode()
    return b"\x8c" + bytes([len(data)]) + data


def call(marker: Path) -> bytes:
    """Arguments and REDUCE: the callable on the stack is called with a shell command."""
    return su(f"touch {marker}") + b"\x85R."


def lr_import() -> bytes:
    """A genuine, trusted import of LogisticRegression, popped: what the old check looked at."""
    return su("sklearn.linear_model._logistic") + su("LogisticRegression") + b"\x93" + b"0"


def hostile_pickles(marker: Path) -> dict[str, bytes]:
    return {
        # module and name memoized, then fetched back after the decoy strings
        "memo BINPUT/BINGET": b"\x80\x04" + su("os") + b"q\x00" + su("system") + b"q\x01" + b"00" + lr_import()
                              + b"h\x00h\x01\x93" + call(marker),
        "memo MEMOIZE/LONG_BINGET": b"\x80\x04" + su("posix") + b"\x94" + su("system") + b"\x94" + b"00" + lr_import()
                                    + b"j\x00\x00\x00\x00j\x01\x00\x00\x00\x93" + call(marker),
        "memo text PUT/GET": b"\x80\x02" + su("builtins") + b"p7\n" + su("eval") + b"p8\n" + b"00" + lr_import()
                             + b"g7\ng8\n\x93" + su("__import__('os').system('touch %s')" % marker) + b"\x85R.",
        "DUP": b"\x80\x04" + su("os") + b"2" + b"0" + su("system") + lr_import() + b"\x93" + call(marker),
        "EXT1": b"\x80\x02\x82\x01" + call(marker),
        "EXT2": b"\x80\x02\x83\x01\x00" + call(marker),
        "EXT4": b"\x80\x02\x84\x01\x00\x00\x00" + call(marker),
        "PERSID": b"\x80\x02Pos.system\n" + call(marker),
        "BINPERSID": b"\x80\x02" + su("os.system") + b"Q" + call(marker),
        "operand built at run time": b"\x80\x04" + su("sklearn.linear_model._logistic") + su("LogisticRegression")
                                     + b"\x93" + b")R" + su("system") + b"\x93" + call(marker),
        "GLOBAL of Python 2 name": b"c__builtin__\neval\n" + su("__import__('os').system('touch %s')" % marker)
                                   + b"\x85R.",
        "INST": b"(" + su(f"touch {marker}") + b"iposix\nsystem\n.",
        "second pickle after STOP": pickle.dumps(1, protocol=4) + b"cposix\nsystem\n" + call(marker),
        "trailing bytes": pickle.dumps(1, protocol=4) + b"garbage",
        "truncated": b"\x80\x04" + su("os") + su("sys"),
        "nested pickle": b"\x80\x04" + su("_pickle") + su("loads") + b"\x93"
                         + b"C" + bytes([len(inner := b"cposix\nsystem\n" + call(marker))]) + inner + b"\x85R.",
    }


@pytest.mark.parametrize("case", list(hostile_pickles(Path("m"))))
def test_hostile_pickle_is_refused_without_running(tmp_path, case):
    marker = tmp_path / "pwned"
    path = tmp_path / "model.pkl"
    path.write_bytes(hostile_pickles(marker)[case])
    for trust in ([LR], [LR, "numpy.ndarray"], False):
        with pytest.raises(UntrustedModelError) as info:
            load_model(path, trust=trust)
        message = info.value.message
        assert str(path) in message
        assert any(word in message for word in ("os.system", "posix.system", "builtins.eval", "_pickle.loads",
                                                "cannot be verified")), message
    assert not marker.exists()


def test_what_the_memo_trick_imports_is_named(tmp_path):
    marker = tmp_path / "pwned"
    cases = hostile_pickles(marker)
    expected = {"memo BINPUT/BINGET": "os.system", "memo MEMOIZE/LONG_BINGET": "posix.system",
                "memo text PUT/GET": "builtins.eval", "DUP": "os.system", "GLOBAL of Python 2 name": "builtins.eval",
                "INST": "posix.system", "nested pickle": "_pickle.loads"}
    for case, name in expected.items():
        path = tmp_path / "m.pkl"
        path.write_bytes(cases[case])
        names = pickle_globals(path)
        assert name in names, (case, names)
    assert not marker.exists()


def test_hostile_pickle_through_the_cli(demo_copy, write_policy, tmp_path):
    marker = tmp_path / "pwned"
    (demo_copy / "models" / "lr.pkl").write_bytes(hostile_pickles(marker)["memo BINPUT/BINGET"])
    policy = model_policy(write_policy, "lr.pkl", trust=f"[{LR}]")
    assert_could_not_run(run_check(policy, tmp_path / "out"), tmp_path / "out", "lr.pkl", "os.system")
    assert not marker.exists()


def test_os_exit_in_an_untrusted_pickle_never_runs(tmp_path):
    """os._exit cannot be caught, so the only defence is never running untrusted code."""
    path = tmp_path / "exit.pkl"
    path.write_bytes(b"\x80\x04" + su("os") + su("_exit") + b"\x93K\x00\x85R.")
    with pytest.raises(UntrustedModelError, match="os._exit"):
        load_model(path, trust=[LR])


class _Recorder(pickle.Unpickler):
    """find_class records what a pickle imports and returns a harmless stand-in (benign files only)."""

    def __init__(self, data: bytes, proto: int) -> None:
        super().__init__(io.BytesIO(data))
        self.proto_of_file = proto
        self.names: list[str] = []

    def find_class(self, module, name):
        if self.proto_of_file < 3:  # what the real find_class does for Python 2 pickles
            import _compat_pickle

            if (module, name) in _compat_pickle.NAME_MAPPING:
                module, name = _compat_pickle.NAME_MAPPING[(module, name)]
            elif module in _compat_pickle.IMPORT_MAPPING:
                module = _compat_pickle.IMPORT_MAPPING[module]
        self.names.append(f"{module}.{name}")
        return _StandIn


class _StandIn:
    def __init__(self, *args, **kwargs):
        pass

    def __setstate__(self, state):
        pass


def test_analysis_lists_exactly_what_a_real_model_imports(tmp_path):
    from sklearn.compose import make_column_transformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.random(200), "b": rng.choice(["x", "y"], 200)})
    y = (X["a"] > 0.5).astype(int)
    models = [
        make_pipeline(make_column_transformer((OneHotEncoder(), ["b"]), (StandardScaler(), ["a"])),
                      LogisticRegression()).fit(X, y),
        HistGradientBoostingClassifier(max_iter=5).fit(X[["a"]], y),
    ]
    for model in models:
        for proto in range(pickle.HIGHEST_PROTOCOL + 1):
            data = pickle.dumps(model, protocol=proto)
            path = tmp_path / f"m{proto}.pkl"
            path.write_bytes(data)
            recorder = _Recorder(data, proto)
            recorder.load()
            assert sorted(pickle_globals(path)) == sorted(set(recorder.names)), proto
    # and trusting exactly those names loads it
    loaded = load_model(path, trust=pickle_globals(path))
    assert loaded.format == "pickle"


# ------------------------------------------------------------------ zip bombs as .skops files

def zip_file(entries) -> bytes:
    """A zip archive from (name, method, payload, crc, declared_size) entries, written by hand."""
    body, directory = b"", b""
    for name, method, payload, crc, size in entries:
        raw = name.encode()
        offset = len(body)
        body += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, method, 0, 0x21, crc, len(payload), size, len(raw), 0) + raw
        body += payload
        directory += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, method, 0, 0x21, crc, len(payload), size,
                                 len(raw), 0, 0, 0, 0, 0, offset) + raw
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(entries), len(entries), len(directory), len(body), 0)
    return body + directory + end


def deflated_zeros(mib: int) -> tuple[bytes, int]:
    """Raw deflate of ``mib`` MiB of zeros (built from one compressed MiB, repeated) and its CRC."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = packer.compress(b"\0" * (1 << 20)) + packer.flush(zlib.Z_FULL_FLUSH)
    crc, chunk = 0, b"\0" * (1 << 20)
    for _ in range(mib):
        crc = zlib.crc32(chunk, crc)
    return block * mib + b"\x03\x00", crc


def schema_entry(files=()) -> tuple:
    nodes = [{"__class__": "ndarray", "__module__": "numpy", "__loader__": "NdArrayNode", "type": "numpy",
              "file": f} for f in files]
    schema = json.dumps({"__class__": "list", "__module__": "builtins", "__loader__": "ListNode",
                         "content": nodes, "protocol": 2, "_skops_version": "0.10"}).encode()
    return ("schema.json", 0, schema, zlib.crc32(schema), len(schema))


@contextlib.contextmanager
def bounded(seconds: int = 30, megabytes: int = 200):
    """Fail (rather than hang or swap) if the block takes too long or allocates too much."""
    import tracemalloc

    def timeout(*_):
        raise AssertionError(f"took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, timeout)
    signal.alarm(seconds)
    tracemalloc.start()
    try:
        yield
        peak = tracemalloc.get_traced_memory()[1]
        assert peak < megabytes << 20, f"peak allocation {peak / (1 << 20):.0f} MiB"
    finally:
        tracemalloc.stop()
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_skops_zip_bomb_is_refused_cheaply(demo_copy, write_policy, tmp_path):
    import skops.io  # noqa: F401 - imported before memory is measured
    payload, crc = deflated_zeros(1024)  # 1 GiB of zeros in ~1 MB
    (demo_copy / "models" / "bomb.skops").write_bytes(
        zip_file([schema_entry(["big.npy"]), ("big.npy", 8, payload, crc, 1 << 30)]))
    assert (demo_copy / "models" / "bomb.skops").stat().st_size < 2 << 20
    with bounded():
        result = run_check(model_policy(write_policy, "bomb.skops"), tmp_path / "out")
    assert_could_not_run(result, tmp_path / "out", "bomb.skops", "expands", "zip bomb")


def test_skops_entry_that_lies_about_its_size_is_refused(tmp_path):
    payload, crc = deflated_zeros(1024)
    path = tmp_path / "liar.skops"
    path.write_bytes(zip_file([schema_entry(["big.npy"]), ("big.npy", 8, payload, crc, 4 << 20)]))
    with bounded(), pytest.raises(ModelError, match="decompresses to more than"):
        load_model(path)


def test_skops_schema_reading_one_entry_many_times_is_refused(tmp_path):
    array = io.BytesIO()
    np.save(array, np.zeros(1 << 19))  # 4 MiB, stored
    data = array.getvalue()
    path = tmp_path / "refs.skops"
    path.write_bytes(zip_file([schema_entry(["a.npy"] * 600), ("a.npy", 0, data, zlib.crc32(data), len(data))]))
    with bounded(), pytest.raises(ModelError, match="many times"):
        load_model(path)


def test_skops_numpy_header_declaring_a_huge_array_is_refused(tmp_path):
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (10**10,)})
    data = header.getvalue()  # magic and header, and none of the 80 GB of data
    path = tmp_path / "shape.skops"
    path.write_bytes(zip_file([schema_entry(["a.npy"]), ("a.npy", 0, data, zlib.crc32(data), len(data))]))
    with bounded(), pytest.raises(ModelError, match="numpy array of 80,000,000,000 bytes"):
        load_model(path)


def test_skops_with_bzip2_entries_is_refused(tmp_path):
    import bz2

    packed = bz2.compress(b"{}")
    path = tmp_path / "bz.skops"
    path.write_bytes(zip_file([("schema.json", 12, packed, zlib.crc32(b"{}"), 2)]))
    with pytest.raises(ModelError, match="compression method 12"):
        load_model(path)


def test_real_skops_files_still_load(demo_dir, tmp_path):
    import skops.io as sio
    from sklearn.ensemble import RandomForestClassifier

    rng = np.random.default_rng(0)
    X, y = rng.random((300, 4)), rng.integers(0, 2, 300)
    for compression in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        path = tmp_path / f"rf{compression}.skops"
        sio.dump(RandomForestClassifier(20, random_state=0).fit(X, y), path, compression=compression)
        assert load_model(path, trust=["sklearn.tree._tree.Tree"]).format == "skops"
    assert load_model(demo_dir / "models" / "credit_model.skops").description.startswith("Pipeline(")


# ------------------------------------------------------------------ model paths that are not files

def test_fifo_as_model_does_not_hang(demo_copy, write_policy, tmp_path):
    fifo = demo_copy / "models" / "pipe.skops"
    os.mkfifo(fifo)
    with bounded(seconds=20):
        result = run_check(model_policy(write_policy, "pipe.skops"), tmp_path / "out")
    assert_could_not_run(result, tmp_path / "out", "pipe.skops", "FIFO")


@pytest.mark.parametrize("name", ["zero.skops", "zero.pkl", "zero.joblib"])
def test_dev_zero_symlink_as_model(demo_copy, write_policy, tmp_path, name):
    (demo_copy / "models" / name).symlink_to("/dev/zero")
    with bounded(seconds=20):
        result = run_check(model_policy(write_policy, name), tmp_path / "out", "--trust-model")
    err = assert_could_not_run(result, tmp_path / "out", "device")
    assert name in err or "/dev/zero" in err  # the policy may resolve the link before the model is opened


def test_folder_as_model(demo_copy, write_policy, tmp_path):
    (demo_copy / "models" / "dir.skops").mkdir()
    assert_could_not_run(run_check(model_policy(write_policy, "dir.skops"), tmp_path / "out"), tmp_path / "out",
                         "dir.skops", "folder")
