"""audit templates: the answers to a template's questions, per question and template version

Revision ID: 0019
Revises: 0017
Create Date: 2026-12-03 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.models

revision: str = "0019"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "templateanswer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("audit_id", sa.Integer(), nullable=False),
        sa.Column("template", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("question", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("answer", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("answered_by", sa.Integer(), nullable=False),
        sa.Column("answered_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["audit_id"], ["audit.id"]),
        sa.ForeignKeyConstraint(["answered_by"], ["staff.id"]),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant_id", "audit_id", "question"),
    )
    with op.batch_alter_table("templateanswer", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_templateanswer_tenant_id"), ["tenant_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_templateanswer_audit_id"), ["audit_id"], unique=False)
        batch_op.create_index(
            "ix_templateanswer_tenant_template", ["tenant_id", "template"], unique=False
        )


def downgrade() -> None:
    op.drop_table("templateanswer")
