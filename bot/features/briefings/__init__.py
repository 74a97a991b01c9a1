"""Best Practice Briefings: `briefing` (the latest), `briefing new` and the author's form,
preview, schedule and publish, and the monthly publishing job."""

from __future__ import annotations

from bot.feature import Feature
from bot.features.briefings import handlers
from bot.payloads import CardAction
from bot.rules.roles import Role
from bot.turn import CHANNEL, Command
from cards.names import CardVerb
from jobs import briefing

FEATURE = Feature(
    name="briefings",
    about="Best Practice Briefings: read, write, preview, schedule and publish",
    commands=(
        Command(
            "briefing",
            "The latest Best Practice Briefing",
            handlers.show_briefing,
            aliases=("briefings",),
        ),
        Command(
            "briefing new",
            "Write a Best Practice Briefing for staff channels",
            handlers.new_briefing,
            roles=frozenset({Role.QA}),
            menu=CHANNEL,
        ),
    ),
    verbs={
        CardVerb.NEW_BRIEFING: CardAction(handlers.NoData, handlers.on_new),
        CardVerb.SAVE_BRIEFING: CardAction(handlers.SaveBriefing, handlers.on_save),
        CardVerb.PREVIEW_BRIEFING: CardAction(handlers.PreviewBriefing, handlers.on_preview),
        CardVerb.EDIT_BRIEFING: CardAction(handlers.BriefingAction, handlers.on_edit),
        CardVerb.SCHEDULE_BRIEFING: CardAction(handlers.BriefingAction, handlers.on_schedule),
        CardVerb.PUBLISH_BRIEFING: CardAction(handlers.BriefingAction, handlers.on_publish),
    },
    jobs=(briefing.JOB,),
)
