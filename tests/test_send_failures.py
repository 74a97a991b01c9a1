"""Sends that fail and keep failing (issue 16 items 8 and 9): a refused token is renewed once, a
send that keeps failing stops after five jittered tries and waits for `qaloop outbox retry`, and
what was given up on reaches QA and admins as a daily card of counts, not only a log line."""

from __future__ import annotations

import itertools
import random
from collections import Counter
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from botframework.connector.auth import MicrosoftAppCredentials
from sqlalchemy import bindparam, text
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.features import CATALOGUE
from bot.settings import Settings
from jobs.runs import run_job
from storage import outbox, reminders
from storage.db import SessionMaker, transaction
from storage.models import ConversationRef, Delivery, Staff, Tenant, UTCDateTime
from tests.chat import ALEX, MEGAN, NESTOR, PATTI, TENANT, Chat
from tests.fake_connector import FakeConnector, deliveries
from tests.helpers import NOW, council_with_everyone, everyone_has_talked_to_the_bot, qaloop
from tests.helpers import small_council as a_council
from tests.test_delivery import (
    PREVIEW,
    add_conversations,
    all_deliveries,
    attempts_of,
    card,
    credentialed,
    enqueue,
    sending,
    settled,
)

pytestmark = pytest.mark.clock(NOW)  # Thu 26 Nov 2026, 10:02 in London

LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def entra(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Entra, faked at the edge as test_security does: each MSAL application (a credentials
    object's `app`, where MSAL caches the token) gets a new token, token-1, token-2…; the list
    is every token issued."""
    issued: list[str] = []

    def token(self: MicrosoftAppCredentials, force_refresh: bool = False) -> str:
        if self.app is None:
            issued.append(f"token-{len(issued) + 1}")
            self.app = issued[-1]
        return str(self.app)

    monkeypatch.setattr(MicrosoftAppCredentials, "get_access_token", token)
    return issued


# --- item 8: a refused token ---------------------------------------------------------------------


async def test_a_revoked_token_is_renewed_once_and_every_card_goes_on_its_second_try(
    sessions: SessionMaker, database_url: str, connector: FakeConnector, entra: list[str]
) -> None:
    await a_council(sessions)
    refs = await add_conversations(sessions, connector.service_url, 3)
    connector.revoked_tokens = {"token-1"}  # rotated in Entra while the bot still held it
    await enqueue(sessions, refs)

    async with sending(sessions, credentialed(database_url)) as sender:
        assert await settled(sessions) == {"sent": 3}

    assert entra == ["token-1", "token-2"], "one renewal, however many cards met the 401"
    for delivery in await all_deliveries(sessions):
        assert await attempts_of(sessions, delivery.id) == [401, 200]
        assert not delivery.ambiguous
    assert Counter(r.token for r in connector.requests) == {"token-1": 3, "token-2": 3}
    assert sorted(deliveries(connector.requests).values()) == [1, 1, 1]
    assert sender.stats.token_refused == 0


async def test_a_token_refused_again_after_renewal_stops_the_send_without_a_third_request(
    sessions: SessionMaker, database_url: str, connector: FakeConnector, entra: list[str]
) -> None:
    await a_council(sessions)
    [ref] = await add_conversations(sessions, connector.service_url, 1)
    connector.revoked_tokens = {"token-1", "token-2", "token-3"}  # the secret itself is wrong
    await enqueue(sessions, [ref])

    async with sending(sessions, credentialed(database_url)) as sender:
        assert await settled(sessions) == {"failed": 1}

    [delivery] = await all_deliveries(sessions)
    assert [r.status for r in connector.requests] == [401, 401]
    assert [r.token for r in connector.requests] == ["token-1", "token-2"]
    assert await attempts_of(sessions, delivery.id) == [401, 401]
    assert not delivery.ambiguous, "refused, so it surely never arrived"
    assert delivery.failed_at is not None
    assert delivery.last_error == (
        "HTTP 401 again with a fresh token: the bot's credentials are refused"
    )
    assert sender.stats.token_refused == 1


async def test_without_credentials_a_401_is_tried_once_more_then_given_up(
    sessions: SessionMaker, settings: Settings, connector: FakeConnector
) -> None:
    await a_council(sessions)
    [ref] = await add_conversations(sessions, connector.service_url, 1)
    connector.faults += [(401, None)] * 3
    await enqueue(sessions, [ref])

    async with sending(sessions, settings):
        assert await settled(sessions) == {"failed": 1}

    [delivery] = await all_deliveries(sessions)
    assert len(connector.requests) == delivery.attempts == 2
    assert delivery.last_status == 401 and not delivery.ambiguous


# --- item 9: five tries with jitter, then `qaloop outbox retry` ----------------------------------


async def test_a_permanently_failing_502_is_tried_five_times_with_jitter_then_waits_for_a_retry(
    sessions: SessionMaker,
    settings: Settings,
    connector: FakeConnector,
    database_url: str,
    tmp_path: Path,
) -> None:
    await a_council(sessions)
    refs = await add_conversations(sessions, connector.service_url, 2)
    connector.faults += [(502, None)] * 10  # two cards, five tries each: every one refused
    await enqueue(sessions, refs)

    async with sending(sessions, settings, backoff_s=0.1, rng=random.Random(7)):
        assert await settled(sessions) == {"failed": 2}

    rows = await all_deliveries(sessions)
    assert [d.attempts for d in rows] == [5, 5] and len(connector.requests) == 10
    assert all(d.last_error == "gave up after 5 tries: HTTP 502" for d in rows)
    # Backing off, each wait within [ceiling / 2, ceiling] of 0.1 s × 2^(try - 1); jitter keeps
    # the two cards from retrying in step.
    times: dict[str, list[float]] = {}
    for request in connector.requests:
        times.setdefault(request.conversation_id, []).append(request.at)
    gaps = {cid: [b - a for a, b in itertools.pairwise(ts)] for cid, ts in times.items()}
    for waits in gaps.values():
        for n, wait in enumerate(waits):
            ceiling = 0.1 * 2**n
            assert ceiling / 2 - 0.02 <= wait <= ceiling + 0.3, waits
    one, two = gaps.values()
    assert max(abs(a - b) for a, b in zip(one, two, strict=True)) > 0.01, "not in lockstep"

    today = datetime.now(settings.zone).date().isoformat()
    retried = await qaloop(
        database_url, tmp_path, "outbox", "retry", "--failed-since", today, "--tenant", TENANT
    )
    assert retried.code == 0, retried.err
    async with sending(sessions, settings):
        assert await settled(sessions) == {"sent": 2}
    assert sorted(deliveries(connector.requests).values()) == [1, 1]


# --- item 9: the daily alert to QA and admins ---------------------------------------------------


def alert_time_covering(moment: datetime) -> datetime:
    """A run of the alert whose day (from yesterday's 08:00 to today's) holds `moment`."""
    local = moment.astimezone(LONDON)
    day = local.date() + timedelta(days=1 if local.time() >= time(8, 0) else 0)
    return datetime.combine(day, time(9, 0), tzinfo=LONDON)


async def run_alert(sessions: SessionMaker, settings: Settings, now: datetime) -> int:
    [outcome] = await run_job(
        CATALOGUE.jobs["delivery_alert"], sessions=sessions, settings=settings, now=now
    )
    return outcome.queued


async def test_dead_letters_unreachable_people_and_refused_tokens_reach_qa_and_admins_once_a_day(
    chat: Chat, sessions: SessionMaker, settings: Settings
) -> None:
    council = await council_with_everyone(sessions)
    async with transaction(sessions) as session:
        nestor = await session.get(Staff, council.staff[NESTOR.key].id)
        assert nestor is not None
        nestor.roles = "practitioner admin"
        session.add(nestor)
    await everyone_has_talked_to_the_bot(chat)
    async with sessions() as session:
        chats = await reminders.personal_chats(session=session, tenant_id=TENANT)
    alex_id, megan_id = council.staff["alex"].id or 0, council.staff["megan"].id or 0

    chat.connector.requests.clear()
    sent_before = len(chat.connector.sent)

    async def daily_card(person_id: int, key: str) -> None:
        async with transaction(sessions) as session:
            await outbox.enqueue(
                session,
                tenant_id=TENANT,
                dedupe_key=key,
                kind="my_qa",
                conversation_ref_id=chats[person_id].conversation_ref_id,
                summary=PREVIEW,
                card=card(person_id),
                recipient_staff_id=person_id,
            )

    # Alex blocked the app (403); a card to Megan is refused for good (413), and another twice
    # for the bot's token (401, then 401 with a fresh one).
    chat.connector.unreachable = {chats[alex_id].conversation_id: 403}
    await daily_card(alex_id, "my_qa:alex")
    assert await settled(sessions, within=10) == {"failed": 1}
    chat.connector.faults += [(413, None)]
    await daily_card(megan_id, "my_qa:megan:1")
    assert await settled(sessions, within=10) == {"failed": 2}
    chat.connector.faults += [(401, None), (401, None)]
    await daily_card(megan_id, "my_qa:megan:2")
    assert await settled(sessions, within=10) == {"failed": 3}
    assert len(chat.connector.sent) == sent_before

    when = alert_time_covering(datetime.now(UTC))
    assert await run_alert(sessions, settings, when) == 2, "Patti (QA) and Nestor (admin)"
    arrived = await chat.connector.wait_for(sent_before + 2)
    alerts = {s.conversation_id: s for s in arrived[sent_before:]}
    assert set(alerts) == {f"a:personal-{PATTI.teams_id}", f"a:personal-{NESTOR.teams_id}"}
    for sent in alerts.values():
        assert sent.body["summary"] == "Some QA Loop messages could not be delivered"
        [shown] = sent.cards
        words = " ".join(b.get("text", "") for b in shown["body"])
        assert "3 messages given up on since yesterday's alert" in words
        assert "1 message was refused because Teams did not accept QA Loop's credentials" in words
        assert "1 person removed or blocked QA Loop" in words
        # Counts only: nobody's name, no case, nothing of the cards that failed.
        assert ALEX.name not in str(shown) and MEGAN.name not in str(shown)
        assert "Card " not in str(shown) and "C-" not in str(shown)
    qa_card = alerts[f"a:personal-{PATTI.teams_id}"].cards[0]
    admin_card = alerts[f"a:personal-{NESTOR.teams_id}"].cards[0]
    assert [a["title"] for a in qa_card["actions"]] == ["Show people I can't reach"]
    assert "actions" not in admin_card, "`unreachable` is for QA"

    # Once a day: the same day's run (a second replica, or the catch-up) sends nothing more.
    assert await run_alert(sessions, settings, when + timedelta(hours=2)) == 0
    # The next day nothing failed: nothing is sent.
    assert await run_alert(sessions, settings, when + timedelta(days=1)) == 0
    assert await settled(sessions) == {"sent": 2, "failed": 3}


async def test_a_day_without_trouble_sends_no_alert(
    chat: Chat, sessions: SessionMaker, settings: Settings
) -> None:
    await council_with_everyone(sessions)
    await everyone_has_talked_to_the_bot(chat)
    assert await run_alert(sessions, settings, alert_time_covering(datetime.now(UTC))) == 0
    async with sessions() as session:
        assert (await session.exec(select(Delivery))).all() == []


# --- the alert's figures are plain counts over the tables --------------------------------------

SINCE = datetime(2026, 11, 25, 8, 0, tzinfo=LONDON)
UNTIL = datetime(2026, 11, 26, 8, 0, tzinfo=LONDON)


async def test_the_alert_counts_equal_plain_sql_counts_on_awkward_data(
    sessions: SessionMaker,
) -> None:
    other = "00000000-0000-0000-0000-00000000other"
    council = await a_council(sessions)
    await a_council(sessions, tenant_id=other)
    rng = random.Random(16)
    moments = [
        SINCE,  # counted: the window starts here
        UNTIL,  # not counted: the next day's
        SINCE - timedelta(microseconds=1),
        UNTIL - timedelta(microseconds=1),
        datetime(2026, 11, 25, 23, 59, tzinfo=UTC),
        None,
    ]
    async with transaction(sessions) as session:
        tenants = [TENANT, other]
        refs = {t: await add_conversations_in(session, t) for t in tenants}
        for n in range(300):
            tenant = rng.choice(tenants)
            at = rng.choice(moments)
            session.add(
                Delivery(
                    tenant_id=tenant,
                    dedupe_key=f"k{n}",
                    kind="my_qa",
                    conversation_ref_id=refs[tenant],
                    summary=PREVIEW,
                    card={},
                    state=rng.choice(["failed", "failed", "sent", "pending", "retry"]),
                    last_status=rng.choice([None, 401, 403, 413, 502]),
                    failed_at=at,
                )
            )
        for n in range(40):
            tenant = rng.choice(tenants)
            session.add(
                Staff(
                    tenant_id=tenant,
                    email=f"s{n}@example.com",
                    display_name=f"Someone {n}",
                    active=rng.random() < 0.8,
                    reachable=rng.random() < 0.3,
                    unreachable_since=rng.choice(moments),
                )
            )
    failed = (
        "SELECT count(*) FROM delivery WHERE tenant_id = :t AND state = 'failed' "
        "AND failed_at >= :since AND failed_at < :until"
    )
    gone = (
        "SELECT count(*) FROM staff WHERE tenant_id = :t AND active AND NOT reachable "
        "AND unreachable_since >= :since AND unreachable_since < :until"
    )

    async def count(sql: str) -> int:
        statement = text(sql).bindparams(
            bindparam("t", TENANT),
            bindparam("since", SINCE, type_=UTCDateTime),
            bindparam("until", UNTIL, type_=UTCDateTime),
        )
        async with sessions() as session:
            return int((await (await session.connection()).execute(statement)).scalar_one())

    async with sessions() as session:
        got = await outbox.trouble(session=session, tenant_id=TENANT, since=SINCE, until=UNTIL)
    dead, refused = await count(failed), await count(failed + " AND last_status = 401")
    unreachable = await count(gone)
    assert (got.dead_letters, got.token_refused, got.unreachable) == (dead, refused, unreachable)
    assert dead > 0 and refused > 0 and unreachable > 0, "the data exercised every count"
    assert council.tenant_id == TENANT


async def add_conversations_in(session: AsyncSession, tenant_id: str) -> int:
    assert await session.get(Tenant, tenant_id) is not None
    ref = ConversationRef(
        tenant_id=tenant_id,
        conversation_id=f"19:channel-{tenant_id[-5:]}",
        conversation_type="channel",
        service_url="http://127.0.0.1/",
        reference={},
    )
    session.add(ref)
    await session.flush()
    assert ref.id is not None
    return ref.id
