"""Adaptive Card elements as plain JSON, for the cards built on every turn (issue 15).

`element(TextBlock, text="Hi", wrap=True)` is the JSON that `card_json(TextBlock(text="Hi",
wrap=True))` gives, key for key and in the same order, without building and validating a model
and dumping it again: that cost ~2.5 ms a `my actions` card (245 models). The card models stay
the schema: tests/test_card_bytes.py validates every plain card against them and pins its bytes.

Values must already be JSON: str (an enum member is one), int, float, bool, dicts and lists of
them, and other elements. Dates go in as ISO strings, as the models would write them.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from types import UnionType
from typing import Any, Union, get_args, get_origin

from microsoft_teams.cards import AdaptiveCard, ExecuteAction, RichTextBlock, TextBlock, TextRun
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from cards.views import Page

Json = dict[str, Any]

# How our own words look, written once for the card models and the plain JSON alike.
HEADING: Json = {"style": "heading", "size": "Large", "weight": "Bolder", "wrap": True}
FULL_WIDTH: Json = {"width": "full"}

# (JSON name, field name or None for a default, the default, whether a float)
_Step = tuple[str, str | None, Any, bool]


def _is_float(annotation: Any) -> bool:
    if annotation is float:
        return True
    if get_origin(annotation) in (Union, UnionType):
        return float in get_args(annotation) and int not in get_args(annotation)
    return False


@cache
def _plan(model: type[BaseModel], given: frozenset[str]) -> tuple[_Step, ...]:
    """The keys `model` dumps, in its order, for these fields given (and its set defaults)."""
    fields = model.model_fields
    if unknown := given - fields.keys():
        raise TypeError(f"{model.__name__} has no field {sorted(unknown)}")
    plan: list[_Step] = []
    for name, field in fields.items():
        key = field.serialization_alias or field.alias or name
        if name in given:
            plan.append((key, name, None, _is_float(field.annotation)))
        elif field.default is not None and field.default is not PydanticUndefined:
            if type(field.default) not in (str, int, bool):
                raise TypeError(f"{model.__name__}.{name} has a default plain JSON cannot copy")
            plan.append((key, None, field.default, False))
    return tuple(plan)


def element(model: type[BaseModel], /, **fields: Any) -> Json:
    """`model`'s JSON for these fields; a field given as None is left out, as the dump does."""
    given = {name: value for name, value in fields.items() if value is not None}
    return {
        key: ((float(given[name]) if as_float else given[name]) if name is not None else default)
        for key, name, default, as_float in _plan(model, frozenset(given))
    }


def new_card(body: Sequence[Json], actions: Sequence[Json] = (), *, wide: bool = True) -> Json:
    """cards.common.new_card as plain JSON."""
    return element(
        AdaptiveCard,
        version="1.5",
        body=list(body),
        actions=list(actions) or None,
        msteams=dict(FULL_WIDTH) if wide else None,
    )


def heading(text: str) -> Json:
    """A title made from our own words; TextBlock reads markdown, so never pass stored text."""
    return element(TextBlock, text=text, **HEADING)


def note(text: str, *, subtle: bool = False) -> Json:
    """A line of our own words; TextBlock reads markdown, so never pass stored text."""
    return element(TextBlock, text=text, wrap=True, is_subtle=subtle or None)


def run(text: str, *, bold: bool = False, color: str | None = None, subtle: bool = False) -> Json:
    return element(
        TextRun, text=text, weight="Bolder" if bold else None, color=color, is_subtle=subtle or None
    )


def literal(*parts: str | Json, separator: bool = False) -> Json:
    """Text shown exactly as given: a TextRun reads no markdown, so `[x](https://…)` stays text."""
    inlines = [p if isinstance(p, dict) else element(TextRun, text=p) for p in parts]
    return element(RichTextBlock, inlines=inlines, separator=separator or None)


def paging_actions(page: Page, verb: str) -> list[Json]:
    """Buttons to the next page and back to the first; `verb` is also the data's action."""
    actions: list[Json] = []
    if page.has_more:
        count = min(page.size, page.total - page.next_offset)
        actions.append(_page_button(f"Show {count} more", verb, page.next_offset))
    if page.offset > 0:
        actions.append(_page_button("Back to the first page", verb, 0))
    return actions


def _page_button(title: str, verb: str, offset: int) -> Json:
    return element(ExecuteAction, title=title, verb=verb, data={"action": verb, "offset": offset})
