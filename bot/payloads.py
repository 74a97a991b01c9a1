"""What every card action is built from: a payload model parsed from the card's data, and the
function that runs it. Feature modules (bot.grading, bot.feedback, ...) declare their own
`ACTIONS` tables of these; bot.actions joins them into one.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from bot.turn import Reply, Request
from cards.names import item_input

TEXT_LIMIT = 2000
# What no one types: C0 and C1 controls (a line break or tab is typed) and lone surrogates, which
# PostgreSQL refuses outright (a NUL byte) or cannot encode.
_UNTYPEABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# The pydantic error type for such text, so the person is told what is wrong with it.
UNTYPEABLE = "untypeable_text"
Id = Annotated[int, Field(ge=1, le=2_147_483_647)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=TEXT_LIMIT)]
Reason = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=TEXT_LIMIT)
]


class Payload(BaseModel):
    """A card's data. Inputs may be named per item ("note_12") so one card can hold several."""

    model_config = ConfigDict(extra="ignore")
    # Which list card the button was on, so the answer is that card again ("my_actions", "team").
    card: str | None = Field(None, max_length=32)
    offset: int = Field(0, ge=0, le=100_000)

    # What the person is told when a field does not fit; the rest get a general message.
    problems: ClassVar[dict[str, str]] = {}
    # The id that names this card's item, and the inputs that may carry it as a suffix.
    item_key: ClassVar[str] = "action_id"
    inputs: ClassVar[tuple[str, ...]] = ()

    @field_validator("*", mode="before")
    @classmethod
    def _as_sent_by_a_card(cls, value: Any, info: ValidationInfo) -> Any:
        """Every text in a payload, at any depth, is one a person could type; and a JSON value
        is of the type asked for: true is not 1, 1.0 is not an id (pydantic would take both)."""
        if isinstance(value, bool | float) and info.field_name is not None:
            annotation = cls.model_fields[info.field_name].annotation
            if annotation not in (type(value), type(value) | None):
                raise PydanticCustomError("type_mismatch", "a value of another type")
        if _has_untypeable(value):
            raise PydanticCustomError(UNTYPEABLE, "text with control characters")
        return value

    @model_validator(mode="before")
    @classmethod
    def _per_item_inputs(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not cls.inputs:
            return data
        item = data.get(cls.item_key)
        merged = dict(data)
        for name in cls.inputs:
            suffixed = item_input(name, item)
            if not merged.get(name) and suffixed in data:
                merged[name] = data[suffixed]
        return merged


def untypeable(text: str) -> bool:
    """Whether typed text holds a character no one types (a NUL byte, say)."""
    return _UNTYPEABLE.search(text) is not None


def _has_untypeable(value: Any) -> bool:
    if isinstance(value, str):
        return untypeable(value)
    if isinstance(value, dict):
        return any(_has_untypeable(k) or _has_untypeable(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_untypeable(v) for v in value)
    return False


@dataclass(frozen=True, slots=True)
class CardAction:
    """A button's action: its payload model and the function that runs it."""

    payload: type[Payload]
    run: Callable[[Request, Any], Awaitable[Reply]]


class PagePayload(Payload):
    """Another page of a list card: the offset is all it needs."""
