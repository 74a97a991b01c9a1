"""audit themes: the practice themes an auditor ticked in an audit, as strengths or areas to
improve, for the practitioner's learning links and the themes report

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-01 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.models

revision: str = "0009"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audittheme",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("audit_id", sa.Integer(), nullable=False),
        sa.Column("standard", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("theme", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("finding", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["audit_id"], ["audit.id"]),
        sa.ForeignKeyConstraint(["created_by"], ["staff.id"]),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant_id", "audit_id", "theme"),
    )
    with op.batch_alter_table("audittheme", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audittheme_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audittheme_audit_id"), ["audit_id"], unique=False)
        batch_op.create_index("ix_audittheme_tenant_theme", ["tenant_id", "theme"], unique=False)


def downgrade() -> None:
    op.drop_table("audittheme")
