"""Compiled (numba) kernel of the exact interventional TreeSHAP over groups of columns.

It computes what the bit-pattern algorithm of :mod:`auditkit.explanations._tree` describes,
in one depth-first walk per tree, with the rows held as bitsets ("bit-sliced"):

* the groups met on the current path get slots ``0 .. k-1``; for each slot ``s`` the walk
  keeps two bitsets, over the explained rows and over the background rows, of the rows
  satisfying every condition of the path on that group. Entering a child changes one
  bitset of each side (the node's slot ANDed with the rows going that way), restored on the
  way back, so an internal node costs one comparison per row and a few word operations;
  the background rows' patterns (bit ``s``: satisfies slot ``s``) are kept per depth;
* at a leaf the background rows are reduced to their distinct patterns (a hash table with
  stamps, so nothing is cleared between leaves). An explained row can pair with a
  background pattern iff it satisfies every slot the pattern fails; the rows that pair with
  at least one ("alive") are found with word operations, grouped by their own pattern, and
  every pair of patterns ``(a, b)`` with ``a | b == full`` adds the leaf value times
  ``(p-1)! q! / (p+q)!`` to the groups only the explained row satisfies (``p`` of them) and
  subtracts ``p! (q-1)! / (p+q)!`` from the groups only the background row satisfies
  (``q`` of them), weighted by the count of background rows with that pattern; each alive
  row then receives its class's values;
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
    """Number of set bits of a non-negative int64 (branch-free SWAR count)."""
    v = v - ((v >> 1) & 0x5555555555555555)
    v = (v & 0x3333333333333333) + ((v >> 2) & 0x3333333333333333)
    v = (v + (v >> 4)) & 0x0F0F0F0F0F0F0F0F
    return (v * 0x0101010101010101) >> 56


# de Bruijn sequence and table: the index of a 64-bit word's lowest set bit in one multiply.
_DE_BRUIJN = np.uint64(0x03F79D71B4CB0A89)
_DE_BRUIJN_INDEX = np.array(
    [0, 1, 48, 2, 57, 49, 28, 3, 61, 58, 50, 42, 38, 29, 17, 4, 62, 55, 59, 36, 53, 51, 43, 22,
     45, 39, 33, 30, 24, 18, 12, 5, 63, 47, 56, 27, 60, 41, 37, 16, 54, 35, 52, 21, 44, 32, 23,
     11, 46, 26, 40, 15, 34, 20, 31, 10, 25, 14, 19, 9, 13, 8, 7, 6],
    dtype=np.int64,
)


@njit(cache=True, nogil=True, inline="always")
def _trailing_zeros(v):
    """Index of the lowest set bit of a non-zero uint64."""
    return _DE_BRUIJN_INDEX[((v & (~v + np.uint64(1))) * _DE_BRUIJN) >> np.uint64(58)]


@njit(cache=True, nogil=True)
def _slot(keys, stamps, stamp, key, mask):
    """Position of ``key`` in an open-addressing table of ``mask + 1`` slots (a power of two
    no larger than the arrays): where it is, or the free slot where it belongs. A slot is
    in use iff its stamp is the current ``stamp``: each use of the table takes a fresh
    stamp, so nothing is cleared, and a use sized to its needs stays in cache. (A function
    returning one integer: numba compiles it to a few instructions, unlike one returning a
    tuple.)"""
    pos = ((key * 0x9E3779B97F4A7C15) >> 24) & mask
    while stamps[pos] == stamp and keys[pos] != key:
        pos = (pos + 1) & mask
    return pos


@njit(cache=True, nogil=True, inline="always")
def _table_mask(entries, capacity):
    """Mask of the smallest power-of-two table holding ``entries`` at most half full."""
    size = 16
    while size < 2 * entries and size < capacity:
        size *= 2
    return size - 1


@njit(cache=True, nogil=True)
def _side_bits(values, count, nd, is_cat, category_bits, default_left, thr, out):
    """``out[w]``, bit ``b``: whether row ``64 w + b`` (of ``count``) goes left at ``nd``."""
    for w in range(out.shape[0]):
        first = w << 6
        word = np.uint64(0)
        for i in range(first, min(count, first + 64)):
            if _goes_left(values[i], is_cat, category_bits, nd, default_left, thr):
                word |= np.uint64(1) << np.uint64(i - first)
        out[w] = word


@njit(cache=True, nogil=True, inline="always")
def _bit(words, s, w, b):
    """Bit ``b`` of word ``w`` of bitset ``s``, as an int64 (0 or 1)."""
    return np.int64((words[s, w] >> np.uint64(b)) & np.uint64(1))


@njit(cache=True, nogil=True)
def _explain_tree(
    left, right, default, feature, threshold, categorical, category_bits, has_categorical,
    leaf_values, XT, BT, groups, n_groups, phi, work,
):
    (satx, satb, validx, validb, glx, glb, savex, saveb, pbd, slot_of_group, slot_group,
     slot_at, known_at, node_at, stage, added, k_at, leaf_work) = work
    n = XT.shape[1]
    m = BT.shape[1]
    NW = satx.shape[1]
    W = satb.shape[1]
    inv_m = 1.0 / m
    D = node_at.shape[0]
    for g in range(n_groups):
        slot_of_group[g] = -1
    for s in range(MAX_SLOTS + 1):
        slot_group[s] = -1
    node_at[0] = 0
    stage[0] = 0
    added[0] = -1
    k_at[0] = 0
    for j in range(m):
        pbd[0, j] = 0
    d = 0
    while d >= 0:
        nd = node_at[d]
        if left[nd] < 0:
            if k_at[d] > 0 and leaf_values[nd] != 0.0:  # else only a one-leaf tree
                _leaf(k_at[d], leaf_values[nd] * inv_m, n, m, satx, pbd[d], validx, slot_group,
                      phi, leaf_work)
            d -= 1
            continue
        st = stage[d]
        if st == 0:
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
            slot_at[d] = s
            known_at[d] = known
            default_left = default[nd] == left[nd]
            is_cat = has_categorical and categorical[nd]
            _side_bits(XT[f], n, nd, is_cat, category_bits, default_left, threshold[nd], glx[d])
            _side_bits(BT[f], m, nd, is_cat, category_bits, default_left, threshold[nd], glb[d])
            if known:
                for w in range(NW):
                    savex[d, w] = satx[s, w]
                for w in range(W):
                    saveb[d, w] = satb[s, w]
        s = slot_at[d]
        known = known_at[d]
        if st == 2:  # both children done: the slot goes back to what it was above
            if known:
                for w in range(NW):
                    satx[s, w] = savex[d, w]
                for w in range(W):
                    satb[s, w] = saveb[d, w]
            else:
                slot_of_group[added[d]] = -1
                slot_group[s] = -1
                added[d] = -1
            d -= 1
            continue
        stage[d] = st + 1
        child = left[nd] if st == 0 else right[nd]
        k_child = k_at[d] + (0 if known else 1)
        # A leaf adds nothing when its value is 0 or no group is on its path.
        if left[child] < 0 and (leaf_values[child] == 0.0 or k_child == 0):
            continue
        # Slot s on the child's path: the rows going its way (and satisfying s above).
        flip = np.uint64(0) if st == 0 else ~np.uint64(0)
        for w in range(NW):
            side = (glx[d, w] ^ flip) & validx[w]
            satx[s, w] = (savex[d, w] & side) if known else side
        for w in range(W):
            side = (glb[d, w] ^ flip) & validb[w]
            satb[s, w] = (saveb[d, w] & side) if known else side
        clear = ~(np.int64(1) << np.int64(s))
        for j in range(m):
            pbd[d + 1, j] = (pbd[d, j] & clear) | (_bit(satb, s, j >> 6, j & 63) << s)
        node_at[d + 1] = child
        stage[d + 1] = 0
        added[d + 1] = -1
        k_at[d + 1] = k_child
        d += 1
    return OK


@njit(cache=True, nogil=True)
def _leaf(k, scale, n, m, satx, pb, validx, slot_group, phi, leaf_work):
    """Add one leaf's values (``scale`` = leaf value / background rows) to ``phi``; ``pb``:
    the background rows' patterns (bit s: the row satisfies slot s on the path)."""
    (hkeys, hstamps, hids, stamp_box, ub, ucount, ufail, upop, umask, acc, compat, adds, alive,
     meet, words, rows, row_class, cpat, w_gain, w_loss) = leaf_work
    full = (np.int64(1) << np.int64(k)) - 1
    NW = satx.shape[1]
    # Distinct background patterns (bit s: the row satisfies slot s on the path), their
    # counts, failures and per-slot bitsets over patterns.
    stamp_box[0] += 1
    stamp = stamp_box[0]
    mask = _table_mask(m, hkeys.shape[0])
    nu = 0
    for j in range(m):
        key = pb[j]
        pos = _slot(hkeys, hstamps, stamp, key, mask)
        if hstamps[pos] == stamp:
            ucount[hids[pos]] += 1
        else:
            hstamps[pos] = stamp
            hkeys[pos] = key
            hids[pos] = nu
            ub[nu] = key
            ucount[nu] = 1
            nu += 1
    UW = (nu + 63) >> 6
    everyone = False
    for u in range(nu):
        fails = ~ub[u] & full
        ufail[u] = fails
        upop[u] = _popcount(fails)
        everyone = everyone or fails == 0
    for s in range(k):
        for w in range(UW):
            first = w << 6
            word = 0
            for u in range(first, min(nu, first + 64)):
                word |= ((ub[u] >> s) & 1) << (u - first)
            umask[s, w] = np.uint64(word)
    # Explained rows that pair with some background pattern: those satisfying every slot
    # the pattern fails (all rows when a background pattern fails none).
    for w in range(NW):
        alive[w] = validx[w] if everyone else np.uint64(0)
    if not everyone:
        for u in range(nu):
            for w in range(NW):
                meet[w] = validx[w]
            fails = ufail[u]
            while fails:
                s = _trailing_zeros(np.uint64(fails))
                fails &= fails - 1
                for w in range(NW):
                    meet[w] &= satx[s, w]
            for w in range(NW):
                alive[w] |= meet[w]
    # Classes of alive rows by pattern.
    stamp_box[0] += 1
    stamp = stamp_box[0]
    n_alive = 0
    for w in range(NW):
        n_alive += _popcount(np.int64(alive[w] >> np.uint64(1))) + np.int64(alive[w] & np.uint64(1))
    mask = _table_mask(n_alive, hkeys.shape[0])
    nc = 0
    nr = 0
    for w in range(NW):
        word = alive[w]
        if word == np.uint64(0):
            continue
        for s in range(k):
            words[s] = satx[s, w]
        while word:
            b = _trailing_zeros(word)
            word &= word - np.uint64(1)
            key = np.int64(0)
            for s in range(k):
                key |= np.int64((words[s] >> np.uint64(b)) & np.uint64(1)) << s
            pos = _slot(hkeys, hstamps, stamp, key, mask)
            if hstamps[pos] == stamp:
                c = hids[pos]
            else:
                c = nc
                hstamps[pos] = stamp
                hkeys[pos] = key
                hids[pos] = c
                cpat[c] = key
                nc += 1
            rows[nr] = (w << 6) + b
            row_class[nr] = c
            nr += 1
    rest = nu - ((UW - 1) << 6)
    # Per class of explained rows: its values per slot (acc[c, s]); adds[c]: whether any.
    for c in range(nc):
        for s in range(k):
            acc[c, s] = 0.0
        adds[c] = False
        fails = ~cpat[c] & full
        q = _popcount(fails)
        for w in range(UW):
            compat[w] = ~np.uint64(0)
        if rest < 64:
            compat[UW - 1] = (np.uint64(1) << np.uint64(rest)) - np.uint64(1)
        bits = fails
        while bits:
            s = _trailing_zeros(np.uint64(bits))
            bits &= bits - 1
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
                adds[c] = True
                weight = ucount[u] * scale
                if p > 0:
                    gain = weight * w_gain[p, q]
                    bits = ufail[u]
                    while bits:
                        s = _trailing_zeros(np.uint64(bits))
                        bits &= bits - 1
                        acc[c, s] += gain
                if q > 0:
                    minus += weight * w_loss[p, q]
        bits = fails
        while bits:
            s = _trailing_zeros(np.uint64(bits))
            bits &= bits - 1
            acc[c, s] -= minus
    for r in range(nr):
        c = row_class[r]
        if adds[c]:
            i = rows[r]
            for s in range(k):
                phi[i, slot_group[s]] += acc[c, s]


@njit(cache=True, nogil=True)
def _explain_chunk(
    first, last, children_left, children_right, children_default, features, thresholds,
    categorical, category_bits, has_categorical, leaf_values, XT, BT, groups, n_groups, fact,
    max_depth, phi,
):
    n = XT.shape[1]
    m = BT.shape[1]
    NW = (n + 63) >> 6
    W = (m + 63) >> 6
    D = max_depth + 2
    size = 1
    while size < 4 * max(n, m) + 4:
        size *= 2
    validx = np.zeros(NW, dtype=np.uint64)
    for i in range(n):
        validx[i >> 6] |= np.uint64(1) << np.uint64(i & 63)
    # Shapley weights of a pair at a leaf where p groups only the explained row satisfies
    # and q only the background row: (p-1)! q! / (p+q)! to each of the p, and
    # p! (q-1)! / (p+q)! from each of the q.
    w_gain = np.zeros((MAX_SLOTS + 1, MAX_SLOTS + 1))
    w_loss = np.zeros((MAX_SLOTS + 1, MAX_SLOTS + 1))
    for p in range(MAX_SLOTS + 1):
        for q in range(MAX_SLOTS + 1 - p):
            if p > 0:
                w_gain[p, q] = fact[p - 1] * fact[q] / fact[p + q]
            if q > 0:
                w_loss[p, q] = fact[p] * fact[q - 1] / fact[p + q]
    validb = np.zeros(W, dtype=np.uint64)
    for j in range(m):
        validb[j >> 6] |= np.uint64(1) << np.uint64(j & 63)
    leaf_work = (
        np.zeros(size, dtype=np.int64),  # hash keys
        np.zeros(size, dtype=np.int64),  # hash stamps
        np.zeros(size, dtype=np.int64),  # hash ids
        np.zeros(1, dtype=np.int64),  # stamp counter
        np.empty(m, dtype=np.int64),  # ub: distinct background patterns
        np.empty(m, dtype=np.int64),  # ucount: their counts
        np.empty(m, dtype=np.int64),  # ufail: the slots they fail
        np.empty(m, dtype=np.int64),  # upop: how many
        np.empty((MAX_SLOTS, W), dtype=np.uint64),  # umask: patterns satisfying each slot
        np.empty((n, min(n_groups, MAX_SLOTS)), dtype=np.float64),  # acc: per class and slot
        np.empty(W, dtype=np.uint64),  # compat: background patterns compatible with a class
        np.empty(n, dtype=np.bool_),  # adds: whether a class has any value at the leaf
        np.empty(NW, dtype=np.uint64),  # alive: explained rows pairing with some pattern
        np.empty(NW, dtype=np.uint64),  # meet: those pairing with one pattern
        np.empty(MAX_SLOTS, dtype=np.uint64),  # words: one word of each slot's bitset
        np.empty(n, dtype=np.int64),  # rows: alive rows
        np.empty(n, dtype=np.int64),  # row_class: their classes
        np.empty(n, dtype=np.int64),  # cpat: class patterns
        w_gain,
        w_loss,
    )
    work = (
        np.zeros((MAX_SLOTS + 1, NW), dtype=np.uint64),  # satx: rows satisfying each slot
        np.zeros((MAX_SLOTS + 1, W), dtype=np.uint64),  # satb: background rows likewise
        validx,
        validb,
        np.empty((D, NW), dtype=np.uint64),  # glx: rows going left at the node of each depth
        np.empty((D, W), dtype=np.uint64),  # glb: background rows likewise
        np.empty((D, NW), dtype=np.uint64),  # savex: the slot's bitset above that node
        np.empty((D, W), dtype=np.uint64),  # saveb
        np.empty((D, m), dtype=np.int64),  # pbd: background patterns at each depth
        np.full(n_groups, -1, dtype=np.int64),  # slot_of_group
        np.full(MAX_SLOTS + 1, -1, dtype=np.int64),  # slot_group
        np.zeros(D, dtype=np.int64),  # slot_at: the slot of the node at each depth
        np.zeros(D, dtype=np.bool_),  # known_at: whether it was on the path above
        np.empty(D, dtype=np.int64),  # node_at
        np.zeros(D, dtype=np.int64),  # stage
        np.full(D, -1, dtype=np.int64),  # added
        np.zeros(D, dtype=np.int64),  # k_at
        leaf_work,
    )
    for t in range(first, last):
        status = _explain_tree(
            children_left[t], children_right[t], children_default[t], features[t], thresholds[t],
            categorical[t], category_bits[t], has_categorical, leaf_values[t], XT, BT, groups,
            n_groups, phi, work,
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


def _shift_to_zero(leaf_values: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Subtract from each tree's leaves their most common value, when it is not 0.

    Shapley values do not change when a constant is added to a tree's output, and the kernel
    skips leaves worth 0: a random forest's pure leaves are worth 0 or 1 for either class, so
    explaining class 0 costs what explaining class 1 costs. Modified in place and returned.
    """
    for t in range(len(leaf_values)):
        reached = np.zeros(left.shape[1], dtype=bool)  # rows are padded with -1: real nodes only
        reached[0] = True
        reached[left[t][left[t] >= 0]] = True
        reached[right[t][right[t] >= 0]] = True
        values = leaf_values[t][reached & (left[t] < 0)]
        distinct, counts = np.unique(values, return_counts=True)
        most = int(np.argmax(counts))
        if distinct[most] != 0.0 and counts[most] > np.count_nonzero(values == 0.0):
            leaf_values[t] -= distinct[most]
    return leaf_values


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
    leaf_values = _shift_to_zero(np.array(trees.values[first:last, :, output], dtype=np.float64), left, right)
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
