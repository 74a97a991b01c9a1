"""Practitioner feedback on their audit: the form (sent when the audit is completed), `feedback`
for forms still owed, and changing an answer within the window."""

from __future__ import annotations

from bot.feature import Feature
from bot.features.feedback import handlers
from bot.payloads import CardAction
from bot.rules.roles import Role
from bot.turn import PERSONAL, Command
from cards.names import CardKind, CardVerb

FEATURE = Feature(
    name="feedback",
    about="practitioners' feedback on their audits",
    commands=(
        Command(
            "feedback",
            "Feedback forms you still owe on audits of your cases",
            handlers.show_feedback,
            roles=frozenset({Role.PRACTITIONER}),
            menu=PERSONAL,
        ),
    ),
    verbs={
        CardVerb.SUBMIT_FEEDBACK: CardAction(handlers.SubmitFeedback, handlers.on_submit_feedback),
        CardVerb.EDIT_FEEDBACK: CardAction(handlers.OpenFeedback, handlers.on_edit_feedback),
        CardVerb.GIVE_FEEDBACK: CardAction(handlers.OpenFeedback, handlers.on_give_feedback),
    },
    rebuilders={CardKind.FEEDBACK_FORM: handlers.rebuild_feedback_form},
)
