"""The `unreachable` card for QA: people the bot cannot reach, so they get no reminders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from microsoft_teams.cards import AdaptiveCard, CardElement, Container, TextRun

from cards.common import (
    heading,
    literal,
    new_card,
    note,
    paging_actions,
    run,
    showing_line,
    uk_date,
)
from cards.views import Page

PAGE_VERB = "unreachable_page"


@dataclass(frozen=True, slots=True)
class Unreachable:
    name: str
    email: str
    team: str | None
    # The day (in the tenant's zone) a message to them was first refused; None if not recorded.
    since: date | None


def unreachable_card(*, people: list[Unreachable], page: Page, today: date) -> AdaptiveCard:
    if not people and page.offset == 0:
        return new_card(
            [heading("People I can't reach"), note("I can reach everyone. Nothing to follow up.")]
        )
    body: list[CardElement] = [
        heading("People I can't reach"),
        note(
            f"{page.total} {'person has' if page.total == 1 else 'people have'} removed or blocked "
            "QA Loop, so they get no reminders. Ask them to open QA Loop in Teams: once they message "
            "me, they're reachable again."
        ),
    ]
    if showing := showing_line(page, len(people)):
        body.append(note(showing, subtle=True))
    body += [_person(p, today) for p in people]
    return new_card(body, paging_actions(page, PAGE_VERB))


def _person(person: Unreachable, today: date) -> Container:
    about: list[str | TextRun] = [person.email]
    if person.team:
        about.append(f" · {person.team}")
    if person.since:
        about.append(run(f" · since {uk_date(person.since, today=today)}", subtle=True))
    return Container(items=[literal(run(person.name, bold=True)), literal(*about)], separator=True)
