"""Actions & reminders: the SMART actions people own, the daily card that chases them, the
escalation of overdue ones to managers, and leave."""

from __future__ import annotations

from bot.feature import Feature
from bot.features.actions import buttons, commands, rebuild
from bot.payloads import CardAction, PagePayload
from cards.names import CardKind, CardVerb
from jobs import escalation, reminders

FEATURE = Feature(
    name="actions",
    about="SMART actions: my actions, done, snooze, more time, confirm and reopen; team; leave; "
    "the daily card and escalations",
    commands=(commands.MY_ACTIONS, commands.DONE, commands.TEAM, commands.AWAY, commands.BACK),
    verbs={
        CardVerb.MY_ACTIONS_PAGE: CardAction(PagePayload, buttons.page_of_actions),
        CardVerb.TEAM_PAGE: CardAction(PagePayload, buttons.page_of_team),
        CardVerb.MARK_DONE: CardAction(buttons.MarkDone, buttons.on_mark_done),
        CardVerb.SNOOZE: CardAction(buttons.Snooze, buttons.on_snooze),
        CardVerb.REQUEST_EXTENSION: CardAction(
            buttons.RequestExtension, buttons.on_request_extension
        ),
        CardVerb.DECIDE_EXTENSION: CardAction(buttons.DecideExtension, buttons.on_decide_extension),
        CardVerb.CONFIRM_DONE: CardAction(buttons.ConfirmDone, buttons.on_confirm_done),
        CardVerb.REOPEN: CardAction(buttons.Reopen, buttons.on_reopen),
    },
    rebuilders={
        CardKind.MY_QA: reminders.rebuild_posted_my_qa,
        CardKind.ESCALATION: escalation.rebuild_posted_escalation,
        CardKind.EXTENSION_REQUEST: rebuild.rebuild_extension_request,
        CardKind.CONFIRM_DONE: rebuild.rebuild_confirm_done,
        CardKind.MY_ACTIONS: rebuild.rebuild_my_actions,
        CardKind.TEAM: rebuild.rebuild_team,
    },
    jobs=(reminders.JOB,),
)
