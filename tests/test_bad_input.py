"""Input nobody could have typed is refused where it comes in, with a clear answer, and reaches
no database: control characters in text (a NUL byte, which PostgreSQL refuses outright), a JSON
true where a number is asked."""

from __future__ import annotations

import pytest

from storage.db import SessionMaker
from tests.chat import Chat, press
from tests.helpers import (
    DUE,
    NOW,
    action_row,
    add_action,
    council_with_everyone,
    logged,
    small_council,
)

pytestmark = pytest.mark.clock(NOW)  # Thu 26 Nov 2026, 10:02 in London


UNTYPEABLE = "Some of that text has characters I can't keep (control characters"


@pytest.mark.parametrize("note", ["Plan\x00updated", "Plan \x1b[31mupdated", "Plan \ud800"])
async def test_a_note_with_control_characters_is_refused_and_nothing_changes(
    note: str, chat: Chat, sessions: SessionMaker
) -> None:
    council = await council_with_everyone(sessions)
    action = await add_action(sessions, council, owner="alex", what="Update the plan", due_on=DUE)
    assert action.id is not None

    pressed = await press(chat, {"action": "mark_done", "action_id": action.id, "note": note})

    assert pressed.error is not None and pressed.error.startswith(UNTYPEABLE), pressed
    assert pressed.error.endswith("Please type it again without them. Nothing was changed.")
    row = await action_row(sessions, action.id)
    assert (row.state, row.done_note) == ("open", None)
    [refusal] = await logged(sessions, "refused.bad_payload")
    assert refusal.after == {"field": "note"}


async def test_a_line_break_in_a_note_is_kept(chat: Chat, sessions: SessionMaker) -> None:
    council = await council_with_everyone(sessions)
    action = await add_action(sessions, council, owner="alex", what="Update the plan", due_on=DUE)
    assert action.id is not None
    note = "Plan updated.\r\n\tSigned off by the TM."

    pressed = await press(chat, {"action": "mark_done", "action_id": action.id, "note": note})

    assert pressed.error is None
    assert (await action_row(sessions, action.id)).done_note == note


@pytest.mark.parametrize("days", [True, False, 1.0])
async def test_snooze_for_true_days_is_refused_not_taken_as_one(
    days: object, chat: Chat, sessions: SessionMaker
) -> None:
    council = await council_with_everyone(sessions)
    action = await add_action(sessions, council, owner="alex", what="Update the plan", due_on=DUE)
    assert action.id is not None

    pressed = await press(chat, {"action": "snooze", "action_id": action.id, "days": days})

    assert pressed.error == "Snooze for 1 or 3 working days. Nothing was changed."
    assert (await action_row(sessions, action.id)).snoozed_until is None


async def test_an_id_sent_as_true_is_refused(chat: Chat, sessions: SessionMaker) -> None:
    council = await council_with_everyone(sessions)
    action = await add_action(sessions, council, owner="alex", what="Update the plan", due_on=DUE)
    assert action.id == 1

    pressed = await press(chat, {"action": "mark_done", "action_id": True})

    assert pressed.error == "That button sent something I can't use. Nothing was changed."
    assert (await action_row(sessions, 1)).state == "open"


async def test_a_typed_message_with_a_nul_byte_gets_a_clear_answer(
    chat: Chat, sessions: SessionMaker
) -> None:
    await small_council(sessions)

    answer = await chat.say("done 1 note\x00 with a NUL")

    assert answer.status == 201
    assert "That message has characters I can't keep (control characters" in answer.text
