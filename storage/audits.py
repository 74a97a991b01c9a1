"""Queries about audits: the ones I am doing and the ones of my cases."""

from __future__ import annotations

from datetime import date

from sqlalchemy import and_, case, or_
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.rules.grades import DONE_AUDIT_STATES, OPEN_AUDIT_STATES
from cards.views import AuditItem, Page
from storage import staff
from storage.db import locked
from storage.models import Audit, Case, Team

_SHOWN = (*OPEN_AUDIT_STATES, *DONE_AUDIT_STATES)


async def my_audits(
    *, session: AsyncSession, tenant_id: str, person_id: int, today: date, offset: int, size: int
) -> tuple[list[AuditItem], Page]:
    """Audits I audit and audits of my cases: open ones first by due date, then the latest done."""
    mine = (
        Audit.tenant_id == tenant_id,
        or_(col(Audit.auditor_id) == person_id, col(Audit.practitioner_id) == person_id),
        col(Audit.state).in_(_SHOWN),
    )
    total = (await session.exec(select(func.count()).select_from(Audit).where(*mine))).one()
    is_open = case((col(Audit.state).in_(OPEN_AUDIT_STATES), 0), else_=1)
    rows = (
        await session.exec(
            select(Audit, Case.case_ref)
            .join(Case, and_(col(Case.id) == col(Audit.case_id), col(Case.tenant_id) == tenant_id))
            .where(*mine)
            .order_by(
                is_open,
                case((is_open == 0, Audit.due_on), else_=None),
                col(Audit.completed_at).desc(),
                col(Audit.id),
            )
            .offset(offset)
            .limit(size)
        )
    ).all()
    others = {
        (a.practitioner_id if a.auditor_id == person_id else a.auditor_id)
        for a, _ in rows
        if (a.practitioner_id if a.auditor_id == person_id else a.auditor_id) is not None
    }
    who = await staff.names(session=session, tenant_id=tenant_id, ids={o for o in others if o})
    items = []
    for audit, case_ref in rows:
        auditing = audit.auditor_id == person_id
        other = audit.practitioner_id if auditing else audit.auditor_id
        items.append(
            AuditItem(
                id=audit.id or 0,
                case_ref=case_ref,
                kind=audit.kind,
                theme=audit.theme,
                state=audit.state,
                due_on=audit.due_on,
                my_part="auditor" if auditing else "practitioner",
                other_person=who.get(other) if other else None,
                overall_grade=audit.overall_grade,
                overdue=audit.state in OPEN_AUDIT_STATES and audit.due_on < today,
            )
        )
    return items, Page(offset=offset, size=size, total=total)


async def audit_for_update(*, session: AsyncSession, tenant_id: str, audit_id: int) -> Audit | None:
    """The audit, locked for this transaction (see storage.db.locked)."""
    result = await session.exec(
        await locked(
            session, select(Audit).where(Audit.tenant_id == tenant_id, Audit.id == audit_id)
        )
    )
    return result.first()


async def with_case_and_team(
    *, session: AsyncSession, tenant_id: str, audit_id: int
) -> tuple[Audit, str, str] | None:
    """The audit with its case reference and its team's name."""
    row = (
        await session.exec(
            select(Audit, Case.case_ref, Team.name)
            .join(Case, and_(col(Case.id) == col(Audit.case_id), col(Case.tenant_id) == tenant_id))
            .join(Team, and_(col(Team.id) == col(Audit.team_id), col(Team.tenant_id) == tenant_id))
            .where(Audit.tenant_id == tenant_id, Audit.id == audit_id)
        )
    ).first()
    return None if row is None else (row[0], row[1], row[2])
