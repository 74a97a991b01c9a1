"""Helpers for the channel, briefing and step-guide tests: conversations as the handler stores
them, and a Request for calling a command or card handler directly (before the lead registers
them in COMMANDS / ACTIONS; the HTTP tests then cover the same flows end to end)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.features import CATALOGUE
from bot.settings import Settings
from bot.turn import Request
from storage import conversations
from storage.db import SessionMaker, transaction
from storage.models import AuditLog, ChannelUse, ConversationRef, Delivery, Staff
from tests.chat import TENANT

# Thursday 26 November 2026, 10:02 in London (GMT).
NOW = datetime(2026, 11, 26, 10, 2, tzinfo=UTC)
TODAY = NOW.date()
SERVICE_URL = "https://smba.trafficmanager.net/uk/"
GENERAL = "19:general-channel@thread.tacv2"
QA_CHANNEL = "19:qa-team-channel@thread.tacv2"


def thread_of(channel_id: str, message_id: str = "1764148442112") -> str:
    return f"{channel_id};messageid={message_id}"


def _reference(conversation_id: str, kind: str) -> dict[str, Any]:
    return {
        "activityId": None,
        "bot": {"id": "28:qaloop-bot", "name": "QA Loop"},
        "channelId": "msteams",
        "conversation": {
            "conversationType": kind,
            "id": conversation_id,
            "isGroup": kind != "personal",
            "tenantId": TENANT,
        },
        "serviceUrl": SERVICE_URL,
    }


async def channel_message_seen(
    sessions: SessionMaker, channel_id: str = GENERAL, *, name: str | None = "General"
) -> str:
    """A message in the channel reached the bot: its thread's reference is stored, as
    bot.handler does. Returns the thread's conversation id."""
    thread = thread_of(channel_id)
    async with transaction(sessions) as session:
        await conversations.save_reference(
            session=session,
            tenant_id=TENANT,
            conversation_id=thread,
            conversation_type="channel",
            service_url=SERVICE_URL,
            reference=_reference(thread, "channel"),
            team_aad_group_id="5b8c2a1e-0000-4000-8000-000000000001",
            channel_name=name,
        )
    return thread


async def personal_chat(sessions: SessionMaker, person: Staff) -> str:
    conversation_id = f"a:personal-{person.id}"
    async with transaction(sessions) as session:
        await conversations.save_reference(
            session=session,
            tenant_id=person.tenant_id,
            conversation_id=conversation_id,
            conversation_type="personal",
            service_url=SERVICE_URL,
            reference=_reference(conversation_id, "personal"),
            staff_id=person.id,
        )
    return conversation_id


def request(
    session: AsyncSession,
    person: Staff,
    *,
    args: str = "",
    conversation_id: str | None = None,
    today: date = TODAY,
    now: datetime = NOW,
    settings: Settings | None = None,
) -> Request:
    return Request(
        session=session,
        tenant_id=person.tenant_id,
        person=person,
        today=today,
        settings=settings or Settings(),
        args=args.lower(),
        raw_args=args,
        now=now,
        conversation_id=conversation_id,
        commands=CATALOGUE.commands,
        rebuilders=CATALOGUE.rebuilders,
    )


async def rows(sessions: SessionMaker, model: Any) -> list[Any]:
    async with sessions() as session:
        return list((await session.exec(select(model).order_by(col(model.id)))).all())


async def logged(sessions: SessionMaker, event: str) -> list[AuditLog]:
    return [r for r in await rows(sessions, AuditLog) if r.event == event]


async def channel_uses(sessions: SessionMaker) -> list[tuple[str, str]]:
    """(channel conversation id, purpose) for every channel chosen."""
    async with sessions() as session:
        found = await session.exec(
            select(ConversationRef.conversation_id, ChannelUse.purpose)
            .join(ChannelUse, col(ChannelUse.conversation_ref_id) == col(ConversationRef.id))
            .order_by(col(ChannelUse.id))
        )
        return [(c, p) for c, p in found.all()]


async def deliveries(sessions: SessionMaker, kind: str) -> list[tuple[Delivery, ConversationRef]]:
    async with sessions() as session:
        found = await session.exec(
            select(Delivery, ConversationRef)
            .join(ConversationRef, col(ConversationRef.id) == col(Delivery.conversation_ref_id))
            .where(Delivery.kind == kind)
            .order_by(col(Delivery.id))
        )
        return list(found.all())


async def person(session: AsyncSession, staff_id: int) -> Staff:
    found = await session.get(Staff, staff_id)
    assert found is not None
    return found
