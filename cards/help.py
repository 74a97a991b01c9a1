"""The `help` card: what the person can do, by their roles, with buttons for the simple commands."""

from __future__ import annotations

from microsoft_teams.cards import AdaptiveCard, CardElement

from cards.common import heading, im_back, literal, new_card, run, section
from cards.views import CommandHelp

# Teams shows only a handful of card buttons; the rest of the commands are listed, not buttoned.
MAX_BUTTONS = 6


def help_card(*, display_name: str, roles_label: str, commands: list[CommandHelp]) -> AdaptiveCard:
    body: list[CardElement] = [
        heading("What I can do for you"),
        literal(f"Hello {display_name}. You are set up as: {roles_label}."),
    ]
    group = None
    for c in commands:
        if c.group != group and c.group:
            body.append(section(c.group))
        body.append(literal(run(c.name, bold=True), f" – {c.help}"))
        group = c.group
    # A button sends its text at once, so only commands that need nothing more get one: pressing
    # "done 12" or "away until 24 Dec" would act on the example's made-up details.
    actions = [
        im_back(c.name, c.example) for c in commands if c.example.strip().lower() == c.name.lower()
    ][:MAX_BUTTONS]
    return new_card(body, actions)
