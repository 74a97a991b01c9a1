"""Every row held about one member of staff (UK GDPR subject access): found from the tables
themselves, so a table added later with a column pointing at a person is included without a
change here."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

# Rows that belong to a row about the person rather than pointing at them: (child, its key to
# the parent, the parent table).
_BELONGING = (
    ("feedbackversion", "feedback_id", "feedback"),
    ("moderationgrade", "moderation_id", "moderation"),
    ("deliveryattempt", "delivery_id", "delivery"),
    ("sentcard", "conversation_ref_id", "conversationref"),
)


def person_columns() -> dict[str, list[str]]:
    """Each tenant table's columns that point at a member of staff (the staff table: its id)."""
    found: dict[str, list[str]] = {}
    for table in SQLModel.metadata.sorted_tables:
        if "tenant_id" not in table.c:
            continue
        if table.name == "staff":
            found["staff"] = ["id"]
        for column in table.c:
            if any(fk.column.table.name == "staff" for fk in column.foreign_keys):
                found.setdefault(table.name, []).append(column.name)
    return found


async def rows_about(
    *, session: AsyncSession, tenant_id: str, staff_id: int
) -> dict[str, list[Mapping[str, Any]]]:
    """Table name to its rows about the person, in id order; tables with none are left out."""
    tables = SQLModel.metadata.tables
    held: dict[str, list[Mapping[str, Any]]] = {}
    for name, columns in person_columns().items():
        table = tables[name]
        about = [table.c[c] == staff_id for c in columns]
        if name == "auditlog":
            # What was done to the person's own record, by whoever did it.
            about.append(sa.and_(table.c.entity == "staff", table.c.entity_id == str(staff_id)))
        held[name] = await _rows(session, table, table.c.tenant_id == tenant_id, sa.or_(*about))
    for child, key, parent in _BELONGING:
        ids = [row["id"] for row in held.get(parent, [])]
        table = tables[child]
        held[child] = [
            row
            for start in range(0, len(ids), 500)
            for row in await _rows(
                session,
                table,
                table.c.tenant_id == tenant_id,
                table.c[key].in_(ids[start : start + 500]),
            )
        ]
    return {name: rows for name, rows in held.items() if rows}


async def _rows(
    session: AsyncSession, table: sa.Table, *where: sa.ColumnElement[bool]
) -> list[Mapping[str, Any]]:
    connection = await session.connection()
    result = await connection.execute(sa.select(table).where(*where).order_by(table.c.id))
    return [dict(row) for row in result.mappings()]


async def staff_id_by_email(*, session: AsyncSession, tenant_id: str, email: str) -> int | None:
    """The person with this email (any case), whether or not they have left."""
    staff = SQLModel.metadata.tables["staff"]
    connection = await session.connection()
    found = await connection.execute(
        sa.select(staff.c.id).where(
            staff.c.tenant_id == tenant_id,
            sa.func.lower(staff.c.email) == email.strip().lower(),
        )
    )
    return found.scalar_one_or_none()
