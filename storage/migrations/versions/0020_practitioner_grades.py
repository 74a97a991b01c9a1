"""practitioner's own view: the grades a practitioner gives the standards of their collaborative
audit before they see the auditor's

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.models

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "practitionergrade",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("audit_id", sa.Integer(), nullable=False),
        sa.Column("practitioner_id", sa.Integer(), nullable=False),
        sa.Column("standard", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("grade", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["audit_id"], ["audit.id"]),
        sa.ForeignKeyConstraint(["practitioner_id"], ["staff.id"]),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant_id", "audit_id", "standard"),
    )
    with op.batch_alter_table("practitionergrade", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_practitionergrade_tenant_id"), ["tenant_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_practitionergrade_audit_id"), ["audit_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("practitionergrade")
