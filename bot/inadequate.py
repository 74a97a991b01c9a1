"""The response to an inadequate audit or to risk identified: the alert, the action meeting (for
an inadequate audit) and the child visit (for risk, at any grade), each due by the tenant's
deadline (bot.rules.deadlines) and tracked as an action until recorded as done.

The meeting and the visit are Actions (sources "action_meeting" and "child_visit"), so `my
actions`, the daily card and escalations chase them like any other. "Meeting held" and "Visit
done" on the alert card record them; every posted alert card for the audit is then updated.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar

from microsoft_teams.cards import AdaptiveCard
from pydantic import Field
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import flows, notify, refresh
from bot.payloads import CardAction, Id, Payload, Text
from bot.rules.dates import MAX_AHEAD, parse_day
from bot.rules.deadlines import (
    MEETING_WHAT,
    VISIT_WHAT,
    meeting_due,
    meeting_measure,
    visit_due,
    visit_measure,
)
from bot.rules.grades import ActionState, Grade
from bot.rules.permissions import SERVICE_LEADS
from bot.rules.roles import Role
from bot.rules.workdays import is_working_day
from bot.turn import Reply, Request
from cards.action_done import uk_moment
from cards.common import card_json, counted, uk_date
from cards.inadequate import (
    ALERT_KIND,
    ASSIGNED_KIND,
    MEETING_ACTIONS,
    VISIT_KIND,
    AlertView,
    Draft,
    MeetingForm,
    VisitForm,
    alert_summary,
    assigned_summary,
    child_visit_card,
    inadequate_alert_card,
    meeting_action_card,
    visit_summary,
)
from storage import actions, audits, staff, tenants
from storage import inadequate as store
from storage.models import Action, Audit, SentCard, Staff

log = logging.getLogger(__name__)


_Email = Field("", max_length=320)


class MeetingHeld(Payload):
    """The meeting form. Its values are checked by `_check_meeting`, not here, so a value that
    does not fit comes back in the form with the message, as typed."""

    audit_id: Id
    held_on: Text = ""
    attendees: Text = ""
    what_1: Text = ""
    measure_1: Text = ""
    owner_1: Text = ""
    owner_email_1: str = _Email
    due_on_1: Text = ""
    what_2: Text = ""
    measure_2: Text = ""
    owner_2: Text = ""
    owner_email_2: str = _Email
    due_on_2: Text = ""
    what_3: Text = ""
    measure_3: Text = ""
    owner_3: Text = ""
    owner_email_3: str = _Email
    due_on_3: Text = ""
    problems: ClassVar[dict[str, str]] = {
        "attendees": "The list of who attended can be up to 2,000 characters.",
        **{
            f"{f}_{n}": f"Action {n}: each answer can be up to 2,000 characters."
            for f in ("what", "measure")
            for n in range(1, MEETING_ACTIONS + 1)
        },
        **{
            f"owner_email_{n}": f"Action {n}: that email address is too long."
            for n in range(1, MEETING_ACTIONS + 1)
        },
    }

    def form(self) -> MeetingForm:
        drafts = tuple(
            Draft(
                what=getattr(self, f"what_{n}"),
                measure=getattr(self, f"measure_{n}"),
                owner=getattr(self, f"owner_{n}"),
                owner_email=getattr(self, f"owner_email_{n}").strip(),
                due_on=getattr(self, f"due_on_{n}"),
            )
            for n in range(1, MEETING_ACTIONS + 1)
        )
        return MeetingForm(held_on=self.held_on, attendees=self.attendees, drafts=drafts)


class VisitDone(Payload):
    audit_id: Id
    visited_on: Text = ""
    visit_note: Text = ""
    problems: ClassVar[dict[str, str]] = {
        "visit_note": "The note can be up to 2,000 characters.",
    }

    def form(self) -> VisitForm:
        return VisitForm(visited_on=self.visited_on, note=self.visit_note)


# Completing an audit that is inadequate or identifies risk.


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
    is queued. True if there was anything to respond to; called again, it changes nothing.
    """
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
    subjects = [refresh.audit_subject(audit.id)]
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
        subjects.append(refresh.action_subject(meeting.id or 0))
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
        subjects.append(refresh.action_subject(visit.id or 0))
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
            kind=ALERT_KIND,
            key=f"{ALERT_KIND}:{audit.id}:{person.id}",
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
                kind=VISIT_KIND,
                key=f"{VISIT_KIND}:{audit.id}:{worker_row.id}",
                summary=visit_summary(view, today=today),
                card=child_visit_card(view, today=today),
                subjects=[refresh.audit_subject(audit.id), refresh.action_subject(visit.id or 0)],
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


# Meeting held.


async def on_meeting_held(request: Request, payload: MeetingHeld) -> Reply:
    verb = "meeting_held"
    found = await _audit_and_step(request, verb, payload.audit_id, store.MEETING)
    if isinstance(found, Reply):
        return found
    audit, step = found
    if not await _may_record_meeting(request, audit, step):
        return flows.refused(
            request,
            verb,
            payload.audit_id,
            "not_allowed",
            "Only the service's managers, the team manager or the QA team can record the meeting.",
            denied=True,
        )
    session, tenant_id = request.session, request.tenant_id
    recorded = await store.meeting_of(session=session, tenant_id=tenant_id, audit_id=audit.id or 0)
    if recorded is not None:
        who = await staff.names(session=session, tenant_id=tenant_id, ids={recorded.recorded_by})
        zone = await actions.display_zone(session=session, tenant_id=tenant_id)
        when = uk_moment(recorded.recorded_at.astimezone(zone), today=request.today)
        message = (
            f"Already recorded by {who.get(recorded.recorded_by, 'someone')} on {when}: "
            f"held {uk_date(recorded.held_on, today=request.today)}."
        )
        return await _unchanged(request, payload, verb, "already_recorded", message)
    if step.state == ActionState.CANCELLED:
        message = "The action meeting was cancelled, so there is nothing to record."
        return await _unchanged(request, payload, verb, "cancelled", message)
    form = payload.form()
    checked = await _check_meeting(request, audit, form)
    if isinstance(checked, Problem):
        flows.log_refusal(request, verb, payload.audit_id, checked.reason)
        view = await _view(request, audit.id or 0)
        card = inadequate_alert_card(
            view, today=request.today, meeting_form=form, problem=checked.message
        )
        return Reply(card=card, summary=checked.message)
    held_on, attendees, allocated = checked
    me = flows.me(request)
    await store.record_meeting(
        session,
        tenant_id=tenant_id,
        audit_id=audit.id or 0,
        held_on=held_on,
        attendees=attendees,
        recorded_by=me,
        now=request.now,
    )
    changed = [refresh.audit_subject(audit.id or 0), refresh.action_subject(step.id or 0)]
    # Done by this meeting, unless someone marked it done from a list meanwhile.
    if step.state == ActionState.OPEN and await actions.mark_done(
        session,
        step,
        actor_id=me,
        now=request.now,
        note=f"Meeting held {uk_date(held_on)}",
    ):
        withdrawn = await actions.withdraw_extensions(session, step, actor_id=me, now=request.now)
        changed += [refresh.extension_subject(w) for w in withdrawn]
    view = await _view(request, audit.id or 0)
    told: list[str] = []
    for item in allocated:
        action = await store.add_action(
            session,
            tenant_id=tenant_id,
            audit_id=audit.id or 0,
            source=store.FROM_MEETING,
            what=item.what,
            measure=item.measure,
            owner_id=item.owner.id or 0,
            due_on=item.due_on,
            created_by=me,
        )
        if item.owner.id != me and await notify.tell(
            session,
            tenant_id=tenant_id,
            person=item.owner,
            kind=ASSIGNED_KIND,
            key=f"{ASSIGNED_KIND}:{action.id}",
            summary=assigned_summary(due_on=item.due_on, today=request.today),
            card=meeting_action_card(
                action_id=action.id or 0,
                what=item.what,
                measure=item.measure,
                due_on=item.due_on,
                case_ref=view.case_ref,
                allocated_by=request.person.display_name,
                today=request.today,
            ),
            subjects=[refresh.action_subject(action.id or 0)],
        ):
            told.append(item.owner.display_name)
    await flows.refresh_posted(request, changed, "meeting_held")
    count = len(allocated)
    message = (
        f"Meeting held ✓ {uk_date(held_on, today=request.today)} recorded, with "
        f"{counted(count, 'action')}."
    )
    names = sorted(set(told))
    if names:
        message += f" I've told {flows.names_and(names)}."
    return await _answer(request, payload, message)


@dataclass(frozen=True, slots=True)
class Problem:
    reason: str
    message: str


@dataclass(frozen=True, slots=True)
class Allocation:
    what: str
    measure: str
    owner: Staff
    due_on: date


async def _check_meeting(
    request: Request, audit: Audit, form: MeetingForm
) -> Problem | tuple[date, str, list[Allocation]]:
    """The meeting's date, attendees and actions if they fit; else the first problem."""
    today = request.today
    held_on = parse_day(form.held_on, today=today) if form.held_on else None
    if held_on is None:
        return Problem("no_date", "Please give the date the meeting was held.")
    if problem := await _day_problem(request, audit, held_on, "meeting"):
        return problem
    if not form.attendees:
        return Problem("no_attendees", "Please say who attended: the roles and names of staff.")
    allocated: list[Allocation] = []
    for n, draft in enumerate(form.drafts, start=1):
        if draft.blank:
            continue
        checked = await _check_draft(request, n, draft)
        if isinstance(checked, Problem):
            return checked
        allocated.append(checked)
    if not allocated:
        return Problem("no_actions", "Please add at least one action agreed at the meeting.")
    return held_on, form.attendees, allocated


async def _check_draft(request: Request, n: int, draft: Draft) -> Problem | Allocation:
    """SMART enough to track: what, how we will know, a known owner, a future working day."""
    today = request.today
    if not draft.what:
        return Problem("no_what", f"Action {n}: please say what will be done.")
    if not draft.measure:
        return Problem("no_measure", f"Action {n}: please say how we will know it's done.")
    owner = None
    session, tenant_id = request.session, request.tenant_id
    if draft.owner_email:
        owner = await staff.active_by_email(
            session=session, tenant_id=tenant_id, email=draft.owner_email
        )
        if owner is None:
            return Problem(
                "unknown_owner",
                f"Action {n}: I can't find anyone with the email {draft.owner_email} in QA Loop. "
                "Choose someone from the list, or check the address.",
            )
    elif draft.owner.isdigit():
        owner = await staff.active_by_id(
            session=session, tenant_id=tenant_id, staff_id=int(draft.owner)
        )
    if owner is None:
        return Problem("no_owner", f"Action {n}: please choose who owns it, or give their email.")
    due = parse_day(draft.due_on, today=today) if draft.due_on else None
    if due is None:
        return Problem("no_due_date", f"Action {n}: please give a due date.")
    shown = uk_date(due, today=today)
    if due <= today:
        return Problem("due_not_future", f"Action {n}: {shown} is not in the future.")
    if due > today + MAX_AHEAD:
        return Problem("due_too_far", f"Action {n}: please choose a due date within a year.")
    if not is_working_day(due):
        return Problem(
            "due_not_working_day",
            f"Action {n}: {shown} is not a working day. Please choose a weekday that is not a "
            "bank holiday.",
        )
    return Allocation(what=draft.what, measure=draft.measure, owner=owner, due_on=due)


async def _may_record_meeting(request: Request, audit: Audit, step: Action) -> bool:
    """The service's HoS and SM, the audit team's TM, QA, or whoever arranges the meeting."""
    me = await staff.standing(
        session=request.session, tenant_id=request.tenant_id, person=request.person
    )
    if Role.QA in me.roles or me.id == step.owner_id:
        return True
    if Role.TEAM_MANAGER in me.roles and me.team_id == audit.team_id:
        return True
    service_id = await store.service_of(
        session=request.session, tenant_id=request.tenant_id, audit=audit
    )
    return bool(SERVICE_LEADS & me.roles) and service_id is not None and me.service_id == service_id


# Visit done.


async def on_visit_done(request: Request, payload: VisitDone) -> Reply:
    verb = "visit_done"
    found = await _audit_and_step(request, verb, payload.audit_id, store.VISIT)
    if isinstance(found, Reply):
        return found
    audit, step = found
    if not await _may_record_visit(request, audit, step):
        return flows.refused(
            request,
            verb,
            payload.audit_id,
            "not_allowed",
            "Only the social worker, their team manager or the QA team can record the visit.",
            denied=True,
        )
    if step.state in (ActionState.DONE, ActionState.CONFIRMED):
        view = await _view(request, audit.id or 0)
        visit = view.visit
        who = f" by {visit.done_by}" if visit and visit.done_by else ""
        when = (
            f", {uk_moment(visit.done_at, today=request.today)}" if visit and visit.done_at else ""
        )
        message = f"Already recorded: visit done ✓{who}{when}."
        return await _unchanged(request, payload, verb, f"already_{step.state}", message)
    if step.state == ActionState.CANCELLED:
        message = "The child visit was cancelled, so there is nothing to record."
        return await _unchanged(request, payload, verb, "cancelled", message)
    today = request.today
    form = payload.form()
    visited = parse_day(form.visited_on, today=today) if form.visited_on else None
    problem = await visit_day_problem(request, audit, visited)
    if problem is not None or visited is None:
        assert problem is not None
        flows.log_refusal(request, verb, payload.audit_id, problem.reason)
        view = await _view(request, audit.id or 0)
        if payload.card == "visit":
            card = child_visit_card(view, today=today, visit_form=form, problem=problem.message)
        else:
            card = inadequate_alert_card(
                view, today=today, visit_form=form, problem=problem.message
            )
        return Reply(card=card, summary=problem.message)
    me = flows.me(request)
    if not await actions.mark_done(
        request.session, step, actor_id=me, now=request.now, note=form.note or None
    ):
        message = "Already recorded: the visit was marked done a moment ago."
        return await _unchanged(request, payload, verb, "already_done", message)
    store.record_visit(request.session, audit, visited_on=visited, actor_id=me)
    withdrawn = await actions.withdraw_extensions(
        request.session, step, actor_id=me, now=request.now
    )
    await flows.refresh_posted(
        request,
        [
            refresh.audit_subject(audit.id or 0),
            refresh.action_subject(step.id or 0),
            *map(refresh.extension_subject, withdrawn),
        ],
        "visit_done",
    )
    return await _answer(
        request, payload, f"Visit done ✓ {uk_date(visited, today=today)} recorded. Thank you."
    )


async def visit_day_problem(request: Request, audit: Audit, visited: date | None) -> Problem | None:
    """Why `visited` cannot be the day the child was seen: none given, in the future, or before
    the audit that called for the visit was completed."""
    if visited is None:
        return Problem("no_date", "Please give the date of the visit.")
    return await _day_problem(request, audit, visited, "visit")


async def _day_problem(request: Request, audit: Audit, day: date, what: str) -> Problem | None:
    """The meeting or the visit happened after the audit was completed and not after today."""
    if day > request.today:
        return Problem("future_date", f"The {what} date can't be in the future.")
    completed = await _completed_on(request, audit)
    if completed is not None and day < completed:
        return Problem(
            "before_audit",
            f"The {what} can't be before the audit was completed "
            f"({uk_date(completed, today=request.today)}).",
        )
    return None


async def _may_record_visit(request: Request, audit: Audit, step: Action) -> bool:
    """The social worker (the visit's owner), their team manager or line manager, or QA."""
    me = await staff.standing(
        session=request.session, tenant_id=request.tenant_id, person=request.person
    )
    if Role.QA in me.roles or me.id in (step.owner_id, audit.practitioner_id):
        return True
    if Role.TEAM_MANAGER in me.roles and me.team_id == audit.team_id:
        return True
    owner = await staff.by_id(
        session=request.session, tenant_id=request.tenant_id, staff_id=step.owner_id
    )
    return owner is not None and owner.manager_id == me.id


# The steps both share.


async def _audit_and_step(
    request: Request, verb: str, audit_id: int, source: str
) -> tuple[Audit, Action] | Reply:
    """The audit and its meeting or visit action, both locked; else why not.

    The action is locked first, as marking it done from any card does (bot.tracking), so two
    people recording the same visit at once wait for each other rather than deadlock.
    """
    session, tenant_id = request.session, request.tenant_id
    step = await store.response_action(
        session=session, tenant_id=tenant_id, audit_id=audit_id, source=source, lock=True
    )
    audit = await audits.audit_for_update(session=session, tenant_id=tenant_id, audit_id=audit_id)
    if audit is None:
        return flows.refused(
            request,
            verb,
            audit_id,
            "not_found",
            "I can't find that audit. It may have been removed.",
        )
    if step is None:
        what = "action meeting" if source == store.MEETING else "child visit"
        return flows.refused(
            request, verb, audit_id, f"no_{source}", f"This audit has no {what} to record."
        )
    return audit, step


async def _completed_on(request: Request, audit: Audit) -> date | None:
    if audit.completed_at is None:
        return None
    zone = await actions.display_zone(session=request.session, tenant_id=request.tenant_id)
    return audit.completed_at.astimezone(zone).date()


async def _view(request: Request, audit_id: int) -> AlertView:
    zone = await actions.display_zone(session=request.session, tenant_id=request.tenant_id)
    view = await store.alert_view(
        session=request.session, tenant_id=request.tenant_id, audit_id=audit_id, zone=zone
    )
    assert view is not None  # the audit was found in this transaction
    return view


async def _answer(request: Request, payload: VisitDone | MeetingHeld, message: str) -> Reply:
    """The card the button was on, afresh, with what happened at the top."""
    view = await _view(request, payload.audit_id)
    card: AdaptiveCard
    if payload.card == "visit":
        card = child_visit_card(view, today=request.today, notice=message)
    else:
        card = inadequate_alert_card(view, today=request.today, notice=message)
    return Reply(card=card, summary=message)


async def _unchanged(
    request: Request, payload: VisitDone | MeetingHeld, verb: str, reason: str, message: str
) -> Reply:
    """A repeat or a press on a card showing an old state: the card afresh, saying where it is."""
    flows.log_refusal(request, verb, payload.audit_id, reason)
    return await _answer(request, payload, message)


# Posted cards, built afresh when the meeting or visit changes (from these cards or elsewhere).


async def _posted_view(session: AsyncSession, tenant_id: str, sent: SentCard) -> AlertView | None:
    audit_id = refresh.subject_id(sent.subject, "audit")
    action_id = refresh.subject_id(sent.subject, "action")
    if audit_id is None and action_id is not None:
        audit_id = await store.audit_of_action(
            session=session, tenant_id=tenant_id, action_id=action_id
        )
    if audit_id is None:
        return None
    zone = await actions.display_zone(session=session, tenant_id=tenant_id)
    return await store.alert_view(
        session=session, tenant_id=tenant_id, audit_id=audit_id, zone=zone
    )


async def rebuild_alert(
    session: AsyncSession, tenant_id: str, sent: SentCard, today: date
) -> tuple[dict[str, Any], str] | None:
    view = await _posted_view(session, tenant_id, sent)
    if view is None:
        return None
    return card_json(inadequate_alert_card(view, today=today)), alert_summary(view, today=today)


async def rebuild_visit(
    session: AsyncSession, tenant_id: str, sent: SentCard, today: date
) -> tuple[dict[str, Any], str] | None:
    view = await _posted_view(session, tenant_id, sent)
    if view is None:
        return None
    return card_json(child_visit_card(view, today=today)), visit_summary(view, today=today)


refresh.register(ALERT_KIND, rebuild_alert)
refresh.register(VISIT_KIND, rebuild_visit)

ACTIONS: dict[str, CardAction] = {
    "meeting_held": CardAction(MeetingHeld, on_meeting_held),
    "visit_done": CardAction(VisitDone, on_visit_done),
}
