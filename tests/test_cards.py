"""Cards as Teams will receive them: the JSON, what it says, which buttons it has and its size."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from microsoft_teams.cards import AdaptiveCard

from cards.common import card_json, card_size, to_attachment, uk_date
from cards.help import help_card
from cards.my_actions import my_actions_card
from cards.my_audits import my_audits_card
from cards.notices import (
    did_you_mean_card,
    error_card,
    not_allowed_card,
    private_reply_note_card,
    unknown_person_card,
)
from cards.views import ActionItem, AuditItem, CommandHelp, Page
from tests.chat import nodes

TODAY = date(2026, 12, 3)  # a Thursday
EVIL = "[Approve](https://evil.example) **bold** <b>x</b>"


def an_action(id: int = 12, **changes: Any) -> ActionItem:
    fields: dict[str, Any] = {
        "id": id,
        "what": "Update the child's plan with dates",
        "measure": "The plan on file shows review dates",
        "due_on": date(2026, 12, 10),
        "state": "open",
        "case_ref": "CR-1001",
        "standard": "plans",
        "overdue_days": 0,
        "due_status": "later",
    }
    return ActionItem(**(fields | changes))


def an_audit(id: int = 7, **changes: Any) -> AuditItem:
    fields: dict[str, Any] = {
        "id": id,
        "case_ref": "CR-2002",
        "kind": "thematic",
        "theme": "Neglect",
        "state": "in_progress",
        "due_on": date(2026, 12, 10),
        "my_part": "auditor",
        "other_person": "Alex Wilber",
        "overall_grade": None,
        "overdue": False,
    }
    return AuditItem(**(fields | changes))


COMMANDS = [
    CommandHelp("help", "What I can do for you", "help"),
    CommandHelp("my actions", "Your open actions, overdue first", "my actions"),
    CommandHelp("my audits", "Audits you are doing and audits of your cases", "my audits"),
    CommandHelp("done", "Mark an action done", "done 12"),
    CommandHelp("feedback", "Feedback forms you still owe", "feedback"),
    CommandHelp("team", "Your team's overdue actions", "team"),
    CommandHelp("stats", "This month so far", "stats"),
    CommandHelp("briefing", "The latest Best Practice Briefing", "briefing"),
]


def texts(card: AdaptiveCard, kind: str) -> list[str]:
    return [e["text"] for e in nodes(card_json(card)) if e.get("type") == kind]


def runs_by_block(card: AdaptiveCard) -> list[str]:
    """Each RichTextBlock's text as one line, the way a reader sees it."""
    blocks = [e for e in nodes(card_json(card)) if e.get("type") == "RichTextBlock"]
    return ["".join(run["text"] for run in block["inlines"]) for block in blocks]


def shown_text(card: AdaptiveCard) -> str:
    """Every line of text in the order it appears on the card."""
    lines = [
        e["text"] if e["type"] == "TextBlock" else "".join(run["text"] for run in e["inlines"])
        for e in nodes(card_json(card))
        if e.get("type") in ("TextBlock", "RichTextBlock")
    ]
    return "\n".join(lines)


def buttons(card: AdaptiveCard) -> list[dict[str, Any]]:
    actions: list[dict[str, Any]] = card_json(card).get("actions", [])
    return actions


def run_with_text(card: AdaptiveCard, text: str) -> dict[str, Any]:
    return next(
        e for e in nodes(card_json(card)) if e.get("type") == "TextRun" and e["text"] == text
    )


EVERY_CARD: dict[str, Callable[[], AdaptiveCard]] = {
    "help": lambda: help_card(display_name="Sam Jones", roles_label="Auditor", commands=COMMANDS),
    "my actions": lambda: my_actions_card(
        items=[an_action()], page=Page(0, 10, 1), overdue_total=0, today=TODAY
    ),
    "no actions": lambda: my_actions_card(
        items=[], page=Page(0, 10, 0), overdue_total=0, today=TODAY
    ),
    "my audits": lambda: my_audits_card(items=[an_audit()], page=Page(0, 10, 1), today=TODAY),
    "no audits": lambda: my_audits_card(items=[], page=Page(0, 10, 0), today=TODAY),
    "unknown person": lambda: unknown_person_card(admin_contact="the QA team"),
    "did you mean": lambda: did_you_mean_card(typed="hlep", suggestion="help"),
    "private reply": lambda: private_reply_note_card(sent=True),
    "error": lambda: error_card("That didn't work. Please try again."),
    "not allowed": lambda: not_allowed_card("Only the action's owner can mark it done."),
}


@pytest.mark.parametrize("make", EVERY_CARD.values(), ids=EVERY_CARD.keys())
def test_every_card_is_an_adaptive_card_1_5_with_no_empty_properties(
    make: Callable[[], AdaptiveCard],
) -> None:
    attachment = json.loads(json.dumps(to_attachment(make())))

    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    content = attachment["content"]
    assert content["type"] == "AdaptiveCard"
    assert content["version"] == "1.5"
    assert content["body"]
    assert all(None not in e.values() for e in nodes(content))


def test_list_cards_use_the_full_width_of_the_chat() -> None:
    for name in ("help", "my actions", "my audits"):
        assert card_json(EVERY_CARD[name]())["msteams"] == {"width": "full"}, name


def test_stored_and_typed_text_is_shown_literally_never_as_markdown() -> None:
    cards = [
        help_card(display_name=EVIL, roles_label="Auditor", commands=COMMANDS),
        my_actions_card(
            items=[an_action(what=EVIL, measure=EVIL, case_ref=EVIL)],
            page=Page(0, 10, 1),
            overdue_total=0,
            today=TODAY,
        ),
        my_audits_card(
            items=[an_audit(case_ref=EVIL, theme=EVIL, other_person=EVIL)],
            page=Page(0, 10, 1),
            today=TODAY,
        ),
        my_audits_card(
            items=[an_audit(my_part="practitioner", other_person=EVIL, kind=EVIL)],
            page=Page(0, 10, 1),
            today=TODAY,
        ),
        unknown_person_card(admin_contact=EVIL),
        did_you_mean_card(typed=EVIL, suggestion=None),
        error_card(EVIL),
        not_allowed_card(EVIL),
    ]
    for card in cards:
        assert any(EVIL in text for text in texts(card, "TextRun")), card_json(card)
        assert not any("evil.example" in text for text in texts(card, "TextBlock"))
        assert "evil.example" not in json.dumps(
            [e for e in nodes(card_json(card)) if e.get("type") == "FactSet"]
        )


def test_a_full_page_of_long_actions_stays_under_40_kb() -> None:
    # Greek and CJK take two and three bytes in UTF-8: the worst case for the budget.
    long_text = ("Ελληνικά 漢字 [link](https://e.example) **b** " * 60)[:2000]
    items = [
        an_action(id=i, what=long_text, measure=long_text, case_ref=f"CR-{i:06}")
        for i in range(1, 11)
    ]

    card = my_actions_card(items=items, page=Page(0, 10, 57), overdue_total=9, today=TODAY)

    assert card_size(card) < 40 * 1024
    assert [t for t in texts(card, "TextRun") if t.startswith("  ·  Action #")] == [
        f"  ·  Action #{i}" for i in range(1, 11)
    ]


def test_card_size_counts_utf8_bytes_of_the_json() -> None:
    card = error_card("漢")
    assert card_size(card) == len(json.dumps(card_json(card), ensure_ascii=False).encode())
    assert card_size(error_card("漢")) == card_size(error_card("ab")) + 1


def test_an_overdue_action_shows_how_overdue_it_is_in_the_attention_colour() -> None:
    item = an_action(due_on=date(2026, 11, 27), overdue_days=4, due_status="overdue")

    card = my_actions_card(items=[item], page=Page(0, 10, 1), overdue_total=1, today=TODAY)

    status = run_with_text(card, "Overdue by 4 working days")
    assert status["color"] == "Attention"
    assert "1 open, 1 overdue" in texts(card, "TextBlock")


def test_one_working_day_overdue_is_singular() -> None:
    item = an_action(overdue_days=1, due_status="overdue", due_on=date(2026, 12, 2))
    card = my_actions_card(items=[item], page=Page(0, 10, 1), overdue_total=1, today=TODAY)
    assert run_with_text(card, "Overdue by 1 working day")


def test_an_action_due_today_is_a_warning_and_a_later_one_shows_its_date() -> None:
    items = [
        an_action(id=1, due_on=TODAY, due_status="today"),
        an_action(id=2, due_on=date(2026, 12, 10), due_status="later"),
    ]

    card = my_actions_card(items=items, page=Page(0, 10, 2), overdue_total=0, today=TODAY)

    assert run_with_text(card, "Due today")["color"] == "Warning"
    assert "color" not in run_with_text(card, "Due Thu 10 Dec")
    assert "2 open" in texts(card, "TextBlock")


def test_an_action_shows_case_standard_what_and_how_we_will_know() -> None:
    card = my_actions_card(
        items=[an_action(id=12)], page=Page(0, 10, 1), overdue_total=0, today=TODAY
    )

    lines = runs_by_block(card)
    assert "Due Thu 10 Dec  ·  Action #12" in lines
    assert "CR-1001 · Plans are good quality and SMART" in lines
    assert "Update the child's plan with dates" in lines
    assert "How we'll know: The plan on file shows review dates" in lines


def test_actions_keep_the_order_given() -> None:
    items = [an_action(id=i) for i in (5, 3, 9)]
    card = my_actions_card(items=items, page=Page(0, 10, 3), overdue_total=0, today=TODAY)
    ids = [t for t in texts(card, "TextRun") if "Action #" in t]
    assert ids == ["  ·  Action #5", "  ·  Action #3", "  ·  Action #9"]


def test_a_long_measure_is_cut_short_with_an_ellipsis() -> None:
    card = my_actions_card(
        items=[an_action(measure="m" * 1000)], page=Page(0, 10, 1), overdue_total=0, today=TODAY
    )
    measure = next(line for line in runs_by_block(card) if line.startswith("How we'll know: "))
    shown = measure.removeprefix("How we'll know: ")
    assert len(shown) == 200
    assert shown.endswith("m…")


def test_the_first_page_of_many_actions_offers_the_next_ten_only() -> None:
    items = [an_action(id=i) for i in range(10)]
    card = my_actions_card(items=items, page=Page(0, 10, 25), overdue_total=0, today=TODAY)

    assert buttons(card) == [
        {
            "type": "Action.Execute",
            "title": "Show 10 more",
            "verb": "my_actions_page",
            "data": {"action": "my_actions_page", "offset": 10},
        }
    ]
    assert "Showing 1–10 of 25" in texts(card, "TextBlock")


def test_a_later_page_offers_the_rest_and_the_way_back() -> None:
    items = [an_action(id=i) for i in range(10)]
    card = my_actions_card(items=items, page=Page(10, 10, 23), overdue_total=0, today=TODAY)

    assert [(b["title"], b["data"]["offset"]) for b in buttons(card)] == [
        ("Show 3 more", 20),
        ("Back to the first page", 0),
    ]
    assert "Showing 11–20 of 23" in texts(card, "TextBlock")


def test_a_list_that_fits_on_one_page_has_no_paging_buttons() -> None:
    card = my_actions_card(items=[an_action()], page=Page(0, 10, 1), overdue_total=0, today=TODAY)
    assert buttons(card) == []
    assert not any(t.startswith("Showing") for t in texts(card, "TextBlock"))


def test_no_open_actions_gets_a_friendly_card_without_buttons() -> None:
    card = my_actions_card(items=[], page=Page(0, 10, 0), overdue_total=0, today=TODAY)
    assert texts(card, "TextBlock") == ["My actions", "You have no open actions. Nice work."]
    assert buttons(card) == []


def test_my_audits_are_grouped_into_doing_and_of_my_cases() -> None:
    items = [
        an_audit(id=1, case_ref="CR-1", my_part="practitioner", other_person="Megan Bowen"),
        an_audit(id=2, case_ref="CR-2", my_part="auditor", other_person="Alex Wilber"),
    ]

    text = shown_text(my_audits_card(items=items, page=Page(0, 10, 2), today=TODAY))

    doing, of_mine = text.index("Audits I'm doing"), text.index("Audits of my cases")
    assert doing < text.index("CR-2") < text.index("With Alex Wilber") < of_mine
    assert of_mine < text.index("CR-1") < text.index("Auditor: Megan Bowen")


def test_a_group_with_nothing_in_it_is_left_out() -> None:
    card = my_audits_card(items=[an_audit()], page=Page(0, 10, 1), today=TODAY)
    assert "Audits of my cases" not in shown_text(card)


def test_an_audit_shows_kind_theme_state_due_date_and_grade() -> None:
    item = an_audit(state="completed", overall_grade="requires_improvement", case_ref="CR-9")

    lines = runs_by_block(my_audits_card(items=[item], page=Page(0, 10, 1), today=TODAY))

    assert "CR-9 · Thematic audit: Neglect" in lines
    assert "Completed · Due Thu 10 Dec" in lines
    assert "Overall grade: Requires improvement" in lines


def test_an_overdue_audit_is_highlighted() -> None:
    item = an_audit(due_on=date(2026, 11, 30), overdue=True)
    card = my_audits_card(items=[item], page=Page(0, 10, 1), today=TODAY)
    assert run_with_text(card, "Overdue: was due Mon 30 Nov")["color"] == "Attention"


def test_my_audits_page_like_my_actions() -> None:
    items = [an_audit(id=i) for i in range(10)]
    card = my_audits_card(items=items, page=Page(10, 10, 30), today=TODAY)

    assert [(b["verb"], b["data"]) for b in buttons(card)] == [
        ("my_audits_page", {"action": "my_audits_page", "offset": 20}),
        ("my_audits_page", {"action": "my_audits_page", "offset": 0}),
    ]


def test_no_audits_gets_a_friendly_card_without_buttons() -> None:
    card = my_audits_card(items=[], page=Page(0, 10, 0), today=TODAY)
    assert "You have no audits right now." in texts(card, "TextBlock")
    assert buttons(card) == []


def test_help_lists_exactly_the_given_commands_with_their_help() -> None:
    card = help_card(
        display_name="Sam Jones", roles_label="Auditor, Practitioner", commands=COMMANDS
    )

    bold = [e["text"] for e in nodes(card_json(card)) if e.get("weight") == "Bolder"]
    assert bold == ["What I can do for you"] + [c.name for c in COMMANDS]
    lines = runs_by_block(card)
    assert "Hello Sam Jones. You are set up as: Auditor, Practitioner." in lines
    assert "done – Mark an action done" in lines


def test_help_buttons_type_the_simple_commands_at_most_six() -> None:
    card = help_card(display_name="Sam", roles_label="Auditor", commands=COMMANDS)

    sent = [b["data"]["msteams"] for b in buttons(card)]
    assert all(b["type"] == "Action.Submit" for b in buttons(card))
    # "done 12" would act on a made-up action, so it is listed but has no button.
    assert sent == [
        {"type": "imBack", "value": v}
        for v in ("help", "my actions", "my audits", "feedback", "team", "stats")
    ]


def test_help_with_one_command_has_one_button() -> None:
    card = help_card(display_name="Sam", roles_label="Practitioner", commands=COMMANDS[:1])
    assert [b["title"] for b in buttons(card)] == ["help"]


def test_unknown_person_is_told_who_to_ask_and_nothing_else() -> None:
    card = unknown_person_card(admin_contact="Jo Bloggs (QA team)")

    text = shown_text(card)
    assert "You're not set up in QA Loop yet" in text
    assert "Please ask Jo Bloggs (QA team) to add you, using your work email address." in text
    assert buttons(card) == []


def test_a_misspelt_command_gets_did_you_mean_with_a_button_for_it() -> None:
    card = did_you_mean_card(typed="my acitons", suggestion="my actions")

    assert runs_by_block(card) == ["I don't know “my acitons”.", "Did you mean my actions?"]
    assert [(b["title"], b["data"]["msteams"]["value"]) for b in buttons(card)] == [
        ("my actions", "my actions"),
        ("Show help", "help"),
    ]


def test_did_you_mean_help_has_a_single_help_button() -> None:
    card = did_you_mean_card(typed="hlep", suggestion="help")
    assert [b["data"]["msteams"]["value"] for b in buttons(card)] == ["help"]


def test_nonsense_with_no_suggestion_points_to_help() -> None:
    card = did_you_mean_card(typed="x" * 500, suggestion=None)

    assert "Type help to see what I can do." in texts(card, "TextBlock")
    assert [b["title"] for b in buttons(card)] == ["Show help"]
    assert len(runs_by_block(card)[0]) < 100


def test_the_note_in_a_shared_thread_carries_no_details() -> None:
    card = private_reply_note_card(sent=True)
    assert shown_text(card) == "I've sent that to our private chat, so case details stay private."
    assert "msteams" not in card_json(card)


def test_an_error_is_shown_in_the_attention_colour() -> None:
    card = error_card("That didn't work.")
    assert run_with_text(card, "That didn't work.")["color"] == "Attention"


def test_dates_read_the_uk_way() -> None:
    assert uk_date(TODAY) == "Thu 3 Dec 2026"
    assert uk_date(date(2027, 1, 8), today=TODAY) == "Fri 8 Jan 2027"
    assert uk_date(date(2026, 12, 10), today=TODAY) == "Thu 10 Dec"
    assert uk_date(TODAY, today=TODAY) == "today"
    assert uk_date(date(2026, 12, 4), today=TODAY) == "tomorrow"


def test_a_count_agrees_with_its_noun() -> None:
    from cards.common import counted

    assert [counted(n, "action") for n in (0, 1, 2)] == ["0 actions", "1 action", "2 actions"]
    assert counted(1, "child", "children") == "1 child"
    assert counted(3, "child", "children") == "3 children"
