"""Queries and changes for grading an audit: the audit as its cards show it, the likely owners of
its actions, saving grades, adding actions and completing it. Each change writes its audit-log row
in the caller's transaction; the caller has locked the audit with `audits.audit_for_update`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.rules.grades import ActionState, AuditState, Standard
from bot.rules.roles import Role
from cards.action_form import OwnerChoice
from cards.grading import ActionLine, GradingView
from storage import audit_log, own_views, staff, themes
from storage.db import compare_and_set
from storage.models import Action, Audit, Case, Staff

SOURCE_AUDIT = "audit"


async def grading_view(
    *, session: AsyncSession, tenant_id: str, audit_id: int, zone: ZoneInfo
) -> GradingView | None:
    row = (
        await session.exec(
            select(Audit, Case.case_ref)
            .join(Case, and_(col(Case.id) == col(Audit.case_id), col(Case.tenant_id) == tenant_id))
            .where(Audit.tenant_id == tenant_id, Audit.id == audit_id)
        )
    ).first()
    if row is None:
        return None
    audit, case_ref = row
    rows = (
        await session.exec(
            select(Action, Staff.display_name)
            .join(
                Staff,
                and_(col(Staff.id) == col(Action.owner_id), col(Staff.tenant_id) == tenant_id),
            )
            .where(Action.tenant_id == tenant_id, Action.audit_id == audit_id)
            .order_by(col(Action.id))
        )
    ).all()
    people = await staff.names(
        session=session,
        tenant_id=tenant_id,
        ids={
            i
            for i in (audit.auditor_id, audit.practitioner_id, audit.completed_by)
            if i is not None
        },
    )
    tagged = await themes.audit_themes(session=session, tenant_id=tenant_id, audit_id=audit_id)
    return GradingView(
        id=audit_id,
        case_ref=case_ref,
        kind=audit.kind,
        theme=audit.theme,
        state=audit.state,
        due_on=audit.due_on,
        auditor_name=people.get(audit.auditor_id, "someone"),
        practitioner_name=people.get(audit.practitioner_id) if audit.practitioner_id else None,
        grades={s.value: getattr(audit, f"grade_{s.value}") for s in Standard},
        overall_grade=audit.overall_grade,
        limiting_reason=audit.limiting_reason,
        risk_identified=audit.risk_identified,
        summary=audit.summary,
        strengths_seen=audit.strengths_seen,
        completed_at=audit.completed_at.astimezone(zone) if audit.completed_at else None,
        completed_by=people.get(audit.completed_by) if audit.completed_by else None,
        actions=tuple(
            ActionLine(
                id=action.id or 0,
                standard=action.standard,
                what=action.what,
                measure=action.measure,
                owner_name=name,
                due_on=action.due_on,
                state=action.state,
                owner_id=action.owner_id,
            )
            for action, name in rows
        ),
        themes=tagged,
        own_grades=await own_views.own_grades(
            session=session, tenant_id=tenant_id, audit_id=audit_id
        ),
    )


async def audit_of_action(*, session: AsyncSession, tenant_id: str, action_id: int) -> int | None:
    """The audit an action came from, if it came from one."""
    result = await session.exec(
        select(Action.audit_id).where(Action.tenant_id == tenant_id, Action.id == action_id)
    )
    return result.first()


async def likely_owners(
    *,
    session: AsyncSession,
    tenant_id: str,
    audit: Audit,
    meeting: Mapping[str, Sequence[Staff]] | None = None,
) -> tuple[OwnerChoice, ...]:
    """Who an audit's action usually belongs to, each once: the practitioner, their manager and
    the auditor. An action meeting's actions may also go to the people at the meeting (`meeting`,
    from `storage.inadequate.responders`): the team's and the service's managers before the
    auditor, QA after."""
    choices: list[OwnerChoice] = []

    def offer(person: Staff | None, part: str) -> None:
        if (
            person is not None
            and person.active
            and person.id is not None
            and all(c.id != person.id for c in choices)
        ):
            choices.append(OwnerChoice(person.id, person.display_name, part))

    practitioner = None
    if audit.practitioner_id is not None:
        practitioner = await staff.by_id(
            session=session, tenant_id=tenant_id, staff_id=audit.practitioner_id
        )
    offer(practitioner, "practitioner")
    if practitioner is not None:
        manager = await staff.approver_for(session=session, tenant_id=tenant_id, owner=practitioner)
        offer(manager, _manager_part(manager))
    circle = meeting or {}
    for person in (*circle.get("team_manager", ()), *circle.get("lead", ())):
        offer(person, _manager_part(person))
    offer(
        await staff.by_id(session=session, tenant_id=tenant_id, staff_id=audit.auditor_id),
        "auditor",
    )
    for person in circle.get("qa", ()):
        offer(person, "QA")
    return tuple(choices)


def _manager_part(person: Staff | None) -> str:
    roles = person.role_set if person is not None else frozenset()
    for role, part in (
        (Role.HEAD_OF_SERVICE, "head of service"),
        (Role.SERVICE_MANAGER, "service manager"),
        (Role.TEAM_MANAGER, "team manager"),
    ):
        if role in roles:
            return part
    return "manager"


async def active_person(
    *, session: AsyncSession, tenant_id: str, staff_id: int | None = None, email: str | None = None
) -> Staff | None:
    """An active person of the tenant, by id or by email (case-insensitive)."""
    if email:
        return await staff.active_by_email(session=session, tenant_id=tenant_id, email=email)
    if staff_id is None:
        return None
    result = await session.exec(
        select(Staff).where(
            Staff.tenant_id == tenant_id, col(Staff.active).is_(True), Staff.id == staff_id
        )
    )
    return result.first()


def start(session: AsyncSession, audit: Audit, *, actor_id: int) -> None:
    """Assigned → in progress, when the auditor first opens the grading form."""
    before = audit.state
    audit.state = AuditState.IN_PROGRESS
    session.add(audit)
    audit_log.record(
        session,
        tenant_id=audit.tenant_id,
        actor_id=actor_id,
        event="audit.started",
        entity="audit",
        entity_id=audit.id,
        before={"state": before},
        after={"state": audit.state},
    )


def save_grades(
    session: AsyncSession,
    audit: Audit,
    *,
    actor_id: int,
    grades: Mapping[str, str],
    overall_grade: str,
    limiting_reason: str | None,
    summary: str | None,
    strengths_seen: str | None,
    risk_identified: bool,
) -> bool:
    """Store the grades (the audit is in progress); False when they were already exactly so."""
    before = _grades(audit)
    for standard in Standard:
        setattr(audit, f"grade_{standard.value}", grades[standard.value])
    audit.overall_grade = overall_grade
    audit.limiting_reason = limiting_reason
    audit.summary = summary
    audit.strengths_seen = strengths_seen
    audit.risk_identified = risk_identified
    audit.state = AuditState.IN_PROGRESS
    after = _grades(audit)
    if after == before:
        return False
    session.add(audit)
    audit_log.record(
        session,
        tenant_id=audit.tenant_id,
        actor_id=actor_id,
        event="audit.graded",
        entity="audit",
        entity_id=audit.id,
        before={k: v for k, v in before.items() if after[k] != v},
        after={k: v for k, v in after.items() if before[k] != v},
    )
    return True


async def same_open_action(
    *,
    session: AsyncSession,
    tenant_id: str,
    audit_id: int,
    standard: str,
    what: str,
    owner_id: int,
    due_on: date,
) -> Action | None:
    """An action already added with exactly these details: a second press of the same form."""
    result = await session.exec(
        select(Action).where(
            Action.tenant_id == tenant_id,
            Action.audit_id == audit_id,
            Action.standard == standard,
            Action.what == what,
            Action.owner_id == owner_id,
            Action.due_on == due_on,
            Action.state == ActionState.OPEN,
        )
    )
    return result.first()


async def add_action(
    session: AsyncSession,
    audit: Audit,
    *,
    actor_id: int,
    standard: str,
    what: str,
    measure: str,
    owner_id: int,
    due_on: date,
) -> Action:
    assert audit.id is not None
    action = Action(
        tenant_id=audit.tenant_id,
        audit_id=audit.id,
        source=SOURCE_AUDIT,
        what=what,
        measure=measure,
        owner_id=owner_id,
        standard=standard,
        due_on=due_on,
        created_by=actor_id,
    )
    session.add(action)
    await session.flush()
    audit_log.record(
        session,
        tenant_id=audit.tenant_id,
        actor_id=actor_id,
        event="action.created",
        entity="action",
        entity_id=action.id,
        after={
            "audit_id": audit.id,
            "source": SOURCE_AUDIT,
            "standard": standard,
            "owner_id": owner_id,
            "due_on": due_on.isoformat(),
        },
    )
    return action


async def complete(session: AsyncSession, audit: Audit, *, actor_id: int, now: datetime) -> bool:
    """Open → completed; False (nothing written) if its state changed since it was read."""
    before = audit.state
    if not await compare_and_set(
        session,
        audit,
        {"state": before},
        state=AuditState.COMPLETED,
        completed_at=now,
        completed_by=actor_id,
    ):
        return False
    audit_log.record(
        session,
        tenant_id=audit.tenant_id,
        actor_id=actor_id,
        event="audit.completed",
        entity="audit",
        entity_id=audit.id,
        before={"state": before},
        after={
            "state": audit.state,
            "completed_at": now.isoformat(),
            "overall_grade": audit.overall_grade,
        },
    )
    return True


def _grades(audit: Audit) -> dict[str, Any]:
    return {
        **{f"grade_{s.value}": getattr(audit, f"grade_{s.value}") for s in Standard},
        "overall_grade": audit.overall_grade,
        "limiting_reason": audit.limiting_reason,
        "summary": audit.summary,
        "strengths_seen": audit.strengths_seen,
        "risk_identified": audit.risk_identified,
        "state": audit.state,
    }


async def creator_name(*, session: AsyncSession, tenant_id: str, action_id: int) -> str | None:
    """Who agreed the action (its creator), as the owner's card names them."""
    result = await session.exec(
        select(Staff.display_name)
        .join(
            Action,
            and_(col(Action.created_by) == col(Staff.id), col(Action.tenant_id) == tenant_id),
        )
        .where(Staff.tenant_id == tenant_id, Action.id == action_id)
    )
    return result.first()
