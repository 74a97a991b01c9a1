"""Where a turn goes: typed text to its command, a card's data to its verb's handler.

Both tables come from the app's features (bot.feature.Catalogue); a card's data is parsed into
the verb's payload model before anything runs, and a payload we cannot use is refused and logged.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import ValidationError

from bot.payloads import UNTYPEABLE, CardAction, Payload
from bot.turn import Command, Reply, Request
from cards.notices import error_card
from storage import audit_log


@dataclass(frozen=True, slots=True)
class Parsed:
    command: Command | None
    args: str
    typed: str
    suggestion: str | None
    # The arguments as typed (case kept), for free text.
    raw_args: str = ""
    # The command's spelling as typed ("digest" for stats), to name it back to them.
    said: str = ""


_SPACES = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Lower case, single spaces, no leading slash or trailing punctuation."""
    text = _SPACES.sub(" ", text.replace("\u00a0", " ")).strip().lower()
    return text.removeprefix("/").strip().rstrip(".!")


def _raw_args(text: str, spelling: str) -> str:
    """What follows the command in `text`, with its case and punctuation kept."""
    spaced = _SPACES.sub(" ", text.replace("\u00a0", " ")).strip().removeprefix("/").strip()
    if spaced[: len(spelling)].lower() != spelling:
        return ""
    return spaced[len(spelling) :].strip()


_TABLES: dict[int, tuple[tuple[Command, ...], list[tuple[str, Command]]]] = {}


def _by_length(commands: tuple[Command, ...]) -> list[tuple[str, Command]]:
    """Every spelling of every command, longest first: made once a process for the app's table."""
    made = _TABLES.get(id(commands))
    if made is None or made[0] is not commands:
        table = sorted(
            ((spelling, c) for c in commands for spelling in c.spellings),
            key=lambda pair: -len(pair[0]),
        )
        if len(_TABLES) > 16:  # an app has one table; tests build many apps
            _TABLES.clear()
        made = _TABLES[id(commands)] = (commands, table)
    return made[1]


def parse(text: str, commands: tuple[Command, ...]) -> Parsed:
    typed = normalise(text)
    by_length = _by_length(commands)
    for spelling, command in by_length:
        if typed == spelling or typed.startswith(spelling + " "):
            args = typed[len(spelling) :].strip()
            return Parsed(command, args, typed, None, _raw_args(text, spelling) or args, spelling)
    spellings = [s for s, _ in by_length]
    close = difflib.get_close_matches(typed, spellings, n=1, cutoff=0.6)
    suggestion = None
    if close:
        suggestion = next(c.name for s, c in by_length if s == close[0])
    return Parsed(None, "", typed, suggestion)


class BadPayload(ValueError):
    """A card submit we cannot act on; the message is for the person who pressed."""

    def __init__(self, message: str, *, action: str | None = None, field: str | None = None):
        super().__init__(message)
        self.action = action
        self.field = field


_CANT_USE = "That button sent something I can't use. Nothing was changed."


_UNTYPEABLE_TEXT = (
    "Some of that text has characters I can't keep (control characters, as text pasted from "
    "another program can carry). Please type it again without them."
)


def resolve(data: object, verbs: Mapping[str, CardAction]) -> tuple[CardAction, Payload]:
    if not isinstance(data, dict):
        raise BadPayload("That button didn't send what I expected. Please try again.")
    name = data.get("action")
    action = verbs.get(name) if isinstance(name, str) else None
    if action is None:
        raise BadPayload("I don't recognise that button. It may be from an older card.")
    try:
        return action, action.payload.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        field = next((str(e["loc"][0]) for e in errors if e["loc"]), None)
        problem = action.payload.problems.get(field or "")
        if any(e["type"] == UNTYPEABLE for e in errors):
            problem = _UNTYPEABLE_TEXT
        message = f"{problem} Nothing was changed." if problem else _CANT_USE
        raise BadPayload(message, action=name, field=field) from exc


async def dispatch(request: Request, data: object, verbs: Mapping[str, CardAction]) -> Reply:
    """Run the button's action; a payload we cannot use is refused, and the refusal logged."""
    try:
        action, payload = resolve(data, verbs)
    except BadPayload as exc:
        audit_log.record(
            request.session,
            tenant_id=request.tenant_id,
            actor_id=request.person.id,
            event="refused.bad_payload",
            entity="card_action",
            entity_id=(exc.action or "unknown")[:64],
            after={"field": exc.field[:64] if exc.field else None},
        )
        message = str(exc)
        return Reply(card=error_card(message), summary=message, error=message)
    return await action.run(request, payload)
