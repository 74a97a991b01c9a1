"""The themes report (issue 13 item 3) and the digest's actions done vs verified (item 4): `themes`
for a team manager, a service lead and QA over HTTP, a practitioner and a manager with no team
told why not; `briefing new from theme` drafting the form from a theme (an unknown theme refused);
the team card's learning links; every figure equal to plain SQL over a generated council
(declined, cancelled, reassigned and unfinished audits ticked too, tiny teams, re-audits) on
SQLite and PostgreSQL; no case reference in any post. On a fixed clock, Thu 26 Nov 2026 10:02."""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from bot.rules.digest import bounds, digest, local_start, month, overdue_point, teams_in
from bot.rules.disclosure import disclose_themes
from bot.rules.theme_report import (
    TOP,
    PeriodThemes,
    report_periods,
    scope_groups,
    theme_report,
)
from bot.settings import Settings
from jobs.digest import monthly_digest
from storage import digest as figures
from storage import themes as store
from storage.db import SessionMaker, transaction
from storage.models import Action, Audit, AuditTheme, ChannelUse, ConversationRef, Staff
from tests.chat import GRADY, MEGAN, PATTI, Chat, card_text, inputs, nodes
from tests.helpers import (
    ISAIAH,
    LYNNE,
    NOW,
    AuditCouncil,
    audit_council,
)
from tests.test_digest import deps
from tests.test_figures import LONDON, TENANT_B, Generated, count, generated_council

pytestmark = pytest.mark.clock(NOW)  # Thu 26 Nov 2026, 10:02 in London

THEMES = """# Practice themes
## heart: Children and families at the heart of everything we do
- Voice of the child recorded {voice-of-child}
  Academy course: Hearing the child's voice | https://academy.example.gov.uk/voice
- Relationship-based practice {relationship-based}
## assessment: Every child has an assessment
- Detailed genogram {genogram}
  Guidance: Drawing a genogram with the family | https://guidance.example.gov.uk/genogram
## plans: Plans are good quality and SMART
- SMART actions with named owners {smart-plan}
- Clear timescales {clear-timescales}
"""
STANDARD_OF = {
    "voice-of-child": "heart",
    "relationship-based": "heart",
    "genogram": "assessment",
    "smart-plan": "plans",
    "clear-timescales": "plans",
}
KEYS = tuple(STANDARD_OF)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    themes = tmp_path / "themes.md"
    themes.write_text(THEMES, encoding="utf-8")
    return Settings(_env_file=None, database_url=database_url, themes_file=themes)  # type: ignore[call-arg]


def at(day: date, hour: int = 11) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


async def completed_with(
    sessions: SessionMaker,
    council: AuditCouncil,
    ticks: dict[str, str],
    *,
    team: str = "North",
    on: date,
    state: str = "completed",
    case_index: int = 0,
) -> Audit:
    """An audit of the team's case completed `on` (or left in `state`), ticked with `ticks`."""
    case = council.cases[team][case_index]
    async with transaction(sessions) as session:
        audit = Audit(
            tenant_id=council.tenant_id,
            case_id=case.id or 0,
            team_id=council.teams[team].id or 0,
            auditor_id=council.id("patti"),
            practitioner_id=case.worker_id,
            due_on=on,
            state=state,
            overall_grade="good" if state == "completed" else None,
            completed_at=at(on) if state == "completed" else None,
        )
        session.add(audit)
        await session.flush()
        for key, finding in ticks.items():
            session.add(
                AuditTheme(
                    tenant_id=council.tenant_id,
                    audit_id=audit.id or 0,
                    standard=STANDARD_OF[key],
                    theme=key,
                    title=key,
                    finding=finding,
                    created_by=council.id("patti"),
                )
            )
    return audit


async def north_and_south(sessions: SessionMaker) -> AuditCouncil:
    """North: five audits this month (four ticked the genogram to improve, three the voice of the
    child a strength), three in October, four in September; South two this month; a declined
    and a cancelled North audit ticked too (they never count). East none."""
    council = await audit_council(sessions)
    improve, strength = "to_improve", "strength"
    for n in range(5):
        ticks = {"genogram": improve} if n < 4 else {"smart-plan": improve}
        if n < 3:
            ticks["voice-of-child"] = strength
        await completed_with(sessions, council, ticks, on=date(2026, 11, 2 + n), case_index=n)
    for n in range(3):
        await completed_with(
            sessions, council, {"genogram": improve}, on=date(2026, 10, 5 + n), case_index=n
        )
    for n in range(4):
        await completed_with(
            sessions, council, {"smart-plan": improve}, on=date(2026, 9, 7 + n), case_index=n
        )
    for n in range(2):
        await completed_with(
            sessions, council, {"genogram": improve}, team="South", on=date(2026, 11, 9 + n)
        )
    for state in ("declined", "cancelled"):
        await completed_with(
            sessions, council, {"clear-timescales": improve}, on=date(2026, 11, 3), state=state
        )
    return council


# --- over HTTP -----------------------------------------------------------------------------------


async def test_a_team_manager_sees_their_team_s_top_themes_against_the_period_before(
    chat: Chat, sessions: SessionMaker
) -> None:
    await north_and_south(sessions)
    answer = await chat.say("themes", who=MEGAN)
    text = answer.text
    assert "Team North" in text
    assert "Nov 2026 so far" in text and "Q4 2026 (Oct–Nov so far)" in text
    # This month: 5 audits; the genogram in 4 (80%), none in October's... October had 3 of 3.
    assert (
        "Detailed genogram — 4 audits (80%); Oct 2026: 3 (100%) ▼ · Every child has an assessment"
        in text
    )
    assert "Voice of the child recorded — 3 audits (60%); Oct 2026: 0 (0%) new" in text
    # This quarter: 8 audits, the genogram in 7; Q3 had 4 audits, none of them the genogram.
    assert "Detailed genogram — 7 audits (88%); Q3 2026 (Jul–Sep): 0 (0%) new" in text
    # The declined and cancelled audits' ticks never count; nor do South's.
    assert "Clear timescales" not in text
    # Seen once this month (fewer than 3): left out, not named.
    assert "1 theme ticked in fewer than 3 audits left out." in text
    assert "[Briefing" not in text


async def test_qa_sees_everyone_by_service_with_a_briefing_button_per_area_to_improve(
    chat: Chat, sessions: SessionMaker
) -> None:
    await north_and_south(sessions)
    answer = await chat.say("themes", who=PATTI)
    text = answer.text
    assert "All teams" in text
    # QA sees every figure: South's two count, and a theme ticked once is named.
    assert "Detailed genogram — 6 audits (86%)" in text
    assert "SMART actions with named owners — 1 audit (14%)" in text
    assert "By service, Q4 2026 (Oct–Nov so far)" in text
    assert (
        "Safeguarding: strength Voice of the child recorded; to improve Detailed genogram" in text
    )
    assert "Early Help" not in text  # no audits there: no line
    titles = [b["title"] for b in nodes(answer.card) if b.get("type") == "Action.Submit"]
    assert "Briefing: Detailed genogram" in titles


async def test_a_head_of_service_sees_their_service_by_team_small_teams_hidden(
    chat: Chat, sessions: SessionMaker
) -> None:
    await north_and_south(sessions)
    text = (await chat.say("themes", who=ISAIAH)).text
    assert "Safeguarding service" in text
    assert "By team" in text
    assert "North: strength Voice of the child recorded; to improve Detailed genogram" in text
    # South has two audits this quarter: fewer than 3, not shown.
    assert "South: fewer than 3 audits, not shown" in text
    # Nothing from Early Help's teams.
    assert "East" not in text


async def test_a_practitioner_and_a_manager_with_no_team_are_told_why_not(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await north_and_south(sessions)
    answer = await chat.say("themes", who=LYNNE)
    assert "not available for your role" in answer.text
    assert "Detailed genogram" not in answer.text
    async with transaction(sessions) as session:
        grady = await session.get(Staff, council.id("grady"))
        assert grady is not None
        # A team manager with no team (Grady loses his service roles).
        grady.roles = "team_manager"
        grady.service_id = None
        session.add(grady)
    answer = await chat.say("themes", who=GRADY)
    assert "You have no team recorded" in answer.text


async def test_briefing_new_from_theme_drafts_the_form_with_counts_descriptor_and_links(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await north_and_south(sessions)
    answer = await chat.say("briefing new from theme genogram", who=PATTI)
    fields = inputs(answer.card)
    assert fields["title"]["value"] == "Practice theme: Detailed genogram"
    read = fields["read"]["value"]
    # Council-wide, as staff may see it (the briefing goes to staff channels).
    assert "Nov 2026 so far: ticked as an area to improve in 6 (86%)" in read
    assert "ticked as a strength in fewer than 3 of 7 completed audits." in read
    assert (
        "Guidance: Drawing a genogram with the family — https://guidance.example.gov.uk/genogram"
        in read
    )
    assert "What good looks like" in read
    assert fields["key_messages"]["value"]
    assert fields["link"]["value"] == "https://guidance.example.gov.uk/genogram"
    everything = json.dumps(answer.card)
    for cases in council.cases.values():
        for case in cases:
            assert case.case_ref not in everything

    # By its name too, any case.
    answer = await chat.say("briefing new from theme Voice of the child recorded", who=PATTI)
    assert inputs(answer.card)["title"]["value"] == "Practice theme: Voice of the child recorded"


async def test_an_unknown_theme_or_none_is_refused_and_a_manager_may_not_draft(
    chat: Chat, sessions: SessionMaker
) -> None:
    await north_and_south(sessions)
    answer = await chat.say("briefing new from theme no-such-theme", who=PATTI)
    assert "I don't know a theme called “no-such-theme”" in answer.text
    assert "title" not in inputs(answer.card)
    answer = await chat.say("briefing new from theme", who=PATTI)
    assert "Which theme?" in answer.text
    answer = await chat.say("briefing new from theme genogram", who=MEGAN)
    assert "not available for your role" in answer.text


async def test_the_team_card_links_the_learning_for_the_team_s_top_areas_to_improve(
    chat: Chat, sessions: SessionMaker
) -> None:
    await north_and_south(sessions)
    card = (await chat.say("team", who=MEGAN)).card
    text = card_text(card)
    assert "Your team's top areas to improve this quarter" in text
    assert "Detailed genogram: Guidance: Drawing a genogram with the family" in text
    urls = [b.get("url") for b in nodes(card) if b.get("type") == "Action.OpenUrl"]
    assert "https://guidance.example.gov.uk/genogram" in urls
    # SMART plans were ticked in one audit this quarter: too few to show a team manager.
    assert "SMART actions" not in text


# --- the rules -----------------------------------------------------------------------------------


def test_periods_of_a_report_so_far_and_of_a_closed_month() -> None:
    so_far = report_periods(date(2026, 11, 26), so_far=True)
    assert (so_far.month.label, so_far.previous_month.label) == ("Nov 2026 so far", "Oct 2026")
    assert so_far.quarter.label == "Q4 2026 (Oct–Nov so far)"
    assert so_far.previous_quarter.label == "Q3 2026 (Jul–Sep)"
    assert so_far.window == [date(2026, m, 1) for m in (7, 8, 9, 10, 11)]
    assert so_far.end == date(2026, 11, 26)
    january = report_periods(date(2027, 1, 1), so_far=False)
    assert january.quarter.label == "Q1 2027 (Jan)"
    assert january.previous_quarter.months == (
        date(2026, 10, 1),
        date(2026, 11, 1),
        date(2026, 12, 1),
    )
    assert january.previous_month.label == "Dec 2026"
    assert january.end == date(2027, 1, 31)


# --- every figure equals a plain count -----------------------------------------------------------


async def tick_generated(sessions: SessionMaker, g: Generated, seed: int = 5) -> None:
    """Ticks on audits in every state (only completed and moderated ones count), each theme at
    most once an audit; a theme's title reworded between ticks."""
    rng = random.Random(seed)
    async with transaction(sessions) as session:
        audits = list(
            (await session.exec(select(Audit).where(Audit.tenant_id == g.tenant_id))).all()
        )
        for audit in audits:
            for key in rng.sample(KEYS, rng.randint(0, 3)):
                session.add(
                    AuditTheme(
                        tenant_id=g.tenant_id,
                        audit_id=audit.id or 0,
                        standard=STANDARD_OF[key],
                        theme=key,
                        title=f"{key} (as ticked {rng.randint(1, 2)})",
                        finding=rng.choice(["strength", "to_improve"]),
                        created_by=audit.auditor_id,
                    )
                )


PLAIN_TICKS = (
    "SELECT COUNT(*) FROM audittheme t JOIN audit a ON a.id = t.audit_id AND a.tenant_id = :t"
    " WHERE t.tenant_id = :t AND t.theme = :k AND t.finding = :f"
    " AND a.state IN ('completed', 'moderated') AND a.completed_at >= :lo AND a.completed_at < :hi"
)
PLAIN_AUDITS = (
    "SELECT COUNT(*) FROM audit a WHERE a.tenant_id = :t"
    " AND a.state IN ('completed', 'moderated') AND a.completed_at >= :lo AND a.completed_at < :hi"
)


def _teams(ids: Iterable[int] | None) -> str:
    return (
        ""
        if ids is None
        else f" AND a.team_id IN ({', '.join(str(i) for i in sorted(ids)) or 'NULL'})"
    )


async def check_period(
    sessions: SessionMaker,
    tenant_id: str,
    p: PeriodThemes,
    span_months: tuple[date, ...],
    previous_months: tuple[date, ...],
    end: date,
    team_ids: set[int] | None,
) -> int:
    """Each listed theme's audits (now and before) and the period's audits against plain SQL; the
    list is the top of every theme by plain count. How many figures were checked."""

    def span(months: tuple[date, ...]) -> tuple[datetime, datetime]:
        lo, _ = bounds(month(months[0]), LONDON)
        _, hi = bounds(month(months[-1]), LONDON)
        return lo, min(hi, _day_close(end))

    lo, hi = span(span_months)
    plo, phi = span(previous_months)
    where = _teams(team_ids)
    checked = 0
    async with sessions() as session:
        assert p.audits == await count(session, PLAIN_AUDITS + where, t=tenant_id, lo=lo, hi=hi)
        assert p.previous_audits == await count(
            session, PLAIN_AUDITS + where, t=tenant_id, lo=plo, hi=phi
        )
        for finding in ("strength", "to_improve"):
            plain = {
                key: await count(
                    session, PLAIN_TICKS + where, t=tenant_id, k=key, f=finding, lo=lo, hi=hi
                )
                for key in KEYS
            }
            listed = p.ranked(finding)
            seen = sorted((n for n in plain.values() if n), reverse=True)
            assert [t.audits for t in listed] == seen[:TOP]
            for t in listed:
                assert t.audits == plain[t.theme]
                assert t.previous_audits == await count(
                    session, PLAIN_TICKS + where, t=tenant_id, k=t.theme, f=finding, lo=plo, hi=phi
                )
                checked += 2
    return checked + 2


def _day_close(day: date) -> datetime:
    return local_start(day + timedelta(days=1), LONDON)


@pytest.mark.parametrize(
    ("day", "so_far"),
    [(date(2026, 8, 1), False), (date(2026, 10, 20), True)],
    ids=["August", "Oct so far"],
)
async def test_every_theme_figure_equals_a_plain_count(
    sessions: SessionMaker, day: date, so_far: bool
) -> None:
    other = await generated_council(sessions, tenant_id=TENANT_B, seed=12)
    await tick_generated(sessions, other, seed=6)
    g = await generated_council(sessions)
    await tick_generated(sessions, g)
    periods = report_periods(day, so_far=so_far)
    async with sessions() as session:
        tallies, audits = await store.theme_counts(
            session=session,
            tenant_id=g.tenant_id,
            months=periods.window,
            end=periods.end,
            zone=LONDON,
        )
        teams = await figures.teams(session=session, tenant_id=g.tenant_id)
        services = await figures.services(session=session, tenant_id=g.tenant_id)
    checked = 0
    scopes: list[tuple[str, int | None]] = [("all", None)]
    scopes += [("service", s) for s in g.services.values()]
    scopes += [("team", t) for t in g.teams.values()]
    for kind, scope_id in scopes:
        team_ids = teams_in(teams, kind, scope_id)  # type: ignore[arg-type]
        kind_name, groups = scope_groups(teams, services, kind, scope_id)  # type: ignore[arg-type]
        report = theme_report(
            tallies,
            audits,
            periods=periods,
            title="",
            team_ids=team_ids,
            groups=groups,
            group_kind=kind_name,
        )
        ids = None if team_ids is None else set(team_ids)
        checked += await check_period(
            sessions,
            g.tenant_id,
            report.month,
            periods.month.months,
            periods.previous_month.months,
            periods.end,
            ids,
        )
        checked += await check_period(
            sessions,
            g.tenant_id,
            report.quarter,
            periods.quarter.months,
            periods.previous_quarter.months,
            periods.end,
            ids,
        )
        for group in report.groups:
            async with sessions() as session:
                lo = bounds(month(periods.quarter.months[0]), LONDON)[0]
                hi = _day_close(periods.end)
                assert group.audits == await count(
                    session, PLAIN_AUDITS + _teams(groups[group.name]), t=g.tenant_id, lo=lo, hi=hi
                )
        # Disclosed, a tiny team's report hides all, and no listed theme rests on fewer than 3.
        shown = disclose_themes(report, below=3, for_qa=False)
        for p in (shown.month, shown.quarter):
            assert p.hidden == (0 < p.audits < 3) or p.hidden
            assert all(t.audits >= 3 for t in [*p.strengths, *p.to_improve])
            assert all(
                t.previous_hidden or t.previous_audits == 0 or t.previous_audits >= 3
                for t in [*p.strengths, *p.to_improve]
            )
        for group in shown.groups:
            assert group.hidden or group.audits >= 3
    assert checked > 100


# --- the digest ----------------------------------------------------------------------------------


async def reaudited(sessions: SessionMaker, g: Generated, seed: int = 9) -> None:
    """Re-audits of some completed audits: done in August (some with the targeted standard still
    inadequate), one cancelled, one assigned, one made twice (the later one counts); the
    originals with SMART actions open, done, confirmed, cancelled, with and without a standard,
    and a meeting and a visit (never counted)."""
    rng = random.Random(seed)
    standards = ["heart", "assessment", "plans", "records", "oversight", "strengths"]
    async with transaction(sessions) as session:
        originals = list(
            (
                await session.exec(
                    select(Audit).where(Audit.tenant_id == g.tenant_id, Audit.state == "completed")
                )
            ).all()
        )[:40]
        for n, original in enumerate(originals):
            original.overall_grade = "inadequate"
            session.add(original)
            state = (
                ["completed", "moderated", "cancelled", "assigned"][n % 4]
                if n < 36
                else "completed"
            )
            made = 2 if n in (5, 17) else 1
            for m in range(made):
                again = Audit(
                    tenant_id=g.tenant_id,
                    case_id=original.case_id,
                    team_id=original.team_id,
                    auditor_id=original.auditor_id,
                    due_on=date(2026, 8, 10),
                    state=state if m == made - 1 else "completed",
                    reaudit_of=original.id,
                    completed_at=at(date(2026, 8, 1 + rng.randint(0, 30)))
                    if state in ("completed", "moderated") or m < made - 1
                    else None,
                    **{
                        f"grade_{s}": rng.choice(
                            ["good", "inadequate", "requires_improvement", None]
                        )
                        for s in standards
                    },
                )
                session.add(again)
            for _ in range(rng.randint(0, 5)):
                action_state = rng.choice(["open", "done", "confirmed", "cancelled"])
                session.add(
                    Action(
                        tenant_id=g.tenant_id,
                        audit_id=original.id,
                        source=rng.choice(
                            ["audit", "audit", "meeting", "action_meeting", "child_visit"]
                        ),
                        what="Update the plan",
                        measure="Seen on the record",
                        owner_id=original.auditor_id,
                        due_on=date(2026, 7, 1),
                        state=action_state,
                        standard=rng.choice([*standards, None]),
                        created_at=at(date(2026, 6, 1)),
                        done_at=at(date(2026, 7, 1))
                        if action_state in ("done", "confirmed")
                        else None,
                        cancelled_at=at(date(2026, 7, 1)) if action_state == "cancelled" else None,
                    )
                )


PLAIN_VERIFIED = """
SELECT COUNT(*) FROM action x
JOIN audit a ON a.id = x.audit_id AND a.tenant_id = :t
JOIN audit r ON r.reaudit_of = a.id AND r.tenant_id = :t
 AND r.id = (SELECT MAX(o.id) FROM audit o WHERE o.reaudit_of = a.id AND o.tenant_id = :t)
WHERE x.tenant_id = :t AND x.source NOT IN ('action_meeting', 'child_visit')
 AND r.state IN ('completed', 'moderated') AND r.completed_at >= :lo AND r.completed_at < :hi
"""
DONE = " AND x.state IN ('done', 'confirmed')"
VERIFIED = DONE + (
    " AND (CASE x.standard WHEN 'heart' THEN r.grade_heart WHEN 'assessment' THEN"
    " r.grade_assessment WHEN 'plans' THEN r.grade_plans WHEN 'records' THEN r.grade_records"
    " WHEN 'oversight' THEN r.grade_oversight WHEN 'strengths' THEN r.grade_strengths END)"
    " <> 'inadequate'"
)
PLAIN_REAUDITS = """
SELECT COUNT(*) FROM audit r JOIN audit a ON a.id = r.reaudit_of AND a.tenant_id = :t
WHERE r.tenant_id = :t AND r.state IN ('completed', 'moderated')
 AND r.completed_at >= :lo AND r.completed_at < :hi
 AND r.id = (SELECT MAX(o.id) FROM audit o WHERE o.reaudit_of = a.id AND o.tenant_id = :t)
"""


async def test_actions_done_and_verified_equal_plain_counts(sessions: SessionMaker) -> None:
    g = await generated_council(sessions)
    await reaudited(sessions, g)
    other = await generated_council(sessions, tenant_id=TENANT_B, seed=12)
    await reaudited(sessions, other, seed=3)
    august = month(date(2026, 8, 1))
    lo, hi = bounds(august, LONDON)
    async with sessions() as session:
        counts = await figures.counts(
            session=session, tenant_id=g.tenant_id, period=august, zone=LONDON,
            overdue=overdue_point(august, LONDON, at(date(2026, 9, 1))),
        )  # fmt: skip
        teams = await figures.teams(session=session, tenant_id=g.tenant_id)
        seen = 0
        for kind, scope_id in [("all", None), *(("team", t) for t in g.teams.values())]:
            team_ids = teams_in(teams, kind, scope_id)  # type: ignore[arg-type]
            v = digest(counts, title="", team_ids=team_ids, today=date(2026, 9, 1)).verified
            where = _teams(team_ids)
            p = {"t": g.tenant_id, "lo": lo, "hi": hi}
            assert v.reaudits == await count(session, PLAIN_REAUDITS + where, **p)
            assert v.actions == await count(
                session, PLAIN_VERIFIED + where + " AND x.state <> 'cancelled'", **p
            )
            assert v.done == await count(session, PLAIN_VERIFIED + where + DONE, **p)
            assert v.verified == await count(session, PLAIN_VERIFIED + where + VERIFIED, **p)
            seen += v.verified
        assert seen > 0


async def test_the_monthly_digest_has_themes_and_verified_and_no_case_reference(
    sessions: SessionMaker, settings: Settings
) -> None:
    g = await generated_council(sessions)
    await tick_generated(sessions, g)
    await reaudited(sessions, g)
    # The QA channel, and a personal chat with everyone.
    async with transaction(sessions) as session:
        for person in g.people.values():
            session.add(
                ConversationRef(
                    tenant_id=g.tenant_id, conversation_id=f"a:{person.id}", conversation_type="personal",
                    staff_id=person.id, service_url="https://smba.trafficmanager.net/uk/", reference={},
                )
            )  # fmt: skip
        ref = ConversationRef(
            tenant_id=g.tenant_id, conversation_id="19:qa@thread.tacv2", conversation_type="channel",
            channel_name="QA team", service_url="https://smba.trafficmanager.net/uk/", reference={},
        )  # fmt: skip
        session.add(ref)
        await session.flush()
        session.add(
            ChannelUse(tenant_id=g.tenant_id, conversation_ref_id=ref.id or 0, purpose="qa_digests")
        )
    planned = await monthly_digest(deps=deps(sessions, settings), now=at(date(2026, 9, 1), 8))
    channel = planned[0]
    text = card_text(channel.card)
    assert "Practice themes" in text and "Aug 2026" in text and "Q3 2026 (Jul–Aug)" in text
    assert "Actions done and verified by re-audit" in text
    assert len(planned) > 3
    for p in planned:
        assert len(json.dumps(p.card)) < 40_000
        assert "Practice themes" in card_text(p.card)
    async with sessions() as session:
        refs = [
            r
            for (r,) in (
                await (await session.connection()).exec_driver_sql('SELECT case_ref FROM "case"')
            ).all()
        ]
    everything = [json.dumps(p.card) + p.summary for p in planned]
    for case_ref in refs:
        assert not any(case_ref in text for text in everything), case_ref
