"""Outbound to the Bot Connector: the serializer shortcut, the host allow-list, no hidden retries."""

from __future__ import annotations

import aiohttp
import pytest
from botbuilder.core import CardFactory, MessageFactory
from botbuilder.schema import Activity
from botframework.connector import models
from msrest.serialization import Serializer

from bot.connector import ConnectorHostRefused, ConnectorSender, FrozenJson, PlainJsonSerializer
from storage.db import SessionMaker
from tests.chat import Chat
from tests.helpers import small_council

CARD = {
    "type": "AdaptiveCard",
    "version": "1.5",
    "body": [
        {"type": "RichTextBlock", "inlines": [{"type": "TextRun", "text": "Due 3 Dec · 12 – ü"}]}
    ],
    "actions": [
        {"type": "Action.Execute", "verb": "page", "data": {"offset": 10, "x": None, "f": 1.5}}
    ],
}


def _message(card: dict[str, object]) -> Activity:
    activity = MessageFactory.attachment(CardFactory.adaptive_card(card))
    activity.summary = "You have 2 open actions"
    return activity


def test_the_plain_json_serializer_writes_what_msrest_would() -> None:
    dependencies = {k: v for k, v in models.__dict__.items() if isinstance(v, type)}
    stock = Serializer(dependencies).body(_message(CARD), "Activity")
    ours = Serializer(dependencies)
    fast = PlainJsonSerializer(dependencies)
    assert fast.body(_message(CARD), "Activity") == stock == ours.body(_message(CARD), "Activity")
    assert fast.body(_message(FrozenJson(CARD)), "Activity") == stock


async def test_the_token_is_never_sent_to_a_host_off_the_allow_list() -> None:
    from msrest.universal_http import ClientRequest

    async with aiohttp.ClientSession() as http:
        sender = ConnectorSender(http, host_allowed=lambda host: host == "smba.trafficmanager.net")
        request = ClientRequest("POST", "https://evil.example/v3/conversations/x/activities")
        request.headers["Authorization"] = "Bearer secret"
        with pytest.raises(ConnectorHostRefused):
            await sender.send(request)


async def test_a_500_from_the_connector_is_not_retried_underneath(
    chat: Chat, sessions: SessionMaker
) -> None:
    await small_council(sessions)
    chat.connector.faults.append((500, None))
    answer = await chat.say("help", expect=1)
    assert answer.status == 201  # the turn error is handled, so Teams does not resend
    assert chat.connector.refused == [500]
    # One attempt at the help card, refused and not repeated; then the apology got through.
    assert ["What I can do" in str(s.body) for s in chat.connector.sent] == [False]
    assert "something went wrong" in str(chat.connector.sent[0].body)


async def test_a_429_that_would_outlast_the_turn_is_not_waited_for(
    chat: Chat, sessions: SessionMaker
) -> None:
    await small_council(sessions)
    chat.connector.faults.append((429, "60"))
    answer = await chat.say("help", expect=1)
    assert answer.status == 201
    assert chat.connector.refused == [429]
    assert ["What I can do" in str(s.body) for s in chat.connector.sent] == [False]
