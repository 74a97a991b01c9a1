"""The response to an inadequate audit or to risk: the alert, the action meeting within the
tenant's deadline and the child visit, recorded from the alert card; and `inadequate`, every case
judged inadequate in the last 12 months with its re-audit."""

from __future__ import annotations

from bot.feature import Feature
from bot.features.inadequate import cases, handlers
from bot.payloads import CardAction, PagePayload
from cards.names import CardKind, CardVerb

FEATURE = Feature(
    name="inadequate",
    about="the alert, action meeting and child visit after an inadequate audit or risk, and "
    "the inadequate cases tracked to their re-audit",
    commands=(cases.INADEQUATE,),
    verbs={
        CardVerb.INADEQUATE_PAGE: CardAction(PagePayload, cases.page_of_inadequate),
        CardVerb.MEETING_HELD: CardAction(handlers.MeetingHeld, handlers.on_meeting_held),
        CardVerb.VISIT_DONE: CardAction(handlers.VisitDone, handlers.on_visit_done),
    },
    rebuilders={
        CardKind.INADEQUATE_ALERT: handlers.rebuild_alert,
        CardKind.CHILD_VISIT_DUE: handlers.rebuild_visit,
    },
)
