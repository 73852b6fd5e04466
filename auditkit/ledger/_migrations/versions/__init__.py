"""The ledger schema revisions (loaded by alembic, not imported)."""
