"""The exact fast paths (tree and linear), checked against the model before they are trusted.

A fast path computes SHAP values from the model's internals (tree arrays, coefficients) in
the space the final estimator sees. Before its values are used, the internals must
reproduce the model's own explained output, up to a constant, on the explained rows, the
background rows and rows that mix the two column by column -- the inputs interventional
SHAP is defined on. Anything that does not reproduce (a link function, categorical splits,
an unusual transformer) raises :class:`FastPathUnavailable` and the caller falls back to
the model-agnostic explainer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._frame import mix_rows
from ._linear import linear_shap, linear_weights
from ._mapping import ColumnMap, NotColumnwise, infer_column_map
from ._output import OutputSpec
from ._select import LINEAR, TREE, Plan
from ._tree import NotTreeExplainable, as_tree_input, grouped_tree_shap, parse_trees, predict_raw
from ._tree_parse import lower_categorical

N_MIXED = 256


class FastPathUnavailable(Exception):
    """The fast path cannot be used for this model; the message says why."""


@dataclass(frozen=True)
class Attribution:
    """SHAP values per raw column of the explained rows and what they explain."""

    values: np.ndarray
    base_value: float
    output: OutputSpec
    method: str
    explained_output: np.ndarray


def explain_fast(
    plan: Plan,
    candidates: list[OutputSpec],
    pool: pd.DataFrame,
    n_explained: int,
    *,
    rng: np.random.Generator,
    evaluate,
    progress: bool,
    trees=None,
    algorithm: str = "interventional",
) -> Attribution:
    """Run the tree or linear path of ``plan``.

    Parameters
    ----------
    plan : Plan
        A tree or linear plan.
    candidates : list of OutputSpec
        Outputs to explain, best first; the first one the internals reproduce is used.
    pool : DataFrame
        Explained rows followed by background rows, raw, positionally indexed.
    n_explained : int
        Number of explained rows at the top of ``pool``.
    rng : Generator
        Random source (mixed rows for the checks).
    evaluate : callable
        ``evaluate(spec, frame)`` -> model output, raising ExplanationError on failure.
    progress : bool
        Show progress for long computations.
    trees : TreeSet, optional
        The parsed trees of a tree plan, if already read (see :func:`parse_tree_model`).
    algorithm : {"interventional", "path_dependent"}
        For a tree plan: interventional values against the background rows, or path-dependent
        values against the trees' training covers (:mod:`._path_dependent`).

    Returns
    -------
    Attribution

    Raises
    ------
    FastPathUnavailable
        The fast path does not reproduce the model.
    """
    if plan.kind == TREE and trees is None:
        trees = parse_tree_model(plan)
    try:
        transformed = plan.transform(pool)
    except (ValueError, TypeError, NotColumnwise) as exc:
        raise FastPathUnavailable(f"the model inputs cannot be read as numbers ({exc})") from exc
    n_raw = pool.shape[1]
    if plan.in_pipeline:
        try:
            mapping = infer_column_map(plan.transform, pool, transformed, rng=rng, n_explained=n_explained)
        except NotColumnwise as exc:
            raise FastPathUnavailable(f"the Pipeline's transform is not column-wise ({exc})") from exc
    else:
        if transformed.shape[1] != n_raw:
            raise FastPathUnavailable("the model's inputs do not match the raw columns")
        mapping = ColumnMap(owner=np.arange(n_raw), n_raw=n_raw)

    mixed, mixed_transformed = _mixed_rows(plan, pool, n_explained, rng)
    if plan.kind == TREE:
        # Categorical splits -> numeric splits on indicator columns of the same group (_tree_parse).
        trees, widen = lower_categorical(trees, transformed.shape[1])
        tree_input = widen(as_tree_input(trees, transformed))
        raw = predict_raw(trees, np.vstack([tree_input, widen(as_tree_input(trees, mixed_transformed))]))
    elif plan.kind == LINEAR:
        weights, _ = linear_weights(plan.final)
        if len(weights) != transformed.shape[1]:
            raise FastPathUnavailable("the linear model's coefficients do not match its inputs")
        raw = (np.vstack([transformed, mixed_transformed]) @ weights)[:, None]
    else:  # pragma: no cover - guarded by the caller
        raise FastPathUnavailable("no fast path for this model")

    spec, output, sign, f_pool = _match_output(candidates, raw, pool, mixed, evaluate)
    background = slice(n_explained, None)
    if plan.kind == TREE and algorithm == "path_dependent":
        return _path_dependent(plan, trees, tree_input[:n_explained], mapping, n_raw, output, sign, spec,
                               f_pool[:n_explained])
    if plan.kind == TREE:
        groups = widen.groups(np.where(mapping.owner >= 0, mapping.owner, n_raw))
        values = grouped_tree_shap(
            trees,
            tree_input[:n_explained],
            tree_input[background],
            groups,
            n_raw + 1,
            output=output,
            progress=progress,
        )[:, :n_raw]
        values = sign * values
    else:
        values = linear_shap(
            transformed[:n_explained],
            transformed[background].mean(axis=0),
            sign * weights,
            mapping.aggregation(),
        )
    return Attribution(
        values=values,
        base_value=float(np.mean(f_pool[background])),
        output=spec,
        method=plan.method,
        explained_output=f_pool[:n_explained],
    )


def parse_tree_model(plan: Plan):
    """Read the trees of a tree plan's final estimator.

    Raises
    ------
    FastPathUnavailable
        shap cannot read the trees or they split on categories.
    """
    try:
        return parse_trees(plan.final)
    except NotTreeExplainable as exc:
        raise FastPathUnavailable(str(exc)) from exc


def _mixed_rows(plan: Plan, pool: pd.DataFrame, n_explained: int, rng: np.random.Generator):
    n, n_raw = pool.shape
    if n_explained == n:
        return pool.iloc[:0], plan.transform(pool.iloc[:1])[:0]
    x_rows = rng.integers(0, n_explained, size=N_MIXED)
    b_rows = rng.integers(n_explained, n, size=N_MIXED)
    from_x = rng.random((N_MIXED, n_raw)) < 0.5
    mixed = mix_rows(pool, np.where(from_x, x_rows[:, None], b_rows[:, None]))
    try:
        return mixed, plan.transform(mixed)
    except (ValueError, TypeError) as exc:
        raise FastPathUnavailable(f"the transform fails on mixed rows ({exc})") from exc


def _match_output(candidates: list[OutputSpec], raw: np.ndarray, pool, mixed, evaluate):
    """Find the candidate output (and leaf output column and sign) the internals reproduce."""
    frame = pd.concat([pool, mixed], ignore_index=True) if len(mixed) else pool
    tried = []
    for spec in candidates:
        f = evaluate(spec, frame)
        if not np.all(np.isfinite(f)):
            tried.append(spec.label)
            continue
        centred = f - f.mean()
        tolerance = 1e-5 * max(1.0, float(np.max(np.abs(f))))
        for output in range(raw.shape[1]):
            r = raw[:, output] - raw[:, output].mean()
            for sign in (1.0, -1.0):
                if np.max(np.abs(sign * r - centred)) <= tolerance:
                    return spec, output, sign, f[: len(pool)]
        tried.append(spec.label)
    raise FastPathUnavailable(
        "the model's internals do not reproduce its output (" + "; ".join(tried) + ")"
    )


def _path_dependent(plan, trees, rows, mapping, n_raw, output, sign, spec, explained_output) -> Attribution:
    """Path-dependent values per raw column; their base is what every row's values add up from."""
    from ._path_dependent import NotPathDependent, path_dependent_shap, tree_covers

    try:
        if getattr(trees, "has_categorical", False) or rows.shape[1] != mapping.owner.shape[0]:
            raise NotPathDependent("the model splits natively on categorical features, whose training covers "
                                   "auditkit does not read")
        covers = tree_covers(plan.final, trees.n_trees, trees.children_left.shape[1])
        groups = np.where(mapping.owner >= 0, mapping.owner, n_raw)
        values, _ = path_dependent_shap(trees, covers, rows, groups, n_raw + 1, output=output)
    except NotPathDependent as exc:
        raise FastPathUnavailable(str(exc)) from None
    values = sign * values[:, :n_raw]
    offsets = explained_output - values.sum(axis=1)
    base = float(np.mean(offsets))
    if np.abs(offsets - base).max() > 1e-6 * max(1.0, float(np.abs(explained_output).max())):
        raise FastPathUnavailable("the path-dependent values do not add up to the model's output")
    return Attribution(values=values, base_value=base, output=spec, method=plan.method,
                       explained_output=explained_output)
