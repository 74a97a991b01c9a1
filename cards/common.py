"""Building blocks shared by the cards: literal text, headings, dates, paging and serialisation."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from microsoft_teams.cards import (
    Action,
    AdaptiveCard,
    CardElement,
    ExecuteAction,
    ImBackSubmitActionData,
    RichTextBlock,
    SubmitAction,
    SubmitActionData,
    TeamsCardProperties,
    TextBlock,
    TextColor,
    TextRun,
)

from cards import plain
from cards.views import Page

ADAPTIVE_CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def new_card(
    body: Sequence[CardElement], actions: Sequence[Action] = (), *, wide: bool = True
) -> AdaptiveCard:
    card = AdaptiveCard(version="1.5", body=list(body), actions=list(actions) or None)
    if wide:
        # The typed model only allows "full"; Teams reads the width case-insensitively.
        card.msteams = TeamsCardProperties(**plain.FULL_WIDTH)
    return card


def counted(n: int, singular: str, plural: str | None = None) -> str:
    """ "1 action", "2 actions": a count and its noun agreeing in number, in every sentence."""
    return f"{n} {singular if n == 1 else (plural or singular + 's')}"


# What a client says when it refuses an input, so no button "does nothing" (the server says the
# same if the client is bypassed).
AFTER_TODAY = "Please choose a date after today."


def too_long(limit: int) -> str:
    return f"That's more than {limit:,} characters. Please shorten it."


def up_to(label: str, limit: int) -> str:
    """A text field's label with its limit beside it: the client stops typing there silently."""
    return f"{label} (up to {limit:,} characters)"


def card_json(card: AdaptiveCard | dict[str, Any]) -> dict[str, Any]:
    """The card as Adaptive Card JSON: camelCase names, unset properties left out. A card built
    as plain JSON (cards.plain) is that already."""
    if isinstance(card, dict):
        return card
    return card.model_dump(mode="json", by_alias=True, exclude_none=True)


def to_attachment(card: AdaptiveCard | dict[str, Any]) -> dict[str, Any]:
    return {"contentType": ADAPTIVE_CARD_CONTENT_TYPE, "content": card_json(card)}


def card_size(card: AdaptiveCard | dict[str, Any]) -> int:
    """Bytes of the card's JSON in UTF-8.

    Teams limits messages in UTF-16, which never takes more than twice the UTF-8 size, so a
    budget in UTF-8 bytes is a safe one whatever the script.
    """
    return len(json.dumps(card_json(card), ensure_ascii=False).encode())


def heading(text: str) -> TextBlock:
    """A title made from our own words; TextBlock reads markdown, so never pass stored text."""
    return TextBlock(text=text, **plain.HEADING)


def section(title: str) -> TextBlock:
    """A section's title, ruled off from what is above; our own words only, as for heading."""
    return TextBlock(text=title, weight="Bolder", size="Medium", wrap=True, separator=True)


def note(text: str, *, subtle: bool = False) -> TextBlock:
    """A line of our own words; TextBlock reads markdown, so never pass stored text."""
    return TextBlock.model_validate(plain.note(text, subtle=subtle))


def run(
    text: str, *, bold: bool = False, color: TextColor | None = None, subtle: bool = False
) -> TextRun:
    return TextRun.model_validate(plain.run(text, bold=bold, color=color, subtle=subtle))


def literal(*parts: str | TextRun, separator: bool = False) -> RichTextBlock:
    """Text shown exactly as given: a TextRun reads no markdown, so `[x](https://…)` stays text."""
    inlines: list[CardElement] = [p if isinstance(p, TextRun) else TextRun(text=p) for p in parts]
    return RichTextBlock(inlines=inlines, separator=separator or None)


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def label(labels: Mapping[Any, str], value: str) -> str:
    """The display label for a stored value; the value itself if we have no label for it."""
    return labels.get(value, value)


def uk_date(day: date, *, today: date | None = None) -> str:
    """UK style, "Thu 3 Dec 2026"; given today: "today", "tomorrow", or no year if this year."""
    if today is not None:
        if day == today:
            return "today"
        if day.toordinal() == today.toordinal() + 1:
            return "tomorrow"
    text = f"{_DAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]}"
    return text if today is not None and day.year == today.year else f"{text} {day.year}"


def im_back(title: str, text: str) -> SubmitAction:
    """A button that sends `text` into the chat as if the person had typed it."""
    teams_data = ImBackSubmitActionData(value=text).model_dump(exclude_none=True)
    return SubmitAction(title=title, data=SubmitActionData(msteams=teams_data))


def paging_actions(page: Page, verb: str) -> list[Action]:
    """Buttons to the next page and back to the first; `verb` is also the data's action."""
    return [ExecuteAction.model_validate(a) for a in plain.paging_actions(page, verb)]


def showing_line(page: Page, shown: int) -> str | None:
    """Where this page sits in a list that does not fit on one, as in "Showing 11–20 of 23"."""
    if shown == 0 or (page.offset == 0 and shown >= page.total):
        return None
    return f"Showing {page.offset + 1}–{page.offset + shown} of {page.total}"
