"""case and staff lifecycle: what a closed case does to its actions (a tenant setting), and why
an audit was cancelled (shown beside compliance)

Revision ID: 0012
Revises: 0007
Create Date: 2026-12-10 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "tenant",
        sa.Column(
            "closed_case_actions", sa.String(length=16), nullable=False, server_default="keep"
        ),
    )
    op.add_column("audit", sa.Column("cancelled_reason", sa.String(length=2000), nullable=True))


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+): a batch copy would trip every foreign key to these tables.
    op.drop_column("audit", "cancelled_reason")
    op.drop_column("tenant", "closed_case_actions")
