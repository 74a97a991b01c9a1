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
from datetime import date
from typing import Any, ClassVar

from microsoft_teams.cards import AdaptiveCard
from pydantic import Field
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.payloads import Id, Payload, Text
from bot.rules.dates import MAX_AHEAD, parse_day
from bot.rules.grades import ActionState
from bot.rules.permissions import may_record_meeting, may_record_visit
from bot.rules.workdays import is_working_day
from bot.services import flows, notify
from bot.services.inadequate import Problem, day_problem, visit_day_problem
from bot.settings import Settings
from bot.turn import Reply, Request
from cards.action_done import uk_moment
from cards.common import card_json, counted, uk_date
from cards.inadequate import (
    MEETING_ACTIONS,
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
from cards.names import (
    CardKind,
    CardVerb,
    Input,
    action_subject,
    audit_subject,
    extension_subject,
    item_input,
    subject_id,
)
from storage import actions, audits, staff
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
            item_input(f, n): f"Action {n}: each answer can be up to 2,000 characters."
            for f in ("what", "measure")
            for n in range(1, MEETING_ACTIONS + 1)
        },
        **{
            item_input(Input.OWNER_EMAIL, n): f"Action {n}: that email address is too long."
            for n in range(1, MEETING_ACTIONS + 1)
        },
    }

    def form(self) -> MeetingForm:
        drafts = tuple(
            Draft(
                what=getattr(self, item_input(Input.WHAT, n)),
                measure=getattr(self, item_input(Input.MEASURE, n)),
                owner=getattr(self, item_input(Input.OWNER, n)),
                owner_email=getattr(self, item_input(Input.OWNER_EMAIL, n)).strip(),
                due_on=getattr(self, item_input(Input.DUE_ON, n)),
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


# Meeting held.


async def on_meeting_held(request: Request, payload: MeetingHeld) -> Reply:
    verb = CardVerb.MEETING_HELD
    found = await _audit_and_step(request, verb, payload.audit_id, store.MEETING)
    if isinstance(found, Reply):
        return found
    audit, step = found
    if not await _records_meeting(request, audit, step):
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
    changed = [audit_subject(audit.id or 0), action_subject(step.id or 0)]
    # Done by this meeting, unless someone marked it done from a list meanwhile.
    if step.state == ActionState.OPEN and await actions.mark_done(
        session,
        step,
        actor_id=me,
        now=request.now,
        note=f"Meeting held {uk_date(held_on)}",
    ):
        withdrawn = await actions.withdraw_extensions(session, step, actor_id=me, now=request.now)
        changed += [extension_subject(w) for w in withdrawn]
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
            kind=CardKind.ACTION_ASSIGNED,
            key=f"{CardKind.ACTION_ASSIGNED}:{action.id}",
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
            subjects=[action_subject(action.id or 0)],
        ):
            told.append(item.owner.display_name)
    await flows.refresh_posted(request, changed, CardVerb.MEETING_HELD)
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
    if problem := await day_problem(request, audit, held_on, "meeting"):
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


async def _records_meeting(request: Request, audit: Audit, step: Action) -> bool:
    """The service's HoS and SM, the audit team's TM, QA, or whoever arranges the meeting."""
    me = await staff.standing(
        session=request.session, tenant_id=request.tenant_id, person=request.person
    )
    service_id = await store.service_of(
        session=request.session, tenant_id=request.tenant_id, audit=audit
    )
    return may_record_meeting(
        me, arranger_id=step.owner_id, audit_team_id=audit.team_id, audit_service_id=service_id
    )


# Visit done.


async def on_visit_done(request: Request, payload: VisitDone) -> Reply:
    verb = CardVerb.VISIT_DONE
    found = await _audit_and_step(request, verb, payload.audit_id, store.VISIT)
    if isinstance(found, Reply):
        return found
    audit, step = found
    if not await _records_visit(request, audit, step):
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
            audit_subject(audit.id or 0),
            action_subject(step.id or 0),
            *map(extension_subject, withdrawn),
        ],
        CardVerb.VISIT_DONE,
    )
    return await _answer(
        request, payload, f"Visit done ✓ {uk_date(visited, today=today)} recorded. Thank you."
    )


async def _records_visit(request: Request, audit: Audit, step: Action) -> bool:
    """The social worker (the visit's owner), their team manager or line manager, or QA."""
    me = await staff.standing(
        session=request.session, tenant_id=request.tenant_id, person=request.person
    )
    owner = await staff.by_id(
        session=request.session, tenant_id=request.tenant_id, staff_id=step.owner_id
    )
    return may_record_visit(
        me,
        worker_id=step.owner_id,
        practitioner_id=audit.practitioner_id,
        audit_team_id=audit.team_id,
        worker_manager_id=owner.manager_id if owner is not None else None,
    )


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
    audit_id = subject_id(sent.subject, "audit")
    action_id = subject_id(sent.subject, "action")
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
    session: AsyncSession, tenant_id: str, sent: SentCard, today: date, settings: Settings
) -> tuple[dict[str, Any], str] | None:
    view = await _posted_view(session, tenant_id, sent)
    if view is None:
        return None
    return card_json(inadequate_alert_card(view, today=today)), alert_summary(view, today=today)


async def rebuild_visit(
    session: AsyncSession, tenant_id: str, sent: SentCard, today: date, settings: Settings
) -> tuple[dict[str, Any], str] | None:
    view = await _posted_view(session, tenant_id, sent)
    if view is None:
        return None
    return card_json(child_visit_card(view, today=today)), visit_summary(view, today=today)
