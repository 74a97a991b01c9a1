"""The weekly step guide: `guide`, and Monday's card to every auditor with open audits."""

from __future__ import annotations

from bot.feature import Feature
from bot.features.guide import handlers
from bot.rules.roles import Role
from bot.turn import PERSONAL, Command
from jobs import step_guide

FEATURE = Feature(
    name="guide",
    about="the weekly audit step guide",
    commands=(
        Command(
            "guide",
            "This week's audit steps, with your open audits",
            handlers.show_guide,
            roles=frozenset({Role.AUDITOR}),
            menu=PERSONAL,
        ),
    ),
    jobs=(step_guide.JOB,),
)
