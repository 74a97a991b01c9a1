"""Outbound to the Bot Connector: the serializer shortcut, the host allow-list, no hidden retries."""

from __future__ import annotations

from datetime import UTC, datetime

import aiohttp
import orjson
import pytest
from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount, ConversationAccount, Mention
from botframework.connector import models
from msrest.serialization import Serializer

from bot.connector import (
    ConnectorHostRefused,
    ConnectorSender,
    FrozenJson,
    PlainJsonSerializer,
    json_bytes,
    model_json,
)
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


def _incoming() -> Activity:
    return Activity().deserialize(
        {
            "type": "message",
            "id": "1733302800000",
            "timestamp": "2026-12-04T09:00:00.123Z",
            "serviceUrl": "https://smba.trafficmanager.net/uk/",
            "channelId": "msteams",
            "from": {"id": "29:1a", "name": "Alex Wilber", "aadObjectId": "aad-1"},
            "conversation": {"id": "a:1b", "conversationType": "personal", "tenantId": "t-1"},
            "recipient": {"id": "28:bot", "name": "QA Loop"},
            "text": "my actions",
            "locale": "en-GB",
            "entities": [{"type": "clientInfo", "locale": "en-GB", "timezone": "Europe/London"}],
            "channelData": {"tenant": {"id": "t-1"}},
        }
    )


@pytest.mark.parametrize("card", [CARD, FrozenJson(CARD)], ids=["dict", "frozen"])
def test_a_reply_is_the_json_value_msrest_would_send(card: dict[str, object]) -> None:
    """reply_json sends model_json(activity) written by orjson, where botbuilder sends msrest's
    Serializer.body (ours, which passes a FrozenJson card through) written by json.dumps: the same
    JSON value for every kind of field."""
    dependencies = {k: v for k, v in models.__dict__.items() if isinstance(v, type)}
    reference = TurnContext.get_conversation_reference(_incoming())
    reply = TurnContext.apply_conversation_reference(_message(card), reference)
    others = [
        reply,
        _incoming(),
        Activity(
            type=ActivityTypes.message,
            text="<at>Alex</at> hello",
            timestamp=datetime(2026, 12, 4, 9, 0, 0, 123456, tzinfo=UTC),
            entities=[
                Mention(mentioned=ChannelAccount(id="29:1a", name="Alex"), text="<at>Alex</at>")
            ],
            members_added=[ChannelAccount(id="29:1a")],
            conversation=ConversationAccount(id="19:x@thread.tacv2", is_group=True),
            channel_data={"notification": {"alert": True}, "list": [1, None, "ü"]},
        ),
    ]
    for activity in others:
        stock = PlainJsonSerializer(dependencies).body(activity, "Activity")
        assert orjson.loads(orjson.dumps(model_json(activity))) == stock


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


def test_text_orjson_refuses_is_written_escaped_as_msrest_wrote_it() -> None:
    value = {"text": "Plan \ud800 ü", "n": 1}
    with pytest.raises(orjson.JSONEncodeError):
        orjson.dumps(value)
    assert json_bytes(value) == b'{"text": "Plan \\ud800 \\u00fc", "n": 1}'
    assert json_bytes({"text": "ü"}) == '{"text":"ü"}'.encode()
