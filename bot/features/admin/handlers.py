"""`help` and `unreachable`: what I can do for you, and who I cannot reach."""

from __future__ import annotations

from bot.payloads import PagePayload
from bot.rules.roles import ROLE_LABELS, Role
from bot.services import flows
from bot.turn import CHANNEL, Command, Reply, Request
from cards.common import counted
from cards.help import help_card
from cards.unreachable import Unreachable, unreachable_card
from cards.views import CommandHelp, Page
from storage import actions, staff

UNREACHABLE_PAGE = 20


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
            for c in request.commands
            if c.allowed(person_roles)
        ),
        key=lambda c: HELP_GROUPS.index(c.group),  # stable: the table's order within a group
    )
    card = help_card(
        display_name=request.person.display_name, roles_label=roles_label, commands=listed
    )
    return Reply(card=card, summary="What I can do for you")


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


async def page_of_unreachable(request: Request, payload: PagePayload) -> Reply:
    return await flows.page_if_allowed(request.at(payload.offset), UNREACHABLE)


HELP = Command(
    "help", "What I can do for you", show_help, aliases=("hi", "hello", "?"), read_only=True
)
UNREACHABLE = Command(
    "unreachable",
    "People I can't reach (never opened QA Loop, or removed or blocked it) and what waits",
    show_unreachable,
    roles=frozenset({Role.QA}),
    menu=(),
)
