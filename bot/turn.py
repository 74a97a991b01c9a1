"""The contract of a turn: what a command or card action is given (Request), what it answers
(Reply), a chat command (Command), and how a posted card is rebuilt (Rebuilder)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from microsoft_teams.cards import AdaptiveCard
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.rules.roles import Role
from bot.settings import Settings
from cards.common import card_json
from storage.models import SentCard, Staff, utcnow

# A posted card of one kind built afresh from the database, with the running bot's settings (its
# content files, its suppression threshold): its JSON and notification summary, or None when it
# no longer can be.
Rebuilt = tuple[dict[str, Any], str] | None
Rebuilder = Callable[[AsyncSession, str, SentCard, date, Settings], Awaitable[Rebuilt]]


@dataclass(frozen=True, slots=True)
class Rebuilders:
    """How each kind of posted card is built afresh (the features' rebuilders), bound to the
    running bot's settings so a card drawn again reads what it read when first drawn."""

    by_kind: Mapping[str, Rebuilder]
    settings: Settings

    def knows(self, kind: str) -> bool:
        return kind in self.by_kind

    async def rebuild(
        self, session: AsyncSession, tenant_id: str, sent: SentCard, today: date
    ) -> Rebuilt:
        rebuild = self.by_kind.get(sent.kind)
        if rebuild is None:
            return None
        return await rebuild(session, tenant_id, sent, today, self.settings)


@dataclass(frozen=True, slots=True)
class Request:
    """Who asked, in which tenant, on which day, with what arguments."""

    session: AsyncSession
    tenant_id: str
    person: Staff
    today: date
    # The running bot's settings (the council's case-reference pattern, its step guide file...).
    settings: Settings
    args: str = ""
    offset: int = 0
    # The typed arguments with their case kept (args is lower case), for free text such as a note.
    raw_args: str = ""
    now: datetime = field(default_factory=utcnow)
    # For a card action: the conversation and the posted card (activity) whose button was pressed.
    conversation_id: str | None = None
    reply_to_id: str | None = None
    # What the running app is made of (bot.features): its commands, for help, and how each kind
    # of posted card is rebuilt, to update the cards a change leaves stale.
    # No default: a request that forgot them would show no help and leave posted cards stale.
    commands: tuple[Command, ...] = field(kw_only=True)
    rebuilders: Rebuilders = field(kw_only=True)

    def at(self, offset: int) -> Request:
        """The same request for another page of a list."""
        return replace(self, offset=offset)


@dataclass(frozen=True, slots=True)
class Reply:
    # A card, or one rebuilt as JSON (a posted card shown afresh by its kind's rebuilder).
    card: AdaptiveCard | dict[str, Any]
    # The notification preview: never a case reference.
    summary: str
    # Carries personal or case details, so it goes only to the asker's personal chat.
    private: bool = False
    # A card action that changed nothing: answered as an error so the card stays as it was.
    error: str | None = None
    # A list card to keep track of once posted (its CardKind, and the subjects it shows), so it
    # is redrawn in place when one of them changes; None for a card nothing will change.
    kind: str | None = None
    shows: tuple[str, ...] = ()

    def content(self) -> dict[str, Any]:
        return self.card if isinstance(self.card, dict) else card_json(self.card)


Handler = Callable[[Request], Awaitable[Reply]]

# Where Teams shows a command in its menu (the manifest's commandLists scopes).
EVERYWHERE = ("personal", "team", "groupChat")
PERSONAL = ("personal",)
CHANNEL = ("team",)


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    help: str
    handler: Handler
    aliases: tuple[str, ...] = ()
    # None: everyone may use it.
    roles: frozenset[Role] | None = None
    # How help shows it typed; a command that needs more than its name gets no help button.
    example: str | None = None
    # The scopes whose command menu offers it (at most 10 a scope); any command works when typed.
    menu: tuple[str, ...] = EVERYWHERE
    # Changes nothing but the card it answers with, so Teams' re-delivery of it needs no durable
    # record (bot.handler.ClaimBy.PROCESS): `my actions`, `help`. Anything that writes, or sends
    # a card to anyone else, must leave this False.
    read_only: bool = False

    def allowed(self, person_roles: frozenset[str]) -> bool:
        return self.roles is None or bool(self.roles & person_roles)

    @property
    def spellings(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)
