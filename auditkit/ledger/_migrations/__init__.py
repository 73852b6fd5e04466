"""Alembic migrations of the ledger schema, run programmatically by auditkit (no alembic.ini)."""
