"""Queries behind moderation: the month's candidates and sample, each moderator's request, their
blind grades and the decision, with its audit-log rows."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import and_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.rules.grades import DONE_AUDIT_STATES, AuditState, Standard
from bot.rules.moderation import Candidate
from bot.rules.roles import Role
from cards.moderation import AuditToModerate, Decision, Judged
from storage import audit_log
from storage.db import locked
from storage.models import Audit, Case, Moderation, ModerationGrade, ModerationSample, Staff
from storage.staff import holds

# Completed audits stay candidates once moderated, so the month's list (and its fingerprint)
# is the same whenever it is read again.


async def candidates(
    *, session: AsyncSession, tenant_id: str, month: str, since: datetime, before: datetime
) -> list[Candidate]:
    """Audits completed in [since, before), by audit id; not those moderated in another month
    (completed again after being reopened), as an audit is moderated once."""
    elsewhere = (
        select(Moderation.id)
        .where(
            Moderation.tenant_id == tenant_id,
            col(Moderation.audit_id) == col(Audit.id),
            col(Moderation.month) != month,
        )
        .exists()
    )
    rows = await session.exec(
        select(Audit.id, Audit.auditor_id)
        .where(
            Audit.tenant_id == tenant_id,
            col(Audit.state).in_(DONE_AUDIT_STATES),
            col(Audit.completed_at) >= since,
            col(Audit.completed_at) < before,
            ~elsewhere,
        )
        .order_by(col(Audit.id))
    )
    return [Candidate(audit_id, auditor_id) for audit_id, auditor_id in rows.all() if audit_id]


async def moderators(*, session: AsyncSession, tenant_id: str) -> list[int]:
    """Active QA staff, by id."""
    rows = await session.exec(
        select(Staff)
        .where(
            Staff.tenant_id == tenant_id,
            col(Staff.active).is_(True),
            holds(Role.QA),
        )
        .order_by(col(Staff.id))
    )
    return [s.id for s in rows.all() if s.id is not None]


async def sample_of(
    *, session: AsyncSession, tenant_id: str, month: str
) -> ModerationSample | None:
    return (
        await session.exec(
            select(ModerationSample).where(
                ModerationSample.tenant_id == tenant_id, ModerationSample.month == month
            )
        )
    ).first()


async def any_of_month(*, session: AsyncSession, tenant_id: str, month: str) -> bool:
    """Whether any audit has a moderation for this month."""
    found = await session.exec(
        select(Moderation.id)
        .where(Moderation.tenant_id == tenant_id, Moderation.month == month)
        .limit(1)
    )
    return found.first() is not None


async def save_sample(
    session: AsyncSession,
    *,
    tenant_id: str,
    month: str,
    seed: str,
    fingerprint: str,
    rate_percent: int,
    assigned: Mapping[int, int],
    now: datetime,
) -> list[Moderation]:
    """The month's sample and one moderation per sampled audit (audit id → moderator)."""
    sample = ModerationSample(
        tenant_id=tenant_id,
        month=month,
        seed=seed,
        candidate_fingerprint=fingerprint,
        rate_percent=rate_percent,
        created_at=now,
    )
    session.add(sample)
    await session.flush()
    audit_log.record(
        session,
        tenant_id=tenant_id,
        actor_id=None,
        event="moderation.sampled",
        entity="moderation_sample",
        entity_id=sample.id,
        after={"month": month, "seed": seed, "fingerprint": fingerprint, "audits": len(assigned)},
    )
    rows = [
        Moderation(
            tenant_id=tenant_id,
            audit_id=audit_id,
            moderator_id=moderator_id,
            month=month,
            created_at=now,
        )
        for audit_id, moderator_id in sorted(assigned.items())
    ]
    session.add_all(rows)
    await session.flush()
    for row in rows:
        audit_log.record(
            session,
            tenant_id=tenant_id,
            actor_id=None,
            event="moderation.assigned",
            entity="moderation",
            entity_id=row.id,
            after={"audit_id": row.audit_id, "moderator_id": row.moderator_id, "month": month},
        )
    return rows


async def undecided(*, session: AsyncSession, tenant_id: str, month: str) -> list[Moderation]:
    rows = await session.exec(
        select(Moderation)
        .where(
            Moderation.tenant_id == tenant_id,
            Moderation.month == month,
            col(Moderation.decided_at).is_(None),
        )
        .order_by(col(Moderation.audit_id))
    )
    return list(rows.all())


async def audits_to_moderate(
    *, session: AsyncSession, tenant_id: str, audit_ids: Iterable[int], zone: ZoneInfo
) -> dict[int, AuditToModerate]:
    """What a moderator is shown of each audit, by audit id."""
    ids = sorted(set(audit_ids))
    if not ids:
        return {}
    rows = await session.exec(
        select(Audit, Case.case_ref, Staff.display_name)
        .join(Case, and_(col(Case.id) == col(Audit.case_id), col(Case.tenant_id) == tenant_id))
        .join(
            Staff, and_(col(Staff.id) == col(Audit.auditor_id), col(Staff.tenant_id) == tenant_id)
        )
        .where(Audit.tenant_id == tenant_id, col(Audit.id).in_(ids))
    )
    return {
        audit.id or 0: AuditToModerate(
            audit_id=audit.id or 0,
            case_ref=case_ref,
            kind=audit.kind,
            theme=audit.theme,
            auditor_id=audit.auditor_id,
            auditor_name=auditor_name,
            completed_on=audit.completed_at.astimezone(zone).date() if audit.completed_at else None,
            grades={s.value: getattr(audit, f"grade_{s.value}") for s in Standard},
            overall=audit.overall_grade,
            limiting_reason=audit.limiting_reason,
            summary=audit.summary,
        )
        for audit, case_ref, auditor_name in rows.all()
    }


async def moderation_of(
    *, session: AsyncSession, tenant_id: str, audit_id: int, lock: bool = False
) -> Moderation | None:
    query = select(Moderation).where(
        Moderation.tenant_id == tenant_id, Moderation.audit_id == audit_id
    )
    if lock:
        query = await locked(session, query)
    return (await session.exec(query)).first()


async def blind_grades(
    *, session: AsyncSession, tenant_id: str, moderation_id: int
) -> dict[str, ModerationGrade]:
    """The moderator's own grades sent so far, by judgement; empty until they send them."""
    rows = await session.exec(
        select(ModerationGrade).where(
            ModerationGrade.tenant_id == tenant_id,
            ModerationGrade.moderation_id == moderation_id,
        )
    )
    return {row.judgement: row for row in rows.all()}


async def decision_of(
    *, session: AsyncSession, tenant_id: str, moderation: Moderation, zone: ZoneInfo
) -> Decision | None:
    if moderation.decided_at is None or moderation.agreement is None:
        return None
    assert moderation.id is not None
    name = (
        await session.exec(
            select(Staff.display_name).where(
                Staff.tenant_id == tenant_id, Staff.id == moderation.moderator_id
            )
        )
    ).one()
    grades = await blind_grades(session=session, tenant_id=tenant_id, moderation_id=moderation.id)
    return Decision(
        moderator_name=name,
        agreement=dict(moderation.agreement),
        comment=moderation.comment,
        decided_at=moderation.decided_at.astimezone(zone),
        grades={
            key: Judged(row.auditor_grade, row.moderator_grade, row.agreed_grade)
            for key, row in grades.items()
        },
    )


def record_blind_grades(
    session: AsyncSession,
    moderation: Moderation,
    *,
    auditor: Mapping[str, str | None],
    moderator: Mapping[str, str],
    actor_id: int,
    now: datetime,
) -> None:
    """The moderator's own grades, each beside the auditor's as they are about to be shown."""
    assert moderation.id is not None
    session.add_all(
        ModerationGrade(
            tenant_id=moderation.tenant_id,
            moderation_id=moderation.id,
            judgement=key,
            auditor_grade=auditor.get(key),
            moderator_grade=grade,
        )
        for key, grade in moderator.items()
    )
    audit_log.record(
        session,
        tenant_id=moderation.tenant_id,
        actor_id=actor_id,
        event="moderation.graded",
        entity="moderation",
        entity_id=moderation.id,
        after={
            "audit_id": moderation.audit_id,
            "grades": dict(moderator),
            "graded_at": now.isoformat(),
        },
    )


def decide(
    session: AsyncSession,
    moderation: Moderation,
    audit: Audit,
    *,
    grades: Mapping[str, ModerationGrade],
    agreed: Mapping[str, str],
    comment: str | None,
    actor_id: int,
    now: datetime,
) -> None:
    """Store the agreed grades and the moderator's agreement (their own grade, given blind,
    matching the auditor's), and mark the audit moderated, with a log row for each."""
    for key, row in grades.items():
        row.agreed_grade = agreed[key]
        session.add(row)
    agreement = {key: row.moderator_grade == row.auditor_grade for key, row in grades.items()}
    moderation.agreement = agreement
    moderation.comment = comment
    moderation.decided_at = now
    session.add(moderation)
    audit_log.record(
        session,
        tenant_id=moderation.tenant_id,
        actor_id=actor_id,
        event="moderation.decided",
        entity="moderation",
        entity_id=moderation.id,
        after={
            "audit_id": audit.id,
            "agreement": agreement,
            "agreed": dict(agreed),
            "decided_at": now.isoformat(),
        },
    )
    before = audit.state
    audit.state = AuditState.MODERATED.value
    session.add(audit)
    audit_log.record(
        session,
        tenant_id=audit.tenant_id,
        actor_id=actor_id,
        event="audit.moderated",
        entity="audit",
        entity_id=audit.id,
        before={"state": before},
        after={"state": audit.state},
    )
