"""The `stats` command (alias `digest`): this month's figures so far, for what the asker may see."""

from __future__ import annotations

from bot.rules.digest import (
    digest,
    month_so_far,
    overdue_point,
    teams_in,
)
from bot.rules.disclosure import disclose
from bot.rules.permissions import team_scope
from bot.rules.roles import Role
from bot.turn import Reply, Request
from cards.digest import digest_card, digest_summary
from cards.notices import not_allowed_card
from storage import actions, staff, team
from storage import digest as figures

NOT_FOR_YOU = "Stats are for managers and the QA team, so they're not available for your role."


async def show_stats(request: Request) -> Reply:
    """A team manager sees their team, a service manager their service, QA everyone.

    Figures are by the audit's team (an action's, the team of its audit, else its owner's
    service). Anyone but QA sees them through bot.rules.disclosure; the card names auditors with
    their moderation agreement, so it goes to the asker's personal chat.
    """
    session, tenant_id, today = request.session, request.tenant_id, request.today
    me = await staff.standing(session=session, tenant_id=tenant_id, person=request.person)
    scope = team_scope(me)
    if scope is None:
        return Reply(card=not_allowed_card(NOT_FOR_YOU), summary=NOT_FOR_YOU)
    zone = await actions.display_zone(session=session, tenant_id=tenant_id)
    period = month_so_far(today)
    all_teams = await figures.teams(session=session, tenant_id=tenant_id)
    team_ids = teams_in(all_teams, scope.kind, scope.id)
    counts = await figures.counts(
        session=session,
        tenant_id=tenant_id,
        period=period,
        zone=zone,
        overdue=overdue_point(period, zone, request.now),
        team_ids=team_ids,
    )
    title = await team.title(session=session, tenant_id=tenant_id, scope=scope)
    service_id = scope.id if scope.kind == "service" else None
    view = disclose(
        digest(counts, title=title, team_ids=team_ids, today=today, service_id=service_id),
        below=request.settings.suppress_below,
        for_qa=Role.QA in me.roles,
    )
    return Reply(card=digest_card(view), summary=digest_summary(view), private=True)
