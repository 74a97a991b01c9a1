"""Typed commands for actions and people: `done 12`, `team`, `away until …` / `back`, `unreachable`."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from storage.db import SessionMaker, transaction
from storage.models import Staff
from tests.chat import ALEX, MEGAN, NESTOR, PATTI, Chat, button, card_text, press
from tests.helpers import (
    DUE,
    NOW,
    Clock,
    action_row,
    add_action,
    add_audit,
    ask_for_more_time,
    council_with_everyone,
    everyone_has_talked_to_the_bot,
    logged,
    queued,
)

pytestmark = pytest.mark.clock(NOW)  # Thu 26 Nov 2026, 10:02 in London


# done <action id>


async def test_alex_types_done_12_and_megan_is_asked_to_confirm(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await council_with_everyone(sessions)
    action = await add_action(sessions, council, owner="alex", what="Update the plan", due_on=DUE)
    await everyone_has_talked_to_the_bot(chat)
    assert action.id is not None

    answer = await chat.say(f"done #{action.id} Plan Updated on 25 Nov")

    assert (
        "Done ✓ by Alex Wilber, 26 Nov 10:02. I've asked Megan Bowen to confirm it." in answer.text
    )
    assert answer.sent[0].body["summary"] == f"Action #{action.id}: done"
    row = await action_row(sessions, action.id)
    assert row.state == "done" and row.done_note == "Plan Updated on 25 Nov"
    [to_megan] = await queued(sessions, "confirm_done")
    assert to_megan.recipient_staff_id == council.staff["megan"].id

    again = await chat.say(f"done {action.id}")

    assert "Already done ✓ by Alex Wilber, 26 Nov 10:02." in again.text
    assert len(await queued(sessions, "confirm_done")) == 1


async def test_done_needs_an_action_of_mine(chat: Chat, sessions: SessionMaker) -> None:
    council = await council_with_everyone(sessions)
    megans = await add_action(sessions, council, owner="megan", what="Megan's own", due_on=DUE)
    assert megans.id is not None

    nothing = await chat.say("done")
    words = await chat.say("done the plan")
    hers = await chat.say(f"done {megans.id}")
    missing = await chat.say("done 424242")

    assert "Which action? Type done and its number, for example done 12." in nothing.text
    assert "[My actions]" in nothing.text
    assert "Which action?" in words.text
    assert "Only the action's owner can mark it done." in hers.text
    assert "I can't find action #424242" in missing.text
    assert (await action_row(sessions, megans.id)).state == "open"
    assert len(await logged(sessions, "denied.mark_done")) == 1


async def test_done_in_a_channel_answers_in_the_private_chat(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await council_with_everyone(sessions)
    action = await add_action(sessions, council, owner="alex", what="Update the plan", due_on=DUE)
    await chat.say("help")

    answer = await chat.say(f"done {action.id}", where="channel_message", expect=2)

    thread = next(s for s in answer.sent if s.conversation_id.startswith("19:"))
    assert council.cases[0].case_ref not in str(thread.body)
    assert "private chat" in str(thread.body)


# team


async def test_megan_types_team_and_sees_overdue_actions_audits_away_and_what_waits(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await council_with_everyone(sessions)
    overdue = await add_action(
        sessions, council, owner="alex", what="Record the visit", due_on=date(2026, 11, 18)
    )
    await add_action(
        sessions,
        council,
        owner="nestor",
        what="Not Megan's team",
        due_on=date(2026, 11, 2),
        case_index=None,
    )
    waiting = await add_action(
        sessions, council, owner="alex", what="Update the plan", due_on=DUE, case_index=None
    )
    # Due this month: the overdue action's audit (18 Nov, completed) and these two of three.
    await add_audit(
        sessions,
        council,
        auditor="megan",
        practitioner="alex",
        due_on=date(2026, 11, 20),
        state="completed",
    )
    await add_audit(
        sessions, council, auditor="megan", practitioner="alex", due_on=date(2026, 11, 30)
    )
    await add_audit(
        sessions, council, auditor="megan", practitioner="alex", due_on=date(2026, 12, 4)
    )
    await everyone_has_talked_to_the_bot(chat)
    assert waiting.id is not None and overdue.id is not None
    await ask_for_more_time(chat, waiting.id)
    await chat.say("away until 24 Dec")

    answer = await chat.say("team", who=MEGAN)
    # The outbox may deliver Megan's extension-request card during this turn: pick the reply.
    reply = next(s for s in answer.sent if any("Team North" in card_text(c) for c in s.cards))

    text = answer.text
    assert "Team North" in text
    assert "Waiting for you" in text and "Alex Wilber asks to move action" in text
    assert "Overdue actions: 1" in text
    assert "Alex Wilber  ·  Overdue by 6 working days" in text and "Record the visit" in text
    assert council.cases[0].case_ref in text  # sent privately: the manager sees the case
    assert "Not Megan's team" not in text
    assert "2 of 3 completed (67%)" in text
    assert "Alex Wilber until Thu 24 Dec" in text
    assert reply.body["summary"] == "1 waiting for you, 1 overdue action"

    approved = await press(chat, button(reply.cards[0], "Approve"), who=MEGAN)

    assert "Approved ✓ Action" in approved.text and "is now due Thu 10 Dec." in approved.text
    assert "Team North" in approved.text  # the team card again, in place
    assert "Waiting for you" not in approved.text


async def test_qa_sees_every_team_and_a_practitioner_may_not_use_team(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await council_with_everyone(sessions)
    await add_action(
        sessions, council, owner="nestor", what="Nestor's overdue", due_on=date(2026, 11, 2)
    )

    qa = await chat.say("team", who=PATTI)
    practitioner = await chat.say("team", who=NESTOR)

    assert "All teams" in qa.text and "Nestor's overdue" in qa.text
    assert "“team” is not available for your role." in practitioner.text
    assert "Nestor's overdue" not in practitioner.text


async def test_paging_the_team_card_checks_the_role_again(
    chat: Chat, sessions: SessionMaker
) -> None:
    await council_with_everyone(sessions)

    pressed = await press(chat, {"action": "team_page", "offset": 10}, who=NESTOR)

    assert pressed.error == "“team” is not available for your role."


# away until / back


async def test_alex_is_away_until_christmas_eve_then_back(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await council_with_everyone(sessions)

    away = await chat.say("away until 24 Dec")

    assert "Away until Thu 24 Dec ✓" in away.text
    # Fri 25 and Mon 28 December are bank holidays.
    assert "start again on Tue 29 Dec" in away.text
    assert "Your managers can see you're away in team." in away.text
    async with sessions() as session:
        alex = await session.get(Staff, council.staff["alex"].id)
        assert alex is not None and alex.away_until == date(2026, 12, 24)
    [audit] = await logged(sessions, "staff.away")
    assert audit.before == {"away_until": None} and audit.after == {"away_until": "2026-12-24"}

    back = await chat.say("back")

    assert "Welcome back" in back.text
    async with sessions() as session:
        alex = await session.get(Staff, council.staff["alex"].id)
        assert alex is not None and alex.away_until is None
    assert len(await logged(sessions, "staff.back")) == 1
    not_away = await chat.say("back")
    assert "You weren't marked as away" in not_away.text


async def test_away_understands_the_ways_people_write_dates(
    chat: Chat, sessions: SessionMaker, clock: Clock
) -> None:
    council = await council_with_everyone(sessions)
    typed = {
        "away until 24/12/2026": date(2026, 12, 24),
        "away until 2026-12-24": date(2026, 12, 24),
        "away until friday": date(2026, 11, 27),
        "Away until today": date(2026, 11, 26),
        "away 3 Jan": date(2027, 1, 3),
    }
    for text, expected in typed.items():
        await chat.say(text)
        async with sessions() as session:
            alex = await session.get(Staff, council.staff["alex"].id)
            assert alex is not None and alex.away_until == expected, text


async def test_a_day_just_gone_typed_without_a_year_is_questioned_not_taken_as_next_year(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await council_with_everyone(sessions)

    answer = await chat.say("away until 20 Nov")

    assert "Fri 20 Nov has passed — did you mean Sat 20 Nov 2027?" in answer.text
    async with sessions() as session:
        alex = await session.get(Staff, council.staff["alex"].id)
        assert alex is not None and alex.away_until is None
    # The button says it for them, in a form the parser reads.
    await chat.say(answer.cards[0]["actions"][0]["data"]["msteams"]["value"])
    async with sessions() as session:
        alex = await session.get(Staff, council.staff["alex"].id)
        assert alex is not None and alex.away_until == date(2027, 11, 20)


async def test_away_refuses_a_past_far_or_unreadable_date(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await council_with_everyone(sessions)

    past = await chat.say("away until 1/11/2026")
    far = await chat.say("away until 2028-01-01")
    nonsense = await chat.say("away until the cows come home")
    nothing = await chat.say("away until")

    assert "Sun 1 Nov has passed — did you mean Mon 1 Nov 2027?" in past.text
    assert "within a year" in far.text
    assert "I didn't understand “the cows come home” as a date." in nonsense.text
    assert "Until when?" in nothing.text
    async with sessions() as session:
        alex = await session.get(Staff, council.staff["alex"].id)
        assert alex is not None and alex.away_until is None


# unreachable


async def test_qa_sees_who_the_bot_cannot_reach_and_others_may_not(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await council_with_everyone(sessions)
    await everyone_has_talked_to_the_bot(chat)
    async with transaction(sessions) as session:
        nestor = await session.get(Staff, council.staff["nestor"].id)
        assert nestor is not None
        nestor.reachable = False
        nestor.unreachable_since = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
        session.add(nestor)

    qa = await chat.say("unreachable", who=PATTI)
    tm = await chat.say("unreachable", who=MEGAN)

    assert "People I can't reach" in qa.text
    assert "Nestor Wilke" in qa.text and "nestorw@example.com" in qa.text
    assert "1 person gets no reminders" in qa.text
    assert "Removed or blocked QA Loop on Fri 20 Nov" in qa.text
    assert "Alex Wilber" not in qa.text
    assert qa.sent[0].body["summary"] == "1 person I can't reach"
    assert "not available for your role" in tm.text


async def test_unreachable_when_everyone_is_reachable(chat: Chat, sessions: SessionMaker) -> None:
    await council_with_everyone(sessions)
    await everyone_has_talked_to_the_bot(chat)
    answer = await chat.say("unreachable", who=PATTI)
    assert "Everyone has a chat with QA Loop that works." in answer.text


async def test_unreachable_lists_people_who_never_opened_the_bot_with_what_waits_for_them(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await council_with_everyone(sessions)
    for what in ("Update the plan", "Record the visit"):
        await add_action(sessions, council, owner="nestor", what=what, due_on=DUE)
    for person in (ALEX, MEGAN):
        await chat.say("help", who=person)

    answer = await chat.say("unreachable", who=PATTI)

    assert answer.sent[0].body["summary"] == "1 person I can't reach"
    assert "Nestor Wilke" in answer.text and "Alex Wilber" not in answer.text
    assert "Has never opened a chat with QA Loop" in answer.text
    assert "Waiting for them: 2 open actions" in answer.text
    assert "qaloop sync-roster" in answer.text
