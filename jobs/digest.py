"""The `monthly_digest` and `quarterly_report` jobs: last period's figures to the QA channel(s),
and (monthly) to each service manager and head of service their service's figures and each team
manager their team's, in their personal chats.

The scheduler's trigger (`Job.runs_on`) is the only gate on the day: the jobs themselves report
the period before whatever day they are given, so `qaloop run-job monthly_digest --as-of
2026-11-03` recovers a missed 2 November run with October's figures.

The QA channel is the QA team's own view (DESIGN §1, §4: QA sees all figures, and moderates the
auditors named there), so its card is whole; every personal card goes through
bot.rules.disclosure, so no figure in it rests on fewer than QALOOP_SUPPRESS_BELOW people or audits.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime

from bot.rules.digest import (
    Counts,
    Digest,
    Period,
    digest,
    is_first_working_day_of_quarter,
    overdue_point,
    previous_month,
    previous_quarter,
    teams_in,
)
from bot.rules.disclosure import disclose, disclose_themes
from bot.rules.moderation import sampled_month
from bot.rules.roles import Role
from bot.rules.theme_report import ThemeReport, report_periods, theme_report
from bot.rules.workdays import is_first_working_day_of_month
from bot.services.practice import practice_for
from bot.services.theme_report import titles_of
from cards.common import card_json
from cards.digest import digest_card, digest_summary
from cards.names import CardKind
from jobs.runs import CATCH_UP_UNTIL, Job, JobDeps, Planned
from storage import channels, reminders
from storage import digest as figures
from storage import themes as theme_store
from storage.channels import Purpose

log = logging.getLogger(__name__)

ALL_TEAMS = "All teams"


async def monthly_digest(*, deps: JobDeps, now: datetime, dry_run: bool = False) -> list[Planned]:
    """Last month's digest (the month before `now`'s local date)."""
    today = now.astimezone(deps.zone).date()
    return await _plan(
        deps, previous_month(today), now, CardKind.QA_DIGEST, team_managers=True, themes=True
    )


async def quarterly_report(*, deps: JobDeps, now: datetime, dry_run: bool = False) -> list[Planned]:
    """The last quarter's digest (the quarter before `now`'s local date), to the QA channel only."""
    today = now.astimezone(deps.zone).date()
    return await _plan(
        deps, previous_quarter(today), now, CardKind.QA_QUARTERLY, team_managers=False, themes=False
    )


@dataclass(frozen=True, slots=True)
class _Personal:
    staff_id: int
    name: str
    figures: Digest
    # "Your service's" to a service lead, "Your team's" to a team manager.
    whose: str
    themes: ThemeReport | None = None


async def _plan(
    deps: JobDeps, period: Period, now: datetime, kind: str, *, team_managers: bool, themes: bool
) -> list[Planned]:
    """Nothing here writes, so a dry run is the same plan. The monthly digest has the practice
    themes of its month and quarter (bot.rules.theme_report), each scope's from one count."""
    tenant_id, zone = deps.tenant_id, deps.zone
    today = now.astimezone(zone).date()
    async with deps.sessions() as session:
        counts = await figures.counts(
            session=session,
            tenant_id=tenant_id,
            period=period,
            zone=zone,
            overdue=overdue_point(period, zone, now),
        )
        targets = await channels.channels_for(
            session=session, tenant_id=tenant_id, purpose=Purpose.QA_DIGESTS
        )
        managers = (
            await figures.team_managers(session=session, tenant_id=tenant_id)
            if team_managers
            else []
        )
        leads = (
            await figures.service_leads(session=session, tenant_id=tenant_id)
            if team_managers
            else []
        )
        chats = await reminders.personal_chats(session=session, tenant_id=tenant_id)
        periods = report_periods(period.start, so_far=False)
        tallies, audits = (
            await theme_store.theme_counts(
                session=session,
                tenant_id=tenant_id,
                months=periods.window,
                end=periods.end,
                zone=zone,
            )
            if themes
            else ([], [])
        )
    titles = titles_of(practice_for(deps.settings)) if themes else {}

    def themes_of(title: str, team_ids: Collection[int] | None) -> ThemeReport | None:
        if not themes:
            return None
        return theme_report(
            tallies, audits, periods=periods, title=title, team_ids=team_ids, titles=titles
        )

    planned: list[Planned] = []
    if not targets:
        log.warning(
            "%s for %s in tenant %s: no channel is chosen for QA digests; "
            "managers still get their own figures",
            kind,
            period.key,
            tenant_id,
        )
    whole = digest(counts, title=ALL_TEAMS, team_ids=None, today=today)
    card = card_json(digest_card(whole, themes=themes_of(ALL_TEAMS, None)))
    summary = digest_summary(whole)
    for channel in targets:
        assert channel.id is not None
        planned.append(
            Planned(
                # A channel is nobody's: a 403 there must not mark a person unreachable.
                recipient_staff_id=None,
                recipient_name=channel.channel_name or "QA channel",
                conversation_ref_id=channel.id,
                conversation_id=channel.conversation_id,
                kind=kind,
                summary=summary,
                card=card,
                dedupe_key=f"{kind}:{period.key}:channel:{channel.id}",
            )
        )
    below = deps.settings.suppress_below
    personal: list[_Personal] = []
    # A service lead's service covers their team: one card each, the service's.
    for lead in leads:
        mine = _service_digest(counts, lead.service_id, today)
        service_teams = teams_in(counts.teams, "service", lead.service_id)
        personal.append(
            _Personal(
                lead.staff_id,
                lead.name,
                disclose(mine, below=below, for_qa=_qa(lead.roles)),
                "Your service's",
                _disclosed(themes_of(mine.title, service_teams), below, _qa(lead.roles)),
            )
        )
    covered = {lead.staff_id for lead in leads}
    for manager in managers:
        if manager.staff_id in covered:
            continue
        mine = _team_digest(counts, manager.team_id, today)
        personal.append(
            _Personal(
                manager.staff_id,
                manager.name,
                disclose(mine, below=below, for_qa=_qa(manager.roles)),
                "Your team's",
                _disclosed(themes_of(mine.title, {manager.team_id}), below, _qa(manager.roles)),
            )
        )
    missing = 0
    for person in sorted(personal, key=lambda p: (p.name, p.staff_id)):
        chat = chats.get(person.staff_id)
        if chat is None:
            missing += 1
            continue
        planned.append(
            Planned(
                recipient_staff_id=person.staff_id,
                recipient_name=person.name,
                conversation_ref_id=chat.conversation_ref_id,
                conversation_id=chat.conversation_id,
                kind=kind,
                summary=digest_summary(person.figures),
                card=card_json(
                    digest_card(
                        person.figures,
                        intro=f"{person.whose} figures for {person.figures.period.label}.",
                        themes=person.themes,
                    )
                ),
                dedupe_key=f"{kind}:{period.key}:staff:{person.staff_id}",
            )
        )
    if missing:
        log.warning("%d managers have no chat with the bot for their own figures", missing)
    return planned


def _qa(roles: frozenset[str]) -> bool:
    return Role.QA in roles


def _disclosed(report: ThemeReport | None, below: int, for_qa: bool) -> ThemeReport | None:
    return None if report is None else disclose_themes(report, below=below, for_qa=for_qa)


def _team_digest(counts: Counts, team_id: int, today: date) -> Digest:
    name = {t.id: t.name for t in counts.teams}.get(team_id)
    return digest(
        counts, title=f"Team {name}" if name else "Your team", team_ids={team_id}, today=today
    )


def _service_digest(counts: Counts, service_id: int, today: date) -> Digest:
    name = {s.id: s.name for s in counts.services}.get(service_id)
    return digest(
        counts,
        title=f"{name} service" if name else "Your service",
        team_ids=teams_in(counts.teams, "service", service_id),
        service_id=service_id,
        today=today,
    )


MONTHLY_JOB = Job(
    "monthly_digest",
    monthly_digest,
    at=lambda s: s.digest_time,
    days="mon-fri",
    catch_up_until=CATCH_UP_UNTIL,
    runs_on=is_first_working_day_of_month,
    # The month the digest is about: the one before the run.
    period_of=sampled_month,
)
QUARTERLY_JOB = Job(
    "quarterly_report",
    quarterly_report,
    at=lambda s: s.digest_time,
    days="mon-fri",
    catch_up_until=CATCH_UP_UNTIL,
    runs_on=is_first_working_day_of_quarter,
    period_of=lambda day: previous_quarter(day).key,
)
