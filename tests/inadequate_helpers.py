"""Helpers for the inadequate-response tests: an audit completed as inadequate (as the grading
flow does it, calling bot.features.inadequate.handlers in the completing transaction) and cards already posted."""

from __future__ import annotations

from datetime import datetime

from bot.services.inadequate import respond_to_completed
from storage.db import SessionMaker, transaction
from storage.models import Audit
from tests.action_helpers import NOW
from tests.assign_helpers import post_cards
from tests.audit_helpers import AuditCouncil, add_assigned_audit
from tests.chat import TENANT, Person

STANDARDS = ("heart", "assessment", "plans", "records", "oversight", "strengths")


async def grade_inadequate(
    sessions: SessionMaker,
    council: AuditCouncil,
    *,
    now: datetime = NOW,
    risk: bool = True,
    team: str = "North",
    case_index: int = 0,
    auditor: str = "patti",
) -> Audit:
    """An audit of alex's case (North, index 0) completed by `auditor` as inadequate."""
    assigned = await add_assigned_audit(
        sessions, council, team=team, case_index=case_index, auditor=auditor, due_on=now.date()
    )
    async with transaction(sessions) as session:
        audit = await session.get(Audit, assigned.id)
        assert audit is not None
        for n, standard in enumerate(STANDARDS):
            grade = "inadequate" if n in (1, 4) else "requires_improvement"
            setattr(audit, f"grade_{standard}", grade)
        audit.overall_grade = "inadequate"
        audit.risk_identified = risk
        audit.state = "completed"
        audit.completed_at = now
        audit.completed_by = council.id(auditor)
        session.add(audit)
        await session.flush()
        await respond_to_completed(
            session,
            tenant_id=council.tenant_id,
            audit=audit,
            actor_id=council.id(auditor),
            today=now.date(),
            now=now,
        )
    return audit


async def post_card(
    sessions: SessionMaker, person: Person, *, kind: str, subjects: list[str], activity_id: str
) -> None:
    """A card the outbox has posted to the person's chat, as the delivery engine records it."""
    await post_cards(
        sessions, TENANT, person, kind=kind, subjects=subjects, activity_id=activity_id
    )
