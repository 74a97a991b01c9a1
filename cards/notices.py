"""Short replies: not set up yet, unknown command, sent privately, errors and refusals."""

from __future__ import annotations

from microsoft_teams.cards import Action, AdaptiveCard

from cards.common import heading, im_back, literal, new_card, note, run, truncate

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


def did_you_mean_card(*, typed: str, suggestion: str | None) -> AdaptiveCard:
    said = literal("I don't know “", truncate(typed, TYPED_LIMIT), "”.")
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


def private_reply_note_card(*, what: str) -> AdaptiveCard:
    """The note left in a shared thread; `what` is our phrase ("your actions"), no case detail."""
    return new_card([note(f"I've sent {what} to our private chat.")], wide=False)


def error_card(message: str) -> AdaptiveCard:
    return new_card([literal(run(message, color="Attention"))], wide=False)


def not_allowed_card(message: str) -> AdaptiveCard:
    return new_card([literal(message)], wide=False)
