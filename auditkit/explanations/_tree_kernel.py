"""Compiled (numba) kernel of the exact interventional TreeSHAP over groups of columns.

It computes what the bit-pattern algorithm of :mod:`auditkit.explanations._tree` describes,
in one depth-first walk per tree:

* every node carries the explained rows that can still pair with some background row to
  reach a leaf below it ("alive"), each with its bit pattern (bit ``s``: the row satisfies
  the path's conditions on the group in slot ``s``) and a bitset of the background rows it
  can still pair with (those satisfying every group the row fails); the background rows are
  never dropped, they only carry their patterns;
* at a leaf both sides are reduced to their distinct patterns (a hash table with stamps,
  so nothing is cleared between leaves), and every pair of patterns ``(a, b)`` with
  ``a | b == full`` adds the leaf value times ``(p-1)! q! / (p+q)!`` to the groups only the
  explained row satisfies (``p`` of them) and subtracts ``p! (q-1)! / (p+q)!`` from the
  groups only the background row satisfies (``q`` of them), weighted by the count of
  background rows with that pattern;
* the trees are split into a fixed number of chunks run in parallel on Python threads (the
  compiled code releases the GIL), each with its own accumulator, summed in chunk order, so
  the result does not depend on the number of threads.

A node splits numerically (``x <= threshold`` goes left) or, when the tree set marks it
categorical, on category membership: a value ``c`` goes left iff bit ``c`` of the node's
bitset is set; NaN, negative and out-of-range codes (and NaN at numeric nodes) follow
``children_default``. Codes are truncated to integers, as LightGBM and XGBoost do.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numba import njit

# Trees are processed in this many chunks (at most one per tree), whatever the thread count.
N_CHUNKS = 8
# Status codes of the kernel.
OK = 0
TOO_MANY_GROUPS = 1
MAX_SLOTS = 62


@njit(cache=True, nogil=True, inline="always")
def _category_left(value, bits, default_left):
    if value >= 0.0 and value < bits.shape[0] * 64.0:
        code = np.int64(value)
        return ((bits[code >> 6] >> np.uint64(code & 63)) & np.uint64(1)) == np.uint64(1)
    return default_left  # NaN, negative or unknown code


@njit(cache=True, nogil=True, inline="always")
def _goes_left(value, is_cat, bits, node, default_left, threshold):
    """Whether a value goes to the left child of ``node``: category membership (``bits[node]``,
    read only at a categorical node), the default for a missing value, else ``value <= threshold``."""
    if is_cat:
        return _category_left(value, bits[node], default_left)
    if np.isnan(value):
        return default_left
    return value <= threshold


@njit(cache=True, nogil=True, inline="always")
def _popcount(v):
    c = 0
    while v:
        v &= v - 1
        c += 1
    return c


@njit(cache=True, nogil=True, inline="always")
def _trailing_zeros(v):
    """Index of the lowest set bit of a non-zero uint64."""
    c = 0
    while (v & np.uint64(1)) == np.uint64(0):
        v >>= np.uint64(1)
        c += 1
    return c


@njit(cache=True, nogil=True)
def _lookup(keys, stamps, ids, stamp, key, next_id):
    """Id of ``key`` in an open-addressing table (a new id ``next_id`` if absent), and whether new."""
    mask = keys.shape[0] - 1
    h = (np.uint64(key) * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(40)
    pos = np.int64(h) & mask
    while True:
        if stamps[pos] != stamp:
            stamps[pos] = stamp
            keys[pos] = key
            ids[pos] = next_id
            return next_id, True
        if keys[pos] == key:
            return ids[pos], False
        pos = (pos + 1) & mask


@njit(cache=True, nogil=True)
def _explain_tree(
    left, right, default, feature, threshold, categorical, category_bits, has_categorical,
    leaf_values, XT, BT, groups, n_groups, fact, phi, work,
):
    (xi, xc, nx_of, cpat, ccm, nc_of, pb, bsat, slot_of_group, slot_group, hkeys, hstamps,
     hids, stamp_box, class_map, ub, ucount, ufail, upop, umask, acc, node_at, stage, added,
     k_at, buf_at) = work
    n = XT.shape[1]
    m = BT.shape[1]
    W = ccm.shape[2]
    inv_m = 1.0 / m
    D = node_at.shape[0]
    for g in range(n_groups):
        slot_of_group[g] = -1
    for s in range(MAX_SLOTS + 1):
        slot_group[s] = -1
    # Buffers come in pairs per depth: 2 d (left child) and 2 d + 1 (right child), so the
    # right child's rows wait while the left subtree is walked. Buffer 0 is the root.
    # Root: every row alive in one class (empty pattern, every background row compatible).
    for i in range(n):
        xi[0, i] = i
        xc[0, i] = 0
    nx_of[0] = n
    cpat[0, 0] = 0
    for w in range(W):
        ccm[0, 0, w] = np.uint64(0)
    for j in range(m):
        ccm[0, 0, j >> 6] |= np.uint64(1) << np.uint64(j & 63)
        pb[0, j] = 0
    nc_of[0] = 1
    node_at[0] = 0
    stage[0] = 0
    added[0] = -1
    k_at[0] = 0
    buf_at[0] = 0
    d = 0
    while d >= 0:
        nd = node_at[d]
        cur = buf_at[d]
        if left[nd] < 0:
            if k_at[d] > 0 and leaf_values[nd] != 0.0:  # else only a one-leaf tree
                _leaf(cur, k_at[d], leaf_values[nd] * inv_m, nx_of[cur], nc_of[cur], m, xi, xc,
                      cpat, pb, slot_group, n_groups, phi, fact, hkeys, hstamps, hids, stamp_box,
                      ub, ucount, ufail, upop, umask, acc)
            d -= 1
            continue
        if stage[d] == 0:
            if d + 1 >= D:
                return TOO_MANY_GROUPS  # cannot happen: buffers are sized to the tree depth
            f = feature[nd]
            g = groups[f]
            s = slot_of_group[g]
            known = s >= 0
            if not known:
                s = k_at[d]
                if s >= MAX_SLOTS:
                    return TOO_MANY_GROUPS
                slot_of_group[g] = s
                slot_group[s] = g
                added[d] = g
            k_child = k_at[d] + (0 if known else 1)
            _split(nd, f, s, known, k_child, cur, 2 * (d + 1), left, right, default, threshold,
                   categorical, category_bits, has_categorical, leaf_values, XT, BT, xi, xc, nx_of,
                   cpat, ccm, nc_of, pb, bsat, hkeys, hstamps, hids, stamp_box, class_map)
        side = stage[d]
        stage[d] += 1
        if side == 2:
            if added[d] >= 0:
                slot_of_group[added[d]] = -1
                slot_group[k_at[d]] = -1
                added[d] = -1
            d -= 1
            continue
        child_buf = 2 * (d + 1) + side
        if nx_of[child_buf] == 0:
            continue
        node_at[d + 1] = left[nd] if side == 0 else right[nd]
        buf_at[d + 1] = child_buf
        stage[d + 1] = 0
        added[d + 1] = -1
        k_at[d + 1] = k_at[d] + (0 if added[d] < 0 else 1)
        d += 1
    return OK


@njit(cache=True, nogil=True)
def _split(nd, f, s, known, k_child, cur, base, left, right, default, threshold, categorical,
           category_bits, has_categorical, leaf_values, XT, BT, xi, xc, nx_of, cpat, ccm, nc_of,
           pb, bsat, hkeys, hstamps, hids, stamp_box, class_map):
    """Rows, classes and background patterns of both children of node ``nd``, in one pass."""
    m = BT.shape[1]
    W = ccm.shape[2]
    bit = np.int64(1) << np.int64(s)
    default_left = default[nd] == left[nd]
    is_cat = has_categorical and categorical[nd]
    thr = threshold[nd]
    # A child that is a leaf adds nothing when its value is 0 or no group is on its path.
    lc = left[nd]
    rc = right[nd]
    want0 = not (left[lc] < 0 and (leaf_values[lc] == 0.0 or k_child == 0))
    want1 = not (left[rc] < 0 and (leaf_values[rc] == 0.0 or k_child == 0))
    nx_of[base] = 0
    nx_of[base + 1] = 0
    nc_of[base] = 0
    nc_of[base + 1] = 0
    if not (want0 or want1):
        return
    # Background rows: patterns on each side, and the bitset of those satisfying slot s
    # on each side (bsat[side, w]).
    for w in range(W):
        bsat[0, w] = np.uint64(0)
        bsat[1, w] = np.uint64(0)
    brow = BT[f]
    for j in range(m):
        value = brow[j]
        goes = _goes_left(value, is_cat, category_bits, nd, default_left, thr)
        p = pb[cur, j]
        ok_side = 0 if goes else 1
        p_ok = p if known else p | bit
        p_fail = p & ~bit
        if ok_side == 0:
            pb[base, j] = p_ok
            pb[base + 1, j] = p_fail
        else:
            pb[base, j] = p_fail
            pb[base + 1, j] = p_ok
        if p_ok & bit:
            bsat[ok_side, j >> 6] |= np.uint64(1) << np.uint64(j & 63)
    # Explained rows move as classes of equal patterns: a class's rows that satisfy slot s
    # on a side keep its pattern (and compatible background rows) there; those that fail
    # it lose the bit and keep only background rows satisfying slot s there, or die.
    # Child classes are made on first use and deduplicated by (pattern, side).
    for c in range(nc_of[cur]):
        for e in range(4):
            class_map[c, e] = -1
    stamp_box[0] += 1
    stamp = stamp_box[0]
    xrow = XT[f]
    count0 = 0
    count1 = 0
    ncc0 = 0
    ncc1 = 0
    for a in range(nx_of[cur]):
        i = xi[cur, a]
        value = xrow[i]
        goes = _goes_left(value, is_cat, category_bits, nd, default_left, thr)
        c = xc[cur, a]
        for side in range(2):
            if not (want0 if side == 0 else want1):
                continue
            ok = goes == (side == 0)
            entry = 2 * side + (1 if ok else 0)
            cc = class_map[c, entry]
            if cc == -1:
                if ok:
                    pattern = cpat[cur, c] if known else cpat[cur, c] | bit
                    alive = True
                else:
                    pattern = cpat[cur, c] & ~bit
                    alive = False
                    for w in range(W):
                        if ccm[cur, c, w] & bsat[side, w]:
                            alive = True
                            break
                if not alive:
                    cc = -2
                else:
                    nxt = ncc0 if side == 0 else ncc1
                    cc, new = _lookup(hkeys, hstamps, hids, stamp, (pattern << 1) | side, nxt)
                    if new:
                        out = base + side
                        cpat[out, cc] = pattern
                        if ok:
                            for w in range(W):
                                ccm[out, cc, w] = ccm[cur, c, w]
                        else:
                            for w in range(W):
                                ccm[out, cc, w] = ccm[cur, c, w] & bsat[side, w]
                        if side == 0:
                            ncc0 += 1
                        else:
                            ncc1 += 1
                class_map[c, entry] = cc
            if cc < 0:
                continue
            if side == 0:
                xi[base, count0] = i
                xc[base, count0] = cc
                count0 += 1
            else:
                xi[base + 1, count1] = i
                xc[base + 1, count1] = cc
                count1 += 1
    nx_of[base] = count0
    nx_of[base + 1] = count1
    nc_of[base] = ncc0
    nc_of[base + 1] = ncc1


@njit(cache=True, nogil=True)
def _leaf(cur, k, scale, nx, nc, m, xi, xc, cpat, pb, slot_group, n_groups, phi, fact,
          hkeys, hstamps, hids, stamp_box, ub, ucount, ufail, upop, umask, acc):
    full = (np.int64(1) << np.int64(k)) - 1
    # Distinct background patterns, their counts, failures and per-slot bitsets.
    stamp_box[0] += 1
    stamp = stamp_box[0]
    nu = 0
    for j in range(m):
        u, new = _lookup(hkeys, hstamps, hids, stamp, pb[cur, j], nu)
        if new:
            ub[nu] = pb[cur, j]
            ucount[nu] = 0
            nu += 1
        ucount[u] += 1
    UW = (nu + 63) >> 6
    for s in range(k):
        for w in range(UW):
            umask[s, w] = np.uint64(0)
    for u in range(nu):
        fails = ~ub[u] & full
        ufail[u] = fails
        upop[u] = _popcount(fails)
        for s in range(k):
            if ub[u] & (np.int64(1) << np.int64(s)):
                umask[s, u >> 6] |= np.uint64(1) << np.uint64(u & 63)
    compat = np.empty(UW, dtype=np.uint64)
    rest = nu - ((UW - 1) << 6)
    # Per class of explained rows: its values per group (acc[c, g]).
    for c in range(nc):
        for g in range(n_groups):
            acc[c, g] = 0.0
        fails = ~cpat[cur, c] & full
        q = _popcount(fails)
        for w in range(UW):
            compat[w] = ~np.uint64(0)
        if rest < 64:
            compat[UW - 1] = (np.uint64(1) << np.uint64(rest)) - np.uint64(1)
        for s in range(k):
            if fails & (np.int64(1) << np.int64(s)):
                for w in range(UW):
                    compat[w] &= umask[s, w]
        minus = 0.0
        for w in range(UW):
            word = compat[w]
            while word:
                u = (w << 6) + _trailing_zeros(word)
                word &= word - np.uint64(1)
                p = upop[u]
                if p == 0 and q == 0:
                    continue
                weight = ucount[u] * scale / fact[p + q]
                if p > 0:
                    gain = weight * fact[p - 1] * fact[q]
                    bf = ufail[u]
                    for s in range(k):
                        if bf & (np.int64(1) << np.int64(s)):
                            acc[c, slot_group[s]] += gain
                if q > 0:
                    minus += weight * fact[p] * fact[q - 1]
        if q > 0:
            for s in range(k):
                if fails & (np.int64(1) << np.int64(s)):
                    acc[c, slot_group[s]] -= minus
    for a in range(nx):
        c = xc[cur, a]
        i = xi[cur, a]
        for g in range(n_groups):
            phi[i, g] += acc[c, g]


@njit(cache=True, nogil=True)
def _explain_chunk(
    first, last, children_left, children_right, children_default, features, thresholds,
    categorical, category_bits, has_categorical, leaf_values, XT, BT, groups, n_groups, fact,
    max_depth, phi,
):
    n = XT.shape[1]
    m = BT.shape[1]
    W = (m + 63) >> 6
    D = max_depth + 2
    size = 1
    while size < 4 * max(n, m) + 4:
        size *= 2
    work = (
        np.empty((2 * D, n), dtype=np.int64),  # xi: alive explained rows per buffer
        np.empty((2 * D, n), dtype=np.int64),  # xc: their classes
        np.zeros(2 * D, dtype=np.int64),  # nx_of: number of rows
        np.empty((2 * D, n), dtype=np.int64),  # cpat: class patterns
        np.empty((2 * D, n, W), dtype=np.uint64),  # ccm: class bitsets of compatible background rows
        np.zeros(2 * D, dtype=np.int64),  # nc_of: number of classes
        np.empty((2 * D, m), dtype=np.int64),  # pb: background patterns
        np.empty((2, W), dtype=np.uint64),  # bsat
        np.full(n_groups, -1, dtype=np.int64),  # slot_of_group
        np.full(MAX_SLOTS + 1, -1, dtype=np.int64),  # slot_group
        np.zeros(size, dtype=np.int64),  # hash keys
        np.zeros(size, dtype=np.int64),  # hash stamps
        np.zeros(size, dtype=np.int64),  # hash ids
        np.zeros(1, dtype=np.int64),  # stamp counter
        np.empty((n, 4), dtype=np.int64),  # class_map: child class per (side, satisfied)
        np.empty(m, dtype=np.int64),  # ub
        np.empty(m, dtype=np.int64),  # ucount
        np.empty(m, dtype=np.int64),  # ufail
        np.empty(m, dtype=np.int64),  # upop
        np.empty((MAX_SLOTS, W), dtype=np.uint64),  # umask
        np.empty((n, n_groups), dtype=np.float64),  # acc
        np.empty(D, dtype=np.int64),  # node_at
        np.zeros(D, dtype=np.int64),  # stage
        np.full(D, -1, dtype=np.int64),  # added
        np.zeros(D, dtype=np.int64),  # k_at
        np.zeros(D, dtype=np.int64),  # buf_at
    )
    for t in range(first, last):
        status = _explain_tree(
            children_left[t], children_right[t], children_default[t], features[t], thresholds[t],
            categorical[t], category_bits[t], has_categorical, leaf_values[t], XT, BT, groups,
            n_groups, fact, phi, work,
        )
        if status != OK:
            return status
    return OK


@njit(cache=True, nogil=True)
def tree_depth(children_left, children_right, n_trees):
    """Largest number of edges from a root to a leaf."""
    deepest = 0
    stack = np.empty(children_left.shape[1] + 1, dtype=np.int64)
    depth = np.empty(children_left.shape[1] + 1, dtype=np.int64)
    for t in range(n_trees):
        top = 0
        stack[0] = 0
        depth[0] = 0
        while top >= 0:
            node = stack[top]
            dd = depth[top]
            top -= 1
            deepest = max(deepest, dd)
            if children_left[t, node] >= 0:
                top += 1
                stack[top] = children_left[t, node]
                depth[top] = dd + 1
                top += 1
                stack[top] = children_right[t, node]
                depth[top] = dd + 1
    return deepest


def _threads() -> int:
    """Threads for the kernel: the CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


# Trees per call of the kernel: each call splits its trees into chunks run in parallel, and
# the progress bar moves once per call. Fixed, so that results do not depend on the caller.
TREES_PER_BATCH = 16


def tree_batches(n_trees: int) -> list[tuple[int, int]]:
    """``(first, last)`` tree ranges, in order, covering ``range(n_trees)``."""
    return [(i, min(i + TREES_PER_BATCH, n_trees)) for i in range(0, n_trees, TREES_PER_BATCH)]


def _arrays(trees, first, last):
    left = np.ascontiguousarray(trees.children_left[first:last], dtype=np.int64)
    right = np.ascontiguousarray(trees.children_right[first:last], dtype=np.int64)
    default = np.ascontiguousarray(trees.children_default[first:last], dtype=np.int64)
    features = np.ascontiguousarray(trees.features[first:last], dtype=np.int64)
    thresholds = np.ascontiguousarray(trees.thresholds[first:last], dtype=np.float64)
    has_categorical = bool(getattr(trees, "has_categorical", False))
    if has_categorical:
        categorical = np.ascontiguousarray(trees.categorical[first:last], dtype=np.bool_)
        category_bits = np.asarray(trees.category_bits[first:last], dtype=np.uint64)
        if category_bits.ndim == 2:
            category_bits = category_bits[:, :, None]
        category_bits = np.ascontiguousarray(category_bits)
    else:
        categorical = np.zeros((last - first, 1), dtype=np.bool_)
        category_bits = np.zeros((last - first, 1, 1), dtype=np.uint64)
    return left, right, default, features, thresholds, categorical, category_bits, has_categorical


def grouped_shap_compiled(trees, X, B, groups, n_groups, output, fact, *, first=0, last=None):
    """Run the compiled kernel on trees ``first .. last - 1``; returns ``(phi, status)``.

    ``status`` is :data:`OK` or :data:`TOO_MANY_GROUPS` (a path uses more than
    :data:`MAX_SLOTS` distinct groups).
    """
    last = int(trees.n_trees) if last is None else int(last)
    n = len(X)
    phi = np.zeros((n, n_groups))
    if n == 0 or len(B) == 0 or last <= first:
        return phi, OK
    left, right, default, features, thresholds, categorical, category_bits, has_categorical = _arrays(
        trees, first, last
    )
    leaf_values = np.ascontiguousarray(trees.values[first:last, :, output], dtype=np.float64)
    XT = np.ascontiguousarray(np.asarray(X, dtype=np.float64).T)
    BT = np.ascontiguousarray(np.asarray(B, dtype=np.float64).T)
    groups = np.ascontiguousarray(groups, dtype=np.int64)
    count = last - first
    max_depth = int(tree_depth(left, right, count))
    chunks = min(N_CHUNKS, count)
    bounds = np.linspace(0, count, chunks + 1).round().astype(np.int64)
    phis = np.zeros((chunks, n, n_groups))

    def run(c: int) -> int:
        return _explain_chunk(
            bounds[c], bounds[c + 1], left, right, default, features, thresholds, categorical,
            category_bits, has_categorical, leaf_values, XT, BT, groups, int(n_groups), fact,
            max_depth, phis[c],
        )

    # The kernel releases the GIL: chunks run on Python threads, summed in chunk order.
    workers = min(chunks, _threads())
    if workers > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            status = np.array(list(pool.map(run, range(chunks))))
    else:
        status = np.array([run(c) for c in range(chunks)])
    for c in range(chunks):
        phi += phis[c]
    return phi, int(status.max())


@njit(cache=True, nogil=True)
def _predict_all(left, right, default, features, thresholds, categorical, category_bits,
                 has_categorical, values, X, total):
    n = X.shape[0]
    n_trees = left.shape[0]
    n_out = values.shape[2]
    for i in range(n):
        for t in range(n_trees):
            node = 0
            while left[t, node] >= 0:
                value = X[i, features[t, node]]
                default_left = default[t, node] == left[t, node]
                goes = _goes_left(value, has_categorical and categorical[t, node], category_bits[t], node,
                                  default_left, thresholds[t, node])
                node = left[t, node] if goes else right[t, node]
            for o in range(n_out):
                total[i, o] += values[t, node, o]


def predict_compiled(trees, X):
    """Sum of leaf values per output (see :func:`auditkit.explanations._tree.predict_raw`)."""
    n_trees = int(trees.n_trees)
    X = np.ascontiguousarray(np.asarray(X, dtype=np.float64))
    values = np.ascontiguousarray(trees.values[:n_trees], dtype=np.float64)
    total = np.zeros((len(X), values.shape[2]))
    if len(X) == 0 or n_trees == 0:
        return total
    left, right, default, features, thresholds, categorical, category_bits, has_categorical = _arrays(
        trees, 0, n_trees
    )
    _predict_all(left, right, default, features, thresholds, categorical, category_bits,
                 has_categorical, values, X, total)
    return total
