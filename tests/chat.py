"""Talk to the real aiohttp app over HTTP with Teams-shaped activities; read what reached Teams."""

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


@dataclass(frozen=True)
class Person:
    name: str
    aad: str
    teams_id: str
    email: str


ALEX = Person(
    "Alex Wilber", "00000000-0000-0000-0000-0000000000020", "29:alex", "alexw@example.com"
)
MEGAN = Person(
    "Megan Bowen", "00000000-0000-0000-0000-0000000000021", "29:megan", "meganb@example.com"
)
STRANGER = Person(
    "Sam Nobody", "99999999-0000-0000-0000-000000000099", "29:sam", "sam@elsewhere.org"
)


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


@dataclass
class Answer:
    status: int
    body: Any
    sent: list[Sent]

    @property
    def cards(self) -> list[dict[str, Any]]:
        return [card for s in self.sent for card in s.cards]

    @property
    def text(self) -> str:
        return "\n".join(card_text(c) for c in self.cards)


class Chat:
    """A conversation with the bot, as Teams would carry it."""

    def __init__(
        self, base_url: str, connector: FakeConnector, http: aiohttp.ClientSession
    ) -> None:
        self.url = base_url.rstrip("/") + "/api/messages"
        self.connector = connector
        self.http = http
        self._ids = itertools.count(1)

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
        activity = self.activity("card_action", who=who)
        activity["value"]["action"]["data"] = data
        return await self.post(activity)
