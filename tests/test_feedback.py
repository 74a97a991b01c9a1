"""The practitioner's feedback: the form sent when an audit is completed, one response per audit
editable for 7 days with every version kept, and `feedback`. Conversations over HTTP on a fixed
clock (Thu 26 Nov 2026 10:02); the database shows what was stored."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from bot.services.feedback import ask_for_feedback
from bot.settings import Settings
from storage.db import SessionMaker, transaction
from storage.models import Audit, Feedback, FeedbackVersion
from tests.chat import ALEX, DIEGO, MEGAN, Chat, button, card_text, nodes, press
from tests.helpers import (
    NOW,
    TODAY,
    AuditCouncil,
    Clock,
    add_assigned_audit,
    audit_council,
    everyone_says_hello,
    logged,
    queued,
)

pytestmark = pytest.mark.clock(NOW)  # Thu 26 Nov 2026, 10:02 in London


ALL_AGREE = {
    "involved": "5",
    "helped_see_good": "4",
    "understand_grade": "4",
    "actions_clear": "3",
}


async def completed_audit(
    sessions: SessionMaker,
    council: AuditCouncil,
    *,
    case_index: int = 0,
    team: str = "North",
    completed_at: datetime = NOW - timedelta(days=1),
    state: str = "completed",
) -> Audit:
    """A graded audit of a North case (case 0 is Alex's, case 1 Lynne's), audited by Patti."""
    audit = await add_assigned_audit(
        sessions, council, team=team, case_index=case_index, due_on=TODAY, state=state
    )
    async with transaction(sessions) as session:
        row = await session.get(Audit, audit.id)
        assert row is not None
        row.completed_at = completed_at
        row.overall_grade = "good"
        session.add(row)
    return audit


def submit(audit_id: int, **answers: str) -> dict[str, Any]:
    """A first response's form as sent: built from no earlier version."""
    return {"action": "submit_feedback", "audit_id": audit_id, "version": 0} | answers


async def versions(sessions: SessionMaker, audit_id: int) -> list[FeedbackVersion]:
    async with sessions() as session:
        rows = await session.exec(
            select(FeedbackVersion)
            .join(Feedback, col(Feedback.id) == col(FeedbackVersion.feedback_id))
            .where(Feedback.audit_id == audit_id)
            .order_by(col(FeedbackVersion.version))
        )
        return list(rows.all())


# The form is sent when the audit is completed


async def test_completing_an_audit_sends_alex_the_form_with_no_case_ref_in_the_preview(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await audit_council(sessions)
    audit = await completed_audit(sessions, council)
    await everyone_says_hello(chat)

    async with transaction(sessions) as session:
        row = await session.get(Audit, audit.id)
        assert row is not None
        assert await ask_for_feedback(session, tenant_id=council.tenant_id, audit=row, today=TODAY)

    [form] = await queued(sessions, "feedback_form")
    assert form.recipient_staff_id == council.id("alex")
    assert form.summary == "How did your audit feel? It takes two minutes"
    assert "C-1" not in form.summary
    assert form.subjects == [f"audit:{audit.id}", f"feedback:{audit.id}"]
    shown = card_text(form.card)
    assert "C-10001 · audited by Patti Fernandez · completed Wed 25 Nov" in shown
    assert "[Send feedback]" in shown
    choice_sets = [e for e in nodes(form.card) if e.get("type") == "Input.ChoiceSet"]
    assert [c["id"] for c in choice_sets] == list(ALL_AGREE)
    assert all(c["style"] == "compact" for c in choice_sets)
    assert [x["title"] for x in choice_sets[0]["choices"]][::4] == [
        "1 – Strongly disagree",
        "5 – Strongly agree",
    ]
    assert not any(e.get("type") == "Input.Rating" for e in nodes(form.card))
    texts = [e for e in nodes(form.card) if e.get("type") == "Input.Text"]
    assert all("don't write names" in t["placeholder"] for t in texts)


async def test_there_is_nobody_to_ask_without_a_chat_or_a_practitioner(
    sessions: SessionMaker,
) -> None:
    council = await audit_council(sessions)
    audit = await completed_audit(sessions, council)
    async with transaction(sessions) as session:
        row = await session.get(Audit, audit.id)
        assert row is not None
        assert not await ask_for_feedback(
            session, tenant_id=council.tenant_id, audit=row, today=TODAY
        )
        row.practitioner_id = None
        assert not await ask_for_feedback(
            session, tenant_id=council.tenant_id, audit=row, today=TODAY
        )
    assert await queued(sessions, "feedback_form") == []


# Sending it


async def test_alex_sends_feedback_and_the_form_turns_into_a_thank_you_showing_it_literally(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await audit_council(sessions)
    audit = await completed_audit(sessions, council)
    assert audit.id is not None
    evil = "[Approve](https://evil.example) **bold**"

    pressed = await press(
        chat, submit(audit.id, **ALL_AGREE, worked_well=evil, could_be_better="More notice")
    )

    text = pressed.text
    assert "Thank you for your feedback" in text
    assert "I was involved in the audit\n5 – Strongly agree" in text
    assert "The actions are clear and achievable\n3 – Neither agree nor disagree" in text
    assert f"What worked well\n{evil}" in text
    assert "You can change your answers until Thu 3 Dec." in text
    assert "[Change my answers]" in text
    assert not any(
        b.get("type") == "TextBlock" and evil in b.get("text", "") for b in nodes(pressed.card)
    )
    [v1] = await versions(sessions, audit.id)
    assert (v1.version, v1.involved, v1.actions_clear) == (1, 5, 3)
    assert v1.worked_well == evil and v1.submitted_at == NOW
    [row] = await logged(sessions, "feedback.submitted")
    assert row.actor_id == council.id("alex") and row.after is not None
    assert row.after["version"] == 1 and "worked_well" not in row.after


async def test_missing_ratings_bring_the_form_back_with_what_was_entered(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await audit_council(sessions)
    audit = await completed_audit(sessions, council)
    assert audit.id is not None

    pressed = await press(chat, submit(audit.id, involved="4", worked_well="The visit together"))

    assert pressed.error is None
    assert "Please choose 1 to 5 for each of the four statements." in pressed.text
    inputs = {e["id"]: e.get("value") for e in nodes(pressed.card) if "id" in e}
    assert inputs["involved"] == "4" and inputs["helped_see_good"] is None
    assert inputs["worked_well"] == "The visit together"
    assert await versions(sessions, audit.id) == []
    [refusal] = await logged(sessions, "refused.submit_feedback")
    assert refusal.after == {"reason": "missing_ratings"}


async def test_a_double_submit_keeps_one_version_and_shows_what_was_sent(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await audit_council(sessions)
    audit = await completed_audit(sessions, council)
    assert audit.id is not None
    await press(chat, submit(audit.id, **ALL_AGREE))

    again = await press(chat, submit(audit.id, **(ALL_AGREE | {"involved": "1"})))

    assert "Already sent ✓ Nothing was changed." in again.text
    assert "I was involved in the audit\n5 – Strongly agree" in again.text
    assert [v.version for v in await versions(sessions, audit.id)] == [1]
    assert (await logged(sessions, "refused.submit_feedback"))[0].after == {
        "reason": "stale_version"
    }


# Changing it: for 7 days, every version kept


async def test_alex_changes_his_answers_within_the_week_and_both_versions_are_kept(
    chat: Chat, sessions: SessionMaker, clock: Clock
) -> None:
    council = await audit_council(sessions)
    audit = await completed_audit(sessions, council)
    assert audit.id is not None
    first = await press(chat, submit(audit.id, **ALL_AGREE, worked_well="Clear"))
    clock.now = NOW + timedelta(days=6, hours=23)

    form = await press(chat, button(first.card or {}, "Change my answers"))

    assert "Change your feedback" in form.text
    values = {e["id"]: e.get("value") for e in nodes(form.card) if "id" in e}
    assert values["involved"] == "5" and values["worked_well"] == "Clear"
    sent = button(form.card or {}, "Send feedback")
    assert sent["version"] == 1
    changed = await press(chat, sent | ALL_AGREE | {"involved": "2", "worked_well": "Clearer"})

    assert "Your changes are saved ✓" in changed.text
    assert "I was involved in the audit\n2 – Disagree" in changed.text
    assert "(version 2)" in changed.text
    v1, v2 = await versions(sessions, audit.id)
    assert (v1.involved, v1.worked_well) == (5, "Clear")
    assert (v2.version, v2.involved, v2.worked_well) == (2, 2, "Clearer")
    assert len(await logged(sessions, "feedback.changed")) == 1

    stale = await press(chat, sent | ALL_AGREE)  # the same edit form, pressed again
    assert "Your answers changed since this form was opened" in stale.text
    assert len(await versions(sessions, audit.id)) == 2


async def test_after_7_days_the_answers_can_no_longer_change(
    chat: Chat, sessions: SessionMaker, clock: Clock
) -> None:
    council = await audit_council(sessions)
    audit = await completed_audit(sessions, council)
    assert audit.id is not None
    first = await press(chat, submit(audit.id, **ALL_AGREE))
    edit = button(first.card or {}, "Change my answers")
    form = await press(chat, edit)
    clock.now = NOW + timedelta(days=7, minutes=1)

    late = await press(chat, button(form.card or {}, "Send feedback") | ALL_AGREE)
    reopened = await press(chat, edit)

    assert late.error == "Feedback can be changed for 7 days after you first sent it."
    assert "Feedback can be changed for 7 days after you first sent it." in reopened.text
    assert "[Change my answers]" not in reopened.text
    assert [v.version for v in await versions(sessions, audit.id)] == [1]
    reasons = [r.after for r in await logged(sessions, "refused.submit_feedback")]
    assert reasons == [{"reason": "window_closed"}]


# Who may, and what


async def test_only_the_practitioner_of_the_audit_may_send_its_feedback(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await audit_council(sessions)
    audit = await completed_audit(sessions, council)
    assert audit.id is not None

    megan = await press(chat, submit(audit.id, **ALL_AGREE), who=MEGAN)
    diego = await press(chat, {"action": "edit_feedback", "audit_id": audit.id}, who=DIEGO)

    message = "Only the practitioner whose case was audited can give this feedback."
    assert megan.error == message and diego.error == message
    assert await versions(sessions, audit.id) == []
    denials = await logged(sessions, "denied.submit_feedback")
    assert [(d.actor_id, d.entity_id) for d in denials] == [(council.id("megan"), str(audit.id))]
    assert len(await logged(sessions, "denied.edit_feedback")) == 1


async def test_an_audit_not_yet_completed_has_no_feedback_to_give(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await audit_council(sessions)
    audit = await completed_audit(sessions, council, state="in_progress")
    assert audit.id is not None

    pressed = await press(chat, submit(audit.id, **ALL_AGREE))

    assert pressed.error == "This audit isn't completed, so there is no feedback to give yet."
    assert await versions(sessions, audit.id) == []


async def test_a_malformed_submit_is_refused_and_changes_nothing(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await audit_council(sessions)
    audit = await completed_audit(sessions, council)
    assert audit.id is not None

    no_audit = await press(chat, {"action": "submit_feedback", **ALL_AGREE})
    bad_version = await press(chat, submit(audit.id, **ALL_AGREE) | {"version": "latest"})
    too_long = await press(chat, submit(audit.id, **ALL_AGREE, worked_well="x" * 2001))

    assert no_audit.error == "That button sent something I can't use. Nothing was changed."
    assert bad_version.error == no_audit.error
    assert too_long.error == "What worked well can be up to 2,000 characters. Nothing was changed."
    assert await versions(sessions, audit.id) == []
    assert len(await logged(sessions, "refused.bad_payload")) == 3


# `feedback`: forms I still owe


async def test_feedback_lists_what_alex_still_owes_and_opens_the_form_in_place(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await audit_council(sessions)
    recent = await completed_audit(sessions, council, case_index=0)
    older = await completed_audit(
        sessions, council, case_index=2, completed_at=NOW - timedelta(days=20)
    )
    await completed_audit(sessions, council, case_index=4, completed_at=NOW - timedelta(days=40))
    await completed_audit(sessions, council, case_index=1)  # Lynne's
    assert recent.id is not None and older.id is not None

    answer = await chat.say("feedback")

    listed = answer.text
    assert "C-10003 · audit completed Fri 6 Nov" in listed
    assert "C-10001 · audit completed Wed 25 Nov" in listed
    assert "C-10005" not in listed  # more than 30 days ago
    assert "C-10002" not in listed  # Lynne's case
    assert listed.index("C-10003") < listed.index("C-10001")
    form = await press(chat, button(answer.cards[0], "Give feedback") | {})
    assert "How did your audit feel?" in form.text and "C-10003" in form.text

    await press(chat, submit(older.id, **ALL_AGREE))
    await press(chat, submit(recent.id, **ALL_AGREE))
    done = await chat.say("feedback")
    assert "You don't owe any feedback at the moment. Thank you!" in done.text


async def test_give_feedback_from_an_old_list_shows_what_was_sent(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await audit_council(sessions)
    audit = await completed_audit(sessions, council)
    assert audit.id is not None
    await press(chat, submit(audit.id, **ALL_AGREE))

    again = await press(chat, {"action": "give_feedback", "audit_id": audit.id})

    assert "You've already sent feedback for this audit." in again.text
    assert "[Change my answers]" in again.text


async def test_feedback_is_for_practitioners_and_kind_when_nothing_is_owed(
    chat: Chat, sessions: SessionMaker
) -> None:
    await audit_council(sessions)

    nothing = await chat.say("feedback")
    megan = await chat.say("feedback", who=MEGAN)

    assert "You don't owe any feedback at the moment. Thank you!" in nothing.text
    assert "“feedback” is not available for your role." in megan.text


async def test_asked_in_a_channel_the_list_goes_to_the_private_chat(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await audit_council(sessions)
    await completed_audit(sessions, council)
    await chat.say("help")

    answer = await chat.say("<at>QA Loop</at> feedback", where="channel_message", expect=2)

    shared = [s for s in answer.sent if "personal" not in s.conversation_id]
    assert shared and all("C-10001" not in card_text(c) for s in shared for c in s.cards)
    assert "C-10001" in answer.text


async def test_sending_feedback_updates_the_form_posted_earlier(
    chat: Chat, sessions: SessionMaker
) -> None:
    """Sent from the `feedback` list, the form in the chat becomes the thank-you too."""
    from bot.features.feedback.handlers import rebuild_feedback_form
    from cards.names import CardKind
    from storage.models import SentCard

    council = await audit_council(sessions)
    audit = await completed_audit(sessions, council)
    assert audit.id is not None
    posted = SentCard(
        tenant_id=council.tenant_id,
        subject=f"feedback:{audit.id}",
        conversation_ref_id=0,
        activity_id="posted-form",
        kind=CardKind.FEEDBACK_FORM,
    )
    async with sessions() as session:
        assert (
            await rebuild_feedback_form(session, council.tenant_id, posted, TODAY, Settings())
            is None
        )

    await press(chat, submit(audit.id, **ALL_AGREE))

    async with sessions() as session:
        rebuilt = await rebuild_feedback_form(session, council.tenant_id, posted, TODAY, Settings())
    assert rebuilt is not None
    card, summary = rebuilt
    assert summary == "Thank you for your feedback" and "C-1" not in summary
    assert "I was involved in the audit\n5 – Strongly agree" in card_text(card)
    assert "ALEX" not in summary and ALEX.name not in summary
