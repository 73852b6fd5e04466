"""Loading model files safely, and running the code of a loaded model.

``.skops`` files go through skops' type audit: types skops does not trust by default are
refused, listed by name, unless the policy trusts them. Before skops reads a byte of one, the
zip container is checked (entry count, declared and *actual* uncompressed sizes, compression
ratio, the numpy arrays' declared shapes, nested ``.npz`` archives, how often ``schema.json``
refers to each entry), so a zip bomb is refused for the cost of reading its directory.

``.pkl``/``.pickle``/``.joblib`` files execute code when loaded, so they are never opened
without explicit trust (``model.trust: true`` or ``--trust-model``). A plain pickle may also be
trusted type by type: auditkit then simulates the pickle's stack machine over its whole opcode
stream without executing any of it, and lists every global the pickle would import. Anything
the simulation cannot pin down -- an import whose name is not a plain string, the copyreg
extension registry, persistent ids, a malformed stream, data after the end -- makes the file
unverifiable, and it is refused. Trusting a type means trusting what the pickle can do with
it; trusted code (``--trust-model``, or a trusted type's own code) runs with the auditor's
privileges and can do anything Python can, ``os._exit`` included.

Every model file is checked by :func:`auditkit.inputs.regular_file` and then opened exactly
once: the bytes that are checked are the bytes that are loaded and hashed.

Whatever model code raises -- when it is loaded, when an attribute is read, when it predicts --
including ``SystemExit`` and other ``BaseException`` subclasses (only ``KeyboardInterrupt``, the
user's interrupt, goes through), becomes a :class:`~auditkit.errors.ModelError` that names the
model file: see :func:`run_model_code`.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from ._pickle_imports import Unverifiable, imported_globals
from ._skops_zip import check_skops_archive
from .errors import AuditkitError, ModelError, UntrustedModelError
from .inputs import open_regular, regular_file
from .sanitize import describe_exception, one_line, short_repr

__all__ = ["LoadedModel", "describe_exception", "load_model", "pickle_globals", "run_model_code"]

SKOPS_SUFFIXES = (".skops",)
PICKLE_SUFFIXES = (".pkl", ".pickle")
JOBLIB_SUFFIXES = (".joblib",)

T = TypeVar("T")


# ---------------------------------------------------------------------------- model code


def run_model_code(path: Any, doing: str, fn: Callable[[], T], *, hint: str | None = None,
                   error: type[AuditkitError] = ModelError) -> T:
    """Call ``fn`` (code that runs the model's own code) and turn whatever it raises into ``error``.

    ``SystemExit``, ``GeneratorExit`` and any other ``BaseException`` are converted too, so model
    code can neither end the process with an exit code of its choice nor escape as an
    exception auditkit does not expect; only ``KeyboardInterrupt`` (the user's interrupt)
    propagates.

    Parameters
    ----------
    path : path or str
        The model file (named first in the message).
    doing : str
        What failed, e.g. ``"predict_proba() failed to predict"`` or ``"reading its classes_
        attribute failed"``; the reason follows in parentheses.
    fn : callable
        No arguments; its result is returned.
    hint : str, optional
        What to do, ending the message.
    error : AuditkitError subclass
        The exception class raised.
    """
    try:
        return fn()
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 - model code may raise anything
        reason = describe_exception(exc)
    raise error(f"{path}: the model could not run: {doing} ({reason}); "
                f"{hint or 'check that the model and the data belong together, and that you trust the model file'}.")


# ---------------------------------------------------------------------------- loaded models


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
        try:
            cls = type(self.estimator)
            name = f"{cls.__module__}.{cls.__qualname__}"
            return one_line(name, 200) if isinstance(name, str) else "(unknown type)"
        except Exception:  # noqa: BLE001 - a hostile metaclass
            return "(unknown type)"

    @property
    def description(self) -> str:
        est = self.estimator

        def describe() -> str:
            steps = getattr(est, "steps", None)
            if steps and isinstance(steps, (list, tuple)) and len(steps) <= 100:
                return "Pipeline(" + " → ".join(type(s[1]).__name__ for s in steps) + ")"
            return type(est).__name__

        try:
            text = describe()
            return one_line(text, 300) if isinstance(text, str) else "(unknown model)"
        except KeyboardInterrupt:
            raise
        except BaseException:  # noqa: BLE001 - a hostile 'steps' property
            try:
                return one_line(type(est).__name__, 300)
            except Exception:  # noqa: BLE001
                return "(unknown model)"


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
        The file needs types that are not trusted (the message lists them), or it is a pickle
        whose imports cannot be verified without running it.
    ModelError
        The file is missing, not a regular file, too large, corrupt, a zip bomb, of an unknown
        kind, holds no usable model, or its code raised while it was loaded.
    """
    path = Path(path)
    regular_file(path, kind="model", what="model file", error=ModelError,
                 hint="check model.path in the policy or --model")
    suffix = path.suffix.lower()
    if suffix not in SKOPS_SUFFIXES + PICKLE_SUFFIXES + JOBLIB_SUFFIXES:
        raise ModelError(f"{path}: unknown model file type {short_repr(suffix, 20)}; save the model with skops (.skops) or, "
                         "if you trust it, joblib (.joblib).")
    trusted_names = tuple(trust) if isinstance(trust, (list, tuple)) else ()
    with _open_model_file(path) as handle:
        size = os.fstat(handle.fileno()).st_size
        if size == 0:
            raise ModelError(f"{path}: the model file is empty; save the model again.")
        if suffix in SKOPS_SUFFIXES:
            estimator, used, digest = _load_skops(handle, path, size, trust)
            fmt = "skops"
        elif suffix in PICKLE_SUFFIXES:
            (estimator, digest), used = _load_pickle(handle, path, trust), trusted_names
            fmt = "pickle"
        else:
            (estimator, digest), used = _load_joblib(handle, path, trust), trusted_names
            fmt = "joblib"
    usable = run_model_code(path, "checking for a predict method failed",
                            lambda: hasattr(estimator, "predict") or hasattr(estimator, "predict_proba"))
    if not usable:
        raise ModelError(f"{path}: holds a {_type_name(estimator)}, which has no predict(); save a fitted estimator or Pipeline.")
    return LoadedModel(estimator=estimator, path=path.resolve(), sha256=digest, format=fmt,
                       trusted_types=tuple(used))


def _type_name(obj: Any) -> str:
    try:
        return one_line(type(obj).__name__, 100)
    except Exception:  # noqa: BLE001
        return "object"


def _open_model_file(path: Path):
    """Open a checked model file once, without blocking: the bytes checked are the bytes loaded."""
    return open_regular(path, kind="model", what="the model file", error=ModelError,
                        hint="check model.path in the policy or --model")


def _sha256(handle, chunk_size: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    handle.seek(0)
    for chunk in iter(lambda: handle.read(chunk_size), b""):
        digest.update(chunk)
    handle.seek(0)
    return digest.hexdigest()


def _reason(exc: BaseException) -> str:
    return describe_exception(exc, 160)


# ---------------------------------------------------------------------------- skops

#: auditkit's own estimator types, trusted by name in a skops file: the remedy wrapper
#: (:mod:`auditkit.remediation._models`), whose code is auditkit's; the model it wraps is
#: checked type by type like any other.
AUDITKIT_TYPES = frozenset({"auditkit.remediation._models.GroupThresholdClassifier"})


def _load_skops(handle, path: Path, size: int, trust) -> tuple[Any, tuple[str, ...], str]:
    check_skops_archive(handle, size, path)
    import skops.io as sio

    handle.seek(0)
    try:
        untrusted = list(sio.get_untrusted_types(file=handle))
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 - skops and whatever it calls
        raise ModelError(f"{path}: is not a readable skops file ({_reason(exc)}); save the model again with skops.io.dump.") from None
    if trust is True:
        allowed = untrusted
    else:
        allowed = [t for t in untrusted if t in set(trust or ()) or t in AUDITKIT_TYPES]
        refused = [t for t in untrusted if t not in allowed]
        if refused:
            shown = ", ".join(short_repr(t, 120)[1:-1] for t in refused[:20]) + (" …" if len(refused) > 20 else "")
            raise UntrustedModelError(
                f"{path}: the model needs types skops does not trust by default: {shown}; "
                "if you trust this file, list them under model.trust in the policy (or pass --trust-model).",
                refused)
    digest = _sha256(handle)
    try:
        estimator = sio.load(handle, trusted=allowed)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 - trusted types' code may raise anything
        raise ModelError(f"{path}: could not be loaded by skops ({_reason(exc)}); save the model again with skops.io.dump.") from None
    return estimator, tuple(allowed), digest


# ---------------------------------------------------------------------------- pickle and joblib


def _load_pickle(handle, path: Path, trust) -> tuple[Any, str]:
    import pickle

    if trust is not True:
        try:
            needed = imported_globals(handle)
        except Unverifiable as exc:
            raise UntrustedModelError(
                f"{path}: the pickle cannot be verified without running it ({exc}), so auditkit does not load it; "
                "prefer a .skops file, or if you trust this file set model.trust: true (or pass --trust-model).",
                ()) from None
        refused = [g for g in needed if g not in set(trust or ())]
        if refused or not trust:
            listed = refused or needed
            shown = ", ".join(short_repr(g, 120)[1:-1] for g in listed[:20]) + (" …" if len(listed) > 20 else "")
            raise UntrustedModelError(
                f"{path}: loading a pickle runs code, and it was not trusted (it imports: {shown or '(none found)'}); "
                "prefer a .skops file, or if you trust this file set model.trust: true (or pass --trust-model).",
                listed)
    digest = _sha256(handle)
    try:
        # The settings _analyse_pickle assumes (they are pickle.load's defaults).
        return pickle.load(handle, fix_imports=True, encoding="ASCII", errors="strict"), digest
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 - unpickling runs trusted code, which may raise anything
        raise ModelError(f"{path}: could not be unpickled ({_reason(exc)}); check the file is complete and saved "
                         "with a compatible scikit-learn.") from None


def _load_joblib(handle, path: Path, trust) -> tuple[Any, str]:
    if trust is not True:
        raise UntrustedModelError(
            f"{path}: loading a joblib file runs code, and it was not trusted; prefer a .skops file, "
            "or if you trust this file set model.trust: true (or pass --trust-model).", ())
    digest = _sha256(handle)
    try:
        import joblib

        return joblib.load(handle), digest
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 - unpickling runs trusted code, which may raise anything
        raise ModelError(f"{path}: could not be loaded by joblib ({_reason(exc)}); check the file is complete and saved "
                         "with a compatible scikit-learn.") from None


def pickle_globals(path: str | Path) -> list[str]:
    """The ``module.name`` globals a pickle would import, read from its opcodes without executing it.

    Raises
    ------
    UntrustedModelError
        The imports cannot be verified (see :func:`auditkit.model` docs): the message says why.
    ModelError
        The file is not a readable regular file.
    """
    path = Path(path)
    regular_file(path, kind="model", what="model file", error=ModelError, hint="check the path")
    with _open_model_file(path) as handle:
        try:
            return imported_globals(handle)
        except Unverifiable as exc:
            raise UntrustedModelError(f"{path}: the pickle cannot be verified without running it ({exc}).", ()) from None
