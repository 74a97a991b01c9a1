"""The hot-path cards are built as plain JSON (issue 15): the bytes Teams gets are the bytes the
validated card models made, and every such card still validates against the card schema."""

from __future__ import annotations

import json

import pytest
from microsoft_teams.cards import AdaptiveCard

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
