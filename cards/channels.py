"""Channel cards: the offer when the bot joins a team, and the answers to `use this channel for`.

Channel cards are read by everyone in the team: they carry no case or personal details.
"""

from __future__ import annotations

from microsoft_teams.cards import AdaptiveCard, ExecuteAction

from cards.common import heading, im_back, literal, new_card, note, run
from cards.names import CardVerb

PURPOSE_LABELS = {"qa_digests": "the monthly QA digest", "briefings": "Best Practice Briefings"}


def _use_buttons(exclude: frozenset[str] = frozenset()) -> list[ExecuteAction]:
    return [
        ExecuteAction(
            title=title,
            verb=CardVerb.USE_CHANNEL,
            data={"action": CardVerb.USE_CHANNEL, "purpose": purpose},
        )
        for purpose, title in (
            ("briefings", "Post briefings here"),
            ("qa_digests", "Post QA digests here"),
        )
        if purpose not in exclude
    ]


def team_welcome_card() -> AdaptiveCard:
    """Posted when the bot is added to a team: what it can post to a channel, and how to choose."""
    return new_card(
        [
            heading("QA Loop has joined this team"),
            note(
                "I help with case audits and the actions that come from them. Reminders and "
                "case details always go to each person's private chat, never to a channel."
            ),
            note(
                "I can post to a channel each month: Best Practice Briefings for staff, and the "
                "QA digest for the QA team. Someone in the QA team can choose a channel with the "
                "buttons below, or by typing @QA Loop use this channel for briefings (or for qa "
                "digests) in it."
            ),
            note("Everyone: message me in a private chat and type help.", subtle=True),
        ],
        _use_buttons(),
        wide=False,
    )


def channel_chosen_card(
    *, purpose: str, channel_name: str | None, already: bool, uses: list[str]
) -> AdaptiveCard:
    what = PURPOSE_LABELS.get(purpose, purpose)
    where = f"this channel ({channel_name})" if channel_name else "this channel"
    title = f"Already posting {what} here" if already else f"Done ✓ I'll post {what} here"
    body = [
        heading(title),
        literal(f"I'll post {what} to {where} from now on."),
    ]
    others = [PURPOSE_LABELS.get(u, u) for u in uses if u != purpose]
    if others:
        body.append(literal(f"This channel also gets {', '.join(others)}."))
    body.append(
        note("To stop, type @QA Loop stop using this channel.", subtle=True),
    )
    return new_card(body, _use_buttons(frozenset(uses)), wide=False)


def channel_stopped_card(*, stopped: list[str], remaining: list[str]) -> AdaptiveCard:
    if not stopped:
        return new_card(
            [literal("I wasn't posting anything to this channel, so nothing has changed.")],
            _use_buttons(),
            wide=False,
        )
    body = [
        heading("Stopped ✓"),
        literal(
            "I'll no longer post ",
            run(" or ".join(PURPOSE_LABELS.get(p, p) for p in stopped), bold=True),
            " to this channel.",
        ),
    ]
    if remaining:
        body.append(
            literal(f"It still gets {', '.join(PURPOSE_LABELS.get(p, p) for p in remaining)}.")
        )
    return new_card(body, _use_buttons(frozenset(remaining)), wide=False)


def not_a_channel_card() -> AdaptiveCard:
    return new_card(
        [
            literal(
                "This works in a team channel. Go to the channel, and type "
                "@QA Loop use this channel for briefings (or for qa digests) there."
            )
        ],
        [im_back("Show help", "help")],
        wide=False,
    )
