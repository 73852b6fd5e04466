"""Progress display for long explanations: a bar on a terminal, silence otherwise."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

# Only explanations that run longer than this many seconds show a bar at all.
DELAY_SECONDS = 1.0


def resolve_progress(progress: bool | None) -> bool:
    """Decide whether to show progress.

    Parameters
    ----------
    progress : bool or None
        ``None`` shows progress only when standard error is a terminal; ``True`` and
        ``False`` force it on or off.

    Returns
    -------
    bool
        Whether a progress bar may be shown.
    """
    if progress is None:
        stream = sys.stderr
        return bool(getattr(stream, "isatty", lambda: False)())
    return bool(progress)


def track(iterable: Iterable[T], *, total: int, enabled: bool, desc: str) -> Iterator[T]:
    """Iterate over ``iterable``, showing a delayed progress bar when ``enabled``.

    Parameters
    ----------
    iterable : iterable
        The work items.
    total : int
        Number of items, for the bar's scale.
    enabled : bool
        Show a bar (after :data:`DELAY_SECONDS`); when false, iterate silently.
    desc : str
        Short label in front of the bar.

    Yields
    ------
    object
        The items of ``iterable``.
    """
    if not enabled:
        yield from iterable
        return
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm ships with shap
        yield from iterable
        return
    with tqdm(total=total, desc=desc, delay=DELAY_SECONDS, file=sys.stderr, leave=False) as bar:
        for item in iterable:
            yield item
            bar.update(1)
