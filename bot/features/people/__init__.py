"""People who leave: the manager's card that passes a leaver's actions on to someone in the team.
(Leaving itself comes from a staff import; bot.services.lifecycle moves the work.)"""

from __future__ import annotations

from bot.feature import Feature
from bot.features.people import handlers
from bot.payloads import CardAction
from cards.names import CardKind, CardVerb

FEATURE = Feature(
    name="people",
    about="leavers: their actions passed on by their manager, their audits back to QA",
    verbs={CardVerb.PASS_ON_ACTION: CardAction(handlers.PassOnAction, handlers.on_pass_on)},
    rebuilders={CardKind.LEAVER_ACTIONS: handlers.rebuild_leaver_actions},
)
