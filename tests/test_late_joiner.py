"""Someone whose chat with the bot begins after the morning's `reminders` run gets today's card
then, once; before the run, or with nothing due, nothing comes early."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.settings import Settings
from jobs import reminders
from jobs.runs import run_job
from jobs.scheduler import JOBS
from storage.db import SessionMaker
from tests.chat import ALEX, MEGAN, NESTOR, Chat, card_text
from tests.helpers import NOW, TODAY, Clock, add_action, council_with_everyone, queued

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
    assert await queued(sessions, reminders.KIND) == []
    [ran] = await run_job(
        JOBS["reminders"],
        sessions=sessions,
        settings=settings,
        now=at(9),
        tenant_ids=[council.tenant_id],
    )
    assert ran.state == "ran"
    [for_nestor] = await queued(sessions, reminders.KIND)
    assert for_nestor.recipient_staff_id == council.staff["nestor"].id

    # Alex opens it at 10:02, after the run: his card comes now, with the morning's key.
    clock.now = at(10, 2)
    await chat.say("hello", who=ALEX)
    alex_id = council.staff["alex"].id
    cards = [d for d in await queued(sessions, reminders.KIND) if d.recipient_staff_id == alex_id]
    assert [d.dedupe_key for d in cards] == [reminders.dedupe_key(alex_id or 0, TODAY)]
    assert "Update the plan" in card_text(cards[0].card)
    assert cards[0].summary == "You have 1 QA item today"

    # Only once: more turns queue nothing more.
    await chat.say("my actions", who=ALEX)
    await chat.say("hello", who=NESTOR)
    # Megan has nothing due: no card for her.
    await chat.say("hello", who=MEGAN)
    assert len(await queued(sessions, reminders.KIND)) == 2
