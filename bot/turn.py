"""What a command or card action is given (Request) and what it answers (Reply)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from microsoft_teams.cards import AdaptiveCard
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.settings import Settings
from cards.common import card_json
from storage.models import Staff, utcnow


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

    def content(self) -> dict[str, Any]:
        return self.card if isinstance(self.card, dict) else card_json(self.card)
