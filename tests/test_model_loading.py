"""Model loading: skops type checks, pickles never unpickled without trust."""

from __future__ import annotations

import os
import pickle

import pytest

from auditkit.errors import ModelError, UntrustedModelError
from auditkit.model import load_model, pickle_globals


def double(x):
    """A user function inside a model: skops does not trust it by default."""
    return x * 2


class _Exploit:
    """Unpickling this object runs os.system, which would create a marker file."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_malicious_pickle_is_never_executed(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(_Exploit(marker)))
    with pytest.raises(UntrustedModelError) as info:
        load_model(path)
    assert not marker.exists()
    assert "posix.system" in info.value.message or "os.system" in info.value.message
    # Trusting some unrelated type is not trusting this one.
    with pytest.raises(UntrustedModelError):
        load_model(path, trust=["sklearn.linear_model._logistic.LogisticRegression"])
    assert not marker.exists()


def test_joblib_needs_full_trust(tmp_path):
    marker = tmp_path / "pwned"
    import joblib

    path = tmp_path / "model.joblib"
    joblib.dump(_Exploit(marker), path)
    with pytest.raises(UntrustedModelError, match="joblib"):
        load_model(path, trust=["posix.system"])
    assert not marker.exists()


def test_pickle_globals_reads_without_executing(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "m.pkl"
    path.write_bytes(pickle.dumps(_Exploit(marker), protocol=4))
    names = pickle_globals(path)
    assert any(n.endswith(".system") for n in names)
    assert not marker.exists()


def test_skops_with_untrusted_type_is_refused(tmp_path):
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import FunctionTransformer
    from sklearn.pipeline import make_pipeline
    import numpy as np

    X = np.arange(20.0).reshape(-1, 1)
    y = (X[:, 0] > 9).astype(int)
    model = make_pipeline(FunctionTransformer(double), LogisticRegression()).fit(X, y)
    path = tmp_path / "m.skops"
    sio.dump(model, path)
    untrusted = sio.get_untrusted_types(file=path)
    assert untrusted, "a user function is not trusted by skops by default"
    with pytest.raises(UntrustedModelError) as info:
        load_model(path)
    for name in untrusted:
        assert name in info.value.message
    assert set(info.value.untrusted_types) == set(untrusted)
    loaded = load_model(path, trust=list(untrusted))
    assert loaded.format == "skops" and list(loaded.trusted_types) == list(untrusted)


def test_demo_model_loads_without_trust(demo_dir):
    loaded = load_model(demo_dir / "models" / "credit_model.skops")
    assert loaded.description.startswith("Pipeline(")
    assert len(loaded.sha256) == 64


@pytest.mark.parametrize(("name", "content", "words"), [
    ("m.skops", b"", "empty"),
    ("m.skops", b"PK\x03\x04 truncated", "skops"),
    ("m.onnx", b"abc", "unknown model file type"),
])
def test_broken_model_files(tmp_path, name, content, words):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ModelError) as info:
        load_model(path)
    assert words in info.value.message and str(path) in info.value.message


def test_not_a_model(tmp_path):
    path = tmp_path / "m.pkl"
    path.write_bytes(pickle.dumps({"weights": [1, 2]}))
    with pytest.raises(ModelError, match="no predict"):
        load_model(path, trust=True)
