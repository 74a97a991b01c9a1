"""The buttons on a SMART action: done, snooze, more time, and the manager's decide, confirm and
reopen; and the pages of `my actions` and `team`.

The answer to a press is the card it was pressed on, shown afresh, so the card changes in place and
cannot be submitted twice: `my actions` and `team` are rebuilt from the hint in the data ("card"),
a posted card (the daily card, a manager's card) by its kind's rebuilder. A press that changes
nothing for a reason the person must read (wrong person, a date that does not fit) is answered with
an error, which leaves the card as it was.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal

from microsoft_teams.cards import AdaptiveCard

from bot.features.actions.commands import TEAM, show_my_actions, show_team
from bot.payloads import Id, PagePayload, Payload, Reason, Text
from bot.services import flows, refresh, tracking
from bot.turn import Reply, Request
from cards.action_done import action_status_card, confirm_done_card
from cards.extension import extension_request_card
from cards.names import Input, ListCard, action_subject, extension_subject
from storage import actions


class MarkDone(Payload):
    action_id: Id
    note: Text = ""
    # A child visit's form asks the day the child was seen.
    visited_on: Text = ""
    problems: ClassVar[dict[str, str]] = {
        "note": "A note can be up to 2,000 characters.",
        "visited_on": "Please give the date of the visit.",
    }
    inputs: ClassVar[tuple[str, ...]] = (Input.NOTE, Input.VISITED_ON)


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
    inputs: ClassVar[tuple[str, ...]] = (Input.NEW_DUE_ON, Input.REASON)


class DecideExtension(Payload):
    request_id: Id
    decision: Literal["approve", "decline"]


class ConfirmDone(Payload):
    action_id: Id


class Reopen(Payload):
    action_id: Id
    reason: Text = ""
    problems: ClassVar[dict[str, str]] = {"reason": "A reason can be up to 2,000 characters."}
    inputs: ClassVar[tuple[str, ...]] = (Input.REASON,)


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


async def page_of_actions(request: Request, payload: PagePayload) -> Reply:
    return await show_my_actions(request.at(payload.offset))


async def page_of_team(request: Request, payload: PagePayload) -> Reply:
    return await flows.page_if_allowed(request.at(payload.offset), TEAM)


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
        return flows.error_reply(message)
    if outcome.card is not None:  # a form to fill in first: the meeting's record, a visit's day
        return Reply(card=outcome.card, summary=message)
    await flows.settle(request, outcome)
    if payload.card == ListCard.MY_ACTIONS:
        return await show_my_actions(request.at(payload.offset), notice=message)
    if payload.card == ListCard.TEAM:
        return await show_team(request.at(payload.offset), notice=message)
    subject = (
        extension_subject(extension_id)
        if extension_id is not None
        else action_subject(action_id or 0)
    )
    if request.reply_to_id and request.conversation_id:
        rebuilt = await refresh.rebuilt_card(
            request.session,
            request.rebuilders,
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
