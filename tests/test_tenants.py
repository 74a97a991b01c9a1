"""A tenant's row and its time zone: made on first contact (so that first message is answered),
in the zone the jobs run in; a zone that differs from QALOOP_TIMEZONE is reported at start-up."""

from __future__ import annotations

import logging

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot.app import create_app
from bot.settings import Settings
from storage.db import SessionMaker
from storage.models import Tenant
from tests.chat import ALEX, MEGAN, TENANT, Chat, Person
from tests.fake_connector import FakeConnector


async def say_hello(settings: Settings, connector: FakeConnector, who: Person) -> str:
    server = TestServer(create_app(settings), host="127.0.0.1")
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as http:
            chat = Chat(str(server.make_url("/")), connector, http)
            hello = chat.activity("personal_message", who=who, text="help")
            hello["id"] = f"hello-from-{who.teams_id}"  # each app's Chat counts ids from 1
            answer = await chat.post(hello, expect=1)
            assert answer.status in (200, 201), answer.body
            return answer.text
    finally:
        await server.close()


async def test_a_tenant_first_seen_takes_the_bot_s_zone_and_a_differing_one_is_reported(
    sessions: SessionMaker,
    settings: Settings,
    connector: FakeConnector,
    caplog: pytest.LogCaptureFixture,
) -> None:
    dublin = settings.model_copy(update={"timezone": "Europe/Dublin"})

    answer = await say_hello(dublin, connector, ALEX)

    # Nobody is imported yet: Alex is told so, rather than met with silence.
    assert "You're not set up in QA Loop yet" in answer

    async with sessions() as session:
        tenant = await session.get(Tenant, TENANT)
    assert tenant is not None and tenant.timezone == "Europe/Dublin"
    assert "shows times in" not in caplog.text

    with caplog.at_level(logging.WARNING, logger="bot.app"):
        await say_hello(settings, connector, MEGAN)  # the bot now runs on London time

    assert (
        f"tenant {TENANT} shows times in Europe/Dublin but jobs run in QALOOP_TIMEZONE "
        "Europe/London" in caplog.text
    )
