"""My learning (issue 13 item 7): a practitioner's own audits over time, with their grades,
themes, actions and learning links; their team manager sees the same for someone in their team
(`learning <name or email>`). Anyone else is refused, and the refusal audit-logged."""

from __future__ import annotations

from bot.feature import Feature
from bot.features.learning import handlers
from bot.turn import Command

FEATURE = Feature(
    name="learning",
    about="my learning: a practitioner's own audits over time, for them and their team manager",
    commands=(
        Command(
            "my learning",
            "Your audits over the last 12 months: grades, what to work on, actions and links "
            "(a manager types learning and a name)",
            handlers.show_learning,
            aliases=("learning",),
            # Teams' menus hold 10 commands a scope and are full; it is typed, and listed in help.
            menu=(),
        ),
    ),
)
