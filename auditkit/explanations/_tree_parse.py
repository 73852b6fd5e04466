"""Tree parsers for native categorical splits: LightGBM, XGBoost and CatBoost.

shap's tree parser refuses categorical splits, so models that split on category membership
(LightGBM and XGBoost on pandas categoricals, CatBoost with one-hot categorical features)
are read here, from each library's own model dump, into a :class:`~._tree.TreeSet` whose
categorical nodes carry a bitset of the integer category codes that go to the left child.
Each model also gets an *encoder*: the rows as the model's trees see them, categories as
the model's own integer codes, so that unseen categories and missing values go where the
library sends them.

Semantics, as implemented by the libraries (and checked by the tests against each model's
raw margin on data with unseen categories and missing values):

* LightGBM (``dump_model``): numeric nodes send ``x <= threshold`` left; a missing value
  goes to ``default_left`` (``missing_type`` NaN), is read as 0 (``None``), or joins the
  zeros (``Zero``). Categorical nodes (``decision_type`` ``==``) list the categories that go
  left ("1||3||5"); a missing, negative or unlisted code goes right. Pandas categoricals are
  coded with the category lists saved in the booster (``pandas_categorical``): a category
  the model never saw is missing.
* XGBoost (``save_raw("json")``, ``enable_categorical=True``): numeric nodes send
  ``x < split_condition`` left (float32); a missing value goes to ``default_left``. The
  ``categories`` of a categorical node go RIGHT (``common::Decision`` returns "left" when the
  category is not in the node's set, or is invalid: negative or beyond the set). Pandas
  categoricals are re-coded to the training categories the booster stores.
* CatBoost (``save_model(format="json")``): oblivious trees; ``FloatFeature`` splits send
  ``x > border`` (float32) to bit 1, missing values to bit 0 (bit 1 with
  ``nan_value_treatment`` ``AsTrue``); ``OneHotFeature`` splits send the one category whose
  hash is ``value`` to bit 1. Which category has which hash is read from the model itself
  (``calc_leaf_indexes`` on one probe row per distinct category). Splits on CTR statistics
  (``OnlineCtr``, categorical features with more categories than ``one_hot_max_size``) are
  target statistics computed from tables inside the model: they are refused, and the
  model-agnostic explainer is used.

:func:`lower_categorical` turns categorical nodes into numeric nodes on derived indicator
columns (one per distinct feature and category set, owned by the same raw column), so any
kernel that explains groups of columns explains these trees exactly.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from ._tree import NotTreeExplainable, TreeSet

LIGHTGBM = "lightgbm"
XGBOOST = "xgboost"
CATBOOST = "catboost"

# LightGBM's kZeroThreshold: |x| <= this counts as zero for missing_type Zero.
_LGBM_ZERO = 1e-35
_INT32_MAX = 2**31 - 1


def native_kind(estimator: Any) -> str | None:
    """Which parser of this module reads ``estimator``, or ``None`` (shap's parser does).

    LightGBM and XGBoost models are read here only when they use categorical features
    (pandas categoricals or categorical splits); CatBoost models always.
    """
    module = type(estimator).__module__
    try:
        if module.startswith("lightgbm") and hasattr(estimator, "booster_"):
            booster = estimator.booster_
            if booster.pandas_categorical or _lgbm_has_categorical_split(_lgbm_dump(booster)):
                return LIGHTGBM
        elif module.startswith("xgboost") and hasattr(estimator, "get_booster"):
            if _xgb_is_categorical(estimator):
                return XGBOOST
        elif module.startswith("catboost") and hasattr(estimator, "calc_leaf_indexes") and estimator.is_fitted():
            return CATBOOST
    except Exception:  # noqa: BLE001 - an unfitted or unusual model: not ours to read
        return None
    return None


def native_trees(estimator: Any) -> TreeSet | None:
    """The TreeSet of a model read by this module, ``None`` when shap's parser applies.

    Raises
    ------
    NotTreeExplainable
        The model uses something the parsers do not reproduce exactly (the message says what).
    """
    kind = native_kind(estimator)
    if kind is None:
        return None
    return parse_native(estimator, kind).trees


def native_encoder(estimator: Any) -> Callable[[Any], np.ndarray] | None:
    """Rows (DataFrame or array) -> float matrix as the model's trees see them, or ``None``."""
    kind = native_kind(estimator)
    if kind == LIGHTGBM:
        return _LightGBMEncoder(estimator)
    if kind == XGBOOST:
        return _XGBoostEncoder(estimator)
    if kind == CATBOOST:
        return _CatBoostEncoder(estimator)
    return None


@dataclass(frozen=True)
class NativeModel:
    """A parsed model: its trees, its input encoder and its constant margin offset."""

    trees: TreeSet
    encode: Callable[[Any], np.ndarray]
    base_margin: np.ndarray


def parse_native(estimator: Any, kind: str | None = None) -> NativeModel:
    """Parse a LightGBM, XGBoost or CatBoost model (see the module docstring).

    Raises
    ------
    NotTreeExplainable
    """
    kind = kind or native_kind(estimator)
    if kind == LIGHTGBM:
        return _parse_lightgbm(estimator)
    if kind == XGBOOST:
        return _parse_xgboost(estimator)
    if kind == CATBOOST:
        return _parse_catboost(estimator)
    raise NotTreeExplainable(f"{type(estimator).__name__} is not read by the native tree parsers")


# --------------------------------------------------------------------------- building


class _Builder:
    """Collects nodes of several trees, then packs them into padded TreeSet arrays."""

    def __init__(self, n_outputs: int) -> None:
        self.n_outputs = n_outputs
        self.trees: list[list[tuple]] = []

    def new_tree(self) -> list[tuple]:
        self.trees.append([])
        return self.trees[-1]

    @staticmethod
    def add(nodes: list[tuple]) -> int:
        nodes.append(None)
        return len(nodes) - 1

    def pack(self, input_dtype: Any) -> TreeSet:
        n_trees = len(self.trees)
        width = max((len(t) for t in self.trees), default=1)
        words = 1
        for tree in self.trees:
            for node in tree:
                if node[0] == "cat" and node[5]:
                    words = max(words, max(node[5]) // 64 + 1)
        left = np.full((n_trees, width), -1, dtype=np.int64)
        right = np.full((n_trees, width), -1, dtype=np.int64)
        default = np.full((n_trees, width), -1, dtype=np.int64)
        features = np.full((n_trees, width), -1, dtype=np.int64)
        thresholds = np.zeros((n_trees, width))
        values = np.zeros((n_trees, width, self.n_outputs))
        categorical = np.zeros((n_trees, width), dtype=bool)
        bits = np.zeros((n_trees, width, words), dtype=np.uint64)
        for t, tree in enumerate(self.trees):
            for i, node in enumerate(tree):
                if node[0] == "leaf":
                    _, output, value = node
                    values[t, i, output] = value
                    continue
                kind, feature, lo, hi, dflt, payload = node
                left[t, i], right[t, i], default[t, i], features[t, i] = lo, hi, dflt, feature
                if kind == "num":
                    thresholds[t, i] = payload
                else:
                    categorical[t, i] = True
                    for c in payload:
                        bits[t, i, c // 64] |= np.uint64(1) << np.uint64(c % 64)
        return TreeSet(
            children_left=left,
            children_right=right,
            children_default=default,
            features=features,
            thresholds=thresholds,
            values=values,
            input_dtype=input_dtype,
            n_trees=n_trees,
            categorical=categorical if categorical.any() else None,
            category_bits=bits if categorical.any() else None,
        )


def _frame_values(frame: Any) -> np.ndarray:
    """Non-categorical input as float64 (ValueError/TypeError for strings, as ``dense``)."""
    if hasattr(frame, "toarray"):
        frame = frame.toarray()
    if isinstance(frame, pd.DataFrame):
        return frame.to_numpy(dtype=np.float64, na_value=np.nan)
    array = np.asarray(frame, dtype=np.float64)
    if array.ndim != 2:
        raise ValueError(f"the model inputs have {array.ndim} dimensions")
    return array


# --------------------------------------------------------------------------- LightGBM


# The last dumped booster and its dump: dump_model() of a few hundred trees takes a while and
# choosing the path, encoding and parsing all read it. The booster itself is kept, so a new
# (refitted) booster is never mistaken for it.
_LGBM_DUMP: list = [None, None]


def _lgbm_dump(booster: Any) -> dict:
    if _LGBM_DUMP[0] is not booster:
        _LGBM_DUMP[:] = [booster, booster.dump_model()]
    return _LGBM_DUMP[1]


def _lgbm_has_categorical_split(dump: dict) -> bool:
    def walk(node: dict) -> bool:
        if "leaf_value" in node or "split_feature" not in node:
            return False
        return node.get("decision_type") == "==" or walk(node["left_child"]) or walk(node["right_child"])

    return any(walk(tree["tree_structure"]) for tree in dump["tree_info"])


def _lgbm_categorical_features(dump: dict) -> set[int]:
    found: set[int] = set()

    def walk(node: dict) -> None:
        if "split_feature" not in node:
            return
        if node.get("decision_type") == "==":
            found.add(int(node["split_feature"]))
        walk(node["left_child"])
        walk(node["right_child"])

    for tree in dump["tree_info"]:
        walk(tree["tree_structure"])
    return found


class _LightGBMEncoder:
    """LightGBM's own input conversion (``_data_from_pandas``) followed by its integer cast."""

    def __init__(self, estimator: Any) -> None:
        booster = estimator.booster_
        self.pandas_categorical = booster.pandas_categorical or []
        self.categorical = sorted(_lgbm_categorical_features(_lgbm_dump(booster)))

    def __call__(self, frame: Any) -> np.ndarray:
        if isinstance(frame, pd.DataFrame):
            cat_cols = [c for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype)]
            coded = {}
            if cat_cols:
                if len(cat_cols) != len(self.pandas_categorical):
                    raise ValueError("the categorical columns do not match the model's (pandas_categorical)")
                for col, categories in zip(cat_cols, self.pandas_categorical):
                    codes = frame[col].cat.set_categories(categories).cat.codes.to_numpy(dtype=np.float64)
                    codes[codes < 0] = np.nan
                    coded[col] = codes
            plain = frame.drop(columns=cat_cols)
            X = np.empty(frame.shape, dtype=np.float64)
            positions = {c: j for j, c in enumerate(frame.columns)}
            if plain.shape[1]:
                X[:, [positions[c] for c in plain.columns]] = _frame_values(plain)
            for col, codes in coded.items():
                X[:, positions[col]] = codes
        else:
            X = _frame_values(frame)
        # CategoricalDecision: static_cast<int>(x); negative (or NaN) goes right = default.
        for j in self.categorical:
            if j < X.shape[1]:
                with np.errstate(invalid="ignore"):
                    column = np.trunc(X[:, j])
                    column[(column < 0) | (column > _INT32_MAX)] = np.nan
                X[:, j] = column
        return X


def _parse_lightgbm(estimator: Any) -> NativeModel:
    booster = estimator.booster_
    dump = _lgbm_dump(booster)
    n_classes = int(dump.get("num_tree_per_iteration", 1))
    builder = _Builder(n_classes)
    n_trees = len(dump["tree_info"])
    scale = 1.0
    if dump.get("average_output"):
        scale = 1.0 / max(1, n_trees // n_classes)
    for index, info in enumerate(dump["tree_info"]):
        if info.get("is_linear"):
            raise NotTreeExplainable("the LightGBM model has linear trees (linear_tree=True)")
        nodes = builder.new_tree()
        _lgbm_node(info["tree_structure"], nodes, index % n_classes, scale)
    return NativeModel(builder.pack(np.float64), _LightGBMEncoder(estimator), np.zeros(n_classes))


def _lgbm_node(node: dict, nodes: list, output: int, scale: float) -> int:
    i = _Builder.add(nodes)
    if "split_feature" not in node:
        nodes[i] = ("leaf", output, float(node["leaf_value"]) * scale)
        return i
    lo = _lgbm_node(node["left_child"], nodes, output, scale)
    hi = _lgbm_node(node["right_child"], nodes, output, scale)
    feature = int(node["split_feature"])
    if node["decision_type"] == "==":
        left_set = sorted({int(c) for c in str(node["threshold"]).split("||") if c != ""})
        nodes[i] = ("cat", feature, lo, hi, hi, left_set)
        return i
    if node["decision_type"] != "<=":
        raise NotTreeExplainable(f"LightGBM decision type {node['decision_type']!r} is not supported")
    threshold = float(node["threshold"])
    missing = node.get("missing_type", "None")
    default_left = bool(node.get("default_left", True))
    zero_left = 0.0 <= threshold
    if missing == "NaN":
        default = lo if default_left else hi
    elif missing == "None":
        default = lo if zero_left else hi  # NaN is read as 0
    elif missing == "Zero":
        # Zeros (|x| <= 1e-35) and NaN go to default_left; exact as one numeric node only
        # when that is also where the comparison sends every value of the zero band.
        if default_left != zero_left or abs(threshold) < _LGBM_ZERO:
            raise NotTreeExplainable(
                "a LightGBM split treats zero as missing (zero_as_missing) and sends it apart from its threshold side"
            )
        default = lo if default_left else hi
    else:
        raise NotTreeExplainable(f"LightGBM missing type {missing!r} is not supported")
    nodes[i] = ("num", feature, lo, hi, default, threshold)
    return i


# --------------------------------------------------------------------------- XGBoost


def _xgb_json(estimator: Any) -> dict:
    return json.loads(estimator.get_booster().save_raw("json"))


def _xgb_is_categorical(estimator: Any) -> bool:
    learner = _xgb_json(estimator)["learner"]
    if any(t == "c" for t in learner.get("feature_types") or []):
        return True
    model = learner["gradient_booster"].get("model", {})
    return any(1 in tree.get("split_type", []) for tree in model.get("trees", []))


def _xgb_training_categories(estimator: Any, n_features: int) -> list[list | None]:
    """Training categories per feature (``None`` for numeric ones or numpy-trained models)."""
    try:
        pairs = estimator.get_booster().get_categories(export_to_arrow=True).to_arrow()
    except Exception:  # noqa: BLE001 - older XGBoost or no stored categories
        return [None] * n_features
    if not pairs:
        return [None] * n_features
    return [None if values is None else values.to_pylist() for _, values in pairs]


class _XGBoostEncoder:
    """Pandas categoricals re-coded to the training categories, as XGBoost >= 3 does."""

    def __init__(self, estimator: Any, limits: dict[int, int] | None = None) -> None:
        learner = _xgb_json(estimator)["learner"]
        n_features = int(learner["learner_model_param"]["num_feature"])
        self.categories = _xgb_training_categories(estimator, n_features)
        self.limits = limits if limits is not None else _xgb_limits(learner, self.categories)

    def __call__(self, frame: Any) -> np.ndarray:
        if isinstance(frame, pd.DataFrame):
            X = np.empty(frame.shape, dtype=np.float64)
            for j, col in enumerate(frame.columns):
                series = frame[col]
                if isinstance(series.dtype, pd.CategoricalDtype):
                    known = self.categories[j] if j < len(self.categories) else None
                    if known is not None:
                        codes = pd.Categorical(series, categories=known).codes.astype(np.float64)
                    else:
                        codes = series.cat.codes.to_numpy(dtype=np.float64)
                    codes[codes < 0] = np.nan
                    X[:, j] = codes
                else:
                    X[:, j] = series.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            X = _frame_values(frame)
        # common::Decision: an invalid category (negative, too large, beyond the node's set)
        # goes left at every node; code `limit` is such a category (left everywhere).
        for j, limit in self.limits.items():
            if j < X.shape[1]:
                column = X[:, j].astype(np.float32).astype(np.float64)
                with np.errstate(invalid="ignore"):
                    column = np.trunc(column)
                    column[(column < 0) | (column >= limit)] = limit
                X[:, j] = column
        return X


def _xgb_limits(learner: dict, categories: list[list | None]) -> dict[int, int]:
    """Per categorical feature: one past the largest category code any node or the data can hold."""
    limits: dict[int, int] = {}
    types = learner.get("feature_types") or []
    for j, t in enumerate(types):
        if t == "c":
            limits[j] = len(categories[j]) if j < len(categories) and categories[j] is not None else 0
    for tree in learner["gradient_booster"]["model"].get("trees", []):
        for node, seg, size in zip(tree["categories_nodes"], tree["categories_segments"], tree["categories_sizes"]):
            feature = int(tree["split_indices"][node])
            cats = tree["categories"][seg : seg + size]
            limits[feature] = max(limits.get(feature, 0), (max(cats) + 1) if cats else 0)
    return limits


_XGB_LOGIT = {"binary:logistic", "reg:logistic"}
_XGB_LOG = {"count:poisson", "reg:gamma", "reg:tweedie", "survival:cox", "survival:aft"}


def _parse_xgboost(estimator: Any) -> NativeModel:
    if not (estimator.missing is None or (isinstance(estimator.missing, float) and math.isnan(estimator.missing))):
        raise NotTreeExplainable(f"the XGBoost model reads {estimator.missing!r} as missing")
    learner = _xgb_json(estimator)["learner"]
    booster = learner["gradient_booster"]
    if booster.get("name") != "gbtree":
        raise NotTreeExplainable(f"the XGBoost booster is {booster.get('name')!r}, not gbtree")
    model = booster["model"]
    n_outputs = max(1, int(learner["learner_model_param"].get("num_class", "0")))
    n_outputs = max(n_outputs, int(learner["learner_model_param"].get("num_target", "1")))
    trees = model["trees"]
    info = model.get("tree_info", [0] * len(trees))
    indptr = model.get("iteration_indptr")
    best = _xgb_best_iteration(estimator)
    if best is not None and indptr is not None and best + 1 < len(indptr):
        trees = trees[: indptr[best + 1]]
    categories = _xgb_training_categories(estimator, int(learner["learner_model_param"]["num_feature"]))
    limits = _xgb_limits(learner, categories)
    builder = _Builder(n_outputs)
    for tree, output in zip(trees, info):
        nodes = builder.new_tree()
        cat_of = {
            node: tree["categories"][seg : seg + size]
            for node, seg, size in zip(tree["categories_nodes"], tree["categories_segments"], tree["categories_sizes"])
        }
        left, right = tree["left_children"], tree["right_children"]
        for i in range(len(left)):
            nodes.append(None)
        for i in range(len(left)):
            if left[i] < 0:
                nodes[i] = ("leaf", int(output), float(np.float32(tree["split_conditions"][i])))
                continue
            feature = int(tree["split_indices"][i])
            default = left[i] if tree["default_left"][i] else right[i]
            if tree["split_type"][i] == 1:
                right_set = set(cat_of.get(i, []))
                left_set = [c for c in range(limits.get(feature, 0) + 1) if c not in right_set]
                nodes[i] = ("cat", feature, left[i], right[i], default, left_set)
            else:
                # x < cond (float32) <=> x <= the largest float32 below cond
                cond = np.float32(tree["split_conditions"][i])
                threshold = float(np.nextafter(cond, np.float32(-np.inf), dtype=np.float32))
                nodes[i] = ("num", feature, left[i], right[i], default, threshold)
    base = _xgb_base_margin(learner, n_outputs)
    return NativeModel(builder.pack(np.float32), _XGBoostEncoder(estimator, limits), base)


def _xgb_best_iteration(estimator: Any) -> int | None:
    try:
        if getattr(estimator, "early_stopping_rounds", None) is None and not estimator.get_booster().attr(
            "best_iteration"
        ):
            return None
        return int(estimator.best_iteration)
    except Exception:  # noqa: BLE001 - no early stopping
        return None


def _xgb_base_margin(learner: dict, n_outputs: int) -> np.ndarray:
    text = str(learner["learner_model_param"]["base_score"]).strip("[]")
    scores = np.array([float(s) for s in text.split(",") if s.strip()] or [0.5], dtype=np.float64)
    scores = np.float32(scores).astype(np.float64)
    objective = learner.get("objective", {}).get("name", "")
    if objective in _XGB_LOGIT:
        scores = np.log(scores / (1.0 - scores))
    elif objective in _XGB_LOG:
        scores = np.log(scores)
    return np.broadcast_to(scores, (n_outputs,)).astype(np.float64) if scores.size == 1 else scores


# --------------------------------------------------------------------------- CatBoost


def _catboost_json(estimator: Any) -> dict:
    handle, path = tempfile.mkstemp(suffix=".json")
    os.close(handle)
    try:
        estimator.save_model(path, format="json")
        with open(path, encoding="utf-8") as stream:
            return json.load(stream)
    finally:
        os.unlink(path)


class _CatBoostEncoder:
    """Float features as numbers; one-hot categorical features as codes of the split hashes.

    Which hash a category has is read from the model: one probe row per distinct category,
    whose leaf indexes show which one-hot splits it satisfies.
    """

    def __init__(self, estimator: Any, layout: dict | None = None) -> None:
        self.model = estimator
        self.layout = layout if layout is not None else _catboost_layout(_catboost_json(estimator))
        self.cache: dict[int, dict[Any, int]] = {j: {} for j in self.layout["hashes"]}

    def __call__(self, frame: Any) -> np.ndarray:
        if not isinstance(frame, pd.DataFrame):
            frame = pd.DataFrame(np.asarray(frame, dtype=object), columns=self.model.feature_names_)
        X = np.zeros(frame.shape, dtype=np.float64)
        for j in self.layout["float"]:
            X[:, j] = frame.iloc[:, j].to_numpy(dtype=np.float64, na_value=np.nan)
        for j in self.layout["cat"]:
            series = frame.iloc[:, j]
            codes = self._codes(frame, j, series)
            X[:, j] = codes
        return X

    def _codes(self, frame: pd.DataFrame, j: int, series: pd.Series) -> np.ndarray:
        hashes = self.layout["hashes"].get(j, [])
        unknown = len(hashes)
        if not hashes:
            return np.full(len(series), float(unknown))
        cache = self.cache[j]
        labels, uniques = pd.factorize(series, use_na_sentinel=False)
        values = list(uniques)
        new = [v for v in values if _key(v) not in cache]
        if new:
            self._probe(frame, j, new)
        lookup = np.array([cache[_key(v)] for v in values], dtype=np.float64)
        return lookup[labels]

    def _probe(self, frame: pd.DataFrame, j: int, values: list) -> None:
        probe = frame.iloc[[0] * len(values)].reset_index(drop=True)
        column = probe.columns[j]
        if isinstance(probe[column].dtype, pd.CategoricalDtype):
            probe[column] = pd.Categorical(values, categories=probe[column].cat.categories)
        else:
            probe[column] = pd.Series(values, dtype=frame[column].dtype)
        try:
            leaves = np.asarray(self.model.calc_leaf_indexes(probe), dtype=np.int64)
        except Exception as exc:
            raise ValueError(f"CatBoost cannot read the categories of column {column!r} ({exc})") from exc
        hashes = self.layout["hashes"][j]
        code = np.full(len(values), len(hashes), dtype=np.int64)
        for tree, level, h in self.layout["probes"][j]:
            hit = ((leaves[:, tree] >> level) & 1).astype(bool)
            code[hit] = hashes.index(h)
        for v, c in zip(values, code):
            self.cache[j][_key(v)] = int(c)


def _key(value: Any) -> Any:
    """Cache key that treats every missing value alike."""
    try:
        if pd.isna(value):
            return ("<missing>",)
    except (TypeError, ValueError):
        pass
    return (type(value).__name__, value)


def _catboost_layout(model_json: dict) -> dict:
    info = model_json.get("features_info", {})
    if info.get("text_features") or info.get("embedding_features"):
        raise NotTreeExplainable("the CatBoost model uses text or embedding features")
    floats = {int(f["feature_index"]): f for f in info.get("float_features", [])}
    cats = {int(f["feature_index"]): f for f in info.get("categorical_features", [])}
    hashes: dict[int, list[int]] = {int(f["flat_feature_index"]): [] for f in cats.values()}
    probes: dict[int, list[tuple[int, int, int]]] = {j: [] for j in hashes}
    for t, tree in enumerate(model_json.get("oblivious_trees", [])):
        for level, split in enumerate(tree.get("splits", [])):
            kind = split.get("split_type")
            if kind == "OneHotFeature":
                j = int(cats[int(split["cat_feature_index"])]["flat_feature_index"])
                h = int(split["value"])
                if h not in hashes[j]:
                    hashes[j].append(h)
                probes[j].append((t, level, h))
            elif kind != "FloatFeature":
                raise NotTreeExplainable(
                    f"the CatBoost model splits on {kind} (target statistics of categorical features, "
                    "used for categories beyond one_hot_max_size), which the tree path cannot reproduce"
                )
    return {
        "float": sorted(int(f["flat_feature_index"]) for f in floats.values()),
        "cat": sorted(hashes),
        "floats": floats,
        "cats": cats,
        "hashes": hashes,
        "probes": probes,
    }


def _parse_catboost(estimator: Any) -> NativeModel:
    model_json = _catboost_json(estimator)
    layout = _catboost_layout(model_json)
    if "non_symmetric_trees" in model_json or "oblivious_trees" not in model_json:
        raise NotTreeExplainable("the CatBoost model has non-symmetric trees (grow_policy other than SymmetricTree)")
    scale, bias = model_json.get("scale_and_bias", [1.0, [0.0]])
    bias = np.atleast_1d(np.asarray(bias, dtype=np.float64))
    builder = _Builder(1)
    for tree in model_json["oblivious_trees"]:
        splits = tree.get("splits", [])
        depth = len(splits)
        leaf_values = tree["leaf_values"]
        if len(leaf_values) != 2**depth:
            raise NotTreeExplainable("the CatBoost model has more than one output dimension (multiclass)")
        nodes = builder.new_tree()
        _catboost_level(nodes, splits, layout, leaf_values, float(scale), 0, 0)
    if len(bias) != 1:
        raise NotTreeExplainable("the CatBoost model has more than one output dimension (multiclass)")
    return NativeModel(builder.pack(np.float32), _CatBoostEncoder(estimator, layout), bias)


def _catboost_level(nodes, splits, layout, leaf_values, scale, level, index) -> int:
    i = _Builder.add(nodes)
    if level == len(splits):
        nodes[i] = ("leaf", 0, float(leaf_values[index]) * scale)
        return i
    lo = _catboost_level(nodes, splits, layout, leaf_values, scale, level + 1, index)
    hi = _catboost_level(nodes, splits, layout, leaf_values, scale, level + 1, index | (1 << level))
    split = splits[level]
    if split["split_type"] == "FloatFeature":
        feature_info = layout["floats"][int(split["float_feature_index"])]
        feature = int(feature_info["flat_feature_index"])
        default = hi if feature_info.get("nan_value_treatment") == "AsTrue" else lo
        nodes[i] = ("num", feature, lo, hi, default, float(np.float32(split["border"])))
    else:
        feature = int(layout["cats"][int(split["cat_feature_index"])]["flat_feature_index"])
        hashes = layout["hashes"][feature]
        hit = hashes.index(int(split["value"]))
        left_set = [c for c in range(len(hashes) + 1) if c != hit]
        nodes[i] = ("cat", feature, lo, hi, lo, left_set)
    return i


# --------------------------------------------------------------------------- evaluation


def _goes_left_categorical(bits: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(valid, left) for category codes against one node's bitset (W uint64 words)."""
    with np.errstate(invalid="ignore"):
        valid = ~np.isnan(codes) & (codes >= 0) & (codes < 64 * len(bits))
    c = np.where(valid, codes, 0).astype(np.int64)
    word = bits[c // 64]
    left = ((word >> (c % 64).astype(np.uint64)) & np.uint64(1)).astype(bool)
    return valid, left & valid


def predict_margin(trees: TreeSet, X: np.ndarray) -> np.ndarray:
    """Sum of leaf values per output (categorical nodes included), rows as the trees see them.

    Parameters
    ----------
    trees : TreeSet
    X : ndarray of shape (n, n_columns)
        Encoded rows, cast with ``as_tree_input``.

    Returns
    -------
    ndarray of shape (n, n_outputs)
    """
    n = len(X)
    total = np.zeros((n, trees.n_outputs))
    categorical = getattr(trees, "categorical", None)
    bits = getattr(trees, "category_bits", None)
    for t in range(trees.n_trees):
        node = np.zeros(n, dtype=np.int64)
        while True:
            active = np.flatnonzero(trees.children_left[t][node] >= 0)
            if not len(active):
                break
            at = node[active]
            f = trees.features[t][at]
            value = X[active, f]
            nxt = np.where(value <= trees.thresholds[t][at], trees.children_left[t][at], trees.children_right[t][at])
            nxt = np.where(np.isnan(value), trees.children_default[t][at], nxt)
            if categorical is not None:
                for k in np.flatnonzero(categorical[t][at]):
                    valid, left = _goes_left_categorical(bits[t, at[k]], value[k : k + 1])
                    a = at[k]
                    if valid[0]:
                        nxt[k] = trees.children_left[t][a] if left[0] else trees.children_right[t][a]
                    else:
                        nxt[k] = trees.children_default[t][a]
            node[active] = nxt
        total += trees.values[t][node]
    return total


@dataclass(frozen=True)
class Lowering:
    """Categorical nodes rewritten as numeric nodes on derived indicator columns.

    A derived column holds, for one feature and one category set, 0 when the row's category
    goes left, 1 when it goes right and NaN when the code is missing or out of range (the
    node's default child); the rewritten node sends ``<= 0.5`` left. The derived columns are
    owned by their feature's group, so grouped SHAP values are unchanged.
    """

    n_columns: int
    sources: np.ndarray  # feature of every derived column
    bitsets: np.ndarray  # (n_derived, W) uint64

    def __call__(self, X: np.ndarray) -> np.ndarray:
        if not len(self.sources):
            return X
        derived = np.empty((len(X), len(self.sources)))
        for k, (f, bits) in enumerate(zip(self.sources, self.bitsets)):
            valid, left = _goes_left_categorical(bits, X[:, f])
            derived[:, k] = np.where(valid, np.where(left, 0.0, 1.0), np.nan)
        return np.hstack([X, derived])

    def groups(self, groups: np.ndarray) -> np.ndarray:
        """Group of every column of the widened matrix."""
        return np.concatenate([groups, groups[self.sources]]) if len(self.sources) else groups


def lower_categorical(trees: TreeSet, n_columns: int) -> tuple[TreeSet, Lowering]:
    """Rewrite categorical nodes as numeric nodes on derived columns (see :class:`Lowering`).

    Parameters
    ----------
    trees : TreeSet
    n_columns : int
        Number of encoded input columns.

    Returns
    -------
    (TreeSet without categorical nodes, Lowering widening the input matrix)
    """
    categorical = getattr(trees, "categorical", None)
    empty = np.zeros((0, 1), dtype=np.uint64)
    if categorical is None or not categorical[: trees.n_trees].any():
        return trees, Lowering(n_columns, np.zeros(0, dtype=np.int64), empty)
    features = trees.features.copy()
    thresholds = trees.thresholds.copy()
    index: dict[tuple, int] = {}
    for t, i in zip(*np.nonzero(categorical[: trees.n_trees])):
        bits = trees.category_bits[t, i]
        key = (int(trees.features[t, i]), bits.tobytes())
        k = index.setdefault(key, len(index))
        features[t, i] = n_columns + k
        thresholds[t, i] = 0.5
    sources = np.zeros(len(index), dtype=np.int64)
    bitsets = np.zeros((len(index), trees.category_bits.shape[2]), dtype=np.uint64)
    for (f, raw), k in index.items():
        sources[k] = f
        bitsets[k] = np.frombuffer(raw, dtype=np.uint64)
    lowered = replace(trees, features=features, thresholds=thresholds, categorical=None, category_bits=None)
    return lowered, Lowering(n_columns, sources, bitsets)
