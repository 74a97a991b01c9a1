"""Channels: in a team channel, QA or an admin chooses where digests and briefings are posted."""

from __future__ import annotations

from bot.feature import Feature
from bot.features.channels import handlers
from bot.payloads import CardAction
from bot.rules.roles import Role
from bot.turn import CHANNEL, Command
from cards.names import CardVerb

_QA_OR_ADMIN = frozenset({Role.QA, Role.ADMIN})

FEATURE = Feature(
    name="channels",
    about="which channels get QA digests and briefings",
    commands=(
        Command(
            "use this channel for",
            "In a channel: post QA digests or briefings here, for example use this channel for "
            "briefings",
            handlers.use_channel,
            roles=_QA_OR_ADMIN,
            example="use this channel for briefings",
            menu=CHANNEL,
        ),
        Command(
            "stop using this channel",
            "In a channel: stop posting QA digests and briefings here",
            handlers.stop_using_channel,
            roles=_QA_OR_ADMIN,
            menu=CHANNEL,
        ),
    ),
    verbs={CardVerb.USE_CHANNEL: CardAction(handlers.UseChannel, handlers.on_use_channel)},
)
