"""inbound activity ids per conversation: (tenant, conversation, activity id) is one activity

Teams' message ids are timestamps, so two people's chats can carry the same id at once; keyed per
tenant, the second person's message was taken for a repeat and ignored. The ids are kept only for
the minutes Teams may re-deliver in, so the table is made anew rather than filled from the old one
(whose rows have no conversation to key on).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 14:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.models

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _inbound_activity(*key: str, conversation: bool) -> None:
    extra = (
        [sa.Column("conversation_id", sqlmodel.sql.sqltypes.AutoString(length=512), nullable=False)]
        if conversation
        else []
    )
    op.create_table(
        "inboundactivity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        *extra,
        sa.Column("activity_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("received_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("response", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(*key),
    )
    op.create_index("ix_inboundactivity_received_at", "inboundactivity", ["received_at"])
    op.create_index("ix_inboundactivity_tenant_id", "inboundactivity", ["tenant_id"])


def upgrade() -> None:
    # No table refers to inboundactivity, so dropping it is safe on SQLite too.
    op.drop_table("inboundactivity")
    _inbound_activity("tenant_id", "conversation_id", "activity_id", conversation=True)


def downgrade() -> None:
    op.drop_table("inboundactivity")
    _inbound_activity("tenant_id", "activity_id", conversation=False)
