"""Policy texts shared by several test modules (imported as a plain module, not a fixture)."""

MINIMAL_POLICY = """\
version: 1
name: minimal
data:
  path: data/credit.csv
  contract: schemas/german_credit.yaml
  target: credit_risk
  positive_label: good
model:
  path: models/credit_model.skops
sensitive_features: [sex, age_group]
fairness:
  bootstrap: 200
explain:
  max_rows: 200
rules:
  - id: contract-holds
    metric: contract_violations
    max: 0
  - id: accuracy-floor
    metric: accuracy
    min: 0.5
"""
