"""calibration: blind moderation's grades per judgement, and QA's calibration exercises

`moderationgrade` holds, per moderated standard (and "overall"), the moderator's own grade given
before they saw the auditor's, the auditor's grade as then shown and the grade agreed after.
`calibrationexercise` is one anonymised evidence summary QA sent to every auditor, and
`calibrationresponse` each auditor it went to with their grades once sent.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-14 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.models

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STANDARDS = ("heart", "assessment", "plans", "records", "oversight", "strengths")


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.create_table(
        "moderationgrade",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", _text(64), nullable=False),
        sa.Column("moderation_id", sa.Integer(), nullable=False),
        sa.Column("judgement", _text(16), nullable=False),
        sa.Column("auditor_grade", _text(24), nullable=True),
        sa.Column("moderator_grade", _text(24), nullable=False),
        sa.Column("agreed_grade", _text(24), nullable=True),
        sa.ForeignKeyConstraint(["moderation_id"], ["moderation.id"]),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant_id", "moderation_id", "judgement"),
    )
    with op.batch_alter_table("moderationgrade", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_moderationgrade_tenant_id"), ["tenant_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_moderationgrade_moderation_id"), ["moderation_id"], unique=False
        )
    op.create_table(
        "calibrationexercise",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", _text(64), nullable=False),
        sa.Column("summary", _text(2000), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["staff.id"]),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("calibrationexercise", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_calibrationexercise_tenant_id"), ["tenant_id"], unique=False
        )
    op.create_table(
        "calibrationresponse",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", _text(64), nullable=False),
        sa.Column("exercise_id", sa.Integer(), nullable=False),
        sa.Column("auditor_id", sa.Integer(), nullable=False),
        *(sa.Column(f"grade_{s}", _text(24), nullable=True) for s in STANDARDS),
        sa.Column("graded_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["auditor_id"], ["staff.id"]),
        sa.ForeignKeyConstraint(["exercise_id"], ["calibrationexercise.id"]),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant_id", "exercise_id", "auditor_id"),
    )
    with op.batch_alter_table("calibrationresponse", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_calibrationresponse_tenant_id"), ["tenant_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_calibrationresponse_exercise_id"), ["exercise_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("calibrationresponse")
    op.drop_table("calibrationexercise")
    op.drop_table("moderationgrade")
