"""Exemplars: the QA team approves or declines a strength an auditor wrote up with no case
details; approved ones are shown with their theme's learning links and drafted into briefings.
(The auditor suggests one from the grading cards: the grading feature.)"""

from __future__ import annotations

from bot.feature import Feature
from bot.features.exemplars import handlers
from bot.payloads import CardAction
from bot.services.exemplars import rebuild_review
from cards.names import CardKind, CardVerb

FEATURE = Feature(
    name="exemplars",
    about="the QA team's approval of exemplars suggested by auditors",
    verbs={
        CardVerb.DECIDE_EXEMPLAR: CardAction(handlers.DecideExemplar, handlers.on_decide_exemplar)
    },
    rebuilders={CardKind.EXEMPLAR_REVIEW: rebuild_review},
)
