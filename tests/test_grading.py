"""Grading an audit from cards: Record grades, the limiting judgement, SMART actions and Complete
audit. Conversations over HTTP on a fixed clock (Thu 26 Nov 2026 10:02); the database shows what
changed, the outbox what was queued for other people.

Diego (auditor, South team) audits a North case of Lynne's; Megan is Lynne's team manager; Patti
is QA; Alex is another auditor.
"""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

import pytest
from sqlmodel import col, select

from storage.db import SessionMaker, transaction
from storage.models import Action, ConversationRef, Delivery, SentCard
from tests.chat import (
    ALEX,
    DIEGO,
    LYNNE,
    PATTI,
    TENANT,
    Chat,
    Pressed,
    button,
    buttons,
    card_text,
    inputs,
    press,
)
from tests.fake_connector import Sent
from tests.helpers import (
    NOW,
    AuditCouncil,
    add_assigned_audit,
    audit_council,
    audit_row,
    everyone_says_hello,
    logged,
    queued,
)

pytestmark = pytest.mark.clock(NOW)  # Thu 26 Nov 2026, 10:02 in London


DUE = date(2026, 12, 10)
NEXT_WEEK = "2026-12-03"  # a Thursday
ALL_GOOD = {
    "grade_heart": "good",
    "grade_assessment": "good",
    "grade_plans": "good",
    "grade_records": "good",
    "grade_oversight": "good",
    "grade_strengths": "good",
    "overall_grade": "good",
}


# Reading cards


def values(card: dict[str, Any]) -> dict[str, Any]:
    return {i: e.get("value") for i, e in inputs(card).items() if e.get("value") is not None}


# Setting up


async def diego_s_audit(
    sessions: SessionMaker, *, state: str = "assigned"
) -> tuple[AuditCouncil, int]:
    council = await audit_council(sessions)
    audit = await add_assigned_audit(
        sessions, council, case_index=1, auditor="diego", due_on=DUE, state=state
    )
    assert audit.id is not None
    return council, audit.id


async def audit_actions(sessions: SessionMaker, audit_id: int) -> list[Action]:
    async with sessions() as session:
        rows = await session.exec(
            select(Action).where(Action.audit_id == audit_id).order_by(col(Action.id))
        )
        return list(rows.all())


async def save(chat: Chat, audit_id: int, *, who: Any = DIEGO, **fields: Any) -> Pressed:
    return await press(
        chat, {"action": "save_grades", "audit_id": audit_id, **ALL_GOOD, **fields}, who=who
    )


def draft_for(card: dict[str, Any], form: str, **typed: str) -> dict[str, Any]:
    """Pressing a form's Add action after typing into it (Teams sends every input of the card)."""
    data = _form_button(card, form)
    sent = {i: e.get("value", "") for i, e in inputs(card).items()}
    sent |= {f"{name}_{form}": value for name, value in typed.items()}
    return data | sent


def _form_button(card: dict[str, Any], form: str) -> dict[str, Any]:
    for found in buttons(card):
        if found["data"].get("form") == form:
            return dict(found["data"])
    raise AssertionError(f"no form {form!r} on the card:\n{card_text(card)}")


async def graded_with_plans_needing_improvement(
    chat: Chat, sessions: SessionMaker
) -> tuple[AuditCouncil, int, Pressed]:
    council, audit_id = await diego_s_audit(sessions)
    await everyone_says_hello(chat)
    await press(chat, {"action": "open_grading", "audit_id": audit_id}, who=DIEGO)
    saved = await save(
        chat,
        audit_id,
        grade_plans="requires_improvement",
        grade_records="requires_improvement",
        overall_grade="requires_improvement",
        summary="Plans drift after review",
    )
    return council, audit_id, saved


async def arrivals(chat: Chat, conversation: str, *, since: int, count: int) -> list[Sent]:
    """The first `count` messages to reach `conversation` after the first `since` of all sent."""
    for _ in range(50):
        found = [s for s in chat.connector.sent[since:] if s.conversation_id == conversation]
        if len(found) >= count:
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"{len(found)} of {count} messages reached {conversation}")


async def sent_delivery(sessions: SessionMaker, delivery_id: int | None) -> Delivery:
    """The delivery once the sender has sent it."""
    for _ in range(50):
        async with sessions() as session:
            delivery = await session.get(Delivery, delivery_id)
        if delivery is not None and delivery.state == "sent":
            return delivery
        await asyncio.sleep(0.1)
    raise AssertionError(f"delivery {delivery_id} was not sent")


# Record grades


async def test_diego_records_grades_from_my_audits_and_the_audit_is_in_progress(
    chat: Chat, sessions: SessionMaker
) -> None:
    council, audit_id = await diego_s_audit(sessions)

    my_audits = (await chat.say("my audits", who=DIEGO)).cards[0]
    data = button(my_audits, "Record grades")
    assert data == {"action": "open_grading", "audit_id": audit_id}
    form = await press(chat, data, who=DIEGO)

    assert form.card is not None
    assert "Record grades" in form.text and "C-10002" in form.text
    shown = inputs(form.card)
    assert [shown[f"grade_{s}"]["label"] for s in ("heart", "plans", "strengths")] == [
        "Children and families at the heart of everything we do",
        "Plans are good quality and SMART",
        "Strengths-based approach",
    ]
    assert [c["value"] for c in shown["overall_grade"]["choices"]] == [
        "outstanding",
        "good",
        "requires_improvement",
        "inadequate",
    ]
    assert {"summary", "strengths_seen", "limiting_reason"} <= set(shown)
    assert shown["risk_identified"]["type"] == "Input.Toggle"
    assert "Limiting judgement" in form.text
    assert button(form.card, "Save grades") == {"action": "save_grades", "audit_id": audit_id}
    assert (await audit_row(sessions, audit_id)).state == "in_progress"
    [started] = await logged(sessions, "audit.started")
    assert started.actor_id == council.id("diego") and started.entity_id == str(audit_id)
    assert started.before == {"state": "assigned"} and started.after == {"state": "in_progress"}


async def test_my_audits_offers_record_grades_only_on_my_own_open_audits(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await audit_council(sessions)
    await add_assigned_audit(sessions, council, case_index=1, auditor="diego", due_on=DUE)
    await add_assigned_audit(
        sessions, council, case_index=3, auditor="diego", due_on=DUE, state="completed"
    )

    mine = (await chat.say("my audits", who=DIEGO)).cards[0]
    of_lynne_s_case = (await chat.say("my audits", who=LYNNE)).cards[0]

    assert card_text(mine).count("[Record grades]") == 1
    assert "[Record grades]" not in card_text(of_lynne_s_case)


async def test_a_missing_grade_brings_the_form_back_with_what_was_chosen_kept(
    chat: Chat, sessions: SessionMaker
) -> None:
    _, audit_id = await diego_s_audit(sessions)

    again = await save(
        chat,
        audit_id,
        grade_oversight="",
        summary="Good plans [x](https://x.test)",
        risk_identified="true",
    )

    assert again.card is not None
    assert (
        "Please choose a grade for every standard and overall. "
        "Still to grade: Regular management oversight." in again.text
    )
    kept = values(again.card)
    assert kept["grade_heart"] == "good" and "grade_oversight" not in kept
    assert kept["summary"] == "Good plans [x](https://x.test)"
    assert kept["risk_identified"] == "true"
    unsaved = await audit_row(sessions, audit_id)
    assert unsaved.grade_heart is None and unsaved.overall_grade is None
    assert await logged(sessions, "audit.graded") == []
    [refusal] = await logged(sessions, "refused.save_grades")
    assert refusal.after == {"reason": "grades_missing"}


async def test_an_inadequate_standard_with_a_better_overall_grade_needs_a_written_reason(
    chat: Chat, sessions: SessionMaker
) -> None:
    _, audit_id = await diego_s_audit(sessions)

    again = await save(
        chat,
        audit_id,
        grade_records="inadequate",
        overall_grade="requires_improvement",
        strengths_seen="Warm relationship with the family",
    )

    assert again.card is not None
    assert (
        "Inadequate: Records are clear and accessible. So the overall grade is Inadequate, "
        "unless you say why it should be Requires improvement." in again.text
    )
    kept = values(again.card)
    assert kept["grade_records"] == "inadequate"
    assert kept["overall_grade"] == "requires_improvement"
    assert kept["strengths_seen"] == "Warm relationship with the family"
    assert (await audit_row(sessions, audit_id)).overall_grade is None

    saved = await save(
        chat,
        audit_id,
        grade_records="inadequate",
        overall_grade="requires_improvement",
        limiting_reason="Records gap is one late case note; practice itself is sound",
    )

    assert "Grades saved ✓" in saved.text
    audit = await audit_row(sessions, audit_id)
    assert audit.grade_records == "inadequate" and audit.overall_grade == "requires_improvement"
    assert audit.limiting_reason == "Records gap is one late case note; practice itself is sound"
    [graded] = await logged(sessions, "audit.graded")
    assert graded.after is not None and graded.after["overall_grade"] == "requires_improvement"


async def test_inadequate_overall_needs_no_reason_and_a_reason_not_needed_is_not_kept(
    chat: Chat, sessions: SessionMaker
) -> None:
    _, audit_id = await diego_s_audit(sessions)

    saved = await save(
        chat,
        audit_id,
        grade_records="inadequate",
        overall_grade="inadequate",
        limiting_reason="Not an override",
        risk_identified="true",
    )

    assert "Grades saved ✓" in saved.text
    audit = await audit_row(sessions, audit_id)
    assert audit.overall_grade == "inadequate" and audit.limiting_reason is None
    assert audit.risk_identified is True and audit.state == "in_progress"


async def test_saved_grades_offer_a_draft_action_for_each_standard_needing_improvement(
    chat: Chat, sessions: SessionMaker
) -> None:
    council, audit_id, saved = await graded_with_plans_needing_improvement(chat, sessions)

    assert saved.card is not None
    text = saved.text
    assert "Plans are good quality and SMART: Requires improvement" in text
    assert "Summary: Plans drift after review" in text
    assert "Draft action: Plans are good quality and SMART" in text
    assert "Draft action: Records are clear and accessible" in text
    assert "Draft action: Children and families" not in text
    assert {"what_plans", "measure_plans", "owner_plans", "due_on_plans", "what_any"} <= set(
        inputs(saved.card)
    )
    owner = inputs(saved.card)["owner_plans"]
    assert owner["value"] == str(council.id("lynne"))  # the practitioner, by default
    assert [c["title"] for c in owner["choices"]] == [
        "Lynne Robbins (practitioner)",
        "Megan Bowen (team manager)",
        "Diego Siciliani (auditor)",
    ]
    assert next(c["value"] for c in inputs(saved.card)["standard_any"]["choices"]) == "heart"
    assert _form_button(saved.card, "plans") == {
        "action": "add_action",
        "form": "plans",
        "standard": "plans",
        "audit_id": audit_id,
    }
    assert "[Add an action]" in text and "[Change grades]" in text
    assert "[Complete audit]" in text

    change = await press(chat, button(saved.card, "Change grades"), who=DIEGO)
    assert values(change.card or {})["grade_plans"] == "requires_improvement"
    assert values(change.card or {})["summary"] == "Plans drift after review"


async def test_saving_the_same_grades_twice_changes_nothing_more(
    chat: Chat, sessions: SessionMaker
) -> None:
    _, audit_id = await diego_s_audit(sessions)
    await save(chat, audit_id)

    again = await save(chat, audit_id)

    assert "Grades saved ✓" in again.text
    assert len(await logged(sessions, "audit.graded")) == 1


# SMART actions


async def test_an_action_that_is_not_smart_comes_back_with_a_message_per_field(
    chat: Chat, sessions: SessionMaker
) -> None:
    _, audit_id, saved = await graded_with_plans_needing_improvement(chat, sessions)
    assert saved.card is not None
    data = draft_for(
        saved.card, "plans", what="Update the plan", measure="Done", due_on="2026-11-26"
    )
    data["what_records"] = "Typed in the other form"

    again = await press(chat, data, who=DIEGO)

    assert again.card is not None
    assert "This action isn't SMART yet, so nothing was added." in again.text
    assert "Say how we will know in a few more words" in again.text
    assert "Today is not in the future. Choose a later working day." in again.text
    kept = values(again.card)
    assert kept["what_plans"] == "Update the plan" and kept["measure_plans"] == "Done"
    assert kept["due_on_plans"] == "2026-11-26"
    assert kept["what_records"] == "Typed in the other form"
    assert await audit_actions(sessions, audit_id) == []
    [refusal] = await logged(sessions, "refused.add_action")
    assert refusal.after == {"reason": "not_smart: due_on, measure"}


async def test_a_due_date_must_be_a_working_day(chat: Chat, sessions: SessionMaker) -> None:
    _, audit_id, saved = await graded_with_plans_needing_improvement(chat, sessions)
    assert saved.card is not None
    smart = {"what": "Update the plan with dates", "measure": "Plan on file, seen by the TM"}

    saturday = await press(
        chat, draft_for(saved.card, "plans", **smart, due_on="2026-11-28"), who=DIEGO
    )
    christmas = await press(
        chat, draft_for(saved.card, "plans", **smart, due_on="2026-12-25"), who=DIEGO
    )
    missing = await press(chat, draft_for(saved.card, "plans", **smart, due_on=""), who=DIEGO)

    assert "Sat 28 Nov is not a working day." in saturday.text
    assert "Fri 25 Dec is not a working day." in christmas.text
    assert "Choose a due date." in missing.text
    assert await audit_actions(sessions, audit_id) == []


async def test_adding_an_action_stores_it_tells_the_owner_and_lists_it(
    chat: Chat, sessions: SessionMaker
) -> None:
    council, audit_id, saved = await graded_with_plans_needing_improvement(chat, sessions)
    assert saved.card is not None
    data = draft_for(
        saved.card,
        "plans",
        what="Update the child's plan with dates",
        measure="Plan on file with dates, reviewed at the next CP conference",
        due_on=NEXT_WEEK,
    )
    data["what_records"] = "Half-typed records action"

    added = await press(chat, data, who=DIEGO)

    [action] = await audit_actions(sessions, audit_id)
    assert action.id is not None
    assert (action.source, action.standard, action.state) == ("audit", "plans", "open")
    assert action.owner_id == council.id("lynne") and action.created_by == council.id("diego")
    assert action.due_on == date(2026, 12, 3)
    assert f"Action #{action.id} added ✓ for Lynne Robbins, due Thu 3 Dec." in added.text
    assert "I've told Lynne Robbins." in added.text
    assert "Update the child's plan with dates" in added.text
    assert "Owner: Lynne Robbins · due Thu 3 Dec" in added.text
    assert "Draft action: Plans" not in added.text  # it has its action now
    assert "Draft action: Records" in added.text
    assert added.card is not None
    assert values(added.card)["what_records"] == "Half-typed records action"
    [created] = await logged(sessions, "action.created")
    assert created.actor_id == council.id("diego") and created.entity_id == str(action.id)
    assert created.after is not None and created.after["audit_id"] == audit_id
    [told] = await queued(sessions, "action_assigned")
    assert told.recipient_staff_id == council.id("lynne")
    assert told.summary == "Diego Siciliani gave you a new QA action"
    assert "C-1" not in told.summary
    assert told.subjects == [f"action:{action.id}"]
    shown = card_text(told.card)
    assert "C-10002" in shown and "Plan on file with dates" in shown
    assert "[Mark done]" in shown and "[Ask for more time]" in shown


async def test_pressing_add_action_twice_adds_it_once(chat: Chat, sessions: SessionMaker) -> None:
    _, audit_id, saved = await graded_with_plans_needing_improvement(chat, sessions)
    assert saved.card is not None
    data = draft_for(
        saved.card,
        "plans",
        what="Update the plan with dates",
        measure="Plan on file, seen by the TM",
        due_on=NEXT_WEEK,
    )
    await press(chat, data, who=DIEGO)

    again = await press(chat, data, who=DIEGO)

    [action] = await audit_actions(sessions, audit_id)
    assert f"Already added: action #{action.id}." in again.text
    assert len(await queued(sessions, "action_assigned")) == 1
    assert len(await logged(sessions, "action.created")) == 1


async def test_an_action_for_any_standard_can_go_to_someone_else_by_email(
    chat: Chat, sessions: SessionMaker
) -> None:
    council, audit_id, saved = await graded_with_plans_needing_improvement(chat, sessions)
    assert saved.card is not None
    smart = {
        "what": "Share the learning at the team meeting",
        "measure": "Minutes of the South team meeting show it",
        "due_on": NEXT_WEEK,
        "standard": "heart",
    }

    unknown = await press(
        chat, draft_for(saved.card, "any", **smart, owner_email="nobody@example.com"), who=DIEGO
    )
    no_standard = await press(
        chat,
        draft_for(
            saved.card, "any", **(smart | {"standard": ""}), owner_email="NestorW@example.com"
        ),
        who=DIEGO,
    )
    added = await press(
        chat, draft_for(saved.card, "any", **smart, owner_email=" NestorW@example.com "), who=DIEGO
    )

    assert "I can't find anyone in QA Loop with that email." in unknown.text
    assert values(unknown.card or {})["owner_email_any"] == "nobody@example.com"
    assert "Choose the practice standard this action improves." in no_standard.text
    [action] = await audit_actions(sessions, audit_id)
    assert action.owner_id == council.id("nestor") and action.standard == "heart"
    assert "added ✓ for Nestor Wilke" in added.text


async def test_an_action_the_auditor_owns_is_not_sent_to_them(
    chat: Chat, sessions: SessionMaker
) -> None:
    council, _audit_id, saved = await graded_with_plans_needing_improvement(chat, sessions)
    assert saved.card is not None
    data = draft_for(
        saved.card,
        "plans",
        what="Check the plan again in a month",
        measure="Audit note added to the case file",
        due_on=NEXT_WEEK,
        owner=str(council.id("diego")),
    )

    added = await press(chat, data, who=DIEGO)

    assert "added ✓ for you, due Thu 3 Dec." in added.text
    assert await queued(sessions, "action_assigned") == []


# Completing


async def test_completing_records_who_and_when_and_asks_the_practitioner_for_feedback(
    chat: Chat, sessions: SessionMaker
) -> None:
    council, audit_id, saved = await graded_with_plans_needing_improvement(chat, sessions)
    assert saved.card is not None

    done = await press(chat, button(saved.card, "Complete audit"), who=DIEGO)

    assert "Completed ✓ by Diego Siciliani, 26 Nov 10:02" in done.text
    assert "Requires improvement" in done.text
    assert list(buttons(done.card or {})) == []
    audit = await audit_row(sessions, audit_id)
    assert audit.state == "completed" and audit.completed_at == NOW
    assert audit.completed_by == council.id("diego")
    [completed] = await logged(sessions, "audit.completed")
    assert completed.actor_id == council.id("diego") and completed.before == {
        "state": "in_progress"
    }
    [form] = await queued(sessions, "feedback_form")
    assert form.recipient_staff_id == council.id("lynne")
    assert "C-1" not in form.summary
    assert await queued(sessions, "inadequate_alert") == []
    # The answer is the My audits card (the sender may deliver other cards to Diego meanwhile).
    answer = await chat.say("my audits", who=DIEGO)
    [my_audits] = [t for t in map(card_text, answer.cards) if t.startswith("My audits")]
    assert "Completed" in my_audits and "[Record grades]" not in my_audits


async def test_lynne_gets_her_audit_in_her_chat_with_her_actions_then_the_feedback_form(
    chat: Chat, sessions: SessionMaker
) -> None:
    council, audit_id = await diego_s_audit(sessions)
    await everyone_says_hello(chat)
    await press(chat, {"action": "open_grading", "audit_id": audit_id}, who=DIEGO)
    saved = await save(
        chat,
        audit_id,
        grade_plans="requires_improvement",
        grade_records="inadequate",
        overall_grade="requires_improvement",
        limiting_reason="The child is safe; the records are catching up",
        summary="Plans drift after review",
        strengths_seen="Warm, **direct** work with [the family](https://evil.example)",
    )
    assert saved.card is not None
    plans = draft_for(
        saved.card,
        "plans",
        what="Date every step of the plan",
        measure="Plan on file",
        due_on=NEXT_WEEK,
    )
    working = await press(chat, plans, who=DIEGO)
    assert working.card is not None
    records = draft_for(
        working.card,
        "records",
        what="Bring the case records up to date",
        measure="Records current at supervision",
        due_on=NEXT_WEEK,
        owner=str(council.id("megan")),
    )
    working = await press(chat, records, who=DIEGO)
    assert working.card is not None
    lynne_s, megan_s = await audit_actions(sessions, audit_id)
    assert megan_s.owner_id == council.id("megan")
    lynne_chat = f"a:personal-{LYNNE.teams_id}"
    before = len(chat.connector.sent)

    await press(chat, button(working.card, "Complete audit"), who=DIEGO)

    [result] = await queued(sessions, "audit_result")
    [form] = await queued(sessions, "feedback_form")
    assert result.recipient_staff_id == council.id("lynne")
    assert result.id is not None and form.id is not None and result.id < form.id
    assert result.summary == "Your audit is complete: your grades and actions"
    assert "C-1" not in result.summary
    assert result.subjects == [f"action:{lynne_s.id}"]
    arrived = await arrivals(chat, lynne_chat, since=before, count=2)
    [shown] = [card_text(c) for s in arrived for c in s.cards if c == result.card]
    assert "C-10002 · Collaborative audit" in shown
    assert "Audited by Diego Siciliani · completed today" in shown
    assert "Plans are good quality and SMART: Requires improvement" in shown
    assert "Records are clear and accessible: Inadequate" in shown
    assert "Overall: Requires improvement" in shown
    assert (
        "Why better than an inadequate standard: The child is safe; the records are catching up"
        in shown
    )
    assert "Strengths seen: Warm, **direct** work with [the family](https://evil.example)" in shown
    assert "Summary: Plans drift after review" in shown
    assert "Date every step of the plan" in shown and "Due Thu 3 Dec" in shown
    assert "Bring the case records up to date" not in shown
    assert "1 other action from this audit is with someone else." in shown
    assert "[My actions]" in shown


async def test_lynne_s_audit_card_shows_her_action_done_once_she_marks_it(
    chat: Chat, sessions: SessionMaker
) -> None:
    _, audit_id, saved = await graded_with_plans_needing_improvement(chat, sessions)
    assert saved.card is not None
    plans = draft_for(
        saved.card,
        "plans",
        what="Date every step of the plan",
        measure="Plan on file",
        due_on=NEXT_WEEK,
    )
    working = await press(chat, plans, who=DIEGO)
    assert working.card is not None
    await press(chat, button(working.card, "Complete audit"), who=DIEGO)
    [action] = await audit_actions(sessions, audit_id)
    [result] = await queued(sessions, "audit_result")
    posted = await sent_delivery(sessions, result.id)
    [told] = await queued(sessions, "action_assigned")

    await press(chat, button(told.card, "Mark done"), who=LYNNE, on="action-card")

    [update] = [
        d
        for d in await queued(sessions, "audit_result")
        if d.replaces_activity_id == posted.activity_id
    ]
    assert f"#{action.id}" in card_text(update.card)
    assert "Due Thu 3 Dec · done ✓" in card_text(update.card)


async def test_an_action_typed_but_not_added_stops_completing_and_is_kept(
    chat: Chat, sessions: SessionMaker
) -> None:
    _, audit_id, saved = await graded_with_plans_needing_improvement(chat, sessions)
    assert saved.card is not None
    offered = {i: e.get("value", "") for i, e in inputs(saved.card).items()}
    typed = offered | {"what_plans": "Review the plan with the family", "measure_plans": "On file"}

    pressed = await press(chat, button(saved.card, "Complete audit") | typed, who=DIEGO)

    assert "The audit is not completed yet: an action is typed but not added" in pressed.text
    assert "Typed but not added yet." in pressed.text
    assert pressed.card is not None
    kept = values(pressed.card)
    assert (kept["what_plans"], kept["measure_plans"]) == (
        "Review the plan with the family",
        "On file",
    )
    assert (await audit_row(sessions, audit_id)).state == "in_progress"
    assert await logged(sessions, "audit.completed") == []
    assert await queued(sessions, "feedback_form") == []
    [refused] = await logged(sessions, "refused.complete_audit")
    assert refused.after == {"reason": "action_not_added: plans"}

    # Cleared (the forms as first offered), it completes.
    done = await press(chat, button(pressed.card, "Complete audit") | offered, who=DIEGO)
    assert "Completed ✓ by Diego Siciliani" in done.text
    assert (await audit_row(sessions, audit_id)).state == "completed"


async def test_completing_an_inadequate_audit_alerts_the_managers(
    chat: Chat, sessions: SessionMaker
) -> None:
    _, audit_id = await diego_s_audit(sessions)
    await everyone_says_hello(chat)
    saved = await save(chat, audit_id, grade_records="inadequate", overall_grade="inadequate")
    assert saved.card is not None

    done = await press(chat, button(saved.card, "Complete audit"), who=DIEGO)

    assert "Completed ✓ by Diego Siciliani" in done.text
    assert (await audit_row(sessions, audit_id)).state == "completed"
    alerts = await queued(sessions, "inadequate_alert")
    assert alerts and all("C-1" not in a.summary for a in alerts)


async def test_risk_identified_at_a_good_grade_makes_a_child_visit_due_and_tells_tm_sm_and_qa(
    chat: Chat, sessions: SessionMaker
) -> None:
    council, audit_id = await diego_s_audit(sessions)
    await everyone_says_hello(chat)
    saved = await save(chat, audit_id, risk_identified="true")
    assert saved.card is not None

    done = await press(chat, button(saved.card, "Complete audit"), who=DIEGO)

    assert "As risk was identified, I've told the team manager, service manager and QA team." in (
        done.text
    )
    assert "The child visit is due by tomorrow." in done.text
    [visit] = await audit_actions(sessions, audit_id)  # no action meeting: it is not inadequate
    assert (visit.source, visit.owner_id, visit.due_on, visit.state) == (
        "child_visit",
        council.id("lynne"),  # the practitioner visits
        date(2026, 11, 27),  # the next working day
        "open",
    )
    audit = await audit_row(sessions, audit_id)
    assert (audit.visit_due_on, audit.meeting_due_on) == (date(2026, 11, 27), None)
    alerts = await queued(sessions, "inadequate_alert")
    assert sorted(a.recipient_staff_id or 0 for a in alerts) == sorted(
        council.id(k) for k in ("megan", "adele", "patti")
    )  # TM, SM and QA; not the head of service, as for an inadequate audit
    assert {a.summary for a in alerts} == {
        "Risk was identified in an audit: child visit due tomorrow"
    }
    shown = card_text(alerts[0].card)
    assert "Risk identified: visit due" in shown
    assert "Overall: Good" in shown
    assert "Due tomorrow  ·  by the next working day" in shown
    assert "[Visit done]" in shown
    assert "Meeting" not in shown and "Inadequate audit" not in shown
    [to_lynne] = await queued(sessions, "child_visit_due")
    assert to_lynne.recipient_staff_id == council.id("lynne")
    assert "identified risk. Please visit the child" in card_text(to_lynne.card)
    # Her audit, after the visit card and before the feedback form, lists the visit as hers.
    [result] = await queued(sessions, "audit_result")
    [form] = await queued(sessions, "feedback_form")
    assert to_lynne.id < result.id < form.id
    assert visit.what in card_text(result.card)


async def test_a_second_complete_says_where_it_stands_and_changes_nothing(
    chat: Chat, sessions: SessionMaker, clock: Any
) -> None:
    _, audit_id, saved = await graded_with_plans_needing_improvement(chat, sessions)
    assert saved.card is not None
    await press(chat, button(saved.card, "Complete audit"), who=DIEGO)

    clock.now = NOW.replace(hour=11)
    again = await press(chat, button(saved.card, "Complete audit"), who=DIEGO)

    assert "Already completed ✓ by Diego Siciliani, 26 Nov 10:02." in again.text
    assert (await audit_row(sessions, audit_id)).completed_at == NOW
    assert len(await logged(sessions, "audit.completed")) == 1
    assert len(await queued(sessions, "feedback_form")) == 1
    [repeat] = await logged(sessions, "refused.complete_audit")
    assert repeat.after == {"reason": "already_completed"}


async def test_a_double_click_on_complete_audit_completes_it_once(
    chat: Chat, sessions: SessionMaker
) -> None:
    _, audit_id, saved = await graded_with_plans_needing_improvement(chat, sessions)
    assert saved.card is not None

    pressed = await asyncio.gather(
        press(chat, button(saved.card, "Complete audit"), who=DIEGO),
        press(chat, button(saved.card, "Complete audit"), who=DIEGO),
    )

    assert sorted("Already completed" in p.text for p in pressed) == [False, True]
    assert len(await logged(sessions, "audit.completed")) == 1
    assert len(await queued(sessions, "feedback_form")) == 1
    assert (await audit_row(sessions, audit_id)).state == "completed"


async def test_an_audit_cannot_be_completed_before_its_grades_are_saved(
    chat: Chat, sessions: SessionMaker
) -> None:
    _, audit_id = await diego_s_audit(sessions, state="in_progress")

    pressed = await press(chat, {"action": "complete_audit", "audit_id": audit_id}, who=DIEGO)

    assert pressed.error == "Please save the grades before completing the audit."
    assert (await audit_row(sessions, audit_id)).state == "in_progress"


async def test_completing_updates_the_posted_audit_cards(
    chat: Chat, sessions: SessionMaker
) -> None:
    _, audit_id, saved = await graded_with_plans_needing_improvement(chat, sessions)
    assert saved.card is not None
    async with transaction(sessions) as session:
        ref = (
            await session.exec(
                select(ConversationRef).where(
                    ConversationRef.conversation_id == f"a:personal-{DIEGO.teams_id}"
                )
            )
        ).one()
        session.add(
            SentCard(
                tenant_id=TENANT,
                subject=f"audit:{audit_id}",
                conversation_ref_id=ref.id or 0,
                activity_id="assigned-to-diego",
                kind="audit_assigned",
            )
        )

    await press(chat, button(saved.card, "Complete audit"), who=DIEGO)

    [update] = [
        d
        for d in await queued(sessions, "audit_assigned")
        if d.replaces_activity_id == "assigned-to-diego"
    ]
    assert "[Record grades]" not in card_text(update.card)


# The wrong person, stale cards and malformed presses


async def test_only_the_auditor_or_qa_may_grade(chat: Chat, sessions: SessionMaker) -> None:
    council, audit_id = await diego_s_audit(sessions)

    lynne = await press(chat, {"action": "open_grading", "audit_id": audit_id}, who=LYNNE)
    alex = await save(chat, audit_id, who=ALEX)
    patti = await press(chat, {"action": "open_grading", "audit_id": audit_id}, who=PATTI)

    expected = (
        "Only the audit's auditor or the QA team can do this. This audit is with Diego Siciliani."
    )
    assert lynne.error == expected and alex.error == expected
    assert "Record grades" in patti.text
    audit = await audit_row(sessions, audit_id)
    assert audit.overall_grade is None
    [denied] = await logged(sessions, "denied.open_grading")
    assert denied.actor_id == council.id("lynne") and denied.entity == "audit"
    assert denied.after == {"reason": "not_auditor"}
    assert len(await logged(sessions, "denied.save_grades")) == 1
    [started] = await logged(sessions, "audit.started")
    assert started.actor_id == council.id("patti")


async def test_a_stale_card_says_where_the_audit_stands(chat: Chat, sessions: SessionMaker) -> None:
    council = await audit_council(sessions)
    cancelled = await add_assigned_audit(
        sessions, council, case_index=1, auditor="diego", due_on=DUE, state="cancelled"
    )
    declined = await add_assigned_audit(
        sessions, council, case_index=3, auditor="diego", due_on=DUE, state="declined"
    )

    on_cancelled = await press(
        chat, {"action": "open_grading", "audit_id": cancelled.id}, who=DIEGO
    )
    on_declined = await save(chat, declined.id or 0)

    assert "This audit was cancelled, so there is nothing to grade." in on_cancelled.text
    assert "This audit was declined, so there is nothing to grade." in on_declined.text
    assert (await audit_row(sessions, declined.id or 0)).overall_grade is None
    assert [r.after for r in await logged(sessions, "refused.open_grading")] == [
        {"reason": "already_cancelled"}
    ]


async def test_a_working_card_pressed_after_completion_changes_nothing(
    chat: Chat, sessions: SessionMaker
) -> None:
    _, audit_id, saved = await graded_with_plans_needing_improvement(chat, sessions)
    assert saved.card is not None
    await press(chat, button(saved.card, "Complete audit"), who=DIEGO)
    data = draft_for(
        saved.card,
        "plans",
        what="Update the plan with dates",
        measure="Plan on file, seen by the TM",
        due_on=NEXT_WEEK,
    )

    late = await press(chat, data, who=DIEGO)
    regrade = await press(chat, button(saved.card, "Change grades"), who=DIEGO)

    expected = (
        "This audit was completed by Diego Siciliani on 26 Nov 10:02, so it can't be changed here."
    )
    assert expected in late.text and expected in regrade.text
    assert await audit_actions(sessions, audit_id) == []


async def test_malformed_presses_are_refused_and_change_nothing(
    chat: Chat, sessions: SessionMaker
) -> None:
    _, audit_id = await diego_s_audit(sessions, state="in_progress")

    bad_grade = await save(chat, audit_id, grade_heart="excellent")
    bad_id = await press(chat, {"action": "open_grading", "audit_id": "12; drop"}, who=DIEGO)
    no_such = await press(chat, {"action": "complete_audit", "audit_id": 999_999}, who=DIEGO)
    bad_date = await press(
        chat,
        {"action": "add_action", "audit_id": audit_id, "form": "plans", "due_on_plans": "31/02"},
        who=DIEGO,
    )

    assert bad_grade.error == "That button sent something I can't use. Nothing was changed."
    assert bad_id.error == "That button sent something I can't use. Nothing was changed."
    assert no_such.error == "I can't find that audit. It may have been removed."
    assert bad_date.error == "Please choose the due date from the calendar. Nothing was changed."
    assert (await audit_row(sessions, audit_id)).grade_heart is None
    assert len(await logged(sessions, "refused.bad_payload")) == 3


async def test_the_owner_s_action_card_changes_in_place_when_they_mark_it_done(
    chat: Chat, sessions: SessionMaker
) -> None:
    _, audit_id, saved = await graded_with_plans_needing_improvement(chat, sessions)
    assert saved.card is not None
    data = draft_for(
        saved.card,
        "plans",
        what="Update the plan with dates",
        measure="Plan on file, seen by the TM",
        due_on=NEXT_WEEK,
    )
    await press(chat, data, who=DIEGO)
    [told] = await queued(sessions, "action_assigned")
    [action] = await audit_actions(sessions, audit_id)
    async with transaction(sessions) as session:
        ref = (
            await session.exec(
                select(ConversationRef).where(
                    ConversationRef.conversation_id == f"a:personal-{LYNNE.teams_id}"
                )
            )
        ).one()
        session.add(
            SentCard(
                tenant_id=TENANT,
                subject=f"action:{action.id}",
                conversation_ref_id=ref.id or 0,
                activity_id="action-to-lynne",
                kind="action_assigned",
            )
        )

    done = await press(chat, button(told.card, "Mark done"), who=LYNNE, on="action-to-lynne")

    assert "A new action for you" in done.text
    assert "Done ✓ by Lynne Robbins, 26 Nov 10:02" in done.text
    assert "[Mark done]" not in done.text
