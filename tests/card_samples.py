"""The hot-path cards (issue 15) in every state their builders know, for the golden-bytes test:
tests/fixtures/cards/hot_path.json holds their JSON as the validated card models made it before
the builders emitted plain JSON, so a change to a byte shows as a failing test.

  .venv/bin/python -m tests.card_samples --write   # only when a card is meant to change
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from cards.action_buttons import owner_buttons
from cards.common import card_json, new_card
from cards.my_actions import my_actions_card
from cards.views import ActionItem, Page

GOLDEN = Path(__file__).parent / "fixtures" / "cards" / "hot_path.json"
TODAY = date(2026, 12, 3)  # a Thursday
LONG = ("Ελληνικά 漢字 [link](https://e.example) **b** " * 60)[:2000]


def _item(n: int, **changes: Any) -> ActionItem:
    fields: dict[str, Any] = {
        "id": 100 + n,
        "what": "Update the child's plan with dates",
        "measure": "The plan on file shows review dates",
        "due_on": TODAY + timedelta(days=n - 3),
        "state": "open",
        "case_ref": f"CR-{1000 + n}",
        "standard": "plans" if n % 2 else None,
        "overdue_days": max(0, 3 - n),
        "due_status": "overdue" if n < 3 else ("today" if n == 3 else "later"),
        "source": ("audit", "child_visit", "action_meeting")[n % 3],
    }
    return ActionItem(**(fields | changes))


def _json(card: Any) -> Any:
    return card if isinstance(card, dict) else card_json(card)


SAMPLES: dict[str, Callable[[], Any]] = {
    "a full page, first of six, with a notice": lambda: my_actions_card(
        items=[_item(n) for n in range(10)],
        page=Page(0, 10, 57),
        overdue_total=9,
        today=TODAY,
        notice="Done ✓ by Alex Wilber, 3 Dec 10:02",
    ),
    "a middle page": lambda: my_actions_card(
        items=[_item(n, overdue_days=0) for n in range(4, 14)],
        page=Page(10, 10, 57),
        overdue_total=0,
        today=TODAY,
    ),
    "the last page": lambda: my_actions_card(
        items=[_item(n) for n in range(2)], page=Page(50, 10, 52), overdue_total=2, today=TODAY
    ),
    "one action, no case or standard, overdue by the calendar only": lambda: my_actions_card(
        items=[_item(1, case_ref=None, standard=None, overdue_days=0, due_status="overdue")],
        page=Page(0, 10, 1),
        overdue_total=1,
        today=TODAY,
    ),
    "long text in any script": lambda: my_actions_card(
        items=[_item(n, what=LONG, measure=LONG, source="audit") for n in range(10)],
        page=Page(0, 10, 10),
        overdue_total=3,
        today=TODAY,
    ),
    "no actions": lambda: my_actions_card(
        items=[], page=Page(0, 10, 0), overdue_total=0, today=TODAY
    ),
    "no actions, with a notice": lambda: my_actions_card(
        items=[], page=Page(0, 10, 0), overdue_total=0, today=TODAY, notice="Snoozed"
    ),
    "an action's own buttons on another card": lambda: new_card(
        [owner_buttons(7, today=TODAY), owner_buttons(8, today=TODAY, source="child_visit")]
    ),
}


def samples() -> dict[str, Any]:
    return {name: _json(make()) for name, make in SAMPLES.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true")
    if parser.parse_args().write:
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(json.dumps(samples(), ensure_ascii=False, indent=1) + "\n")


if __name__ == "__main__":
    main()
