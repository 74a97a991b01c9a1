"""Short replies: not set up yet, unknown command, sent privately, errors and refusals, how to type
a command, and away / back."""

from __future__ import annotations

from datetime import date

from microsoft_teams.cards import Action, AdaptiveCard

from cards.common import heading, im_back, literal, new_card, note, run, truncate, uk_date

# Enough to recognise what was typed without echoing a pasted essay back.
TYPED_LIMIT = 80


def unknown_person_card(*, admin_contact: str) -> AdaptiveCard:
    return new_card(
        [
            heading("You're not set up in QA Loop yet"),
            literal(
                "Please ask ",
                run(admin_contact, bold=True),
                " to add you, using your work email address.",
            ),
            note("Until then, QA Loop can't do anything else for you."),
        ],
        wide=False,
    )


def did_you_mean_card(*, typed: str | None, suggestion: str | None) -> AdaptiveCard:
    """`typed` is None in a channel or group chat: what someone typed is never repeated where
    others read it (it may hold a case reference)."""
    said = (
        literal("I don't know “", truncate(typed, TYPED_LIMIT), "”.")
        if typed is not None
        else literal("I don't know that command.")
    )
    if suggestion is None:
        return new_card(
            [said, note("Type help to see what I can do.")],
            [im_back("Show help", "help")],
            wide=False,
        )
    actions: list[Action] = [im_back(suggestion, suggestion)]
    if suggestion != "help":
        actions.append(im_back("Show help", "help"))
    return new_card(
        [said, literal("Did you mean ", run(suggestion, bold=True), "?")], actions, wide=False
    )


SENT_PRIVATELY = "I've sent that to our private chat, so case details stay private."
NOT_SENT_PRIVATELY = "That has case details, so I can't post it here. Message me in a private chat."


def private_reply_note_card(*, sent: bool) -> AdaptiveCard:
    """The note left in a shared thread instead of an answer with case details; it carries none."""
    return new_card([note(SENT_PRIVATELY if sent else NOT_SENT_PRIVATELY)], wide=False)


def error_card(message: str) -> AdaptiveCard:
    return new_card([literal(run(message, color="Attention"))], wide=False)


def not_allowed_card(message: str) -> AdaptiveCard:
    return new_card([literal(message)], wide=False)


def usage_card(message: str, *, button: tuple[str, str] | None = None) -> AdaptiveCard:
    """How to type a command, with a button to the next step (title, what it types)."""
    return new_card([literal(message)], [im_back(*button)] if button else [], wide=False)


def away_card(*, until: date, resumes_on: date, today: date) -> AdaptiveCard:
    return new_card(
        [
            heading(f"Away until {uk_date(until, today=today)} ✓"),
            note(
                f"Your reminders are paused until then and start again on "
                f"{uk_date(resumes_on, today=today)}. Your managers can see you're away in team."
            ),
            note("Back early? Type back.", subtle=True),
        ],
        [im_back("I'm back", "back")],
        wide=False,
    )


def back_card(*, display_name: str, was_away: bool) -> AdaptiveCard:
    if not was_away:
        return new_card(
            [note("You weren't marked as away, so your reminders are on.")],
            [im_back("My actions", "my actions")],
            wide=False,
        )
    return new_card(
        [heading("Welcome back ✓"), literal(f"Hello {display_name}. Your reminders are on again.")],
        [im_back("My actions", "my actions")],
        wide=False,
    )
