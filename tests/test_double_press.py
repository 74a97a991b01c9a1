"""Two presses of one button at the same instant (a double click: two invokes with new activity
ids, 0 ms apart) change things once on every backend: the second is told where things stand, and
no second audit-log row, note or card follows."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest

from storage import actions, allocation, grading
from storage.db import SessionMaker, transaction
from storage.models import Action, Audit
from tests.chat import MEGAN, Chat, Pressed, button, press
from tests.helpers import (
    DUE,
    NOW,
    action_row,
    add_action,
    add_assigned_audit,
    ask_for_more_time,
    audit_council,
    council_with_everyone,
    everyone_has_talked_to_the_bot,
    logged,
    queued,
)

pytestmark = pytest.mark.clock(NOW)  # Thu 26 Nov 2026, 10:02 in London


def one_changed_one_told(pressed: tuple[Pressed, Pressed], already: str) -> None:
    texts = sorted((p.text for p in pressed), key=lambda t: already in t)
    assert already not in texts[0] and already in texts[1], texts


async def arrived(chat: Chat, since: int, summary: str) -> int:
    """How many messages with this preview reached Teams since `since`, once the outbox is idle."""
    await chat.connector.wait_for(since + 1)
    await asyncio.sleep(0.5)  # time for a second copy, were one queued
    return sum(s.body.get("summary") == summary for s in chat.connector.sent[since:])


async def test_a_double_click_on_mark_done_marks_it_done_once(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await council_with_everyone(sessions)
    action = await add_action(sessions, council, owner="alex", what="Update the plan", due_on=DUE)
    await everyone_has_talked_to_the_bot(chat)
    assert action.id is not None
    before = len(chat.connector.sent)

    pressed = await asyncio.gather(
        press(chat, {"action": "mark_done", "action_id": action.id, "note": "First"}),
        press(chat, {"action": "mark_done", "action_id": action.id, "note": "Second"}),
    )

    assert len(await logged(sessions, "action.done")) == 1
    one_changed_one_told(pressed, "Already done ✓ by Alex Wilber")
    [repeat] = await logged(sessions, "refused.mark_done")
    assert repeat.after == {"reason": "already_done"}
    done = await action_row(sessions, action.id)
    [audit] = await logged(sessions, "action.done")
    assert audit.after is not None and done.done_note == audit.after["done_note"]
    assert len(await queued(sessions, "confirm_done")) == 1
    assert await arrived(chat, before, "Alex Wilber marked an action done") == 1


async def test_a_double_click_on_confirm_confirms_once(chat: Chat, sessions: SessionMaker) -> None:
    council = await council_with_everyone(sessions)
    action = await add_action(sessions, council, owner="alex", what="Update the plan", due_on=DUE)
    await everyone_has_talked_to_the_bot(chat)
    assert action.id is not None
    await press(chat, {"action": "mark_done", "action_id": action.id})
    [to_megan] = await queued(sessions, "confirm_done")
    before = len(chat.connector.sent)

    pressed = await asyncio.gather(
        press(chat, button(to_megan.card, "Confirm"), who=MEGAN),
        press(chat, button(to_megan.card, "Confirm"), who=MEGAN),
    )

    assert all(p.error is None for p in pressed)  # both see the card, confirmed
    assert len(await logged(sessions, "action.confirmed")) == 1
    [repeat] = await logged(sessions, "refused.confirm_done")
    assert repeat.after == {"reason": "already_confirmed"}
    assert len(await queued(sessions, "action_confirmed")) == 1
    assert await arrived(chat, before, "Your action was confirmed as done") == 1


async def test_a_double_click_on_approve_moves_the_date_once(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await council_with_everyone(sessions)
    action = await add_action(sessions, council, owner="alex", what="Update the plan", due_on=DUE)
    await everyone_has_talked_to_the_bot(chat)
    assert action.id is not None
    await ask_for_more_time(chat, action.id)
    [to_megan] = await queued(sessions, "extension_request")

    pressed = await asyncio.gather(
        press(chat, button(to_megan.card, "Approve"), who=MEGAN),
        press(chat, button(to_megan.card, "Decline"), who=MEGAN),
    )

    decided = len(await logged(sessions, "extension.approved")) + len(
        await logged(sessions, "extension.declined")
    )
    assert decided == 1
    assert all(p.error is None for p in pressed)
    assert len(await logged(sessions, "refused.decide_extension")) == 1
    assert len(await queued(sessions, "extension_decided")) == 1
    assert len(await logged(sessions, "action.due_changed")) <= 1


async def test_a_change_made_from_a_stale_read_writes_nothing(sessions: SessionMaker) -> None:
    """The compare-and-set itself: a press that read the action open, after another marked it
    done, neither marks it done again nor writes an audit-log row."""
    council = await council_with_everyone(sessions)
    added = await add_action(sessions, council, owner="alex", what="Update the plan", due_on=DUE)
    alex = council.staff["alex"].id
    assert added.id is not None and alex is not None
    async with transaction(sessions) as session:
        stale = await session.get(Action, added.id)
        assert stale is not None and stale.state == "open"
        async with transaction(sessions) as other:
            fresh = await other.get(Action, added.id)
            assert fresh is not None
            assert await actions.mark_done(other, fresh, actor_id=alex, now=NOW, note="First")

        assert not await actions.mark_done(session, stale, actor_id=alex, now=NOW, note="Late")
        assert not await actions.snooze(session, stale, actor_id=alex, until=date(2026, 12, 1))
    assert (await action_row(sessions, added.id)).done_note == "First"
    assert len(await logged(sessions, "action.done")) == 1
    assert await logged(sessions, "action.snoozed") == []


async def test_an_audit_change_made_from_a_stale_read_writes_nothing(
    sessions: SessionMaker,
) -> None:
    """The same for an audit: declined by its auditor a moment ago, it is neither completed nor
    cancelled nor declined again by a transaction that read it open."""
    council = await audit_council(sessions)
    added = await add_assigned_audit(sessions, council, auditor="diego", due_on=DUE)
    diego = council.id("diego")
    async with transaction(sessions) as session:
        stale = await session.get(Audit, added.id)
        assert stale is not None and stale.state == "assigned"
        async with transaction(sessions) as other:
            fresh = await other.get(Audit, added.id)
            assert fresh is not None
            assert await allocation.decline(other, fresh, actor_id=diego, reason="Off sick")

        assert not await grading.complete(session, stale, actor_id=diego, now=NOW)
        assert not await allocation.cancel(session, stale, actor_id=None, reason="Chosen twice")
        assert not await allocation.decline(session, stale, actor_id=diego, reason="Again")
    async with sessions() as session:
        row = await session.get(Audit, added.id)
        assert row is not None and (row.state, row.declined_reason) == ("declined", "Off sick")
    assert len(await logged(sessions, "audit.declined")) == 1
    assert await logged(sessions, "audit.completed") == []
    assert await logged(sessions, "audit.cancelled") == []
