"""The hot-path cards are built as plain JSON (issue 15): the bytes Teams gets are the bytes the
validated card models made, and every such card still validates against the card schema."""

from __future__ import annotations

import json
from datetime import date

import pytest
from microsoft_teams.cards import AdaptiveCard

from bot.rules.grades import ACTION_MEETING, CHILD_VISIT
from cards.action_buttons import _owner_buttons, owner_buttons
from cards.common import card_json
from tests.card_samples import GOLDEN, SAMPLES, samples

GOLDEN_CARDS = json.loads(GOLDEN.read_text())


def _bytes(card: object) -> bytes:
    return json.dumps(card, ensure_ascii=False).encode()


@pytest.mark.parametrize("name", SAMPLES)
def test_a_hot_path_card_is_byte_for_byte_the_card_it_was(name: str) -> None:
    assert _bytes(samples()[name]) == _bytes(GOLDEN_CARDS[name])


@pytest.mark.parametrize("name", SAMPLES)
def test_a_hot_path_card_validates_against_the_card_schema_unchanged(name: str) -> None:
    built = samples()[name]
    validated = AdaptiveCard.model_validate(built)
    assert _bytes(card_json(validated)) == _bytes(built)


def test_every_golden_card_is_a_sample() -> None:
    assert set(GOLDEN_CARDS) == set(SAMPLES)


@pytest.mark.parametrize("source", [None, "audit", CHILD_VISIT, ACTION_MEETING])
@pytest.mark.parametrize(
    "extra", [None, {"card": "my_actions"}, {"card": "my_actions", "offset": 10}]
)
def test_an_actions_buttons_filled_in_from_their_template_are_the_buttons_built_anew(
    source: str | None, extra: dict[str, object] | None
) -> None:
    days = [(1, date(2026, 12, 4)), (12, date(2026, 12, 4)), (98765, date(2027, 3, 1))]
    for action_id, today in days:
        built = _owner_buttons(action_id, today=today, extra=extra, source=source)
        assert owner_buttons(action_id, today=today, extra=extra, source=source) == built
        assert _bytes(owner_buttons(action_id, today=today, extra=extra, source=source)) == _bytes(
            built
        )
    # Each call gets a card of its own: changing one changes no other.
    first = owner_buttons(7, today=date(2026, 12, 4), extra=extra, source=source)
    first["actions"].clear()
    assert owner_buttons(7, today=date(2026, 12, 4), extra=extra, source=source)["actions"]
