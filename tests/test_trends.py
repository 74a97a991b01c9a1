"""Trends (issue 13 item 7): good or better per standard per month over 12 months, by service and
team, in `stats` (a team manager's and a head of service's with small numbers hidden, QA's whole)
and the monthly digest; `stats auditors` (QA only: each auditor's grades beside all auditors');
`my learning` over HTTP for the practitioner, their team manager (`learning alex`) and someone
else (refused and audit-logged); every figure equal to plain SQL over a generated council
(declined, cancelled, reassigned, grades on audits never completed, tiny teams, managers without
a team, months with no audits) on SQLite and PostgreSQL. On a fixed clock, Thu 26 Nov 2026."""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from bot.rules.digest import (
    JUDGEMENTS,
    OVERALL,
    Period,
    bounds,
    digest,
    month,
    month_so_far,
    overdue_point,
    teams_in,
    trend_window,
)
from bot.rules.disclosure import disclose
from bot.rules.trends import auditor_grades, window_bounds
from bot.settings import Settings
from cards.common import card_size
from cards.digest import digest_card
from jobs.digest import monthly_digest
from storage import digest as figures
from storage.db import SessionMaker, transaction
from storage.models import Action, Audit, AuditTheme, ChannelUse, ConversationRef
from tests.chat import ISAIAH, LYNNE, MEGAN, NESTOR, PATTI, Chat, card_text, nodes
from tests.helpers import NOW, AuditCouncil, audit_council, logged
from tests.test_digest import deps
from tests.test_figures import LONDON, TENANT_B, Generated, count, generated_council

pytestmark = pytest.mark.clock(NOW)  # Thu 26 Nov 2026, 10:02 in London

THEMES = """# Practice themes
## assessment: Every child has an assessment
- Detailed genogram {genogram}
  Guidance: Drawing a genogram with the family | https://guidance.example.gov.uk/genogram
## heart: Children and families at the heart of everything we do
- Voice of the child recorded {voice-of-child}
"""
STANDARDS = ("heart", "assessment", "plans", "records", "oversight", "strengths")


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    themes = tmp_path / "themes.md"
    themes.write_text(THEMES, encoding="utf-8")
    return Settings(_env_file=None, database_url=database_url, themes_file=themes)  # type: ignore[call-arg]


def at(day: date, hour: int = 11) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def tables(card: dict[str, Any]) -> list[list[list[str]]]:
    """Each table of a card (also a chart's fallback) as rows of cell texts."""
    found = []
    for table in (n for n in nodes(card) if n.get("type") == "Table"):
        found.append(
            [
                [
                    "".join(
                        b.get("text") or "".join(i["text"] for i in b.get("inlines", []))
                        for b in cell["items"]
                    )
                    for cell in row["cells"]
                ]
                for row in table["rows"]
            ]
        )
    return found


def table_with(card: dict[str, Any], header: str) -> list[list[str]]:
    return next(t for t in tables(card) if t[0][0] == header)


async def graded(
    sessions: SessionMaker,
    council: AuditCouncil,
    *,
    on: date,
    overall: str,
    team: str = "North",
    case_index: int = 0,
    auditor: str = "patti",
    state: str = "completed",
    weak: tuple[str, ...] = (),
    ticks: dict[str, str] | None = None,
) -> Audit:
    """An audit of the team's case completed `on` with `overall`; each standard good but those
    in `weak` (requires improvement); ticked with `ticks`."""
    case = council.cases[team][case_index]
    async with transaction(sessions) as session:
        audit = Audit(
            tenant_id=council.tenant_id,
            case_id=case.id or 0,
            team_id=council.teams[team].id or 0,
            auditor_id=council.id(auditor),
            practitioner_id=case.worker_id,
            due_on=on,
            state=state,
            overall_grade=overall,
            completed_at=at(on) if state == "completed" else None,
            **{f"grade_{s}": "requires_improvement" if s in weak else "good" for s in STANDARDS},
        )
        session.add(audit)
        await session.flush()
        for key, finding in (ticks or {}).items():
            session.add(
                AuditTheme(
                    tenant_id=council.tenant_id,
                    audit_id=audit.id or 0,
                    standard="assessment" if key == "genogram" else "heart",
                    theme=key,
                    title={"genogram": "Detailed genogram"}.get(key, "Voice of the child"),
                    finding=finding,
                    created_by=council.id(auditor),
                )
            )
    return audit


async def a_year_of_audits(sessions: SessionMaker) -> AuditCouncil:
    """North: two audits this month (one requires improvement), four in October (plans weak in
    three), three in August; South one in October; East five in September; a declined North
    audit with grades (never counted). Alex's cases are North's even ones."""
    council = await audit_council(sessions)
    await graded(sessions, council, on=date(2026, 11, 3), overall="good", case_index=0,
                 weak=("assessment",), ticks={"genogram": "to_improve", "voice-of-child": "strength"})  # fmt: skip
    await graded(sessions, council, on=date(2026, 11, 5), overall="requires_improvement",
                 case_index=1, weak=("plans",))  # fmt: skip
    for n in range(4):
        await graded(
            sessions, council, on=date(2026, 10, 5 + n), case_index=n,
            overall="good" if n else "outstanding", weak=("plans",) if n < 3 else (),
            ticks={"genogram": "to_improve"} if n == 2 else None,
        )  # fmt: skip
    for n in range(3):
        await graded(sessions, council, on=date(2026, 8, 10 + n), overall="good", case_index=n)
    await graded(sessions, council, on=date(2026, 10, 6), overall="good", team="South",
                 auditor="diego")  # fmt: skip
    for n in range(5):
        await graded(sessions, council, on=date(2026, 9, 7 + n), team="East", auditor="joni",
                     overall="inadequate" if n == 0 else "good", case_index=n)  # fmt: skip
    await graded(sessions, council, on=date(2026, 11, 4), overall="inadequate", state="declined")
    return council


# --- stats and the digest over HTTP ---------------------------------------------------------------


async def test_qa_sees_every_month_and_standard_and_each_service(
    chat: Chat, sessions: SessionMaker
) -> None:
    await a_year_of_audits(sessions)
    card = (await chat.say("stats", who=PATTI)).card
    text = card_text(card)
    assert "Good or better over 12 months" in text
    # Everyone's: November 1 of 2 (the declined audit never counts), October 5 of 5.
    assert "Dec 2025 –" in text and "Nov 2026 50%" in text and "Oct 2026 100%" in text
    assert "Sep 2026 80%" in text
    # Where the chart does not render, a line each for overall and the standards.
    assert "Overall: Dec –; Jan –; Feb –" in text and "Aug 100%; Sep 80%; Oct 100%; Nov 50%" in text
    # October: plans requires improvement in three of North's four, South's good.
    assert "Plans: Dec –; Jan –" in text and "Oct 40%; Nov 50%" in text
    assert "Heart: Dec –; Jan –" in text and "Oct 100%; Nov 100%" in text
    chart = next(n for n in nodes(card) if n.get("type") == "Chart.Line")
    assert [d["legend"] for d in chart["data"]][:2] == ["Overall", "Heart"]
    by_service = table_with(card, "Service")
    assert by_service[1:] == [
        ["Early Help", "5", "80%", "100%", "100%", "100%", "100%", "100%", "100%"],
        ["Safeguarding", "10", "90%", "100%", "90%", "60%", "100%", "100%", "100%"],
    ]


async def test_a_team_manager_sees_small_months_hidden_and_a_head_of_service_by_team(
    chat: Chat, sessions: SessionMaker
) -> None:
    await a_year_of_audits(sessions)
    card = (await chat.say("stats", who=MEGAN)).card
    text = card_text(card)
    # November: two graded in North, fewer than 3: hidden, and so is every standard that month.
    assert "Nov 2026 fewer than 3 graded" in text
    assert "Oct 2026 100%" in text and "Aug 2026 100%" in text
    assert "Overall: Dec –" in text and "Oct 100%; Nov fewer than 3" in text
    assert "Plans: Dec –" in text and "Oct 25%; Nov fewer than 3" in text
    # One team's figures: no breakdown.
    assert not [t for t in tables(card) if t[0][0] in ("Team", "Service")]
    # The head of service: by team; South rests on one audit, hidden, and North with it.
    card = (await chat.say("stats", who=ISAIAH)).card
    by_team = table_with(card, "Team")
    assert by_team[1:] == [
        ["North", "fewer than 3", "", "", "", "", "", "", ""],
        ["South", "fewer than 3", "", "", "", "", "", "", ""],
    ]
    assert "East" not in card_text(card)


async def test_the_monthly_digest_has_the_trends_under_40_kb_with_no_case_reference(
    sessions: SessionMaker, settings: Settings
) -> None:
    council = await a_year_of_audits(sessions)
    async with transaction(sessions) as session:
        ref = ConversationRef(
            tenant_id=council.tenant_id, conversation_id="19:qa@thread.tacv2",
            conversation_type="channel", channel_name="QA team",
            service_url="https://smba.trafficmanager.net/uk/", reference={},
        )  # fmt: skip
        session.add(ref)
        await session.flush()
        session.add(
            ChannelUse(
                tenant_id=council.tenant_id, conversation_ref_id=ref.id or 0, purpose="qa_digests"
            )
        )
    planned = await monthly_digest(deps=deps(sessions, settings), now=at(date(2026, 11, 2), 8))
    card = planned[0].card
    assert "Good or better over 12 months" in card_text(card)
    assert "Overall: Nov –; Dec –" in card_text(card) and "Sep 80%; Oct 100%" in card_text(card)
    assert len(json.dumps(card)) < 40_000
    everything = json.dumps(card)
    assert not any(c.case_ref in everything for cases in council.cases.values() for c in cases)


# --- stats auditors ----------------------------------------------------------------------------------


async def test_qa_sees_each_auditor_beside_all_auditors_and_a_manager_is_refused(
    chat: Chat, sessions: SessionMaker
) -> None:
    await a_year_of_audits(sessions)
    card = (await chat.say("stats auditors", who=PATTI)).card
    rows = table_with(card, "Auditor")
    assert rows[0] == ["Auditor", "Audits", "Outst.", "Good", "RI", "Inad.", "Good+"]
    assert rows[1] == ["All auditors", "15", "7%", "80%", "7%", "7%", "87%"]
    assert rows[2:] == [
        ["Diego Siciliani", "1", "0%", "100%", "0%", "0%", "100%"],
        ["Joni Sherman", "5", "0%", "80%", "0%", "20%", "80%"],
        ["Patti Fernandez", "9", "11%", "78%", "11%", "0%", "89%"],
    ]
    # One auditor by name: a chart of theirs, with all auditors' beside it in words.
    text = card_text((await chat.say("stats auditors joni", who=PATTI)).card)
    assert "Joni Sherman: 5 audits. Outstanding 0% (all 7%); Good 80% (all 80%)" in text
    text = card_text((await chat.say("stats auditors nobody", who=PATTI)).card)
    assert "No auditor's name has “nobody” in it." in text

    answer = await chat.say("stats auditors", who=MEGAN)
    assert "not available for your role" in answer.text
    assert "Patti" not in answer.text


# --- my learning -------------------------------------------------------------------------------------


async def test_alex_sees_his_own_audits_over_time_with_themes_actions_and_links(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await a_year_of_audits(sessions)
    alex = council.id("alex")
    async with transaction(sessions) as session:
        audits = (await session.exec(select(Audit).where(Audit.practitioner_id == alex))).all()
        first = min(a.id or 0 for a in audits if a.completed_at)
        for state, due in (("open", date(2026, 11, 20)), ("open", date(2026, 12, 20)),
                           ("done", date(2026, 11, 1))):  # fmt: skip
            session.add(
                Action(
                    tenant_id=council.tenant_id, audit_id=first, what="Update the genogram",
                    measure="Seen on file", owner_id=alex, due_on=due, state=state,
                )
            )  # fmt: skip
    answer = await chat.say("my learning")
    text = answer.text
    assert "Your learning" in text
    # Alex's cases are North's 0 and 2: Nov 3, Oct 5 and 7, Aug 10 and 12 (the declined one not).
    assert "Your audits completed from Dec 2025 to 26 Nov 2026: 5 (Outstanding 1, Good 4)" in text
    assert "good or better 100%" in text
    over_time = table_with(answer.card, "Completed")
    assert [r[0] for r in over_time[1:]] == [
        "3 Nov 2026", "7 Oct 2026", "5 Oct 2026", "12 Aug 2026", "10 Aug 2026"
    ]  # fmt: skip
    assert over_time[1][1].endswith("C-10001") and over_time[1][3] == "Detailed genogram"
    assert (
        "Plans are good quality and SMART (2 audits); Every child has an assessment (1 audit)"
        in text
    )
    assert "Strengths seen: Voice of the child (1)" in text
    assert "To improve: Detailed genogram (2)" in text
    assert "Detailed genogram: Guidance: Drawing a genogram with the family" in text
    urls = [b.get("url") for b in nodes(answer.card) if b.get("type") == "Action.OpenUrl"]
    assert urls == ["https://guidance.example.gov.uk/genogram"]
    assert "2 open (1 overdue), 1 done." in text
    assert "[My actions]" in text


async def test_the_team_manager_sees_it_and_anyone_else_is_refused_and_logged(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await a_year_of_audits(sessions)
    answer = await chat.say("learning alex wilber", who=MEGAN)
    assert "Alex Wilber — their audits" in answer.text
    assert "5 (Outstanding 1, Good 4)" in answer.text
    assert "[My actions]" not in answer.text
    # By email too.
    answer = await chat.say(f"learning {council.staff['alex'].email}", who=MEGAN)
    assert "Alex Wilber" in answer.text

    for who in (LYNNE, PATTI, ISAIAH):
        answer = await chat.say("my learning alex", who=who)
        assert "for them and their team manager only" in answer.text, who
        assert "C-1" not in answer.text and "Detailed genogram" not in answer.text
    denied = await logged(sessions, "denied.my_learning")
    assert [(d.actor_id, d.entity, d.entity_id) for d in denied] == [
        (council.id(k), "staff", str(council.id("alex"))) for k in ("lynne", "patti", "isaiah")
    ]
    answer = await chat.say("learning no such person", who=MEGAN)
    assert "I can't find anyone called “no such person”" in answer.text
    # Lynne's own are hers to see; Nestor's cases had no audits.
    answer = await chat.say("my learning", who=LYNNE)
    assert "Your audits completed from Dec 2025 to 26 Nov 2026: 4 (Good 3, Requires" in answer.text
    answer = await chat.say("my learning", who=NESTOR)
    assert "No audits of your cases were completed from Dec 2025 to 26 Nov 2026." in answer.text


# --- every figure equals a plain count -------------------------------------------------------------


async def grade_generated(sessions: SessionMaker, g: Generated, seed: int = 7) -> None:
    """Each audit's standards graded at random, some left ungraded, on audits in every state
    (only completed and moderated ones count); some overall grades inadequate or removed."""
    rng = random.Random(seed)
    choices = ["outstanding", "good", "requires_improvement", "inadequate", None]
    async with transaction(sessions) as session:
        for audit in (
            await session.exec(select(Audit).where(Audit.tenant_id == g.tenant_id))
        ).all():
            for s in STANDARDS:
                setattr(audit, f"grade_{s}", rng.choice(choices))
            if rng.random() < 0.1:
                audit.overall_grade = rng.choice(["inadequate", None])
            session.add(audit)


def _column(key: str) -> str:
    return "overall_grade" if key == OVERALL else f"grade_{key}"


PLAIN = (
    "SELECT COUNT(*) FROM audit a WHERE a.tenant_id = :t AND a.state IN ('completed', 'moderated')"
    " AND a.completed_at >= :lo AND a.completed_at < :hi"
)


def _in(ids: set[int] | None) -> str:
    return (
        "" if ids is None else f" AND a.team_id IN ({', '.join(map(str, sorted(ids))) or 'NULL'})"
    )


@pytest.mark.parametrize(
    "period",
    [month_so_far(date(2026, 11, 26)), month(date(2026, 8, 1))],
    ids=["Nov so far", "August"],
)
async def test_every_trend_figure_equals_a_plain_count(
    sessions: SessionMaker, period: Period
) -> None:
    other = await generated_council(sessions, tenant_id=TENANT_B, seed=12)
    await grade_generated(sessions, other, seed=8)
    g = await generated_council(sessions)
    await grade_generated(sessions, g)
    now = at(period.end, 20)
    async with sessions() as session:
        counts = await figures.counts(
            session=session, tenant_id=g.tenant_id, period=period, zone=LONDON,
            overdue=overdue_point(period, LONDON, now),
        )  # fmt: skip
        teams = await figures.teams(session=session, tenant_id=g.tenant_id)
    window = trend_window(period)
    assert len(window) == 12 and window[-1] == month(period.start).start
    scopes: list[tuple[str, int | None]] = [("all", None)]
    scopes += [("service", s) for s in g.services.values()]
    scopes += [("team", t) for t in g.teams.values()]
    checked = nonzero = 0
    async with sessions() as session:
        for kind, scope_id in scopes:
            team_ids = teams_in(teams, kind, scope_id)  # type: ignore[arg-type]
            ids = None if team_ids is None else set(team_ids)
            d = digest(
                counts, title="", team_ids=team_ids, today=period.end,
                service_id=scope_id if kind == "service" else None,
            )  # fmt: skip
            series = {OVERALL: d.trend, **d.standard_trend}
            assert set(series) == set(JUDGEMENTS)
            for key, points in series.items():
                assert [p.month for p in points] == window
                for p in points:
                    lo, hi = bounds(month(p.month), LONDON)
                    where = PLAIN + _in(ids) + f" AND a.{_column(key)}"
                    args = {"t": g.tenant_id, "lo": lo, "hi": hi}
                    assert p.graded == await count(session, where + " IS NOT NULL", **args)
                    assert p.good_or_better == await count(
                        session, where + " IN ('outstanding', 'good')", **args
                    ), (kind, scope_id, key, p.month)
                    checked += 2
                    nonzero += bool(p.graded)
            # Each service's (everyone's) or each team's (a service's) months added up.
            lo, _ = bounds(month(window[0]), LONDON)
            _, hi = bounds(month(window[-1]), LONDON)
            expected_kind = {"all": "service", "service": "team", "team": ""}[kind]
            assert d.trend_group_kind == expected_kind
            for group in d.trend_groups:
                members = (
                    {t.id for t in teams if t.service_id == g.services[group.name]}
                    if kind == "all"
                    else {g.teams[group.name]}
                )
                for key in JUDGEMENTS:
                    where = PLAIN + _in(members) + f" AND a.{_column(key)}"
                    args = {"t": g.tenant_id, "lo": lo, "hi": hi}
                    assert group.graded[key] == await count(session, where + " IS NOT NULL", **args)
                    assert group.good_or_better[key] == await count(
                        session, where + " IN ('outstanding', 'good')", **args
                    )
                    checked += 2
            if kind != "team":
                plain_groups = 0
                for name in (g.services if kind == "all" else
                             [t.name for t in teams if t.id in (ids or set())]):  # fmt: skip
                    members = (
                        {t.id for t in teams if t.service_id == g.services[name]}
                        if kind == "all"
                        else {g.teams[name]}
                    )
                    plain_groups += bool(
                        await count(session, PLAIN + _in(members), t=g.tenant_id, lo=lo, hi=hi)
                    )
                assert len(d.trend_groups) == plain_groups
            # As anyone but QA sees it: nothing shown rests on fewer than 3.
            shown = disclose(d, below=3, for_qa=False)
            for points in (shown.trend, *shown.standard_trend.values()):
                assert all(p.hidden or p.graded == 0 or p.graded >= 3 for p in points)
            for key, points in shown.standard_trend.items():
                for p, o in zip(points, shown.trend, strict=True):
                    assert p.hidden or not o.hidden, key
            hidden = [x for x in shown.trend_groups if x.hidden]
            assert len(hidden) != 1 or len(shown.trend_groups) == 1
            for x in shown.trend_groups:
                assert x.hidden or all(
                    k in x.hidden_keys or n == 0 or n >= 3 for k, n in x.graded.items()
                )
            assert card_size(digest_card(shown)) < 40_000
    assert checked > 1000 and nonzero > 50


async def test_auditor_grades_equal_plain_counts(sessions: SessionMaker) -> None:
    other = await generated_council(sessions, tenant_id=TENANT_B, seed=12)
    await grade_generated(sessions, other, seed=8)
    g = await generated_council(sessions)
    await grade_generated(sessions, g)
    today = date(2026, 11, 26)
    lo, hi = window_bounds(today, LONDON)
    async with sessions() as session:
        rows = await figures.auditor_counts(
            session=session, tenant_id=g.tenant_id, start=lo, end=hi
        )
        view = auditor_grades(rows)
        args = {"t": g.tenant_id, "lo": lo, "hi": hi}
        for grade, n in view.everyone.counts.items():
            assert n == await count(session, PLAIN + " AND a.overall_grade = :g", g=grade, **args)
        by_name = {p.display_name: p.id for p in g.people.values()}
        assert view.auditors
        for one in view.auditors:
            for grade, n in one.counts.items():
                assert n == await count(
                    session,
                    PLAIN + " AND a.overall_grade = :g AND a.auditor_id = :a",
                    g=grade, a=by_name[one.name], **args,
                )  # fmt: skip
        # An auditor whose audits were never graded is not listed.
        graded_auditors = await count(
            session,
            "SELECT COUNT(DISTINCT a.auditor_id) FROM audit a WHERE a.tenant_id = :t"
            " AND a.state IN ('completed', 'moderated') AND a.completed_at >= :lo"
            " AND a.completed_at < :hi AND a.overall_grade IS NOT NULL",
            **args,
        )
        assert len(view.auditors) == graded_auditors
