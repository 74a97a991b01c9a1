"""programme targets: a council's monthly targets for collaborative, thematic, senior manager and
(per team manager) team manager audits

Revision ID: 0015
Revises: 0012
Create Date: 2026-12-12 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (
    "target_collaborative",
    "target_thematic",
    "target_senior_manager",
    "target_team_manager",
)


def upgrade() -> None:
    for name in COLUMNS:
        op.add_column("tenant", sa.Column(name, sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+): a batch copy would trip every foreign key to the tenant.
    for name in reversed(COLUMNS):
        op.drop_column("tenant", name)
