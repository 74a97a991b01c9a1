"""updated at: when an audit, action or moderation last changed, for `qaloop export --since`

Every UPDATE made through SQLAlchemy sets it from now on (the column's onupdate). Rows written
before this revision get the latest time they carry: completed, cancelled, confirmed, done or
decided, else created. A change that left no time of its own before (a reassignment, a new due
date) is therefore dated no later than that.

Revision ID: 0011
Revises: 0007
Create Date: 2026-12-03 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# COALESCE in order of what comes last in a row's life.
_BACKFILL = {
    "audit": "COALESCE(completed_at, created_at)",
    "action": "COALESCE(cancelled_at, confirmed_at, done_at, created_at)",
    "moderation": "COALESCE(decided_at, created_at)",
}


def upgrade() -> None:
    for table, latest in _BACKFILL.items():
        op.add_column(
            table,
            sa.Column("updated_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        )
        op.execute(f"UPDATE {table} SET updated_at = {latest}")


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+): a batch copy would rebuild tables others refer to.
    for table in _BACKFILL:
        op.execute(f"ALTER TABLE {table} DROP COLUMN updated_at")
