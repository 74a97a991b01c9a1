"""Teams' retries and re-deliveries: a failed turn never consumes its activity id, so the retry
runs; an id is one activity only within its conversation; a card action that fails is answered
with a message (HTTP 200), never a bare 501."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from storage.db import SessionMaker
from tests.chat import ALEX, MEGAN, Chat
from tests.helpers import (
    DUE,
    NOW,
    action_row,
    add_action,
    council_with_everyone,
    everyone_has_talked_to_the_bot,
    logged,
    small_council,
)

pytestmark = pytest.mark.clock(NOW)  # Thu 26 Nov 2026, 10:02 in London


FAULT = "the database refuses this note"


async def database_refuses_the_note(sessions: SessionMaker, backend: str) -> None:
    """A fault at the database: marking an action done with the note FAULT fails."""
    async with sessions() as session:
        if backend == "sqlite":
            await session.exec(
                text(
                    "CREATE TRIGGER fault BEFORE UPDATE ON action "
                    f"WHEN NEW.done_note = '{FAULT}' BEGIN SELECT RAISE(ABORT, 'fault'); END"
                )
            )
        else:
            await session.exec(
                text(
                    "CREATE FUNCTION fault() RETURNS trigger AS $$ BEGIN "
                    f"IF NEW.done_note = '{FAULT}' THEN RAISE EXCEPTION 'fault'; END IF; "
                    "RETURN NEW; END $$ LANGUAGE plpgsql"
                )
            )
            await session.exec(
                text(
                    "CREATE TRIGGER fault BEFORE UPDATE ON action "
                    "FOR EACH ROW EXECUTE FUNCTION fault()"
                )
            )
        await session.commit()


async def database_recovers(sessions: SessionMaker, backend: str) -> None:
    async with sessions() as session:
        await session.exec(
            text("DROP TRIGGER fault" + ("" if backend == "sqlite" else " ON action"))
        )
        await session.commit()


async def test_a_card_action_that_fails_is_answered_and_its_retry_takes_effect(
    chat: Chat, sessions: SessionMaker, backend: str
) -> None:
    council = await council_with_everyone(sessions)
    action = await add_action(sessions, council, owner="alex", what="Update the plan", due_on=DUE)
    await everyone_has_talked_to_the_bot(chat)
    assert action.id is not None
    press = chat.activity("card_action")
    press["value"]["action"]["data"] = {
        "action": "mark_done",
        "action_id": action.id,
        "note": FAULT,
    }
    await database_refuses_the_note(sessions, backend)

    failed = await chat.post(press)

    assert failed.status == 200
    assert failed.body["statusCode"] == 500
    assert failed.body["type"] == "application/vnd.microsoft.error"
    assert (
        "something went wrong on my side and nothing was changed" in failed.body["value"]["message"]
    )
    assert (await action_row(sessions, action.id)).state == "open"

    await database_recovers(sessions, backend)
    retried = await chat.post(press)

    assert retried.status == 200 and retried.body["statusCode"] == 200
    assert (await action_row(sessions, action.id)).state == "done"
    assert len(await logged(sessions, "action.done")) == 1


async def test_a_message_whose_turn_failed_gets_its_reply_when_teams_sends_it_again(
    chat: Chat, sessions: SessionMaker
) -> None:
    await small_council(sessions)
    message = chat.activity("personal_message", text="help")
    # Teams refuses the reply and the apology alike.
    chat.connector.faults.extend([(500, None), (500, None)])

    failed = await chat.post(message)
    assert failed.status == 500 and failed.sent == []

    retried = await chat.post(message, expect=1)

    assert retried.status == 201
    assert "What I can do" in retried.text


async def test_the_same_message_id_in_two_people_s_chats_is_two_messages(
    chat: Chat, sessions: SessionMaker
) -> None:
    """Teams' message ids are timestamps: two chats can carry the same one."""
    await small_council(sessions)
    from_alex = chat.activity("personal_message", who=ALEX, text="help")
    from_megan = chat.activity("personal_message", who=MEGAN, text="help")
    from_megan["id"] = from_alex["id"] = "1733140800000"

    to_alex = await chat.post(from_alex, expect=1)
    to_megan = await chat.post(from_megan, expect=1)

    assert to_alex.status == to_megan.status == 201
    assert [s.conversation_id for s in to_alex.sent] == [f"a:personal-{ALEX.teams_id}"]
    assert [s.conversation_id for s in to_megan.sent] == [f"a:personal-{MEGAN.teams_id}"]
    again = await chat.post(from_megan)
    assert again.status == 200 and again.sent == []


async def test_a_message_without_a_conversation_is_refused_with_400(
    chat: Chat, sessions: SessionMaker
) -> None:
    await small_council(sessions)
    message = chat.activity("personal_message", text="help")
    del message["conversation"]

    answer = await chat.post(message)

    assert answer.status == 400
    assert answer.body == {"error": "activity has no conversation"}


async def test_a_card_press_delivered_twice_at_once_takes_effect_once_with_one_answer(
    chat: Chat, sessions: SessionMaker
) -> None:
    """Teams re-sends a press while the first is still running: the second waits for the first's
    transaction (its claim, change and answer commit together) and gets the same answer."""
    council = await council_with_everyone(sessions)
    action = await add_action(sessions, council, owner="alex", what="Update the plan", due_on=DUE)
    await everyone_has_talked_to_the_bot(chat)
    assert action.id is not None
    press = chat.activity("card_action")
    press["value"]["action"]["data"] = {"action": "mark_done", "action_id": action.id}

    first, second = await asyncio.gather(chat.post(press), chat.post(press))

    assert first.status == second.status == 200
    assert first.body == second.body and first.body["statusCode"] == 200
    assert (await action_row(sessions, action.id)).state == "done"
    assert len(await logged(sessions, "action.done")) == 1
