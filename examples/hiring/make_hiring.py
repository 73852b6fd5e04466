"""Build the synthetic hiring example (examples/hiring/applicants.csv), deterministically.

    python examples/hiring/make_hiring.py            # rewrites applicants.csv beside this file

Every row is one applicant screened by a fictional resume-screening tool: sex and
race/ethnicity (EEO-1 categories, some unknown), the tool's score (0-1) and decision
(``selected``: score >= 0.5), and ``qualified``, the later judgement of a recruiter used as
the audit's label. The tool is built to treat some groups worse, and "Native Hawaiian or
Other Pacific Islander" is kept under 2% of the rows so the LL144 2% rule has something to
exclude. Nothing here describes real people.
"""

from __future__ import annotations

from pathlib import Path

SEXES = (("Male", 0.50), ("Female", 0.46), (None, 0.02), ("Decline to state", 0.02))
RACES = (
    ("Hispanic or Latino", 0.18),
    ("White", 0.40),
    ("Black or African American", 0.17),
    ("Asian", 0.15),
    ("Native Hawaiian or Other Pacific Islander", 0.012),
    ("American Indian or Alaska Native", 0.028),
    ("Two or More Races", 0.03),
    (None, 0.03),
)
# Shift of the tool's score (in logits) by category: the unfairness the audit must find.
SEX_SHIFT = {"Male": 0.25, "Female": -0.25}
RACE_SHIFT = {"White": 0.3, "Asian": 0.2, "Hispanic or Latino": -0.2, "Black or African American": -0.45}


def make_hiring(n: int = 3000, seed: int = 7):
    """The applicants as a DataFrame; the same n and seed always give the same rows."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    sex = rng.choice(len(SEXES), size=n, p=[p for _, p in SEXES])
    race = rng.choice(len(RACES), size=n, p=[p for _, p in RACES])
    skill = rng.normal(0.0, 1.0, size=n)
    qualified = (skill + rng.normal(0.0, 0.8, size=n) > 0.1).astype(int)
    shift = np.array([SEX_SHIFT.get(SEXES[s][0], 0.0) + RACE_SHIFT.get(RACES[r][0], 0.0) for s, r in zip(sex, race)])
    score = 1.0 / (1.0 + np.exp(-(1.2 * skill + shift - 0.1)))
    score = np.round(score, 4)
    frame = pd.DataFrame({
        "applicant_id": [f"A{i:05d}" for i in range(n)],
        "sex": [SEXES[s][0] for s in sex],
        "race_ethnicity": [RACES[r][0] for r in race],
        "years_experience": np.clip(np.round(4 + 3 * skill + rng.normal(0, 2, size=n)), 0, 40).astype(int),
        "score": score,
        "selected": np.where(score >= 0.5, "yes", "no"),
        "qualified": np.where(qualified == 1, "yes", "no"),
    })
    return frame


def main() -> None:
    path = Path(__file__).with_name("applicants.csv")
    make_hiring().to_csv(path, index=False)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
