"""The stages of an audit, in the order :func:`auditkit.pipeline.run_audit` runs them.

1. :mod:`.plan`         the policy checked against the data header, the engine's declaration,
                        the packs and the command line, before any expensive work
2. :mod:`.data`         the audited rows (and their sensitive features checked)
3. :mod:`.contract`     the data contract
4. :mod:`.predict`      the target encoded; the candidate's (and champion's) decisions
5. :mod:`.data_bias`    representation, base rates and missingness per group
6. :mod:`.drift`        the data and the model's outputs against the reference data
7. :mod:`.fairness`     per-group metrics, disparities and intervals; the champion comparison
8. :mod:`.packs`        each extended pack's evidence (auditkit.packs plugins)
9. :mod:`.explain`      SHAP explanations
9b. :mod:`.reasons`    with a ``reasons:`` block, the stated reasons of adverse decisions audited
9c. :mod:`.history`    with trend rules, their metrics' earlier values from the audit ledger
10. :mod:`.gate`        the rules judged on all of the above
11. :mod:`.remedies`    when a fairness rule fails: candidate remedies, cross-fitted and judged
                        by the same rules (pandas engine)
12. :mod:`.summary`     data and model summaries and provenance

Each stage is a function taking what it needs and returning one frozen result; every engine
(:mod:`auditkit.engines`) runs the same stages.
"""
