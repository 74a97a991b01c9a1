"""The Teams edge: reads activities, recognises the person, dispatches commands and card actions."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from typing import Any

from botbuilder.core import ActivityHandler, BotAdapter, CardFactory, MessageFactory, TurnContext
from botbuilder.core.teams import TeamsInfo
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    ChannelAccount,
    ConversationParameters,
    InvokeResponse,
)
from botframework.connector.aio import ConnectorClient
from microsoft_teams.cards import AdaptiveCard
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError

from bot.connector import FrozenJson, reply_json
from bot.feature import Catalogue
from bot.payloads import untypeable
from bot.roster import RosterSync
from bot.router import dispatch, parse
from bot.settings import Settings
from bot.turn import Rebuilders, Reply, Request
from cards.channels import team_welcome_card
from cards.common import card_json
from cards.notices import (
    did_you_mean_card,
    error_card,
    not_allowed_card,
    private_reply_note_card,
    unknown_person_card,
)
from jobs import reminders as reminders_job
from storage import conversations, inbound, outbox, staff
from storage.db import GroupCommit, SessionMaker, transaction, write_transaction
from storage.models import Staff
from storage.reminders import PersonalChat

log = logging.getLogger(__name__)

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
MAX_REMEMBERED_REFERENCES = 100_000
_AT_TAG = re.compile(r"<at>.*?</at>", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True, slots=True)
class Deps:
    sessions: SessionMaker
    settings: Settings
    clock: Callable[[], datetime]
    # The app's features: commands, card verbs, card rebuilders (bot.features.CATALOGUE).
    catalogue: Catalogue
    # The catalogue's rebuilders bound to the settings, made once per process.
    rebuilders: Rebuilders = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "rebuilders", self.catalogue.redraws(self.settings))

    def today(self) -> date:
        return self.clock().astimezone(self.settings.zone).date()


class ClaimBy(Enum):
    """How Teams' re-delivery of an activity is recognised, so it takes effect once."""

    # A card press: claimed in the turn's own transaction, with its change and its answer, which
    # a repeat gets again. A failed turn leaves no claim behind, so Teams' retry runs.
    TURN = "turn"
    # A turn that changes nothing but the card it answers with (`my actions`): in this process
    # only (bot.repeats), with no write.
    PROCESS = "process"
    # Anything else: a row of its own before the turn (storage.inbound.claim).
    DATABASE = "database"


CARD_ACTION = "adaptiveCard/action"


def tenant_of(activity: Activity) -> str | None:
    data = activity.channel_data
    if isinstance(data, dict):
        tenant = data.get("tenant")
        if isinstance(tenant, dict) and isinstance(tenant.get("id"), str):
            return str(tenant["id"])
    conversation = activity.conversation
    return getattr(conversation, "tenant_id", None) if conversation else None


def conversation_type(activity: Activity) -> str:
    conversation = activity.conversation
    kind = getattr(conversation, "conversation_type", None) if conversation else None
    if kind:
        return str(kind)
    return "groupChat" if conversation and conversation.is_group else "personal"


def command_text(activity: Activity) -> str:
    """The typed text without @mentions of the bot (or anyone), as Teams puts them in <at> tags."""
    TurnContext.remove_recipient_mention(activity)
    return _AT_TAG.sub(" ", activity.text or "").strip()


def _attachment_activity(card: AdaptiveCard | dict[str, Any], summary: str) -> Activity:
    content = card if isinstance(card, dict) else card_json(card)
    activity = MessageFactory.attachment(CardFactory.adaptive_card(FrozenJson(content)))
    activity.summary = summary
    return activity


@dataclass(frozen=True, slots=True)
class _Posted:
    """A list card posted in answer to someone, to keep track of."""

    tenant_id: str
    conversation_id: str
    activity_id: str
    kind: str
    subjects: tuple[str, ...]
    at: datetime


class QaLoopBot(ActivityHandler):  # type: ignore[misc]
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        # References this process has stored, so an unchanged one costs no write per message;
        # and their row ids, so keeping track of a posted list card costs no read.
        self._stored: dict[tuple[str, str], tuple[str, int | None]] = {}
        self._reference_ids: dict[tuple[str, str], int] = {}
        self.roster = RosterSync(deps.sessions)
        self._posted = GroupCommit[_Posted](deps.sessions, self._record_posted)

    def claim_by(self, activity: Activity) -> ClaimBy:
        if activity.type == ActivityTypes.invoke:
            return ClaimBy.TURN if activity.name == CARD_ACTION else ClaimBy.PROCESS
        if activity.type != ActivityTypes.message:
            return ClaimBy.DATABASE
        text = command_text(activity)
        if not text or untypeable(text):
            return ClaimBy.PROCESS
        command = parse(text, self.deps.catalogue.commands).command
        return ClaimBy.PROCESS if command is None or command.read_only else ClaimBy.DATABASE

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        tenant_id = tenant_of(activity)
        assert tenant_id is not None  # the HTTP edge refuses activities without a tenant
        text = command_text(activity)
        async with transaction(self.deps.sessions) as session:
            person = await self._recognise(session, tenant_id, turn_context)
            if person is None:
                reply = Reply(
                    card=unknown_person_card(admin_contact=self.deps.settings.admin_contact),
                    summary="You're not set up in QA Loop yet",
                )
            elif not text:
                reply = Reply(card=error_card(_NO_TEXT), summary="Type help to see what I can do")
            elif untypeable(text):
                reply = Reply(card=error_card(_UNTYPEABLE), summary="I couldn't read that")
            else:
                conversation = turn_context.activity.conversation
                reply = await self._run_command(
                    session,
                    tenant_id,
                    person,
                    text,
                    conversation.id if conversation else None,
                    shared=conversation_type(turn_context.activity) != "personal",
                )
        await self._send(turn_context, tenant_id, person, reply)

    async def _run_command(
        self,
        session: Any,
        tenant_id: str,
        person: Staff,
        text: str,
        conversation_id: str | None = None,
        *,
        shared: bool = False,
    ) -> Reply:
        parsed = parse(text, self.deps.catalogue.commands)
        if parsed.command is None:
            return Reply(
                card=did_you_mean_card(
                    typed=None if shared else text, suggestion=parsed.suggestion
                ),
                summary=f"Did you mean {parsed.suggestion}?" if parsed.suggestion else "Type help",
            )
        if not parsed.command.allowed(person.role_set):
            return Reply(
                card=not_allowed_card(f"“{parsed.said}” is not available for your role."),
                summary="Not available for your role",
            )
        request = self._request(
            session,
            tenant_id,
            person,
            args=parsed.args,
            raw_args=parsed.raw_args,
            conversation_id=conversation_id,
        )
        return await parsed.command.handler(request)

    def _request(
        self,
        session: Any,
        tenant_id: str,
        person: Staff,
        *,
        args: str = "",
        raw_args: str = "",
        conversation_id: str | None = None,
        reply_to_id: str | None = None,
    ) -> Request:
        """What a command or card action is given: this turn's person, day and arguments, and
        the app's commands and card rebuilders."""
        return Request(
            session=session,
            tenant_id=tenant_id,
            person=person,
            today=self.deps.today(),
            settings=self.deps.settings,
            args=args,
            raw_args=raw_args,
            now=self.deps.clock(),
            conversation_id=conversation_id,
            reply_to_id=reply_to_id,
            commands=self.deps.catalogue.commands,
            rebuilders=self.deps.rebuilders,
        )

    async def _recognise(
        self, session: Any, tenant_id: str, turn_context: TurnContext
    ) -> Staff | None:
        """Recognise the sender and keep this conversation's reference fresh."""
        activity = turn_context.activity
        sender = activity.from_property
        aad_id = getattr(sender, "aad_object_id", None)
        person = None
        if aad_id:
            person = await staff.by_aad_object_id(
                session=session, tenant_id=tenant_id, aad_object_id=aad_id
            )
            if person is None:
                person = await staff.recognise(
                    session=session,
                    tenant_id=tenant_id,
                    aad_object_id=aad_id,
                    email=await _email_of(turn_context),
                )
        kind = conversation_type(activity)
        chat = await self._save_reference(
            session, tenant_id, activity, person if kind == "personal" else None
        )
        if person is not None:
            await staff.mark_reachable(session=session, tenant_id=tenant_id, person=person)
        if chat is not None and person is not None and person.id is not None:
            await reminders_job.cards_for_a_late_joiner(
                session,
                tenant_id=tenant_id,
                staff_id=person.id,
                chat=PersonalChat(chat, activity.conversation.id),
                now=self.deps.clock(),
                zone=self.deps.settings.zone,
            )
        return person

    async def _save_reference(
        self, session: Any, tenant_id: str, activity: Activity, person: Staff | None
    ) -> int | None:
        """Store where this conversation is; its id if it is a person's chat reaching them for
        the first time."""
        key = (tenant_id, activity.conversation.id)
        seen = (activity.service_url, person.id if person else None)
        if self._stored.get(key) == seen:
            return None
        reference = TurnContext.get_conversation_reference(activity)
        reference.activity_id = None  # a reference is where to reach someone, not one message
        data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
        team = data.get("team") or {}
        channel = data.get("channel") or {}
        saved = await conversations.save_reference(
            session=session,
            tenant_id=tenant_id,
            conversation_id=activity.conversation.id,
            conversation_type=conversation_type(activity),
            service_url=activity.service_url,
            reference=reference.serialize(),
            staff_id=person.id if person else None,
            aad_object_id=getattr(activity.from_property, "aad_object_id", None)
            if person
            else None,
            team_aad_group_id=team.get("aadGroupId"),
            channel_name=channel.get("name"),
        )

        row_id = saved.row.id

        def remember(_session: object) -> None:
            if len(self._stored) > MAX_REMEMBERED_REFERENCES:
                self._stored.clear()
                self._reference_ids.clear()
            self._stored[key] = seen
            if row_id is not None:
                self._reference_ids[key] = row_id

        # Only once it is really stored: a turn that fails rolls the reference back too.
        event.listen(session.sync_session, "after_commit", remember, once=True)
        return saved.row.id if saved.first_for_person else None

    async def _send(
        self, turn_context: TurnContext, tenant_id: str, person: Staff | None, reply: Reply
    ) -> None:
        here = conversation_type(turn_context.activity)
        if not reply.private or here == "personal" or person is None:
            posted = await reply_json(turn_context, _attachment_activity(reply.card, reply.summary))
            conversation = turn_context.activity.conversation
            if conversation is not None and posted is not None:
                await self._keep_track(tenant_id, conversation.id, posted, reply)
            return
        sent = await self._send_privately(turn_context, tenant_id, person, reply)
        await turn_context.send_activity(
            _attachment_activity(private_reply_note_card(sent=sent), "Sent to your private chat")
        )

    async def _send_privately(
        self, turn_context: TurnContext, tenant_id: str, person: Staff, reply: Reply
    ) -> bool:
        """Post to the person's 1:1 chat with the bot, creating it if Teams has none stored."""
        client: ConnectorClient = turn_context.turn_state[BotAdapter.BOT_CONNECTOR_CLIENT_KEY]
        activity = turn_context.activity
        assert person.id is not None
        async with transaction(self.deps.sessions) as session:
            stored = await conversations.personal_reference(
                session=session, tenant_id=tenant_id, staff_id=person.id
            )
        try:
            if stored is not None:
                conversation_id = stored.conversation_id
            else:
                created = await client.conversations.create_conversation(
                    ConversationParameters(
                        is_group=False,
                        bot=activity.recipient,
                        members=[ChannelAccount(id=activity.from_property.id)],
                        tenant_id=tenant_id,
                        channel_data={"tenant": {"id": tenant_id}},
                    )
                )
                conversation_id = created.id
            message = _attachment_activity(reply.card, reply.summary)
            message.from_property = activity.recipient
            message.conversation = type(activity.conversation)(id=conversation_id)
            posted = await client.conversations.send_to_conversation(conversation_id, message)
        except Exception:  # the thread still gets a note; the failure is logged, not raised
            log.exception("could not reach staff %s privately", person.id)
            return False
        await self._keep_track(tenant_id, conversation_id, getattr(posted, "id", None), reply)
        return True

    async def _keep_track(
        self, tenant_id: str, conversation_id: str, activity_id: str | None, reply: Reply
    ) -> None:
        """A list card someone asked for is redrawn in place when what it lists changes that
        day (bot.services.refresh), like the cards the sender posts. Written before the turn
        ends, with the cards other turns posted at the same moment (storage.db.GroupCommit)."""
        if reply.kind is None or not activity_id:
            return
        posted = _Posted(
            tenant_id=tenant_id,
            conversation_id=conversation_id,
            activity_id=activity_id,
            kind=reply.kind,
            subjects=reply.shows,
            at=self.deps.clock(),
        )
        try:
            await self._posted.add(posted)
        except IntegrityError:
            if self._reference_ids.pop((tenant_id, conversation_id), None) is None:
                raise
            # The stored reference has gone (a leaver's, purged): read it afresh.
            await self._posted.add(posted)

    async def _record_posted(self, session: Any, cards: list[_Posted]) -> None:
        for card in cards:
            await outbox.record_posted(
                session,
                tenant_id=card.tenant_id,
                conversation_id=card.conversation_id,
                activity_id=card.activity_id,
                kind=card.kind,
                subjects=card.subjects,
                at=card.at,
                reference_id=self._reference_ids.get((card.tenant_id, card.conversation_id)),
            )

    async def on_conversation_update_activity(self, turn_context: TurnContext) -> None:
        await self._store_only(turn_context)
        activity = turn_context.activity
        added = activity.members_added or []
        if conversation_type(activity) == "channel" and any(
            member.id == activity.recipient.id for member in added
        ):
            # Added to a team: offer to post digests or briefings in this channel.
            await turn_context.send_activity(
                _attachment_activity(team_welcome_card(), "QA Loop has joined this team")
            )
        await super().on_conversation_update_activity(turn_context)

    async def on_installation_update(self, turn_context: TurnContext) -> None:
        await self._store_only(turn_context)

    async def _store_only(self, turn_context: TurnContext) -> None:
        tenant_id = tenant_of(turn_context.activity)
        assert tenant_id is not None
        async with transaction(self.deps.sessions) as session:
            await self._recognise(session, tenant_id, turn_context)
        # Added to a team, or people added to one: open chats with them (after this turn).
        self.roster.start(turn_context, tenant_id)

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        activity = turn_context.activity
        if activity.name != CARD_ACTION:
            return await super().on_invoke_activity(turn_context)
        tenant_id = tenant_of(activity)
        assert tenant_id is not None
        value = activity.value if isinstance(activity.value, dict) else {}
        action = value.get("action") or {}
        key = (
            {
                "tenant_id": tenant_id,
                "conversation_id": activity.conversation.id,
                "activity_id": activity.id,
            }
            if activity.id and activity.conversation
            else None
        )
        async with write_transaction(self.deps.sessions) as session:
            if key is not None and not await inbound.claim_in(session, **key):
                log.info("repeat of a card press already handled")
                earlier = await inbound.earlier_response(session=session, **key)
                return InvokeResponse(status=200, body=FrozenJson(earlier or {}))
            answer = await self._press(session, tenant_id, turn_context, action)
            if key is not None:
                # Stored with the change it answers: a repeat gets this answer again.
                await inbound.remember_response(session=session, response=answer, **key)
        # Frozen: botbuilder deep-copies what a turn sends (the answer too), ~4 ms for a list card.
        return InvokeResponse(status=200, body=FrozenJson(answer))

    async def _press(
        self, session: Any, tenant_id: str, turn_context: TurnContext, action: Any
    ) -> dict[str, Any]:
        """The answer to a card press, its change made in `session`."""
        activity = turn_context.activity
        person = await self._recognise(session, tenant_id, turn_context)
        if person is None:
            return card_answer(
                card_json(unknown_person_card(admin_contact=self.deps.settings.admin_contact))
            )
        request = self._request(
            session,
            tenant_id,
            person,
            conversation_id=activity.conversation.id if activity.conversation else None,
            reply_to_id=activity.reply_to_id,
        )
        reply = await dispatch(
            request,
            action.get("data") if isinstance(action, dict) else None,
            self.deps.catalogue.verbs,
        )
        if reply.error is not None:
            return error_answer(reply.error)
        return card_answer(reply.content())


async def _email_of(turn_context: TurnContext) -> str | None:
    """Their email from Teams' member lookup; used once, to bind a roster row to their Entra id."""
    try:
        member = await TeamsInfo.get_member(turn_context, turn_context.activity.from_property.id)
    except Exception:  # an unknown person must still get the polite card
        log.warning("member lookup failed; cannot match by email")
        return None
    for value in (member.email, member.user_principal_name):
        if isinstance(value, str) and "@" in value:
            return value
    return None


_NO_TEXT = "I only understand typed commands. Type help to see what I can do."
_UNTYPEABLE = (
    "That message has characters I can't keep (control characters, as text pasted from another "
    "program can carry). Please type it again without them."
)


def card_answer(card: dict[str, Any]) -> dict[str, Any]:
    """The answer to a card press that shows `card` in place of the one pressed: the JSON of
    botbuilder's AdaptiveCardInvokeResponse, written once (tests/test_invoke_answers.py)."""
    return {"statusCode": 200, "type": CARD_CONTENT_TYPE, "value": card}


def error_answer(message: str) -> dict[str, Any]:
    """A press that changed nothing, with why. HTTP 200 so Teams does not retry into a
    duplicate; the error type shows the message and leaves the card as it was."""
    return {
        "statusCode": 400,
        "type": "application/vnd.microsoft.error",
        "value": {"code": "BadRequest", "message": message},
    }
