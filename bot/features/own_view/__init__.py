"""The practitioner's own view first: in a collaborative audit they may grade the six standards
themselves before they see the auditor's grades; the completed audit shows both side by side,
and QA sees how far practitioners and auditors agree (in `stats`)."""

from __future__ import annotations

from bot.feature import Feature
from bot.features.own_view import handlers
from bot.payloads import CardAction
from cards.names import CardVerb

FEATURE = Feature(
    name="own_view",
    about="practitioners' own grades of their collaborative audits, before the auditor's",
    verbs={
        CardVerb.OPEN_OWN_VIEW: CardAction(handlers.OwnView, handlers.on_open_own_view),
        CardVerb.SUBMIT_OWN_VIEW: CardAction(handlers.SubmitOwnView, handlers.on_submit_own_view),
    },
)
