"""The interface every pack implements, and what it is given to compute its evidence.

A pack is a package: ``pack.yaml`` (texts, parameters, rule templates; see
:mod:`auditkit.packs._definition`), a module defining ``plugin``, an instance of a
:class:`PackPlugin` subclass, and optionally ``templates/`` (its report partials and extra
documents) and ``results.schema.json`` (the JSON schema of its key in ``results.json``).
Every hook has a default, so a pack overrides only what it adds.

Evidence is computed from count tables (:meth:`PackInputs.group_counts`), so a pack runs on
every engine that can count groups: pandas and Spark alike.
"""

from __future__ import annotations

import sys
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Protocol, Sequence

from ..errors import AuditkitError
from ._definition import Pack, parse_pack

if TYPE_CHECKING:  # the report imports this package: it names no policy or rule module, even for types
    import click
    import pandas as pd

    from ..metrics import Metric

__all__ = ["PackInputs", "PackPlugin"]


class PackInputs(Protocol):
    """What a pack may read of the audited data: group counts, never rows.

    Attributes
    ----------
    task : str
        ``"classification"`` or ``"regression"`` (the target's kind).
    has_scores : bool
        The model gives a score (a probability or a score column) for every row.
    sensitive_features : tuple of str
        The policy's sensitive features.
    intersections : tuple of tuple of str
        The policy's intersections, each a tuple of sensitive features.
    min_group_size : int
        ``fairness.min_group_size``.
    confidence : float
        ``fairness.confidence``.
    today : datetime.date
        The day the audit runs (as waivers are judged).
    data_file : str
        The audited data file's name, as ``results.json`` shows it.
    policy_rules : tuple of auditkit.policy.Rule
        Every rule of the policy, pack rules included.
    """

    task: str
    has_scores: bool
    sensitive_features: tuple[str, ...]
    intersections: tuple[tuple[str, ...], ...]
    min_group_size: int
    confidence: float
    today: date
    data_file: str
    policy_rules: tuple[Any, ...]

    def group_counts(self, columns: Sequence[str], *, flag: str | tuple[str, float] = "decision") -> "pd.DataFrame":
        """One row per distinct combination of ``columns``' values as they appear in the data.

        A missing value appears as a missing value (NaN, None or ``pd.NA``) in a row of its
        own. Beside the columns: ``n`` (int64, the rows) and ``hits`` (int64, the rows where
        the flag is 1). ``flag="decision"``: the model's positive decision;
        ``flag=("score_above", x)``: the model's score is strictly above ``x``.
        """

    def score_median(self) -> float:
        """The exact median of the model's scores over all audited rows."""


class PackPlugin:
    """A pack: the hooks through which the core uses it without naming it.

    Subclass it in the pack's package and bind an instance to the module attribute
    ``plugin``. Class attributes:

    requires_model : bool
        Extending the pack needs a ``model:`` section (its rules judge a model's outputs).
    results_key : str or None
        The top-level ``results.json`` key holding the pack's evidence
        (``evidence(...).to_dict()``, or null when it was not computed).
    document_names : frozenset of str
        The files :meth:`documents` can write; a new run may remove them from an earlier
        output set.
    """

    requires_model: bool = True
    results_key: str | None = None
    document_names: frozenset[str] = frozenset()

    # ------------------------------------------------------------ where the pack lives

    @property
    def package(self) -> str:
        """The import name of the package holding the pack (``auditkit.packs.four_fifths``)."""
        module = sys.modules[type(self).__module__]
        package = module.__name__ if hasattr(module, "__path__") else module.__package__
        if not package:
            raise AuditkitError(f"pack plugin {type(self).__name__} is defined in the top-level module "
                                f"{module.__name__}; a pack is a package holding pack.yaml beside its code.")
        return package

    @property
    def folder(self) -> Path:
        """The pack's folder: ``pack.yaml``, its code, ``templates/``."""
        return Path(sys.modules[self.package].__file__).parent

    @property
    def templates_folder(self) -> Path:
        """The pack's templates, addressed by the report as ``packs/<name>/<file>``."""
        return self.folder / "templates"

    @cached_property
    def definition(self) -> Pack:
        """The pack's ``pack.yaml``, parsed and checked (:class:`~auditkit.packs.Pack`)."""
        from importlib.resources import files

        shipped = self.package.startswith("auditkit.packs.")
        hint = "reinstall auditkit" if shipped else f"reinstall the package providing {self.package}"
        return parse_pack(files(self.package).joinpath("pack.yaml"), source=f"{self.package.replace('.', '/')}/pack.yaml",
                          hint=hint)

    @property
    def name(self) -> str:
        """The pack's public name (``name:`` in pack.yaml), as ``extends:`` gives it."""
        return self.definition.name

    def default_settings(self) -> dict[str, Any]:
        """Every setting at its default, for rules that use the pack's metrics without extending it."""
        return {key: spec.default for key, spec in self.definition.settings.items()}

    # ------------------------------------------------------------ the policy

    def metrics(self) -> tuple["Metric", ...]:
        """The rule metrics the pack adds (:class:`auditkit.metrics.Metric`, ``family="pack"``)."""
        return ()

    def glossary(self) -> dict[str, str]:
        """Glossary terms the pack's report section uses that are not rule metrics."""
        return {}

    def check_settings(self, values: dict[str, Any], context) -> None:
        """Checks across settings, after each setting was validated against its declaration.

        Parameters
        ----------
        values : dict
            The pack's settings, validated, defaults filled in.
        context : auditkit.policy.PackContext
            ``key`` (the pack's entry in ``extends``, e.g. ``extends[0]``), ``settings_key``
            (``packs.<name>``), ``sensitive_features``, ``model`` (the ModelSpec or None) and
            ``fail(key, message)``, which raises the PolicyError naming the policy file and key.
        """

    def columns(self, values: Mapping[str, Any]) -> dict[str, str]:
        """The data columns the pack reads, by setting key: every set setting of type ``column``."""
        return {key: values[key] for key, spec in self.definition.settings.items()
                if spec.type == "column" and values.get(key) is not None}

    # ------------------------------------------------------------ the audit

    def wants_evidence(self, values: Mapping[str, Any] | None, rules: Sequence[Any]) -> bool:
        """Whether the audit computes the pack's evidence.

        ``values`` are the pack's settings when the policy extends it, None otherwise;
        ``rules`` the policy's rules (:class:`auditkit.policy.Rule`). By default the evidence
        is computed for an extended pack only.
        """
        return values is not None

    def evidence(self, inputs: PackInputs, values: Mapping[str, Any]) -> Any:
        """The pack's evidence (an object with ``to_dict()``), computed from ``inputs``.

        ``values`` are the pack's settings, or :meth:`default_settings` when the policy does
        not extend the pack. Raise :class:`~auditkit.errors.DataError` or
        :class:`~auditkit.errors.ModelError` when the data or model cannot give it.
        """
        return None

    # ------------------------------------------------------------ the outputs

    def report_sections(self) -> tuple:
        """The pack's sections of the report (:class:`auditkit.report.sections.Section`), shown
        under its framing; ``report.sections`` in pack.yaml lists their ids after ``framing``."""
        return ()

    def glossary_terms(self, results: Mapping[str, Any]) -> frozenset[str]:
        """The glossary terms the report defines for ``results``: by default every term of
        :meth:`glossary` when the results hold the pack's evidence."""
        if self.results_key is not None and results.get(self.results_key):
            return frozenset(self.glossary())
        return frozenset()

    def warnings(self, policy) -> tuple[str, ...]:
        """Warnings of an audit whose policy extends the pack, known from the policy alone (a
        required part of the pack's documents the policy's ``documentation:`` lacks); they are
        listed in ``results.json``'s ``warnings`` and on the terminal."""
        return ()

    def documents(self, results: Mapping[str, Any], templates: Path | None) -> dict[str, str]:
        """Extra output files, by name, rendered from ``results`` alone (a user ``templates``
        folder may override the pack's templates). Names must be in :attr:`document_names`."""
        return {}

    def results_schema(self) -> dict | None:
        """The JSON schema of :attr:`results_key` in ``results.json``: ``results.schema.json``
        beside pack.yaml, or None without one."""
        import json
        from importlib.resources import files

        if self.results_key is None:
            return None
        resource = files(self.package).joinpath("results.schema.json")
        if not resource.is_file():
            return None
        return json.loads(resource.read_text(encoding="utf-8"))

    def command(self) -> "click.Command | None":
        """A subcommand of ``audit`` the pack adds, or None."""
        return None
