"""re-audit: an audit may be the re-audit of an earlier one, and a tenant says when one is due

Every audit graded inadequate (and, if the tenant says so, requires improvement) is audited again
after some months by another auditor (bot.rules.reaudit). `audit.reaudit_of` marks the re-audit
with the audit it follows up; `tenant.reaudit_months` and `tenant.reaudit_requires_improvement`
are the tenant's setting (the framework's: 3 months, inadequate only).

Revision ID: 0010
Revises: 0007
Create Date: 2026-12-03 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "tenant", sa.Column("reaudit_months", sa.Integer(), nullable=False, server_default="3")
    )
    op.add_column(
        "tenant",
        sa.Column(
            "reaudit_requires_improvement",
            sa.Boolean(),
            nullable=False,
            server_default=sa.false(),
        ),
    )
    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds a column with its REFERENCES clause in place (its default is NULL); a batch
        # copy of audit would trip every foreign key to it.
        op.execute("ALTER TABLE audit ADD COLUMN reaudit_of INTEGER REFERENCES audit (id)")
    else:
        op.add_column("audit", sa.Column("reaudit_of", sa.Integer(), nullable=True))
        op.create_foreign_key("audit_reaudit_of_fkey", "audit", "audit", ["reaudit_of"], ["id"])
    op.create_index("ix_audit_reaudit_of", "audit", ["reaudit_of"])


def downgrade() -> None:
    op.drop_index("ix_audit_reaudit_of", table_name="audit")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint("audit_reaudit_of_fkey", "audit", type_="foreignkey")
    # Plain DROP COLUMN (SQLite 3.35+ drops a column with its own REFERENCES clause).
    op.drop_column("audit", "reaudit_of")
    for name in ("reaudit_requires_improvement", "reaudit_months"):
        op.drop_column("tenant", name)
