"""Which rows are explained and which rows form the background.

Rows explained are a uniform random sample topped up so that every sensitive group and
intersection has at least ``min_group_rows`` rows (or all of its rows when it is smaller).
The uniform part is remembered: global views use only those rows, so oversampling a small
group does not tilt global importance, while per-group views use every row of the group.

Groups are held as integer codes per row (:class:`GroupCodes`); their string labels are
built for the explained rows only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import ExplanationError

MISSING_LABEL = "(missing)"
JOIN = " & "

# Up to this many codes, the first row of each is found by comparison passes, not hashing.
FEW_CODES = 64


@dataclass(frozen=True)
class GroupCodes:
    """The sensitive group of every row, one grouping per sensitive feature or intersection.

    A row's label is ``str(value)`` of its sensitive value (``"(missing)"`` for a missing
    one); an intersection's joins its parts' labels with ``" & "``. Within a grouping, codes
    number the distinct labels in order of first appearance, as ``pd.factorize`` of the
    labels would.

    Attributes
    ----------
    index : Index
        The index of the data being explained.
    codes : dict of str to ndarray
        Grouping name -> label code of every row.
    labels : dict of str to ndarray
        Grouping name -> object array of the label of each code.
    """

    index: pd.Index
    codes: dict
    labels: dict

    def __len__(self) -> int:
        return len(self.index)

    def labels_at(self, positions: np.ndarray) -> pd.DataFrame:
        """String labels of the rows at ``positions``, one object column per grouping."""
        return pd.DataFrame({name: self.labels[name][codes[positions]] for name, codes in self.codes.items()},
                            index=self.index[positions], dtype=object)


def group_codes(
    sensitive_features: pd.DataFrame | pd.Series | None,
    index: pd.Index,
    intersections: Sequence[Sequence[str]] = (),
) -> GroupCodes:
    """Code the groups of sensitive features and their intersections.

    Parameters
    ----------
    sensitive_features : DataFrame, Series or None
        Sensitive columns aligned with ``index``.
    index : Index
        The index of the data being explained.
    intersections : sequence of sequences of str
        Column-name tuples; each adds a grouping named ``"a & b"`` with labels ``"x & y"``.

    Returns
    -------
    GroupCodes
    """
    if sensitive_features is None:
        if intersections:
            raise ExplanationError(
                "intersections were given without sensitive_features; pass the sensitive columns too."
            )
        return GroupCodes(index, {}, {})
    frame = sensitive_features
    if isinstance(frame, pd.Series):
        frame = frame.to_frame(name=frame.name if frame.name is not None else "sensitive")
    if not isinstance(frame, pd.DataFrame):
        raise ExplanationError(
            f"sensitive_features is a {type(frame).__name__}; pass a pandas DataFrame aligned with X."
        )
    if len(frame) != len(index) or not frame.index.equals(index):
        if frame.index.has_duplicates or not index.isin(frame.index).all():
            raise ExplanationError(
                "sensitive_features is not aligned with X (different index); pass a DataFrame with X's index."
            )
        frame = frame.loc[index]
    codes, labels = {}, {}
    for name in frame.columns:
        codes[str(name)], labels[str(name)] = _column_codes(frame[name])
    for combo in intersections:
        combo = [str(c) for c in combo]
        unknown = [c for c in combo if c not in codes]
        if unknown:
            raise ExplanationError(
                f"intersection {tuple(combo)} names {', '.join(unknown)} which is not a sensitive feature; "
                "use columns of sensitive_features."
            )
        if len(combo) < 2:
            continue
        name = JOIN.join(combo)
        codes[name], labels[name] = _intersection_codes([codes[c] for c in combo], [labels[c] for c in combo])
    return GroupCodes(index, codes, labels)


def _column_codes(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Label codes of one sensitive column and the label of each code."""
    if _labels_follow_values(column):
        from ..sensitive import factorize

        codes, uniques = factorize(column)  # the codes the other stages computed, for Arrow text
        strings = [str(value) for value in uniques] + [MISSING_LABEL]
        if (codes < 0).any():
            codes = np.where(codes < 0, len(uniques), codes)
        return _relabel(codes, len(strings), strings.__getitem__)
    column = column.astype(object)
    missing = pd.isna(column).to_numpy()
    values = np.array([str(v) for v in column.to_numpy()], dtype=object)
    values[missing] = MISSING_LABEL
    codes, uniques = pd.factorize(values)
    return codes, np.asarray(uniques, dtype=object)


def _labels_follow_values(column: pd.Series) -> bool:
    """Whether two values of the column are equal exactly when their ``str`` are (text,
    integers, flags), so the column can be coded by value; floats (``0.0`` and ``-0.0``) and
    mixed objects (``1`` and ``1.0``) cannot."""
    dtype = column.dtype
    if isinstance(dtype, pd.StringDtype) or pd.api.types.is_integer_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
        return not isinstance(dtype, pd.CategoricalDtype)
    if isinstance(dtype, pd.ArrowDtype):
        import pyarrow as pa

        return pa.types.is_string(dtype.pyarrow_dtype) or pa.types.is_large_string(dtype.pyarrow_dtype)
    return dtype == object and pd.api.types.infer_dtype(column, skipna=True) == "string"


def _intersection_codes(parts: list[np.ndarray], labels: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Label codes of an intersection from its parts' codes, and the label of each code."""
    sizes = [len(part_labels) for part_labels in labels]
    combined = parts[0].astype(np.int64)
    for codes, size in zip(parts[1:], sizes[1:]):
        combined *= size
        combined += codes
    bound = int(np.prod(sizes, dtype=object))
    if bound > min(len(combined), 1 << 16):
        combined, uniques = pd.factorize(combined)  # dense codes, in order of first appearance
        bound, values = len(uniques), np.asarray(uniques)
    else:
        values = np.arange(bound)

    def label_of(code: int) -> str:
        value, pieces = int(values[code]), []
        for part_labels, size in zip(reversed(labels), reversed(sizes)):
            value, part = divmod(value, size)
            pieces.append(part_labels[part])
        return JOIN.join(reversed(pieces))

    return _relabel(combined, bound, label_of)


def _relabel(codes: np.ndarray, bound: int, label_of: Callable[[int], str]) -> tuple[np.ndarray, np.ndarray]:
    """``pd.factorize`` of every row's label, from codes in ``[0, bound)`` and the label of
    each code: the labels in order of first appearance, codes with one label merged."""
    present = _in_order_of_appearance(codes, bound)
    label_codes, labels = pd.factorize(np.array([label_of(int(c)) for c in present], dtype=object))
    labels = np.asarray(labels, dtype=object)
    if len(present) == bound and np.array_equal(present, np.arange(bound)) and np.array_equal(label_codes, present):
        return codes, labels
    mapping = np.zeros(bound, dtype=np.intp)
    mapping[present] = label_codes
    return mapping[codes], labels


def _in_order_of_appearance(codes: np.ndarray, bound: int) -> np.ndarray:
    """The codes in ``[0, bound)`` that occur, ordered by the first row holding them."""
    if bound > FEW_CODES:
        return np.asarray(pd.unique(codes))
    present = np.flatnonzero(np.bincount(codes, minlength=bound))
    first = [int(np.argmax(codes == code)) for code in present]
    return present[np.argsort(first, kind="stable")]


@dataclass(frozen=True)
class RowSample:
    """Positions of the explained rows and which of them form the uniform part."""

    positions: np.ndarray
    uniform: np.ndarray


def sample_rows(
    groups: GroupCodes, *, max_rows: int, min_group_rows: int, rng: np.random.Generator
) -> RowSample:
    """Sample at most ``max_rows`` rows with a minimum count per group.

    Parameters
    ----------
    groups : GroupCodes
        Sensitive groups of every row (see :func:`group_codes`); may have no groupings.
    max_rows : int
        Upper bound on the rows returned.
    min_group_rows : int
        Minimum rows per group (all rows of smaller groups).
    rng : Generator
        Random source.

    Returns
    -------
    RowSample
        Sorted row positions and a mask of the uniformly sampled ones.
    """
    n = len(groups)
    if n <= max_rows:
        return RowSample(np.arange(n), np.ones(n, dtype=bool))
    by_rank = rng.permutation(n)  # row positions in the order of a uniform random rank
    ordered = _groups_by_size(groups, by_rank)
    topup_budget = 0
    for _ in range(50):
        n_uniform = max_rows - topup_budget
        if n_uniform <= 0:
            break
        selected = _lowest_ranked(by_rank, n_uniform)
        topped = _top_up(selected, ordered, min_group_rows, limit=None, uniform=by_rank[:n_uniform])
        if topped <= topup_budget:
            return _finish(selected, _lowest_ranked(by_rank, n_uniform))
        topup_budget = topped
    # Too many groups for the budget: serve the smallest groups first, no uniform part.
    selected = np.zeros(n, dtype=bool)
    _top_up(selected, ordered, min_group_rows, limit=max_rows, uniform=by_rank[:0])
    return _finish(selected, np.zeros(n, dtype=bool))


def _lowest_ranked(by_rank: np.ndarray, count: int) -> np.ndarray:
    """Mask of the ``count`` rows of lowest rank."""
    mask = np.zeros(len(by_rank), dtype=bool)
    mask[by_rank[:count]] = True
    return mask


class _Grouping:
    """One grouping's codes, with its groups' rows in rank order found on demand."""

    def __init__(self, codes: np.ndarray, by_rank: np.ndarray) -> None:
        self.codes = codes
        self.by_rank = by_rank
        self.sizes = np.bincount(codes)
        self._ranked_codes = None
        self._members: dict[int, np.ndarray] = {}

    def members(self, code: int) -> np.ndarray:
        """Positions of the group's rows, lowest rank first."""
        if code not in self._members:
            if self._ranked_codes is None:
                self._ranked_codes = self.codes[self.by_rank]
            self._members[code] = self.by_rank[np.flatnonzero(self._ranked_codes == code)]
        return self._members[code]

    def counts(self, positions: np.ndarray) -> np.ndarray:
        """Rows of each group among ``positions``."""
        return np.bincount(self.codes[positions], minlength=len(self.sizes))


@dataclass(frozen=True)
class _Group:
    """One sensitive group: its grouping, its code there and its size."""

    grouping: _Grouping
    code: int
    size: int


def _groups_by_size(groups: GroupCodes, by_rank: np.ndarray) -> list[_Group]:
    """Every group of every grouping, smallest first (ties in grouping and code order)."""
    ordered = []
    for codes in groups.codes.values():
        grouping = _Grouping(codes, by_rank)
        ordered.extend(_Group(grouping, code, int(size)) for code, size in enumerate(grouping.sizes))
    ordered.sort(key=lambda group: group.size)
    return ordered


def _top_up(selected: np.ndarray, groups: list[_Group], minimum: int, *, limit: int | None,
            uniform: np.ndarray) -> int:
    """Select, group by group, the lowest-ranked unselected rows each group lacks to have
    ``min(minimum, size)`` selected rows (at most ``limit`` selected rows in all); returns the
    rows added. ``uniform`` are rows already selected: a group with enough of them needs none."""
    added = 0
    groupings = {id(group.grouping): group.grouping for group in groups}
    in_uniform = {key: grouping.counts(uniform) for key, grouping in groupings.items()}
    for group in groups:
        target = min(minimum, group.size)
        if in_uniform[id(group.grouping)][group.code] >= target:
            continue
        members = group.grouping.members(group.code)
        need = target - int(selected[members].sum())
        if need <= 0:
            continue
        if limit is not None:
            need = min(need, limit - int(selected.sum()))
            if need <= 0:
                break
        candidates = members[~selected[members]][:need]
        selected[candidates] = True
        added += len(candidates)
    return added


def _finish(selected: np.ndarray, uniform: np.ndarray) -> RowSample:
    positions = np.flatnonzero(selected)
    return RowSample(positions, uniform[positions])


def sample_background(n: int, *, max_background: int, rng: np.random.Generator) -> np.ndarray:
    """Uniformly sample at most ``max_background`` row positions out of ``n`` (sorted)."""
    if n <= max_background:
        return np.arange(n)
    return np.sort(rng.choice(n, size=max_background, replace=False))
