"""The daily "my QA" card and the escalation card as Teams receives them: content, buttons, size."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from bot.rules.reminders import (
    ActionDue,
    AuditDue,
    Bundle,
    EscalatedAction,
    Escalation,
    FeedbackOwed,
    Person,
)
from bot.rules.workdays import add_working_days
from cards.common import card_json, card_size
from cards.escalation import escalation_card, escalation_summary
from cards.my_qa import my_qa_card, my_qa_summary
from tests.chat import nodes

THU = date(2026, 11, 26)
ALEX = Person(id=1, name="Alex Wilber")
EVIL = "[Approve](https://evil.example) **bold**"
# Greek and CJK take two and three bytes in UTF-8: the worst case for the size budget.
LONG = ("Ελληνικά 漢字 [link](https://e.example) **b** " * 60)[:2000]


def action(id: int, due_on: date, **more: Any) -> ActionDue:
    fields: dict[str, Any] = {
        "id": id,
        "owner_id": 1,
        "what": f"Update the plan {id}",
        "due_on": due_on,
        "case_ref": f"CR-{id:05}",
        "standard": "plans",
    }
    return ActionDue(**(fields | more))


def audit(id: int, due_on: date, **more: Any) -> AuditDue:
    fields: dict[str, Any] = {
        "id": id,
        "auditor_id": 1,
        "case_ref": f"AU-{id:05}",
        "kind": "thematic",
        "theme": "Neglect",
        "state": "assigned",
        "due_on": due_on,
    }
    return AuditDue(**(fields | more))


def owed(audit_id: int, completed_on: date) -> FeedbackOwed:
    return FeedbackOwed(
        audit_id=audit_id,
        practitioner_id=1,
        case_ref=f"FB-{audit_id:05}",
        completed_on=completed_on,
    )


def lines(card: dict[str, Any]) -> list[str]:
    return [
        e["text"] if e["type"] == "TextBlock" else "".join(r["text"] for r in e["inlines"])
        for e in nodes(card)
        if e.get("type") in ("TextBlock", "RichTextBlock")
    ]


def executes(card: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in nodes(card) if e.get("type") == "Action.Execute"]


def test_the_card_has_actions_overdue_first_then_audits_then_feedback() -> None:
    bundle = Bundle(
        person=ALEX,
        day=THU,
        actions=(action(2, THU + timedelta(days=1)), action(1, THU - timedelta(days=14))),
        audits=(audit(5, THU),),
        feedback=(owed(6, THU - timedelta(days=2)),),
    )
    card = card_json(my_qa_card(bundle))
    text = lines(card)

    assert text[0] == "Your QA items today"
    assert text[1] == "Hello Alex, here's what needs you today."  # sent at 09:00 or at noon
    order = [text.index(t) for t in ("Actions", "Audits due", "Feedback we'd love from you")]
    assert order == sorted(order)
    overdue = next(t for t in text if t.startswith("Overdue by 10 working days"))
    tomorrow = next(t for t in text if t.startswith("Due tomorrow"))
    assert text.index(overdue) < text.index(tomorrow)
    assert "CR-00001 · Plans are good quality and SMART" in text
    assert "Update the plan 1" in text
    assert any(t.startswith("AU-00005 · Thematic audit: Neglect") for t in text)
    assert "FB-00006 · audit completed Tue 24 Nov" in text
    assert my_qa_summary(bundle.count) == "You have 4 QA items today"


def test_each_action_has_mark_done_snooze_and_more_time_with_its_id() -> None:
    card = card_json(my_qa_card(Bundle(person=ALEX, day=THU, actions=(action(7, THU),))))
    by_verb = {e["verb"]: e["data"] for e in executes(card)}

    assert by_verb["mark_done"] == {"action": "mark_done", "action_id": 7}
    assert by_verb["request_extension"] == {"action": "request_extension", "action_id": 7}
    snoozes = [e["data"] for e in executes(card) if e["verb"] == "snooze"]
    assert snoozes == [
        {"action": "snooze", "action_id": 7, "days": 1},
        {"action": "snooze", "action_id": 7, "days": 3},
    ]
    show_cards = [e["title"] for e in nodes(card) if e.get("type") == "Action.ShowCard"]
    assert "Mark done" in show_cards and "Ask for more time" in show_cards
    inputs = {e["type"] for e in nodes(card) if str(e.get("type")).startswith("Input.")}
    assert inputs == {"Input.Text", "Input.Date"}


def test_a_child_visit_s_mark_done_asks_the_day_the_child_was_seen() -> None:
    bundle = Bundle(
        person=ALEX, day=THU, actions=(action(7, THU, source="child_visit"), action(8, THU))
    )
    card = card_json(my_qa_card(bundle))
    dates = {e["id"]: e for e in nodes(card) if e.get("type") == "Input.Date"}

    visited = dates["visited_on_7"]
    assert visited["label"] == "Date of the visit"
    assert visited["value"] == visited["max"] == THU.isoformat()
    assert "visited_on_8" not in dates


def test_several_actions_never_share_an_input_id() -> None:
    bundle = Bundle(person=ALEX, day=THU, actions=tuple(action(i, THU) for i in range(1, 6)))
    ids = [e["id"] for e in nodes(card_json(my_qa_card(bundle))) if "id" in e]
    assert len(ids) == len(set(ids))


def test_ten_actions_at_most_then_a_pointer_to_my_actions() -> None:
    bundle = Bundle(person=ALEX, day=THU, actions=tuple(action(i, THU) for i in range(1, 13)))
    card = card_json(my_qa_card(bundle))

    assert {e["data"]["action_id"] for e in executes(card)} == set(range(1, 11))
    assert "And 2 more — type my actions to see them." in lines(card)
    assert my_qa_summary(bundle.count) == "You have 12 QA items today"


def test_a_full_card_of_long_text_in_any_script_stays_under_40_kb() -> None:
    bundle = Bundle(
        person=Person(id=1, name=LONG[:200]),
        day=THU,
        actions=tuple(action(i, THU, what=LONG, case_ref=f"CR-{i:07}") for i in range(1, 30)),
        audits=tuple(audit(i, THU, theme=LONG[:200]) for i in range(1, 30)),
        feedback=tuple(owed(i, THU) for i in range(1, 30)),
    )
    assert card_size(my_qa_card(bundle)) < 40 * 1024


def test_stored_text_is_shown_literally() -> None:
    bundle = Bundle(
        person=Person(id=1, name=EVIL),
        day=THU,
        actions=(action(1, THU, what=EVIL, case_ref=EVIL),),
        audits=(audit(2, THU, theme=EVIL),),
    )
    card = card_json(my_qa_card(bundle))
    runs = [e["text"] for e in nodes(card) if e.get("type") == "TextRun"]
    blocks = [e["text"] for e in nodes(card) if e.get("type") == "TextBlock"]
    assert any(EVIL in r for r in runs)
    assert not any("evil.example" in b for b in blocks)


def test_one_item_is_singular() -> None:
    assert my_qa_summary(1) == "You have 1 QA item today"
    assert my_qa_summary(0) == "You have 0 QA items today"


def test_a_re_rendered_card_shows_what_changed_since_the_morning() -> None:
    bundle = Bundle(
        person=ALEX,
        day=THU,
        actions=(
            action(1, THU - timedelta(days=7), state="done"),
            action(2, THU, snoozed_until=add_working_days(THU, 1)),
            action(3, THU, extension_asked_for=date(2026, 12, 10)),
        ),
    )
    card = card_json(my_qa_card(bundle))
    text = lines(card)

    assert text[1] == "Hello Alex, here's what needs you today."  # sent at 09:00 or at noon
    assert "Done ✓  ·  Action #1" in text
    assert "Due today · snoozed, I'll remind you tomorrow  ·  Action #2" in text
    assert "Due today · you've asked to move it to Thu 10 Dec  ·  Action #3" in text
    assert {e["data"]["action_id"] for e in executes(card)} == {2, 3}
    assert bundle.count == 1  # only the one with more time asked for still waits on Alex


def test_when_everything_is_dealt_with_the_card_says_so_kindly() -> None:
    bundle = Bundle(person=ALEX, day=THU, actions=(action(1, THU, state="done"),))
    text = lines(card_json(my_qa_card(bundle)))
    assert "You're all caught up for today. Thank you!" in text


# --- escalation -----------------------------------------------------------------------------------


def escalated(id: int, days: int, owner: str = "Alex Wilber") -> EscalatedAction:
    return EscalatedAction(
        action=action(id, add_working_days(THU, -days)),
        owner=Person(id=id + 100, name=owner),
        overdue_days=days,
    )


MEGAN = Person(id=2, name="Megan Bowen")


def test_an_escalation_lists_the_team_then_the_service_with_owners_and_cases() -> None:
    escalation = Escalation(
        manager=MEGAN, team=(escalated(1, 7), escalated(2, 5)), service=(escalated(3, 12),)
    )
    card = card_json(escalation_card(escalation, today=THU))
    text = lines(card)

    assert text[0] == "Overdue actions"
    team = text.index("Your team")
    service = text.index("Your service")
    assert team < service
    assert text[-1] == (
        "Actions are listed once 5 working days overdue (10 for the service manager). A child "
        "visit or action meeting goes to the team manager once 1 working day overdue, the "
        "service manager at 2 and the head of service at 3; if nobody is there that day, to the "
        "next one up."
    )
    assert "Alex Wilber · CR-00001 · Plans are good quality and SMART" in text
    assert any(t.startswith("Overdue by 12 working days") for t in text[service:])
    assert escalation.subjects == ["action:1", "action:2", "action:3"]
    assert executes(card) == []


def test_an_overdue_child_visit_is_a_safeguarding_step_said_plainly() -> None:
    visit = EscalatedAction(
        action=action(4, add_working_days(THU, -1), source="child_visit"),
        owner=Person(id=104, name="Alex Wilber"),
        overdue_days=1,
    )
    escalation = Escalation(manager=MEGAN, team=(visit, escalated(2, 5)))
    text = lines(card_json(escalation_card(escalation, today=THU)))

    assert text[0] == "A safeguarding step is overdue"
    assert text[1] == (
        "1 safeguarding step in your team is overdue: the child visit or action meeting below "
        "is about a child's safety. Please make sure it happens today and is recorded."
    )
    assert text[2].startswith("The other actions are past their due date.")
    at = text.index("Safeguarding: Child visit after risk identified")
    assert text[at + 1].startswith("Overdue by 1 working day  ·  was due")
    assert escalation_summary(escalation) == (
        "1 safeguarding step in your team is overdue, and 1 other action"
    )


def test_a_service_manager_s_card_speaks_of_their_service_never_their_team() -> None:
    adele = Person(id=3, name="Adele Vance", roles=frozenset({"service_manager"}))
    # Listed to her as the owner's named manager, and as the service manager.
    escalation = Escalation(manager=adele, team=(escalated(1, 6),), service=(escalated(2, 11),))
    text = lines(card_json(escalation_card(escalation, today=THU)))

    assert "Your service" in text and "Your team" not in text
    assert escalation_summary(escalation) == "2 actions in your service are overdue"
    one = Escalation(manager=adele, team=(escalated(1, 6),))
    assert escalation_summary(one) == "1 action in your service is overdue"


def test_the_escalation_preview_counts_and_never_names_a_case() -> None:
    team_only = Escalation(manager=MEGAN, team=(escalated(1, 6), escalated(2, 5)))
    one_service = Escalation(manager=MEGAN, service=(escalated(1, 11),))
    assert escalation_summary(team_only) == "2 actions in your team are overdue"
    assert escalation_summary(one_service) == "1 action in your service is overdue"
    for summary in (escalation_summary(team_only), escalation_summary(one_service)):
        assert "CR-" not in summary


def test_a_long_escalation_pages_to_the_team_command_and_stays_under_40_kb() -> None:
    many = tuple(
        EscalatedAction(
            action=action(i, THU - timedelta(days=30), what=LONG, case_ref=f"CR-{i:07}"),
            owner=Person(id=i, name=LONG[:200]),
            overdue_days=20,
        )
        for i in range(1, 40)
    )
    card = escalation_card(Escalation(manager=MEGAN, team=many, service=many), today=THU)
    assert card_size(card) < 40 * 1024
    assert lines(card_json(card)).count("And 24 more — type team to see them all.") == 2
    assert json.dumps(card_json(card)).count("Action #") == 30
