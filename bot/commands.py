"""The chat commands: one table drives parsing, dispatch, help and the manifest's commandLists."""

from __future__ import annotations

import difflib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from bot import allocation, briefings, channels, feedback, guide, tracking
from bot.rules.dates import MAX_AHEAD, a_year_on, parse_day
from bot.rules.digest import TeamCompliance
from bot.rules.permissions import team_scope
from bot.rules.roles import MANAGERS, ROLE_LABELS, Role
from bot.rules.workdays import is_working_day, weekdays_of
from bot.stats import month_compliance, show_stats
from bot.turn import Reply as Reply
from bot.turn import Request as Request
from cards.action_done import action_status_card
from cards.common import counted, uk_date
from cards.digest import hidden_text
from cards.help import help_card
from cards.my_actions import my_actions_card
from cards.my_audits import my_audits_card
from cards.notices import away_card, back_card, error_card, usage_card
from cards.team import Compliance, TeamView, team_card
from cards.unreachable import Unreachable, unreachable_card
from cards.views import CommandHelp, Page
from storage import actions, audits, staff, team

PAGE_SIZE = 10
# The `team` card's lists: what waits for a decision, and who is away.
WAITING_SHOWN = 5
AWAY_SHOWN = 20
UNREACHABLE_PAGE = 20


Handler = Callable[[Request], Awaitable[Reply]]

# Where Teams shows a command in its menu (the manifest's commandLists scopes).
EVERYWHERE = ("personal", "team", "groupChat")
PERSONAL = ("personal",)
CHANNEL = ("team",)


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    help: str
    handler: Handler
    aliases: tuple[str, ...] = ()
    # None: everyone may use it.
    roles: frozenset[Role] | None = None
    # How help shows it typed; a command that needs more than its name gets no help button.
    example: str | None = None
    # The scopes whose command menu offers it (at most 10 a scope); any command works when typed.
    menu: tuple[str, ...] = EVERYWHERE

    def allowed(self, person_roles: frozenset[str]) -> bool:
        return self.roles is None or bool(self.roles & person_roles)

    @property
    def spellings(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


HELP_GROUPS = ("For everyone", "For your role", "In a team channel")


def _group(command: Command) -> str:
    if command.menu == CHANNEL:
        return HELP_GROUPS[2]
    return HELP_GROUPS[0] if command.roles is None else HELP_GROUPS[1]


async def show_help(request: Request) -> Reply:
    person_roles = request.person.role_set
    roles_label = ", ".join(
        ROLE_LABELS[Role(r)].lower() for r in sorted(person_roles) if r in Role._value2member_map_
    )
    listed = sorted(
        (
            CommandHelp(name=c.name, help=c.help, example=c.example or c.name, group=_group(c))
            for c in COMMANDS
            if c.allowed(person_roles)
        ),
        key=lambda c: HELP_GROUPS.index(c.group),  # stable: the table's order within a group
    )
    card = help_card(
        display_name=request.person.display_name, roles_label=roles_label, commands=listed
    )
    return Reply(card=card, summary="What I can do for you")


async def show_my_actions(request: Request, *, notice: str | None = None) -> Reply:
    """`notice` says what a button on this card just did."""
    assert request.person.id is not None
    items, page, overdue = await actions.my_open_actions(
        session=request.session,
        tenant_id=request.tenant_id,
        owner_id=request.person.id,
        today=request.today,
        offset=request.offset,
        size=PAGE_SIZE,
    )
    card = my_actions_card(
        items=items, page=page, today=request.today, overdue_total=overdue, notice=notice
    )
    return Reply(card=card, summary=notice or _count(page.total, "open action"), private=True)


async def show_my_audits(request: Request) -> Reply:
    assert request.person.id is not None
    items, page = await audits.my_audits(
        session=request.session,
        tenant_id=request.tenant_id,
        person_id=request.person.id,
        today=request.today,
        offset=request.offset,
        size=PAGE_SIZE,
    )
    card = my_audits_card(items=items, page=page, today=request.today)
    return Reply(card=card, summary=_count(page.total, "audit"), private=True)


_DONE_ARGS = re.compile(r"#?(\d{1,9})(?:\s+(.*))?", re.DOTALL)
TEXT_LIMIT = 2000


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
    zone = await actions.display_zone(session=request.session, tenant_id=request.tenant_id)
    status = await actions.action_status(
        session=request.session, tenant_id=request.tenant_id, action_id=action_id, zone=zone
    )
    assert status is not None
    card = action_status_card(status, message=outcome.message, today=request.today)
    return Reply(card=card, summary=f"Action #{action_id}: {status.state}", private=True)


async def show_team(request: Request, *, notice: str | None = None) -> Reply:
    """A manager's team (or service; QA: everyone): waiting for them, overdue, audits, away."""
    session, tenant_id, today = request.session, request.tenant_id, request.today
    me = await staff.standing(session=session, tenant_id=tenant_id, person=request.person)
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
        offset=request.offset,
        size=PAGE_SIZE,
    )
    away, away_total = await team.away(
        session=session, tenant_id=tenant_id, scope=scope, today=today, limit=AWAY_SHOWN
    )
    figures = await month_compliance(request, me, scope)
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
        away=away,
        away_total=away_total,
    )
    waiting = len(extensions) + len(confirmations)
    overdue_count = counted(page.total, "overdue action")
    summary = notice or (
        f"{waiting} waiting for you, {overdue_count}" if waiting else overdue_count
    )
    return Reply(card=team_card(view, today=today, notice=notice), summary=summary, private=True)


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
    resumes = day + timedelta(days=1)
    while not is_working_day(resumes, weekdays=pattern):
        resumes += timedelta(days=1)
    card = away_card(until=day, resumes_on=resumes, today=today)
    return Reply(card=card, summary=f"Away until {uk_date(day, today=today)}", private=True)


async def set_back(request: Request) -> Reply:
    was_away = request.person.away_until is not None and request.person.away_until >= request.today
    await staff.set_away(
        session=request.session, tenant_id=request.tenant_id, person=request.person, until=None
    )
    card = back_card(display_name=request.person.display_name, was_away=was_away)
    return Reply(card=card, summary="Your reminders are on", private=True)


async def show_unreachable(request: Request) -> Reply:
    rows, total = await staff.unreachable(
        session=request.session,
        tenant_id=request.tenant_id,
        offset=request.offset,
        size=UNREACHABLE_PAGE,
    )
    zone = await actions.display_zone(session=request.session, tenant_id=request.tenant_id)
    people = [
        Unreachable(
            name=row.person.display_name,
            email=row.person.email,
            team=row.team,
            since=row.person.unreachable_since.astimezone(zone).date()
            if row.person.unreachable_since
            else None,
            has_chat=row.has_chat,
            open_actions=row.open_actions,
            open_audits=row.open_audits,
        )
        for row in rows
    ]
    page = Page(offset=request.offset, size=UNREACHABLE_PAGE, total=total)
    card = unreachable_card(people=people, page=page, today=request.today)
    summary = f"{counted(total, 'person', 'people')} I can't reach"
    return Reply(card=card, summary=summary, private=True)


def _count(n: int, noun: str) -> str:
    return f"You have {counted(n, noun)}"


COMMANDS: tuple[Command, ...] = (
    Command("help", "What I can do for you", show_help, aliases=("hi", "hello", "?")),
    Command(
        "my actions",
        "Your open actions, overdue first",
        show_my_actions,
        aliases=("actions", "my action"),
    ),
    Command(
        "my audits",
        "Audits you are doing and audits of your cases",
        show_my_audits,
        aliases=("audits", "my audit"),
    ),
    Command(
        "feedback",
        "Feedback forms you still owe on audits of your cases",
        feedback.show_feedback,
        roles=frozenset({Role.PRACTITIONER}),
        menu=PERSONAL,
    ),
    Command(
        "done",
        "Mark one of your actions done, for example done 12",
        mark_done,
        example="done 12",
        menu=(),
    ),
    Command(
        "team",
        "Overdue actions in your team or service, what waits for you, this month's audits, who is away",
        show_team,
        roles=MANAGERS | {Role.QA},
        menu=PERSONAL,
    ),
    Command(
        "stats",
        "This month so far: compliance, grades, actions, feedback",
        show_stats,
        aliases=("digest",),
        roles=MANAGERS | {Role.QA},
    ),
    Command(
        "guide",
        "This week's audit steps, with your open audits",
        guide.show_guide,
        roles=frozenset({Role.AUDITOR}),
        menu=PERSONAL,
    ),
    Command(
        "briefing",
        "The latest Best Practice Briefing",
        briefings.show_briefing,
        aliases=("briefings",),
    ),
    Command(
        "briefing new",
        "Write a Best Practice Briefing for staff channels",
        briefings.new_briefing,
        roles=frozenset({Role.QA}),
        menu=CHANNEL,
    ),
    Command(
        "away until",
        "Pause your reminders while you're on leave, for example away until 24 Dec",
        set_away,
        aliases=("away",),
        example="away until 24 Dec",
        menu=PERSONAL,
    ),
    Command(
        "back",
        "Start your reminders again after leave",
        set_back,
        aliases=("i'm back",),
        menu=PERSONAL,
    ),
    Command(
        "unreachable",
        "People I can't reach (never opened QA Loop, or removed or blocked it) and what waits",
        show_unreachable,
        roles=frozenset({Role.QA}),
        menu=(),
    ),
    Command(
        "audit new",
        "Create one audit of any kind (QA)",
        allocation.show_new_audit_form,
        roles=frozenset({Role.QA}),
        menu=(),
    ),
    Command(
        "audit reassign",
        "Give an open audit to another auditor, for example audit reassign 12 (QA)",
        allocation.show_reassign_form,
        example="audit reassign 12",
        roles=frozenset({Role.QA}),
        menu=(),
    ),
    Command(
        "audit cancel",
        "Cancel an audit that will not be done, for example audit cancel 12 (QA)",
        allocation.show_cancel_form,
        example="audit cancel 12",
        roles=frozenset({Role.QA}),
        menu=(),
    ),
    Command(
        "use this channel for",
        "In a channel: post QA digests or briefings here, for example use this channel for briefings",
        channels.use_channel,
        roles=frozenset({Role.QA, Role.ADMIN}),
        example="use this channel for briefings",
        menu=CHANNEL,
    ),
    Command(
        "stop using this channel",
        "In a channel: stop posting QA digests and briefings here",
        channels.stop_using_channel,
        roles=frozenset({Role.QA, Role.ADMIN}),
        menu=CHANNEL,
    ),
)


@dataclass(frozen=True, slots=True)
class Parsed:
    command: Command | None
    args: str
    typed: str
    suggestion: str | None
    # The arguments as typed (case kept), for free text.
    raw_args: str = ""
    # The command's spelling as typed ("digest" for stats), to name it back to them.
    said: str = ""


_SPACES = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Lower case, single spaces, no leading slash or trailing punctuation."""
    text = _SPACES.sub(" ", text.replace("\u00a0", " ")).strip().lower()
    return text.removeprefix("/").strip().rstrip(".!")


def _raw_args(text: str, spelling: str) -> str:
    """What follows the command in `text`, with its case and punctuation kept."""
    spaced = _SPACES.sub(" ", text.replace("\u00a0", " ")).strip().removeprefix("/").strip()
    if spaced[: len(spelling)].lower() != spelling:
        return ""
    return spaced[len(spelling) :].strip()


def parse(text: str, commands: tuple[Command, ...] = COMMANDS) -> Parsed:
    typed = normalise(text)
    by_length = sorted(
        ((spelling, c) for c in commands for spelling in c.spellings),
        key=lambda pair: -len(pair[0]),
    )
    for spelling, command in by_length:
        if typed == spelling or typed.startswith(spelling + " "):
            args = typed[len(spelling) :].strip()
            return Parsed(command, args, typed, None, _raw_args(text, spelling) or args, spelling)
    spellings = [s for s, _ in by_length]
    close = difflib.get_close_matches(typed, spellings, n=1, cutoff=0.6)
    suggestion = None
    if close:
        suggestion = next(c.name for s, c in by_length if s == close[0])
    return Parsed(None, "", typed, suggestion)
