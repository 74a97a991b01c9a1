"""Card actions (Action.Execute), keyed by the card's data["action"]; payloads parsed before use.

The answer to a press is the card it was pressed on, shown afresh, so the card changes in place and
cannot be submitted twice: `my actions` and `team` are rebuilt from the hint in the data ("card"),
a posted card (the daily card, a manager's card) by its kind's rebuilder. A press that changes
nothing for a reason the person must read (wrong person, a date that does not fit) is answered with
an error, which leaves the card as it was.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import ClassVar, Literal

from microsoft_teams.cards import AdaptiveCard
from pydantic import ValidationError

from bot import (
    allocation,
    briefings,
    channels,
    feedback,
    grading,
    inadequate,
    moderation,
    refresh,
    tracking,
)
from bot.commands import (
    COMMANDS,
    show_my_actions,
    show_my_audits,
    show_team,
    show_unreachable,
)
from bot.payloads import UNTYPEABLE, CardAction, Id, Payload, Reason, Text
from bot.turn import Reply, Request
from cards.action_done import action_status_card, confirm_done_card
from cards.extension import extension_request_card
from cards.notices import error_card
from storage import actions, audit_log


class PagePayload(Payload):
    pass


class MarkDone(Payload):
    action_id: Id
    note: Text = ""
    # A child visit's form asks the day the child was seen.
    visited_on: Text = ""
    problems: ClassVar[dict[str, str]] = {
        "note": "A note can be up to 2,000 characters.",
        "visited_on": "Please give the date of the visit.",
    }
    inputs: ClassVar[tuple[str, ...]] = ("note", "visited_on")


class Snooze(Payload):
    action_id: Id
    days: Literal[1, 3]
    problems: ClassVar[dict[str, str]] = {"days": "Snooze for 1 or 3 working days."}


class RequestExtension(Payload):
    action_id: Id
    new_due_on: date
    reason: Reason
    problems: ClassVar[dict[str, str]] = {
        "new_due_on": "Please choose the new due date.",
        "reason": "Please say why you need more time, in up to 2,000 characters.",
    }
    inputs: ClassVar[tuple[str, ...]] = ("new_due_on", "reason")


class DecideExtension(Payload):
    request_id: Id
    decision: Literal["approve", "decline"]


class ConfirmDone(Payload):
    action_id: Id


class Reopen(Payload):
    action_id: Id
    reason: Text = ""
    problems: ClassVar[dict[str, str]] = {"reason": "A reason can be up to 2,000 characters."}
    inputs: ClassVar[tuple[str, ...]] = ("reason",)


async def on_mark_done(request: Request, payload: MarkDone) -> Reply:
    outcome = await tracking.mark_done(
        request,
        action_id=payload.action_id,
        note=payload.note or None,
        visited_on=payload.visited_on,
    )
    return await _answer(request, payload, outcome, payload.action_id)


async def on_snooze(request: Request, payload: Snooze) -> Reply:
    outcome = await tracking.snooze(request, action_id=payload.action_id, days=payload.days)
    return await _answer(request, payload, outcome, payload.action_id)


async def on_request_extension(request: Request, payload: RequestExtension) -> Reply:
    outcome = await tracking.request_extension(
        request,
        action_id=payload.action_id,
        new_due_on=payload.new_due_on,
        reason=payload.reason,
    )
    return await _answer(request, payload, outcome, payload.action_id)


async def on_decide_extension(request: Request, payload: DecideExtension) -> Reply:
    outcome = await tracking.decide_extension(
        request, request_id=payload.request_id, approve=payload.decision == "approve"
    )
    return await _answer(request, payload, outcome, None, extension_id=payload.request_id)


async def on_confirm_done(request: Request, payload: ConfirmDone) -> Reply:
    outcome = await tracking.confirm_done(request, action_id=payload.action_id)
    return await _answer(request, payload, outcome, payload.action_id, manager=True)


async def on_reopen(request: Request, payload: Reopen) -> Reply:
    outcome = await tracking.reopen(
        request, action_id=payload.action_id, reason=payload.reason or None
    )
    return await _answer(request, payload, outcome, payload.action_id, manager=True)


async def _page_of_actions(request: Request, payload: PagePayload) -> Reply:
    return await show_my_actions(_at(request, payload.offset))


async def _page_of_audits(request: Request, payload: PagePayload) -> Reply:
    return await show_my_audits(_at(request, payload.offset))


async def _page_of_team(request: Request, payload: PagePayload) -> Reply:
    return await _if_allowed(request, "team", show_team, payload.offset)


async def _page_of_unreachable(request: Request, payload: PagePayload) -> Reply:
    return await _if_allowed(request, "unreachable", show_unreachable, payload.offset)


async def _if_allowed(
    request: Request, name: str, show: Callable[[Request], Awaitable[Reply]], offset: int
) -> Reply:
    """Paging a list only some roles may see: the role is checked again, on the server."""
    command = next(c for c in COMMANDS if c.name == name)
    if not command.allowed(request.person.role_set):
        message = f"“{name}” is not available for your role."
        return Reply(card=error_card(message), summary=message, error=message)
    return await show(_at(request, offset))


ACTIONS: dict[str, CardAction] = {
    "my_actions_page": CardAction(PagePayload, _page_of_actions),
    "my_audits_page": CardAction(PagePayload, _page_of_audits),
    "team_page": CardAction(PagePayload, _page_of_team),
    "unreachable_page": CardAction(PagePayload, _page_of_unreachable),
    "mark_done": CardAction(MarkDone, on_mark_done),
    "snooze": CardAction(Snooze, on_snooze),
    "request_extension": CardAction(RequestExtension, on_request_extension),
    "decide_extension": CardAction(DecideExtension, on_decide_extension),
    "confirm_done": CardAction(ConfirmDone, on_confirm_done),
    "reopen": CardAction(Reopen, on_reopen),
    # The audit lifecycle: each feature module keeps its own table.
    **allocation.ACTIONS,
    **grading.ACTIONS,
    **inadequate.ACTIONS,
    **feedback.ACTIONS,
    **moderation.ACTIONS,
    # Channels and briefings.
    **channels.ACTIONS,
    **briefings.ACTIONS,
}


class BadPayload(ValueError):
    """A card submit we cannot act on; the message is for the person who pressed."""

    def __init__(self, message: str, *, action: str | None = None, field: str | None = None):
        super().__init__(message)
        self.action = action
        self.field = field


_CANT_USE = "That button sent something I can't use. Nothing was changed."
_UNTYPEABLE_TEXT = (
    "Some of that text has characters I can't keep (control characters, as text pasted from "
    "another program can carry). Please type it again without them."
)


def resolve(data: object) -> tuple[CardAction, Payload]:
    if not isinstance(data, dict):
        raise BadPayload("That button didn't send what I expected. Please try again.")
    name = data.get("action")
    action = ACTIONS.get(name) if isinstance(name, str) else None
    if action is None:
        raise BadPayload("I don't recognise that button. It may be from an older card.")
    try:
        return action, action.payload.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        field = next((str(e["loc"][0]) for e in errors if e["loc"]), None)
        problem = action.payload.problems.get(field or "")
        if any(e["type"] == UNTYPEABLE for e in errors):
            problem = _UNTYPEABLE_TEXT
        message = f"{problem} Nothing was changed." if problem else _CANT_USE
        raise BadPayload(message, action=name, field=field) from exc


async def dispatch(request: Request, data: object) -> Reply:
    """Run the button's action; a payload we cannot use is refused, and the refusal logged."""
    try:
        action, payload = resolve(data)
    except BadPayload as exc:
        audit_log.record(
            request.session,
            tenant_id=request.tenant_id,
            actor_id=request.person.id,
            event="refused.bad_payload",
            entity="card_action",
            entity_id=(exc.action or "unknown")[:64],
            after={"field": exc.field[:64] if exc.field else None},
        )
        message = str(exc)
        return Reply(card=error_card(message), summary=message, error=message)
    return await action.run(request, payload)


async def _answer(
    request: Request,
    payload: Payload,
    outcome: tracking.Outcome,
    action_id: int | None,
    *,
    extension_id: int | None = None,
    manager: bool = False,
) -> Reply:
    message = outcome.message
    if outcome.result is tracking.Result.REFUSED:
        return Reply(card=error_card(message), summary=message, error=message)
    if outcome.card is not None:  # a form to fill in first: the meeting's record, a visit's day
        return Reply(card=outcome.card, summary=message)
    if payload.card == "my_actions":
        return await show_my_actions(_at(request, payload.offset), notice=message)
    if payload.card == "team":
        return await show_team(_at(request, payload.offset), notice=message)
    subject = (
        refresh.extension_subject(extension_id)
        if extension_id is not None
        else refresh.action_subject(action_id or 0)
    )
    if request.reply_to_id and request.conversation_id:
        rebuilt = await refresh.rebuilt_card(
            request.session,
            tenant_id=request.tenant_id,
            subject=subject,
            conversation_id=request.conversation_id,
            activity_id=request.reply_to_id,
            today=request.today,
        )
        if rebuilt is not None:
            return Reply(card=rebuilt, summary=message)
    card = await _card_for(request, message, action_id, extension_id, manager=manager)
    return Reply(card=card, summary=message)


async def _card_for(
    request: Request,
    message: str,
    action_id: int | None,
    extension_id: int | None,
    *,
    manager: bool,
) -> AdaptiveCard:
    """The card for a press on a card we cannot rebuild (or sent before we kept track of it)."""
    session, tenant_id = request.session, request.tenant_id
    zone = await actions.display_zone(session=session, tenant_id=tenant_id)
    if extension_id is not None:
        view = await actions.extension_view(
            session=session, tenant_id=tenant_id, request_id=extension_id, zone=zone
        )
        assert view is not None
        return extension_request_card(view, today=request.today)
    status = await actions.action_status(
        session=session, tenant_id=tenant_id, action_id=action_id or 0, zone=zone
    )
    assert status is not None
    if manager:
        return confirm_done_card(status, today=request.today)
    return action_status_card(status, message=message, today=request.today)


def _at(request: Request, offset: int) -> Request:
    return Request(
        session=request.session,
        tenant_id=request.tenant_id,
        person=request.person,
        today=request.today,
        settings=request.settings,
        offset=offset,
        now=request.now,
    )
