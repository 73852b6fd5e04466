"""Path-dependent TreeSHAP over groups of columns (``explain.algorithm: path_dependent``).

Interventional TreeSHAP (the default, :mod:`._tree`) answers "how does the prediction move
when a column takes this row's value instead of a background row's": features are switched
independently of each other, against an explicit background sample. Path-dependent TreeSHAP
(Lundberg et al. 2018, Algorithm 2; what LightGBM's ``pred_contrib`` and XGBoost's
``pred_contribs`` compute) needs no background: a column left out of a coalition is
integrated out with the training data's *cover* of each branch, i.e. conditionally on the
columns split on above it. The two agree when the columns are independent; with correlated
columns the path-dependent values follow the model's own training distribution, and credit
can move from a column the model uses to a correlated one it barely splits on.

The value function of a leaf, for a coalition ``S`` of column groups, is the leaf value times,
for every group on the path, "the row goes this way at each of the group's nodes" when the group
is in ``S`` and the product of the cover fractions of the path's branches otherwise: a product
game, whose Shapley values Algorithm 2 computes in ``O(depth^2)`` per leaf by extending and
unwinding the path's permutation weights. Using group ids as the "features" of the algorithm
gives the exact Shapley values of the groups (all one-hot columns of a raw column form one
group), as the interventional path does.
"""

from __future__ import annotations

import numpy as np

__all__ = ["NotPathDependent", "path_dependent_rows", "path_dependent_shap", "tree_covers"]

#: Work allowed for one explanation: rows x leaves x depth^2 (a few seconds compiled).
WORK_BUDGET = 4e9
MIN_ROWS = 50


class NotPathDependent(Exception):
    """Path-dependent values cannot be computed for this model (no covers, categorical splits)."""


def tree_covers(estimator, n_trees: int, n_nodes: int) -> np.ndarray:
    """The training cover (weighted rows reaching each node) of every node, from shap's parser,
    aligned with the node numbering of :func:`auditkit.explanations._tree.parse_trees`."""
    import warnings

    import shap

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ensemble = shap.TreeExplainer(estimator).model
    covers = getattr(ensemble, "node_sample_weight", None)
    if covers is None:
        raise NotPathDependent("the model's trees carry no training cover")
    covers = np.asarray(covers, dtype=np.float64)
    if covers.shape[0] < n_trees or covers.shape[1] != n_nodes:
        raise NotPathDependent("the model's covers do not match its trees")
    covers = covers[:n_trees]
    roots = covers[:, 0]
    if not np.all(np.isfinite(covers)) or np.any(roots <= 0):
        raise NotPathDependent("the model's trees have no positive training cover at the root")
    return covers


def path_dependent_rows(trees, max_rows: int) -> int:
    """How many rows to explain: Algorithm 2 costs about leaves x depth^2 per row, so deep forests
    (a random forest grown to purity has thousands of leaves per tree) get fewer rows."""
    from ._tree_kernel import tree_depth

    leaves = int((trees.children_left[: trees.n_trees] >= 0).sum()) + trees.n_trees
    depth = max(1, tree_depth(trees.children_left, trees.children_right, trees.n_trees))
    affordable = int(WORK_BUDGET / (leaves * depth * depth))
    return min(max_rows, max(MIN_ROWS, affordable))


def path_dependent_shap(trees, covers: np.ndarray, X: np.ndarray, groups: np.ndarray, n_groups: int,
                        *, output: int) -> tuple[np.ndarray, float]:
    """Path-dependent SHAP values of every row, per group of columns.

    Parameters
    ----------
    trees : TreeSet
        Numeric splits only (``x <= threshold`` goes left, NaN follows the default child).
    covers : ndarray of shape (n_trees, n_nodes)
    X : ndarray of shape (n, n_columns)
        Rows as the trees see them (:func:`auditkit.explanations._tree.as_tree_input`).
    groups : ndarray of int, shape (n_columns,)
        The group of each column.
    n_groups : int
    output : int
        Which output of the trees' values.

    Returns
    -------
    (values, expected) : ndarray of shape (n, n_groups), float
        The values, and the cover-weighted expectation of the trees (what they add up from:
        ``values.sum(1) + expected`` equals the trees' raw output for every row).
    """
    if getattr(trees, "has_categorical", False):
        raise NotPathDependent("the model splits natively on categorical features")
    from ._path_dependent_kernel import expected_value, shap_rows
    from ._tree_kernel import tree_depth

    values = np.ascontiguousarray(trees.values[:, :, output], dtype=np.float64)
    left = np.ascontiguousarray(trees.children_left[: trees.n_trees], dtype=np.int64)
    right = np.ascontiguousarray(trees.children_right[: trees.n_trees], dtype=np.int64)
    default = np.ascontiguousarray(trees.children_default[: trees.n_trees], dtype=np.int64)
    features = np.ascontiguousarray(trees.features[: trees.n_trees], dtype=np.int64)
    thresholds = np.ascontiguousarray(trees.thresholds[: trees.n_trees], dtype=np.float64)
    covers = np.ascontiguousarray(covers, dtype=np.float64)
    node_groups = np.where(features >= 0, np.asarray(groups, dtype=np.int64)[np.maximum(features, 0)], -1)
    depth = tree_depth(left, right, left.shape[0])
    phi = shap_rows(np.ascontiguousarray(X, dtype=np.float64), left, right, default, features,
                    np.ascontiguousarray(node_groups), thresholds, values[: trees.n_trees], covers, int(n_groups),
                    depth)
    return phi, float(expected_value(left, right, values[: trees.n_trees], covers))
