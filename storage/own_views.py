"""The practitioner's own view of their collaborative audit: the grades they gave (once, before
they see the auditor's), and for QA the pairs of their grade and the auditor's, per standard, in
audits completed in a period (bot.rules.calibration.agreement counts how far they agree, as it
does for moderators)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import and_, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.rules.grades import DONE_AUDIT_STATES, AuditKind, Standard
from storage import audit_log
from storage.models import Audit, PractitionerGrade, UTCDateTime


async def own_grades(*, session: AsyncSession, tenant_id: str, audit_id: int) -> dict[str, str]:
    """Standard → the practitioner's grade; empty until they gave their view."""
    rows = await session.exec(
        select(PractitionerGrade.standard, PractitionerGrade.grade).where(
            PractitionerGrade.tenant_id == tenant_id, PractitionerGrade.audit_id == audit_id
        )
    )
    return dict(rows.all())


def save_own_grades(
    session: AsyncSession, audit: Audit, *, practitioner_id: int, grades: Mapping[str, str]
) -> None:
    """The practitioner's grades, in the caller's transaction (the audit locked, none given
    before: they are given once)."""
    assert audit.id is not None
    for standard, grade in grades.items():
        session.add(
            PractitionerGrade(
                tenant_id=audit.tenant_id,
                audit_id=audit.id,
                practitioner_id=practitioner_id,
                standard=standard,
                grade=grade,
            )
        )
    audit_log.record(
        session,
        tenant_id=audit.tenant_id,
        actor_id=practitioner_id,
        event="audit.own_view",
        entity="audit",
        entity_id=audit.id,
        before=None,
        after=dict(grades),
    )


@dataclass(frozen=True, slots=True)
class OwnViewPairs:
    """Collaborative audits completed in a period, those with the practitioner's own view, and
    each standard both graded: (standard, practitioner's grade, auditor's grade)."""

    completed: int
    with_own_view: int
    pairs: Sequence[tuple[str, str, str]]


def _auditor_grade() -> sa.ColumnElement[str]:
    return sa.case(
        *(
            (col(PractitionerGrade.standard) == s.value, getattr(Audit, f"grade_{s.value}"))
            for s in Standard
        ),
        else_=sa.null(),
    )


async def own_view_pairs(
    *,
    session: AsyncSession,
    tenant_id: str,
    start: datetime,
    end: datetime,
    team_ids: Collection[int] | None = None,
) -> OwnViewPairs:
    """Over collaborative audits completed in [start, end) (UTC), in `team_ids` if given."""
    where = [
        col(Audit.tenant_id) == tenant_id,
        col(Audit.kind) == AuditKind.COLLABORATIVE,
        col(Audit.state).in_(DONE_AUDIT_STATES),
        col(Audit.completed_at) >= sa.literal(start, UTCDateTime()),
        col(Audit.completed_at) < sa.literal(end, UTCDateTime()),
    ]
    if team_ids is not None:
        where.append(col(Audit.team_id).in_(sorted(team_ids)))
    given = (
        select(PractitionerGrade.audit_id)
        .where(PractitionerGrade.tenant_id == tenant_id)
        .distinct()
        .subquery()
    )
    completed, with_view = (
        await session.exec(
            select(func.count(), func.count(given.c.audit_id))
            .select_from(Audit)
            .outerjoin(given, given.c.audit_id == col(Audit.id))
            .where(*where)
        )
    ).one()
    rows = await session.exec(
        select(PractitionerGrade.standard, PractitionerGrade.grade, _auditor_grade())
        .join(
            Audit,
            and_(
                col(Audit.id) == col(PractitionerGrade.audit_id),
                col(PractitionerGrade.tenant_id) == tenant_id,
            ),
        )
        .where(*where)
    )
    pairs = [(standard, own, auditor) for standard, own, auditor in rows.all() if auditor]
    return OwnViewPairs(int(completed), int(with_view), pairs)
