"""SHAP explanations of the model that is shipped, per raw input column.

``explain(model, X, sensitive_features=...)`` picks an exact fast path by model type
(tree ensembles, linear models, either at the end of a Pipeline) or a model-agnostic
explainer that accepts raw string columns, samples rows so that every sensitive group is present, and returns an
:class:`ExplanationResult` with global importance, per-group views and proxy candidates.

shap, scikit-learn and matplotlib are imported only when an explanation is computed.
"""

from ._api import attribute_rows, explain
from ._result import ExplanationResult

__all__ = ["ExplanationResult", "attribute_rows", "explain"]
