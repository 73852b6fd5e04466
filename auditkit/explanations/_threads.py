"""Native thread pools limited to one thread while the model is called on small batches."""

from __future__ import annotations

import contextlib


def single_threaded():
    """Context manager limiting OpenMP/BLAS pools to one thread.

    Explanations call the model on batches of a few thousand rows at most; OpenMP models
    (HistGradientBoosting, LightGBM) then spend more time waking threads than predicting,
    badly so on a loaded machine.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl ships with scikit-learn
        return contextlib.nullcontext()
    return threadpool_limits(limits=1)
