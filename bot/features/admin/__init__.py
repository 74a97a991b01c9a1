"""Admin: `help` (made from every feature's commands), `unreachable`, the nightly housekeeping,
the monthly retention purge and the daily delivery alert to QA and admins."""

from __future__ import annotations

from bot.feature import Feature
from bot.features.admin import handlers
from bot.payloads import CardAction, PagePayload
from cards.names import CardVerb
from jobs import delivery_alert, housekeeping, retention

FEATURE = Feature(
    name="admin",
    about="help, unreachable people, housekeeping, retention, delivery alerts",
    commands=(handlers.HELP, handlers.UNREACHABLE),
    verbs={CardVerb.UNREACHABLE_PAGE: CardAction(PagePayload, handlers.page_of_unreachable)},
    jobs=(housekeeping.JOB, retention.JOB, delivery_alert.JOB),
)
