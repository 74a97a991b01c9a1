"""`my actions`, `done 12`, `team`, `away until` and `back`: a person's actions, and a manager's view
of what waits for them."""

from __future__ import annotations

import re
from datetime import date

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.payloads import TEXT_LIMIT
from bot.rules.dates import MAX_AHEAD, a_year_on, parse_day
from bot.rules.digest import TeamCompliance
from bot.rules.disclosure import disclose_themes
from bot.rules.permissions import Person, TeamScope, team_scope
from bot.rules.roles import MANAGERS, Role
from bot.rules.theme_report import report_periods, top_to_improve
from bot.rules.workdays import next_working_day, weekdays_of
from bot.services import flows, tracking
from bot.services.figures import month_compliance
from bot.services.practice import practice_with_exemplars
from bot.services.theme_report import report_for, titles_of
from bot.settings import Settings
from bot.turn import PERSONAL, Command, Reply, Request
from cards.action_done import action_status_card
from cards.common import counted, uk_date
from cards.digest import hidden_text
from cards.my_actions import my_actions_card
from cards.names import CardKind, action_subject, extension_subject, page_subject
from cards.notices import away_card, back_card, error_card, usage_card
from cards.practice import Theme
from cards.team import Compliance, TeamView, team_card
from cards.views import PAGE_SIZE
from storage import actions, staff, team
from storage.models import Staff

# The `team` card's lists: what waits for a decision, and who is away.
WAITING_SHOWN = 5


AWAY_SHOWN = 20


async def show_my_actions(request: Request, *, notice: str | None = None) -> Reply:
    """`notice` says what a button on this card just did."""
    assert request.person.id is not None
    return await my_actions_reply(
        request.session,
        request.tenant_id,
        request.person.id,
        today=request.today,
        offset=request.offset,
        notice=notice,
    )


async def my_actions_reply(
    session: AsyncSession,
    tenant_id: str,
    owner_id: int,
    *,
    today: date,
    offset: int,
    notice: str | None = None,
) -> Reply:
    """One page of the owner's open actions, kept track of so a change redraws it that day."""
    items, page, overdue = await actions.my_open_actions(
        session=session,
        tenant_id=tenant_id,
        owner_id=owner_id,
        today=today,
        offset=offset,
        size=PAGE_SIZE,
    )
    card = my_actions_card(
        items=items, page=page, today=today, overdue_total=overdue, notice=notice
    )
    return Reply(
        card=card,
        summary=notice or _count(page.total, "open action"),
        private=True,
        kind=CardKind.MY_ACTIONS,
        shows=(*(action_subject(i.id) for i in items), page_subject(offset)),
    )


_DONE_ARGS = re.compile(r"#?(\d{1,9})(?:\s+(.*))?", re.DOTALL)


async def mark_done(request: Request) -> Reply:
    """`done 12` (or `done #12`), optionally with a note: `done 12 visit recorded on 3 Dec`. A
    child visit or action meeting is answered with the form that records it."""
    typed = _DONE_ARGS.fullmatch(request.raw_args.strip())
    if typed is None:
        message = "Which action? Type done and its number, for example done 12."
        return Reply(card=usage_card(message, button=("My actions", "my actions")), summary=message)
    note = (typed[2] or "").strip() or None
    if note is not None and len(note) > TEXT_LIMIT:
        message = "A note can be up to 2,000 characters. Nothing was changed."
        return Reply(card=error_card(message), summary=message)
    action_id = int(typed[1])
    outcome = await tracking.mark_done(request, action_id=action_id, note=note)
    if outcome.result is tracking.Result.REFUSED:
        return Reply(card=error_card(outcome.message), summary=outcome.message)
    if outcome.card is not None:  # a child visit's day, or the action meeting's record
        return Reply(card=outcome.card, summary=outcome.message, private=True)
    await flows.settle(request, outcome)
    zone = await actions.display_zone(session=request.session, tenant_id=request.tenant_id)
    status = await actions.action_status(
        session=request.session, tenant_id=request.tenant_id, action_id=action_id, zone=zone
    )
    assert status is not None
    card = action_status_card(status, message=outcome.message, today=request.today)
    return Reply(card=card, summary=f"Action #{action_id}: {status.state}", private=True)


async def show_team(request: Request, *, notice: str | None = None) -> Reply:
    """A manager's team (or service; QA: everyone): waiting for them, overdue, audits, away."""
    return await team_reply(
        request.session,
        request.tenant_id,
        request.person,
        today=request.today,
        offset=request.offset,
        settings=request.settings,
        notice=notice,
    )


async def team_reply(
    session: AsyncSession,
    tenant_id: str,
    person: Staff,
    *,
    today: date,
    offset: int,
    settings: Settings,
    notice: str | None = None,
) -> Reply:
    """One page of the `team` card, kept track of so a change to an action or request it lists
    redraws it that day."""
    me = await staff.standing(session=session, tenant_id=tenant_id, person=person)
    scope = team_scope(me)
    if scope is None:
        message = "team is for managers and the QA team."
        return Reply(card=error_card(message), summary=message)
    extensions, confirmations, more = await team.waiting(
        session=session, tenant_id=tenant_id, scope=scope, me=me, limit=WAITING_SHOWN
    )
    overdue, page = await team.overdue(
        session=session,
        tenant_id=tenant_id,
        scope=scope,
        today=today,
        offset=offset,
        size=PAGE_SIZE,
    )
    away, away_total = await team.away(
        session=session, tenant_id=tenant_id, scope=scope, today=today, limit=AWAY_SHOWN
    )
    figures = await month_compliance(
        session, tenant_id, me, scope, today=today, suppress_below=settings.suppress_below
    )
    view = TeamView(
        title=await team.title(session=session, tenant_id=tenant_id, scope=scope),
        extensions=extensions,
        confirmations=confirmations,
        more_waiting=more,
        overdue=overdue,
        page=page,
        compliance=[_compliance(c) for c in figures.compliance],
        compliance_total=_compliance(figures.compliance_total),
        hidden_text=hidden_text(figures),
        programmes=figures.programmes,
        council_wide=not figures.everyone,
        away=away,
        away_total=away_total,
        learning=await _learning(session, tenant_id, me, scope, today=today, settings=settings),
    )
    waiting = len(extensions) + len(confirmations)
    overdue_count = counted(page.total, "overdue action")
    summary = notice or (
        f"{waiting} waiting for you, {overdue_count}" if waiting else overdue_count
    )
    shows = (
        *(extension_subject(e.request_id) for e in extensions),
        *(action_subject(i) for i in _actions_on(view)),
        page_subject(offset),
    )
    return Reply(
        card=team_card(view, today=today, notice=notice),
        summary=summary,
        private=True,
        kind=CardKind.TEAM,
        shows=shows,
    )


def _actions_on(view: TeamView) -> list[int]:
    """Every action the card lists, once: waiting for a decision, or overdue."""
    ids = [e.action_id for e in view.extensions]
    ids += [c.action_id for c in view.confirmations]
    ids += [o.action_id for o in view.overdue]
    return list(dict.fromkeys(ids))


async def _learning(
    session: AsyncSession,
    tenant_id: str,
    me: Person,
    scope: TeamScope,
    *,
    today: date,
    settings: Settings,
) -> list[Theme]:
    """A team manager's team's top areas to improve this quarter so far that may be shown
    (bot.rules.disclosure), each with its learning links from the themes file."""
    if scope.kind != "team" or scope.id is None:
        return []
    practice = await practice_with_exemplars(session, tenant_id=tenant_id, settings=settings)
    if not practice.themes:
        return []
    zone = await actions.display_zone(session=session, tenant_id=tenant_id)
    report = await report_for(
        session,
        tenant_id=tenant_id,
        scope=scope,
        title="",
        periods=report_periods(today, so_far=True),
        zone=zone,
        titles=titles_of(practice),
        groups=False,
    )
    shown = disclose_themes(report, below=settings.suppress_below, for_qa=Role.QA in me.roles)
    found = (practice.theme(key) for key in top_to_improve(shown))
    return [t for t in found if t is not None]


def _compliance(c: TeamCompliance) -> Compliance:
    return Compliance(c.team, c.due, c.completed, c.declined, c.hidden)


async def set_away(request: Request) -> Reply:
    """`away until 24 Dec`: reminders pause up to and including that day."""
    today = request.today
    typed = request.args.removeprefix("until").strip()
    day = parse_day(typed, today=today) if typed else None
    example = "For example: away until 24 Dec, away until 24/12/2026 or away until friday."
    if day is None:
        message = (
            f"I didn't understand “{typed}” as a date. {example}"
            if typed
            else f"Until when? {example}"
        )
        return Reply(card=usage_card(message), summary="Until when?")
    if day < today:
        passed = f"{uk_date(day, today=today)} has passed"
        later = a_year_on(day)
        if later is not None and day.year == today.year and later <= today + MAX_AHEAD:
            message = f"{passed} — did you mean {uk_date(later)}?"
            answer = f"away until {later.day}/{later.month}/{later.year}"
            card = usage_card(message, button=(f"Away until {uk_date(later)}", answer))
            return Reply(card=card, summary=message)
        message = f"{passed}. Please give today or a later date."
        return Reply(card=error_card(message), summary=message)
    if day > today + MAX_AHEAD:
        message = "Please give a date within a year."
        return Reply(card=error_card(message), summary=message)
    await staff.set_away(
        session=request.session, tenant_id=request.tenant_id, person=request.person, until=day
    )
    pattern = weekdays_of(request.person.working_days)
    resumes = next_working_day(day, weekdays=pattern)
    card = away_card(until=day, resumes_on=resumes, today=today)
    return Reply(card=card, summary=f"Away until {uk_date(day, today=today)}", private=True)


async def set_back(request: Request) -> Reply:
    was_away = request.person.away_until is not None and request.person.away_until >= request.today
    await staff.set_away(
        session=request.session, tenant_id=request.tenant_id, person=request.person, until=None
    )
    card = back_card(display_name=request.person.display_name, was_away=was_away)
    return Reply(card=card, summary="Your reminders are on", private=True)


def _count(n: int, noun: str) -> str:
    return f"You have {counted(n, noun)}"


MY_ACTIONS = Command(
    "my actions",
    "Your open actions, overdue first",
    show_my_actions,
    aliases=("actions", "my action"),
    read_only=True,
)
DONE = Command(
    "done",
    "Mark one of your actions done, for example done 12",
    mark_done,
    example="done 12",
    menu=(),
)
TEAM = Command(
    "team",
    "Overdue actions in your team or service, what waits for you, this month's audits, who is away",
    show_team,
    roles=MANAGERS | {Role.QA},
    menu=PERSONAL,
    read_only=True,
)
AWAY = Command(
    "away until",
    "Pause your reminders while you're on leave, for example away until 24 Dec",
    set_away,
    aliases=("away",),
    example="away until 24 Dec",
    menu=PERSONAL,
)
BACK = Command(
    "back",
    "Start your reminders again after leave",
    set_back,
    aliases=("i'm back",),
    menu=PERSONAL,
)
