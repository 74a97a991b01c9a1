"""Every card that shows an action or an audit is redrawn when it changes, whichever card or
command changed it (DESIGN §4). The kinds of posted card and what redraws them:

| card | kept as | redrawn when |
| --- | --- | --- |
| the daily card | my_qa | one of its actions, audits or feedback forms changes (test_reminders_job) |
| a manager's escalation | escalation | one of its actions changes (test_reminders_job) |
| more time asked / decided, marked done, confirmed, reopened | extension_request, confirm_done | the action or request changes (test_action_buttons) |
| an action assigned | action_assigned | the action changes (test_grading) |
| an audit assigned, its copies, declined | audit_assigned(_copy), audit_declined | the audit changes (test_assign_cards) |
| the audit's result | audit_result | the practitioner's actions change (test_grading) |
| the feedback form | feedback_form | feedback is sent from anywhere (test_feedback) |
| the inadequate alert, the child visit | inadequate_alert, child_visit_due | the meeting, visit or actions change (test_inadequate) |
| the moderation request | moderation_request | it is decided (test_moderation) |
| `my actions`, `my audits`, `team` asked for today | my_actions, my_audits, team | an action, request or audit listed changes: here |

tests/test_features.py holds that each of these kinds has a rebuilder.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlmodel import col, delete, select, update

from bot.features import CATALOGUE
from bot.settings import Settings
from cards.names import CardKind
from storage.db import SessionMaker, transaction
from storage.models import ConversationRef, SentCard
from tests.chat import ALEX, MEGAN, Chat, card_text
from tests.helpers import (
    NOW,
    TODAY,
    add_action,
    council_with_everyone,
    everyone_has_talked_to_the_bot,
    queued,
)

pytestmark = pytest.mark.clock(NOW)  # Thu 26 Nov 2026, 10:02 in London


async def _posted(sessions: SessionMaker, kind: str) -> list[SentCard]:
    async with sessions() as session:
        return list((await session.exec(select(SentCard).where(SentCard.kind == kind))).all())


async def test_my_actions_asked_for_today_is_redrawn_when_an_action_on_it_is_done_elsewhere(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await council_with_everyone(sessions)
    done = await add_action(
        sessions, council, owner="alex", what="Update the plan", due_on=TODAY - timedelta(days=3)
    )
    await add_action(
        sessions, council, owner="alex", what="Ring the school", due_on=TODAY + timedelta(days=9)
    )
    await everyone_has_talked_to_the_bot(chat)
    listed = await chat.say("my actions", who=ALEX)
    assert "Update the plan" in listed.text and "1 overdue" in listed.text
    posted = await _posted(sessions, CardKind.MY_ACTIONS)
    assert {p.subject for p in posted} >= {f"action:{done.id}", "page:0"}
    [activity_id] = {p.activity_id for p in posted}

    # Done by typing, not from the list: the list still said overdue; now it is redrawn.
    await chat.say(f"done {done.id}", who=ALEX)
    [redrawn] = [
        d
        for d in await queued(sessions, CardKind.MY_ACTIONS)
        if d.replaces_activity_id == activity_id
    ]
    text = card_text(redrawn.card)
    assert "Update the plan" not in text and "Ring the school" in text
    assert "overdue" not in text
    assert redrawn.summary == "You have 1 open action"


async def test_a_list_asked_for_on_an_earlier_day_is_left_as_it_was(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await council_with_everyone(sessions)
    done = await add_action(
        sessions, council, owner="alex", what="Update the plan", due_on=TODAY - timedelta(days=3)
    )
    await everyone_has_talked_to_the_bot(chat)
    await chat.say("my actions", who=ALEX)
    [posted, *_] = await _posted(sessions, CardKind.MY_ACTIONS)
    async with transaction(sessions) as session:
        await session.exec(
            update(SentCard)
            .where(col(SentCard.kind) == CardKind.MY_ACTIONS)
            .values(sent_at=posted.sent_at - timedelta(days=1))
        )
    await chat.say(f"done {done.id}", who=ALEX)
    assert await queued(sessions, CardKind.MY_ACTIONS) == []


async def test_my_audits_is_kept_track_of_with_its_audits_and_page(
    chat: Chat, sessions: SessionMaker
) -> None:
    await council_with_everyone(sessions)
    await everyone_has_talked_to_the_bot(chat)
    await chat.say("my audits", who=ALEX)
    posted = await _posted(sessions, CardKind.MY_AUDITS)
    assert "page:0" in {p.subject for p in posted}


async def test_team_asked_for_today_is_redrawn_when_an_action_on_it_is_done(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await council_with_everyone(sessions)
    late = await add_action(
        sessions, council, owner="alex", what="Update the plan", due_on=TODAY - timedelta(days=3)
    )
    await everyone_has_talked_to_the_bot(chat)
    listed = await chat.say("team", who=MEGAN)
    assert "Update the plan" in listed.text
    posted = await _posted(sessions, CardKind.TEAM)
    assert {p.subject for p in posted} == {f"action:{late.id}", "page:0"}
    [activity_id] = {p.activity_id for p in posted}

    await chat.say(f"done {late.id}", who=ALEX)
    [redrawn] = [
        d for d in await queued(sessions, CardKind.TEAM) if d.replaces_activity_id == activity_id
    ]
    text = card_text(redrawn.card)
    assert "Nothing is overdue" in text and "Overdue by" not in text
    assert f"Alex Wilber marked action #{late.id} done" in text  # now waiting for Megan
    assert redrawn.summary == "1 waiting for you, 0 overdue actions"


async def test_a_card_drawn_again_reads_the_bots_settings(
    chat: Chat, sessions: SessionMaker, settings: Settings
) -> None:
    """The redraw suppresses small figures as the running bot is set to, not by the default."""
    council = await council_with_everyone(sessions)
    await add_action(
        sessions, council, owner="alex", what="Update the plan", due_on=TODAY - timedelta(days=3)
    )
    await everyone_has_talked_to_the_bot(chat)
    await chat.say("team", who=MEGAN)
    [posted, *_] = await _posted(sessions, CardKind.TEAM)
    async with sessions() as session:
        strict = await CATALOGUE.redraws(settings).rebuild(
            session, council.tenant_id, posted, TODAY
        )
        open_ = await CATALOGUE.redraws(settings.model_copy(update={"suppress_below": 1})).rebuild(
            session, council.tenant_id, posted, TODAY
        )
    assert strict is not None and open_ is not None
    assert "Fewer than 3 audits are due" in card_text(strict[0])
    assert "1 of 1 completed (100%)" in card_text(open_[0])


async def test_a_list_asked_for_after_its_chat_was_forgotten_is_still_answered(
    chat: Chat, sessions: SessionMaker, caplog: pytest.LogCaptureFixture
) -> None:
    """The bot keeps the chat's stored row id to keep track of list cards cheaply; if the row has
    gone meanwhile (a purge), the answer still arrives and nothing fails."""
    council = await council_with_everyone(sessions)
    await add_action(
        sessions, council, owner="alex", what="Update the plan", due_on=TODAY - timedelta(days=3)
    )
    await everyone_has_talked_to_the_bot(chat)
    await chat.say("my actions", who=ALEX)
    async with transaction(sessions) as session:
        await session.exec(delete(SentCard))
        await session.exec(
            delete(ConversationRef).where(col(ConversationRef.staff_id) == council.staff["alex"].id)
        )

    again = await chat.say("my actions", who=ALEX)

    assert "Update the plan" in again.text
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
