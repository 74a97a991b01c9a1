"""Card actions (Action.Execute), keyed by the card's data["action"]; payloads parsed before use."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.commands import Reply, Request, show_my_actions, show_my_audits


class PagePayload(BaseModel):
    model_config = ConfigDict(extra="ignore")
    offset: int = Field(ge=0, le=100_000)


@dataclass(frozen=True, slots=True)
class CardAction:
    payload: type[BaseModel]
    run: Callable[[Request, Any], Awaitable[Reply]]


async def _page_of_actions(request: Request, payload: PagePayload) -> Reply:
    return await show_my_actions(_at(request, payload.offset))


async def _page_of_audits(request: Request, payload: PagePayload) -> Reply:
    return await show_my_audits(_at(request, payload.offset))


def _at(request: Request, offset: int) -> Request:
    return Request(
        session=request.session,
        tenant_id=request.tenant_id,
        person=request.person,
        today=request.today,
        offset=offset,
    )


# Paging shows the presser their own list, so there is nobody else's state to guard here.
ACTIONS: dict[str, CardAction] = {
    "my_actions_page": CardAction(PagePayload, _page_of_actions),
    "my_audits_page": CardAction(PagePayload, _page_of_audits),
}


class BadPayload(ValueError):
    """A card submit we cannot act on; the message is for the person who pressed."""


def resolve(data: object) -> tuple[CardAction, BaseModel]:
    if not isinstance(data, dict):
        raise BadPayload("That button didn't send what I expected. Please try again.")
    name = data.get("action")
    action = ACTIONS.get(name) if isinstance(name, str) else None
    if action is None:
        raise BadPayload("I don't recognise that button. It may be from an older card.")
    try:
        return action, action.payload.model_validate(data)
    except ValidationError as exc:
        raise BadPayload("That button sent something I can't use. Nothing was changed.") from exc
