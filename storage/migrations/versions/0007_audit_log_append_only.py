"""audit log append-only: triggers refuse to change or remove an audit-log row

Nothing in QA Loop changes the audit log, and now the database refuses it too, on SQLite and
PostgreSQL alike. The one exception is erasing a whole tenant (the demo council rebuilt), which
says so first in tenanterasure, in the same transaction.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.models

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFUSAL = "the audit log is append-only"

_SQLITE = [
    f"""CREATE TRIGGER auditlog_no_update BEFORE UPDATE ON auditlog
    BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END""",
    f"""CREATE TRIGGER auditlog_no_delete BEFORE DELETE ON auditlog
    WHEN NOT EXISTS (SELECT 1 FROM tenanterasure WHERE tenant_id = OLD.tenant_id)
    BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END""",
]

_POSTGRESQL = [
    f"""CREATE FUNCTION auditlog_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE'
           AND EXISTS (SELECT 1 FROM tenanterasure WHERE tenant_id = OLD.tenant_id) THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION '{REFUSAL}' USING ERRCODE = 'insufficient_privilege';
    END $$""",
    """CREATE TRIGGER auditlog_append_only BEFORE UPDATE OR DELETE ON auditlog
    FOR EACH ROW EXECUTE FUNCTION auditlog_append_only()""",
]


def upgrade() -> None:
    op.create_table(
        "tenanterasure",
        sa.Column("tenant_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("started_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id"),
    )
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in _SQLITE if sqlite else _POSTGRESQL:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER auditlog_no_delete")
        op.execute("DROP TRIGGER auditlog_no_update")
    else:
        op.execute("DROP TRIGGER auditlog_append_only ON auditlog")
        op.execute("DROP FUNCTION auditlog_append_only()")
    op.drop_table("tenanterasure")
