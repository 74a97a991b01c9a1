"""Roster sync: when the bot joins a team (or people join one it is in), bind the members to staff
and open a 1:1 chat with each who has none, so reminders reach people who never opened the bot."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
from botbuilder.core import BotAdapter, TurnContext
from botbuilder.core.teams import TeamsInfo
from botbuilder.schema import (
    ActivityTypes,
    ChannelAccount,
    ConversationAccount,
    ConversationParameters,
    ConversationReference,
)
from botframework.connector.aio import ConnectorClient
from msrest.exceptions import HttpOperationError

from storage import conversations
from storage import roster as stored
from storage.db import SessionMaker, transaction

log = logging.getLogger(__name__)

# Teams serves at most 500 members a page; smaller pages keep each database write short.
PAGE_SIZE = 200
# What can go wrong talking to the connector about one member or one team.
CONNECTOR_ERRORS = (HttpOperationError, aiohttp.ClientError, TimeoutError, PermissionError)


@dataclass
class RosterResult:
    members: int = 0
    # Members who are on the staff roster.
    staff: int = 0
    # Entra ids bound to roster rows by email just now.
    bound: int = 0
    # Staff who already had a 1:1 chat with the bot.
    had_chat: int = 0
    created: int = 0
    failed: int = 0


@dataclass(frozen=True, slots=True)
class RosterWork:
    team_id: str
    # Only these members (they just joined); None: the whole team (the bot was just added).
    member_ids: tuple[str, ...] | None = None


def roster_work(activity: Any) -> RosterWork | None:
    """What to sync for this activity: a team the bot was added to, or people added to one."""
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    team = data.get("team") if isinstance(data.get("team"), dict) else None
    team_id = team.get("id") if team else None
    if not isinstance(team_id, str) or not team_id:
        return None
    if activity.type == ActivityTypes.installation_update:
        return RosterWork(team_id) if activity.action in ("add", "add-upgrade") else None
    if activity.type != ActivityTypes.conversation_update:
        return None
    bot_id = activity.recipient.id if activity.recipient else None
    added = [m.id for m in activity.members_added or [] if m.id]
    if bot_id in added:
        return RosterWork(team_id)
    return RosterWork(team_id, tuple(added)) if added else None


class RosterSync:
    """Runs roster syncs after the turn that asked for them (a big team takes longer than Teams
    waits for an answer), one at a time per team."""

    def __init__(self, sessions: SessionMaker) -> None:
        self._sessions = sessions
        self._running: dict[str, asyncio.Task[RosterResult | None]] = {}

    def start(self, turn_context: TurnContext, tenant_id: str) -> asyncio.Task[Any] | None:
        work = roster_work(turn_context.activity)
        if work is None or work.team_id in self._running:
            return None
        task = asyncio.create_task(self._run(turn_context, tenant_id, work))
        self._running[work.team_id] = task
        task.add_done_callback(lambda _: self._running.pop(work.team_id, None))
        return task

    async def _run(
        self, turn_context: TurnContext, tenant_id: str, work: RosterWork
    ) -> RosterResult | None:
        try:
            result = await sync_team(
                turn_context,
                sessions=self._sessions,
                tenant_id=tenant_id,
                team_id=work.team_id,
                member_ids=work.member_ids,
            )
        except CONNECTOR_ERRORS as exc:
            log.warning("roster sync of a team in tenant %s failed: %s", tenant_id, _why(exc))
            return None
        log.info("roster sync in tenant %s: %s", tenant_id, result)
        return result


async def sync_team(
    turn_context: TurnContext,
    *,
    sessions: SessionMaker,
    tenant_id: str,
    team_id: str,
    member_ids: Sequence[str] | None = None,
) -> RosterResult:
    """Read the team's roster page by page (or just `member_ids`) and open the missing chats."""
    result = RosterResult()
    if member_ids is not None:
        looked_up = [await _member(turn_context, team_id, m) for m in member_ids]
        await _sync_members(turn_context, sessions, tenant_id, [m for m in looked_up if m], result)
        return result
    token: str | None = None
    while True:
        page = await TeamsInfo.get_paged_team_members(turn_context, team_id, token, PAGE_SIZE)
        members: list[stored.Member] = []
        for account in page.members or []:
            member = _as_member(account)
            if member.aad_object_id is None:
                # Some rosters (the Agents Playground's) leave the Entra id out; one person's
                # lookup has it.
                member = await _member(turn_context, team_id, member.teams_id) or member
            members.append(member)
        await _sync_members(turn_context, sessions, tenant_id, members, result)
        token = page.continuation_token
        if not token:
            return result


async def _member(turn_context: TurnContext, team_id: str, member_id: str) -> stored.Member | None:
    try:
        account = await TeamsInfo.get_team_member(turn_context, team_id, member_id)
    except HttpOperationError as exc:
        log.warning("could not look up a team member: %s", _why(exc))
        return None
    return _as_member(account)


def _as_member(account: Any) -> stored.Member:
    email = next(
        (
            value
            for value in (account.email, account.user_principal_name)
            if isinstance(value, str) and "@" in value
        ),
        None,
    )
    return stored.Member(
        teams_id=account.id,
        aad_object_id=account.aad_object_id or None,
        email=email,
        name=account.name,
    )


async def _sync_members(
    turn_context: TurnContext,
    sessions: SessionMaker,
    tenant_id: str,
    members: list[stored.Member],
    result: RosterResult,
) -> None:
    result.members += len(members)
    async with transaction(sessions) as session:
        found, bound = await stored.bind_members(
            session=session, tenant_id=tenant_id, members=members
        )
        ids = {p.id for p in found.values() if p.id is not None}
        chatting = await stored.with_personal_chat(
            session=session, tenant_id=tenant_id, staff_ids=ids
        )
    result.staff += len(found)
    result.bound += bound
    result.had_chat += len(chatting)
    client: ConnectorClient = turn_context.turn_state[BotAdapter.BOT_CONNECTOR_CLIENT_KEY]
    activity = turn_context.activity
    opened: set[int] = set()
    for member in members:
        person = found.get(member.teams_id)
        if person is None or person.id is None or person.id in chatting or person.id in opened:
            continue
        # No database transaction is held across the call: on SQLite it would block every writer.
        try:
            created = await client.conversations.create_conversation(
                ConversationParameters(
                    is_group=False,
                    bot=activity.recipient,
                    members=[ChannelAccount(id=member.teams_id)],
                    tenant_id=tenant_id,
                    channel_data={"tenant": {"id": tenant_id}},
                )
            )
        except CONNECTOR_ERRORS as exc:
            log.warning("could not open a chat with staff %s: %s", person.id, _why(exc))
            result.failed += 1
            continue
        reference = ConversationReference(
            bot=activity.recipient,
            user=ChannelAccount(
                id=member.teams_id, name=member.name, aad_object_id=member.aad_object_id
            ),
            conversation=ConversationAccount(
                id=created.id, conversation_type="personal", tenant_id=tenant_id, is_group=False
            ),
            channel_id=activity.channel_id or "msteams",
            service_url=activity.service_url,
        )
        async with transaction(sessions) as session:
            await conversations.save_reference(
                session=session,
                tenant_id=tenant_id,
                conversation_id=created.id,
                conversation_type="personal",
                service_url=activity.service_url,
                reference=reference.serialize(),
                staff_id=person.id,
                aad_object_id=member.aad_object_id,
            )
        opened.add(person.id)
        result.created += 1


def _why(exc: BaseException) -> str:
    """The status and type, never the body: it may echo names or emails."""
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    return f"{type(exc).__name__}" + (f" ({status})" if status else "")


@dataclass
class TeamOutcome:
    tenant_id: str
    conversation_id: str
    result: RosterResult | None
    error: str | None = None


async def sync_stored_teams(
    *,
    adapter: BotAdapter,
    sessions: SessionMaker,
    app_id: str,
    tenant_id: str | None = None,
) -> list[TeamOutcome]:
    """Sync every team the bot has a stored channel for, proactively (`qaloop sync-roster`)."""
    async with sessions() as session:
        channels = await stored.team_channels(session=session, tenant_id=tenant_id)
    outcomes = []
    for channel in channels:
        reference = ConversationReference().deserialize(channel.reference)
        reference.activity_id = None
        if reference.conversation is not None:
            reference.conversation.id = channel.conversation_id
        outcome = TeamOutcome(channel.tenant_id, channel.conversation_id, None)

        async def logic(turn_context: TurnContext, outcome: TeamOutcome = outcome) -> None:
            # Caught here: the adapter's turn error handler would swallow it unreported.
            try:
                outcome.result = await sync_team(
                    turn_context,
                    sessions=sessions,
                    tenant_id=outcome.tenant_id,
                    team_id=outcome.conversation_id,
                )
            except CONNECTOR_ERRORS as exc:
                outcome.error = _why(exc)

        await adapter.continue_conversation(reference, logic, app_id)
        outcomes.append(outcome)
    return outcomes
