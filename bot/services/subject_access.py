"""What is held about me (UK GDPR subject access): every row about one member of staff, as one
JSON document, with the request itself audit-logged."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from storage import audit_log, subject_access
from storage.db import SessionMaker, transaction


async def held_about(
    *, sessions: SessionMaker, tenant_id: str, email: str, now: datetime
) -> dict[str, Any] | None:
    """The document for the person with `email`, or None if the tenant has nobody by it."""
    async with transaction(sessions) as session:
        staff_id = await subject_access.staff_id_by_email(
            session=session, tenant_id=tenant_id, email=email
        )
        if staff_id is None:
            return None
        held = await subject_access.rows_about(
            session=session, tenant_id=tenant_id, staff_id=staff_id
        )
        counts = {name: len(rows) for name, rows in held.items()}
        audit_log.record(
            session,
            tenant_id=tenant_id,
            actor_id=None,
            event="person.export",
            entity="staff",
            entity_id=staff_id,
            after={"tables": counts},
        )
    return {
        "about": {"staff_id": staff_id, "email": email.strip()},
        "tenant_id": tenant_id,
        "made_at": now.isoformat(),
        "note": (
            "Every row QA Loop holds that names this person, by table. Case references are "
            "pseudonymous; no child's name is held."
        ),
        "counts": counts,
        "tables": {
            name: [{k: _json(v) for k, v in row.items()} for row in rows]
            for name, rows in held.items()
        },
    }


def _json(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value
