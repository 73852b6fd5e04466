"""Build the files the eu-credit example audits, beside this script, if they are missing.

    python examples/eu-credit/make_example.py

The German Credit data shipped with auditkit, decoded, split into a training set and a held-out
audit set, the data contract and a logistic-regression scorecard — exactly what ``audit demo``
builds (``auditkit.demo.demo_files``, seed 0). The policies (``audit.yaml``,
``audit-colorado.yaml``) are this folder's own and are never overwritten.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
FILES = ("data/credit.csv", "data/train.csv", "data/ATTRIBUTION.md", "schemas/german_credit.yaml",
         "models/credit_model.skops")


def main(folder: Path = HERE) -> list[str]:
    """Write the missing files into ``folder``; returns the names written."""
    from auditkit.demo import demo_files
    from auditkit.outputs import write_folder

    missing = [name for name in FILES if not (folder / name).is_file()]
    if not missing:
        return []
    contents = demo_files(seed=0)
    write_folder(folder, {name: contents[name] for name in missing}, hint="check that the example folder is writable")
    return missing


if __name__ == "__main__":
    written = main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
    print("wrote " + ", ".join(written) if written else "every file is already there")
