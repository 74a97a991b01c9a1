"""The `stats` command (alias `digest`): this month's figures so far, for what the asker may see."""

from __future__ import annotations

from bot.rules.calibration import agreement
from bot.rules.digest import (
    bounds,
    digest,
    month_so_far,
    overdue_point,
    teams_in,
)
from bot.rules.disclosure import disclose
from bot.rules.grades import Standard
from bot.rules.permissions import team_scope
from bot.rules.roles import Role
from bot.rules.trends import auditor_grades, window_bounds, window_label
from bot.services import flows
from bot.turn import Reply, Request
from cards.common import truncate
from cards.digest import digest_card, digest_summary
from cards.notices import not_allowed_card
from cards.own_view import OwnViewFigures
from cards.trends import auditors_card, auditors_summary
from storage import actions, own_views, staff, team
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
    own = None
    if Role.QA in me.roles:
        start, end = bounds(period, zone)
        found = await own_views.own_view_pairs(
            session=session, tenant_id=tenant_id, start=start, end=end, team_ids=team_ids
        )
        own = OwnViewFigures(
            completed=found.completed,
            with_own_view=found.with_own_view,
            overall=agreement([(mine, theirs) for _, mine, theirs in found.pairs]),
            by_standard={
                s: agreement([(mine, theirs) for k, mine, theirs in found.pairs if k == s])
                for s in Standard
            },
        )
    card = digest_card(view, own_views=own)
    return Reply(card=card, summary=digest_summary(view), private=True)


AUDITORS_NOT_FOR_YOU = (
    "Grades by auditor name the auditors, so they are for the QA team only. Type stats for "
    "your figures."
)


async def show_auditors(request: Request) -> Reply:
    """Each auditor's overall grades over the trend's months beside all auditors' (QA only: it
    names auditors); `stats auditors <name>` shows those whose name holds it. Anyone else is
    refused, and the refusal audit-logged."""
    if Role.QA not in request.person.role_set:
        flows.log_refusal(request, "stats_auditors", None, "role", denied=True, entity="staff")
        return Reply(card=not_allowed_card(AUDITORS_NOT_FOR_YOU), summary=AUDITORS_NOT_FOR_YOU)
    session, tenant_id, today = request.session, request.tenant_id, request.today
    zone = await actions.display_zone(session=session, tenant_id=tenant_id)
    start, end = window_bounds(today, zone)
    rows = await figures.auditor_counts(session=session, tenant_id=tenant_id, start=start, end=end)
    view = auditor_grades(rows, named=truncate(request.raw_args.strip(), 60))
    return Reply(
        card=auditors_card(view, since=window_label(today)),
        summary=auditors_summary(view),
        private=True,
    )
