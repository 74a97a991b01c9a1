"""Choosing the channels the bot posts to: `use this channel for qa digests|briefings` and
`stop using this channel`, typed in the channel (or the buttons on the card posted when the bot
joins a team). Only the QA team and admins may choose; every change is in the audit log."""

from __future__ import annotations

from typing import ClassVar, Literal

from bot.payloads import Payload
from bot.rules.roles import Role
from bot.turn import Reply, Request
from cards.channels import channel_chosen_card, channel_stopped_card, not_a_channel_card
from cards.names import CardVerb
from cards.notices import error_card, usage_card
from storage import audit_log, channels
from storage.channels import Purpose
from storage.models import ConversationRef

CHOOSERS = frozenset({Role.QA, Role.ADMIN})

_PURPOSES = {
    "qa digests": Purpose.QA_DIGESTS,
    "qa digest": Purpose.QA_DIGESTS,
    "digests": Purpose.QA_DIGESTS,
    "digest": Purpose.QA_DIGESTS,
    "the qa digest": Purpose.QA_DIGESTS,
    "briefings": Purpose.BRIEFINGS,
    "briefing": Purpose.BRIEFINGS,
    "best practice briefings": Purpose.BRIEFINGS,
}
_NOT_ALLOWED = "Only the QA team or an admin can choose the channels I post to."
_WHICH = "Which posts? Type use this channel for qa digests, or use this channel for briefings."


def parse_purpose(args: str) -> Purpose | None:
    return _PURPOSES.get(args.strip().removeprefix("for ").strip().rstrip("."))


async def use_channel(request: Request) -> Reply:
    """`use this channel for qa digests` / `… for briefings`, typed in a channel."""
    purpose = parse_purpose(request.args)
    if purpose is None:
        return Reply(card=usage_card(_WHICH), summary="Which posts?")
    return await _use(request, purpose)


async def stop_using_channel(request: Request) -> Reply:
    """`stop using this channel` (everything), or `… for briefings` (just that)."""
    args = request.args.strip()
    purpose = parse_purpose(args) if args else None
    if args and purpose is None:
        message = "Type stop using this channel, or stop using this channel for briefings."
        return Reply(card=usage_card(message), summary="Stop what?")
    found = await _channel(request, "stop_channel")
    if isinstance(found, Reply):
        return found
    assert found.id is not None
    stopped = await channels.stop(
        session=request.session,
        tenant_id=request.tenant_id,
        conversation_ref_id=found.id,
        purposes=frozenset({purpose}) if purpose else frozenset(Purpose),
        actor_id=request.person.id,
    )
    remaining = await channels.uses_of(
        session=request.session, tenant_id=request.tenant_id, conversation_ref_id=found.id
    )
    card = channel_stopped_card(stopped=list(stopped), remaining=list(remaining))
    summary = "Stopped posting here" if stopped else "Nothing to stop"
    return Reply(card=card, summary=summary)


async def _use(request: Request, purpose: Purpose) -> Reply:
    found = await _channel(request, CardVerb.USE_CHANNEL)
    if isinstance(found, Reply):
        return found
    assert found.id is not None
    added = await channels.choose(
        session=request.session,
        tenant_id=request.tenant_id,
        conversation_ref_id=found.id,
        purpose=purpose,
        chosen_by=request.person.id,
    )
    uses = await channels.uses_of(
        session=request.session, tenant_id=request.tenant_id, conversation_ref_id=found.id
    )
    card = channel_chosen_card(
        purpose=purpose.value,
        channel_name=found.channel_name,
        already=not added,
        uses=list(uses),
    )
    what = "QA digests" if purpose is Purpose.QA_DIGESTS else "briefings"
    return Reply(card=card, summary=f"This channel gets {what}")


async def _channel(request: Request, verb: str) -> ConversationRef | Reply:
    """The channel asked from, its reference stored; or the refusal (logged)."""
    if not request.person.role_set & CHOOSERS:
        _refused(request, f"denied.{verb}", "role")
        return Reply(card=error_card(_NOT_ALLOWED), summary=_NOT_ALLOWED, error=_NOT_ALLOWED)
    found = None
    if request.conversation_id is not None:
        found = await channels.channel_reference(
            session=request.session,
            tenant_id=request.tenant_id,
            conversation_id=request.conversation_id,
        )
    if found is None:
        _refused(request, f"refused.{verb}", "not_a_channel")
        message = "This works in a team channel, not here."
        return Reply(card=not_a_channel_card(), summary=message, error=message)
    return found


def _refused(request: Request, event: str, reason: str) -> None:
    audit_log.record(
        request.session,
        tenant_id=request.tenant_id,
        actor_id=request.person.id,
        event=event,
        entity="conversationref",
        entity_id=None,
        after={"reason": reason},
    )


class UseChannel(Payload):
    purpose: Literal["qa_digests", "briefings"]
    problems: ClassVar[dict[str, str]] = {
        "purpose": "That button is for a kind of post I don't know."
    }


async def on_use_channel(request: Request, payload: UseChannel) -> Reply:
    return await _use(request, Purpose(payload.purpose))
