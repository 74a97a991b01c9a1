"""audit visited on: the day of the child visit after an inadequate audit, as a date of its own

Until now the visit's date lived only in the visit action's done note ("Visited on Thu 3 Dec 2026:
…"), so the digest could not say whether children were seen by the next working day. This adds
`audit.visited_on` and fills it for visits already recorded: from that note where it has the date,
else from the day the visit was marked done; the note keeps only what the social worker wrote.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 14:10:00
"""

import re
from collections.abc import Sequence
from datetime import date, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# What bot.inadequate wrote before this revision: "Visited on Thu 3 Dec 2026" and ": note".
_VISITED = re.compile(r"Visited on \w{3} (\d{1,2} \w{3} \d{4})(?:: (.*))?", re.S)


def upgrade() -> None:
    op.add_column("audit", sa.Column("visited_on", sa.Date(), nullable=True))
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT id, audit_id, done_at, done_note FROM action "
            "WHERE source = 'child_visit' AND done_at IS NOT NULL AND audit_id IS NOT NULL"
        )
    ).all()
    for action_id, audit_id, done_at, note in rows:
        visited, kept = _from_note(note)
        if visited is None:
            visited = _day_of(done_at)
        bind.execute(
            sa.text("UPDATE audit SET visited_on = :day WHERE id = :id").bindparams(
                sa.bindparam("day", type_=sa.Date())
            ),
            {"day": visited, "id": audit_id},
        )
        if kept != note:
            bind.execute(
                sa.text("UPDATE action SET done_note = :note WHERE id = :id"),
                {"note": kept, "id": action_id},
            )


def downgrade() -> None:
    op.drop_column("audit", "visited_on")


def _from_note(note: str | None) -> tuple[date | None, str | None]:
    found = _VISITED.fullmatch(note or "")
    if found is None:
        return None, note
    try:
        day = datetime.strptime(found[1], "%d %b %Y").date()
    except ValueError:
        return None, note
    return day, found[2] or None


def _day_of(value: object) -> date:
    """done_at as stored: a datetime (PostgreSQL) or ISO text (SQLite)."""
    if isinstance(value, datetime):
        return value.date()
    return datetime.fromisoformat(str(value)).date()
