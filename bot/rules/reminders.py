"""Who is chased today and for what: the daily "my QA" bundle and escalations to managers.

Pure rules over plain data; storage.reminders fetches the rows, jobs turn the result into cards.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Literal

from bot.rules.grades import OPEN_AUDIT_STATES, URGENT_SOURCES, ActionState
from bot.rules.roles import Role
from bot.rules.workdays import (
    add_working_days,
    is_working_day,
    weekdays_of,
    working_days_between,
)

# Actions and audits due within this many working days are in today's bundle.
DUE_WITHIN_WORKING_DAYS = 3
# Feedback is asked for on the days after the audit is completed, for a week.
FEEDBACK_WINDOW = timedelta(days=7)
# A feedback response can be changed for this long after it was first sent (each change a version).
FEEDBACK_EDIT_WINDOW = timedelta(days=7)
# `feedback` lists audits completed this recently without feedback: the daily card asks for the
# first FEEDBACK_WINDOW; the list keeps them a while longer.
FEEDBACK_LISTED_FOR = timedelta(days=30)


class Rung(StrEnum):
    """Who an overdue action is listed to, in order up the ladder."""

    TEAM_MANAGER = "team_manager"
    SERVICE_MANAGER = "service_manager"
    HEAD_OF_SERVICE = "head_of_service"


# Working days overdue before an action is listed to the owner's team manager, then service manager.
ESCALATE_TO_TEAM_MANAGER = 5
ESCALATE_TO_SERVICE_MANAGER = 10
ORDINARY_LADDER: tuple[tuple[int, Rung], ...] = (
    (ESCALATE_TO_TEAM_MANAGER, Rung.TEAM_MANAGER),
    (ESCALATE_TO_SERVICE_MANAGER, Rung.SERVICE_MANAGER),
)
# A child visit after risk identified and an action meeting after an inadequate audit are about a
# child's safety: never snoozed or given more time, and listed to the team manager on the first
# working day overdue, the service manager on the second and the head of service on the third.
# A rung with nobody there that day (away, not working, unreachable, or none in the role) passes
# it to the next rung up the same day.
URGENT_LADDER: tuple[tuple[int, Rung], ...] = (
    (1, Rung.TEAM_MANAGER),
    (2, Rung.SERVICE_MANAGER),
    (3, Rung.HEAD_OF_SERVICE),
)


@dataclass(frozen=True, slots=True)
class Person:
    id: int
    name: str
    # ISO weekday numbers they work, e.g. "12345"; a part-time pattern narrows it.
    working_days: str = "12345"
    away_until: date | None = None
    reachable: bool = True
    roles: frozenset[str] = frozenset()
    team_id: int | None = None
    # Their own service, or their team's when they belong to a team.
    service_id: int | None = None
    manager_id: int | None = None

    @property
    def weekdays(self) -> tuple[int, ...]:
        return weekdays_of(self.working_days)


@dataclass(frozen=True, slots=True)
class ActionDue:
    id: int
    owner_id: int
    what: str
    due_on: date
    case_ref: str | None
    standard: str | None
    state: str = ActionState.OPEN
    snoozed_until: date | None = None
    # The date asked for in a pending extension request, if there is one.
    extension_asked_for: date | None = None
    # Where it came from (Action.source): "audit", "meeting", "action_meeting", "child_visit".
    source: str = "audit"

    @property
    def urgent(self) -> bool:
        """A child visit or action meeting: chased sooner, listed first, never snoozed."""
        return is_urgent(self.source)

    @property
    def ladder(self) -> tuple[tuple[int, Rung], ...]:
        """(working days overdue, rung) up the ladder."""
        return URGENT_LADDER if self.urgent else ORDINARY_LADDER


def is_urgent(source: str | None) -> bool:
    """A child visit or action meeting (Action.source): a safeguarding step, not an ordinary
    action, so no Snooze and no more time."""
    return source in URGENT_SOURCES


@dataclass(frozen=True, slots=True)
class AuditDue:
    id: int
    auditor_id: int
    case_ref: str
    kind: str
    theme: str | None
    state: str
    due_on: date


@dataclass(frozen=True, slots=True)
class FeedbackOwed:
    audit_id: int
    practitioner_id: int
    case_ref: str
    completed_on: date


@dataclass(frozen=True, slots=True)
class Bundle:
    """Everything that needs one person today: one card."""

    person: Person
    day: date
    actions: tuple[ActionDue, ...] = ()
    audits: tuple[AuditDue, ...] = ()
    feedback: tuple[FeedbackOwed, ...] = ()
    # Feedback still owed on audits completed before the card's window: `feedback` lists them.
    earlier_feedback: int = 0

    @property
    def count(self) -> int:
        """Items that need them that day: actions snoozed past it or already done do not count."""
        waiting = sum(1 for a in self.actions if action_is_due(a, self.day))
        return waiting + len(self.audits) + len(self.feedback)

    @property
    def subjects(self) -> list[str]:
        """What the card shows, so it can be updated in place when one of them changes."""
        return [
            *(f"action:{a.id}" for a in self.actions),
            *(f"audit:{a.id}" for a in self.audits),
            *(f"feedback:{f.audit_id}" for f in self.feedback),
        ]


@lru_cache(maxsize=32)
def due_horizon(today: date) -> date:
    """The last due date that puts an action or audit in today's bundle."""
    return add_working_days(today, DUE_WITHIN_WORKING_DAYS)


def feedback_cutoff(today: date) -> date:
    """The earliest completion date whose feedback is still asked for today."""
    return today - FEEDBACK_WINDOW


def reminds_today(person: Person, today: date) -> bool:
    """A working day for them (their pattern, never a bank holiday), not away, and reachable."""
    if not person.reachable:
        return False
    if person.away_until is not None and person.away_until >= today:
        return False
    return is_working_day(today, weekdays=person.weekdays)


def action_is_due(action: ActionDue, today: date) -> bool:
    """Open, due within three working days (or overdue), and not snoozed past today."""
    if action.state != ActionState.OPEN or action.due_on > due_horizon(today):
        return False
    # Snooze moves the reminder, never the due date.
    return action.snoozed_until is None or action.snoozed_until <= today


def on_the_days_card(action: ActionDue, today: date, shown: frozenset[int]) -> bool:
    """Whether the day's card, drawn again, lists the action: what is due today, and whatever
    the card already showed, in its new state (done, snoozed, more time asked for). An action
    snoozed before the morning's card stays off it, as it was then."""
    return action_is_due(action, today) or action.id in shown


def audit_is_due(audit: AuditDue, today: date) -> bool:
    return audit.state in OPEN_AUDIT_STATES and audit.due_on <= due_horizon(today)


def feedback_is_owed(feedback: FeedbackOwed, today: date) -> bool:
    """Asked for on the day's card: an audit completed within the last FEEDBACK_WINDOW."""
    return feedback_cutoff(today) <= feedback.completed_on <= today


def feedback_is_earlier(feedback: FeedbackOwed, today: date) -> bool:
    """Still owed, but no longer asked for on the day's card."""
    return feedback_listed_since(today) <= feedback.completed_on < feedback_cutoff(today)


def split_feedback(
    owed: Iterable[FeedbackOwed], today: date
) -> tuple[tuple[FeedbackOwed, ...], int]:
    """One person's owed forms: those the day's card asks for, oldest first, and how many more
    from earlier."""
    owed = list(owed)
    asked = sorted((f for f in owed if feedback_is_owed(f, today)), key=_by_completion)
    return tuple(asked), sum(1 for f in owed if feedback_is_earlier(f, today))


def _by_completion(feedback: FeedbackOwed) -> tuple[date, int]:
    return feedback.completed_on, feedback.audit_id


def feedback_listed_since(today: date) -> date:
    """The earliest completion date whose feedback is still owed: `feedback` lists it, and the
    day's card counts it as "more from earlier" once it is no longer asked for there."""
    return today - FEEDBACK_LISTED_FOR


def overdue_days(due_on: date, today: date) -> int:
    """Working days past the due date; 0 when not overdue."""
    return working_days_between(due_on, today)


def _oldest_first(action: ActionDue) -> tuple[date, int]:
    return action.due_on, action.id


def bundles(
    *,
    people: Iterable[Person],
    actions: Iterable[ActionDue],
    audits: Iterable[AuditDue],
    feedback: Iterable[FeedbackOwed],
    today: date,
) -> list[Bundle]:
    """One bundle per person chased today who has anything due, in the people's order.

    `feedback` is every form owed (since feedback_listed_since): those in the card's window are
    asked for; the rest are counted as earlier, so the card and `feedback` agree."""
    mine_actions: dict[int, list[ActionDue]] = {}
    for action in actions:
        if action_is_due(action, today):
            mine_actions.setdefault(action.owner_id, []).append(action)
    mine_audits: dict[int, list[AuditDue]] = {}
    for audit in audits:
        if audit_is_due(audit, today):
            mine_audits.setdefault(audit.auditor_id, []).append(audit)
    mine_feedback: dict[int, list[FeedbackOwed]] = {}
    earlier: dict[int, int] = {}
    for owed in feedback:
        if feedback_is_owed(owed, today):
            mine_feedback.setdefault(owed.practitioner_id, []).append(owed)
        elif feedback_is_earlier(owed, today):
            earlier[owed.practitioner_id] = earlier.get(owed.practitioner_id, 0) + 1
    result = []
    for person in people:
        if not reminds_today(person, today):
            continue
        bundle = Bundle(
            person=person,
            day=today,
            actions=tuple(sorted(mine_actions.get(person.id, ()), key=_oldest_first)),
            audits=tuple(sorted(mine_audits.get(person.id, ()), key=lambda a: (a.due_on, a.id))),
            feedback=tuple(sorted(mine_feedback.get(person.id, ()), key=_by_completion)),
            earlier_feedback=earlier.get(person.id, 0),
        )
        if bundle.count:
            result.append(bundle)
    return result


@dataclass(frozen=True, slots=True)
class EscalatedAction:
    action: ActionDue
    owner: Person
    overdue_days: int


@dataclass(frozen=True, slots=True)
class Escalation:
    """One manager's escalation card for the day."""

    manager: Person
    # Listed to them as team manager (owned by people they manage).
    team: tuple[EscalatedAction, ...] = ()
    # Listed to them as service manager or head of service, not already in `team`.
    service: tuple[EscalatedAction, ...] = ()

    @property
    def count(self) -> int:
        return len(self.team) + len(self.service)

    @property
    def urgent(self) -> int:
        """Child visits and action meetings among them."""
        return sum(1 for i in (*self.team, *self.service) if i.action.urgent)

    @property
    def for_a_service(self) -> bool:
        """A service manager or head of service: their card speaks of "your service"."""
        return bool({Role.SERVICE_MANAGER, Role.HEAD_OF_SERVICE} & self.manager.roles)

    @property
    def subjects(self) -> list[str]:
        return [f"action:{i.action.id}" for i in (*self.team, *self.service)]


@dataclass(frozen=True, slots=True)
class Managers:
    """Who manages whom, looked up once for the day rather than per overdue action."""

    people: Mapping[int, Person]
    by_team: Mapping[int, tuple[Person, ...]]
    by_service: Mapping[int, tuple[Person, ...]]
    heads: Mapping[int, tuple[Person, ...]]

    @classmethod
    def of(cls, people: Mapping[int, Person]) -> Managers:
        by_team: dict[int, list[Person]] = {}
        by_service: dict[int, list[Person]] = {}
        heads: dict[int, list[Person]] = {}
        for p in people.values():
            if Role.TEAM_MANAGER in p.roles and p.team_id is not None:
                by_team.setdefault(p.team_id, []).append(p)
            if Role.SERVICE_MANAGER in p.roles and p.service_id is not None:
                by_service.setdefault(p.service_id, []).append(p)
            if Role.HEAD_OF_SERVICE in p.roles and p.service_id is not None:
                heads.setdefault(p.service_id, []).append(p)

        def frozen(found: dict[int, list[Person]]) -> dict[int, tuple[Person, ...]]:
            return {k: tuple(v) for k, v in found.items()}

        return cls(people, frozen(by_team), frozen(by_service), frozen(heads))

    def team_managers_of(self, owner: Person) -> list[Person]:
        """Their own manager if one is named; else their team's team managers, not themselves."""
        if owner.manager_id is not None:
            manager = self.people.get(owner.manager_id)
            return [manager] if manager is not None and manager.id != owner.id else []
        if owner.team_id is None:
            return []
        return [p for p in self.by_team.get(owner.team_id, ()) if p.id != owner.id]

    def service_managers_of(self, owner: Person) -> list[Person]:
        if owner.service_id is None:
            return []
        return [p for p in self.by_service.get(owner.service_id, ()) if p.id != owner.id]

    def heads_of_service_of(self, owner: Person) -> list[Person]:
        if owner.service_id is None:
            return []
        return [p for p in self.heads.get(owner.service_id, ()) if p.id != owner.id]

    def at(self, rung: Rung, owner: Person) -> list[Person]:
        if rung is Rung.TEAM_MANAGER:
            return self.team_managers_of(owner)
        if rung is Rung.SERVICE_MANAGER:
            return self.service_managers_of(owner)
        return self.heads_of_service_of(owner)


@lru_cache(maxsize=32)
def escalation_cutoff(today: date) -> date:
    """The latest due date overdue enough to escalate today, on either ladder: the one bound the
    job and every rebuilt escalation card fetch open actions by."""
    first = min(ladder[0][0] for ladder in (ORDINARY_LADDER, URGENT_LADDER))
    return add_working_days(today, -first)


def rungs_reached(action: ActionDue, today: date) -> int:
    """How many rungs of its ladder an open action has reached today; 0: not escalated."""
    if action.state != ActionState.OPEN or action.due_on > escalation_cutoff(today):
        return 0
    days = overdue_days(action.due_on, today)
    return sum(1 for threshold, _ in action.ladder if days >= threshold)


def listed_to(
    action: ActionDue, owner: Person, managers: Managers, today: date
) -> list[tuple[Person, Rung]]:
    """The managers an overdue action is listed to today, each once, with the rung they are on.

    Every rung reached lists it. For an urgent item a rung with nobody there today passes it
    to the next rung up, that same day, rather than leaving it with no one.
    """
    ladder = [rung for _, rung in action.ladder]
    top = rungs_reached(action, today)
    listed: list[tuple[Person, Rung]] = []
    told: set[int] = set()
    n = 0
    while n < top:
        rung = ladder[n]
        there = managers.at(rung, owner)
        if action.urgent:
            there = [p for p in there if reminds_today(p, today)]
        listed += [(p, rung) for p in there if p.id not in told]
        told |= {p.id for p in there}
        if action.urgent and not there and n == top - 1 and top < len(ladder):
            top += 1
        n += 1
    return listed


def most_overdue(item: EscalatedAction) -> tuple[bool, int, int]:
    """The order a manager reads them in: safeguarding steps first, then the longest overdue."""
    return not item.action.urgent, -item.overdue_days, item.action.id


def escalations(
    *,
    actions: Iterable[ActionDue],
    people: Mapping[int, Person],
    today: date,
    chased_today_only: bool = True,
) -> list[Escalation]:
    """One escalation per manager, most overdue first, each action once; only for managers chased
    today (a working day for them, not away, reachable) unless `chased_today_only` is False."""
    managers = Managers.of(people)
    team: dict[int, list[EscalatedAction]] = {}
    service: dict[int, list[EscalatedAction]] = {}
    for action in actions:
        owner = people.get(action.owner_id)
        if owner is None or not rungs_reached(action, today):
            continue
        item = EscalatedAction(
            action=action, owner=owner, overdue_days=overdue_days(action.due_on, today)
        )
        for manager, rung in listed_to(action, owner, managers, today):
            section = team if rung is Rung.TEAM_MANAGER else service
            section.setdefault(manager.id, []).append(item)

    result = []
    for manager_id in sorted(team.keys() | service.keys()):
        manager = people[manager_id]
        if chased_today_only and not reminds_today(manager, today):
            continue
        mine = tuple(sorted(team.get(manager_id, ()), key=most_overdue))
        theirs = tuple(sorted(service.get(manager_id, ()), key=most_overdue))
        result.append(Escalation(manager=manager, team=mine, service=theirs))
    return result


DueStatus = Literal["overdue", "today", "soon", "later"]


def due_status(due_on: date, today: date) -> DueStatus:
    """Where a due date stands today: past, today, within the daily card's horizon, or later."""
    if due_on < today:
        return "overdue"
    if due_on == today:
        return "today"
    if due_on <= due_horizon(today):
        return "soon"
    return "later"
