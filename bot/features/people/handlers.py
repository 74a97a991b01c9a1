"""The "pass these on" card's button: the one holding a leaver's action (their manager), a manager
of theirs, or QA gives it to someone in its team. Checked against the stored action and people,
never the card's data; a wrong person is denied and logged."""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.payloads import Id, Payload
from bot.rules.grades import ActionState
from bot.rules.permissions import may_pass_on
from bot.services import flows, refresh
from bot.services.lifecycle import rebuilt_leaver_card
from bot.settings import Settings
from bot.turn import Reply, Request
from cards.names import CardVerb, Input, action_subject
from cards.notices import usage_card
from storage import actions, lifecycle, staff
from storage.models import SentCard


class PassOnAction(Payload):
    action_id: Id
    new_owner: Id
    # Who held it when the card was made: a second press, after it moved on, is told so.
    from_owner: Id
    problems: ClassVar[dict[str, str]] = {"new_owner": "Please choose who should own it."}
    inputs: ClassVar[tuple[str, ...]] = (Input.NEW_OWNER,)


async def on_pass_on(request: Request, payload: PassOnAction) -> Reply:
    action_id = payload.action_id
    session, tenant_id = request.session, request.tenant_id
    action = await actions.action_for_update(
        session=session, tenant_id=tenant_id, action_id=action_id
    )
    if action is None:
        return _refused(request, action_id, "not_found", "I can't find that action.")
    owner = await staff.by_id(session=session, tenant_id=tenant_id, staff_id=action.owner_id)
    assert owner is not None
    me = await staff.standing(session=session, tenant_id=tenant_id, person=request.person)
    holder = await staff.standing(session=session, tenant_id=tenant_id, person=owner)
    if not may_pass_on(me, holder):
        message = "Only the person holding this action, their manager or QA can pass it on."
        return _refused(request, action_id, "not_holder", message, denied=True)
    if action.state != ActionState.OPEN:
        message = f"This action is {action.state} now, so there is nothing to pass on."
        return _refused(request, action_id, f"already_{action.state}", message)
    if action.owner_id != payload.from_owner:
        message = f"Already passed on: {owner.display_name} has it."
        return _refused(request, action_id, "already_passed_on", message)
    team_id = await lifecycle.action_team(session=session, tenant_id=tenant_id, action=action)
    team = await lifecycle.team_members(session=session, tenant_id=tenant_id, team_id=team_id or 0)
    new = next((p for p in team if p.id == payload.new_owner and p.id != owner.id), None)
    if new is None:
        message = "They can't own this action. Please choose someone from the list."
        return _refused(request, action_id, "not_eligible", message)
    if not await lifecycle.give_action(
        session, action, owner_id=payload.new_owner, reason="passed on", actor_id=flows.me(request)
    ):
        return _refused(request, action_id, "changed", flows.CHANGED_MEANWHILE)
    await flows.refresh_posted(request, [action_subject(action_id)], "passed_on")
    message = f"Passed on ✓ {new.display_name} owns it now."
    if request.reply_to_id and request.conversation_id:
        rebuilt = await refresh.rebuilt_card(
            session,
            request.rebuilders,
            tenant_id=tenant_id,
            subject=action_subject(action_id),
            conversation_id=request.conversation_id,
            activity_id=request.reply_to_id,
            today=request.today,
        )
        if rebuilt is not None:
            return Reply(card=rebuilt, summary=message)
    # A card we did not post (or posted before we kept track of it): say what happened.
    return Reply(card=usage_card(message), summary=message)


def _refused(
    request: Request, action_id: int, reason: str, message: str, *, denied: bool = False
) -> Reply:
    flows.log_refusal(
        request, CardVerb.PASS_ON_ACTION, action_id, reason, denied=denied, entity="action"
    )
    return flows.error_reply(message)


async def rebuild_leaver_actions(
    session: AsyncSession, tenant_id: str, sent: SentCard, today: date, settings: Settings
) -> tuple[dict[str, Any], str] | None:
    return await rebuilt_leaver_card(
        session,
        tenant_id=tenant_id,
        conversation_ref_id=sent.conversation_ref_id,
        activity_id=sent.activity_id,
        today=today,
    )
