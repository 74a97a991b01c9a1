"""What `my learning` reads (bot.rules.trends): one practitioner's completed audits, with their
themes and actions, and finding a person by name or email. Every query is scoped by tenant;
audits count as the digest counts them (completed or moderated, by when)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy import and_, func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.rules.digest import STANDARDS
from bot.rules.trends import ActionSeen, LearnedAudit, Tick
from storage.digest import completed_between, rows_of
from storage.models import Action, Audit, AuditTheme, Case, Staff


async def people_called(*, session: AsyncSession, tenant_id: str, typed: str) -> list[Staff]:
    """Active people whose email is `typed`, else whose name is, else whose name holds it."""
    wanted = typed.strip().lower()
    if not wanted:
        return []
    active = [col(Staff.tenant_id) == tenant_id, col(Staff.active).is_(True)]
    for match in (
        or_(func.lower(col(Staff.email)) == wanted, func.lower(col(Staff.display_name)) == wanted),
        func.lower(col(Staff.display_name)).contains(wanted, autoescape=True),
    ):
        found = list(
            (await session.exec(select(Staff).where(*active, match).order_by(col(Staff.id)))).all()
        )
        if found:
            return found
    return []


async def learned_audits(
    *,
    session: AsyncSession,
    tenant_id: str,
    practitioner_id: int,
    start: datetime,
    end: datetime,
    zone: ZoneInfo,
) -> list[LearnedAudit]:
    """The practitioner's audits completed in [start, end): case reference, kind, grades."""
    grades = [getattr(Audit, f"grade_{s.value}") for s in STANDARDS]
    rows = await rows_of(
        session,
        sa.select(
            col(Audit.id),
            col(Case.case_ref),
            col(Audit.kind),
            col(Audit.completed_at),
            col(Audit.overall_grade),
            *grades,
        )
        .join(Case, and_(col(Case.id) == col(Audit.case_id), col(Case.tenant_id) == tenant_id))
        .where(
            col(Audit.tenant_id) == tenant_id,
            col(Audit.practitioner_id) == practitioner_id,
            *completed_between(start, end),
        ),
    )
    return [
        LearnedAudit(
            audit_id,
            case_ref,
            kind,
            completed.astimezone(zone).date(),
            overall,
            {s.value: g for s, g in zip(STANDARDS, found, strict=True)},
        )
        for audit_id, case_ref, kind, completed, overall, *found in rows
    ]


async def ticks(*, session: AsyncSession, tenant_id: str, audit_ids: Sequence[int]) -> list[Tick]:
    if not audit_ids:
        return []
    rows = await rows_of(
        session,
        sa.select(
            col(AuditTheme.audit_id),
            col(AuditTheme.theme),
            col(AuditTheme.title),
            col(AuditTheme.finding),
        ).where(col(AuditTheme.tenant_id) == tenant_id, col(AuditTheme.audit_id).in_(audit_ids)),
    )
    return [Tick(*row) for row in rows]


async def actions_of(
    *, session: AsyncSession, tenant_id: str, audit_ids: Sequence[int]
) -> list[ActionSeen]:
    """The actions that came from these audits (any owner), their state and due date."""
    if not audit_ids:
        return []
    rows = await rows_of(
        session,
        sa.select(col(Action.state), col(Action.due_on)).where(
            col(Action.tenant_id) == tenant_id, col(Action.audit_id).in_(audit_ids)
        ),
    )
    return [ActionSeen(*row) for row in rows]
