"""Exemplars: Diego suggests one from a strength he ticked, written with no case details (a case
reference is refused, what he typed kept); Patti, the QA team, approves it from her card; it then
shows with the theme's learning on Lynne's completed audit and in a briefing drafted from the
theme. Anyone else pressing is refused and logged, and nothing changes. Over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import text
from sqlmodel import col

from storage import retention
from storage.db import SessionMaker, transaction
from storage.models import Audit, AuditTheme, Exemplar, PractitionerGrade
from tests.chat import ALEX, TENANT, Chat, button, card_text, inputs
from tests.helpers import (
    DIEGO,
    LYNNE,
    MEGAN,
    NOW,
    PATTI,
    everyone_says_hello,
    logged,
    press,
    queued,
    rows,
)
from tests.test_grading import diego_s_audit, save

pytestmark = pytest.mark.clock(NOW)  # Thu 26 Nov 2026, 10:02 in London

TITLE = "The child's own words in the plan"
WORDS = (
    "The plan quotes the child on what helps at school and at home, and each action says how "
    "the child will know it is happening."
)


async def exemplar_rows(sessions: SessionMaker) -> list[tuple[Any, ...]]:
    async with sessions() as session:
        rows = await (await session.connection()).execute(
            text("SELECT theme, standard, title, text, state FROM exemplar ORDER BY id")
        )
        return [tuple(r) for r in rows.all()]


async def graded_with_a_strength(chat: Chat, sessions: SessionMaker) -> tuple[int, dict[str, Any]]:
    """Diego's audit of Lynne's case, graded with the voice of the child ticked as a strength:
    the working card's Suggest an exemplar button, with the form's defaults."""
    _, audit_id = await diego_s_audit(sessions)
    await everyone_says_hello(chat)
    await press(chat, {"action": "open_grading", "audit_id": audit_id}, who=DIEGO)
    saved = await save(
        chat, audit_id, strength_heart="voice-of-child", to_improve_assessment="lived-experience"
    )
    assert saved.card is not None
    return audit_id, saved.card


async def test_diego_suggests_patti_approves_and_lynne_learns_from_it(
    chat: Chat, sessions: SessionMaker
) -> None:
    audit_id, working = await graded_with_a_strength(chat, sessions)
    form = inputs(working)
    assert [c["value"] for c in form["exemplar_theme"]["choices"]] == ["voice-of-child"]
    assert form["exemplar_text"]["maxLength"] == 1000 and form["exemplar_title"]["maxLength"] == 80
    assert "no case references" in card_text(working)
    send = button(working, "Send to the QA team")
    [case_ref] = [w for w in card_text(working).split() if w.startswith("C-")]

    named = await press(
        chat,
        send
        | {
            "exemplar_theme": "voice-of-child",
            "exemplar_title": TITLE,
            "exemplar_text": f"In {case_ref.lower()} the plan quotes the child.",
        },
        who=DIEGO,
    )
    assert f"It has what looks like a case reference ({case_ref})" in named.text
    unknown = await press(
        chat,
        send
        | {
            "exemplar_theme": "voice-of-child",
            "exemplar_title": "Seen on ab-99999",
            "exemplar_text": WORDS,
        },
        who=DIEGO,
    )
    assert "It has what looks like a case reference (AB-99999)" in unknown.text
    assert inputs(named.card or {})["exemplar_title"]["value"] == TITLE  # what he typed is kept
    empty = await press(
        chat, send | {"exemplar_theme": "voice-of-child", "exemplar_title": TITLE}, who=DIEGO
    )
    assert "Please say what made it good practice." in empty.text
    assert await exemplar_rows(sessions) == []
    assert len(await logged(sessions, "refused.suggest_exemplar")) == 3

    typed = {"exemplar_theme": "voice-of-child", "exemplar_title": TITLE, "exemplar_text": WORDS}
    sent = await press(chat, send | typed, who=DIEGO)
    assert "Exemplar sent to the QA team ✓" in sent.text
    assert "Grades and actions" in sent.text  # the working card again
    assert await exemplar_rows(sessions) == [("voice-of-child", "heart", TITLE, WORDS, "suggested")]
    [suggested] = await logged(sessions, "exemplar.suggested")
    assert suggested.after == {
        "audit_id": audit_id,
        "theme": "voice-of-child",
        "state": "suggested",
    }
    again = await press(chat, send | typed, who=DIEGO)
    assert "Already sent to the QA team ✓" in again.text
    assert len(await exemplar_rows(sessions)) == 1

    [review] = await queued(sessions, "exemplar_review")
    assert review.summary == "An exemplar to approve"
    shown = card_text(review.card)
    assert TITLE in shown and WORDS in shown and "Voice of the child recorded" in shown
    assert case_ref not in shown  # an exemplar carries no case details
    approve = button(review.card, "Approve")

    approved = await press(chat, approve, who=PATTI)
    assert "Approved ✓ by Patti Fernandez, 26 Nov 10:02" in approved.text
    assert await exemplar_rows(sessions) == [("voice-of-child", "heart", TITLE, WORDS, "approved")]
    [decided] = await logged(sessions, "exemplar.approved")
    assert decided.before == {"state": "suggested"} and decided.after == {"state": "approved"}
    [told] = await queued(sessions, "exemplar_decided")
    assert told.summary == "Your exemplar is approved"
    twice = await press(chat, button(review.card, "Decline"), who=PATTI)
    assert "Already decided: Approved ✓" in twice.text
    assert len(await logged(sessions, "exemplar.declined")) == 0

    done = await press(chat, button(working, "Complete audit"), who=DIEGO)
    assert done.card is not None
    [result] = await queued(sessions, "audit_result")
    learning = card_text(result.card)
    assert f"Voice of the child recorded: Exemplar from our audits: {TITLE}" in learning
    assert f"{TITLE}: {WORDS}" in learning

    briefing = await chat.say("briefing new from theme voice-of-child", who=PATTI)
    [form] = [c for c in briefing.cards if "read" in inputs(c)]
    read = inputs(form)["read"]["value"]
    assert f"Exemplars from our audits:\n• {TITLE}: {WORDS}" in read

    # No case reference in any preview or in what staff see.
    for delivery in [d for kind in KINDS for d in await queued(sessions, kind)]:
        assert case_ref not in delivery.summary
    assert case_ref not in read


KINDS = ("exemplar_review", "exemplar_decided", "audit_result", "audit_assigned_copy")


async def test_anyone_but_the_auditor_or_qa_is_refused_and_nothing_changes(
    chat: Chat, sessions: SessionMaker
) -> None:
    _, working = await graded_with_a_strength(chat, sessions)
    typed = {"exemplar_theme": "voice-of-child", "exemplar_title": TITLE, "exemplar_text": WORDS}
    send = button(working, "Send to the QA team") | typed

    for who in (ALEX, LYNNE, MEGAN):
        refused = await press(chat, send, who=who)
        assert refused.error is not None and "Only the audit's auditor or the QA team" in (
            refused.error
        )
    assert await exemplar_rows(sessions) == []
    assert len(await logged(sessions, "denied.suggest_exemplar")) == 3

    await press(chat, send, who=DIEGO)
    [review] = await queued(sessions, "exemplar_review")
    for who in (DIEGO, LYNNE, MEGAN):
        for title in ("Approve", "Decline"):
            pressed = await press(chat, button(review.card, title), who=who)
            assert pressed.error == "Only the QA team can approve or decline an exemplar."
    assert [r[-1] for r in await exemplar_rows(sessions)] == ["suggested"]
    denied = await logged(sessions, "denied.decide_exemplar")
    assert len(denied) == 6 and {d.entity for d in denied} == {"exemplar"}


async def test_a_declined_exemplar_is_not_shown_and_only_strengths_may_be_suggested(
    chat: Chat, sessions: SessionMaker
) -> None:
    audit_id, working = await graded_with_a_strength(chat, sessions)
    send = button(working, "Send to the QA team")

    to_improve = await press(
        chat,
        send
        | {"exemplar_theme": "lived-experience", "exemplar_title": TITLE, "exemplar_text": WORDS},
        who=DIEGO,
    )
    assert "Please choose one of the strengths ticked in this audit." in to_improve.text
    assert await exemplar_rows(sessions) == []

    await press(
        chat,
        send
        | {"exemplar_theme": "voice-of-child", "exemplar_title": TITLE, "exemplar_text": WORDS},
        who=DIEGO,
    )
    [review] = await queued(sessions, "exemplar_review")
    declined = await press(chat, button(review.card, "Decline"), who=PATTI)
    assert "Declined by Patti Fernandez" in declined.text
    [told] = await queued(sessions, "exemplar_decided")
    assert told.summary == "Your exemplar was not approved"

    await press(chat, button(working, "Complete audit"), who=DIEGO)
    [result] = await queued(sessions, "audit_result")
    assert TITLE not in card_text(result.card)
    assert audit_id


async def test_retention_removes_an_old_audit_s_own_grades_and_keeps_its_exemplar(
    sessions: SessionMaker,
) -> None:
    """An exemplar carries no case details, so it outlives its audit; the practitioner's own
    grades, and the audit's ticked themes, go with the audit."""
    council, audit_id = await diego_s_audit(sessions)
    async with transaction(sessions) as session:
        audit = await session.get(Audit, audit_id)
        assert audit is not None
        old = datetime(2019, 3, 1, 10, tzinfo=UTC)
        audit.state, audit.completed_at, audit.due_on = "completed", old, old.date()
        audit.created_at = old
        session.add(audit)
        await session.flush()
        await session.exec(sa.update(Audit).where(col(Audit.id) == audit_id).values(updated_at=old))
        by = council.id("diego")
        session.add(PractitionerGrade(tenant_id=TENANT, audit_id=audit_id, practitioner_id=by,
                                      standard="heart", grade="good"))  # fmt: skip
        session.add(AuditTheme(tenant_id=TENANT, audit_id=audit_id, standard="heart",
                               theme="voice-of-child", title="Voice", finding="strength",
                               created_by=by))  # fmt: skip
        session.add(Exemplar(tenant_id=TENANT, audit_id=audit_id, standard="heart",
                             theme="voice-of-child", title=TITLE, text=WORDS, state="approved",
                             suggested_by=by))  # fmt: skip

    async with transaction(sessions) as session:
        gone = await retention.closed_audits(
            session=session, tenant_id=TENANT, before=datetime(2024, 1, 1, tzinfo=UTC)
        )

    assert gone["audits"] == 1
    assert await rows(sessions, PractitionerGrade) == []
    assert await rows(sessions, AuditTheme) == []
    [kept] = await rows(sessions, Exemplar)
    assert kept.audit_id is None and kept.title == TITLE
