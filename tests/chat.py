"""Talk to the real aiohttp app over HTTP as the people of the test council do, and read the cards
that came back: `await alex.says("my actions")`, `await megan.presses(button(card, "Confirm"))`."""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from tests.fake_connector import FakeConnector, Sent

PAYLOADS = Path(__file__).parent / "payloads"
TENANT = "00000000-0000-0000-0000-0000000000001"


# --- the people ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    name: str
    aad: str
    teams_id: str
    email: str

    @property
    def key(self) -> str:
        """How councils name them: the first name, lower case."""
        return self.name.split()[0].lower()


def _person(name: str, n: int) -> Person:
    first, last = name.split()
    return Person(
        name,
        f"00000000-0000-0000-0000-00000000000{n}",
        f"29:{first.lower()}",
        f"{first.lower()}{last[0].lower()}@example.com",
    )


# The people of the test councils (tests/helpers.py): the demo's names and emails
# (storage.demo.PLAYGROUND_USERS), Entra ids numbered in this order.
ALEX = _person("Alex Wilber", 20)
MEGAN = _person("Megan Bowen", 21)
NESTOR = _person("Nestor Wilke", 22)
PATTI = _person("Patti Fernandez", 23)
ADELE = _person("Adele Vance", 24)
ISAIAH = _person("Isaiah Langer", 25)
LYNNE = _person("Lynne Robbins", 26)
DIEGO = _person("Diego Siciliani", 27)
JONI = _person("Joni Sherman", 28)
GRADY = _person("Grady Archie", 29)
# Someone no council knows.
STRANGER = Person(
    "Sam Nobody", "99999999-0000-0000-0000-000000000099", "29:sam", "sam@elsewhere.org"
)


# --- reading cards -------------------------------------------------------------------------------


def payload(name: str) -> dict[str, Any]:
    return dict(json.loads((PAYLOADS / f"{name}.json").read_text()))


def nodes(card: Any) -> Iterator[dict[str, Any]]:
    """Every object in a card, depth first: elements, actions, choices, Show card forms."""
    if isinstance(card, dict):
        yield card
        for value in card.values():
            yield from nodes(value)
    elif isinstance(card, list):
        for value in card:
            yield from nodes(value)


def inputs(card: Any) -> dict[str, dict[str, Any]]:
    """Every input on a card (also in Show card forms) by id; ids must be unique."""
    found = [e for e in nodes(card) if str(e.get("type", "")).startswith("Input.")]
    ids = [e["id"] for e in found]
    assert len(ids) == len(set(ids)), ids
    return {e["id"]: e for e in found}


def card_text(card: dict[str, Any]) -> str:
    """All visible text of a card, in order: TextBlocks, TextRuns, facts and button titles."""
    parts: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            kind = node.get("type")
            if kind == "RichTextBlock":
                parts.append(
                    "".join(i["text"] if isinstance(i, dict) else i for i in node["inlines"])
                )
                return
            if kind == "TextBlock" and isinstance(node.get("text"), str):
                parts.append(node["text"])
            if kind == "Fact":
                parts.append(f"{node.get('title')} {node.get('value')}")
            if isinstance(node.get("title"), str) and str(kind).startswith("Action."):
                parts.append(f"[{node['title']}]")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(card)
    return "\n".join(parts)


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


# --- what came back ------------------------------------------------------------------------------


@dataclass
class Answer:
    """What the bot said to a message: the HTTP answer and what reached Teams meanwhile."""

    status: int
    body: Any
    sent: list[Sent]

    @property
    def cards(self) -> list[dict[str, Any]]:
        return [card for s in self.sent for card in s.cards]

    @property
    def card(self) -> dict[str, Any]:
        """The one card that came back."""
        [card] = self.cards
        return card

    @property
    def text(self) -> str:
        return "\n".join(card_text(c) for c in self.cards)


@dataclass
class Pressed:
    """What a button press got back: the card that replaced the one pressed, or an error."""

    card: dict[str, Any] | None
    error: str | None

    @property
    def text(self) -> str:
        assert self.card is not None, self.error
        return card_text(self.card)


# --- the conversation ----------------------------------------------------------------------------


class Chat:
    """A conversation with the bot, as Teams would carry it."""

    def __init__(
        self, base_url: str, connector: FakeConnector, http: aiohttp.ClientSession
    ) -> None:
        self.url = base_url.rstrip("/") + "/api/messages"
        self.connector = connector
        self.http = http
        self._ids = itertools.count(1)
        self._pressed = itertools.count(1)

    def person(self, who: Person) -> Persona:
        """`who`, ready to talk: `await chat.person(LYNNE).says("help")`."""
        return Persona(self, who)

    def activity(
        self, name: str, *, who: Person = ALEX, text: str | None = None, tenant: str = TENANT
    ) -> dict[str, Any]:
        activity = copy.deepcopy(payload(name))
        activity["id"] = f"{activity['id']}-{next(self._ids)}"
        activity["serviceUrl"] = self.connector.service_url
        activity["from"] = {"id": who.teams_id, "name": who.name, "aadObjectId": who.aad}
        activity["conversation"]["tenantId"] = tenant
        activity["channelData"]["tenant"]["id"] = tenant
        if activity["conversation"].get("conversationType") == "personal":
            activity["conversation"]["id"] = f"a:personal-{who.teams_id}"
        if text is not None:
            activity["text"] = text
        return activity

    async def post(
        self, activity: dict[str, Any], *, headers: dict[str, str] | None = None, expect: int = 0
    ) -> Answer:
        before = len(self.connector.sent)
        async with self.http.post(self.url, json=activity, headers=headers or {}) as response:
            status = response.status
            try:
                body = await response.json(content_type=None)
            except (json.JSONDecodeError, aiohttp.ContentTypeError):
                body = None
        if expect:
            await self.connector.wait_for(before + expect)
        self.connector.check_cards(body)
        return Answer(status, body, self.connector.sent[before:])

    async def say(
        self,
        text: str,
        *,
        who: Person = ALEX,
        where: str = "personal_message",
        expect: int = 1,
        tenant: str = TENANT,
    ) -> Answer:
        return await self.post(
            self.activity(where, who=who, text=text, tenant=tenant), expect=expect
        )

    async def press(self, data: dict[str, Any], *, who: Person = ALEX) -> Answer:
        """A card button's raw invoke and its HTTP answer (see `press_button` for the card)."""
        activity = self.activity("card_action", who=who)
        activity["value"]["action"]["data"] = data
        return await self.post(activity)

    async def press_button(
        self, data: dict[str, Any], *, who: Person = ALEX, on: str | None = None
    ) -> Pressed:
        """`who` presses a button whose card sent `data`, with its verb, as Teams does; `on` is
        the posted card's activity id. The answer is the refreshed card or the error shown."""
        activity = self.activity("card_action", who=who)
        activity["value"]["action"]["data"] = data
        activity["value"]["action"]["verb"] = data.get("action")
        activity["replyToId"] = on or f"card-{next(self._pressed)}"
        answer = await self.post(activity)
        assert answer.status == 200
        body = answer.body
        if body["statusCode"] == 200:
            return Pressed(card=body["value"], error=None)
        assert body["statusCode"] == 400 and body["type"] == "application/vnd.microsoft.error"
        return Pressed(card=None, error=body["value"]["message"])


@dataclass(frozen=True)
class Persona:
    """One person in the chat, so a test reads as a transcript:
    `answer = await alex.says("my actions")`, then assertions on `answer.card`."""

    chat: Chat
    who: Person

    @property
    def name(self) -> str:
        return self.who.name

    async def says(
        self, text: str, *, where: str = "personal_message", expect: int = 1, tenant: str = TENANT
    ) -> Answer:
        return await self.chat.say(text, who=self.who, where=where, expect=expect, tenant=tenant)

    async def presses(self, data: dict[str, Any], *, on: str | None = None) -> Pressed:
        return await self.chat.press_button(data, who=self.who, on=on)


async def press(
    chat: Chat, data: dict[str, Any], *, who: Person = ALEX, on: str | None = None
) -> Pressed:
    """`who` presses a button whose card sent `data`; `on` is the posted card's activity id."""
    return await chat.press_button(data, who=who, on=on)
