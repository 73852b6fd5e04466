"""Writing an audit's outputs: every document rendered in memory, then written once as a set.

:func:`write_outputs` renders ``results.json``, ``report.html``, ``junit.xml``, ``summary.md``
and the extra documents of the packs the results extend (:func:`render_documents`); then
:func:`auditkit.outputs.write_output_set` stages them in the output folder and switches them
in as one set under the folder's lock, with a manifest (``.auditkit-manifest.json``) that
makes a half-switched folder detectable. A run that fails while rendering writes nothing; one
that fails while writing puts the previous outputs back. Nothing auditkit did not write is
ever deleted.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from ..errors import OutputError
from ..outputs import append_text, encode_output, write_output_set
from .render import CORE_DOCUMENTS, render_documents

__all__ = ["OutputPaths", "SIGNATURE_FILES", "check_outputs", "signature_facts", "write_outputs"]

#: What ``--sign-key`` adds to an output set (auditkit.signing): the manifest and its detached signature.
SIGNATURE_FILES = ("manifest.json", "manifest.sig")


def signature_facts(key) -> dict:
    """What the results (and so the report) say of the key that signs the outputs: never the key itself."""
    return {"algorithm": "Ed25519", "key_fingerprint": key.fingerprint}


@dataclass(frozen=True)
class OutputPaths:
    """Where an audit's outputs were written.

    ``documents`` maps each extra document a pack wrote to its path (``{"ll144.html": ...}``).
    Such a document is also an attribute named ``<stem>_<suffix>``: ``paths.ll144_html`` is
    ``documents["ll144.html"]``, and None when an installed pack can write that file but this
    run did not; any other name is an AttributeError.
    """

    folder: Path
    report: Path
    results: Path
    junit: Path
    summary: Path
    documents: Mapping[str, Path] = field(default_factory=dict)
    sha256: Mapping[str, str] = field(default_factory=dict)  # every file written, by name
    signed_by: str | None = None  # the key fingerprint when manifest.json and manifest.sig were written

    def __getattr__(self, name: str) -> Path | None:
        stem, _, suffix = name.rpartition("_")
        if name.startswith("_") or not stem:
            raise AttributeError(name)
        document = f"{stem}.{suffix}"
        documents = self.__dict__.get("documents") or {}
        if document in documents:
            return documents[document]
        if document in check_outputs():
            return None
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")


def check_outputs() -> frozenset[str]:
    """Every file ``audit check`` can write: the core documents and each installed pack's
    ``document_names``. Only these names may a new run remove from an earlier output set."""
    from ..packs import plugins

    return frozenset(CORE_DOCUMENTS).union(SIGNATURE_FILES, *(plugin.document_names for plugin in plugins().values()))


def write_outputs(results: dict, out_dir: str | Path, *, templates: Path | None = None,
                  github_summary: bool = True, hint: str = "choose another output folder",
                  signer=None) -> OutputPaths:
    """Render every output of an audit and write them into ``out_dir`` as one set.

    Parameters
    ----------
    results : dict
        A results document (``AuditResult.to_dict()``, or a loaded ``results.json``).
    out_dir : str or Path
        The output folder; created when missing. Files of an earlier set that this one does
        not contain are removed when that set's manifest vouches for them.
    templates : Path, optional
        A folder of templates overriding the bundled ones (``report.templates``).
    github_summary : bool
        Also append ``summary.md`` to the file ``GITHUB_STEP_SUMMARY`` names, when set.
    hint : str
        What the user can do when the folder cannot be written, for the error message.
    signer : auditkit.signing.PrivateKey, optional
        Sign the set: ``manifest.json`` (the SHA-256 of every file) and ``manifest.sig`` (its
        Ed25519 signature) are written with it. The results must name the key
        (``provenance.signature``, :func:`signature_facts`), so the report shows its fingerprint.

    Returns
    -------
    OutputPaths

    Raises
    ------
    DataError
        ``results`` is not a results document: it breaks the results schema or holds a
        number JSON cannot (NaN, infinity); the message names the key.
    OutputError
        The folder cannot be created or written, or a template cannot be rendered; nothing
        was changed.
    """
    from .schema import validate_results

    import hashlib

    validate_results(results)
    if signer is not None and (results.get("provenance") or {}).get("signature") != signature_facts(signer):
        raise ValueError("results['provenance']['signature'] must name the signing key: set it to signature_facts(key)")
    out = Path(out_dir)
    # As written: bytes (a lone surrogate in a name becomes visible text), so what is signed and
    # hashed for the ledger is exactly what lands on disk.
    documents = {name: encode_output(content) for name, content in render_documents(results, templates=templates).items()}
    if signer is not None:
        from ..signing import sign_documents

        documents.update(sign_documents(documents, signer))
    write_output_set(out, documents, replace_set=True, removable=check_outputs(), hint=hint)
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if github_summary and step_summary:
        try:
            append_text(step_summary, documents["summary.md"].decode("utf-8") + "\n")
        except OutputError:
            pass  # a CI nicety; the audit's own outputs are written
    return OutputPaths(folder=out, report=out / "report.html", results=out / "results.json",
                       junit=out / "junit.xml", summary=out / "summary.md",
                       documents={name: out / name for name in documents if name not in CORE_DOCUMENTS},
                       sha256={name: hashlib.sha256(content).hexdigest() for name, content in documents.items()},
                       signed_by=signer.fingerprint if signer is not None else None)
