"""The ledger's first schema: ledger_entries and ledger_info.

Revision ID: 0001
Revises:
"""

import uuid
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    info = op.create_table(
        "ledger_info",
        sa.Column("key", sa.Text(), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
    )
    op.create_table(
        "ledger_entries",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("entry_hash", sa.String(64), nullable=False),
        sa.Column("recorded_at", sa.String(32), nullable=False),
        sa.Column("policy_name", sa.Text(), nullable=False),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("batch_id", sa.Text(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("signature", sa.Text(), nullable=True),
        sa.Column("key_fingerprint", sa.Text(), nullable=True),
        sa.UniqueConstraint("prev_hash", name="uq_ledger_entries_prev_hash"),
        sa.UniqueConstraint("entry_hash", name="uq_ledger_entries_entry_hash"),
    )
    op.create_index("ix_ledger_entries_policy_name", "ledger_entries", ["policy_name"])
    op.create_index("ix_ledger_entries_batch_id", "ledger_entries", ["batch_id"])
    now = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    op.bulk_insert(info, [
        {"key": "ledger_id", "value": uuid.uuid4().hex},
        {"key": "created_at", "value": now},
        {"key": "format", "value": "1"},
    ])


def downgrade() -> None:
    op.drop_index("ix_ledger_entries_batch_id", table_name="ledger_entries")
    op.drop_index("ix_ledger_entries_policy_name", table_name="ledger_entries")
    op.drop_table("ledger_entries")
    op.drop_table("ledger_info")
