"""shared send rate: a token bucket row per (app, tenant) that every replica's sender draws from;
when a delivery was given up on (for the daily delivery alert); the claim's index covers its order

Teams limits a bot's messages per app and tenant, not per process: with several replicas on
PostgreSQL each sender pacing itself at QALOOP_SEND_RATE sent N times that. The claim's
`ORDER BY next_attempt_at, id` could not be read off (state, next_attempt_at) alone, so PostgreSQL
sorted every due row, cards and all.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-14 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.models

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sendrate",
        sa.Column("app_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("tenant_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("app_id", "tenant_id"),
    )
    op.add_column(
        "delivery",
        sa.Column("failed_at", storage.models.UTCDateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_delivery_failed", "delivery", ["tenant_id", "failed_at"])
    op.drop_index("ix_delivery_state_next", table_name="delivery")
    op.create_index("ix_delivery_state_next", "delivery", ["state", "next_attempt_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_delivery_state_next", table_name="delivery")
    op.create_index("ix_delivery_state_next", "delivery", ["state", "next_attempt_at"])
    op.drop_index("ix_delivery_failed", table_name="delivery")
    # Plain DROP COLUMN (SQLite 3.35+): a batch copy would trip the foreign keys to delivery.
    op.drop_column("delivery", "failed_at")
    op.drop_table("sendrate")
