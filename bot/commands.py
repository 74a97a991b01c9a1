"""The chat commands: one table drives parsing, dispatch, help and the manifest's commandLists."""

from __future__ import annotations

import difflib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date

from microsoft_teams.cards import AdaptiveCard
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.rules.roles import ROLE_LABELS, Role
from cards.help import help_card
from cards.my_actions import my_actions_card
from cards.my_audits import my_audits_card
from cards.views import CommandHelp
from storage import actions, audits
from storage.models import Staff

PAGE_SIZE = 10


@dataclass(frozen=True, slots=True)
class Request:
    """What a command sees: who asked, in which tenant, on which day, with what arguments."""

    session: AsyncSession
    tenant_id: str
    person: Staff
    today: date
    args: str = ""
    offset: int = 0


@dataclass(frozen=True, slots=True)
class Reply:
    card: AdaptiveCard
    # The notification preview: never a case reference.
    summary: str
    # Carries personal or case details, so it goes only to the asker's personal chat.
    private: bool = False


Handler = Callable[[Request], Awaitable[Reply]]


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    help: str
    handler: Handler
    aliases: tuple[str, ...] = ()
    # None: everyone may use it.
    roles: frozenset[Role] | None = None

    def allowed(self, person_roles: frozenset[str]) -> bool:
        return self.roles is None or bool(self.roles & person_roles)

    @property
    def spellings(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


async def show_help(request: Request) -> Reply:
    person_roles = request.person.role_set
    roles_label = ", ".join(
        ROLE_LABELS[Role(r)].lower() for r in sorted(person_roles) if r in Role._value2member_map_
    )
    listed = [
        CommandHelp(name=c.name, help=c.help, example=c.name)
        for c in COMMANDS
        if c.allowed(person_roles)
    ]
    card = help_card(
        display_name=request.person.display_name, roles_label=roles_label, commands=listed
    )
    return Reply(card=card, summary="What I can do for you")


async def show_my_actions(request: Request) -> Reply:
    assert request.person.id is not None
    items, page, overdue = await actions.my_open_actions(
        session=request.session,
        tenant_id=request.tenant_id,
        owner_id=request.person.id,
        today=request.today,
        offset=request.offset,
        size=PAGE_SIZE,
    )
    card = my_actions_card(items=items, page=page, today=request.today, overdue_total=overdue)
    return Reply(card=card, summary=_count(page.total, "open action"), private=True)


async def show_my_audits(request: Request) -> Reply:
    assert request.person.id is not None
    items, page = await audits.my_audits(
        session=request.session,
        tenant_id=request.tenant_id,
        person_id=request.person.id,
        today=request.today,
        offset=request.offset,
        size=PAGE_SIZE,
    )
    card = my_audits_card(items=items, page=page, today=request.today)
    return Reply(card=card, summary=_count(page.total, "audit"), private=True)


def _count(n: int, noun: str) -> str:
    return f"You have {n} {noun}{'' if n == 1 else 's'}"


COMMANDS: tuple[Command, ...] = (
    Command("help", "What I can do for you", show_help, aliases=("hi", "hello", "?")),
    Command(
        "my actions",
        "Your open actions, overdue first",
        show_my_actions,
        aliases=("actions", "my action"),
    ),
    Command(
        "my audits",
        "Audits you are doing and audits of your cases",
        show_my_audits,
        aliases=("audits", "my audit"),
    ),
)


@dataclass(frozen=True, slots=True)
class Parsed:
    command: Command | None
    args: str
    typed: str
    suggestion: str | None


_SPACES = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Lower case, single spaces, no leading slash or trailing punctuation."""
    text = _SPACES.sub(" ", text.replace("\u00a0", " ")).strip().lower()
    return text.removeprefix("/").strip().rstrip(".!")


def parse(text: str, commands: tuple[Command, ...] = COMMANDS) -> Parsed:
    typed = normalise(text)
    by_length = sorted(
        ((spelling, c) for c in commands for spelling in c.spellings),
        key=lambda pair: -len(pair[0]),
    )
    for spelling, command in by_length:
        if typed == spelling or typed.startswith(spelling + " "):
            return Parsed(command, typed[len(spelling) :].strip(), typed, None)
    spellings = [s for s, _ in by_length]
    close = difflib.get_close_matches(typed, spellings, n=1, cutoff=0.6)
    suggestion = None
    if close:
        suggestion = next(c.name for s, c in by_length if s == close[0])
    return Parsed(None, "", typed, suggestion)
