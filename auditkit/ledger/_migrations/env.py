"""Alembic environment of the ledger: run on the connection auditkit passes in.

auditkit calls ``alembic.command.upgrade`` with ``config.attributes["connection"]`` set to a
connection already inside its own transaction (holding the ledger's write lock), so the
migration and the revision record commit together or not at all.
"""

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only auditkit runs these migrations
    raise RuntimeError("the ledger migrations run only through auditkit (audit ledger upgrade URL)")

context.configure(
    connection=connection,
    version_table=context.config.attributes.get("version_table", "auditkit_ledger_version"),
    transactional_ddl=True,
)
with context.begin_transaction():
    context.run_migrations()
