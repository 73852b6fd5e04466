"""Loading model files safely.

``.skops`` files go through skops' type audit: types skops does not trust by default are
refused, listed by name, unless the policy trusts them. ``.pkl``/``.pickle``/``.joblib`` files
execute code when loaded, so they are never opened without explicit trust (``model.trust:
true`` or ``--trust-model``); a plain pickle may also be trusted type by type, which auditkit
checks by reading the pickle's opcodes without executing any of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .data import sha256_file
from .errors import ModelError, UntrustedModelError

__all__ = ["LoadedModel", "load_model"]

SKOPS_SUFFIXES = (".skops",)
PICKLE_SUFFIXES = (".pkl", ".pickle")
JOBLIB_SUFFIXES = (".joblib",)


@dataclass(frozen=True)
class LoadedModel:
    """A model object together with where it came from."""

    estimator: Any
    path: Path
    sha256: str
    format: str
    trusted_types: tuple[str, ...] = ()

    @property
    def type_name(self) -> str:
        cls = type(self.estimator)
        return f"{cls.__module__}.{cls.__qualname__}"

    @property
    def description(self) -> str:
        est = self.estimator
        steps = getattr(est, "steps", None)
        if steps:
            return "Pipeline(" + " → ".join(type(s).__name__ for _, s in steps) + ")"
        return type(est).__name__


def load_model(path: str | Path, *, trust: bool | tuple[str, ...] | list[str] = False) -> LoadedModel:
    """Load a model file, refusing code it was not told to trust.

    Parameters
    ----------
    path : str or Path
        A ``.skops``, ``.pkl``/``.pickle`` or ``.joblib`` file.
    trust : bool or sequence of str
        ``True`` trusts everything in the file; a sequence trusts those type names only.

    Raises
    ------
    UntrustedModelError
        The file needs types that are not trusted; the message lists them.
    ModelError
        The file is missing, corrupt, of an unknown kind, or holds no usable model.
    """
    path = Path(path)
    if not path.exists():
        raise ModelError(f"{path}: model file not found; check model.path in the policy or --model.")
    if path.is_dir():
        raise ModelError(f"{path}: is a folder; give the path of a .skops, .joblib or .pkl model file.")
    if path.stat().st_size == 0:
        raise ModelError(f"{path}: the model file is empty; save the model again.")
    suffix = path.suffix.lower()
    trusted_names = tuple(trust) if isinstance(trust, (list, tuple)) else ()
    if suffix in SKOPS_SUFFIXES:
        estimator, used = _load_skops(path, trust)
        fmt = "skops"
    elif suffix in PICKLE_SUFFIXES:
        estimator, used = _load_pickle(path, trust), trusted_names
        fmt = "pickle"
    elif suffix in JOBLIB_SUFFIXES:
        estimator, used = _load_joblib(path, trust), trusted_names
        fmt = "joblib"
    else:
        raise ModelError(f"{path}: unknown model file type '{suffix}'; save the model with skops (.skops) or, if you trust it, joblib (.joblib).")
    if not (hasattr(estimator, "predict") or hasattr(estimator, "predict_proba")):
        raise ModelError(f"{path}: holds a {type(estimator).__name__}, which has no predict(); save a fitted estimator or Pipeline.")
    return LoadedModel(estimator=estimator, path=path.resolve(), sha256=sha256_file(path), format=fmt,
                       trusted_types=tuple(used))


def _load_skops(path: Path, trust) -> tuple[Any, tuple[str, ...]]:
    import skops.io as sio

    try:
        untrusted = list(sio.get_untrusted_types(file=path))
    except Exception as exc:
        raise ModelError(f"{path}: is not a readable skops file ({_reason(exc)}); save the model again with skops.io.dump.") from None
    if trust is True:
        allowed = untrusted
    else:
        allowed = [t for t in untrusted if t in set(trust or ())]
        refused = [t for t in untrusted if t not in allowed]
        if refused:
            raise UntrustedModelError(
                f"{path}: the model needs types skops does not trust by default: {', '.join(refused)}; "
                "if you trust this file, list them under model.trust in the policy (or pass --trust-model).",
                refused)
    try:
        return sio.load(path, trusted=allowed), tuple(allowed)
    except Exception as exc:
        raise ModelError(f"{path}: could not be loaded by skops ({_reason(exc)}); save the model again with skops.io.dump.") from None


def _load_pickle(path: Path, trust):
    import pickle

    if trust is not True:
        needed = pickle_globals(path)
        refused = [g for g in needed if g not in set(trust or ())]
        if refused or not trust:
            shown = ", ".join(refused or needed) or "(none found)"
            raise UntrustedModelError(
                f"{path}: loading a pickle runs code, and it was not trusted (it imports: {shown}); "
                "prefer a .skops file, or if you trust this file set model.trust: true (or pass --trust-model).",
                refused or needed)
    try:
        with open(path, "rb") as handle:
            return pickle.load(handle)
    except Exception as exc:
        raise ModelError(f"{path}: could not be unpickled ({_reason(exc)}); check the file is complete and saved with a compatible scikit-learn.") from None


def _load_joblib(path: Path, trust):
    if trust is not True:
        raise UntrustedModelError(
            f"{path}: loading a joblib file runs code, and it was not trusted; prefer a .skops file, "
            "or if you trust this file set model.trust: true (or pass --trust-model).", ())
    try:
        import joblib

        return joblib.load(path)
    except Exception as exc:
        raise ModelError(f"{path}: could not be loaded by joblib ({_reason(exc)}); check the file is complete and saved with a compatible scikit-learn.") from None


def pickle_globals(path: Path) -> list[str]:
    """The ``module.name`` globals a pickle would import, read from its opcodes without executing it."""
    import pickletools

    found: list[str] = []
    recent_strings: list[str] = []
    try:
        with open(path, "rb") as handle:
            for opcode, arg, _pos in pickletools.genops(handle):
                if opcode.name in ("GLOBAL", "INST"):
                    name = str(arg).replace(" ", ".")
                elif opcode.name == "STACK_GLOBAL" and len(recent_strings) >= 2:
                    name = f"{recent_strings[-2]}.{recent_strings[-1]}"
                else:
                    if isinstance(arg, str) and "UNICODE" in opcode.name or opcode.name.endswith("STRING"):
                        recent_strings.append(str(arg))
                    continue
                if name not in found:
                    found.append(name)
    except Exception as exc:
        raise ModelError(f"{path}: is not a readable pickle ({_reason(exc)}); check the file is complete.") from None
    return found


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return (text[:160] + "…") if len(text) > 160 else (text or type(exc).__name__)
