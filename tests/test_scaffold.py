"""audit init: the scaffolded policy and contract, on the Adult data and the German Credit demo."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
import yaml

from auditkit.contract import validate
from auditkit.data import load_table
from auditkit.errors import DataError, ModelError
from auditkit.scaffold import choose_positive_label, scaffold

ADULT = Path(__file__).resolve().parents[1] / "examples" / "data" / "adult"
COLUMNS = ("age,workclass,fnlwgt,education,education_num,marital_status,occupation,relationship,race,sex,"
           "capital_gain,capital_loss,hours_per_week,native_country,income")


@pytest.fixture(scope="module")
def adult_csv(tmp_path_factory) -> Path:
    """The raw training split with a header row, as a new user would make it."""
    path = tmp_path_factory.mktemp("adult") / "adult.csv"
    with gzip.open(ADULT / "adult.data.gz", "rt", encoding="utf-8") as raw:
        path.write_text(COLUMNS + "\n" + raw.read(), encoding="utf-8")
    return path


def _loadable(document: dict, has_model: bool) -> dict:
    """The policy minus rules whose metric this auditkit's loader does not know yet."""
    from auditkit.metrics import get_metric

    kept = [r for r in document["rules"]
            if get_metric(r["metric"]) is not None and (has_model or not get_metric(r["metric"]).needs_model)]
    return {**document, "rules": kept}


def _load(policy_path: Path, has_model: bool):
    from auditkit.policy import policy_from_dict

    document = yaml.safe_load(policy_path.read_text(encoding="utf-8"))
    return policy_from_dict(_loadable(document, has_model), source=policy_path.resolve())


def test_adult_scaffold_without_model(adult_csv, tmp_path):
    result = scaffold(adult_csv, target="income", sensitive="sex,race", out_dir=tmp_path)
    assert result.policy_path == tmp_path.resolve() / "audit.yaml"
    assert result.contract_path == tmp_path.resolve() / "schemas" / "adult.yaml"
    text = result.policy_path.read_text(encoding="utf-8")
    document = yaml.safe_load(text)
    assert document["version"] == 1 and document["name"] == "adult"
    data = document["data"]
    assert (tmp_path / data["path"]).resolve() == adult_csv.resolve()
    assert (tmp_path / data["contract"]).resolve() == result.contract_path
    assert data["target"] == "income" and data["positive_label"] == ">50K" == result.positive_label
    assert "CHECK" in text and "model" not in document
    assert document["sensitive_features"] == ["sex", "race"]
    rules = {r["id"]: r for r in document["rules"]}
    assert rules["contract-holds"] == {"id": "contract-holds", "metric": "contract_violations", "max": 0,
                                       "rationale": rules["contract-holds"]["rationale"]}
    for feature in ("sex", "race"):
        assert rules[f"representation-{feature}"]["metric"] == "representation_min_share"
        assert rules[f"base-rate-{feature}"]["metric"] == "base_rate_ratio"
        assert rules[f"representation-{feature}"]["severity"] == rules[f"base-rate-{feature}"]["severity"] == "warning"
    assert not any(r["metric"] == "demographic_parity_ratio" for r in document["rules"])
    assert not any(r["metric"] == "accuracy" for r in document["rules"])
    # the draft contract holds on the data, so `audit check` passes its contract rule right away
    assert validate(load_table(adult_csv), result.contract_path).passed
    policy = _load(result.policy_path, has_model=False)
    assert policy.data.target == "income" and [r.id for r in policy.rules][0] == "contract-holds"


def test_scaffold_with_model_on_the_demo(demo_dir, tmp_path):
    data = demo_dir / "data" / "credit.csv"
    model = demo_dir / "models" / "credit_model.skops"
    result = scaffold(data, target="credit_risk", sensitive=["sex", "age_group"], model=model, out_dir=tmp_path)
    document = yaml.safe_load(result.policy_path.read_text(encoding="utf-8"))
    assert document["data"]["positive_label"] == "good"
    assert (tmp_path / document["model"]["path"]).resolve() == model.resolve()
    rules = {r["id"]: r for r in document["rules"]}
    for feature, slug in (("sex", "sex"), ("age_group", "age-group")):
        rule = rules[f"four-fifths-{slug}"]
        assert (rule["metric"], rule["feature"], rule["min"]) == ("demographic_parity_ratio", feature, 0.8)
        assert rule["decide_on"] == "ci" and rule["on_inconclusive"] == "warn"
    assert document["fairness"]["bootstrap"] > 0 and document["explain"]["enabled"] is True
    policy = _load(result.policy_path, has_model=True)
    assert {r.id for r in policy.rules} >= {"contract-holds", "four-fifths-sex", "four-fifths-age-group"}


def test_never_overwrites(adult_csv, tmp_path):
    (tmp_path / "audit.yaml").write_text("mine\n")
    with pytest.raises(DataError, match="already exists"):
        scaffold(adult_csv, target="income", sensitive="sex", out_dir=tmp_path)
    assert (tmp_path / "audit.yaml").read_text() == "mine\n" and not (tmp_path / "schemas").exists()
    other = tmp_path / "other"
    (other / "schemas").mkdir(parents=True)
    (other / "schemas" / "adult.yaml").write_text("mine\n")
    with pytest.raises(DataError, match="adult.yaml: already exists"):
        scaffold(adult_csv, target="income", sensitive="sex", out_dir=other)
    assert not (other / "audit.yaml").exists()


def test_bad_arguments(adult_csv, tmp_path):
    with pytest.raises(DataError, match="'incme'.*did you mean 'income'"):
        scaffold(adult_csv, target="incme", sensitive="sex", out_dir=tmp_path)
    with pytest.raises(DataError, match="'gender' \\(--sensitive\\)"):
        scaffold(adult_csv, target="income", sensitive="gender", out_dir=tmp_path)
    with pytest.raises(DataError, match="'nope' does not occur"):
        scaffold(adult_csv, target="income", sensitive="sex", positive_label="nope", out_dir=tmp_path)
    with pytest.raises(DataError, match="binary decisions"):
        scaffold(adult_csv, target="race", sensitive="sex", out_dir=tmp_path)
    with pytest.raises(ModelError, match="model file not found"):
        scaffold(adult_csv, target="income", sensitive="sex", model=tmp_path / "m.skops", out_dir=tmp_path)
    assert not (tmp_path / "audit.yaml").exists()


def test_given_positive_label_and_notes(adult_csv, tmp_path):
    result = scaffold(adult_csv, target="income", sensitive="sex,age", positive_label=" <=50K", out_dir=tmp_path)
    assert result.positive_label == "<=50K"
    assert any("'age' has 73 distinct values" in n for n in result.notes)
    assert "CHECK: sensitive feature 'age'" in result.policy_path.read_text()


@pytest.mark.parametrize("values, expected", [
    (["good", "bad", "bad"], ("good", "it reads as a favourable outcome")),
    ([0, 1, 1, 0], ("1", "it reads as a favourable outcome")),
    ([True, False], ("true", "it reads as a favourable outcome")),
    ([" <=50K", " >50K", " <=50K"], (">50K", "the higher of two threshold labels")),
    (["no", "yes"], ("yes", "it reads as a favourable outcome")),
    (["A", "A", "B"], ("B", "the less frequent of the two values")),
    (["A", "B"], ("B", "the less frequent of the two values")),
    (["a", "b", "c"], None),
    (["a", "a"], None),
])
def test_positive_label_rule(values, expected):
    assert choose_positive_label(values) == expected
