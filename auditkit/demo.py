"""``audit demo``: the German Credit example, built from the real data shipped with auditkit.

The raw Statlog file is decoded into a readable CSV with ``sex`` (from the personal-status
code) and ``age_group`` (under 25 / 25 and over), split into a training set and a held-out
audit set, a scikit-learn model is trained and saved as ``.skops``, and a pandera contract
and an ``audit.yaml`` with meaningful rules are written next to them.
"""

from __future__ import annotations

import json
import os
from importlib.resources import files
from pathlib import Path
from typing import Callable

from .errors import AuditkitError, OutputError

__all__ = ["build_demo", "demo_files", "german_credit_contract", "load_german_credit"]

RAW_COLUMNS = [
    "status", "duration", "credit_history", "purpose", "credit_amount", "savings", "present_employment",
    "installment_rate", "status_sex", "other_debtors", "present_residence_since", "property", "age",
    "installment_plans", "housing", "number_of_existing_credits", "job", "number_of_people_liable_for",
    "telephone", "foreign_worker", "credit",
]
RENAME = {
    "status": "checking_account", "duration": "duration_months", "present_employment": "employed_since",
    "present_residence_since": "residence_since", "installment_plans": "other_installment_plans",
    "number_of_existing_credits": "existing_credits", "number_of_people_liable_for": "dependents",
}
CATEGORICAL = ["checking_account", "credit_history", "purpose", "savings", "employed_since", "personal_status",
               "other_debtors", "property", "other_installment_plans", "housing", "job", "telephone", "foreign_worker"]
NUMERIC_RANGES = {
    "duration_months": (1, 120), "credit_amount": (1, 100_000), "installment_rate": (1, 4),
    "residence_since": (1, 4), "age": (18, 100), "existing_credits": (1, 4), "dependents": (1, 2),
}
TARGET = "credit_risk"
AGE_GROUPS = ("under 25", "25 and over")

POLICY_TEMPLATE = """\
# Audit policy for the German Credit demo (built by `audit demo`).
# Paths are relative to this file. See docs/policy.md for every key.
version: 1
name: german-credit-scoring
data:
  path: data/credit.csv              # held-out applicants the model did not see in training
  contract: schemas/german_credit.yaml
  target: credit_risk
  positive_label: good               # the favourable outcome: credit granted
  reference: data/train.csv
model:
  path: models/credit_model.skops    # loaded safely: skops checks every type
  threshold: 0.5
sensitive_features: [sex, age_group]
intersections: [[sex, age_group]]
fairness:
  metrics: [selection_rate, tpr, fpr, ppv, accuracy]
  reference_groups: {{sex: male, age_group: 25 and over}}
  min_group_size: 30
  bootstrap: 1000
  confidence: 0.95
explain:
  enabled: true
  max_rows: 2000
# Adverse-action reasons (`audit reasons audit.yaml --out reasons.csv`): the principal reasons
# of each declined applicant, stated with these codes. Never stated: personal_status (it encodes
# sex), age (the sensitive age_group is derived from it) and foreign_worker (national origin).
reasons:
  k: 4
  baseline: approved                 # what separates the applicant from a typical approved one
  exclude: [personal_status, age, foreign_worker]
  codes:
    checking_account: R01 Status of existing checking account
    duration_months: R02 Duration of the credit requested
    credit_history: R03 Credit history
    purpose: R04 Purpose of the credit
    credit_amount: R05 Amount of credit requested
    savings: R06 Savings account or bonds
    employed_since: R07 Length of present employment
    installment_rate: R08 Installment rate as a share of disposable income
    other_debtors: R09 Other debtors or guarantors
    residence_since: R10 Length of present residence
    property: R11 Property owned
    other_installment_plans: R12 Other installment plans
    housing: R13 Housing
    existing_credits: R14 Number of existing credits at this bank
    job: R15 Type of employment
    dependents: R16 Number of dependents
    telephone: R17 Telephone registration
rules:
  - id: contract-holds
    metric: contract_violations
    max: 0
    rationale: Training and audit data must match the agreed schema.
  - id: four-fifths-sex
    metric: demographic_parity_ratio
    feature: sex
    min: 0.8
    rationale: EEOC four-fifths rule for selection rates (29 CFR 1607.4(D)).
  - id: four-fifths-age
    metric: demographic_parity_ratio
    feature: age_group
    min: 0.8
    rationale: Applicants under 25 must not be approved at under four-fifths the rate of older applicants.
  - id: equalized-odds-age
    metric: equalized_odds_difference
    feature: age_group
    max: 0.2
    decide_on: ci
    on_inconclusive: warn
    rationale: Error rates should not differ by more than 20 points between age groups; decided on the interval because the audit set is small.
  - id: accuracy-floor
    metric: accuracy
    min: 0.7
    rationale: The model must be at least as useful as the scorecard it replaces.
  - id: no-major-drift
    metric: psi
    max: 0.25
    rationale: The applicants audited should look like those the model was trained on; a PSI above 0.25 is a major shift.
  - id: label-balance-sex
    metric: base_rate_ratio
    feature: sex
    min: 0.8
    severity: warning
    rationale: Bias in the historical labels themselves, before any model; a model trained on them can inherit it.
  - id: sex-not-used
    metric: shap_share
    feature: personal_status
    max: 0.15
    severity: warning
    rationale: personal_status encodes sex in this data set; the model should not lean on it heavily.
  - id: reasons-stable
    metric: reason_stability
    min: 0.9
    rationale: A declined applicant must be told the same reasons whichever sample of approved applicants they are compared with.
  - id: no-protected-reasons
    metric: reason_protected_share
    max: 0
    rationale: No declined applicant may be told a sensitive feature, or an input standing in for one, as a reason.
"""


CHAMPION_POLICY_TEMPLATE = POLICY_TEMPLATE.replace(
    "name: german-credit-scoring", "name: german-credit-candidate-vs-champion"
).replace(
    "  path: models/credit_model.skops    # loaded safely: skops checks every type\n  threshold: 0.5\n",
    "  path: models/candidate.skops      # retrained on a refreshed data set\n  threshold: 0.5\n"
    "champion:\n  path: models/credit_model.skops    # the model in production today\n  threshold: 0.5\n",
) + """\
  - id: no-worse-for-any-age-group
    metric: tpr
    feature: age_group
    compare: champion
    max_regression: 0.05
    rationale: Creditworthy applicants of every age must be approved at least as often as today (5 points of slack).
  - id: no-worse-overall
    metric: accuracy
    compare: champion
    max_regression: 0.02
    rationale: The candidate replaces the champion only if it is not less accurate.
  - id: equalized-odds-not-worse
    metric: equalized_odds_difference
    feature: age_group
    compare: champion
    max_increase: 0.05
    decide_on: ci
    on_inconclusive: warn
    rationale: The gap in error rates between age groups must not widen.
"""


def _raw_path(name: str) -> Path:
    return Path(str(files("auditkit.demo_data").joinpath(name)))


def _readable(meaning: str) -> str:
    """'... < 0 DM' -> 'x < 0 DM': the publisher writes the value as dots."""
    text = meaning.replace("...", "x").replace("..", "x").strip()
    return " ".join(text.split())


def load_german_credit():
    """The bundled German Credit data, decoded into readable values.

    Returns
    -------
    pandas.DataFrame
        1,000 rows; categorical codes replaced by their meaning, with ``sex``,
        ``personal_status``, ``age_group`` and the label ``credit_risk`` (good / bad).
    """
    import pandas as pd

    codes = json.loads(_raw_path("codes.json").read_text(encoding="utf-8"))
    raw = pd.read_csv(_raw_path("german.data"), sep=" ", header=None, names=RAW_COLUMNS, dtype=str)
    frame = pd.DataFrame(index=raw.index)
    for column in RAW_COLUMNS:
        values = raw[column]
        if column == "status_sex":
            meaning = values.map(codes["status_sex"])
            frame["sex"] = meaning.str.split(":").str[0].str.strip()
            frame["personal_status"] = meaning.str.split(":").str[1].str.strip()
        elif column == "credit":
            frame[TARGET] = values.map(codes["credit"])
        elif column in ("telephone", "foreign_worker"):
            frame[RENAME.get(column, column)] = values.map(codes[column]).map({True: "yes", False: "no"})
        elif column in codes:
            frame[RENAME.get(column, column)] = values.map(lambda c, m=codes[column]: _readable(m[c]))
        else:
            frame[RENAME.get(column, column)] = values.astype("int64")
    frame["age_group"] = frame["age"].map(lambda a: AGE_GROUPS[0] if a < 25 else AGE_GROUPS[1])
    return frame


def german_credit_contract(frame):
    """The pandera contract for the decoded German Credit data."""
    import pandera.pandas as pa

    columns = {}
    for name in frame.columns:
        if name in NUMERIC_RANGES:
            low, high = NUMERIC_RANGES[name]
            columns[name] = pa.Column("int64", pa.Check.in_range(low, high), nullable=False)
        else:
            allowed = sorted(frame[name].dropna().unique().tolist())
            columns[name] = pa.Column(None, pa.Check.isin(allowed), nullable=False)
    return pa.DataFrameSchema(columns, strict=True, name="german_credit",
                              description="Decoded Statlog German Credit data (auditkit demo).")


def build_demo(directory: str | Path, *, seed: int = 0, progress: Callable[[str], None] | None = None,
               with_champion: bool = False) -> Path:
    """Write the demo's data, contract, model and policy into ``directory``.

    With ``with_champion``, the demo's model becomes the champion in production and a
    candidate is trained on a "refreshed" training set in which a data error relabelled
    many creditworthy applicants under 25 as bad risks: a deliberately worse candidate
    that the comparison rules must catch for the group it hurts.

    All or nothing: the arguments are checked and every file is built in memory before
    anything is written, then :func:`auditkit.outputs.write_folder` writes them as one unit;
    a failure part-way leaves ``directory`` as it was. Other files in an existing
    ``directory`` (an earlier ``audit-report/``, say) are left alone.

    Returns
    -------
    Path
        The ``audit.yaml`` written.

    Raises
    ------
    AuditkitError
        ``seed`` is not a whole number from 0 to 2**32 - 1.
    OutputError
        The folder cannot be created or written; nothing was changed.
    """
    from .outputs import write_folder

    say = progress or (lambda _m: None)
    root = Path(directory)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= _MAX_SEED:
        raise AuditkitError(f"--seed {seed!r}: the demo's seed must be a whole number from 0 to {_MAX_SEED}; choose another seed.")
    if os.path.lexists(root) and not root.is_dir():
        raise OutputError(f"{root}: exists and is not a folder; choose another folder for the demo.")
    contents = demo_files(seed=seed, say=say, with_champion=with_champion)
    write_folder(root, contents, hint="choose another folder for the demo")
    return root / POLICY_NAME


_MAX_SEED = 2**32 - 1
#: The policy file of the demo, in its folder.
POLICY_NAME = "audit.yaml"


def demo_files(*, seed: int = 0, say: Callable[[str], None] = lambda _m: None,
               with_champion: bool = False) -> dict[str, str | bytes]:
    """Every file of the demo, by path relative to its folder: data, contract, model(s), policy."""
    say("decoding the German Credit data")
    frame = load_german_credit()
    from sklearn.model_selection import train_test_split

    train, audit = train_test_split(frame, test_size=0.3, random_state=seed, stratify=frame[TARGET])
    contents: dict[str, str | bytes] = {
        "data/train.csv": train.to_csv(index=False),
        "data/credit.csv": audit.to_csv(index=False),
        "data/ATTRIBUTION.md": (
            "Statlog (German Credit Data), UCI Machine Learning Repository, Hans Hofmann (1994), CC BY 4.0.\n"
            "Decoded by auditkit's demo: categorical codes replaced by their documented meaning.\n"),
        "schemas/german_credit.yaml": german_credit_contract(frame).to_yaml(),
    }
    say("training a logistic regression scorecard")
    import skops.io as sio

    contents["models/credit_model.skops"] = sio.dumps(train_model(train, seed=seed))
    if with_champion:
        say("training a deliberately worse candidate")
        contents["models/candidate.skops"] = sio.dumps(train_model(_corrupt_young_labels(train, seed=seed), seed=seed))
        contents[POLICY_NAME] = CHAMPION_POLICY_TEMPLATE.format()
    else:
        contents[POLICY_NAME] = POLICY_TEMPLATE.format()
    return contents


def _corrupt_young_labels(train, *, seed: int = 0, share: float = 0.6):
    """A training set in which ``share`` of the good risks under 25 were relabelled bad."""
    import numpy as np

    rng = np.random.default_rng(seed)
    corrupted = train.copy()
    young_good = (corrupted["age_group"] == AGE_GROUPS[0]) & (corrupted[TARGET] == "good")
    flip = young_good & (rng.random(len(corrupted)) < share)
    corrupted.loc[flip, TARGET] = "bad"
    return corrupted


def model_features(frame) -> list[str]:
    """The model's inputs: everything but the label and the derived sensitive columns."""
    return [c for c in frame.columns if c not in (TARGET, "sex", "age_group")]


def train_model(train, *, seed: int = 0):
    """A typical credit scorecard: one-hot categories, scaled numbers, logistic regression."""
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    features = model_features(train)
    categorical = [c for c in features if c in CATEGORICAL]
    numeric = [c for c in features if c not in CATEGORICAL]
    pipeline = Pipeline([
        ("prepare", ColumnTransformer([
            ("categories", OneHotEncoder(handle_unknown="ignore"), categorical),
            ("numbers", StandardScaler(), numeric),
        ])),
        ("classifier", LogisticRegression(max_iter=2000, C=0.5, random_state=seed)),
    ])
    return pipeline.fit(train[features], train[TARGET])
