"""This month's figures so far, for what the asker may see: `stats`, and the compliance and the
audit programme's progress on the `team` card."""

from __future__ import annotations

from datetime import date

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.rules.digest import (
    Counts,
    Digest,
    digest,
    month,
    teams_in,
)
from bot.rules.disclosure import disclose
from bot.rules.permissions import Person, TeamScope
from bot.rules.roles import Role
from storage import actions, tenants
from storage import digest as figures


async def month_compliance(
    session: AsyncSession,
    tenant_id: str,
    me: Person,
    scope: TeamScope,
    *,
    today: date,
    suppress_below: int,
) -> Digest:
    """The `team` card's audits due this month (the whole month, where `stats` counts those due
    so far) and each programme's audits completed this month against its target: the digest's
    figures, as the asker may see them."""
    zone = await actions.display_zone(session=session, tenant_id=tenant_id)
    period = month(today.replace(day=1))
    all_teams = await figures.teams(session=session, tenant_id=tenant_id)
    team_ids = teams_in(all_teams, scope.kind, scope.id)
    counts = Counts(
        period=period,
        trend_months=[],
        teams=all_teams,
        compliance=await figures.compliance(
            session=session, tenant_id=tenant_id, period=period, zone=zone, team_ids=team_ids
        ),
        programmes=await figures.programmes(
            session=session, tenant_id=tenant_id, period=period, zone=zone
        ),
        targets=await tenants.targets(session=session, tenant_id=tenant_id),
        team_managers=await figures.team_manager_teams(session=session, tenant_id=tenant_id),
    )
    return disclose(
        digest(counts, title="", team_ids=team_ids, today=today),
        below=suppress_below,
        for_qa=Role.QA in me.roles,
    )
