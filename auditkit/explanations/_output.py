"""Which model output is explained, as a function of raw rows.

Classifiers are explained on their margin where they have one (``decision_function``,
LightGBM's raw score, XGBoost's output margin), otherwise on the probability of the
positive class. Regressors are explained on the prediction; tree regressors with a log
link (Poisson, Gamma, Tweedie) on the log of the prediction, which is what their trees add.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ExplanationError
from ..sanitize import short_repr


@dataclass(frozen=True)
class OutputSpec:
    """One candidate output of a model.

    Attributes
    ----------
    kind : str
        ``"log_odds"``, ``"margin"``, ``"probability"``, ``"prediction"`` or ``"log_prediction"``.
    label : str
        Plain-language description, e.g. ``"log-odds of P(class = good)"``.
    fn : callable
        Maps a raw DataFrame to a 1-D float array.
    """

    kind: str
    label: str
    fn: Callable[[pd.DataFrame], np.ndarray]


def _show(classes: list) -> str:
    """The classes for a message: a few of them, each cut short (they come from the model)."""
    shown = ", ".join(short_repr(c, 40) for c in classes[:8])
    return f"[{shown}{', ...' if len(classes) > 8 else ''}]"


def raw_margin_method(estimator: Any) -> str | None:
    """Name of the margin keyword of LightGBM/XGBoost/CatBoost sklearn-style models, if any."""
    module = type(estimator).__module__
    if module.startswith("lightgbm"):
        return "raw_score"
    if module.startswith("xgboost"):
        return "output_margin"
    if module.startswith("catboost"):
        return "prediction_type"  # predict(prediction_type="RawFormulaVal")
    return None


def resolve_outputs(model: Any, positive_class: Any = None) -> tuple[list[OutputSpec], Any]:
    """Candidate outputs to explain, best first.

    Parameters
    ----------
    model : estimator
        Fitted classifier or regressor (or a Pipeline ending in one).
    positive_class : object, optional
        Label in ``model.classes_`` whose output is explained (default ``classes_[1]``).

    Returns
    -------
    candidates : list of OutputSpec
        Outputs in order of preference; the margin kind is refined to ``"log_odds"`` by
        :func:`refine_margin` once data is available.
    positive_class : object
        The resolved positive class (``None`` for regressors).

    Raises
    ------
    ExplanationError
        The model cannot predict, or the classes do not allow a single explained output.
    """
    if not hasattr(model, "predict"):
        raise ExplanationError(
            f"the model ({type(model).__name__}) has no predict method; "
            "pass a fitted scikit-learn estimator or Pipeline."
        )
    classes = getattr(model, "classes_", None)
    if classes is None or (len(classes) == 0 and not hasattr(model, "predict_proba")):  # CatBoostRegressor: []
        def predict(frame: pd.DataFrame) -> np.ndarray:
            return np.asarray(model.predict(frame), dtype=np.float64).reshape(len(frame))

        def log_predict(frame: pd.DataFrame) -> np.ndarray:
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.log(predict(frame))

        return [
            OutputSpec("prediction", "predicted value", predict),
            OutputSpec("log_prediction", "log of the predicted value", log_predict),
        ], None

    classes = list(np.asarray(classes).tolist())
    if len(classes) < 2:
        raise ExplanationError(
            f"the classifier was fitted on a single class ({_show(classes)}); retrain it on at least two classes."
        )
    if positive_class is None:
        if len(classes) > 2:
            raise ExplanationError(
                f"the classifier has {len(classes)} classes {_show(classes)}; pass positive_class to choose the class "
                "whose probability is explained."
            )
        positive_class = classes[1]
    matches = [i for i, c in enumerate(classes) if c == positive_class or str(c) == str(positive_class)]
    if not matches:
        raise ExplanationError(
            f"positive_class {short_repr(positive_class)} is not one of the model's classes {_show(classes)}; pass one of them."
        )
    index = matches[0]
    positive_class = classes[index]
    name = str(positive_class)

    candidates = []
    if len(classes) == 2:
        sign = 1.0 if index == 1 else -1.0
        margin = _margin_function(model, sign)
        if margin is not None:
            candidates.append(OutputSpec("margin", f"decision function (margin) for class = {name}", margin))
    if hasattr(model, "predict_proba"):
        def proba(frame: pd.DataFrame) -> np.ndarray:
            return np.asarray(model.predict_proba(frame), dtype=np.float64)[:, index]

        candidates.append(OutputSpec("probability", f"P(class = {name})", proba))
    if not candidates:
        raise ExplanationError(
            f"the classifier ({type(model).__name__}) has neither decision_function nor predict_proba; "
            "pass a classifier that exposes scores or probabilities."
        )
    return candidates, positive_class


def _margin_function(model: Any, sign: float) -> Callable[[pd.DataFrame], np.ndarray] | None:
    if hasattr(model, "decision_function"):
        def decision(frame: pd.DataFrame) -> np.ndarray:
            return sign * np.asarray(model.decision_function(frame), dtype=np.float64).reshape(len(frame))

        return decision
    from ._select import unwrap

    stages, final = unwrap(model)
    keyword = raw_margin_method(final)
    if keyword is None:
        return None

    def raw(frame: pd.DataFrame) -> np.ndarray:
        for stage in stages:
            frame = stage.transform(frame)
        options = {keyword: "RawFormulaVal"} if keyword == "prediction_type" else {keyword: True}
        values = np.asarray(final.predict(frame, **options), dtype=np.float64)
        return sign * values.reshape(len(frame))

    return raw


def refine_margin(spec: OutputSpec, model: Any, frame: pd.DataFrame, sign_class: Any) -> OutputSpec:
    """Relabel a margin as log-odds when ``sigmoid(margin)`` reproduces ``predict_proba``.

    Parameters
    ----------
    spec : OutputSpec
        A ``"margin"`` candidate (others are returned unchanged).
    model : estimator
        The model, for ``predict_proba``.
    frame : DataFrame
        Rows to compare on.
    sign_class : object
        The positive class.

    Returns
    -------
    OutputSpec
    """
    if spec.kind != "margin" or not hasattr(model, "predict_proba"):
        return spec
    try:
        classes = list(np.asarray(model.classes_).tolist())
        proba = np.asarray(model.predict_proba(frame), dtype=np.float64)[:, classes.index(sign_class)]
        margin = spec.fn(frame)
    except Exception:  # noqa: BLE001 - only a labelling refinement
        return spec
    with np.errstate(over="ignore"):
        sigmoid = 1.0 / (1.0 + np.exp(-margin))
    if np.allclose(sigmoid, proba, rtol=1e-6, atol=1e-6):
        return OutputSpec("log_odds", f"log-odds of P(class = {sign_class})", spec.fn)
    return spec
