"""What every card action is built from: a payload model parsed from the card's data, and the
function that runs it. Feature modules (bot.grading, bot.feedback, ...) declare their own
`ACTIONS` tables of these; bot.actions joins them into one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from bot.turn import Reply, Request

TEXT_LIMIT = 2000
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

    @model_validator(mode="before")
    @classmethod
    def _per_item_inputs(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not cls.inputs:
            return data
        item = data.get(cls.item_key)
        merged = dict(data)
        for name in cls.inputs:
            suffixed = f"{name}_{item}"
            if not merged.get(name) and suffixed in data:
                merged[name] = data[suffixed]
        return merged


@dataclass(frozen=True, slots=True)
class CardAction:
    """A button's action: its payload model and the function that runs it."""

    payload: type[Payload]
    run: Callable[[Request, Any], Awaitable[Reply]]
