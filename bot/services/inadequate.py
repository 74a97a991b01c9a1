"""The response to an inadequate audit or to risk identified, started when the audit is completed:
the action meeting (inadequate) and the child visit (risk, at any grade), each an action due by
the tenant's deadline (bot.rules.deadlines), the alert to those who must know, and the re-audit
months later (bot.services.reaudit).

Also the checks on the day a meeting was held or a child was seen, which the inadequate feature's
forms and `done` on a visit share.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.rules.deadlines import (
    BEFORE_AUDIT,
    FUTURE_DATE,
    MEETING_WHAT,
    VISIT_WHAT,
    meeting_due,
    meeting_measure,
    response_day_problem,
    visit_due,
    visit_measure,
)
from bot.rules.grades import Grade
from bot.rules.roles import Role
from bot.services import notify, reaudit
from bot.turn import Request
from cards.common import uk_date
from cards.inadequate import alert_summary, child_visit_card, inadequate_alert_card, visit_summary
from cards.names import CardKind, action_subject, audit_subject
from storage import actions, staff, tenants
from storage import inadequate as store
from storage.models import Audit, Staff

log = logging.getLogger(__name__)


async def respond_to_completed(
    session: AsyncSession,
    *,
    tenant_id: str,
    audit: Audit,
    actor_id: int,
    today: date,
    now: datetime,
) -> bool:
    """Called in the completing transaction. An inadequate audit gets its action meeting; risk
    identified, at any grade, gets a child visit by the social worker. Both are due by the
    tenant's deadlines from the completion day in its zone, tracked as actions, and the alert
    is queued. An audit the tenant re-audits (bot.rules.reaudit) gets its re-audit scheduled.
    True if there was a meeting or visit to respond to; called again, it changes nothing.
    """
    responded = await _respond(
        session, tenant_id=tenant_id, audit=audit, actor_id=actor_id, today=today, now=now
    )
    # After the alerts, so the outbox sends the urgent cards before the re-audit's.
    await reaudit.schedule(
        session, tenant_id=tenant_id, audit=audit, actor_id=actor_id, today=today, now=now
    )
    return responded


async def _respond(
    session: AsyncSession,
    *,
    tenant_id: str,
    audit: Audit,
    actor_id: int,
    today: date,
    now: datetime,
) -> bool:
    assert audit.id is not None
    inadequate = audit.overall_grade == Grade.INADEQUATE
    if not (inadequate or audit.risk_identified):
        return False
    for source in (store.MEETING, store.VISIT):
        if await store.response_action(
            session=session, tenant_id=tenant_id, audit_id=audit.id, source=source
        ):
            log.info("audit %s already has its response", audit.id)
            return True
    zone = await actions.display_zone(session=session, tenant_id=tenant_id)
    deadlines = await tenants.deadlines(session=session, tenant_id=tenant_id)
    completed_on = (audit.completed_at or now).astimezone(zone).date()
    meeting_due_on = meeting_due(completed_on, deadlines) if inadequate else None
    visit_due_on = visit_due(completed_on, deadlines) if audit.risk_identified else None
    store.set_response_dates(
        session, audit, actor_id=actor_id, meeting_due_on=meeting_due_on, visit_due_on=visit_due_on
    )
    service_id = await store.service_of(session=session, tenant_id=tenant_id, audit=audit)
    people = await store.responders(
        session=session, tenant_id=tenant_id, service_id=service_id, team_id=audit.team_id
    )
    chair = _meeting_owner(people)
    subjects = [audit_subject(audit.id)]
    if meeting_due_on is not None:
        meeting = await store.add_action(
            session,
            tenant_id=tenant_id,
            audit_id=audit.id,
            source=store.MEETING,
            what=MEETING_WHAT,
            measure=meeting_measure(deadlines.meeting),
            owner_id=chair.id if chair and chair.id else actor_id,
            due_on=meeting_due_on,
            created_by=actor_id,
        )
        subjects.append(action_subject(meeting.id or 0))
    visit = None
    if visit_due_on is not None:
        # The social worker visits; without one on the audit, the team manager sees it done.
        worker = audit.practitioner_id or next(
            (p.id for p in (*people["team_manager"], chair) if p is not None and p.id), actor_id
        )
        visit = await store.add_action(
            session,
            tenant_id=tenant_id,
            audit_id=audit.id,
            source=store.VISIT,
            what=VISIT_WHAT,
            measure=visit_measure(deadlines.visit),
            owner_id=worker,
            due_on=visit_due_on,
            created_by=actor_id,
        )
        subjects.append(action_subject(visit.id or 0))
    view = await store.alert_view(
        session=session, tenant_id=tenant_id, audit_id=audit.id, zone=zone
    )
    assert view is not None
    card = inadequate_alert_card(view, today=today)
    summary = alert_summary(view, today=today)
    # Inadequate: the service's HoS and SM; risk alone: its SM. Always the TM and QA. The
    # person who completed it is told too: the card carries the buttons they may need.
    leads = people["lead"]
    if not inadequate:
        leads = [s for s in leads if Role.SERVICE_MANAGER in s.role_set]
    told: set[int] = set()
    for person in (*leads, *people["team_manager"], *people["qa"]):
        if person.id is None or person.id in told:
            continue
        told.add(person.id)
        await notify.tell(
            session,
            tenant_id=tenant_id,
            person=person,
            kind=CardKind.INADEQUATE_ALERT,
            key=f"{CardKind.INADEQUATE_ALERT}:{audit.id}:{person.id}",
            summary=summary,
            card=card,
            subjects=subjects,
        )
    if visit is not None:
        worker_row = await staff.by_id(
            session=session, tenant_id=tenant_id, staff_id=visit.owner_id
        )
        if worker_row is not None:
            await notify.tell(
                session,
                tenant_id=tenant_id,
                person=worker_row,
                kind=CardKind.CHILD_VISIT_DUE,
                key=f"{CardKind.CHILD_VISIT_DUE}:{audit.id}:{worker_row.id}",
                summary=visit_summary(view, today=today),
                card=child_visit_card(view, today=today),
                subjects=[audit_subject(audit.id), action_subject(visit.id or 0)],
            )
    return True


def _meeting_owner(people: dict[str, list[Staff]]) -> Staff | None:
    """Who arranges the meeting: a service manager, else the head of service, else the team
    manager, else QA."""
    leads = people["lead"]
    for group in (
        [s for s in leads if Role.SERVICE_MANAGER in s.role_set],
        leads,
        people["team_manager"],
        people["qa"],
    ):
        if group:
            return group[0]
    return None


@dataclass(frozen=True, slots=True)
class Problem:
    reason: str
    message: str


async def visit_day_problem(request: Request, audit: Audit, visited: date | None) -> Problem | None:
    """Why `visited` cannot be the day the child was seen: none given, in the future, or before
    the audit that called for the visit was completed."""
    if visited is None:
        return Problem("no_date", "Please give the date of the visit.")
    return await day_problem(request, audit, visited, "visit")


async def day_problem(request: Request, audit: Audit, day: date, what: str) -> Problem | None:
    """The meeting or the visit happened after the audit was completed and not after today
    (bot.rules.deadlines), said for the person."""
    completed = await completed_on(request, audit)
    problem = response_day_problem(day, today=request.today, completed_on=completed)
    if problem == FUTURE_DATE:
        return Problem(problem, f"The {what} date can't be in the future.")
    if problem == BEFORE_AUDIT and completed is not None:
        return Problem(
            problem,
            f"The {what} can't be before the audit was completed "
            f"({uk_date(completed, today=request.today)}).",
        )
    return None


async def completed_on(request: Request, audit: Audit) -> date | None:
    if audit.completed_at is None:
        return None
    zone = await actions.display_zone(session=request.session, tenant_id=request.tenant_id)
    return audit.completed_at.astimezone(zone).date()
