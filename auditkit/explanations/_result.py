"""The result of an explanation: SHAP values per raw column and their views."""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd


def _number(value: Any) -> float | None:
    """A plain float for JSON, ``None`` for missing, NaN or infinite values."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _plain(value: Any) -> Any:
    """A JSON-ready scalar: strings, booleans, integers and ``None`` as they are."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    return _number(value)


@dataclass(frozen=True, eq=False)
class ExplanationResult:
    """SHAP explanations of one model on one data set.

    Attributes
    ----------
    method : str
        How the values were computed: ``"tree"``, ``"linear"``, ``"tree-in-pipeline"``,
        ``"linear-in-pipeline"`` (exact fast paths), ``"exact"`` (every coalition) or
        ``"permutation"`` (antithetic permutations) for other models.
    output : str
        The explained output in plain language, e.g. ``"log-odds of P(class = good)"``.
    output_code : str
        The same as a code: ``"log_odds"``, ``"margin"``, ``"probability"``,
        ``"prediction"`` or ``"log_prediction"``.
    rows_explained : int
        Rows whose SHAP values were computed.
    background_rows : int
        Rows of the background sample the explained rows are compared against.
    max_additivity_error : float
        Largest ``|f(x) - base_value - sum(SHAP values of x)|`` over the explained rows,
        with ``f(x)`` the model's own output.
    features : tuple of str
        The raw input columns, in the model's order.
    base_value : float
        Mean explained output over the background rows.
    values : ndarray of shape (rows_explained, n_features)
        SHAP values per raw column.
    data : DataFrame
        Raw values of the explained rows (original index).
    background : DataFrame
        Raw values of the background rows (original index).
    uniform : ndarray of bool
        Which explained rows belong to the uniform sample (global views use only these;
        the others were added so that small groups reach their minimum count).
    notes : tuple of str
        Remarks such as why a fast path was not used.
    algorithm : str
        ``"interventional"`` (against the background rows) or ``"path_dependent"`` (tree
        models: against the trees' training covers; no background).
    """

    method: str
    output: str
    output_code: str
    rows_explained: int
    background_rows: int
    max_additivity_error: float
    features: tuple[str, ...]
    base_value: float
    values: np.ndarray = field(repr=False)
    data: pd.DataFrame = field(repr=False)
    background: pd.DataFrame = field(repr=False)
    uniform: np.ndarray = field(repr=False)
    group_labels: pd.DataFrame = field(repr=False)
    importance_frame: pd.DataFrame = field(repr=False)
    by_group_frame: pd.DataFrame = field(repr=False)
    proxies_frame: pd.DataFrame = field(repr=False)
    beeswarm_data: dict = field(repr=False)
    sensitive_features: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    settings: dict = field(default_factory=dict, repr=False)
    algorithm: str = "interventional"

    @property
    def importance(self) -> pd.DataFrame:
        """Global importance: ``feature, mean_abs_shap, ci_low, ci_high, share``."""
        return self.importance_frame.copy()

    @property
    def by_group(self) -> pd.DataFrame:
        """Per sensitive group: ``feature, group, n, input_feature, mean_abs_shap, mean_shap``."""
        return self.by_group_frame.copy()

    @property
    def proxies(self) -> pd.DataFrame:
        """Proxy candidates: ``input_feature, sensitive_feature, association,
        association_measure, importance_share, flagged``."""
        return self.proxies_frame.copy()

    @property
    def shap(self):
        """The values as a ``shap.Explanation`` with raw column names and raw data.

        ``shap.plots.beeswarm(result.shap)``, ``shap.plots.bar(result.shap)`` and
        ``shap.plots.waterfall(result.shap[0])`` work on it; string columns are shown
        uncoloured by the beeswarm.
        """
        import shap

        data = np.empty(self.data.shape, dtype=object)
        for j, name in enumerate(self.data.columns):
            column = self.data[name]
            missing = pd.isna(column).to_numpy()
            if pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(column.dtype):
                data[:, j] = column.to_numpy(dtype=np.float64, na_value=np.nan)
            else:
                cells = np.array(column.astype(object).to_numpy(), dtype=object)
                cells[missing] = np.nan
                data[:, j] = cells
        return shap.Explanation(
            values=np.array(self.values, dtype=np.float64),
            base_values=np.full(len(self.values), self.base_value),
            data=data,
            feature_names=list(self.features),
            output_names=self.output,
        )

    def shap_share(self, feature: str) -> float:
        """Share of ``feature`` in the total mean |SHAP| (0 when it is not a model input).

        Parameters
        ----------
        feature : str
            A raw column name.

        Returns
        -------
        float
        """
        rows = self.importance_frame[self.importance_frame["feature"] == str(feature)]
        if rows.empty:
            return 0.0
        return float(rows["share"].iloc[0])

    def to_dict(self) -> dict:
        """JSON-ready summary: plain floats, ``None`` instead of NaN.

        Returns
        -------
        dict
            Keys ``status, method, output, output_code, rows_explained, background_rows,
            max_additivity_error, base_value, features, importance, shap_share, by_group,
            proxies, beeswarm, notes, settings``.
        """
        importance = [
            {
                "feature": str(row.feature),
                "mean_abs_shap": _number(row.mean_abs_shap),
                "ci": [_number(row.ci_low), _number(row.ci_high)],
                "share": _number(row.share),
            }
            for row in self.importance_frame.itertuples(index=False)
        ]
        by_group = []
        frame = self.by_group_frame
        if not frame.empty:
            for (feature, group), part in frame.groupby(["feature", "group"], sort=False):
                by_group.append(
                    {
                        "feature": str(feature),
                        "group": str(group),
                        "n": int(part["n"].iloc[0]),
                        "values": [
                            {
                                "input_feature": str(row.input_feature),
                                "mean_abs_shap": _number(row.mean_abs_shap),
                                "mean_shap": _number(row.mean_shap),
                            }
                            for row in part.itertuples(index=False)
                        ],
                    }
                )
        proxies = [
            {
                "input_feature": str(row.input_feature),
                "sensitive_feature": str(row.sensitive_feature),
                "association": _number(row.association),
                "measure": str(row.association_measure),
                "importance_share": _number(row.importance_share),
                "flagged": bool(row.flagged),
            }
            for row in self.proxies_frame.itertuples(index=False)
        ]
        beeswarm = {
            "features": [str(f) for f in self.beeswarm_data.get("features", [])],
            "points": [
                {
                    "feature": str(point["feature"]),
                    "shap": [_number(v) for v in point["shap"]],
                    "value_rank": [_number(v) for v in point["value_rank"]],
                }
                for point in self.beeswarm_data.get("points", [])
            ],
        }
        return {
            "status": "ok",
            "method": self.method,
            "algorithm": self.algorithm,
            "output": self.output,
            "output_code": self.output_code,
            "rows_explained": int(self.rows_explained),
            "background_rows": int(self.background_rows),
            "max_additivity_error": _number(self.max_additivity_error),
            "base_value": _number(self.base_value),
            "features": [str(f) for f in self.features],
            "importance": importance,
            "shap_share": {str(s): _number(self.shap_share(s)) for s in self.sensitive_features},
            "by_group": by_group,
            "proxies": proxies,
            "beeswarm": beeswarm,
            "notes": list(self.notes),
            "settings": {key: _plain(value) for key, value in self.settings.items()},
        }

    def _repr_html_(self) -> str:
        esc = html.escape
        parts = [
            "<div class='auditkit-explanation'>",
            f"<p><b>SHAP explanation</b> ({esc(self.method)}) of the {esc(self.output)}: "
            f"{self.rows_explained} rows against {self.background_rows} background rows; "
            f"base value {self.base_value:.4g}; largest additivity error {self.max_additivity_error:.2g}.</p>",
            "<table><thead><tr><th>feature</th><th>mean |SHAP|</th><th>95% interval</th><th>share</th>"
            "</tr></thead><tbody>",
        ]
        for row in self.importance_frame.head(15).itertuples(index=False):
            parts.append(
                f"<tr><td>{esc(str(row.feature))}</td><td>{row.mean_abs_shap:.4g}</td>"
                f"<td>{row.ci_low:.4g} – {row.ci_high:.4g}</td><td>{row.share:.1%}</td></tr>"
            )
        parts.append("</tbody></table>")
        if self.sensitive_features:
            shares = ", ".join(f"{esc(s)}: {self.shap_share(s):.1%}" for s in self.sensitive_features)
            parts.append(f"<p>SHAP share of sensitive features: {shares}.</p>")
        flagged = self.proxies_frame[self.proxies_frame["flagged"]] if not self.proxies_frame.empty else None
        if flagged is not None and not flagged.empty:
            items = "".join(
                f"<li>{esc(str(r.input_feature))} ~ {esc(str(r.sensitive_feature))}: "
                f"{esc(str(r.association_measure))} {r.association:.2f}, share {r.importance_share:.1%}</li>"
                for r in flagged.itertuples(index=False)
            )
            parts.append(f"<p>Possible proxies:</p><ul>{items}</ul>")
        for note in self.notes:
            parts.append(f"<p><i>{esc(note)}</i></p>")
        parts.append("</div>")
        return "".join(parts)
