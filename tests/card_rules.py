"""What every card a person meets must hold to, checked on every card the tests see (the fake
connector's and every card-action answer): it is an Adaptive Card as the card models write it
(the turn builds some as plain JSON and validates none: issue 15), and an input the client can
refuse says why."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from microsoft_teams.cards import AdaptiveCard
from pydantic import ValidationError

from cards.common import card_json

# What makes the client refuse an input before it is sent.
REFUSING = ("isRequired", "min", "max", "maxLength", "regex")


def _elements(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _elements(value)
    elif isinstance(node, list):
        for value in node:
            yield from _elements(value)


def input_problems(card: dict[str, Any]) -> list[str]:
    """Each input that can be refused but carries no errorMessage, and each text input with no
    length limit (the server refuses more than it keeps, so the client should say so first)."""
    problems = []
    for element in _elements(card):
        kind = element.get("type")
        if not isinstance(kind, str) or not kind.startswith("Input."):
            continue
        name = f"{kind} {element.get('id')!r}"
        refusing = [k for k in REFUSING if element.get(k) not in (None, False)]
        if refusing and not element.get("errorMessage"):
            problems.append(f"{name}: {', '.join(refusing)} without errorMessage")
        if kind == "Input.Text" and not element.get("maxLength"):
            problems.append(f"{name}: no maxLength")
    return problems


def schema_problems(card: dict[str, Any]) -> list[str]:
    """Whether the card validates against the card models and is what they would write back."""
    try:
        model = AdaptiveCard.model_validate(card)
    except ValidationError as exc:
        return [f"not an Adaptive Card: {exc.errors()[0]['loc']} {exc.errors()[0]['msg']}"]
    if card_json(model) != card:
        return ["not as the card models write it (a property they drop or change)"]
    return []


def card_problems(card: dict[str, Any]) -> list[str]:
    return schema_problems(card) + input_problems(card)
