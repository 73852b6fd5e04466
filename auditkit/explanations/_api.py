"""``explain``: SHAP values per raw column for the model that is shipped."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ExplanationError
from ..model import describe_exception
from . import _agnostic
from ._fast import Attribution, FastPathUnavailable, explain_fast, parse_tree_model
from ._output import OutputSpec, refine_margin, resolve_outputs
from ._progress import resolve_progress
from ._result import ExplanationResult
from ._sampling import GroupCodes, RowSample, group_codes, sample_background, sample_rows
from ._select import AGNOSTIC, TREE, plan_for
from ._threads import single_threaded
from ._path_dependent import path_dependent_rows
from ._tree import budget_for

ALGORITHMS = ("interventional", "path_dependent")
PATH_DEPENDENT = "path_dependent"
from ._views import beeswarm, by_group, importance, proxies

# Rows used to measure associations for proxy detection (cheap, so larger than max_rows).
PROXY_ROWS = 20_000


def explain(
    model: Any,
    X: pd.DataFrame,
    *,
    sensitive_features: pd.DataFrame | None = None,
    intersections: Sequence[Sequence[str]] = (),
    positive_class: Any = None,
    max_rows: int = 2000,
    max_background: int = 200,
    min_group_rows: int = 20,
    seed: int = 0,
    progress: bool | None = None,
    proxy_min_association: float = 0.3,
    proxy_min_share: float = 0.05,
    algorithm: str = "interventional",
) -> ExplanationResult:
    """Explain a fitted model with SHAP values per raw input column.

    Tree ensembles and linear models -- alone or at the end of a Pipeline of column-wise
    transformers -- are explained exactly from their internals; other models go through a
    model-agnostic explainer (exact Shapley values up to 8 columns, antithetic permutations
    beyond) that accepts raw string and categorical columns.

    Parameters
    ----------
    model : estimator
        Fitted scikit-learn estimator or Pipeline (LightGBM and XGBoost sklearn wrappers
        too): a binary classifier or a regressor (a multiclass classifier needs
        ``positive_class``).
    X : DataFrame
        Rows with exactly the raw columns the model was trained on; strings,
        categoricals and missing values are fine.
    sensitive_features : DataFrame, optional
        Sensitive columns aligned with ``X``'s index (model inputs or not).
    intersections : sequence of sequences of str
        Column-name tuples of ``sensitive_features`` to cross, e.g. ``[("sex", "age_group")]``.
    positive_class : object, optional
        Class whose output is explained (default ``classes_[1]``).
    max_rows : int
        Most rows explained; every sensitive group and intersection keeps at least
        ``min_group_rows`` rows (or all of its rows).
    max_background : int
        Most background rows.
    min_group_rows : int
        Minimum rows per sensitive group among the explained rows.
    seed : int
        Seed for sampling, bootstrap and permutations.
    progress : bool, optional
        Progress bar for long explanations: ``None`` shows it only when standard error is
        a terminal.
    proxy_min_association : float
        Association (0..1) from which an input feature may be flagged as a proxy.
    proxy_min_share : float
        Importance share from which an associated input feature is flagged as a proxy.
    algorithm : {"interventional", "path_dependent"}
        ``interventional`` (default): an input left out of a coalition takes the values of
        background rows, independently of the other inputs. ``path_dependent`` (tree models
        only): it is averaged over the training data's cover of each branch, given the
        inputs split on above it, as LightGBM's ``pred_contrib`` and XGBoost's
        ``pred_contribs`` do; no background is used. See ``docs/explanations.md``.

    Returns
    -------
    ExplanationResult

    Raises
    ------
    ExplanationError
        The model cannot be explained (no predict method, multiclass without
        ``positive_class``, fails on ``X``...) or the arguments are invalid. Whatever the
        model's own code raises while it is explained -- ``SystemExit`` and other
        ``BaseException`` subclasses included; only ``KeyboardInterrupt`` goes through --
        becomes an ExplanationError.
    """
    try:
        return _explain(
            model,
            X,
            sensitive_features=sensitive_features,
            intersections=intersections,
            positive_class=positive_class,
            max_rows=max_rows,
            max_background=max_background,
            min_group_rows=min_group_rows,
            seed=seed,
            progress=progress,
            proxy_min_association=proxy_min_association,
            proxy_min_share=proxy_min_share,
            algorithm=algorithm,
        )
    except (ExplanationError, KeyboardInterrupt):
        raise
    except BaseException as exc:  # noqa: BLE001 - model code (attributes, predict, transform) may raise anything
        raise ExplanationError(
            f"the model could not be explained ({describe_exception(exc)}); "
            "check that the model predicts on the audited data."
        ) from exc


def _explain(
    model: Any,
    X: pd.DataFrame,
    *,
    sensitive_features: pd.DataFrame | None,
    intersections: Sequence[Sequence[str]],
    positive_class: Any,
    max_rows: int,
    max_background: int,
    min_group_rows: int,
    seed: int,
    progress: bool | None,
    proxy_min_association: float,
    proxy_min_share: float,
    algorithm: str,
) -> ExplanationResult:
    """:func:`explain` without the guard around model code."""
    _check_budget(max_rows=max_rows, max_background=max_background, min_group_rows=min_group_rows)
    if algorithm not in ALGORITHMS:
        raise ExplanationError(f"algorithm is {algorithm!r}; pass one of {', '.join(ALGORITHMS)}.")
    X = _model_frame(model, X)
    show = resolve_progress(progress)
    rng = np.random.default_rng(seed)
    groups = group_codes(sensitive_features, X.index, intersections)
    sensitive = _sensitive_frame(sensitive_features, X.index)
    candidates, positive = resolve_outputs(model, positive_class)
    plan = plan_for(model)
    run = _attribute(
        plan,
        candidates,
        X,
        groups,
        rng=rng,
        max_rows=max_rows,
        max_background=max_background,
        min_group_rows=min_group_rows,
        seed=seed,
        progress=show,
        algorithm=algorithm,
    )
    attribution, sample, background, pool = run.attribution, run.sample, run.background, run.pool
    notes, rows_budget, background_budget = run.notes, run.max_rows, run.max_background
    n = len(sample.positions)
    with single_threaded():
        # Whether the margin is the log-odds: checked on the background rows only.
        spec = refine_margin(attribution.output, model, pool.iloc[n:], positive)

    values = attribution.values
    error = np.abs(attribution.explained_output - attribution.base_value - values.sum(axis=1))
    features = tuple(str(c) for c in X.columns)
    data = X.iloc[sample.positions]
    uniform = sample.uniform if sample.uniform.any() else np.ones(n, dtype=bool)

    importance_frame = importance(values[uniform], list(features), rng=rng)
    row_labels = groups.labels_at(sample.positions)
    by_group_frame = by_group(values, list(features), row_labels)
    proxy_rows = np.sort(rng.choice(len(X), size=min(len(X), PROXY_ROWS), replace=False))
    proxies_frame = proxies(
        X.iloc[proxy_rows].rename(columns=str),
        sensitive.iloc[proxy_rows],
        importance_frame,
        min_association=proxy_min_association,
        min_share=proxy_min_share,
    )
    swarm = beeswarm(
        values[uniform],
        data.iloc[np.flatnonzero(uniform)].rename(columns=str),
        list(importance_frame["feature"]),
        rng=rng,
    )
    return ExplanationResult(
        method=attribution.method,
        output=spec.label,
        output_code=spec.kind,
        rows_explained=n,
        background_rows=0 if algorithm == PATH_DEPENDENT else len(background),
        max_additivity_error=float(error.max()) if n else 0.0,
        features=features,
        base_value=float(attribution.base_value),
        values=values,
        data=data,
        background=X.iloc[background],
        uniform=sample.uniform,
        group_labels=row_labels,
        importance_frame=importance_frame,
        by_group_frame=by_group_frame,
        proxies_frame=proxies_frame,
        beeswarm_data=swarm,
        sensitive_features=tuple(str(c) for c in sensitive.columns),
        notes=tuple(notes),
        settings={
            "max_rows": int(rows_budget),
            "max_background": int(background_budget),
            "min_group_rows": int(min_group_rows),
            "seed": int(seed),
            "positive_class": None if positive is None else str(positive),
            "proxy_min_association": float(proxy_min_association),
            "proxy_min_share": float(proxy_min_share),
            "algorithm": algorithm,
        },
        algorithm=algorithm,
    )


@dataclass(frozen=True)
class _Run:
    """What the attribution step produced and with which budget."""

    attribution: Attribution
    sample: RowSample
    background: np.ndarray
    pool: pd.DataFrame
    notes: list[str]
    max_rows: int
    max_background: int


def _attribute(plan, candidates, X, groups: GroupCodes, *, rng, max_rows, max_background, min_group_rows, seed, progress,
               algorithm="interventional"):
    """Run the plan's fast path, falling back to the model-agnostic explainer.

    Path-dependent values exist only for tree models read exactly: anything else is an
    ExplanationError, never a silent switch to interventional values.
    """
    notes: list[str] = []
    if algorithm == PATH_DEPENDENT and plan.kind != TREE:
        raise ExplanationError(f"explain.algorithm path_dependent needs a tree model, and this model is explained by the "
                               f"{'model-agnostic' if plan.kind == AGNOSTIC else plan.kind} path; use interventional.")
    if plan.kind == AGNOSTIC:
        notes.append(f"The model-agnostic explainer was used because {plan.reason}.")
    else:
        try:
            with single_threaded():  # the fast paths call the model on small batches only
                trees, rows, background_rows = None, max_rows, max_background
                if plan.kind == TREE:
                    trees = parse_tree_model(plan)
                    rows, background_rows = budget_for(trees, max_rows=max_rows, max_background=max_background)
                    if algorithm == PATH_DEPENDENT:
                        rows = path_dependent_rows(trees, max_rows)
                sample, background = _draw(groups, rng, rows, background_rows, min_group_rows)
                pool = _pool(X, sample.positions, background)
                attribution = explain_fast(
                    plan,
                    candidates,
                    pool,
                    len(sample.positions),
                    rng=rng,
                    evaluate=_evaluate,
                    progress=progress,
                    trees=trees,
                    algorithm=algorithm,
                )
        except FastPathUnavailable as exc:
            if algorithm == PATH_DEPENDENT:
                raise ExplanationError(f"path-dependent TreeSHAP cannot be computed: {exc}; use interventional.") from None
            notes.append(f"The exact {plan.method} path was not used because {exc}.")
        except ExplanationError:
            raise
        except Exception as exc:  # noqa: BLE001 - an unexpected model: fall back, don't crash
            notes.append(f"The exact {plan.method} path failed ({describe_exception(exc)}).")
        else:
            if algorithm == PATH_DEPENDENT and rows != max_rows:
                notes.append(f"The trees are deep and have very many leaves, so path-dependent values were computed "
                             f"for at most {rows} rows.")
            elif algorithm != PATH_DEPENDENT and (rows, background_rows) != (max_rows, max_background):
                notes.append(
                    f"The model has very many leaves, so at most {rows} rows and "
                    f"{background_rows} background rows were used."
                )
            return _Run(attribution, sample, background, pool, notes, rows, background_rows)

    rows = min(max_rows, _agnostic.MAX_ROWS)
    background_rows = min(max_background, _agnostic.MAX_BACKGROUND)
    if (rows, background_rows) != (max_rows, max_background):
        notes.append(
            f"Model-agnostic explanations are slow, so at most {rows} rows and "
            f"{background_rows} background rows were used."
        )
    sample, background = _draw(groups, rng, rows, background_rows, min_group_rows)
    pool = _pool(X, sample.positions, background)
    attribution = _explain_agnostic(candidates, pool, len(sample.positions), seed=seed, progress=progress)
    return _Run(attribution, sample, background, pool, notes, rows, background_rows)


def _check_budget(*, max_rows: int, max_background: int, min_group_rows: int) -> None:
    for name, value in (("max_rows", max_rows), ("max_background", max_background)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
            raise ExplanationError(f"{name} is {value!r}; pass a positive whole number.")
    if not isinstance(min_group_rows, (int, np.integer)) or min_group_rows < 0:
        raise ExplanationError(f"min_group_rows is {min_group_rows!r}; pass a whole number of at least 0.")


def _model_frame(model: Any, X: Any) -> pd.DataFrame:
    """``X`` as a DataFrame with exactly the model's input columns, in the model's order."""
    names = getattr(model, "feature_names_in_", None)
    if not isinstance(X, pd.DataFrame):
        array = np.asarray(X)
        if array.ndim != 2:
            raise ExplanationError("X is not a table; pass a pandas DataFrame of the model's input columns.")
        columns = list(names) if names is not None and len(names) == array.shape[1] else None
        X = pd.DataFrame(array, columns=columns)
    if len(X) == 0:
        raise ExplanationError("X has no rows; pass at least one row to explain.")
    if names is not None:
        names = list(names)
        missing = [str(c) for c in names if c not in X.columns]
        if missing:
            raise ExplanationError(
                f"X lacks the model input column(s) {', '.join(missing)}; pass the columns the model was trained on."
            )
        if list(X.columns) != names:
            X = X[names]
    if X.columns.has_duplicates:
        raise ExplanationError("X has duplicate column names; pass each model input column once.")
    return X


def _sensitive_frame(sensitive_features: Any, index: pd.Index) -> pd.DataFrame:
    if sensitive_features is None:
        return pd.DataFrame(index=index)
    frame = sensitive_features
    if isinstance(frame, pd.Series):
        frame = frame.to_frame(name=frame.name if frame.name is not None else "sensitive")
    if not frame.index.equals(index):
        frame = frame.loc[index]
    return frame.rename(columns=str)


def _draw(groups: GroupCodes, rng, max_rows, max_background, min_group_rows):
    """The explained rows (a stratified sample) and the background rows."""
    sample = sample_rows(groups, max_rows=max_rows, min_group_rows=min_group_rows, rng=rng)
    background = sample_background(len(groups), max_background=max_background, rng=rng)
    return sample, background


def _pool(X: pd.DataFrame, rows: np.ndarray, background: np.ndarray) -> pd.DataFrame:
    """Explained rows followed by background rows, positionally indexed."""
    return pd.concat([X.iloc[rows], X.iloc[background]], ignore_index=True)


def _evaluate(spec: OutputSpec, frame: pd.DataFrame) -> np.ndarray:
    try:
        values = np.asarray(spec.fn(frame), dtype=np.float64).reshape(len(frame))
    except (ExplanationError, KeyboardInterrupt):
        raise
    except BaseException as exc:  # noqa: BLE001 - model code may raise anything, SystemExit included
        raise ExplanationError(
            f"the model failed to compute its {spec.label} on X ({describe_exception(exc)}); "
            "pass X with the columns and dtypes the model was trained on."
        ) from exc
    return values


def _explain_agnostic(
    candidates: list[OutputSpec], pool: pd.DataFrame, n_explained: int, *, seed: int, progress: bool
) -> Attribution:
    outputs = None
    for spec in candidates:
        outputs = _evaluate(spec, pool)
        if np.all(np.isfinite(outputs)):
            break
    else:
        raise ExplanationError(
            f"the model's {candidates[-1].label} is not finite on some rows of X; "
            "check X for values the model cannot score."
        )
    try:
        method, values = _agnostic.explain_agnostic(spec.fn, pool, n_explained, seed=seed, progress=progress)
    except (ExplanationError, KeyboardInterrupt):
        raise
    except BaseException as exc:  # noqa: BLE001 - model code may raise anything, SystemExit included
        raise ExplanationError(
            f"the model-agnostic explainer failed on this model ({describe_exception(exc)}); "
            "check that the model predicts on rows that mix values of X."
        ) from exc
    return Attribution(
        values=values,
        base_value=float(outputs[n_explained:].mean()),
        output=spec,
        method=method,
        explained_output=outputs[:n_explained],
    )


def attribute_rows(model: Any, rows: pd.DataFrame, background: pd.DataFrame, *, positive_class: Any = None,
                   seed: int = 0, progress: bool | None = None) -> Attribution:
    """SHAP values per raw column of exactly ``rows`` against exactly ``background``.

    :func:`explain` samples the rows it explains and their background from ``X``; this
    explains the rows it is given (every one, in order) with the background it is given, by
    the same paths: exact for trees and linear models (alone or at the end of a column-wise
    Pipeline), the model-agnostic explainer otherwise. Used for reason codes, where every
    adverse decision needs its reasons and the baseline population is chosen by the caller.

    Parameters
    ----------
    model : estimator
        As for :func:`explain`.
    rows, background : DataFrame
        The model's input columns (extra columns are dropped); ``background`` not empty.
    positive_class : object, optional
        As for :func:`explain`.
    seed : int
        Seed of the model-agnostic explainer's permutations and of the fast paths' checks.
    progress : bool, optional
        As for :func:`explain`.

    Returns
    -------
    Attribution
        ``values`` (len(rows) x columns, in the model's column order), ``base_value``, the
        explained ``output`` and the model's ``explained_output`` per row.

    Raises
    ------
    ExplanationError
        The model cannot be explained on these rows, or ``background`` is empty.
    """
    if len(background) == 0:
        raise ExplanationError("the background is empty; pass at least one background row.")
    try:
        rows = _model_frame(model, rows)
        background = _model_frame(model, background)
        candidates, positive = resolve_outputs(model, positive_class)
        plan = plan_for(model)
        pool = pd.concat([rows, background], ignore_index=True)
        show = resolve_progress(progress)
        attribution = None
        if plan.kind != AGNOSTIC:
            try:
                with single_threaded():
                    trees = parse_tree_model(plan) if plan.kind == TREE else None
                    attribution = explain_fast(plan, candidates, pool, len(rows), rng=np.random.default_rng(seed),
                                               evaluate=_evaluate, progress=show, trees=trees)
            except FastPathUnavailable:
                pass
        if attribution is None:
            attribution = _explain_agnostic(candidates, pool, len(rows), seed=seed, progress=show)
        with single_threaded():  # whether the margin is the log-odds, as explain() says it
            output = refine_margin(attribution.output, model, background, positive)
        return replace(attribution, output=output)
    except (ExplanationError, KeyboardInterrupt):
        raise
    except BaseException as exc:  # noqa: BLE001 - model code may raise anything
        raise ExplanationError(f"the model could not be explained on these rows ({describe_exception(exc)}).") from None
