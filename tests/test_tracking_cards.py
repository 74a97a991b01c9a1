"""The cards for acting on actions, for managers and for QA: valid, literal, small enough."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from microsoft_teams.cards import AdaptiveCard

from cards.action_buttons import owner_buttons
from cards.action_done import (
    ActionStatus,
    action_confirmed_card,
    action_reopened_card,
    action_status_card,
    confirm_done_card,
)
from cards.common import card_json, card_size, new_card
from cards.extension import ExtensionView, extension_decided_card, extension_request_card
from cards.my_actions import my_actions_card
from cards.notices import away_card, back_card, usage_card
from cards.team import Compliance, Overdue, TeamView, WaitingDone, WaitingExtension, team_card
from cards.unreachable import Unreachable, unreachable_card
from cards.views import ActionItem, Page
from tests.chat import nodes

TODAY = date(2026, 11, 26)
AT = datetime(2026, 11, 26, 10, 2, tzinfo=UTC)
EVIL = "[Approve](https://evil.example) **bold** <b>x</b>"
LONG = ("Ελληνικά 漢字 [link](https://e.example) **b** " * 60)[:2000]


def status(**changes: Any) -> ActionStatus:
    fields: dict[str, Any] = {
        "id": 12,
        "what": "Update the child's plan with dates",
        "measure": "The plan on file shows review dates",
        "case_ref": "CR-1001",
        "standard": "plans",
        "owner_name": "Alex Wilber",
        "state": "done",
        "due_on": date(2026, 12, 3),
        "snoozed_until": None,
        "done_note": "Plan updated",
        "done_by": "Alex Wilber",
        "done_at": AT,
        "confirmed_by": None,
        "confirmed_at": None,
    }
    return ActionStatus(**(fields | changes))


def extension(**changes: Any) -> ExtensionView:
    fields: dict[str, Any] = {
        "id": 5,
        "action_id": 12,
        "what": "Update the child's plan with dates",
        "case_ref": "CR-1001",
        "standard": "plans",
        "owner_name": "Alex Wilber",
        "old_due_on": date(2026, 12, 3),
        "new_due_on": date(2026, 12, 10),
        "due_on": date(2026, 12, 3),
        "reason": "Waiting for the conference",
        "state": "pending",
        "decided_by": None,
        "decided_at": None,
    }
    return ExtensionView(**(fields | changes))


def team_view(n: int = 1, text: str = "Record the visit", name: str = "Alex Wilber") -> TeamView:
    return TeamView(
        title="Team North",
        extensions=[
            WaitingExtension(i, i, name, text, date(2026, 12, 3), date(2026, 12, 10), text)
            for i in range(1, min(n, 5) + 1)
        ],
        confirmations=[WaitingDone(i, name, text, text) for i in range(1, min(n, 5) + 1)],
        more_waiting=n > 5,
        overdue=[
            Overdue(i, name, text, f"CR-{i:06}", "plans", date(2026, 11, 18), 6)
            for i in range(1, min(n, 10) + 1)
        ],
        page=Page(0, 10, n),
        compliance=[Compliance("North", 3, 2), Compliance("South", 4, 4)],
        away=[(name, date(2026, 12, 24))] * min(n, 20),
        away_total=n,
    )


def an_action(id: int = 12, **changes: Any) -> ActionItem:
    fields: dict[str, Any] = {
        "id": id,
        "what": "Update the child's plan",
        "measure": "Seen on file",
        "due_on": date(2026, 12, 3),
        "state": "open",
        "case_ref": "CR-1001",
        "standard": "plans",
        "overdue_days": 0,
        "due_status": "soon",
    }
    return ActionItem(**(fields | changes))


CARDS: dict[str, Callable[[], AdaptiveCard]] = {
    "status": lambda: action_status_card(status(), message="Done ✓", today=TODAY),
    "confirm": lambda: confirm_done_card(status(), today=TODAY),
    "confirmed": lambda: confirm_done_card(
        status(state="confirmed", confirmed_by="Megan Bowen", confirmed_at=AT), today=TODAY
    ),
    "reopened": lambda: confirm_done_card(status(state="open", done_at=None), today=TODAY),
    "to owner: confirmed": lambda: action_confirmed_card(status(), today=TODAY),
    "to owner: reopened": lambda: action_reopened_card(
        status(), reopened_by="Megan Bowen", reason="No dates", today=TODAY
    ),
    "extension": lambda: extension_request_card(extension(), today=TODAY),
    "extension approved": lambda: extension_request_card(
        extension(state="approved", decided_by="Megan Bowen", decided_at=AT), today=TODAY
    ),
    "to owner: decided": lambda: extension_decided_card(
        extension(state="declined", decided_by="Megan Bowen"), today=TODAY
    ),
    "team": lambda: team_card(team_view(3), today=TODAY, notice="Approved ✓"),
    "empty team": lambda: team_card(team_view(0), today=TODAY),
    "unreachable": lambda: unreachable_card(
        people=[Unreachable("Nestor Wilke", "n@example.com", "North", TODAY)],
        page=Page(0, 20, 1),
        today=TODAY,
    ),
    "nobody unreachable": lambda: unreachable_card(people=[], page=Page(0, 20, 0), today=TODAY),
    "away": lambda: away_card(until=date(2026, 12, 24), resumes_on=date(2026, 12, 29), today=TODAY),
    "back": lambda: back_card(display_name="Alex Wilber", was_away=True),
    "usage": lambda: usage_card("Which action?", button=("My actions", "my actions")),
}


@pytest.mark.parametrize("make", CARDS.values(), ids=CARDS.keys())
def test_every_card_is_adaptive_card_1_5_without_empty_properties(
    make: Callable[[], AdaptiveCard],
) -> None:
    content = json.loads(json.dumps(card_json(make())))
    assert content["type"] == "AdaptiveCard" and content["version"] == "1.5"
    assert content["body"]
    assert all(None not in e.values() for e in nodes(content))


def test_what_people_wrote_is_shown_literally() -> None:
    cards = [
        action_status_card(
            status(what=EVIL, done_note=EVIL, owner_name=EVIL, done_by=EVIL),
            message="x",
            today=TODAY,
        ),
        confirm_done_card(
            status(what=EVIL, measure=EVIL, done_note=EVIL, owner_name=EVIL), today=TODAY
        ),
        action_reopened_card(status(what=EVIL), reopened_by=EVIL, reason=EVIL, today=TODAY),
        extension_request_card(extension(reason=EVIL, what=EVIL, owner_name=EVIL), today=TODAY),
        extension_decided_card(extension(decided_by=EVIL, state="approved"), today=TODAY),
        team_card(team_view(2, text=EVIL, name=EVIL), today=TODAY),
        unreachable_card(
            people=[Unreachable(EVIL, EVIL, EVIL, TODAY)], page=Page(0, 20, 1), today=TODAY
        ),
        back_card(display_name=EVIL, was_away=True),
        my_actions_card(
            items=[an_action()], page=Page(0, 10, 1), overdue_total=0, today=TODAY, notice=EVIL
        ),
    ]
    for card in cards:
        content = card_json(card)
        runs = [e["text"] for e in nodes(content) if e.get("type") == "TextRun"]
        blocks = [e["text"] for e in nodes(content) if e.get("type") == "TextBlock"]
        assert any(EVIL in text for text in runs), content
        assert not any("evil.example" in text for text in blocks), blocks


def test_the_owner_s_buttons_send_the_payloads_the_bot_handles() -> None:
    content = card_json(new_card([owner_buttons(12, today=TODAY, extra={"card": "my_actions"})]))
    executes = {e["title"]: e for e in nodes(content) if e.get("type") == "Action.Execute"}
    inputs = {e["id"]: e for e in nodes(content) if str(e.get("type")).startswith("Input.")}

    assert executes["Mark done"]["data"] == {
        "action": "mark_done",
        "action_id": 12,
        "card": "my_actions",
    }
    assert executes["Snooze 1 day"]["data"]["days"] == 1
    assert executes["Snooze 3 days"]["data"]["days"] == 3
    assert executes["Ask my manager"]["data"]["action"] == "request_extension"
    assert set(inputs) == {"note_12", "new_due_on_12", "reason_12"}
    assert inputs["new_due_on_12"]["min"] == "2026-11-27"
    assert all(e["verb"] == e["data"]["action"] for e in executes.values())


def test_the_team_card_at_its_fullest_stays_under_40_kb() -> None:
    card = team_card(team_view(40, text=LONG, name="Ελληνικά 漢字" * 10), today=TODAY)
    assert card_size(card) < 40 * 1024


def test_a_page_of_unreachable_people_stays_under_40_kb() -> None:
    people = [Unreachable("漢字" * 100, "x" * 320, "漢字" * 100, TODAY) for _ in range(20)]
    card = unreachable_card(people=people, page=Page(0, 20, 200), today=TODAY)
    assert card_size(card) < 40 * 1024


def test_a_done_action_shows_who_and_when_and_no_buttons_to_press_twice() -> None:
    content = card_json(
        action_status_card(status(), message="Done ✓ by Alex Wilber, 26 Nov 10:02", today=TODAY)
    )
    titles = [e["title"] for e in nodes(content) if str(e.get("type")).startswith("Action.")]
    assert titles == ["My actions"]
    runs = [e["text"] for e in nodes(content) if e.get("type") == "TextRun"]
    assert "Done ✓ by Alex Wilber, 26 Nov 10:02 · waiting for a manager to confirm" in runs
