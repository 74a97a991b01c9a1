"""The grading cards on their own: Adaptive Card 1.5, unique input ids, literal text, size."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from bot.rules.grades import Standard
from cards.action_done import ActionStatus
from cards.action_form import ActionDraft, OwnerChoice, action_assigned_card, action_form
from cards.audit_result import audit_result_card
from cards.common import card_json, card_size, new_card
from cards.grading import (
    ActionLine,
    GradesDraft,
    GradingView,
    completed_card,
    grading_form_card,
    working_card,
)
from tests.chat import nodes

TODAY = date(2026, 11, 26)
EVIL = "[click](https://evil.example) **bold**"
LONG = ("Ελληνικά 漢字 [link](https://e.example) **b** " * 60)[:2000]
OWNERS = [OwnerChoice(3, "Lynne Robbins", "practitioner"), OwnerChoice(4, "Megan Bowen", "manager")]


def a_view(**changes: Any) -> GradingView:
    fields: dict[str, Any] = {
        "id": 7,
        "case_ref": "C-10002",
        "kind": "collaborative",
        "theme": None,
        "state": "in_progress",
        "due_on": date(2026, 12, 10),
        "auditor_name": "Diego Siciliani",
        "practitioner_name": "Lynne Robbins",
        "grades": {s.value: "inadequate" for s in Standard},
        "overall_grade": "inadequate",
    }
    return GradingView(**(fields | changes))


def input_ids(card: dict[str, Any]) -> list[str]:
    return [e["id"] for e in nodes(card) if str(e.get("type", "")).startswith("Input.")]


def test_the_grading_cards_are_adaptive_cards_1_5_with_unique_input_ids() -> None:
    view = a_view()
    cards = [
        grading_form_card(view, draft=GradesDraft.of(view), message="Check", today=TODAY),
        working_card(view, owners=OWNERS, today=TODAY, message="Saved"),
        completed_card(view, today=TODAY),
    ]
    for card in cards:
        content = json.loads(json.dumps(card_json(card)))
        assert content["version"] == "1.5" and content["type"] == "AdaptiveCard"
        ids = input_ids(content)
        assert len(ids) == len(set(ids)), ids
        assert all(None not in e.values() for e in nodes(content))


def test_a_working_card_with_six_drafts_and_long_text_everywhere_stays_under_40_kb() -> None:
    actions = tuple(
        ActionLine(i, "plans", LONG, LONG, "Lynne Robbins", date(2026, 12, 3), "open")
        for i in range(1, 30)
    )
    view = a_view(
        summary=LONG, strengths_seen=LONG, limiting_reason=LONG, case_ref="CR-123456", actions=()
    )
    # A form holds 500 characters a field; an email up to 320.
    typed = ActionDraft(what=LONG[:500], measure=LONG[:500], owner_email="x" * 320)
    drafts = {s.value: typed for s in Standard} | {"any": typed}

    card = working_card(view, owners=OWNERS, today=TODAY, drafts=drafts, message="x" * 300)
    listed = working_card(
        a_view(summary=LONG, strengths_seen=LONG, limiting_reason=LONG, actions=actions),
        owners=OWNERS,
        today=TODAY,
        drafts=drafts,
        message="x" * 300,
    )

    completed = completed_card(
        a_view(summary=LONG, strengths_seen=LONG, limiting_reason=LONG, actions=actions),
        today=TODAY,
    )

    assert card_size(card) < 40 * 1024
    assert card_size(listed) < 40 * 1024
    assert card_size(completed) < 40 * 1024
    assert "And 19 more." in json.dumps(card_json(listed), ensure_ascii=False)
    assert "And 9 more." in json.dumps(card_json(completed), ensure_ascii=False)


def test_stored_and_typed_text_is_shown_literally() -> None:
    view = a_view(
        case_ref=EVIL,
        theme=EVIL,
        summary=EVIL,
        strengths_seen=EVIL,
        limiting_reason=EVIL,
        practitioner_name=EVIL,
        actions=(ActionLine(1, "plans", EVIL, EVIL, EVIL, date(2026, 12, 3), "open"),),
    )
    status = ActionStatus(
        id=1,
        what=EVIL,
        measure=EVIL,
        case_ref=EVIL,
        standard="plans",
        owner_name=EVIL,
        state="open",
        due_on=date(2026, 12, 3),
        snoozed_until=None,
        done_note=None,
        done_by=None,
        done_at=None,
        confirmed_by=None,
        confirmed_at=None,
    )
    cards = [
        grading_form_card(view, draft=GradesDraft.of(view), message=EVIL, today=TODAY),
        working_card(view, owners=OWNERS, today=TODAY, message=EVIL),
        completed_card(view, today=TODAY, message=EVIL),
        action_assigned_card(status, by_name=EVIL, today=TODAY),
    ]
    for card in cards:
        content = card_json(card)
        blocks = [e["text"] for e in nodes(content) if e.get("type") == "TextBlock"]
        assert not any("evil.example" in t for t in blocks)
        assert any(e.get("type") == "TextRun" and EVIL in e["text"] for e in nodes(content))


def test_the_completed_card_has_no_buttons_and_says_who_and_when() -> None:
    when = datetime(2026, 11, 26, 10, 2, tzinfo=UTC)
    card = card_json(
        completed_card(a_view(completed_by="Diego Siciliani", completed_at=when), today=TODAY)
    )
    assert "actions" not in card
    assert not [e for e in nodes(card) if str(e.get("type", "")).startswith("Action.")]
    texts = [
        "".join(i["text"] for i in e["inlines"])
        for e in nodes(card)
        if e.get("type") == "RichTextBlock"
    ]
    assert "Completed ✓ by Diego Siciliani, 26 Nov 10:02" in texts


def test_the_action_form_can_be_reused_with_another_action_and_extra_data() -> None:
    form = action_form(
        action="add_meeting_action",
        form="m1",
        owners=OWNERS,
        today=TODAY,
        draft=ActionDraft(what="Visit", owner="4", due_on="2026-12-03", standard="heart"),
        problems={"what": "Say more."},
        extra={"meeting_id": 5},
    )
    content = card_json(new_card([form]))
    ids = input_ids(content)
    assert ids == [
        "standard_m1",
        "what_m1",
        "measure_m1",
        "owner_m1",
        "owner_email_m1",
        "due_on_m1",
    ]
    [submit] = [e for e in nodes(content) if e.get("type") == "Action.Execute"]
    assert submit["data"] == {"action": "add_meeting_action", "form": "m1", "meeting_id": 5}
    by_id = {e["id"]: e for e in nodes(content) if "id" in e}
    assert by_id["owner_m1"]["value"] == "4" and by_id["standard_m1"]["value"] == "heart"
    assert by_id["due_on_m1"]["min"] == "2026-11-27"


def test_the_practitioner_s_audit_stays_under_40_kb_and_shows_stored_text_literally() -> None:
    when = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
    theirs = tuple(
        ActionLine(i, "plans", LONG, LONG, "Lynne Robbins", date(2026, 12, 3), "open", owner_id=3)
        for i in range(1, 30)
    )
    long = a_view(
        summary=LONG,
        strengths_seen=LONG,
        limiting_reason=LONG,
        theme=LONG[:200],
        completed_at=when,
        actions=theirs,
    )
    evil = a_view(
        case_ref=EVIL,
        theme=EVIL,
        summary=EVIL,
        strengths_seen=EVIL,
        auditor_name=EVIL,
        completed_at=when,
        actions=(ActionLine(1, "plans", EVIL, EVIL, EVIL, date(2026, 12, 3), "done", owner_id=3),),
    )

    big = audit_result_card(long, practitioner_id=3, today=TODAY)
    content = card_json(audit_result_card(evil, practitioner_id=3, today=TODAY))

    assert card_size(big) < 40 * 1024
    assert "21 more actions: type my actions to see them all." in json.dumps(
        card_json(big), ensure_ascii=False
    )
    blocks = [e["text"] for e in nodes(content) if e.get("type") == "TextBlock"]
    assert not any("evil.example" in t for t in blocks)
    assert any(e.get("type") == "TextRun" and EVIL in e["text"] for e in nodes(content))


def test_the_practitioner_s_audit_says_why_it_is_inadequate_and_counts_in_the_singular() -> None:
    grades = {s.value: "good" for s in Standard} | {"records": "inadequate"}
    mine = ActionLine(
        1, "records", "Catch up", "Records current", "Lynne", date(2026, 12, 3), "open", owner_id=3
    )
    others = ActionLine(
        2, "records", "Check", "Seen", "Megan", date(2026, 12, 3), "open", owner_id=4
    )
    view = a_view(grades=grades, actions=(mine, others))
    two = a_view(grades=grades | {"plans": "inadequate"}, actions=(others, others))

    one_text = json.dumps(card_json(audit_result_card(view, practitioner_id=3, today=TODAY)))
    two_text = json.dumps(card_json(audit_result_card(two, practitioner_id=3, today=TODAY)))

    assert "1 standard is inadequate, and an inadequate standard limits" in one_text
    assert "1 other action from this audit is with someone else." in one_text
    assert "2 standards are inadequate" in two_text
    assert "2 other actions from this audit are with someone else." in two_text
    assert "No actions for you from this audit." in two_text


def test_each_long_text_field_says_its_limit_beside_it() -> None:
    view = a_view()
    card = card_json(grading_form_card(view, draft=GradesDraft.of(view), message=None, today=TODAY))
    fields = {e["id"]: e for e in nodes(card) if e.get("type") == "Input.Text"}

    for name in ("summary", "strengths_seen", "limiting_reason"):
        assert fields[name]["label"].endswith("(up to 2,000 characters)"), name
        assert fields[name]["maxLength"] == 2000


def test_cards_with_every_strength_ticked_own_grades_and_long_exemplars_stay_under_40_kb() -> None:
    """A dozen themes ticked, each with three links and five long approved exemplars, the
    practitioner's own grades and long text everywhere. (36 such themes, the themes file's
    limit, already overflow the working and completed cards without exemplars.)"""
    from cards.grading import TaggedTheme
    from cards.practice import ExemplarNote, LearningLink, Practice, Theme

    ticked = tuple(
        TaggedTheme(f"theme-{n}", "heart", LONG[:80], "strength" if n % 2 else "to_improve")
        for n in range(12)
    )
    links = tuple(LearningLink("Guidance", LONG[:80], f"https://e.example/{n}") for n in range(3))
    notes = tuple(ExemplarNote(LONG[:80], LONG[:1000]) for _ in range(5))
    practice = Practice(themes=tuple(Theme(t.key, "heart", t.title, links, notes) for t in ticked))
    actions = tuple(
        ActionLine(i, "plans", LONG, LONG, "Lynne Robbins", date(2026, 12, 3), "open", owner_id=3)
        for i in range(1, 30)
    )
    view = a_view(
        summary=LONG,
        strengths_seen=LONG,
        limiting_reason=LONG,
        themes=ticked,
        actions=actions,
        own_grades={s.value: "outstanding" for s in Standard},
        completed_at=datetime(2026, 11, 25, 15, 0, tzinfo=UTC),
    )
    typed = ActionDraft(what=LONG[:500], measure=LONG[:500], owner_email="x" * 320)
    drafts = {s.value: typed for s in Standard} | {"any": typed}

    working = working_card(view, owners=OWNERS, today=TODAY, drafts=drafts, message="x" * 300)
    completed = completed_card(view, today=TODAY, message="x" * 300)
    result = audit_result_card(view, practitioner_id=3, today=TODAY, practice=practice)

    for card in (working, completed, result):
        assert card_size(card) < 40 * 1024, [card_size(c) for c in (working, completed, result)]
    assert "Suggest an exemplar" in json.dumps(card_json(working))
