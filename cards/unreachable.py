"""The `unreachable` card for QA: people the bot cannot reach, so they get no reminders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from microsoft_teams.cards import AdaptiveCard, CardElement, Container, TextRun

from cards.common import (
    counted,
    heading,
    literal,
    new_card,
    note,
    paging_actions,
    run,
    showing_line,
    uk_date,
)
from cards.names import CardVerb
from cards.views import Page


@dataclass(frozen=True, slots=True)
class Unreachable:
    name: str
    email: str
    team: str | None
    # The day (in the tenant's zone) a message to them was first refused; None if not recorded.
    since: date | None
    # False: they never opened a chat with QA Loop, and no roster sync made one.
    has_chat: bool = True
    open_actions: int = 0
    open_audits: int = 0

    @property
    def blocked(self) -> bool:
        return self.has_chat


def unreachable_card(*, people: list[Unreachable], page: Page, today: date) -> AdaptiveCard:
    if not people and page.offset == 0:
        return new_card(
            [
                heading("People I can't reach"),
                note("Everyone has a chat with QA Loop that works. Nothing to follow up."),
            ]
        )
    body: list[CardElement] = [
        heading("People I can't reach"),
        note(
            f"{counted(page.total, 'person', 'people')} "
            f"{'gets' if page.total == 1 else 'get'} no reminders from QA Loop. "
            "If they removed or blocked it, ask them to open QA Loop in Teams: once they message "
            "me, they're reachable again. If they never opened it, an admin can run "
            "qaloop sync-roster after adding QA Loop to a team they are in."
        ),
    ]
    if showing := showing_line(page, len(people)):
        body.append(note(showing, subtle=True))
    body += [_person(p, today) for p in people]
    return new_card(body, paging_actions(page, CardVerb.UNREACHABLE_PAGE))


def _person(person: Unreachable, today: date) -> Container:
    about: list[str | TextRun] = [person.email]
    if person.team:
        about.append(f" · {person.team}")
    if person.blocked:
        why = "Removed or blocked QA Loop"
        if person.since:
            why += f" on {uk_date(person.since, today=today)}"
    else:
        why = "Has never opened a chat with QA Loop"
    waiting = [
        counted(n, what)
        for n, what in ((person.open_actions, "open action"), (person.open_audits, "open audit"))
        if n
    ]
    items: list[CardElement] = [
        literal(run(person.name, bold=True)),
        literal(*about),
        literal(run(why, subtle=True)),
    ]
    if waiting:
        items.append(literal(run("Waiting for them: " + ", ".join(waiting), color="Attention")))
    return Container(items=items, separator=True)
