"""Helpers for the action tests: a fixed-clock chat, more people, pressing buttons as Teams does,
and reading what changed."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlmodel import col, select

from bot.app import create_app
from bot.settings import Settings
from storage.db import SessionMaker, transaction
from storage.models import Action, AuditLog, Delivery, Staff
from tests.chat import ALEX, MEGAN, Chat, Person, card_text, nodes
from tests.factories import Council, small_council
from tests.fake_connector import FakeConnector

# Thursday 26 November 2026, 10:02 in London (GMT).
NOW = datetime(2026, 11, 26, 10, 2, tzinfo=UTC)
TODAY = NOW.date()
DUE = date(2026, 12, 3)

NESTOR = Person(
    "Nestor Wilke", "00000000-0000-0000-0000-0000000000022", "29:nestor", "nestorw@example.com"
)
PATTI = Person(
    "Patti Fernandez", "00000000-0000-0000-0000-0000000000023", "29:patti", "pattif@example.com"
)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
async def chat(settings: Settings, connector: FakeConnector, clock: Clock) -> AsyncIterator[Chat]:
    """The real app, as in conftest, but on our clock."""
    server = TestServer(create_app(settings, clock=clock), host="127.0.0.1")
    await server.start_server()
    async with aiohttp.ClientSession() as http:
        yield Chat(str(server.make_url("/")), connector, http)
    await server.close()


_pressed = itertools.count(1)


async def press(
    chat: Chat, data: dict[str, Any], *, who: Person = ALEX, on: str | None = None
) -> Pressed:
    """`who` presses a button whose card sent `data`; `on` is the posted card's activity id."""
    activity = chat.activity("card_action", who=who)
    activity["value"]["action"]["data"] = data
    activity["value"]["action"]["verb"] = data.get("action")
    activity["replyToId"] = on or f"card-{next(_pressed)}"
    answer = await chat.post(activity)
    assert answer.status == 200
    body = answer.body
    if body["statusCode"] == 200:
        return Pressed(card=body["value"], error=None)
    assert body["statusCode"] == 400 and body["type"] == "application/vnd.microsoft.error"
    return Pressed(card=None, error=body["value"]["message"])


@dataclass
class Pressed:
    card: dict[str, Any] | None
    error: str | None

    @property
    def text(self) -> str:
        assert self.card is not None, self.error
        return card_text(self.card)


def buttons(card: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every Action.Execute on a card, also those inside Show card forms."""
    return (e for e in nodes(card) if e.get("type") == "Action.Execute")


def button(card: dict[str, Any], title: str, action_id: int | None = None) -> dict[str, Any]:
    """The data a button sends, as Teams would send it (inputs are added by the caller)."""
    for found in buttons(card):
        data = found["data"]
        if found["title"] == title and action_id in (None, data.get("action_id")):
            return dict(data)
    raise AssertionError(f"no button {title!r} on the card:\n{card_text(card)}")


async def council_with_everyone(sessions: SessionMaker) -> Council:
    """Alex (practitioner, managed by Megan), Megan (TM), Nestor (practitioner in another team,
    no manager of Alex) and Patti (QA)."""
    council = await small_council(sessions)
    async with transaction(sessions) as session:
        for person, roles in ((NESTOR, "practitioner"), (PATTI, "qa")):
            row = Staff(
                tenant_id=council.tenant_id,
                email=person.email,
                display_name=person.name,
                aad_object_id=person.aad,
                roles=roles,
            )
            session.add(row)
            await session.flush()
            council.staff[person.name.split()[0].lower()] = row
    return council


async def everyone_has_talked_to_the_bot(chat: Chat) -> None:
    for person in (ALEX, MEGAN, NESTOR, PATTI):
        await chat.say("help", who=person)


async def action_row(sessions: SessionMaker, action_id: int) -> Action:
    async with sessions() as session:
        action = await session.get(Action, action_id)
        assert action is not None
        return action


async def queued(sessions: SessionMaker, kind: str) -> list[Delivery]:
    async with sessions() as session:
        rows = await session.exec(
            select(Delivery).where(Delivery.kind == kind).order_by(col(Delivery.id))
        )
        return list(rows.all())


async def logged(sessions: SessionMaker, event: str) -> list[AuditLog]:
    async with sessions() as session:
        rows = await session.exec(
            select(AuditLog).where(AuditLog.event == event).order_by(col(AuditLog.id))
        )
        return list(rows.all())


async def staff_id(sessions: SessionMaker, person: Person) -> int:
    async with sessions() as session:
        row = (await session.exec(select(Staff).where(Staff.email == person.email))).one()
        assert row.id is not None
        return row.id


async def ask_for_more_time(
    chat: Chat, action_id: int, new_due_on: str = "2026-12-10", reason: str = "Waiting for the CP"
) -> Pressed:
    return await press(
        chat,
        {
            "action": "request_extension",
            "action_id": action_id,
            f"new_due_on_{action_id}": new_due_on,
            f"reason_{action_id}": reason,
        },
    )
