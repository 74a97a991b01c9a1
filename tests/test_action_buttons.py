"""Acting on actions from cards: Mark done, Snooze, Ask for more time, and the manager's Approve /
Decline and Confirm / Reopen. Conversations over HTTP on a fixed clock; the database shows what
changed, the outbox what was queued for other people."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlmodel import col, func, select

from bot.settings import Settings
from storage.db import SessionMaker, transaction
from storage.models import AuditLog, ExtensionRequest
from tests.chat import (
    ALEX,
    MEGAN,
    NESTOR,
    PATTI,
    TENANT,
    Chat,
    Persona,
    button,
    buttons,
    card_text,
    press,
)
from tests.helpers import (
    DUE,
    NOW,
    TODAY,
    Clock,
    action_row,
    add_action,
    ask_for_more_time,
    council_with_everyone,
    everyone_has_talked_to_the_bot,
    logged,
    post_card,
    queued,
    small_council,
    staff_id,
)

pytestmark = pytest.mark.clock(NOW)  # Thu 26 Nov 2026, 10:02 in London


# Mark done


async def test_alex_marks_an_action_done_from_my_actions_and_megan_is_asked_to_confirm(
    chat: Chat, alex: Persona, sessions: SessionMaker
) -> None:
    council = await council_with_everyone(sessions)
    action = await add_action(sessions, council, owner="alex", what="Update the plan", due_on=DUE)
    await add_action(sessions, council, owner="alex", what="Record the visit", due_on=DUE)
    await everyone_has_talked_to_the_bot(chat)
    assert action.id is not None

    my_actions = (await alex.says("my actions")).card
    data = button(my_actions, "Mark done", action.id)
    assert data == {"action": "mark_done", "action_id": action.id, "card": "my_actions"}
    pressed = await alex.presses(data | {f"note_{action.id}": "Plan updated [see](https://x.test)"})

    assert "Done ✓ by Alex Wilber, 26 Nov 10:02. I've asked Megan Bowen to confirm it." in (
        pressed.text
    )
    assert "Update the plan" not in pressed.text  # done, so off the list of open actions
    assert "Record the visit" in pressed.text
    assert all(b["data"].get("action_id") != action.id for b in buttons(pressed.card or {}))
    done = await action_row(sessions, action.id)
    assert done.state == "done" and done.done_at == NOW
    assert done.done_note == "Plan updated [see](https://x.test)"
    [audit] = await logged(sessions, "action.done")
    assert audit.actor_id == council.staff["alex"].id and audit.entity_id == str(action.id)
    assert audit.before == {"state": "open", "done_at": None, "done_note": None}
    assert audit.after is not None and audit.after["state"] == "done"
    [confirm] = await queued(sessions, "confirm_done")
    assert confirm.recipient_staff_id == council.staff["megan"].id
    assert confirm.summary == "Alex Wilber marked an action done"
    assert council.cases[0].case_ref not in confirm.summary
    assert confirm.subjects == [f"action:{action.id}"]
    shown = card_text(confirm.card)
    assert "Plan updated [see](https://x.test)" in shown
    assert "[Confirm]" in shown and "[Reopen]" in shown


async def test_a_second_press_says_already_done_and_changes_nothing(
    chat: Chat, alex: Persona, sessions: SessionMaker, clock: Clock
) -> None:
    council = await council_with_everyone(sessions)
    action = await add_action(sessions, council, owner="alex", what="Update the plan", due_on=DUE)
    await everyone_has_talked_to_the_bot(chat)
    assert action.id is not None
    first = await alex.presses({"action": "mark_done", "action_id": action.id, "note": "Done it"})
    assert "Done ✓ by Alex Wilber, 26 Nov 10:02" in first.text
    assert "[Mark done]" not in first.text

    clock.now = NOW.replace(hour=11)
    again = await alex.presses({"action": "mark_done", "action_id": action.id, "note": "Again"})

    assert "Already done ✓ by Alex Wilber, 26 Nov 10:02." in again.text
    unchanged = await action_row(sessions, action.id)
    assert unchanged.done_at == NOW and unchanged.done_note == "Done it"
    assert len(await queued(sessions, "confirm_done")) == 1
    assert len(await logged(sessions, "action.done")) == 1
    [repeat] = await logged(sessions, "refused.mark_done")
    assert repeat.after == {"reason": "already_done"}


async def test_megan_cannot_mark_alex_s_action_done_and_the_denial_is_logged(
    megan: Persona, sessions: SessionMaker
) -> None:
    council = await council_with_everyone(sessions)
    action = await add_action(sessions, council, owner="alex", what="Update the plan", due_on=DUE)
    assert action.id is not None

    pressed = await megan.presses({"action": "mark_done", "action_id": action.id})

    assert pressed.error == "Only the action's owner can mark it done."
    assert (await action_row(sessions, action.id)).state == "open"
    [denial] = await logged(sessions, "denied.mark_done")
    assert denial.actor_id == council.staff["megan"].id
    assert denial.entity == "action" and denial.entity_id == str(action.id)
    assert await queued(sessions, "confirm_done") == []


async def test_qa_may_mark_anyone_s_action_done(patti: Persona, sessions: SessionMaker) -> None:
    council = await council_with_everyone(sessions)
    action = await add_action(sessions, council, owner="alex", what="Update the plan", due_on=DUE)
    assert action.id is not None

    pressed = await patti.presses({"action": "mark_done", "action_id": action.id})

    assert "Done ✓ by Patti Fernandez, 26 Nov 10:02" in pressed.text
    assert (await action_row(sessions, action.id)).state == "done"


async def test_a_cancelled_action_cannot_be_marked_done_from_an_old_card(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await council_with_everyone(sessions)
    action = await add_action(
        sessions, council, owner="alex", what="Old action", due_on=DUE, state="cancelled"
    )
    assert action.id is not None

    pressed = await press(chat, {"action": "mark_done", "action_id": action.id})

    assert f"Action #{action.id} was cancelled, so there is nothing to do." in pressed.text
    assert (await action_row(sessions, action.id)).state == "cancelled"
    assert (await logged(sessions, "refused.mark_done"))[0].after == {"reason": "already_cancelled"}


# Snooze


async def test_snooze_moves_the_reminder_over_the_christmas_bank_holidays_never_the_due_date(
    chat: Chat, sessions: SessionMaker, clock: Clock
) -> None:
    clock.now = datetime(2026, 12, 24, 9, 30, tzinfo=UTC)  # Thursday; Fri 25 and Mon 28 are off
    council = await council_with_everyone(sessions)
    action = await add_action(
        sessions, council, owner="alex", what="Update the plan", due_on=date(2026, 12, 23)
    )
    assert action.id is not None

    one = await press(chat, {"action": "snooze", "action_id": action.id, "days": 1})

    assert "Snoozed ✓ No reminder until Tue 29 Dec. It's still due Wed 23 Dec." in one.text
    snoozed = await action_row(sessions, action.id)
    assert snoozed.snoozed_until == date(2026, 12, 29)
    assert snoozed.due_on == date(2026, 12, 23)

    three = await press(chat, {"action": "snooze", "action_id": action.id, "days": 3})

    assert "No reminder until Thu 31 Dec" in three.text
    assert (await action_row(sessions, action.id)).snoozed_until == date(2026, 12, 31)
    assert [a.after for a in await logged(sessions, "action.snoozed")] == [
        {"snoozed_until": "2026-12-29"},
        {"snoozed_until": "2026-12-31"},
    ]


async def test_only_the_owner_may_snooze(chat: Chat, sessions: SessionMaker) -> None:
    council = await council_with_everyone(sessions)
    action = await add_action(sessions, council, owner="alex", what="Update the plan", due_on=DUE)
    assert action.id is not None

    pressed = await press(chat, {"action": "snooze", "action_id": action.id, "days": 3}, who=NESTOR)

    assert pressed.error == "Only the action's owner can snooze it."
    assert (await action_row(sessions, action.id)).snoozed_until is None
    assert len(await logged(sessions, "denied.snooze")) == 1


# More time


async def test_asking_for_more_time_sends_megan_an_approve_decline_card(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await council_with_everyone(sessions)
    action = await add_action(sessions, council, owner="alex", what="Update the plan", due_on=DUE)
    await everyone_has_talked_to_the_bot(chat)
    assert action.id is not None

    asked = await ask_for_more_time(chat, action.id, reason="Conference moved **to** 9 Dec")

    assert "More time asked for: Thu 10 Dec. I've asked Megan Bowen." in asked.text
    assert (await action_row(sessions, action.id)).due_on == DUE  # until Megan agrees
    async with sessions() as session:
        [request] = (await session.exec(select(ExtensionRequest))).all()
    assert (request.state, request.old_due_on, request.new_due_on) == (
        "pending",
        DUE,
        date(2026, 12, 10),
    )
    [card] = await queued(sessions, "extension_request")
    assert card.recipient_staff_id == council.staff["megan"].id
    assert card.summary == "Alex Wilber asks for more time on an action"
    assert council.cases[0].case_ref not in card.summary
    assert card.subjects == [f"extension:{request.id}", f"action:{action.id}"]
    shown = card_text(card.card)
    assert "Alex Wilber asks to move action" in shown and "from Thu 3 Dec to Thu 10 Dec" in shown
    assert "Why: Conference moved **to** 9 Dec" in shown
    assert button(card.card, "Approve") == {
        "action": "decide_extension",
        "request_id": request.id,
        "decision": "approve",
    }


async def test_megan_approves_the_new_date_and_alex_is_told(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await council_with_everyone(sessions)
    action = await add_action(sessions, council, owner="alex", what="Update the plan", due_on=DUE)
    await everyone_has_talked_to_the_bot(chat)
    assert action.id is not None
    await ask_for_more_time(chat, action.id)
    [to_megan] = await queued(sessions, "extension_request")

    approved = await press(chat, button(to_megan.card, "Approve"), who=MEGAN)

    assert "Approved ✓ by Megan Bowen, 26 Nov 10:02: now due Thu 10 Dec" in approved.text
    assert "[Approve]" not in approved.text
    moved = await action_row(sessions, action.id)
    assert moved.due_on == date(2026, 12, 10)
    [told] = await queued(sessions, "extension_decided")
    assert told.recipient_staff_id == council.staff["alex"].id
    assert told.summary == "Your request for more time was approved"
    assert "Megan Bowen approved your new date: Thu 10 Dec." in card_text(told.card)
    [due_changed] = await logged(sessions, "action.due_changed")
    assert due_changed.before == {"due_on": "2026-12-03"}
    assert due_changed.after == {"due_on": "2026-12-10"}

    again = await press(chat, button(to_megan.card, "Decline"), who=MEGAN)

    assert again.card == approved.card  # the same answer; nothing more happens
    assert (await action_row(sessions, action.id)).due_on == date(2026, 12, 10)
    assert len(await queued(sessions, "extension_decided")) == 1


async def test_megan_declines_and_the_date_stays(chat: Chat, sessions: SessionMaker) -> None:
    council = await council_with_everyone(sessions)
    action = await add_action(sessions, council, owner="alex", what="Update the plan", due_on=DUE)
    await everyone_has_talked_to_the_bot(chat)
    assert action.id is not None
    await ask_for_more_time(chat, action.id)
    [to_megan] = await queued(sessions, "extension_request")

    declined = await press(chat, button(to_megan.card, "Decline"), who=MEGAN)

    assert "Declined by Megan Bowen, 26 Nov 10:02: still due Thu 3 Dec" in declined.text
    assert (await action_row(sessions, action.id)).due_on == DUE
    [told] = await queued(sessions, "extension_decided")
    assert "Megan Bowen declined your new date, so action" in card_text(told.card)
    assert "is still due Thu 3 Dec." in card_text(told.card)


async def test_only_alex_s_managers_or_qa_may_decide_on_more_time(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await council_with_everyone(sessions)
    action = await add_action(sessions, council, owner="alex", what="Update the plan", due_on=DUE)
    await everyone_has_talked_to_the_bot(chat)
    assert action.id is not None
    await ask_for_more_time(chat, action.id)
    [to_megan] = await queued(sessions, "extension_request")
    approve = button(to_megan.card, "Approve")

    by_nestor = await press(chat, approve, who=NESTOR)
    by_alex = await press(chat, approve, who=ALEX)

    assert by_nestor.error == "Only the owner's manager or the QA team can decide this."
    assert by_alex.error is not None and "your manager or the QA team" in by_alex.error
    assert (await action_row(sessions, action.id)).due_on == DUE
    assert [d.actor_id for d in await logged(sessions, "denied.decide_extension")] == [
        council.staff["nestor"].id,
        council.staff["alex"].id,
    ]

    by_patti = await press(chat, approve, who=PATTI)

    assert "Approved ✓ by Patti Fernandez" in by_patti.text
    assert (await action_row(sessions, action.id)).due_on == date(2026, 12, 10)


async def test_marking_done_withdraws_a_pending_request_for_more_time(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await council_with_everyone(sessions)
    action = await add_action(sessions, council, owner="alex", what="Update the plan", due_on=DUE)
    await everyone_has_talked_to_the_bot(chat)
    assert action.id is not None
    await ask_for_more_time(chat, action.id)
    [to_megan] = await queued(sessions, "extension_request")
    await press(chat, {"action": "mark_done", "action_id": action.id})

    late = await press(chat, button(to_megan.card, "Approve"), who=MEGAN)

    assert "Withdrawn: the action was marked done" in late.text
    assert "[Approve]" not in late.text
    assert (await action_row(sessions, action.id)).due_on == DUE


# Confirm and reopen


async def test_megan_confirms_a_done_action_and_alex_is_told(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await council_with_everyone(sessions)
    action = await add_action(sessions, council, owner="alex", what="Update the plan", due_on=DUE)
    await everyone_has_talked_to_the_bot(chat)
    assert action.id is not None
    await press(chat, {"action": "mark_done", "action_id": action.id})
    [to_megan] = await queued(sessions, "confirm_done")

    confirmed = await press(chat, button(to_megan.card, "Confirm"), who=MEGAN)

    assert "confirmed by Megan Bowen, 26 Nov 10:02" in confirmed.text
    assert "[Confirm]" not in confirmed.text
    row = await action_row(sessions, action.id)
    assert row.state == "confirmed" and row.confirmed_by == council.staff["megan"].id
    assert row.confirmed_at == NOW
    [told] = await queued(sessions, "action_confirmed")
    assert told.recipient_staff_id == council.staff["alex"].id
    assert "Megan Bowen confirmed action" in card_text(told.card)

    by_nestor = await press(chat, {"action": "confirm_done", "action_id": action.id}, who=NESTOR)
    assert by_nestor.error == "Only the owner's manager or the QA team can confirm this."


async def test_megan_reopens_a_done_action_with_a_reason(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await council_with_everyone(sessions)
    action = await add_action(sessions, council, owner="alex", what="Update the plan", due_on=DUE)
    await everyone_has_talked_to_the_bot(chat)
    assert action.id is not None
    await press(chat, {"action": "mark_done", "action_id": action.id, "note": "All done"})
    [to_megan] = await queued(sessions, "confirm_done")

    reopened = await press(
        chat,
        button(to_megan.card, "Reopen") | {f"reason_{action.id}": "The plan has no dates yet"},
        who=MEGAN,
    )

    assert "Reopened: open again, due Thu 3 Dec" in reopened.text
    row = await action_row(sessions, action.id)
    assert row.state == "open" and row.done_at is None and row.done_note is None
    [audit] = await logged(sessions, "action.reopened")
    assert audit.before is not None and audit.before["done_note"] == "All done"
    assert audit.after is not None and audit.after["reason"] == "The plan has no dates yet"
    [told] = await queued(sessions, "action_reopened")
    assert "Why: The plan has no dates yet" in card_text(told.card)
    assert told.summary == "One of your actions is open again"


# Bad payloads


async def test_bad_payloads_get_a_clear_answer_and_change_nothing(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await council_with_everyone(sessions)
    action = await add_action(sessions, council, owner="alex", what="Update the plan", due_on=DUE)
    other_tenant = "22222222-2222-2222-2222-222222222222"
    theirs = await small_council(sessions, tenant_id=other_tenant)
    their_action = await add_action(sessions, theirs, owner="alex", what="Theirs", due_on=DUE)
    assert action.id is not None and their_action.id is not None
    a = action.id

    def asking(new_due_on: str, reason: str = "Waiting for the CP") -> dict[str, Any]:
        return {
            "action": "request_extension",
            "action_id": a,
            "new_due_on": new_due_on,
            "reason": reason,
        }

    cases: list[tuple[dict[str, Any], str]] = [
        ({"action": "mark_done"}, "That button sent something I can't use. Nothing was changed."),
        ({"action": "mark_done", "action_id": "twelve"}, "Nothing was changed."),
        (
            {"action": "mark_done", "action_id": a, "note": "n" * 2001},
            "A note can be up to 2,000 characters. Nothing was changed.",
        ),
        ({"action": "snooze", "action_id": a, "days": 2}, "Snooze for 1 or 3 working days."),
        (asking(""), "Please choose the new due date. Nothing was changed."),
        (asking("10/12/2026"), "Please choose the new due date."),
        (asking("2026-11-20"), "Fri 20 Nov is not in the future. Please choose a later date."),
        (
            asking("2026-12-02"),
            "The new date must be after the current due date, Thu 3 Dec.",
        ),
        (
            asking("2026-12-12"),
            "Sat 12 Dec is not a working day. Please choose a weekday that is not a bank holiday.",
        ),
        (asking("2026-12-25"), "Fri 25 Dec is not a working day."),
        (asking("2028-01-04"), "Please choose a date within a year."),
        (
            asking("2026-12-10", reason="r" * 5000),
            "Please say why you need more time, in up to 2,000 characters.",
        ),
        (asking("2026-12-10", reason="   "), "Please say why you need more time"),
        (
            {"action": "mark_done", "action_id": 999_999},
            "I can't find action #999999. It may have been removed.",
        ),
        (
            {"action": "mark_done", "action_id": their_action.id},
            f"I can't find action #{their_action.id}. It may have been removed.",
        ),
        (
            {"action": "decide_extension", "request_id": 5, "decision": "approve"},
            "I can't find that request for more time.",
        ),
        (
            {"action": "decide_extension", "request_id": 5, "decision": "maybe"},
            "Nothing was changed.",
        ),
    ]
    for data, expected in cases:
        pressed = await press(chat, data)
        assert pressed.error is not None and expected in pressed.error, (data, pressed)

    row = await action_row(sessions, a)
    assert (row.state, row.due_on, row.snoozed_until, row.done_note) == ("open", DUE, None, None)
    assert (await action_row(sessions, their_action.id)).state == "open"
    async with sessions() as session:
        assert (await session.exec(select(func.count()).select_from(ExtensionRequest))).one() == 0
        refusals = (
            await session.exec(
                select(func.count())
                .select_from(AuditLog)
                .where(col(AuditLog.event).startswith("refused."))
            )
        ).one()
        changes = (
            await session.exec(
                select(func.count())
                .select_from(AuditLog)
                .where(col(AuditLog.event).startswith("action."))
            )
        ).one()
    assert refusals == len(cases) and changes == 0
    assert await queued(sessions, "confirm_done") == []


async def test_a_request_for_more_time_asked_twice_is_sent_once(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await council_with_everyone(sessions)
    action = await add_action(sessions, council, owner="alex", what="Update the plan", due_on=DUE)
    await everyone_has_talked_to_the_bot(chat)
    assert action.id is not None

    await ask_for_more_time(chat, action.id)
    again = await ask_for_more_time(chat, action.id)
    other = await ask_for_more_time(chat, action.id, new_due_on="2026-12-11")

    assert "Already asked for Thu 10 Dec: waiting for a decision." in again.text
    assert (
        other.error
        == "You've already asked for Thu 10 Dec. Once that is decided you can ask again."
    )
    assert len(await queued(sessions, "extension_request")) == 1


async def test_without_a_chat_with_megan_alex_is_told_she_will_see_it_in_qa_loop(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await council_with_everyone(sessions)
    action = await add_action(sessions, council, owner="alex", what="Update the plan", due_on=DUE)
    assert action.id is not None

    asked = await ask_for_more_time(chat, action.id)

    assert "Megan Bowen will see it next time they open QA Loop" in asked.text
    assert await queued(sessions, "extension_request") == []
    team = await chat.say("team", who=MEGAN)
    assert "Alex Wilber asks to move action" in team.text
    assert "[Approve]" in team.text


# Cards already posted


async def test_a_press_on_a_posted_card_answers_with_that_card_and_updates_the_others(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await council_with_everyone(sessions)
    action = await add_action(sessions, council, owner="alex", what="Update the plan", due_on=DUE)
    await everyone_has_talked_to_the_bot(chat)
    assert action.id is not None
    await press(chat, {"action": "mark_done", "action_id": action.id})
    subject = f"action:{action.id}"
    await post_card(
        sessions, MEGAN, kind="confirm_done", subjects=[subject], activity_id="to-megan"
    )
    await post_card(
        sessions, PATTI, kind="confirm_done", subjects=[subject], activity_id="to-patti"
    )
    await post_card(sessions, ALEX, kind="welcome", subjects=[subject], activity_id="to-alex")
    [to_megan] = await queued(sessions, "confirm_done")

    confirmed = await press(chat, button(to_megan.card, "Confirm"), who=MEGAN, on="to-megan")

    assert confirmed.card is not None
    assert confirmed.card["body"][0]["text"] == "Please confirm an action is done"
    assert "confirmed by Megan Bowen, 26 Nov 10:02" in confirmed.text
    assert "[Confirm]" not in confirmed.text
    updates = {
        d.replaces_activity_id: d
        for d in await queued(sessions, "confirm_done")
        if d.replaces_activity_id
    }
    assert "to-patti" in updates and "to-megan" not in updates  # the answer updates that one
    assert "confirmed by Megan Bowen" in card_text(updates["to-patti"].card)
    assert await queued(sessions, "welcome") == []  # a kind without a rebuilder stays as it is


async def test_refresh_cards_queues_one_update_per_posted_card_of_a_known_kind(
    chat: Chat, sessions: SessionMaker
) -> None:
    from bot.features import CATALOGUE
    from bot.services.refresh import refresh_cards

    council = await council_with_everyone(sessions)
    action = await add_action(sessions, council, owner="alex", what="Update the plan", due_on=DUE)
    await everyone_has_talked_to_the_bot(chat)
    assert action.id is not None
    both = [f"action:{action.id}", "extension:7"]
    known = await post_card(sessions, MEGAN, kind="confirm_done", subjects=both, activity_id="m1")
    await post_card(sessions, ALEX, kind="no_such_kind", subjects=both, activity_id="a1")

    counts = []
    for _ in range(2):
        async with transaction(sessions) as session:
            counts.append(
                await refresh_cards(
                    session,
                    CATALOGUE.redraws(Settings()),
                    tenant_id=TENANT,
                    subjects=both,
                    today=TODAY,
                    change_key="done:1",
                )
            )
    assert counts == [1, 0]  # one card showing both subjects: one update, and only once

    updates = [d for d in await queued(sessions, "confirm_done") if d.replaces_activity_id]
    assert len(updates) == 1
    update = updates[0]
    assert update.replaces_activity_id == "m1"
    assert update.conversation_ref_id == known.conversation_ref_id
    assert update.dedupe_key.startswith("update:") and update.dedupe_key.endswith(":done:1")
    assert update.recipient_staff_id == await staff_id(sessions, MEGAN)
    assert await queued(sessions, "no_such_kind") == []


async def test_a_posted_request_card_known_only_by_its_action_is_updated_when_decided(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await council_with_everyone(sessions)
    action = await add_action(sessions, council, owner="alex", what="Update the plan", due_on=DUE)
    await everyone_has_talked_to_the_bot(chat)
    assert action.id is not None
    await ask_for_more_time(chat, action.id)
    [to_megan] = await queued(sessions, "extension_request")
    await post_card(
        sessions,
        PATTI,
        kind="extension_request",
        subjects=[f"action:{action.id}"],
        activity_id="copy-to-patti",
    )

    await press(chat, button(to_megan.card, "Approve"), who=MEGAN)

    [update] = [
        d
        for d in await queued(sessions, "extension_request")
        if d.replaces_activity_id == "copy-to-patti"
    ]
    assert "Approved ✓ by Megan Bowen" in card_text(update.card)
    assert "[Approve]" not in card_text(update.card)


async def test_a_button_on_the_second_page_of_my_actions_answers_with_that_page(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await council_with_everyone(sessions)
    for n in range(12):
        await add_action(
            sessions,
            council,
            owner="alex",
            what=f"Action number {n:02d}",
            due_on=DUE,
            case_index=None,
        )
    first = (await chat.say("my actions")).cards[0]
    page_two = await press(chat, button(first, "Show 2 more"))
    assert page_two.card is not None
    snooze = button(page_two.card, "Snooze 3 days")
    assert snooze["offset"] == 10

    pressed = await press(chat, snooze)

    assert "Snoozed ✓ No reminder until Tue 1 Dec." in pressed.text
    assert "Showing 11–12 of 12" in pressed.text
