"""The outbox sender against a fake Teams that throttles, fails and forgets people: every card
arrives once, at Teams' pace, and nobody is chased who can no longer be reached."""

from __future__ import annotations

import asyncio
import gc
import os
import random
import signal
import socket
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import requests
from aiohttp.test_utils import TestServer
from botframework.connector.auth import MicrosoftAppCredentials
from sqlmodel import col, func, select

from bot.app import create_app, outbox_connectors
from bot.delivery import (
    TEAMS_CONVERSATION_LIMITS,
    ConversationPacer,
    SecondSender,
    Sender,
    TokenBucket,
    retry_after_seconds,
    sole_sender_lock,
)
from bot.settings import Settings
from storage import conversations, outbox
from storage.db import SessionMaker, make_engine, make_sessions, transaction
from storage.migrate import upgrade
from storage.models import AuditLog, ConversationRef, Delivery, DeliveryAttempt, SentCard, Staff
from tests.chat import ALEX, MEGAN, TENANT, Chat
from tests.fake_connector import (
    TEAMS_LIMITS,
    Chaos,
    FakeConnector,
    conversation_overruns,
    deliveries,
    early_retries,
    most_in_window,
)
from tests.helpers import qaloop, small_council

ROOT = Path(__file__).resolve().parents[1]
PREVIEW = "You have 2 QA items today"


# --- helpers ------------------------------------------------------------------------------------


def card(n: int) -> dict[str, Any]:
    return {
        "type": "AdaptiveCard",
        "version": "1.5",
        "body": [{"type": "TextBlock", "text": f"Card {n}", "wrap": True}],
    }


async def add_conversations(
    sessions: SessionMaker, service_url: str, count: int, *, prefix: str = "a:chat"
) -> list[int]:
    """`count` personal chats with nobody in particular (channel-like: no recipient to mark)."""
    async with transaction(sessions) as session:
        refs = [
            ConversationRef(
                tenant_id=TENANT,
                conversation_id=f"{prefix}-{n}",
                conversation_type="personal",
                service_url=service_url,
                reference={
                    "bot": {"id": "28:qaloop-bot", "name": "QA Loop"},
                    "conversation": {"id": f"{prefix}-{n}"},
                    "channelId": "msteams",
                    "serviceUrl": service_url,
                },
            )
            for n in range(count)
        ]
        session.add_all(refs)
        await session.flush()
        return [ref.id for ref in refs if ref.id is not None]


async def enqueue(
    sessions: SessionMaker,
    conversation_ids: list[int],
    *,
    per_conversation: int = 1,
    recipient: int | None = None,
    subjects: list[str] | None = None,
    replaces: str | None = None,
    tag: str = "",
) -> None:
    """Cards interleaved across the conversations, each with its own text (so its own key)."""
    async with transaction(sessions) as session:
        n = 0
        for round_ in range(per_conversation):
            for ref_id in conversation_ids:
                await outbox.enqueue(
                    session,
                    tenant_id=TENANT,
                    dedupe_key=f"test{tag}:{ref_id}:{round_}",
                    kind="my_qa",
                    conversation_ref_id=ref_id,
                    summary=PREVIEW,
                    card=card(n),
                    recipient_staff_id=recipient,
                    subjects=subjects,
                    replaces_activity_id=replaces,
                )
                n += 1


async def states(sessions: SessionMaker) -> Counter[str]:
    async with sessions() as session:
        rows = await session.exec(select(Delivery.state, func.count()).group_by(Delivery.state))
        return Counter(dict(rows.all()))


async def settled(sessions: SessionMaker, within: float = 30.0) -> Counter[str]:
    """Wait until nothing is pending, waiting for a retry or mid-send; then the states."""
    async with asyncio.timeout(within):
        while True:
            counts = await states(sessions)
            if not counts.keys() & set(outbox.CLAIMABLE):
                return counts
            await asyncio.sleep(0.1)


async def all_deliveries(sessions: SessionMaker) -> list[Delivery]:
    async with sessions() as session:
        return list((await session.exec(select(Delivery).order_by(col(Delivery.id)))).all())


async def attempts_of(sessions: SessionMaker, delivery_id: int | None) -> list[int | None]:
    async with sessions() as session:
        rows = await session.exec(
            select(DeliveryAttempt.status)
            .where(DeliveryAttempt.delivery_id == delivery_id)
            .order_by(col(DeliveryAttempt.attempt))
        )
        return list(rows.all())


@asynccontextmanager
async def sending(
    sessions: SessionMaker, settings: Settings, *, rate: float = 200.0, **options: Any
) -> AsyncIterator[Sender]:
    """A sender with the app's connector set-up; fast back-off unless a test says otherwise."""
    options = {"backoff_s": 0.2, "poll_s": 0.2, "rng": random.Random(1), **options}
    async with aiohttp.ClientSession() as http:
        sender = Sender(
            sessions=sessions, connectors=outbox_connectors(settings, http), rate=rate, **options
        )
        sender.start()
        try:
            yield sender
        finally:
            await sender.stop()


def credentialed(database_url: str) -> Settings:
    """Settings with the bot's credentials, trusting the fake connector's loopback host."""
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=database_url,
        QALOOP_APP_ID="6f1c2a9e-4b7d-4e3a-9c85-2d0f7b1e8a34",
        QALOOP_APP_PASSWORD="qaloop-test-password-7c1d",
        QALOOP_APP_TENANT_ID=TENANT,
        connector_hosts=["127.0.0.1"],
    )


@pytest.fixture
async def teams() -> AsyncIterator[FakeConnector]:
    """A fake Teams that enforces its per-conversation limits."""
    fake = FakeConnector(limits=TEAMS_LIMITS)
    await fake.start()
    yield fake
    await fake.stop()


# --- fan-out under throttling and faults --------------------------------------------------------


async def test_two_thousand_cards_through_throttling_and_faults_each_arrive_once(
    sessions: SessionMaker, settings: Settings, teams: FakeConnector
) -> None:
    # 100 conversations with 20 cards each, so Teams' 8-per-2-seconds limit binds as well.
    teams.chaos = Chaos(
        seed=4, throttle=0.10, retry_after=(1, 2), bad_gateway=0.025, gateway_timeout=0.025
    )
    await small_council(sessions)
    refs = await add_conversations(sessions, teams.service_url, 100)
    await enqueue(sessions, refs, per_conversation=20)

    # The fake connector shares the test's event loop: a full collection late in the suite
    # (CI has seen 0.8 s) holds its requests and lets them in together, which Teams' own
    # servers would not see. This measures the sender's pacing, not the collector.
    gc.collect()
    gc.disable()
    try:
        async with sending(sessions, settings, rate=200.0) as sender:
            counts = await settled(sessions, within=60)
    finally:
        gc.enable()

    # A card answered 504 twice may have arrived twice already: it is not tried a third time.
    # One refused five times over (429s, 502s, at most one 504; one request in seven here) waits
    # for `outbox retry` (the sender's max_tries): which card draws that depends on the
    # interleaving, so a run may have one.
    gave_up = [d for d in await all_deliveries(sessions) if d.state == "failed"]
    assert counts == Counter({"sent": 2000 - len(gave_up), "failed": len(gave_up)})
    assert len(gave_up) < 10
    for delivery in gave_up:
        statuses = await attempts_of(sessions, delivery.id)
        if delivery.last_error == "HTTP 504, the second time it may have arrived: not sent again":
            assert delivery.ambiguous and statuses.count(504) == 2
        else:
            assert delivery.attempts == len(statuses) == 5
            assert set(statuses) <= {429, 502, 504} and statuses.count(504) <= 1
            assert delivery.ambiguous == (504 in statuses)
            assert (delivery.last_error or "").startswith("gave up after 5 tries: HTTP ")
    arrived = deliveries(teams.requests)
    assert len(arrived) == 2000 - len(gave_up), "these 504s never delivered"
    assert set(arrived.values()) == {1}, "each card at most once"
    why = Counter(r.why for r in teams.requests)
    assert why["chaos"] > 250, "the faults really happened"
    assert why["limit"] == 0, "the sender paced each conversation itself"
    assert early_retries(teams.requests) == [], "never sooner than Retry-After"
    assert conversation_overruns(teams.requests) == {}
    # The rate is paced at the sender and counted here on arrival: allow 10 % for the jitter.
    accepted = [r.at for r in teams.requests if r.delivered]
    everything = [r.at for r in teams.requests]
    burst = 200 / 10
    assert most_in_window(accepted, 1.0) <= 200 * 1.1 + burst
    assert most_in_window(everything, 1.0) <= 1.2 * 200 * 1.1 + burst
    # One HTTP request per attempt, each in the delivery log; the 504s are counted as ambiguous.
    rows = await all_deliveries(sessions)
    assert sum(d.attempts for d in rows) == len(teams.requests) == sender.stats.requests
    async with sessions() as session:
        logged = await session.exec(select(func.count()).select_from(DeliveryAttempt))
        assert logged.one() == len(teams.requests)
        ambiguous = await outbox.ambiguous_count(session=session, tenant_id=TENANT)
    saw_504 = {r.key for r in teams.requests if r.status == 504}
    assert ambiguous == len(saw_504) > 0
    assert all(r.retry_after in (1, 2) for r in teams.requests if r.status == 429)


async def test_a_card_accepted_before_a_504_or_a_cut_connection_is_retried_and_counted_ambiguous(
    sessions: SessionMaker, settings: Settings, connector: FakeConnector
) -> None:
    await small_council(sessions)
    refs = await add_conversations(sessions, connector.service_url, 3)
    connector.after_accepting = [504, 0]  # the first two cards arrive but their answers do not
    await enqueue(sessions, refs)
    async with sending(sessions, settings):
        assert await settled(sessions) == {"sent": 3}
    arrived = deliveries(connector.requests)
    assert sorted(arrived.values()) == [1, 2, 2], "two arrived twice: nothing can prevent that"
    # Which card met which fault depends on the order the requests arrived in.
    rows = await all_deliveries(sessions)
    logs = sorted([[await attempts_of(sessions, d.id), d.ambiguous] for d in rows], key=repr)
    assert logs == [[[200], False], [[504, 200], True], [[None, 200], True]]
    async with sessions() as session:
        assert await outbox.ambiguous_count(session=session, tenant_id=TENANT) == 2


async def test_a_card_whose_retry_is_also_cut_off_after_arriving_is_not_sent_a_third_time(
    sessions: SessionMaker, settings: Settings, connector: FakeConnector
) -> None:
    await small_council(sessions)
    [ref] = await add_conversations(sessions, connector.service_url, 1)
    connector.after_accepting = [0, 0]  # it arrives, and the connection is cut; twice
    await enqueue(sessions, [ref])
    async with sending(sessions, settings):
        assert await settled(sessions) == {"failed": 1}
        await asyncio.sleep(0.5)  # time for a third try, were one coming

    assert list(deliveries(connector.requests).values()) == [2], "at most two copies"
    [delivery] = await all_deliveries(sessions)
    assert delivery.ambiguous and delivery.attempts == 2
    assert await attempts_of(sessions, delivery.id) == [None, None]
    assert delivery.last_error == (
        "connection lost mid-request (ServerDisconnectedError), "
        "the second time it may have arrived: not sent again"
    )


async def test_committing_an_enqueue_wakes_the_sender_at_once(
    sessions: SessionMaker, settings: Settings, connector: FakeConnector
) -> None:
    await small_council(sessions)
    [ref] = await add_conversations(sessions, connector.service_url, 1)
    async with sending(sessions, settings, poll_s=30.0):
        await asyncio.sleep(0.1)  # it has looked once and found nothing
        await enqueue(sessions, [ref])
        assert await settled(sessions, within=2) == {"sent": 1}, "not left for the next poll"


async def test_a_conversation_at_its_limit_waits_without_holding_up_the_others(
    sessions: SessionMaker, settings: Settings, teams: FakeConnector
) -> None:
    # A channel with 12 cards queued first, then 40 people with one card each.
    await small_council(sessions)
    [channel] = await add_conversations(sessions, teams.service_url, 1, prefix="19:channel")
    people = await add_conversations(sessions, teams.service_url, 40, prefix="a:person")
    await enqueue(sessions, [channel], per_conversation=12, tag="channel")
    await enqueue(sessions, people, tag="people")
    async with sending(sessions, settings, rate=200.0):
        assert await settled(sessions, within=10) == {"sent": 52}
    to_channel = [r.at for r in teams.requests if r.conversation_id.startswith("19:")]
    to_people = [r.at for r in teams.requests if r.conversation_id.startswith("a:person")]
    assert len(to_channel) == 12 and len(to_people) == 40
    assert max(to_people) < sorted(to_channel)[8], "nobody waited for the channel's pace"
    assert sorted(to_channel)[8] - min(to_channel) >= 1.9, "8 per 2 s"
    assert conversation_overruns(teams.requests) == {}


def test_retry_after_is_read_as_seconds_or_as_a_date() -> None:
    now = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    assert retry_after_seconds({"Retry-After": "2"}, now) == 2.0
    assert retry_after_seconds({"Retry-After": "Thu, 26 Nov 2026 09:00:30 GMT"}, now) == 30.0
    assert retry_after_seconds({"Retry-After": "soon"}, now) is None
    assert retry_after_seconds({}, now) is None


# --- what is and is not retried -----------------------------------------------------------------


async def test_each_attempt_is_exactly_one_http_request_with_no_retries_underneath(
    sessions: SessionMaker, settings: Settings, connector: FakeConnector
) -> None:
    # The in-turn sender would retry 429 and 503 itself; the outbox's must not.
    await small_council(sessions)
    [ref] = await add_conversations(sessions, connector.service_url, 1)
    connector.faults += [(503, None), (429, "1"), (412, None), (502, None)]
    await enqueue(sessions, [ref])
    started = time.monotonic()
    async with sending(sessions, settings, backoff_s=0.02):
        assert await settled(sessions) == {"sent": 1}
    [delivery] = await all_deliveries(sessions)
    assert len(connector.requests) == delivery.attempts == 5
    assert await attempts_of(sessions, delivery.id) == [503, 429, 412, 502, 200]
    assert time.monotonic() - started >= 1.0, "it waited out the Retry-After"
    assert not delivery.ambiguous and delivery.state == "sent"


async def test_it_gives_up_after_five_tries_and_says_why(
    sessions: SessionMaker, settings: Settings, connector: FakeConnector
) -> None:
    await small_council(sessions)
    [ref] = await add_conversations(sessions, connector.service_url, 1)
    connector.faults += [(503, None)] * 4 + [(502, None)] * 4
    await enqueue(sessions, [ref])
    async with sending(sessions, settings, backoff_s=0.001):
        assert await settled(sessions) == {"failed": 1}
    [delivery] = await all_deliveries(sessions)
    assert len(connector.requests) == delivery.attempts == 5
    assert delivery.last_error == "gave up after 5 tries: HTTP 502"
    assert await attempts_of(sessions, delivery.id) == [503] * 4 + [502]


@pytest.mark.parametrize("status", [400, 413, 500])
async def test_a_refusal_that_will_not_change_is_not_retried(
    status: int, sessions: SessionMaker, settings: Settings, connector: FakeConnector
) -> None:
    await small_council(sessions)
    [ref] = await add_conversations(sessions, connector.service_url, 1)
    connector.faults.append((status, None))
    await enqueue(sessions, [ref])
    async with sending(sessions, settings):
        assert await settled(sessions) == {"failed": 1}
    [delivery] = await all_deliveries(sessions)
    assert len(connector.requests) == delivery.attempts == 1
    assert (delivery.last_status, delivery.last_error) == (status, f"HTTP {status}; not retried")
    assert connector.sent == []


async def test_a_stored_reference_to_a_host_off_the_allow_list_fails_and_nothing_is_sent(
    sessions: SessionMaker, settings: Settings, connector: FakeConnector
) -> None:
    await small_council(sessions)
    [good] = await add_conversations(sessions, connector.service_url, 1)
    [evil] = await add_conversations(sessions, "https://evil.example/", 1, prefix="a:evil")
    await enqueue(sessions, [good, evil])
    async with sending(sessions, settings):
        assert await settled(sessions) == {"sent": 1, "failed": 1}
    failed = next(d for d in await all_deliveries(sessions) if d.state == "failed")
    assert failed.conversation_ref_id == evil and failed.attempts == 1
    assert failed.last_error == "connector host 'evil.example' is not on the allow-list"
    assert {r.conversation_id for r in connector.requests} == {"a:chat-0"}


async def test_with_credentials_a_host_off_the_allow_list_is_refused_before_any_token_is_asked(
    sessions: SessionMaker,
    database_url: str,
    connector: FakeConnector,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked: list[str] = []

    def token(self: MicrosoftAppCredentials, force_refresh: bool = False) -> str:
        asked.append(self.oauth_scope)
        return "outbound-bot-token"

    monkeypatch.setattr(MicrosoftAppCredentials, "get_access_token", token)
    settings = credentialed(database_url)
    await small_council(sessions)
    [evil] = await add_conversations(sessions, "https://evil.example/", 1, prefix="a:evil")
    await enqueue(sessions, [evil])
    async with sending(sessions, settings):
        assert await settled(sessions) == {"failed": 1}

    assert asked == [], "no token was asked for on its behalf"
    [failed] = await all_deliveries(sessions)
    assert (failed.attempts, failed.ambiguous) == (1, False)
    assert failed.last_error == "connector host 'evil.example' is not on the allow-list"
    assert connector.requests == []


async def test_qaloop_outbox_retry_sends_again_what_surely_never_arrived_and_only_once(
    sessions: SessionMaker,
    settings: Settings,
    connector: FakeConnector,
    database_url: str,
    tmp_path: Path,
) -> None:
    await small_council(sessions)
    refs = await add_conversations(sessions, connector.service_url, 4)
    connector.faults += [(413, None), (413, None)]  # too large, say, until they are mended
    await enqueue(sessions, refs[:3])
    async with sending(sessions, settings):
        assert await settled(sessions) == {"sent": 1, "failed": 2}
    # A fourth gave up after answers that may have meant it arrived: never sent twice.
    await enqueue(sessions, refs[3:], tag="-504")
    async with transaction(sessions) as session:
        [maybe] = (await session.exec(select(Delivery).where(Delivery.state == "pending"))).all()
        maybe.state, maybe.ambiguous, maybe.last_error = "failed", True, "gave up: HTTP 504"
        session.add(maybe)
    failed = [d.id for d in await all_deliveries(sessions) if d.state == "failed"]
    today = datetime.now(settings.zone).date().isoformat()
    base = ("--tenant", TENANT)

    seen = await qaloop(database_url, tmp_path, "outbox", "status", *base)
    retried = await qaloop(
        database_url, tmp_path, "outbox", "retry", "--failed-since", today, *base
    )
    async with sending(sessions, settings):
        assert await settled(sessions) == {"sent": 3, "failed": 1}
    again = await qaloop(database_url, tmp_path, "outbox", "retry", str(failed[0]), *base)

    assert seen.code == 0, seen.err
    assert "1 sent, 3 failed; 1 ambiguous" in seen.said
    assert seen.said.count("HTTP 413; not retried") == 2
    assert PREVIEW not in seen.said and "Card " not in seen.said  # no message content
    assert retried.code == 0, retried.err
    assert f"Queued again: #{failed[0]}, #{failed[1]}." in retried.said
    assert f"#{failed[2]} not queued: it may have arrived" in retried.said
    assert sorted(deliveries(connector.requests).values()) == [1, 1, 1], "each card once"
    assert again.code == 1 and f"#{failed[0]} not queued: it was sent." in again.said
    async with sessions() as session:
        logged = (
            await session.exec(select(AuditLog).where(AuditLog.event == "delivery.requeued"))
        ).all()
    assert sorted(int(r.entity_id or 0) for r in logged) == failed[:2]
    assert all(r.before and r.before["last_status"] == 413 for r in logged)


async def test_a_send_that_never_got_the_bots_token_is_not_ambiguous_so_outbox_retry_sends_it(
    sessions: SessionMaker,
    database_url: str,
    connector: FakeConnector,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An Entra outage: the token request fails, so no request left for Teams."""
    entra_down = True

    def token(self: MicrosoftAppCredentials, force_refresh: bool = False) -> str:
        if entra_down:
            raise requests.exceptions.ConnectionError("login.microsoftonline.com unreachable")
        return "outbound-bot-token"

    # MSAL would ask login.microsoftonline.com: the edge, faked as test_security does.
    monkeypatch.setattr(MicrosoftAppCredentials, "get_access_token", token)
    settings = credentialed(database_url)
    await small_council(sessions)
    [ref] = await add_conversations(sessions, connector.service_url, 1)
    await enqueue(sessions, [ref])
    async with sending(sessions, settings, max_tries=2, backoff_s=0.001):
        assert await settled(sessions) == {"failed": 1}
    [delivery] = await all_deliveries(sessions)
    assert connector.requests == []
    assert not delivery.ambiguous, delivery.last_error
    assert delivery.last_error == "gave up after 2 tries: no token for the bot (ConnectionError)"

    entra_down = False
    retried = await qaloop(
        database_url, tmp_path, "outbox", "retry", str(delivery.id), "--tenant", TENANT
    )
    assert retried.code == 0, retried.err
    async with sending(sessions, settings):
        assert await settled(sessions) == {"sent": 1}

    assert f"Queued again: #{delivery.id}." in retried.said
    assert list(deliveries(connector.requests).values()) == [1]


async def test_nothing_is_queued_again_for_someone_still_unreachable(
    sessions: SessionMaker, connector: FakeConnector
) -> None:
    council = await small_council(sessions)
    alex = council.staff["alex"]
    [ref] = await add_conversations(sessions, connector.service_url, 1)
    await enqueue(sessions, [ref], recipient=alex.id)
    async with transaction(sessions) as session:
        [delivery] = (await session.exec(select(Delivery))).all()
        delivery.state, delivery.last_status = "failed", 403
        session.add(delivery)
        person = await session.get(Staff, alex.id)
        assert person is not None
        person.reachable = False
        session.add(person)

    async with transaction(sessions) as session:
        done = await outbox.requeue_failed(
            session=session, tenant_id=TENANT, ids=[delivery.id or 0, 999], now=datetime.now(UTC)
        )

    assert done.ids == []
    assert done.refused == [
        (delivery.id, "Alex Wilber is still unreachable: they need to message the bot first"),
        (999, "no such delivery"),
    ]
    assert await states(sessions) == {"failed": 1}


# --- people who can no longer be reached --------------------------------------------------------


async def test_403_and_404_mark_people_unreachable_until_they_message_the_bot(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await small_council(sessions)
    alex, megan = council.staff["alex"], council.staff["megan"]
    # They have talked to the bot before, so their 1:1 chats are known.
    await chat.say("help", who=ALEX)
    await chat.say("help", who=MEGAN)
    refs = {}
    async with sessions() as session:
        for person in (alex, megan):
            assert person.id is not None
            ref = await conversations.personal_reference(
                session=session, tenant_id=TENANT, staff_id=person.id
            )
            assert ref is not None and ref.id is not None
            refs[person.id] = ref
    chat.connector.requests.clear()
    # Alex blocked the app (403); Megan's chat is gone (404).
    chat.connector.unreachable = {
        refs[alex.id or 0].conversation_id: 403,
        refs[megan.id or 0].conversation_id: 404,
    }

    async def daily_card(person: Staff, day: str) -> None:
        async with transaction(sessions) as session:
            await outbox.enqueue(
                session,
                tenant_id=TENANT,
                dedupe_key=f"my_qa:{person.id}:{day}",
                kind="my_qa",
                conversation_ref_id=refs[person.id or 0].id or 0,
                summary=PREVIEW,
                card=card(person.id or 0),
                recipient_staff_id=person.id,
            )

    await daily_card(alex, "2026-11-26")
    await daily_card(megan, "2026-11-26")
    assert await settled(sessions, within=5) == {"failed": 2}
    assert sorted(r.status for r in chat.connector.requests) == [403, 404], "tried once, no retry"
    async with sessions() as session:
        gone = await outbox.unreachable(session=session, tenant_id=TENANT)
        assert {p.display_name for p in gone} == {ALEX.name, MEGAN.name}
        assert all(p.unreachable_since is not None for p in gone)
        logged = await session.exec(select(AuditLog).where(AuditLog.event == "staff.unreachable"))
        assert sorted(row.entity_id or "" for row in logged.all()) == sorted(
            [str(alex.id), str(megan.id)]
        )

    # Next day's card for Alex is not even attempted.
    await daily_card(alex, "2026-11-27")
    assert await settled(sessions, within=5) == {"failed": 3}
    assert len(chat.connector.requests) == 2
    skipped = (await all_deliveries(sessions))[-1]
    assert (skipped.attempts, skipped.last_error) == (0, "recipient unreachable; not sent")

    # Alex unblocks the app and says hello: reachable again, and the next card goes out.
    chat.connector.unreachable.clear()
    await chat.say("help", who=ALEX)
    await daily_card(alex, "2026-11-30")
    assert await settled(sessions, within=5) == {"failed": 3, "sent": 1}
    async with sessions() as session:
        gone = await outbox.unreachable(session=session, tenant_id=TENANT)
        assert [p.display_name for p in gone] == [MEGAN.name]
    last = chat.connector.sent[-1]
    assert last.body["summary"] == PREVIEW and last.cards == [card(alex.id or 0)]


async def test_a_404_on_an_update_does_not_mark_the_person_unreachable(
    sessions: SessionMaker, settings: Settings, connector: FakeConnector
) -> None:
    # The old card may simply have been deleted; tomorrow's card must still go.
    council = await small_council(sessions)
    [ref] = await add_conversations(sessions, connector.service_url, 1)
    connector.faults.append((404, None))
    await enqueue(sessions, [ref], recipient=council.staff["alex"].id, replaces="activity-9")
    async with sending(sessions, settings):
        assert await settled(sessions) == {"failed": 1}
    async with sessions() as session:
        assert await outbox.unreachable(session=session, tenant_id=TENANT) == []


# --- updates and what was sent ------------------------------------------------------------------


async def test_cards_are_recorded_per_subject_and_updates_replace_them_in_place(
    sessions: SessionMaker, settings: Settings, connector: FakeConnector
) -> None:
    await small_council(sessions)
    [ref] = await add_conversations(sessions, connector.service_url, 1)
    async with sending(sessions, settings):
        await enqueue(sessions, [ref], subjects=["action:1", "action:2"])
        assert await settled(sessions) == {"sent": 1}
        [posted] = connector.sent
        assert (posted.method, posted.path) == ("POST", "/v3/conversations/a:chat-0/activities")
        assert posted.body["summary"] == PREVIEW and posted.body["type"] == "message"
        [first] = await all_deliveries(sessions)
        assert first.activity_id == "activity-1" and first.sent_at is not None

        await enqueue(
            sessions, [ref], subjects=["action:2", "action:3"], replaces="activity-1", tag="u"
        )
        assert await settled(sessions) == {"sent": 2}
    updated = connector.sent[-1]
    assert (updated.method, updated.path) == (
        "PUT",
        "/v3/conversations/a:chat-0/activities/activity-1",
    )
    assert updated.body["id"] == "activity-1"
    async with sessions() as session:
        shown = await session.exec(select(SentCard.subject, SentCard.activity_id, SentCard.kind))
        assert sorted(shown.all()) == [
            ("action:1", "activity-1", "my_qa"),
            ("action:2", "activity-1", "my_qa"),
            ("action:3", "activity-1", "my_qa"),
        ]
        cards = await outbox.cards_showing(session, tenant_id=TENANT, subject="action:2")
        assert [(c.activity_id, r.conversation_id) for c, r in cards] == [
            ("activity-1", "a:chat-0")
        ]


# --- crashes, replicas and the SQLite rule ------------------------------------------------------


async def test_a_delivery_left_mid_send_by_a_dead_sender_is_retried_and_marked_ambiguous(
    sessions: SessionMaker, settings: Settings, connector: FakeConnector
) -> None:
    await small_council(sessions)
    refs = await add_conversations(sessions, connector.service_url, 2)
    await enqueue(sessions, refs)
    async with transaction(sessions) as session:
        first = (await session.exec(select(Delivery).order_by(col(Delivery.id)))).first()
        assert first is not None
        first.state, first.attempts, first.lease_owner = "sending", 1, "dead-replica"
        first.lease_until = first.created_at  # long expired
        session.add(first)
    # Not the sole sender (as on PostgreSQL): it takes the row only because the lease ran out.
    async with sending(sessions, settings, sole=False):
        assert await settled(sessions) == {"sent": 2}
    rows = await all_deliveries(sessions)
    assert [(d.attempts, d.ambiguous) for d in rows] == [(2, True), (1, False)]
    assert await attempts_of(sessions, rows[0].id) == [None, 200]


async def test_a_live_lease_of_another_replica_is_left_alone(
    sessions: SessionMaker, settings: Settings, connector: FakeConnector
) -> None:
    await small_council(sessions)
    refs = await add_conversations(sessions, connector.service_url, 1)
    await enqueue(sessions, refs)
    async with transaction(sessions) as session:
        row = (await session.exec(select(Delivery))).one()
        row.lease_owner = "other-replica"
        row.lease_until = row.created_at.replace(year=row.created_at.year + 1)
        session.add(row)
    async with sending(sessions, settings, sole=False):
        await asyncio.sleep(0.5)
    assert connector.requests == []
    assert (await all_deliveries(sessions))[0].state == "pending"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _serve(db_url: str, log: Path) -> asyncio.subprocess.Process:
    """`qaloop serve` as an operator runs it (its sender at the fastest allowed rate)."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "QALOOP_DATABASE_URL": db_url,
        "QALOOP_SEND_RATE": "50",
    }
    with log.open("ab") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "serve", "--port", str(_free_port()),
            cwd=log.parent, env=env, stdout=out, stderr=out,
        )  # fmt: skip


async def test_a_sender_killed_mid_fan_out_resumes_on_restart_without_duplicates(
    tmp_path: Path, teams: FakeConnector
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'crash.db'}"
    await asyncio.to_thread(upgrade, url)
    engine = make_engine(url)
    sessions = make_sessions(engine)
    try:
        await small_council(sessions)
        refs = await add_conversations(sessions, teams.service_url, 500)
        await enqueue(sessions, refs)
        log = tmp_path / "serve.log"

        first = await _serve(url, log)
        await teams.wait_for(200, within=30)  # ~40 %
        first.send_signal(signal.SIGKILL)
        await first.wait()
        at_kill = len(deliveries(teams.requests))
        assert 200 <= at_kill < 500, log.read_text()[-2000:]

        second = await _serve(url, log)
        try:
            assert await settled(sessions, within=40) == {"sent": 500}, log.read_text()[-2000:]
        finally:
            second.send_signal(signal.SIGTERM)
            await second.wait()

        arrived = deliveries(teams.requests)
        assert len(arrived) == 500, "nothing lost"
        twice = {key for key, n in arrived.items() if n > 1}
        rows = await all_deliveries(sessions)
        ambiguous = [d for d in rows if d.ambiguous]
        assert len(twice) <= len(ambiguous) <= 64, "only deliveries in flight at the kill"
        assert max(arrived.values()) <= 2
    finally:
        await engine.dispose()


async def test_two_replicas_drain_one_postgresql_outbox_without_duplicates(
    backend: str, database_url: str, settings: Settings, teams: FakeConnector
) -> None:
    if backend != "postgres":
        pytest.skip("several replicas share an outbox only on PostgreSQL (FOR UPDATE SKIP LOCKED)")
    teams.chaos = Chaos(seed=9, throttle=0.05, retry_after=(1, 1), bad_gateway=0.02)
    engines = [make_engine(database_url), make_engine(database_url)]
    one, two = (make_sessions(e) for e in engines)
    try:
        await small_council(one)
        refs = await add_conversations(one, teams.service_url, 200)
        await enqueue(one, refs, per_conversation=4)
        async with (
            sending(one, settings, rate=100.0, sole=False) as a,
            sending(two, settings, rate=100.0, sole=False) as b,
        ):
            assert await settled(one, within=60) == {"sent": 800}
        arrived = deliveries(teams.requests)
        assert len(arrived) == 800 and set(arrived.values()) == {1}
        assert a.stats.sent > 100 and b.stats.sent > 100, "both replicas did their share"
        assert a.stats.sent + b.stats.sent == 800
    finally:
        for engine in engines:
            await engine.dispose()


async def test_a_second_app_on_the_same_sqlite_file_refuses_to_start(
    backend: str, settings: Settings
) -> None:
    if backend != "sqlite":
        pytest.skip("the one-replica rule is SQLite's")
    first = TestServer(create_app(settings), host="127.0.0.1")
    await first.start_server()
    try:
        second = TestServer(create_app(settings), host="127.0.0.1")
        with pytest.raises(SecondSender, match="SQLite allows one replica"):
            await second.start_server()
        await second.close()
    finally:
        await first.close()
    # Once the first has stopped, the lock is free again.
    with sole_sender_lock(settings.database_url):
        pass


# --- pacing, without waiting --------------------------------------------------------------------


def test_the_pacer_keeps_every_teams_window_for_one_busy_conversation() -> None:
    pacer = ConversationPacer(margin=0.0)
    now, times = 0.0, []
    for _ in range(2000):
        now += pacer.wait(1, now)
        pacer.record(1, now)
        times.append(now)
    for n, seconds in TEAMS_CONVERSATION_LIMITS:
        assert most_in_window(times, seconds) <= n
    assert most_in_window(times, 3600.0) == 1800
    assert pacer.wait(2, now) == 0.0, "other conversations are not held up"


def test_a_429_holds_the_conversation_back_until_its_retry_after() -> None:
    pacer = ConversationPacer()
    pacer.block(5, until=12.5)
    assert pacer.wait(5, 10.0) == 2.5 and pacer.wait(6, 10.0) == 0.0
    assert pacer.blocked(10.0, longer_than=1.0) == [5]


def test_the_token_bucket_gives_its_rate_after_a_small_burst() -> None:
    bucket = TokenBucket(rate=25.0, burst=2.5, now=0.0)
    now, sent = 0.0, []
    while now < 10.0:
        wait = bucket.wait(now)
        if wait:
            now += wait
            continue
        bucket.take(now)
        sent.append(now)
    assert most_in_window(sent, 1.0) <= 25 + 2.5
    assert 25 * 10 <= len(sent) <= 25 * 10 + 3
