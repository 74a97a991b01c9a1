"""Queries and changes for the response to an inadequate audit or to risk identified: who is alerted, the tracking
actions (action meeting, child visit), the meeting record and the alert card's view."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.rules.grades import ACTION_MEETING, CHILD_VISIT, Standard
from bot.rules.permissions import SERVICE_LEADS
from bot.rules.roles import Role
from cards.inadequate import AlertView, Allocated, MeetingRecord, Step
from storage import audit_log, audits, grading, staff, tenants
from storage.db import locked
from storage.models import Action, ActionMeeting, Audit, AuditLog, Staff, Team

MEETING = ACTION_MEETING
VISIT = CHILD_VISIT
FROM_MEETING = "meeting"


async def service_of(*, session: AsyncSession, tenant_id: str, audit: Audit) -> int | None:
    """The practitioner's service; the audit team's when the practitioner has none."""
    if audit.practitioner_id is not None:
        worker = await staff.by_id(
            session=session, tenant_id=tenant_id, staff_id=audit.practitioner_id
        )
        if worker is not None:
            standing = await staff.standing(session=session, tenant_id=tenant_id, person=worker)
            if standing.service_id is not None:
                return standing.service_id
    result = await session.exec(
        select(Team.service_id).where(Team.tenant_id == tenant_id, Team.id == audit.team_id)
    )
    return result.first()


async def responders(
    *, session: AsyncSession, tenant_id: str, service_id: int | None, team_id: int
) -> dict[str, list[Staff]]:
    """Who the alert goes to, by part: "lead" (HoS and SM of the service), "team_manager" (of the
    audit's team) and "qa"; active people only, each list in id order."""
    rows = (
        await session.exec(
            select(Staff)
            .where(
                Staff.tenant_id == tenant_id,
                col(Staff.active).is_(True),
                or_(
                    staff.holds(Role.QA),
                    and_(
                        col(Staff.team_id) == team_id,
                        staff.holds(Role.TEAM_MANAGER),
                    ),
                    and_(
                        col(Staff.service_id).is_not(None),
                        col(Staff.service_id) == service_id,
                        or_(
                            staff.holds(Role.SERVICE_MANAGER),
                            staff.holds(Role.HEAD_OF_SERVICE),
                        ),
                    ),
                ),
            )
            .order_by(col(Staff.id))
        )
    ).all()
    # One query for the three parts; each part is the people of that role and place.
    return {
        "lead": [s for s in rows if SERVICE_LEADS & s.role_set and s.service_id == service_id],
        "team_manager": [
            s for s in rows if Role.TEAM_MANAGER in s.role_set and s.team_id == team_id
        ],
        "qa": [s for s in rows if Role.QA in s.role_set],
    }


async def response_action(
    *, session: AsyncSession, tenant_id: str, audit_id: int, source: str, lock: bool = False
) -> Action | None:
    """The action tracking the meeting (source "action_meeting") or the visit ("child_visit")."""
    query = (
        select(Action)
        .where(Action.tenant_id == tenant_id, Action.audit_id == audit_id, Action.source == source)
        .order_by(col(Action.id))
    )
    if lock:
        query = await locked(session, query)
    return (await session.exec(query)).first()


async def add_action(
    session: AsyncSession,
    *,
    tenant_id: str,
    audit_id: int,
    source: str,
    what: str,
    measure: str,
    owner_id: int,
    due_on: date,
    created_by: int | None,
    standard: Standard | None = None,
) -> Action:
    action = Action(
        tenant_id=tenant_id,
        audit_id=audit_id,
        source=source,
        what=what,
        measure=measure,
        owner_id=owner_id,
        due_on=due_on,
        standard=standard,
        created_by=created_by,
    )
    session.add(action)
    await session.flush()
    audit_log.record(
        session,
        tenant_id=tenant_id,
        actor_id=created_by,
        event="action.created",
        entity="action",
        entity_id=action.id,
        after={
            "audit_id": audit_id,
            "source": source,
            "owner_id": owner_id,
            "due_on": due_on.isoformat(),
            "what": what,
            "measure": measure,
        },
    )
    return action


def set_response_dates(
    session: AsyncSession,
    audit: Audit,
    *,
    actor_id: int,
    meeting_due_on: date | None,
    visit_due_on: date | None,
) -> None:
    before = _dates(audit)
    audit.meeting_due_on = meeting_due_on
    audit.visit_due_on = visit_due_on
    session.add(audit)
    audit_log.record(
        session,
        tenant_id=audit.tenant_id,
        actor_id=actor_id,
        event="audit.inadequate_response",
        entity="audit",
        entity_id=audit.id,
        before=before,
        after=_dates(audit),
    )


def _dates(audit: Audit) -> dict[str, Any]:
    return {
        "meeting_due_on": audit.meeting_due_on.isoformat() if audit.meeting_due_on else None,
        "visit_due_on": audit.visit_due_on.isoformat() if audit.visit_due_on else None,
    }


async def meeting_of(
    *, session: AsyncSession, tenant_id: str, audit_id: int
) -> ActionMeeting | None:
    result = await session.exec(
        select(ActionMeeting).where(
            ActionMeeting.tenant_id == tenant_id, ActionMeeting.audit_id == audit_id
        )
    )
    return result.first()


async def record_meeting(
    session: AsyncSession,
    *,
    tenant_id: str,
    audit_id: int,
    held_on: date,
    attendees: str,
    recorded_by: int,
    now: datetime,
) -> ActionMeeting:
    meeting = ActionMeeting(
        tenant_id=tenant_id,
        audit_id=audit_id,
        held_on=held_on,
        attendees=attendees,
        recorded_by=recorded_by,
        recorded_at=now,
    )
    session.add(meeting)
    await session.flush()
    audit_log.record(
        session,
        tenant_id=tenant_id,
        actor_id=recorded_by,
        event="action_meeting.recorded",
        entity="action_meeting",
        entity_id=meeting.id,
        after={"audit_id": audit_id, "held_on": held_on.isoformat(), "attendees": attendees},
    )
    return meeting


def record_visit(
    session: AsyncSession, audit: Audit, *, visited_on: date | None, actor_id: int
) -> None:
    """The day the child was seen, on the audit (the visit action is marked done alongside);
    None when a manager reopens the visit, so it no longer counts as made."""

    def iso(day: date | None) -> str | None:
        return day.isoformat() if day else None

    before = {"visited_on": iso(audit.visited_on)}
    audit.visited_on = visited_on
    session.add(audit)
    audit_log.record(
        session,
        tenant_id=audit.tenant_id,
        actor_id=actor_id,
        event="audit.visit_recorded" if visited_on else "audit.visit_reopened",
        entity="audit",
        entity_id=audit.id,
        before=before,
        after={"visited_on": iso(visited_on)},
    )


async def audit_of_action(*, session: AsyncSession, tenant_id: str, action_id: int) -> int | None:
    result = await session.exec(
        select(Action.audit_id).where(Action.tenant_id == tenant_id, Action.id == action_id)
    )
    return result.first()


async def alert_view(
    *, session: AsyncSession, tenant_id: str, audit_id: int, zone: ZoneInfo
) -> AlertView | None:
    """The audit as its alert card shows it, with where the meeting and the visit stand."""
    row = await audits.with_case_and_team(session=session, tenant_id=tenant_id, audit_id=audit_id)
    if row is None:
        return None
    audit, case_ref, team_name = row
    tracked = (
        await session.exec(
            select(Action)
            .where(
                Action.tenant_id == tenant_id,
                Action.audit_id == audit_id,
                col(Action.source).in_((MEETING, VISIT, FROM_MEETING)),
            )
            .order_by(col(Action.id))
        )
    ).all()
    meeting_action = next((a for a in tracked if a.source == MEETING), None)
    visit_action = next((a for a in tracked if a.source == VISIT), None)
    record = await meeting_of(session=session, tenant_id=tenant_id, audit_id=audit_id)
    done_by = {
        a.id: await _done_by(session, tenant_id, a.id)
        for a in (meeting_action, visit_action)
        if a is not None and a.id is not None and a.done_at is not None
    }
    ids = {audit.auditor_id, *(a.owner_id for a in tracked)}
    ids |= {i for i in (audit.practitioner_id, record.recorded_by if record else None) if i}
    ids |= {i for i in done_by.values() if i is not None}
    names = await staff.names(session=session, tenant_id=tenant_id, ids=ids)

    def step(action: Action | None) -> Step | None:
        if action is None or action.id is None:
            return None
        by = done_by.get(action.id)
        return Step(
            action_id=action.id,
            owner_name=names.get(action.owner_id, "someone"),
            due_on=action.due_on,
            state=action.state,
            done_by=names.get(by) if by else None,
            done_at=action.done_at.astimezone(zone) if action.done_at else None,
            note=action.done_note,
        )

    meeting_record = None
    if record is not None:
        meeting_record = MeetingRecord(
            held_on=record.held_on,
            attendees=record.attendees,
            recorded_by=names.get(record.recorded_by, "someone"),
            recorded_at=record.recorded_at.astimezone(zone),
            actions=tuple(
                Allocated(
                    id=a.id or 0,
                    what=a.what,
                    owner_name=names.get(a.owner_id, "someone"),
                    due_on=a.due_on,
                )
                for a in tracked
                if a.source == FROM_MEETING
            ),
        )
    service_id = await service_of(session=session, tenant_id=tenant_id, audit=audit)
    deadlines = await tenants.deadlines(session=session, tenant_id=tenant_id)
    return AlertView(
        audit_id=audit_id,
        case_ref=case_ref,
        team=team_name,
        kind=audit.kind,
        practitioner=names.get(audit.practitioner_id) if audit.practitioner_id else None,
        auditor=names.get(audit.auditor_id, "someone"),
        completed_on=audit.completed_at.astimezone(zone).date() if audit.completed_at else None,
        grades=tuple((s.value, getattr(audit, f"grade_{s.value}")) for s in Standard),
        overall=audit.overall_grade,
        limiting_reason=audit.limiting_reason,
        risk_identified=audit.risk_identified,
        meeting_due_on=audit.meeting_due_on,
        visit_due_on=audit.visit_due_on,
        meeting_deadline=deadlines.meeting.words,
        visit_deadline=deadlines.visit.words,
        visited_on=audit.visited_on,
        meeting=step(meeting_action),
        visit=step(visit_action),
        record=meeting_record,
        owners=await grading.likely_owners(
            session=session,
            tenant_id=tenant_id,
            audit=audit,
            meeting=await responders(
                session=session, tenant_id=tenant_id, service_id=service_id, team_id=audit.team_id
            ),
        ),
    )


async def _done_by(session: AsyncSession, tenant_id: str, action_id: int) -> int | None:
    result = await session.exec(
        select(AuditLog.actor_id)
        .where(
            AuditLog.tenant_id == tenant_id,
            AuditLog.entity == "action",
            AuditLog.entity_id == str(action_id),
            AuditLog.event == "action.done",
        )
        .order_by(col(AuditLog.at).desc(), col(AuditLog.id).desc())
    )
    return result.first()
