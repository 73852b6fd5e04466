"""Spark reaches parity (issue 14): the demo (drift and data-bias rules), the champion demo and
both hiring examples (the four-fifths and NYC LL144 packs) audited with ``--engine spark`` give
the pandas engine's rule statuses and numbers, to 1e-12.

The pandas numbers are the golden files (tests/goldens), themselves unchanged by the redesign.
Keys only the Spark engine writes (``data.engine``, ``data.sample_rows``,
``data.sample_population``, ``provenance.engine``) are new keys and so not compared. Remedies
are searched by the pandas engine only (docs/remedies.md) and reasons are audited on Spark's sample
(docs/reasons.md): the golden ``remedies`` and ``reasons`` are not compared.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "goldens"))
import audits  # noqa: E402

sys.path.pop(0)

PARITY = {
    "demo": lambda work: audits.run_demo(work, engine="spark"),
    "champion-demo": lambda work: audits.run_demo(work, with_champion=True, engine="spark"),
    "hiring-selection": lambda work: audits.run_hiring(work, "selection", engine="spark"),
    "hiring-scoring": lambda work: audits.run_hiring(work, "scoring", engine="spark"),
}


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("parity")


@pytest.mark.parametrize("name", sorted(PARITY))
def test_spark_gives_the_pandas_results(name, spark, work):
    golden = json.loads((audits.GOLDENS / f"{name}.json").read_text())
    golden.pop("remedies", None)  # pandas engine only
    golden.pop("reasons", None)  # on Spark: computed on the engine's stratified sample
    actual = audits.normalized(PARITY[name](work))
    assert actual["remedies"] is None
    assert actual["provenance"]["engine"]["name"] == "spark"
    assert [(r["id"], r["status"]) for r in actual["rules"]] == [(r["id"], r["status"]) for r in golden["rules"]]
    found = audits.differences(golden, actual)
    assert not found, f"{name} on Spark: {len(found)} value(s) differ from pandas:\n" + "\n".join(found[:40])
