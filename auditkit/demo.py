"""``audit demo``: the German Credit example, built from the real data shipped with auditkit.

The raw Statlog file is decoded into a readable CSV with ``sex`` (from the personal-status
code) and ``age_group`` (under 25 / 25 and over), split into a training set and a held-out
audit set, a scikit-learn model is trained and saved as ``.skops``, and a pandera contract
and an ``audit.yaml`` with meaningful rules are written next to them.
"""

from __future__ import annotations

import json
import os
import shutil
from importlib.resources import files
from pathlib import Path
from typing import Callable

from .errors import AuditkitError, OutputError
from .outputs import _backup, missing_folders, remove_created

__all__ = ["build_demo", "german_credit_contract", "load_german_credit"]

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
SENSITIVE = ["sex", "age_group"]
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

    All or nothing: the arguments are checked before anything is written, the demo is built
    in a staging folder (beside ``directory``, or inside it when it exists already) and then
    renamed into place; a failure part-way leaves ``directory`` as it was. Other files in an
    existing ``directory`` (an earlier ``audit-report/``, say) are left alone.

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
    say = progress or (lambda _m: None)
    root = Path(directory)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= _MAX_SEED:
        raise AuditkitError(f"--seed {seed!r}: the demo's seed must be a whole number from 0 to {_MAX_SEED}; choose another seed.")
    if os.path.lexists(root) and not root.is_dir():
        raise OutputError(f"{root}: exists and is not a folder; choose another folder for the demo.")
    staging, created = _staging_folder(root)
    try:
        try:
            policy_name = _build_into(staging, seed=seed, say=say, with_champion=with_champion)
        except OSError as exc:
            raise OutputError(f"{root}: cannot create the demo folder ({exc.strerror or type(exc).__name__}); "
                              "choose another folder.") from None
        _switch_in(staging, root)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        remove_created(created)
        raise
    shutil.rmtree(staging, ignore_errors=True)  # gone already when it was renamed into place
    return root / policy_name


_MAX_SEED = 2**32 - 1
_STAGING_TAG = ".auditkit-demo-"
_STALE_AFTER = 3600.0  # seconds: a demo build takes well under a minute


def _staging_folder(root: Path) -> tuple[Path, list[Path]]:
    """A fresh staging folder on the same file system as ``root``, and the folders created for it.

    Beside ``root`` (``.NAME.auditkit-demo-XXXX``) when ``root`` does not exist yet, so that the
    finished demo is renamed into place in one step; inside it when it does.
    """
    exists = root.is_dir()
    parent = root if exists else (root.parent if str(root.parent) else Path("."))
    prefix = _STAGING_TAG if exists else f".{root.name}{_STAGING_TAG}"
    created = missing_folders(parent)
    try:
        parent.mkdir(parents=True, exist_ok=True)
        _remove_stale(parent, prefix)
        staging = _fresh_folder(parent, prefix)
    except OSError as exc:
        remove_created(created)
        raise OutputError(f"{root}: cannot create the demo folder ({exc.strerror or type(exc).__name__}); "
                          "choose another folder.") from None
    return staging, created


def _fresh_folder(parent: Path, prefix: str) -> Path:
    """A new, uniquely named folder with the usual permissions (the umask applies)."""
    import secrets

    while True:
        candidate = parent / f"{prefix}{secrets.token_hex(6)}"
        try:
            os.mkdir(candidate, 0o777)
            return candidate
        except FileExistsError:
            continue


def _remove_stale(parent: Path, prefix: str) -> None:
    """Staging folders of demo builds that were killed (older than an hour)."""
    import time

    try:
        entries = list(os.scandir(parent))
    except OSError:
        return
    for entry in entries:
        try:
            if (entry.name.startswith(prefix) and entry.is_dir(follow_symlinks=False)
                    and entry.stat(follow_symlinks=False).st_mtime < time.time() - _STALE_AFTER):
                shutil.rmtree(entry.path, ignore_errors=True)
        except OSError:
            pass


def _build_into(root: Path, *, seed: int, say: Callable[[str], None], with_champion: bool) -> str:
    """Write every file of the demo into ``root``; the policy's file name."""
    for sub in ("data", "schemas", "models"):
        (root / sub).mkdir(parents=True, exist_ok=True)

    say("decoding the German Credit data")
    frame = load_german_credit()
    from sklearn.model_selection import train_test_split

    train, audit = train_test_split(frame, test_size=0.3, random_state=seed, stratify=frame[TARGET])
    train.to_csv(root / "data" / "train.csv", index=False)
    audit.to_csv(root / "data" / "credit.csv", index=False)
    (root / "data" / "ATTRIBUTION.md").write_text(
        "Statlog (German Credit Data), UCI Machine Learning Repository, Hans Hofmann (1994), CC BY 4.0.\n"
        "Decoded by auditkit's demo: categorical codes replaced by their documented meaning.\n", encoding="utf-8")

    contract = german_credit_contract(frame)
    (root / "schemas" / "german_credit.yaml").write_text(contract.to_yaml(), encoding="utf-8")

    say("training a logistic regression scorecard")
    model = train_model(train, seed=seed)
    import skops.io as sio

    sio.dump(model, root / "models" / "credit_model.skops")
    policy = root / "audit.yaml"
    if with_champion:
        say("training a deliberately worse candidate")
        sio.dump(train_model(_corrupt_young_labels(train, seed=seed), seed=seed), root / "models" / "candidate.skops")
        policy.write_text(CHAMPION_POLICY_TEMPLATE.format(), encoding="utf-8")
    else:
        policy.write_text(POLICY_TEMPLATE.format(), encoding="utf-8")
    for path in root.rglob("*"):
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
    return policy.name


def _switch_in(staging: Path, root: Path) -> None:
    """Move the built demo into ``root``: one rename when ``root`` does not exist, else file by
    file with the files it replaces kept until the end and put back if a step fails."""
    if not root.is_dir():
        try:
            os.rename(staging, root)
            return
        except OSError:
            if not root.is_dir():
                raise OutputError(f"{root}: cannot create the demo folder; choose another folder.") from None
            # created meanwhile: fall through and merge
    files = sorted(p.relative_to(staging) for p in staging.rglob("*") if p.is_file())
    backups = staging / ".replaced"
    done: list[tuple[Path, bool]] = []
    made: list[Path] = []
    try:
        for rel in files:
            target = root / rel
            for folder in reversed(target.parents):
                if folder != root and root in folder.parents and not folder.is_dir():
                    folder.mkdir()
                    made.append(folder)
            existed = os.path.lexists(target)
            if existed:
                if target.is_dir() and not target.is_symlink():
                    raise OutputError(f"{target}: is a folder, so the demo cannot write its file there; choose another folder.")
                (backups / rel).parent.mkdir(parents=True, exist_ok=True)
                _backup(target, backups / rel)  # a hard link: the old file stays in place until replaced
            os.replace(staging / rel, target)
            done.append((rel, existed))
    except BaseException as exc:
        for rel, existed in reversed(done):
            try:
                if existed:
                    os.replace(backups / rel, root / rel)
                else:
                    os.unlink(root / rel)
            except OSError:
                pass
        remove_created(made)
        if isinstance(exc, OSError):
            raise OutputError(f"{root}: writing the demo failed ({exc.strerror or type(exc).__name__}); "
                              "its earlier files were put back; choose another folder.") from None
        raise


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
