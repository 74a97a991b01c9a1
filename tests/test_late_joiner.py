"""Someone whose chat with the bot begins after the morning's `reminders` run gets today's card
then, once; before the run, or with nothing due, nothing comes early."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.features import CATALOGUE
from bot.settings import Settings
from cards.names import CardKind
from jobs import escalation as escalation_job
from jobs import reminders
from jobs.runs import run_job
from storage import conversations
from storage.db import SessionMaker, transaction
from tests.chat import ALEX, MEGAN, NESTOR, TENANT, Chat, card_text
from tests.helpers import NOW, TODAY, Clock, add_action, council_with_everyone, queued

JOBS = CATALOGUE.jobs

pytestmark = pytest.mark.clock(NOW)  # Thu 26 Nov 2026, 10:02 in London


LONDON = ZoneInfo("Europe/London")


def at(hour: int, minute: int = 0) -> datetime:
    return datetime.combine(TODAY, datetime.min.time(), tzinfo=LONDON).replace(
        hour=hour, minute=minute
    )


async def test_a_chat_begun_after_the_morning_run_gets_today_s_card_once(
    chat: Chat, sessions: SessionMaker, settings: Settings, clock: Clock
) -> None:
    council = await council_with_everyone(sessions)
    overdue = TODAY - timedelta(days=7)
    await add_action(sessions, council, owner="alex", what="Update the plan", due_on=overdue)
    await add_action(
        sessions, council, owner="nestor", what="Chase the school", due_on=overdue, case_index=1
    )

    # Nestor opens the chat before the morning's run: nothing early; the run includes him.
    clock.now = at(8, 30)
    await chat.say("hello", who=NESTOR)
    assert await queued(sessions, CardKind.MY_QA) == []
    [ran] = await run_job(
        JOBS["reminders"],
        sessions=sessions,
        settings=settings,
        now=at(9),
        tenant_ids=[council.tenant_id],
    )
    assert ran.state == "ran"
    [for_nestor] = await queued(sessions, CardKind.MY_QA)
    assert for_nestor.recipient_staff_id == council.staff["nestor"].id

    # Alex opens it at 10:02, after the run: his card comes now, with the morning's key.
    clock.now = at(10, 2)
    await chat.say("hello", who=ALEX)
    alex_id = council.staff["alex"].id
    cards = [d for d in await queued(sessions, CardKind.MY_QA) if d.recipient_staff_id == alex_id]
    assert [d.dedupe_key for d in cards] == [reminders.dedupe_key(alex_id or 0, TODAY)]
    assert "Update the plan" in card_text(cards[0].card)
    assert cards[0].summary == "You have 1 QA item today"

    # Only once: more turns queue nothing more.
    await chat.say("my actions", who=ALEX)
    await chat.say("hello", who=NESTOR)
    # Megan has nothing due: no card for her.
    await chat.say("hello", who=MEGAN)
    assert len(await queued(sessions, CardKind.MY_QA)) == 2


async def test_a_manager_who_opens_the_chat_after_the_run_gets_the_day_s_escalation_once(
    chat: Chat, sessions: SessionMaker, settings: Settings, clock: Clock
) -> None:
    """Megan had no chat at 09:00, so the run could not escalate Alex's long-overdue action to
    her; when she opens QA Loop that day she gets it, once."""
    council = await council_with_everyone(sessions)
    long_overdue = TODAY - timedelta(days=14)
    await add_action(sessions, council, owner="alex", what="Update the plan", due_on=long_overdue)
    clock.now = at(8, 30)
    await chat.say("hello", who=ALEX)
    await run_job(
        JOBS["reminders"], sessions=sessions, settings=settings, now=at(9), tenant_ids=[TENANT]
    )
    assert await queued(sessions, CardKind.ESCALATION) == []

    clock.now = at(11)
    await chat.say("hello", who=MEGAN)
    await chat.say("my actions", who=MEGAN)
    [escalation] = await queued(sessions, CardKind.ESCALATION)
    megan_id = council.staff["megan"].id or 0
    assert escalation.recipient_staff_id == megan_id
    assert escalation.dedupe_key == escalation_job.dedupe_key(megan_id, TODAY)
    assert "Update the plan" in card_text(escalation.card)


async def test_run_job_for_new_recipients_completes_a_run_for_those_it_missed(
    chat: Chat, sessions: SessionMaker, settings: Settings, clock: Clock
) -> None:
    """Nestor could not be reached at 09:00; sync-roster reaches him at 10:00 (no turn of his).
    Completing the run sends his card and nobody else's again; completing it again sends nothing."""
    council = await council_with_everyone(sessions)
    overdue = TODAY - timedelta(days=2)
    for owner, index in (("alex", 0), ("nestor", 1)):
        await add_action(
            sessions, council, owner=owner, what="Chase", due_on=overdue, case_index=index
        )
    clock.now = at(8, 30)
    await chat.say("hello", who=ALEX)
    job = JOBS["reminders"]
    [ran] = await run_job(job, sessions=sessions, settings=settings, now=at(9), tenant_ids=[TENANT])
    assert (ran.state, ran.queued) == ("ran", 1)
    [again] = await run_job(
        job, sessions=sessions, settings=settings, now=at(10), tenant_ids=[TENANT]
    )
    assert again.state == "taken"

    nestor = council.staff["nestor"]
    async with transaction(sessions) as session:
        await conversations.save_reference(
            session=session,
            tenant_id=TENANT,
            conversation_id="a:nestor-installed-by-sync-roster",
            conversation_type="personal",
            service_url="https://smba.trafficmanager.net/uk/",
            reference={"conversation": {"id": "a:nestor-installed-by-sync-roster"}},
            staff_id=nestor.id,
            aad_object_id=nestor.aad_object_id,
        )
    [completed] = await run_job(
        job, sessions=sessions, settings=settings, now=at(10), tenant_ids=[TENANT], complete=True
    )
    assert (completed.state, completed.queued) == ("completed", 1)
    cards = await queued(sessions, CardKind.MY_QA)
    assert sorted(d.recipient_staff_id or 0 for d in cards) == sorted(
        [council.staff["alex"].id or 0, nestor.id or 0]
    )
    [nothing_more] = await run_job(
        job, sessions=sessions, settings=settings, now=at(11), tenant_ids=[TENANT], complete=True
    )
    assert (nothing_more.state, nothing_more.queued) == ("completed", 0)


async def test_completing_a_run_that_never_ran_runs_it(
    chat: Chat, sessions: SessionMaker, settings: Settings, clock: Clock
) -> None:
    council = await council_with_everyone(sessions)
    await add_action(
        sessions, council, owner="alex", what="Chase", due_on=TODAY - timedelta(days=2)
    )
    clock.now = at(8, 30)
    await chat.say("hello", who=ALEX)
    [ran] = await run_job(
        JOBS["reminders"],
        sessions=sessions,
        settings=settings,
        now=at(9),
        tenant_ids=[TENANT],
        complete=True,
    )
    assert (ran.state, ran.queued) == ("ran", 1)
