"""Compiled path-dependent TreeSHAP (Lundberg et al. 2018, Algorithm 2), with groups as features.

The path of unique groups from the root to a node is kept as four arrays per recursion level
(group, zero fraction, one fraction, permutation weight); ``_extend`` adds a group, ``_unwind``
removes one (when the same group is split on again further down, its fractions multiply), and
``_unwound_sum`` gives the total weight of the path without one group. The paper's recursion
is an explicit stack, so the kernel compiles once and is cached on disk.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["expected_value", "shap_rows"]


@njit(cache=True)
def _extend(groups, zeros, ones, weights, depth, zero_fraction, one_fraction, group):
    groups[depth] = group
    zeros[depth] = zero_fraction
    ones[depth] = one_fraction
    weights[depth] = 1.0 if depth == 0 else 0.0
    for i in range(depth - 1, -1, -1):
        weights[i + 1] += one_fraction * weights[i] * (i + 1) / (depth + 1)
        weights[i] = zero_fraction * weights[i] * (depth - i) / (depth + 1)


@njit(cache=True)
def _unwind(groups, zeros, ones, weights, depth, index):
    one_fraction = ones[index]
    zero_fraction = zeros[index]
    next_one = weights[depth]
    for i in range(depth - 1, -1, -1):
        if one_fraction != 0.0:
            kept = weights[i]
            weights[i] = next_one * (depth + 1) / ((i + 1) * one_fraction)
            next_one = kept - weights[i] * zero_fraction * (depth - i) / (depth + 1)
        else:
            weights[i] = weights[i] * (depth + 1) / (zero_fraction * (depth - i))
    for i in range(index, depth):
        groups[i] = groups[i + 1]
        zeros[i] = zeros[i + 1]
        ones[i] = ones[i + 1]


@njit(cache=True)
def _unwound_sum(zeros, ones, weights, depth, index):
    one_fraction = ones[index]
    zero_fraction = zeros[index]
    next_one = weights[depth]
    total = 0.0
    for i in range(depth - 1, -1, -1):
        if one_fraction != 0.0:
            part = next_one * (depth + 1) / ((i + 1) * one_fraction)
            total += part
            next_one = weights[i] - part * zero_fraction * (depth - i) / (depth + 1)
        elif zero_fraction != 0.0:
            total += (weights[i] / zero_fraction) / ((depth - i) / (depth + 1))
    return total


@njit(cache=True)
def _tree_shap(x, t, left, right, default, features, node_groups, thresholds, values, covers, G, Z, O, W,
               stack_node, stack_depth, stack_level, stack_zero, stack_one, stack_group, phi):
    """One row through one tree: Algorithm 2 with an explicit stack (a node's level is its depth in
    the tree; its path is built in row ``level`` of the buffers from its parent's row)."""
    stack_node[0] = 0
    stack_depth[0] = 0
    stack_level[0] = 1
    stack_zero[0] = 1.0
    stack_one[0] = 1.0
    stack_group[0] = -1
    top = 1
    while top > 0:
        top -= 1
        node = stack_node[top]
        depth = stack_depth[top]
        level = stack_level[top]
        for i in range(depth):  # this level's path starts as a copy of the parent's
            G[level, i] = G[level - 1, i]
            Z[level, i] = Z[level - 1, i]
            O[level, i] = O[level - 1, i]
            W[level, i] = W[level - 1, i]
        _extend(G[level], Z[level], O[level], W[level], depth, stack_zero[top], stack_one[top], stack_group[top])
        if left[t, node] < 0:
            value = values[t, node]
            for i in range(1, depth + 1):
                weight = _unwound_sum(Z[level], O[level], W[level], depth, i)
                phi[G[level, i]] += weight * (O[level, i] - Z[level, i]) * value
            continue
        v = x[features[t, node]]
        if np.isnan(v):
            hot = default[t, node]
        elif v <= thresholds[t, node]:
            hot = left[t, node]
        else:
            hot = right[t, node]
        cold = right[t, node] if hot == left[t, node] else left[t, node]
        cover = covers[t, node]
        split_group = node_groups[t, node]
        incoming_zero = 1.0
        incoming_one = 1.0
        for i in range(depth + 1):
            if G[level, i] == split_group:
                incoming_zero = Z[level, i]
                incoming_one = O[level, i]
                _unwind(G[level], Z[level], O[level], W[level], depth, i)
                depth -= 1
                break
        # the cold child goes on the stack first: the hot child's subtree is done before it, and
        # neither touches this level's path, which both copy
        stack_node[top] = cold
        stack_zero[top] = covers[t, cold] / cover * incoming_zero
        stack_one[top] = 0.0
        stack_node[top + 1] = hot
        stack_zero[top + 1] = covers[t, hot] / cover * incoming_zero
        stack_one[top + 1] = incoming_one
        for k in range(top, top + 2):
            stack_depth[k] = depth + 1
            stack_level[k] = level + 1
            stack_group[k] = split_group
        top += 2
    return 0


@njit(cache=True)
def shap_rows(X, left, right, default, features, node_groups, thresholds, values, covers, n_groups, max_depth):
    """Path-dependent SHAP values (rows x groups) of every row, summed over the trees."""
    n = X.shape[0]
    size = max_depth + 3
    out = np.zeros((n, n_groups))
    G = np.full((size, size), -1, dtype=np.int64)
    Z = np.zeros((size, size))
    O = np.zeros((size, size))
    W = np.zeros((size, size))
    frames = 2 * size + 2
    stack_node = np.empty(frames, dtype=np.int64)
    stack_depth = np.empty(frames, dtype=np.int64)
    stack_level = np.empty(frames, dtype=np.int64)
    stack_zero = np.empty(frames)
    stack_one = np.empty(frames)
    stack_group = np.empty(frames, dtype=np.int64)
    phi = np.zeros(n_groups + 1)
    for r in range(n):
        phi[:] = 0.0
        for t in range(left.shape[0]):
            _tree_shap(X[r], t, left, right, default, features, node_groups, thresholds, values, covers, G, Z, O, W,
                       stack_node, stack_depth, stack_level, stack_zero, stack_one, stack_group, phi)
        for g in range(n_groups):
            out[r, g] = phi[g]
    return out


@njit(cache=True)
def expected_value(left, right, values, covers):
    """Sum over the trees of the cover-weighted mean leaf value (leaves reached from the root)."""
    total = 0.0
    stack = np.empty(left.shape[1], dtype=np.int64)
    for t in range(left.shape[0]):
        root = covers[t, 0]
        top = 0
        stack[0] = 0
        top = 1
        while top > 0:
            top -= 1
            node = stack[top]
            if left[t, node] < 0:
                total += values[t, node] * covers[t, node] / root
            else:
                stack[top] = left[t, node]
                stack[top + 1] = right[t, node]
                top += 2
    return total
