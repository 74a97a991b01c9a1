"""The themes report for a scope (bot.rules.theme_report): `themes`, the `team` card's learning
links for a team's top areas to improve, and the briefing drafted from a theme all read it here."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.rules.digest import teams_in
from bot.rules.permissions import TeamScope
from bot.rules.theme_report import (
    TOP,
    ReportPeriods,
    ThemeReport,
    scope_groups,
    theme_report,
)
from cards.practice import Practice
from storage import digest as figures
from storage import themes


def titles_of(practice: Practice) -> dict[str, str]:
    """Each theme's name as the themes file says it now."""
    return {t.key: t.title for t in practice.themes}


async def report_for(
    session: AsyncSession,
    *,
    tenant_id: str,
    scope: TeamScope,
    title: str,
    periods: ReportPeriods,
    zone: ZoneInfo,
    titles: dict[str, str],
    top: int = TOP,
    groups: bool = True,
) -> ThemeReport:
    """The whole report for the scope's teams (a team manager with no team: none of them);
    not yet disclosed (bot.rules.disclosure.disclose_themes)."""
    all_teams = await figures.teams(session=session, tenant_id=tenant_id)
    team_ids = teams_in(all_teams, scope.kind, scope.id)
    tallies, audits = await themes.theme_counts(
        session=session,
        tenant_id=tenant_id,
        months=periods.window,
        end=periods.end,
        zone=zone,
        team_ids=team_ids,
    )
    group_kind, by_group = "", dict[str, set[int]]()
    if groups:
        services = await figures.services(session=session, tenant_id=tenant_id)
        group_kind, by_group = scope_groups(all_teams, services, scope.kind, scope.id)
    return theme_report(
        tallies,
        audits,
        periods=periods,
        title=title,
        team_ids=team_ids,
        groups=by_group,
        group_kind=group_kind,
        titles=titles,
        top=top,
    )
