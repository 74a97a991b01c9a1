"""Admin: `help` (made from every feature's commands), `unreachable`, the nightly housekeeping and
the monthly retention purge."""

from __future__ import annotations

from bot.feature import Feature
from bot.features.admin import handlers
from bot.payloads import CardAction, PagePayload
from cards.names import CardVerb
from jobs import housekeeping, retention

FEATURE = Feature(
    name="admin",
    about="help, unreachable people, housekeeping, retention",
    commands=(handlers.HELP, handlers.UNREACHABLE),
    verbs={CardVerb.UNREACHABLE_PAGE: CardAction(PagePayload, handlers.page_of_unreachable)},
    jobs=(housekeeping.JOB, retention.JOB),
)
