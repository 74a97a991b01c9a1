"""action digest index: the monthly digest's action counts read an index, not every action's text

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 11:35:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ["tenant_id", "owner_id", "due_on", "created_at", "done_at", "cancelled_at", "state"]


def upgrade() -> None:
    op.create_index("ix_action_digest", "action", COLUMNS)


def downgrade() -> None:
    op.drop_index("ix_action_digest", table_name="action")
