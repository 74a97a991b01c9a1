"""Moderation: each month's sample of completed audits, moderated blind (the moderator's own
grades first, then the agreed grades), told to the auditor."""

from __future__ import annotations

from bot.feature import Feature
from bot.features.moderation import handlers
from bot.payloads import CardAction
from cards.names import CardKind, CardVerb
from jobs import moderation

FEATURE = Feature(
    name="moderation",
    about="the monthly moderation sample and moderators' decisions",
    verbs={
        CardVerb.MODERATE_AUDIT: CardAction(handlers.ModerateAudit, handlers.on_moderate_audit),
        CardVerb.AGREE_GRADES: CardAction(handlers.AgreeGrades, handlers.on_agree_grades),
    },
    rebuilders={CardKind.MODERATION_REQUEST: handlers.rebuild_moderation_request},
    jobs=(moderation.JOB,),
)
