"""What the QA team's content files say about each practice standard, as the cards show it:
what good looks like and a descriptor per grade, and the themes an auditor may tick, each with
its learning links. Built by bot.services.practice from bot/content/; pure data here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from microsoft_teams.cards import (
    ActionSet,
    CardElement,
    Container,
    OpenUrlAction,
    ToggleVisibilityAction,
)

from bot.rules.grades import GRADE_LABELS, Grade
from cards.common import literal, note, run, truncate
from cards.names import Shown, item_input

# An Action.OpenUrl per link: a card shows at most this many together.
LINKS_SHOWN = 6
# Approved exemplars on one card (the newest of each theme): enough to learn from, small
# enough for Teams.
EXEMPLARS_SHOWN = 3
EXEMPLAR_TEXT_SHOWN = 500


@dataclass(frozen=True, slots=True)
class LearningLink:
    kind: str  # "Academy course", "Guidance" or "Exemplar"
    title: str
    url: str


@dataclass(frozen=True, slots=True)
class ExemplarNote:
    """An exemplar the QA team approved for a theme: good practice from our own audits, written
    with no case details."""

    title: str
    text: str


@dataclass(frozen=True, slots=True)
class Theme:
    key: str
    standard: str
    title: str
    links: tuple[LearningLink, ...] = ()
    # Approved exemplars, newest first (bot.services.practice.with_exemplars adds them).
    exemplars: tuple[ExemplarNote, ...] = ()


@dataclass(frozen=True, slots=True)
class Descriptor:
    """One standard: what good looks like, and what each grade means."""

    standard: str
    good_looks_like: tuple[str, ...]
    grades: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Practice:
    """Both content files, read; either may be empty when its file cannot be used."""

    descriptors: Mapping[str, Descriptor] = field(default_factory=dict)
    themes: tuple[Theme, ...] = ()

    def themes_of(self, standard: str) -> tuple[Theme, ...]:
        return tuple(t for t in self.themes if t.standard == standard)

    def theme(self, key: str) -> Theme | None:
        return next((t for t in self.themes if t.key == key), None)


def descriptor_toggle(
    descriptor: Descriptor | None, *, item: str, title: str, grade: str | None = None
) -> list[CardElement]:
    """A button that shows or hides what good looks like and the grade descriptors for one
    standard; with `grade`, that grade's descriptor first. Nothing when the file has none."""
    if descriptor is None:
        return []
    target = item_input(Shown.DESCRIPTOR, item)
    items: list[CardElement] = []
    if grade and grade in descriptor.grades:
        items.append(
            literal(run(f"{GRADE_LABELS[Grade(grade)]}: ", bold=True), descriptor.grades[grade])
        )
    if descriptor.good_looks_like:
        items.append(literal(run("What good looks like", bold=True)))
        items.append(literal("\n".join(f"• {line}" for line in descriptor.good_looks_like)))
    for each in Grade:
        if each.value != grade and each.value in descriptor.grades:
            items.append(
                literal(run(f"{GRADE_LABELS[each]}: ", bold=True), descriptor.grades[each.value])
            )
    return [
        ActionSet(
            actions=[ToggleVisibilityAction(title=title, target_elements=[target])],
            spacing="None",
        ),
        Container(id=target, items=items, is_visible=False, style="emphasis"),
    ]


def learning_links(themes: list[Theme]) -> tuple[list[CardElement], list[OpenUrlAction]]:
    """Each theme with links or exemplars, named, a button per link (at most LINKS_SHOWN) and
    the newest approved exemplar of each (at most EXEMPLARS_SHOWN on a card)."""
    lines: list[CardElement] = []
    buttons: list[OpenUrlAction] = []
    exemplars = 0
    for theme in themes:
        if not theme.links and not theme.exemplars:
            continue
        # The newest exemplar of a theme, while the card has room for one more.
        shown = theme.exemplars[:1] if exemplars < EXEMPLARS_SHOWN else ()
        exemplars += len(shown)
        kinds = [f"{link.kind}: {link.title}" for link in theme.links]
        kinds += [f"Exemplar from our audits: {e.title}" for e in shown]
        if not kinds:
            continue
        lines.append(literal(run(f"{theme.title}: ", bold=True), ", ".join(kinds)))
        for link in theme.links:
            if len(buttons) < LINKS_SHOWN and all(b.url != link.url for b in buttons):
                buttons.append(OpenUrlAction(title=link.title, url=link.url))
        for exemplar in shown:
            lines.append(
                literal(
                    run(f"{exemplar.title}: ", bold=True),
                    truncate(exemplar.text, EXEMPLAR_TEXT_SHOWN),
                )
            )
    if not lines:
        return [], []
    return [note("Learning for these themes:"), *lines], buttons
