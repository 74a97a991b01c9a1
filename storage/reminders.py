"""Queries behind the daily reminders and escalations: a few per tenant, never one per person."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy import and_, func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.rules.grades import DONE_AUDIT_STATES, OPEN_AUDIT_STATES, ActionState
from bot.rules.reminders import ActionDue, AuditDue, FeedbackOwed, Person
from storage.models import (
    Action,
    Audit,
    Case,
    ConversationRef,
    ExtensionRequest,
    Feedback,
    Staff,
    Team,
)


@dataclass(frozen=True, slots=True)
class PersonalChat:
    conversation_ref_id: int
    conversation_id: str


async def people(
    *, session: AsyncSession, tenant_id: str, staff_id: int | None = None
) -> dict[int, Person]:
    """Active staff by id (or just one), with their service resolved through their team."""
    query = (
        select(Staff, func.coalesce(Staff.service_id, Team.service_id))
        .outerjoin(Team, and_(col(Team.id) == col(Staff.team_id), col(Team.tenant_id) == tenant_id))
        .where(Staff.tenant_id == tenant_id, col(Staff.active).is_(True))
        .order_by(col(Staff.id))
    )
    if staff_id is not None:
        query = query.where(col(Staff.id) == staff_id)
    result = {}
    for staff, service_id in (await session.exec(query)).all():
        assert staff.id is not None
        result[staff.id] = Person(
            id=staff.id,
            name=staff.display_name,
            working_days=staff.working_days,
            away_until=staff.away_until,
            reachable=staff.reachable,
            roles=staff.role_set,
            team_id=staff.team_id,
            service_id=service_id,
            manager_id=staff.manager_id,
        )
    return result


async def open_actions(
    *,
    session: AsyncSession,
    tenant_id: str,
    due_by: date,
    owner_id: int | None = None,
    done_between: tuple[datetime, datetime] | None = None,
) -> list[ActionDue]:
    """Open actions due on or before `due_by`, with their case reference and any pending request.

    With `done_between`, also the owner's actions marked done in that interval, so a card
    re-rendered later that day can show them as done rather than drop them.
    """
    pending = (
        select(func.max(ExtensionRequest.new_due_on))
        .where(
            col(ExtensionRequest.tenant_id) == tenant_id,
            col(ExtensionRequest.action_id) == col(Action.id),
            col(ExtensionRequest.state) == "pending",
        )
        .correlate(Action)
        .scalar_subquery()
    )
    wanted = and_(col(Action.state) == ActionState.OPEN, col(Action.due_on) <= due_by)
    if done_between is not None:
        start, end = done_between
        wanted = or_(
            wanted,
            and_(
                col(Action.state).in_((ActionState.DONE, ActionState.CONFIRMED)),
                col(Action.done_at) >= start,
                col(Action.done_at) < end,
                col(Action.due_on) <= due_by,
            ),
        )
    # Columns rather than ORM objects, through the connection: a council's open actions run to
    # tens of thousands, and building an object for each stalled the event loop for seconds.
    query = (
        sa.select(
            col(Action.id),
            col(Action.owner_id),
            col(Action.what),
            col(Action.due_on),
            col(Action.standard),
            col(Action.state),
            col(Action.snoozed_until),
            col(Action.source),
            col(Case.case_ref),
            pending,
        )
        .outerjoin(
            Audit, and_(col(Audit.id) == col(Action.audit_id), col(Audit.tenant_id) == tenant_id)
        )
        .outerjoin(Case, and_(col(Case.id) == col(Audit.case_id), col(Case.tenant_id) == tenant_id))
        .where(col(Action.tenant_id) == tenant_id, wanted)
        .order_by(col(Action.due_on), col(Action.id))
    )
    if owner_id is not None:
        query = query.where(col(Action.owner_id) == owner_id)
    return [
        ActionDue(
            id=id or 0,
            owner_id=owner_id,
            what=what,
            due_on=due_on,
            case_ref=case_ref,
            standard=standard,
            state=state,
            snoozed_until=snoozed_until,
            extension_asked_for=asked_for,
            source=source,
        )
        for (
            id,
            owner_id,
            what,
            due_on,
            standard,
            state,
            snoozed_until,
            source,
            case_ref,
            asked_for,
        ) in (await (await session.connection()).execute(query)).all()
    ]


async def open_audits(
    *, session: AsyncSession, tenant_id: str, due_by: date, auditor_id: int | None = None
) -> list[AuditDue]:
    """Audits assigned or in progress, due on or before `due_by`."""
    query = (
        select(Audit, Case.case_ref)
        .join(Case, and_(col(Case.id) == col(Audit.case_id), col(Case.tenant_id) == tenant_id))
        .where(
            Audit.tenant_id == tenant_id,
            col(Audit.state).in_(OPEN_AUDIT_STATES),
            col(Audit.due_on) <= due_by,
        )
        .order_by(col(Audit.due_on), col(Audit.id))
    )
    if auditor_id is not None:
        query = query.where(col(Audit.auditor_id) == auditor_id)
    return [
        AuditDue(
            id=audit.id or 0,
            auditor_id=audit.auditor_id,
            case_ref=case_ref,
            kind=audit.kind,
            theme=audit.theme,
            state=audit.state,
            due_on=audit.due_on,
        )
        for audit, case_ref in (await session.exec(query)).all()
    ]


async def feedback_owed(
    *,
    session: AsyncSession,
    tenant_id: str,
    completed_since: date,
    zone: ZoneInfo,
    practitioner_id: int | None = None,
) -> list[FeedbackOwed]:
    """Audits of practitioners' cases completed since that local date with no feedback yet."""
    since = datetime.combine(completed_since, time(0), tzinfo=zone).astimezone(UTC)
    query = (
        select(Audit, Case.case_ref)
        .join(Case, and_(col(Case.id) == col(Audit.case_id), col(Case.tenant_id) == tenant_id))
        .outerjoin(
            Feedback,
            and_(col(Feedback.audit_id) == col(Audit.id), col(Feedback.tenant_id) == tenant_id),
        )
        .where(
            Audit.tenant_id == tenant_id,
            col(Audit.state).in_(DONE_AUDIT_STATES),
            col(Audit.practitioner_id).is_not(None),
            col(Audit.completed_at) >= since,
            col(Feedback.id).is_(None),
        )
        .order_by(col(Audit.completed_at), col(Audit.id))
    )
    if practitioner_id is not None:
        query = query.where(col(Audit.practitioner_id) == practitioner_id)
    owed = []
    for audit, case_ref in (await session.exec(query)).all():
        if audit.practitioner_id is None or audit.completed_at is None:
            continue
        owed.append(
            FeedbackOwed(
                audit_id=audit.id or 0,
                practitioner_id=audit.practitioner_id,
                case_ref=case_ref,
                completed_on=audit.completed_at.astimezone(zone).date(),
            )
        )
    return owed


async def personal_chats(
    *, session: AsyncSession, tenant_id: str, staff_id: int | None = None
) -> dict[int, PersonalChat]:
    """Each person's 1:1 chat with the bot, the most recently used when there are several."""
    query = (
        select(ConversationRef.staff_id, ConversationRef.id, ConversationRef.conversation_id)
        .where(
            ConversationRef.tenant_id == tenant_id,
            ConversationRef.conversation_type == "personal",
            col(ConversationRef.staff_id).is_not(None),
        )
        .order_by(col(ConversationRef.updated_at), col(ConversationRef.id))
    )
    if staff_id is not None:
        query = query.where(col(ConversationRef.staff_id) == staff_id)
    chats = {}
    for owner, ref_id, conversation_id in (await session.exec(query)).all():
        if owner is not None and ref_id is not None:
            chats[owner] = PersonalChat(ref_id, conversation_id)  # later rows win: newest
    return chats


async def recipient_of(
    *, session: AsyncSession, tenant_id: str, conversation_ref_id: int
) -> int | None:
    """The person a stored conversation reaches, if it is someone's personal chat."""
    ref = await session.get(ConversationRef, conversation_ref_id)
    if ref is None or ref.tenant_id != tenant_id:
        return None
    return ref.staff_id


def local_day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants a local day starts and ends (23 or 25 hours long on a clock change)."""
    start = datetime.combine(day, time(0), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)
