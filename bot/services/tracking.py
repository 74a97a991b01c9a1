"""Acting on an action: done, snooze, more time, and the manager's confirm, reopen and decision.

Each flow checks the person against the stored records (never the card's data beyond the target
id), makes the change with its audit-log row, queues the cards other people get, and updates cards
already posted, all in the caller's transaction. A flow that changes nothing says why and leaves an
audit-log row: "denied.<verb>" for the wrong person, "refused.<verb>" for anything else.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from zoneinfo import ZoneInfo

from microsoft_teams.cards import AdaptiveCard

from bot.rules.dates import DateProblem, new_due_date_problem, parse_day
from bot.rules.grades import ActionState
from bot.rules.permissions import Verb, may
from bot.rules.reminders import is_urgent
from bot.rules.workdays import add_working_days
from bot.services import flows, inadequate, notify
from bot.turn import Request
from cards.action_done import (
    ActionStatus,
    action_confirmed_card,
    action_reopened_card,
    confirm_done_card,
    confirm_done_summary,
    done_line,
    state_line,
    uk_moment,
)
from cards.common import uk_date
from cards.extension import (
    ExtensionView,
    decided_line,
    extension_decided_card,
    extension_request_card,
    extension_request_summary,
)
from cards.inadequate import MeetingForm, VisitForm, child_visit_card, inadequate_alert_card
from cards.names import CardKind, action_subject, extension_subject
from storage import actions, audits, staff
from storage import inadequate as responses
from storage.actions import ExtensionState
from storage.models import Action, Audit, Staff

log = logging.getLogger(__name__)


class Result(StrEnum):
    CHANGED = "changed"
    # Nothing changed yet: the outcome's card asks for what is needed (a visit's day, or the
    # meeting's record) before it can be done.
    ASK = "ask"
    # A repeat or a card showing an old state: nothing changed; the message says where it stands.
    UNCHANGED = "unchanged"
    # The wrong person, nothing by that id, or input that does not fit.
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class Outcome:
    result: Result
    # For the person who asked: what happened, or why not.
    message: str
    # With Result.ASK: the card with the form to fill in.
    card: AdaptiveCard | None = None
    # With Result.CHANGED: what the change makes stale on cards already posted, and its name;
    # the feature answering the person refreshes them (bot.services.flows.settle).
    stale: tuple[str, ...] = ()
    change: str = ""


_DENIED = {
    Verb.MARK_DONE: "Only the action's owner can mark it done.",
    Verb.SNOOZE: "Only the action's owner can snooze it.",
    Verb.REQUEST_EXTENSION: "Only the action's owner can ask for more time.",
    Verb.DECIDE_EXTENSION: "Only the owner's manager or the QA team can decide this.",
    Verb.CONFIRM_DONE: "Only the owner's manager or the QA team can confirm this.",
    Verb.REOPEN: "Only the owner's manager or the QA team can reopen this.",
}


async def mark_done(
    request: Request, *, action_id: int, note: str | None, visited_on: str | None = None
) -> Outcome:
    """`visited_on` is the day the child was seen, for a child-visit action: from a card's form
    (today if left out); None when typed (`done 12`), so the answer asks for it. An action
    meeting is done by recording it, so the answer is the meeting form."""
    found = await _action_for(request, Verb.MARK_DONE, action_id)
    if isinstance(found, Outcome):
        return found
    action, owner = found
    if action.state != ActionState.OPEN:
        return await _as_it_stands(request, Verb.MARK_DONE, action)
    if action.source == responses.MEETING or (
        action.source == responses.VISIT and visited_on is None
    ):
        asked = await _ask_for_the_record(request, action, note)
        if asked is not None:
            return asked
    visit: tuple[Audit, date] | None = None
    if action.source == responses.VISIT:
        day_or_why = await _visit_day(request, action, visited_on or "")
        if isinstance(day_or_why, Outcome):
            return day_or_why
        visit = day_or_why
    if not await actions.mark_done(
        request.session, action, actor_id=flows.me(request), now=request.now, note=note
    ):
        return await _as_it_stands(request, Verb.MARK_DONE, action)
    seen = ""
    if visit is not None:
        audit, day = visit
        responses.record_visit(request.session, audit, visited_on=day, actor_id=flows.me(request))
        seen = f"Child seen {uk_date(day, today=request.today)}. "
    withdrawn = await actions.withdraw_extensions(
        request.session, action, actor_id=flows.me(request), now=request.now
    )
    status = await _status(request, action_id, done_by=request.person)
    then = await _ask_approver(
        request,
        owner,
        TO_CONFIRM,
        kind=CardKind.CONFIRM_DONE,
        key=f"{CardKind.CONFIRM_DONE}:{action_id}:{flows.stamp(request.now)}",
        summary=confirm_done_summary(owner.display_name),
        card=confirm_done_card(status, today=request.today),
        subjects=[action_subject(action_id)],
    )
    stale = (action_subject(action_id), *map(extension_subject, withdrawn))
    message = f"{seen}{done_line(status, today=request.today)}. {then}"
    return Outcome(Result.CHANGED, message, stale=stale, change="done")


async def _ask_for_the_record(request: Request, action: Action, note: str | None) -> Outcome | None:
    """The card that records a safeguarding step, its form open: the meeting's date, attendees
    and actions, or the day the child was seen. None for one with no audit to record it on."""
    if action.audit_id is None:
        return None
    zone = await _zone(request)
    view = await responses.alert_view(
        session=request.session, tenant_id=request.tenant_id, audit_id=action.audit_id, zone=zone
    )
    if view is None:
        return None
    if action.source == responses.MEETING:
        reason = "meeting_to_record"
        message = (
            "To mark the action meeting done, please record it: the date it was held, who "
            "attended and the actions agreed."
        )
        card = inadequate_alert_card(
            view, today=request.today, meeting_form=MeetingForm(), prompt=message
        )
    else:
        reason = "visit_day_to_give"
        message = "When was the child seen? Please give the date of the visit."
        card = child_visit_card(
            view, today=request.today, visit_form=VisitForm(note=note or ""), prompt=message
        )
    flows.log_refusal(request, Verb.MARK_DONE.value, action.id, reason, entity="action")
    return Outcome(Result.ASK, message, card)


async def _visit_day(
    request: Request, action: Action, visited_on: str
) -> tuple[Audit, date] | Outcome | None:
    """A child visit is done by saying when the child was seen: the audit to keep the day on and
    the day, or why not (nothing is written here: the action must be marked done first)."""
    audit = await audits.audit_for_update(
        session=request.session, tenant_id=request.tenant_id, audit_id=action.audit_id or 0
    )
    if audit is None:  # a visit is made for an audit; without one there is no day to keep
        return None
    day = parse_day(visited_on, today=request.today) if visited_on else request.today
    problem = await inadequate.visit_day_problem(request, audit, day)
    if problem is not None or day is None:
        assert problem is not None
        return _refuse(request, Verb.MARK_DONE, action.id or 0, problem.reason, problem.message)
    return audit, day


async def snooze(request: Request, *, action_id: int, days: int) -> Outcome:
    found = await _action_for(request, Verb.SNOOZE, action_id)
    if isinstance(found, Outcome):
        return found
    action, _owner = found
    if is_urgent(action.source):
        return _refuse(
            request,
            Verb.SNOOZE,
            action_id,
            "safeguarding_step",
            f"{_step(action)} can't be snoozed: it is about a child's safety. Please record it "
            "as soon as it is done.",
        )
    if action.state != ActionState.OPEN:
        return await _as_it_stands(request, Verb.SNOOZE, action)
    until = add_working_days(request.today, days)
    shown = uk_date(until, today=request.today)
    still_due = f"It's still due {uk_date(action.due_on, today=request.today)}."
    if action.snoozed_until == until:
        return _unchanged(
            request, Verb.SNOOZE, action_id, "repeat", f"Already snoozed until {shown}. {still_due}"
        )
    if not await actions.snooze(request.session, action, actor_id=flows.me(request), until=until):
        return await _as_it_stands(request, Verb.SNOOZE, action)
    message = f"Snoozed ✓ No reminder until {shown}. {still_due}"
    return Outcome(Result.CHANGED, message, stale=(action_subject(action_id),), change="snoozed")


async def request_extension(
    request: Request, *, action_id: int, new_due_on: date, reason: str
) -> Outcome:
    verb = Verb.REQUEST_EXTENSION
    found = await _action_for(request, verb, action_id)
    if isinstance(found, Outcome):
        return found
    action, owner = found
    if is_urgent(action.source):
        return _refuse(
            request,
            verb,
            action_id,
            "safeguarding_step",
            f"{_step(action)} can't be given more time: it is about a child's safety. If it "
            "can't happen by its due date, please tell your manager today.",
        )
    if action.state != ActionState.OPEN:
        return await _as_it_stands(request, verb, action)
    today = request.today
    asked = uk_date(new_due_on, today=today)
    pending = await actions.pending_extension(
        session=request.session, tenant_id=request.tenant_id, action_id=action_id
    )
    if pending is not None:
        earlier = uk_date(pending.new_due_on, today=today)
        if pending.new_due_on == new_due_on:
            return _unchanged(
                request,
                verb,
                action_id,
                "repeat",
                f"Already asked for {earlier}: waiting for a decision.",
            )
        return _refuse(
            request,
            verb,
            action_id,
            "pending",
            f"You've already asked for {earlier}. Once that is decided you can ask again.",
        )
    problem = new_due_date_problem(new_due_on, current_due=action.due_on, today=today)
    if problem is not None:
        return _refuse(
            request,
            verb,
            action_id,
            problem.value,
            _date_problem(problem, new_due_on, action, today),
        )
    extension = await actions.request_extension(
        request.session, action, actor_id=flows.me(request), new_due_on=new_due_on, reason=reason
    )
    assert extension.id is not None
    view = await _extension(request, extension.id)
    who = await _ask_approver(
        request,
        owner,
        TO_DECIDE,
        kind=CardKind.EXTENSION_REQUEST,
        key=f"{CardKind.EXTENSION_REQUEST}:{extension.id}",
        summary=extension_request_summary(owner.display_name),
        card=extension_request_card(view, today=today),
        subjects=[extension_subject(extension.id), action_subject(action_id)],
    )
    return Outcome(
        Result.CHANGED,
        f"More time asked for: {asked}. {who} I'll tell you what they decide.",
        stale=(action_subject(action_id),),
        change="extension_requested",
    )


async def decide_extension(request: Request, *, request_id: int, approve: bool) -> Outcome:
    verb = Verb.DECIDE_EXTENSION
    # Lock the action before the request, in the same order as marking it done.
    action_id = await actions.extension_action_id(
        session=request.session, tenant_id=request.tenant_id, request_id=request_id
    )
    found = await _action_for(
        request, verb, action_id, entity="extension_request", shown_id=request_id
    )
    if isinstance(found, Outcome):
        return found
    action, owner = found
    extension = await actions.extension_for_update(
        session=request.session, tenant_id=request.tenant_id, request_id=request_id
    )
    assert extension is not None and action_id is not None
    today = request.today
    if extension.state != ExtensionState.PENDING:
        view = await _extension(request, request_id)
        return _unchanged(
            request,
            verb,
            request_id,
            f"already_{extension.state}",
            _already_decided(view, today),
            entity="extension_request",
        )
    if action.state != ActionState.OPEN:
        return await _as_it_stands(request, verb, action)
    if approve and extension.new_due_on < today:
        return _refuse(
            request,
            verb,
            request_id,
            "date_passed",
            f"{uk_date(extension.new_due_on, today=today)} has passed. Decline this, and "
            f"{owner.display_name} can ask for a new date.",
            entity="extension_request",
        )
    if not await actions.decide_extension(
        request.session,
        extension,
        action,
        actor_id=flows.me(request),
        now=request.now,
        approve=approve,
    ):
        view = await _extension(request, request_id)
        return _unchanged(
            request,
            verb,
            request_id,
            "already_decided",
            _already_decided(view, today),
            entity="extension_request",
        )
    view = await _extension(request, request_id)
    told = await _tell(
        request,
        owner,
        kind=CardKind.EXTENSION_DECIDED,
        key=f"{CardKind.EXTENSION_DECIDED}:{request_id}",
        summary=f"Your request for more time was {'approved' if approve else 'declined'}",
        card=extension_decided_card(view, today=today),
    )
    due = uk_date(view.due_on, today=today)
    said = (
        f"Approved ✓ Action #{action_id} is now due {due}."
        if approve
        else (f"Declined. Action #{action_id} is still due {due}.")
    )
    then = (
        f"I've told {owner.display_name}."
        if told
        else f"{owner.display_name} will see it in my actions."
    )
    return Outcome(
        Result.CHANGED,
        f"{said} {then}",
        stale=(action_subject(action_id), extension_subject(request_id)),
        change="extension_approved" if approve else "extension_declined",
    )


async def confirm_done(request: Request, *, action_id: int) -> Outcome:
    verb = Verb.CONFIRM_DONE
    found = await _action_for(request, verb, action_id)
    if isinstance(found, Outcome):
        return found
    action, owner = found
    if action.state != ActionState.DONE:
        return await _as_it_stands(request, verb, action)
    if not await actions.confirm(
        request.session, action, actor_id=flows.me(request), now=request.now
    ):
        return await _as_it_stands(request, verb, action)
    status = await _status(request, action_id)
    told = await _tell(
        request,
        owner,
        kind=CardKind.ACTION_CONFIRMED,
        key=f"{CardKind.ACTION_CONFIRMED}:{action_id}:{flows.stamp(request.now)}",
        summary="Your action was confirmed as done",
        card=action_confirmed_card(status, today=request.today),
    )
    then = f" I've told {owner.display_name}." if told else ""
    when = uk_moment(request.now.astimezone(await _zone(request)), today=request.today)
    return Outcome(
        Result.CHANGED,
        f"Confirmed ✓ by {request.person.display_name}, {when}.{then}",
        stale=(action_subject(action_id),),
        change="confirmed",
    )


async def reopen(request: Request, *, action_id: int, reason: str | None) -> Outcome:
    verb = Verb.REOPEN
    found = await _action_for(request, verb, action_id)
    if isinstance(found, Outcome):
        return found
    action, owner = found
    if action.state != ActionState.DONE:
        return await _as_it_stands(request, verb, action)
    if not await actions.reopen(request.session, action, actor_id=flows.me(request), reason=reason):
        return await _as_it_stands(request, verb, action)
    if action.source == responses.VISIT and action.audit_id is not None:
        audit = await audits.audit_for_update(
            session=request.session, tenant_id=request.tenant_id, audit_id=action.audit_id
        )
        if audit is not None and audit.visited_on is not None:
            responses.record_visit(
                request.session, audit, visited_on=None, actor_id=flows.me(request)
            )
    status = await _status(request, action_id)
    told = await _tell(
        request,
        owner,
        kind=CardKind.ACTION_REOPENED,
        key=f"{CardKind.ACTION_REOPENED}:{action_id}:{flows.stamp(request.now)}",
        summary="One of your actions is open again",
        card=action_reopened_card(
            status, reopened_by=request.person.display_name, reason=reason, today=request.today
        ),
    )
    then = f" I've told {owner.display_name}." if told else ""
    due = uk_date(action.due_on, today=request.today)
    return Outcome(
        Result.CHANGED,
        f"Reopened: action #{action_id} is open again, due {due}.{then}",
        stale=(action_subject(action_id),),
        change="reopened",
    )


# The steps the flows share.


def _step(action: Action) -> str:
    return "A child visit" if action.source == responses.VISIT else "An action meeting"


async def _action_for(
    request: Request,
    verb: Verb,
    action_id: int | None,
    *,
    entity: str = "action",
    shown_id: int | None = None,
) -> tuple[Action, Staff] | Outcome:
    """The action (locked) and its owner if the person may do `verb` to it; else why not."""
    target = shown_id if shown_id is not None else action_id or 0
    action = None
    if action_id is not None:
        action = await actions.action_for_update(
            session=request.session, tenant_id=request.tenant_id, action_id=action_id
        )
    if action is None:
        what = f"action #{target}" if entity == "action" else "that request for more time"
        return _refuse(
            request,
            verb,
            target,
            "not_found",
            f"I can't find {what}. It may have been removed.",
            entity=entity,
        )
    owner = await staff.by_id(
        session=request.session, tenant_id=request.tenant_id, staff_id=action.owner_id
    )
    assert owner is not None  # a foreign key within the tenant
    session, tenant_id = request.session, request.tenant_id
    actor = await staff.standing(session=session, tenant_id=tenant_id, person=request.person)
    owned_by = await staff.standing(session=session, tenant_id=tenant_id, person=owner)
    if not may(verb, actor, owned_by):
        reason = "not_owner" if actor.id != owned_by.id else "own_action"
        message = _DENIED[verb]
        if actor.id == owned_by.id:
            message = (
                "Someone else has to do this for your own action: your manager or the QA team."
            )
        return _refuse(request, verb, target, reason, message, entity=entity, denied=True)
    return action, owner


async def _as_it_stands(request: Request, verb: Verb, action: Action) -> Outcome:
    """A press on a card showing an older state: say where the action stands now."""
    assert action.id is not None
    await request.session.refresh(action)  # as another press may have left it a moment ago
    status = await _status(request, action.id)
    today = request.today
    if action.state in (ActionState.DONE, ActionState.CONFIRMED):
        line = state_line(status, today=today)
        if action.state == ActionState.DONE:
            line = done_line(status, today=today)
        message = f"Already {line[0].lower()}{line[1:]}."
    elif action.state == ActionState.CANCELLED:
        message = f"Action #{action.id} was cancelled, so there is nothing to do."
    elif verb == Verb.REOPEN:
        message = f"Action #{action.id} is already open."
    else:
        message = f"Action #{action.id} is open again, so there is nothing to confirm."
    return _unchanged(request, verb, action.id, f"already_{action.state}", message)


def _refuse(
    request: Request,
    verb: Verb,
    entity_id: int,
    reason: str,
    message: str,
    *,
    entity: str = "action",
    denied: bool = False,
) -> Outcome:
    flows.log_refusal(request, verb.value, entity_id, reason, denied=denied, entity=entity)
    return Outcome(Result.REFUSED, message)


def _unchanged(
    request: Request,
    verb: Verb,
    entity_id: int,
    reason: str,
    message: str,
    *,
    entity: str = "action",
) -> Outcome:
    _refuse(request, verb, entity_id, reason, message, entity=entity)
    return Outcome(Result.UNCHANGED, message)


def _date_problem(problem: DateProblem, new: date, action: Action, today: date) -> str:
    shown = uk_date(new, today=today)
    if problem is DateProblem.NOT_FUTURE:
        return f"{shown} is not in the future. Please choose a later date."
    if problem is DateProblem.NOT_AFTER_DUE:
        due = uk_date(action.due_on, today=today)
        return f"The new date must be after the current due date, {due}."
    if problem is DateProblem.TOO_FAR:
        return "Please choose a date within a year."
    return f"{shown} is not a working day. Please choose a weekday that is not a bank holiday."


def _already_decided(view: ExtensionView, today: date) -> str:
    if view.state == ExtensionState.WITHDRAWN:
        return "This request was withdrawn when the action was marked done, so there is nothing to decide."
    return f"Already decided. {decided_line(view, today=today)}."


@dataclass(frozen=True, slots=True)
class Asking:
    """What the owner is told about the approver asked to confirm or decide ({name}: theirs)."""

    nobody: str  # no approver set up
    yours: str  # the approver is the one who pressed
    asked: str  # their card is on its way
    later: str  # no chat with them yet


TO_CONFIRM = Asking(
    nobody="There is no manager set up to confirm it, so the QA team will.",
    yours="It's waiting for your confirmation in team.",
    asked="I've asked {name} to confirm it.",
    later="{name} will see it to confirm next time they open QA Loop.",
)
TO_DECIDE = Asking(
    nobody="There is no manager set up for this action, so the QA team will decide.",
    yours="It's waiting for your decision in team.",
    asked="I've asked {name}.",
    later="{name} will see it next time they open QA Loop.",
)


async def _ask_approver(
    request: Request,
    owner: Staff,
    asking: Asking,
    *,
    kind: str,
    key: str,
    summary: str,
    card: AdaptiveCard,
    subjects: list[str],
) -> str:
    """Send the owner's approver (their manager, or QA) the card that asks them; what to tell
    the owner about it."""
    approver = await staff.approver_for(
        session=request.session, tenant_id=request.tenant_id, owner=owner
    )
    if approver is None:
        return asking.nobody
    told = await _tell(
        request, approver, kind=kind, key=key, summary=summary, card=card, subjects=subjects
    )
    if approver.id == request.person.id:
        return asking.yours
    return (asking.asked if told else asking.later).format(name=approver.display_name)


async def _tell(
    request: Request,
    person: Staff,
    *,
    kind: str,
    key: str,
    summary: str,
    card: AdaptiveCard,
    subjects: list[str] | None = None,
) -> bool:
    """Queue a card to someone else's personal chat; False if we have none for them (yet)."""
    if person.id == request.person.id:
        return False
    return await notify.tell(
        request.session,
        tenant_id=request.tenant_id,
        person=person,
        kind=kind,
        key=key,
        summary=summary,
        card=card,
        subjects=subjects,
    )


async def _zone(request: Request) -> ZoneInfo:
    return await actions.display_zone(session=request.session, tenant_id=request.tenant_id)


async def _status(
    request: Request, action_id: int, *, done_by: Staff | None = None
) -> ActionStatus:
    status = await actions.action_status(
        session=request.session,
        tenant_id=request.tenant_id,
        action_id=action_id,
        zone=await _zone(request),
        done_by=done_by,
    )
    assert status is not None
    return status


async def _extension(request: Request, request_id: int) -> ExtensionView:
    view = await actions.extension_view(
        session=request.session,
        tenant_id=request.tenant_id,
        request_id=request_id,
        zone=await _zone(request),
    )
    assert view is not None
    return view
