"""Practice themes (issue 13 item 3): `themes`, the top strengths and areas to improve this month
and this quarter against the period before, and `briefing new from theme …`, the briefing form
drafted from one theme. The monthly digest's themes section is the digests feature's job."""

from __future__ import annotations

from bot.feature import Feature
from bot.features.themes import handlers
from bot.rules.roles import MANAGERS, Role
from bot.turn import Command

FEATURE = Feature(
    name="themes",
    about="the themes report and briefings drafted from a theme",
    commands=(
        Command(
            "themes",
            "The practice themes ticked most as strengths and to improve, this month and quarter",
            handlers.show_themes,
            aliases=("theme",),
            roles=MANAGERS | {Role.QA},
            # Teams' menus hold 10 commands a scope and are full; it is typed, and listed in help.
            menu=(),
        ),
        Command(
            "briefing new from theme",
            "Draft a Best Practice Briefing from a practice theme, for example "
            "briefing new from theme genogram",
            handlers.new_briefing_from_theme,
            roles=frozenset({Role.QA}),
            example="briefing new from theme genogram",
            menu=(),
        ),
    ),
)
