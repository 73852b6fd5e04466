"""Which explanation path applies to which model."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ._linear import linear_weights
from ._mapping import dense
from ._tree import is_tree_model
from ._tree_parse import native_encoder

TREE = "tree"
LINEAR = "linear"
AGNOSTIC = "agnostic"


@dataclass(frozen=True)
class Plan:
    """The path chosen for a model.

    Attributes
    ----------
    kind : str
        ``"tree"``, ``"linear"`` or ``"agnostic"``.
    in_pipeline : bool
        The estimator sits behind transformers in a Pipeline.
    final : estimator
        The estimator that the fast path explains in the transformed space.
    transform : callable
        Raw DataFrame -> dense float array of the final estimator's inputs.
    reason : str
        Why the agnostic path was chosen (empty otherwise).
    """

    kind: str
    in_pipeline: bool
    final: Any
    transform: Callable[[pd.DataFrame], np.ndarray]
    reason: str = ""

    @property
    def method(self) -> str:
        return f"{self.kind}-in-pipeline" if self.in_pipeline else self.kind


def plan_for(model: Any) -> Plan:
    """Choose the explanation path for ``model``.

    Parameters
    ----------
    model : estimator
        A fitted estimator or (nested) Pipeline.

    Returns
    -------
    Plan
    """
    stages, final = unwrap(model)
    in_pipeline = bool(stages)
    encode = native_encoder(final)  # LightGBM/XGBoost/CatBoost coding categories themselves

    def transform(frame: pd.DataFrame) -> np.ndarray:
        for stage in stages:
            frame = stage.transform(frame)
        return encode(frame) if encode is not None else dense(frame)

    if is_tree_model(final) or encode is not None:
        return Plan(TREE, in_pipeline, final, transform)
    if linear_weights(final) is not None:
        return Plan(LINEAR, in_pipeline, final, transform)
    return Plan(
        AGNOSTIC,
        in_pipeline,
        final,
        transform,
        reason=f"{type(final).__name__} is neither a supported tree ensemble nor a linear model",
    )


def unwrap(model: Any) -> tuple[list[Any], Any]:
    """Split a (nested) Pipeline into its transformer stages and final estimator.

    Fitted hyper-parameter searches (``GridSearchCV`` and the like) are replaced by their
    refitted ``best_estimator_``, which is what they predict with.
    """
    from sklearn.pipeline import Pipeline

    stages = []
    while True:
        if isinstance(model, Pipeline):
            if len(model.steps) > 1:
                stages.append(model[:-1])
            model = model.steps[-1][1]
        elif getattr(model, "best_estimator_", None) is not None and hasattr(model, "cv_results_"):
            model = model.best_estimator_
        else:
            return stages, model
