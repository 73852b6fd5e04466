"""``audit init``: a commented ``audit.yaml`` and a draft contract, so ``audit check`` runs next.

The policy written has the rules most audits start from: the contract must hold; with a model,
the four-fifths rule on selection rates for each sensitive feature, decided on the confidence
interval; and, as warnings, the data's own representation and base-rate disparities. Every
guess (the positive label above all) is marked in a comment for the user to check.

Column names and values come from the data: they reach the YAML only through PyYAML's emitter
(never pasted into text), comments show them with every line-break and control character
escaped, and both files are parsed back and compared with what was meant before they are
written (see :mod:`auditkit.infer`). Files are written atomically by
:func:`auditkit.outputs.write_file` and never overwrite an existing file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .errors import DataError, ModelError
from .sanitize import terminal_safe

__all__ = ["FAVOURABLE_LABELS", "ScaffoldResult", "choose_positive_label", "scaffold"]

#: Target values read as the favourable outcome (compared stripped, case-insensitively).
FAVOURABLE_LABELS = frozenset({
    "1", "true", "t", "yes", "y", "good", "approved", "approve", "accepted", "accept", "granted", "hired",
    "pass", "passed", "positive", "success", "repaid", "paid", "admitted", "selected", "eligible",
})
REPRESENTATION_MIN_SHARE = 0.05
FOUR_FIFTHS = 0.8


@dataclass(frozen=True)
class ScaffoldResult:
    """What ``scaffold`` wrote, and what the user should check."""

    policy_path: Path
    contract_path: Path
    positive_label: str | None = None
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {"policy_path": str(self.policy_path), "contract_path": str(self.contract_path),
                "positive_label": self.positive_label, "notes": list(self.notes)}


def scaffold(data_path, *, target: str, sensitive, model=None, out_dir=None, positive_label=None) -> ScaffoldResult:
    """Write ``audit.yaml`` and ``schemas/<data>.yaml`` for a data file.

    Parameters
    ----------
    data_path : str or Path
        The data to audit (``.csv``, ``.csv.gz``, ``.parquet``).
    target : str
        The label column.
    sensitive : str or sequence of str
        Sensitive feature columns; a string is split on commas (``"sex,race"``).
    model : str or Path, optional
        A model file; adds fairness rules and explanations. Without it only data checks run.
    out_dir : str or Path, optional
        Where to write (default: the current folder). Paths in the policy are relative to it.
    positive_label : optional
        The favourable outcome; inferred with :func:`choose_positive_label` when omitted.

    Returns
    -------
    ScaffoldResult

    Raises
    ------
    DataError
        The data cannot be read, a named column is missing, the target cannot be used, or
        ``audit.yaml`` / the contract already exists (nothing is overwritten).
    ModelError
        The model file does not exist.
    """
    from .data import load_table
    from .infer import infer_contract

    data_path = Path(data_path)
    out = (Path(out_dir) if out_dir is not None else Path.cwd()).resolve()
    features = [s.strip() for s in sensitive.split(",")] if isinstance(sensitive, str) else [str(s) for s in sensitive]
    features = [f for f in features if f]
    if not features:
        raise DataError("no sensitive features given; name at least one column with --sensitive (e.g. --sensitive sex,race).")
    if len(set(features)) != len(features):
        raise DataError(f"--sensitive lists a column twice ({', '.join(features)}); list each once.")
    stem = _stem(data_path)
    policy_path = out / "audit.yaml"
    contract_path = out / "schemas" / f"{stem}.yaml"
    for path in (policy_path, contract_path):
        if path.exists():
            raise DataError(f"{path}: already exists and audit init never overwrites; move it away or choose another folder (--dir).")
    model_path = Path(model) if model is not None else None
    if model_path is not None and not model_path.is_file():
        raise ModelError(f"{model_path}: model file not found; give the path of a .skops (or .joblib/.pkl) file, or leave --model out.")

    frame = load_table(data_path)
    columns = [str(c) for c in frame.columns]
    for column, option in [(target, "--target")] + [(f, "--sensitive") for f in features]:
        if column not in columns:
            import difflib

            hint = difflib.get_close_matches(column, columns, n=1)
            more = f"did you mean '{hint[0]}'?" if hint else f"the data has: {', '.join(columns[:12])}"
            raise DataError(f"{data_path}: column '{column}' ({option}) is not in the data; {more}")
    if target in features:
        raise DataError(f"'{target}' is both the target and a sensitive feature; choose a different --target or --sensitive.")
    label, how = _positive_label(frame[target], positive_label, data_path)

    # Notes are printed on the terminal and written into comments: names and values from the data
    # in them are shown with control and line-break characters escaped.
    notes = []
    if how:
        notes.append(f"positive_label '{terminal_safe(label)}' was inferred ({how}); check it is the favourable outcome.")
    for feature in features:
        distinct = frame[feature].nunique(dropna=True)
        if distinct > 20:
            notes.append(f"sensitive feature '{terminal_safe(feature)}' has {distinct} distinct values; "
                         "bin it into a few groups for meaningful comparisons.")

    contract_text = infer_contract(frame, name=stem, source=data_path.name)
    policy_text = _policy_text(
        name=stem, data=_relative(data_path, out), contract=_relative(contract_path, out), target=target,
        label=label, how=how, features=features, model=None if model_path is None else _relative(model_path, out),
        pickle=model_path is not None and model_path.suffix.lower() in (".joblib", ".pkl", ".pickle"), notes=notes)
    made_folder = not contract_path.parent.exists()
    _write_new(contract_path, contract_text)
    try:
        _write_new(policy_path, policy_text)
    except BaseException:
        contract_path.unlink(missing_ok=True)
        if made_folder:
            try:
                contract_path.parent.rmdir()
            except OSError:
                pass
        raise
    return ScaffoldResult(policy_path=policy_path, contract_path=contract_path, positive_label=label, notes=tuple(notes))


def choose_positive_label(values) -> tuple[str, str] | None:
    """Pick the favourable outcome among exactly two target values, and say by which rule.

    Rules, first match wins (values compared as stripped text):

    1. a value in :data:`FAVOURABLE_LABELS` (``1``, ``true``, ``yes``, ``good``, ``approved``, ...)
       when the other is not;
    2. threshold labels: the value starting with ``>`` (``>50K`` over ``<=50K``);
    3. otherwise the less frequent value (ties: the last in sorted order), since the outcome
       being predicted is usually the rarer one.

    Returns
    -------
    (label, rule) or None
        None unless there are exactly two distinct values.
    """
    import pandas as pd

    from .predictions import label_key

    keys = pd.Series([label_key(v) for v in pd.Series(values).dropna().tolist()], dtype=object)
    counts = keys.value_counts()
    if len(counts) != 2:
        return None
    first, second = sorted(counts.index)
    favourable = [v for v in (first, second) if v.lower() in FAVOURABLE_LABELS]
    if len(favourable) == 1:
        return favourable[0], "it reads as a favourable outcome"
    above = [v for v in (first, second) if v.startswith(">")]
    if len(above) == 1:
        return above[0], "the higher of two threshold labels"
    rarer = second if counts[second] <= counts[first] else first
    return rarer, "the less frequent of the two values"


# ---------------------------------------------------------------- helpers


def _positive_label(series, given, data_path) -> tuple[str | None, str | None]:
    """(label, how it was inferred or None when given)."""
    import pandas as pd

    from .predictions import label_key

    name = series.name
    if series.isna().any():
        raise DataError(f"{data_path}: target column '{name}' has {int(series.isna().sum())} missing value(s); drop or fill those rows before auditing.")
    keys = sorted({label_key(v) for v in pd.unique(series)})
    if given is not None:
        if label_key(given) not in keys:
            raise DataError(f"{data_path}: positive label '{given}' does not occur in target column '{name}' (values: {', '.join(keys[:8])}); fix --positive-label.")
        return label_key(given), None
    chosen = choose_positive_label(series)
    if chosen is not None:
        return chosen
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return None, None  # a numeric target with many values: audited as a regression
    raise DataError(f"{data_path}: target column '{name}' has {len(keys)} values ({', '.join(keys[:8])}); "
                    "auditkit audits binary decisions: map it to two classes or give --positive-label.")


def _stem(path: Path) -> str:
    import re

    from .infer import _stem as infer_stem

    return re.sub(r"[^A-Za-z0-9_.-]+", "_", infer_stem(path)) or "data"


def _relative(path: Path, base: Path) -> str:
    try:
        return Path(os.path.relpath(Path(path).resolve(), Path(base).resolve())).as_posix()
    except ValueError:  # another drive on Windows
        return Path(path).resolve().as_posix()


def _scalar(value) -> str:
    """One line of YAML for ``value`` (a scalar, ``[a, b]`` or ``{k: v}``), from PyYAML's emitter."""
    from .infer import yaml_dump

    return yaml_dump(value, flow=True)


def _write_new(path: Path, text: str) -> None:
    """Create ``path`` atomically (auditkit.outputs.write_file); never replaces an existing file."""
    from .outputs import write_file

    if os.path.lexists(path):
        raise DataError(f"{path}: already exists and audit init never overwrites; move it away or choose another folder (--dir).")
    write_file(path, text, overwrite=False, hint="choose another folder (--dir)")


def _policy_text(*, name, data, contract, target, label, how, features, model, pickle, notes) -> str:
    """The commented policy. Every key and value is written by the YAML emitter (:func:`_scalar`),
    every comment holding text from the data goes through :func:`~auditkit.infer.yaml_comment_text`,
    and the result is parsed back and compared with the document meant before it is returned."""
    from .infer import check_round_trip, yaml_comment_text

    q = _scalar
    c = yaml_comment_text
    doc: dict = {"version": 1, "name": name,
                 "data": {"path": data, "contract": contract, "target": target}}
    lines = [
        f"# Audit policy drafted by `audit init` for {c(data)}.",
        "# Paths are relative to this file. Every key is described in docs/policy.md;",
        "# the data contract and the data-bias and drift metrics in docs/contracts.md.",
        "# Run it with:  audit check",
        "version: 1",
        f"name: {q(name)}",
        "data:",
        f"  path: {q(data)}",
        f"  contract: {q(contract)}  # drafted from the data: review it (ranges, categories)",
        f"  target: {q(target)}",
    ]
    if label is not None:
        comment = f"CHECK: inferred ({c(how)})" if how else "the favourable outcome"
        lines.append(f"  positive_label: {q(label)}  # {comment}")
        doc["data"]["positive_label"] = label
    else:
        lines.append("  # positive_label: ...  # the target is numeric: audited as a regression")
    lines.append("  # reference: data/train.csv  # reference data (e.g. the training set) enables drift rules")
    if model is not None:
        lines += ["model:", f"  path: {q(model)}"]
        doc["model"] = {"path": model}
        if pickle:
            lines.append("  trust: false  # a pickle runs code when loaded: set true only for a file you made")
            doc["model"]["trust"] = False
        lines.append("  threshold: 0.5  # predicted positive when P(positive) >= threshold")
        doc["model"]["threshold"] = 0.5
    else:
        lines += ["# No model yet: only the data checks run. Add one to audit its decisions:",
                  "# model:", "#   path: models/candidate.skops"]
    lines.append(f"sensitive_features: {q(list(features))}")
    doc["sensitive_features"] = list(features)
    if len(features) > 1:
        lines.append(f"# intersections: {c(q([list(features[:2])]))}  # groups formed by combinations")
    lines += ["fairness:", "  min_group_size: 30  # smaller groups are reported, not compared"]
    doc["fairness"] = {"min_group_size": 30}
    if model is not None:
        lines += ["  bootstrap: 1000  # resamples for confidence intervals", "  confidence: 0.95",
                  "explain:", "  enabled: true", "  max_rows: 2000"]
        doc["fairness"].update({"bootstrap": 1000, "confidence": 0.95})
        doc["explain"] = {"enabled": True, "max_rows": 2000}
    lines += ["rules:",
              "  - id: contract-holds",
              "    metric: contract_violations",
              "    max: 0",
              "    rationale: The data must match its contract (types, ranges, allowed categories)."]
    rules = [{"id": "contract-holds", "metric": "contract_violations", "max": 0,
              "rationale": "The data must match its contract (types, ranges, allowed categories)."}]
    doc["rules"] = rules
    if model is not None and label is None:
        lines.append("  # (no four-fifths rules: the target is numeric, so selection rates are undefined)")
    if model is not None and label is not None:
        for feature in features:
            rule_id = "four-fifths-" + _slug(feature)
            rationale = "EEOC four-fifths rule - no group selected at under 80% of the highest group's rate."
            lines += [f"  - id: {q(rule_id)}",
                      "    metric: demographic_parity_ratio",
                      f"    feature: {q(feature)}",
                      f"    min: {FOUR_FIFTHS}",
                      "    decide_on: ci  # pass only if the whole confidence interval passes",
                      "    on_inconclusive: warn  # too little data to tell: a warning, not a failure",
                      f"    rationale: {q(rationale)}"]
            rules.append({"id": rule_id, "metric": "demographic_parity_ratio", "feature": feature, "min": FOUR_FIFTHS,
                          "decide_on": "ci", "on_inconclusive": "warn", "rationale": rationale})
    for feature in features:
        rule_id = "representation-" + _slug(feature)
        rationale = "A group under 5% of the rows is too small for stable estimates; collect more data for it."
        lines += [f"  - id: {q(rule_id)}",
                  "    metric: representation_min_share",
                  f"    feature: {q(feature)}",
                  f"    min: {REPRESENTATION_MIN_SHARE}",
                  "    severity: warning",
                  f"    rationale: {q(rationale)}"]
        rules.append({"id": rule_id, "metric": "representation_min_share", "feature": feature,
                      "min": REPRESENTATION_MIN_SHARE, "severity": "warning", "rationale": rationale})
        if label is not None:
            rule_id = "base-rate-" + _slug(feature)
            rationale = "Positive outcomes already differ by group in the data; a model trained on it can learn the gap."
            lines += [f"  - id: {q(rule_id)}",
                      "    metric: base_rate_ratio",
                      f"    feature: {q(feature)}",
                      f"    min: {FOUR_FIFTHS}",
                      "    severity: warning",
                      f"    rationale: {q(rationale)}"]
            rules.append({"id": rule_id, "metric": "base_rate_ratio", "feature": feature, "min": FOUR_FIFTHS,
                          "severity": "warning", "rationale": rationale})
    lines += [
        "  # More rules to consider (see docs/contracts.md):",
        "  # - id: no-feature-drift  # needs data.reference",
        "  #   metric: psi",
        "  #   max: 0.25  # largest PSI over features; 0.1-0.25 moderate, > 0.25 large shift",
        "  # - id: missing-data-by-group",
        "  #   metric: missingness_gap",
        f"  #   feature: {c(q(features[0]))}",
        "  #   max: 0.1",
        "  #   severity: warning",
        "  # An accuracy floor (metric: accuracy, min: ...) belongs here once you know the baseline to beat.",
    ]
    if notes:
        lines[1:1] = [f"# CHECK: {c(n)}" for n in notes]
    text = "\n".join(lines) + "\n"
    check_round_trip(text, doc, "policy")
    return text


def _slug(text: str) -> str:
    import re

    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "feature"
