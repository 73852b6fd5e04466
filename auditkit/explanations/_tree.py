"""Exact interventional TreeSHAP over groups of columns.

shap's tree parser (``shap.TreeExplainer(model).model``) reads the trees of scikit-learn,
LightGBM and XGBoost models into flat arrays; the SHAP values are computed here for
*groups* of transformed columns (all one-hot columns of a raw column form one group),
which gives the raw-column Shapley values of the model on raw rows exactly. Summing
per-column TreeSHAP values over one-hot columns would not: the Shapley value of a group is
not the sum of its members' values when the members interact in the trees.

For one background row ``b`` and a leaf with value ``v``, a row ``z`` mixing ``x`` (on a
coalition ``S`` of groups) and ``b`` reaches the leaf iff every group ``g`` on the path
satisfies the path's conditions on ``g`` through whichever row it is taken from. With
``Nx`` the groups only ``x`` satisfies and ``Nb`` those only ``b`` satisfies (``p`` and
``q`` of them), the leaf's game is ``v * [Nx <= S and S & Nb = {}]``, whose Shapley values
are ``v (p-1)! q! / (p+q)!`` for members of ``Nx`` and ``-v p! (q-1)! / (p+q)!`` for
members of ``Nb`` (zero for everyone else). Rows and background rows are reduced to bit
patterns per leaf, so the cost is one pass over the rows per node plus a small
pattern-by-pattern table per leaf, instead of one tree walk per (row, background) pair.

The work is done by a compiled kernel (:mod:`auditkit.explanations._tree_kernel`, numba),
which also evaluates native categorical splits (``TreeSet.categorical`` and
``TreeSet.category_bits``). The numpy version of the same algorithm is kept as
:func:`grouped_tree_shap_numpy`, the reference the kernel is tested against, and used when
numba cannot be imported.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import factorial
from typing import Any

import numpy as np

from ._progress import track

# Bit patterns are int64: at most this many distinct groups on one root-to-leaf path.
MAX_GROUPS_ON_PATH = 62
# Dropping rows that can no longer pair up pays off only on deep paths (forests).
PRUNE_FROM_SLOTS = 4


class NotTreeExplainable(Exception):
    """The fast tree path does not apply to this model; the caller falls back."""


@dataclass(frozen=True)
class TreeSet:
    """Flat arrays of a parsed tree ensemble (one row per tree, padded with -1)."""

    children_left: np.ndarray
    children_right: np.ndarray
    children_default: np.ndarray
    features: np.ndarray
    thresholds: np.ndarray
    values: np.ndarray
    input_dtype: Any
    n_trees: int
    categorical: np.ndarray | None = None  # bool, like features: the node splits on category membership
    category_bits: np.ndarray | None = None  # uint64 (n_trees, n_nodes, W): codes going LEFT

    @property
    def has_categorical(self) -> bool:
        """Whether some node splits on category membership.

        At such a node a value ``c`` goes left iff bit ``c`` of the node's bitset is set;
        NaN, negative and out-of-range codes follow ``children_default`` (codes are
        truncated to integers, as LightGBM and XGBoost do).
        """
        return (
            self.categorical is not None
            and self.category_bits is not None
            and bool(np.any(np.asarray(self.categorical)[: self.n_trees]))
        )

    @property
    def n_outputs(self) -> int:
        return self.values.shape[2]


TREE_CLASSES = (
    "sklearn.tree._classes.DecisionTreeClassifier",
    "sklearn.tree._classes.DecisionTreeRegressor",
    "sklearn.tree._classes.ExtraTreeClassifier",
    "sklearn.tree._classes.ExtraTreeRegressor",
    "sklearn.ensemble._forest.RandomForestClassifier",
    "sklearn.ensemble._forest.RandomForestRegressor",
    "sklearn.ensemble._forest.ExtraTreesClassifier",
    "sklearn.ensemble._forest.ExtraTreesRegressor",
    "sklearn.ensemble._gb.GradientBoostingClassifier",
    "sklearn.ensemble._gb.GradientBoostingRegressor",
    "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier",
    "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingRegressor",
    "lightgbm.sklearn.LGBMClassifier",
    "lightgbm.sklearn.LGBMRegressor",
    "xgboost.sklearn.XGBClassifier",
    "xgboost.sklearn.XGBRegressor",
    "xgboost.sklearn.XGBRFClassifier",
    "xgboost.sklearn.XGBRFRegressor",
)


def is_tree_model(estimator: Any) -> bool:
    """Whether ``estimator`` is a tree ensemble this module knows how to read."""
    for cls in type(estimator).__mro__:
        if f"{cls.__module__}.{cls.__qualname__}" in TREE_CLASSES:
            return True
    return False


def parse_trees(estimator: Any) -> TreeSet:
    """Read a fitted tree model into flat arrays with shap's tree parser.

    Parameters
    ----------
    estimator : estimator
        A fitted tree model (see :data:`TREE_CLASSES`).

    Returns
    -------
    TreeSet

    Raises
    ------
    NotTreeExplainable
        shap cannot read the model, or it uses categorical splits.
    """
    # Native categorical splits (LightGBM, XGBoost, CatBoost): auditkit/explanations/_tree_parse.py
    from ._tree_parse import native_trees

    native = native_trees(estimator)
    if native is not None:
        return native
    categorical = getattr(estimator, "is_categorical_", None)
    if categorical is not None and np.any(categorical):
        raise NotTreeExplainable("the model splits natively on categorical features")
    import warnings

    import shap

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ensemble = shap.TreeExplainer(estimator).model
    except Exception as exc:  # noqa: BLE001 - any parser failure means: use the fallback
        raise NotTreeExplainable(f"shap cannot read its trees ({type(exc).__name__}: {exc})") from exc
    types = getattr(ensemble, "threshold_types", None)
    if types is not None and np.any(np.asarray(types) == 1):
        raise NotTreeExplainable("the model splits natively on categorical features")
    n_trees = ensemble.children_left.shape[0]
    limit = getattr(ensemble, "tree_limit", None)
    if limit is not None and 0 < limit < n_trees:
        n_trees = int(limit)
    values = np.asarray(ensemble.values, dtype=np.float64)
    if values.ndim == 2:
        values = values[:, :, None]
    return TreeSet(
        children_left=np.asarray(ensemble.children_left, dtype=np.int64),
        children_right=np.asarray(ensemble.children_right, dtype=np.int64),
        children_default=np.asarray(ensemble.children_default, dtype=np.int64),
        features=np.asarray(ensemble.features, dtype=np.int64),
        thresholds=np.asarray(ensemble.thresholds, dtype=np.float64),
        values=values,
        input_dtype=getattr(ensemble, "input_dtype", np.float64),
        n_trees=n_trees,
    )


# Deep forests are costly for interventional SHAP (rows x reachable nodes x leaves); beyond
# this many leaves in total the row and background budgets shrink proportionally. A random
# forest of 100 fully grown trees on Adult has about 570,000 leaves, extra trees 1,250,000.
LEAF_BUDGET = 1_500_000
MIN_ROWS = 500
MIN_BACKGROUND = 50


def budget_for(trees: TreeSet, *, max_rows: int, max_background: int) -> tuple[int, int]:
    """Row and background budgets scaled down for ensembles with very many leaves.

    Parameters
    ----------
    trees : TreeSet
    max_rows, max_background : int
        The requested budgets.

    Returns
    -------
    (int, int)
        Budgets no larger than requested.
    """
    # Binary trees: leaves = internal nodes + 1 (the arrays are padded with -1).
    leaves = int((trees.children_left[: trees.n_trees] >= 0).sum()) + trees.n_trees
    if leaves <= LEAF_BUDGET:
        return max_rows, max_background
    scale = LEAF_BUDGET / leaves
    rows = min(max_rows, max(MIN_ROWS, int(max_rows * scale)))
    background = min(max_background, max(MIN_BACKGROUND, int(max_background * scale)))
    return rows, background


def as_tree_input(trees: TreeSet, X: np.ndarray) -> np.ndarray:
    """Cast rows the way the model does before comparing them with thresholds."""
    return np.asarray(X).astype(trees.input_dtype).astype(np.float64)


def predict_raw(trees: TreeSet, X: np.ndarray) -> np.ndarray:
    """Sum of leaf values per output, without the model's constant offset.

    Parameters
    ----------
    trees : TreeSet
    X : ndarray of shape (n, n_columns)
        Rows already passed through :func:`as_tree_input`.

    Returns
    -------
    ndarray of shape (n, n_outputs)
    """
    kernel = _compiled()
    if kernel is not None:
        return kernel.predict_compiled(trees, X)
    n = len(X)
    total = np.zeros((n, trees.n_outputs))
    rows = np.arange(n)
    missing = np.isnan(X)
    for t in range(trees.n_trees):
        left, right, default = trees.children_left[t], trees.children_right[t], trees.children_default[t]
        feature, threshold = trees.features[t], trees.thresholds[t]
        node = np.zeros(n, dtype=np.int64)
        active = left[node] >= 0
        while active.any():
            at = node[active]
            f = feature[at]
            value = X[rows[active], f]
            go_left = _goes_left(trees, t, at, value, threshold[at])
            nxt = np.where(go_left, left[at], right[at])
            nxt = np.where(missing[rows[active], f] & ~_is_categorical(trees, t, at), default[at], nxt)
            node[active] = nxt
            active = left[node] >= 0
        total += trees.values[t][node]
    return total


def _is_categorical(trees: TreeSet, t: int, nodes: np.ndarray) -> np.ndarray:
    if not trees.has_categorical:
        return np.zeros(len(nodes), dtype=bool)
    return np.asarray(trees.categorical[t][nodes], dtype=bool)


def _goes_left(trees: TreeSet, t: int, nodes: np.ndarray, value: np.ndarray, threshold: np.ndarray) -> np.ndarray:
    """Direction at ``nodes`` of tree ``t`` (numeric: ``value <= threshold``; NaN handled by the caller)."""
    with np.errstate(invalid="ignore"):
        go_left = value <= threshold
    if not trees.has_categorical:
        return go_left
    cat = _is_categorical(trees, t, nodes)
    if not cat.any():
        return go_left
    bits = np.asarray(trees.category_bits[t], dtype=np.uint64)
    if bits.ndim == 1:
        bits = bits[:, None]
    width = bits.shape[1] * 64
    v = value[cat]
    known = np.isfinite(v) & (v >= 0) & (v < width)
    code = np.where(known, v, 0).astype(np.int64)
    words = bits[nodes[cat], code >> 6]
    member = ((words >> (code & 63).astype(np.uint64)) & np.uint64(1)) == 1
    at = nodes[cat]
    default_left = trees.children_default[t][at] == trees.children_left[t][at]
    go_left = go_left.copy()
    go_left[cat] = np.where(known, member, default_left)
    return go_left


def _compiled():
    """The compiled kernel module, or None when numba cannot be imported."""
    try:
        from . import _tree_kernel
    except ImportError:  # pragma: no cover - numba ships with shap
        return None
    return _tree_kernel


def grouped_tree_shap(
    trees: TreeSet,
    X: np.ndarray,
    B: np.ndarray,
    groups: np.ndarray,
    n_groups: int,
    *,
    output: int,
    progress: bool = False,
) -> np.ndarray:
    """Exact interventional SHAP values of groups of columns.

    Parameters
    ----------
    trees : TreeSet
    X : ndarray of shape (n, n_columns)
        Rows to explain, already passed through :func:`as_tree_input`.
    B : ndarray of shape (m, n_columns)
        Background rows, likewise.
    groups : ndarray of int, shape (n_columns,)
        Group of every column, in ``0 .. n_groups - 1``.
    n_groups : int
        Number of groups.
    output : int
        Which output column of the leaves to explain.
    progress : bool
        Show a progress bar over trees.

    Returns
    -------
    ndarray of shape (n, n_groups)
        SHAP values; they add up to ``f(x) - mean_b f(b)`` per row.

    Raises
    ------
    NotTreeExplainable
        A root-to-leaf path uses more than :data:`MAX_GROUPS_ON_PATH` distinct groups.
    """
    kernel = _compiled()
    if kernel is None:  # pragma: no cover - numba ships with shap
        if trees.has_categorical:
            raise NotTreeExplainable("categorical splits need the compiled TreeSHAP kernel (numba)")
        return grouped_tree_shap_numpy(trees, X, B, groups, n_groups, output=output, progress=progress)
    fact = np.array([float(factorial(i)) for i in range(MAX_GROUPS_ON_PATH + 2)])
    phi = np.zeros((len(X), n_groups))
    batches = kernel.tree_batches(trees.n_trees)
    for first, last in track(batches, total=len(batches), enabled=progress, desc="TreeSHAP"):
        part, status = kernel.grouped_shap_compiled(
            trees, X, B, groups, n_groups, output, fact, first=first, last=last
        )
        if status != kernel.OK:
            raise NotTreeExplainable(f"a tree path uses more than {MAX_GROUPS_ON_PATH} distinct columns")
        phi += part
    return phi


def grouped_tree_shap_numpy(
    trees: TreeSet,
    X: np.ndarray,
    B: np.ndarray,
    groups: np.ndarray,
    n_groups: int,
    *,
    output: int,
    progress: bool = False,
) -> np.ndarray:
    """The numpy version of :func:`grouped_tree_shap` (numeric splits only): the reference."""
    n, m = len(X), len(B)
    phi = np.zeros((n, n_groups))
    XT = np.ascontiguousarray(X.T)
    BT = np.ascontiguousarray(B.T)
    x_missing = np.isnan(XT)
    b_missing = np.isnan(BT)
    fact = np.array([float(factorial(i)) for i in range(MAX_GROUPS_ON_PATH + 2)])
    for t in track(range(trees.n_trees), total=trees.n_trees, enabled=progress, desc="TreeSHAP"):
        _explain_tree(
            trees, t, XT, BT, x_missing, b_missing, groups, output, phi, fact, n, m
        )
    return phi


def _explain_tree(trees, t, XT, BT, x_missing, b_missing, groups, output, phi, fact, n, m) -> None:
    left, right, default = trees.children_left[t], trees.children_right[t], trees.children_default[t]
    feature, threshold = trees.features[t], trees.thresholds[t]
    leaf_values = trees.values[t][:, output]
    # A node carries the rows that can still reach a leaf below it together with some
    # background row ("alive"), and their bit patterns: bit s is set when the row
    # satisfies the path's conditions on the group in slot s.
    all_x, all_b = np.arange(n), np.arange(m)
    stack = [(0, (), all_x, np.zeros(n, dtype=np.int64), all_b, np.zeros(m, dtype=np.int64))]
    while stack:
        node, slots, xi, px, bi, pb = stack.pop()
        if left[node] < 0:
            if slots and leaf_values[node] != 0.0:
                _add_leaf(phi, slots, xi, px, pb, leaf_values[node], fact, m)
            continue
        f = feature[node]
        g = groups[f]
        default_left = default[node] == left[node]
        x_left = np.where(x_missing[f, xi], default_left, XT[f, xi] <= threshold[node])
        b_left = np.where(b_missing[f, bi], default_left, BT[f, bi] <= threshold[node])
        known = g in slots
        s = slots.index(g) if known else len(slots)
        if s >= MAX_GROUPS_ON_PATH:
            raise NotTreeExplainable(f"a tree path uses more than {MAX_GROUPS_ON_PATH} distinct columns")
        child_slots = slots if known else slots + (g,)
        bit = np.int64(1) << np.int64(s)
        full = (np.int64(1) << np.int64(len(child_slots))) - 1
        for child, x_ok, b_ok in ((left[node], x_left, b_left), (right[node], ~x_left, ~b_left)):
            if known:
                cx = np.where(x_ok, px, px & ~bit)
                cb = np.where(b_ok, pb, pb & ~bit)
            else:
                cx = np.where(x_ok, px | bit, px)
                cb = np.where(b_ok, pb | bit, pb)
            if not ((cx & bit).any() or (cb & bit).any()):
                continue  # nobody satisfies this group here: unreachable
            if len(child_slots) < PRUNE_FROM_SLOTS:
                stack.append((child, child_slots, xi, cx, bi, cb))
                continue
            x_keep, b_keep = _alive(cx, cb, full)
            if x_keep is None:
                continue
            stack.append((child, child_slots, xi[x_keep], cx[x_keep], bi[b_keep], cb[b_keep]))


def _alive(px: np.ndarray, pb: np.ndarray, full: np.int64):
    """Rows (and background rows) that still pair up to satisfy every slot, or ``None``."""
    x_patterns, x_inverse = np.unique(px, return_inverse=True)
    b_patterns, b_inverse = np.unique(pb, return_inverse=True)
    pairs = (x_patterns[:, None] | b_patterns[None, :]) == full
    x_ok = pairs.any(axis=1)
    if not x_ok.any():
        return None, None
    return x_ok[x_inverse], pairs.any(axis=0)[b_inverse]


def _add_leaf(phi, slots, xi, px, pb, value, fact, m) -> None:
    # For a reachable pair (a, b) every slot is satisfied by a or b, so the groups only x
    # satisfies are exactly those b fails (~b), and those only b satisfies are those a
    # fails (~a): the Shapley weights factor into matrix products over unique patterns.
    k = len(slots)
    full = (np.int64(1) << np.int64(k)) - 1
    b_patterns, b_counts = np.unique(pb, return_counts=True)
    x_patterns, x_inverse = np.unique(px, return_inverse=True)
    x_fails = ~x_patterns & full
    b_fails = ~b_patterns & full
    reachable = (x_fails[:, None] & ~b_patterns[None, :]) == 0
    shifts = np.arange(k, dtype=np.int64)
    b_fail_bits = ((b_fails[:, None] >> shifts) & 1).astype(np.float64)
    x_fail_bits = ((x_fails[:, None] >> shifts) & 1).astype(np.float64)
    p = b_fail_bits.sum(axis=1).astype(np.int64)[None, :]
    q = x_fail_bits.sum(axis=1).astype(np.int64)[:, None]
    weight_x = np.where(p > 0, fact[np.maximum(p - 1, 0)] * fact[q] / fact[p + q], 0.0)
    weight_b = np.where(q > 0, fact[p] * fact[np.maximum(q - 1, 0)] / fact[p + q], 0.0)
    scale = reachable * (b_counts[None, :] * (value / m))
    contrib = (scale * weight_x) @ b_fail_bits - (scale * weight_b).sum(axis=1)[:, None] * x_fail_bits
    phi[xi[:, None], np.array(slots)] += contrib[x_inverse]
