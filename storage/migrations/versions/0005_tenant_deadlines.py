"""tenant deadlines: how soon the action meeting and the child visit are due, per tenant

The framework's defaults (meeting within 3 working days, visit the next working day) were written
into the code; a council may count them in calendar days or set other numbers.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 13:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "tenant", sa.Column("meeting_due_days", sa.Integer(), nullable=False, server_default="3")
    )
    op.add_column(
        "tenant",
        sa.Column(
            "meeting_due_unit", sa.String(length=16), nullable=False, server_default="working"
        ),
    )
    op.add_column(
        "tenant", sa.Column("visit_due_days", sa.Integer(), nullable=False, server_default="1")
    )
    op.add_column(
        "tenant",
        sa.Column("visit_due_unit", sa.String(length=16), nullable=False, server_default="working"),
    )


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+): a batch copy of tenant would trip every foreign key to it.
    for name in ("visit_due_unit", "visit_due_days", "meeting_due_unit", "meeting_due_days"):
        op.drop_column("tenant", name)
