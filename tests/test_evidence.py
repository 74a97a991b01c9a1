"""The evidence pack (`qaloop report evidence`, `report annual`): every figure in it equals a plain
SQL count over a generated council with awkward cases (declined, cancelled and re-allocated audits,
managers without a team, tiny teams, re-audits cancelled and made twice, a theme renamed, feedback
changed); outside QA what rests on fewer than 3 is hidden; its page loads nothing from elsewhere
and names no case; on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import random
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import typer
from sqlmodel import col, select
from typer.testing import CliRunner

from bot.rules.digest import Period, bounds, local_start, span, trend_window, year
from bot.rules.disclosure import hidden_cells
from bot.rules.evidence import (
    TREND_KEYS,
    Evidence,
    ReauditGroup,
    TrackedGroup,
    areas_for_improvement,
    reaudit_outcomes,
)
from bot.rules.grades import Standard
from bot.rules.reaudit import Change
from bot.services.evidence import load_evidence, to_html
from storage.db import SessionMaker, transaction
from storage.models import (
    Action,
    ActionMeeting,
    Audit,
    AuditTheme,
    Briefing,
    Case,
    Feedback,
    FeedbackVersion,
    Moderation,
    Staff,
    Tenant,
)
from tests.chat import TENANT
from tests.test_figures import (
    LONDON,
    TENANT_B,
    Generated,
    _moment,
    count,
    generated_council,
    plain_actions,
)
from tests.test_reports import Tags

SUMMER = span(date(2026, 6, 15), date(2026, 9, 20))
SUMMER_NOW = datetime(2026, 10, 1, 8, tzinfo=UTC)
YEAR = year(2026)
YEAR_NOW = datetime(2027, 1, 4, 9, tzinfo=UTC)
GRADES = ("outstanding", "good", "requires_improvement", "inadequate")
THEMES = (
    ("voice", "heart", "Voice of the child"),
    ("chronology", "records", "Chronology up to date"),
    ("supervision", "oversight", "Reflective supervision"),
    ("contingency", "plans", "Contingency plans"),
    ("family-network", "strengths", "Family network"),
)
COMPLETED = "state IN ('completed', 'moderated')"


async def evidence_council(
    sessions: SessionMaker, *, tenant_id: str = TENANT, seed: int = 11
) -> Generated:
    """tests.test_figures' council (declined, reassigned and cancelled audits, managers above a
    team, a one-person and a two-person team), graded on every standard, with inadequate audits
    and what followed them, team manager and thematic audits, a team manager with no team, theme
    ticks, feedback, moderation, targets and briefings."""
    g = await generated_council(sessions, tenant_id=tenant_id, seed=seed)
    rng = random.Random(seed * 7)
    async with transaction(sessions) as session:
        tenant = await session.get(Tenant, tenant_id)
        assert tenant is not None
        tenant.target_collaborative, tenant.target_team_manager = 30, 2
        floating = Staff(
            tenant_id=tenant_id, email=f"floating@{tenant_id[-4:]}.example.com",
            display_name="Floating", roles="team_manager auditor",
        )  # fmt: skip
        session.add(floating)
        await session.flush()
        audits = (await session.exec(select(Audit).where(Audit.tenant_id == tenant_id))).all()
        done = [a for a in audits if a.state in ("completed", "moderated")]
        inadequate = []
        for audit in done:
            audit.kind = rng.choices(
                ["collaborative", "thematic", "team_manager", "senior_manager"], [6, 2, 1, 1]
            )[0]
            if audit.kind == "team_manager" and rng.random() < 0.4:
                audit.auditor_id = floating.id or 0
            for s in Standard:
                # A standard left ungraded now and then.
                grade = None if rng.random() < 0.05 else rng.choice(GRADES)
                setattr(audit, f"grade_{s.value}", grade)
            if rng.random() < 0.12:
                audit.overall_grade = "inadequate"
                completed_on = audit.completed_at.astimezone(LONDON).date()  # type: ignore[union-attr]
                audit.meeting_due_on = completed_on + timedelta(days=4)
                inadequate.append(audit)
            session.add(audit)
        await session.flush()
        cases = {
            c.id: c
            for c in (await session.exec(select(Case).where(Case.tenant_id == tenant_id))).all()
        }
        auditors = [p for p in g.people.values() if "auditor" in p.roles]
        for n, audit in enumerate(inadequate):
            if n % 3 == 0:
                session.add(
                    ActionMeeting(
                        tenant_id=tenant_id, audit_id=audit.id or 0,
                        held_on=audit.meeting_due_on + timedelta(days=rng.randint(-2, 3)),  # type: ignore[operator]
                        attendees="SW, TM", recorded_by=audit.auditor_id,
                    )
                )  # fmt: skip
            # Its actions: SMART ones on a standard or none, the meeting and the visit (not counted).
            for source, standard in (
                ("audit", rng.choice([s.value for s in Standard])),
                ("audit", rng.choice([s.value for s in Standard])),
                ("meeting", None),
                ("action_meeting", None),
                ("child_visit", None),
            ):
                state = rng.choice(["open", "done", "confirmed", "cancelled"])
                created = audit.completed_at or SUMMER_NOW
                session.add(
                    Action(
                        tenant_id=tenant_id, audit_id=audit.id, source=source, standard=standard,
                        what="Update the plan", measure="Seen on the record",
                        owner_id=audit.practitioner_id or audit.auditor_id,
                        due_on=created.date() + timedelta(days=10), state=state, created_at=created,
                        done_at=created + timedelta(days=5) if state in ("done", "confirmed") else None,
                        cancelled_at=created + timedelta(days=2) if state == "cancelled" else None,
                    )
                )  # fmt: skip
            # Its re-audit: none made, cancelled, still to do, done; one made twice (the latest
            # is the one that counts).
            kind = n % 5
            if kind == 0:
                continue
            states = {
                1: ["cancelled"],
                2: ["assigned"],
                3: ["completed"],
                4: ["cancelled", "completed"],
            }
            for state in states[kind]:
                again = Audit(
                    tenant_id=tenant_id, case_id=audit.case_id, team_id=cases[audit.case_id].team_id,
                    state=state, auditor_id=rng.choice(auditors).id or 0,
                    due_on=audit.due_on + timedelta(days=90), reaudit_of=audit.id,
                    created_at=audit.completed_at or SUMMER_NOW,
                )  # fmt: skip
                if state == "completed":
                    again.completed_at = _moment(rng, again.due_on)
                    for s in Standard:
                        setattr(again, f"grade_{s.value}", rng.choice((*GRADES, None)))
                    again.overall_grade = rng.choice(GRADES)
                session.add(again)
        ticks = itertools.count(1)
        for audit in done:
            for key, standard, title in rng.sample(THEMES, rng.randint(0, 3)):
                session.add(
                    AuditTheme(
                        tenant_id=tenant_id, audit_id=audit.id or 0, standard=standard, theme=key,
                        # Renamed in the themes file after five ticks: the newer name shows.
                        title="Hearing the child" if key == "voice" and next(ticks) > 5 else title,
                        finding=rng.choice(["strength", "to_improve", "to_improve"]),
                        created_by=audit.auditor_id,
                    )
                )  # fmt: skip
            if audit.practitioner_id and rng.random() < 0.6:
                feedback = Feedback(
                    tenant_id=tenant_id, audit_id=audit.id or 0,
                    practitioner_id=audit.practitioner_id,
                )  # fmt: skip
                session.add(feedback)
                await session.flush()
                for version in range(1, rng.choice((2, 2, 3))):
                    session.add(
                        FeedbackVersion(
                            tenant_id=tenant_id, feedback_id=feedback.id or 0, version=version,
                            involved=rng.randint(1, 5), helped_see_good=rng.randint(1, 5),
                            understand_grade=rng.randint(1, 5), actions_clear=rng.randint(1, 5),
                        )
                    )  # fmt: skip
            if rng.random() < 0.2:
                decided = (audit.completed_at or SUMMER_NOW) + timedelta(days=rng.randint(3, 20))
                agreed = rng.random() < 0.8
                session.add(
                    Moderation(
                        tenant_id=tenant_id, audit_id=audit.id or 0, moderator_id=auditors[0].id or 0,
                        month="2026-08",
                        agreement={k: rng.random() < 0.85 for k in TREND_KEYS} if agreed else None,
                        decided_at=decided if agreed else None,
                    )
                )  # fmt: skip
        for n, published in enumerate(
            [datetime(2026, 6, 9, 9, tzinfo=UTC), datetime(2026, 7, 14, 9, tzinfo=UTC),
             datetime(2026, 9, 20, 23, 30, tzinfo=UTC), None]
        ):  # fmt: skip
            session.add(
                Briefing(
                    tenant_id=tenant_id, title=f"Briefing {n + 1}", read="Five minutes.",
                    state="published" if published else "draft", published_at=published,
                )
            )  # fmt: skip
    return g


# --- plain SQL ---------------------------------------------------------------------------------------


def _in(period: Period) -> dict[str, Any]:
    lo, hi = bounds(period, LONDON)
    return {"t": TENANT, "lo": lo, "hi": hi}


DONE_IN = f"a.tenant_id = :t AND a.{COMPLETED} AND a.completed_at >= :lo AND a.completed_at < :hi"
INADEQUATE_IN = f"{DONE_IN} AND a.overall_grade = 'inadequate'"
LATEST = "r.id = (SELECT MAX(r2.id) FROM audit r2 WHERE r2.reaudit_of = a.id AND r2.tenant_id = :t)"
RANK = "CASE {c} WHEN 'outstanding' THEN 0 WHEN 'good' THEN 1 WHEN 'requires_improvement' THEN 2 WHEN 'inadequate' THEN 3 END"


def _column(key: str) -> str:
    return "overall_grade" if key == "overall" else f"grade_{key}"


async def plain_pack(sessions: SessionMaker, period: Period, now: datetime) -> dict[str, Any]:
    """The pack's figures, each counted by a statement of its own over the tables."""
    p = _in(period)
    good = "('outstanding', 'good')"
    found: dict[str, Any] = {}
    async with sessions() as session:
        for key in TREND_KEYS:
            for grade in GRADES:
                found["grade", key, grade] = await count(
                    session,
                    f"SELECT COUNT(*) FROM audit a WHERE {DONE_IN} AND a.{_column(key)} = :g",
                    g=grade, **p,
                )  # fmt: skip
        window = trend_window(period, 12)
        for first in window:
            after = date(first.year + first.month // 12, first.month % 12 + 1, 1)
            m = {"t": TENANT, "lo": local_start(first, LONDON), "hi": local_start(after, LONDON)}
            for key in TREND_KEYS:
                c = f"a.{_column(key)}"
                found["trend", key, first] = (
                    await count(session, f"SELECT COUNT(*) FROM audit a WHERE {DONE_IN} AND {c} IS NOT NULL", **m),
                    await count(session, f"SELECT COUNT(*) FROM audit a WHERE {DONE_IN} AND {c} IN {good}", **m),
                )  # fmt: skip
        services = (await (await session.connection()).execute(sa.text("SELECT id, name FROM service WHERE tenant_id = :t"), {"t": TENANT})).all()  # fmt: skip
        for service_id, name in services:
            inside = "a.team_id IN (SELECT id FROM team WHERE service_id = :s)"
            found["service", name] = (
                await count(session, f"SELECT COUNT(*) FROM audit a WHERE {DONE_IN} AND {inside} AND a.overall_grade IS NOT NULL", s=service_id, **p),
                await count(session, f"SELECT COUNT(*) FROM audit a WHERE {DONE_IN} AND {inside} AND a.overall_grade IN {good}", s=service_id, **p),
            )  # fmt: skip
        for kind in ("collaborative", "thematic", "senior_manager", "team_manager"):
            found["programme", kind] = await count(
                session,
                f"SELECT COUNT(*) FROM audit a WHERE {DONE_IN} AND a.kind = :k",
                k=kind,
                **p,
            )
        found["feedback audits"] = await count(
            session, f"SELECT COUNT(*) FROM audit a WHERE {DONE_IN} AND a.practitioner_id IS NOT NULL", **p
        )  # fmt: skip
        found["responses"] = await count(
            session,
            f"SELECT COUNT(*) FROM audit a JOIN feedback f ON f.audit_id = a.id WHERE {DONE_IN}"
            " AND a.practitioner_id IS NOT NULL"
            " AND EXISTS (SELECT 1 FROM feedbackversion v WHERE v.feedback_id = f.id)",
            **p,
        )
        decided = (
            await (await session.connection()).execute(
                sa.select(Moderation.agreement).where(
                    col(Moderation.tenant_id) == TENANT,
                    col(Moderation.agreement).is_not(None),
                    col(Moderation.decided_at) >= p["lo"],
                    col(Moderation.decided_at) < p["hi"],
                )
            )
        ).scalars().all()  # fmt: skip
        for key in TREND_KEYS:
            found["moderation", key] = (
                sum(1 for a in decided if a.get(key) is True),
                sum(1 for a in decided if a.get(key) is not None),
            )
        found["actions"] = await plain_actions(session, TENANT, period, now)
        # Done on time, worked out in Python from each action done in the period.
        rows = (
            await (await session.connection()).execute(
                sa.select(Action.due_on, Action.done_at).where(
                    col(Action.tenant_id) == TENANT,
                    col(Action.done_at) >= p["lo"],
                    col(Action.done_at) < p["hi"],
                )
            )
        ).all()
        found["done on time"] = sum(1 for due, at in rows if at.astimezone(LONDON).date() <= due)
        found["inadequate"] = await count(
            session, f"SELECT COUNT(*) FROM audit a WHERE {INADEQUATE_IN}", **p
        )
        found["no re-audit"] = await count(
            session,
            f"SELECT COUNT(*) FROM audit a WHERE {INADEQUATE_IN} AND NOT EXISTS"
            " (SELECT 1 FROM audit r WHERE r.reaudit_of = a.id AND r.tenant_id = :t)",
            **p,
        )
        latest = f"SELECT COUNT(*) FROM audit a JOIN audit r ON {LATEST} WHERE {INADEQUATE_IN}"
        found["re-audit cancelled"] = await count(
            session, f"{latest} AND r.state = 'cancelled'", **p
        )
        found["re-audit done"] = await count(session, f"{latest} AND r.{COMPLETED}", **p)
        found["re-audit due"] = await count(
            session, f"{latest} AND r.state NOT IN ('cancelled', 'completed', 'moderated')", **p
        )
        found["no longer inadequate"] = await count(
            session, f"{latest} AND r.{COMPLETED} AND r.overall_grade IN ('outstanding', 'good', 'requires_improvement')", **p
        )  # fmt: skip
        for s in Standard:
            before, after = RANK.format(c=f"a.grade_{s.value}"), RANK.format(c=f"r.grade_{s.value}")
            found["improved", s.value] = await count(
                session, f"{latest} AND r.{COMPLETED} AND {after} < {before}", **p
            )
            found["worse", s.value] = await count(
                session, f"{latest} AND r.{COMPLETED} AND {after} > {before}", **p
            )
        tracked = (
            "SELECT COUNT(*) FROM action x JOIN audit a ON a.id = x.audit_id"
            f" WHERE x.tenant_id = :t AND {INADEQUATE_IN}"
            " AND x.source NOT IN ('action_meeting', 'child_visit')"
        )
        found["tracked"] = await count(session, f"{tracked} AND x.state <> 'cancelled'", **p)
        found["tracked done"] = await count(
            session, f"{tracked} AND x.state IN ('done', 'confirmed')", **p
        )
        grade_of = (
            "CASE x.standard "
            + " ".join(f"WHEN '{s.value}' THEN r.grade_{s.value}" for s in Standard)
            + " END"
        )
        found["verified"] = await count(
            session,
            f"{tracked} AND x.state IN ('done', 'confirmed') AND EXISTS (SELECT 1 FROM audit r"
            f" WHERE {LATEST} AND r.{COMPLETED} AND {grade_of} IS NOT NULL AND {grade_of} <> 'inadequate')",
            **p,
        )  # fmt: skip
        for key, _, _ in THEMES:
            for finding in ("to_improve", "strength"):
                found["theme", key, finding] = await count(
                    session,
                    "SELECT COUNT(*) FROM audittheme x JOIN audit a ON a.id = x.audit_id"
                    f" WHERE x.tenant_id = :t AND {DONE_IN} AND x.theme = :k AND x.finding = :f",
                    k=key, f=finding, **p,
                )  # fmt: skip
        found["briefings"] = await count(
            session,
            "SELECT COUNT(*) FROM briefing WHERE tenant_id = :t AND state = 'published'"
            " AND published_at >= :lo AND published_at < :hi",
            **p,
        )
    return found


def _pack_figures(e: Evidence) -> dict[str, Any]:
    d = e.digest
    r = e.reaudits
    found: dict[str, Any] = {}
    for key in TREND_KEYS:
        for grade, n in d.grades.of(key):
            found["grade", key, grade.value] = n
    for t in e.trends:
        for point in t.points:
            found["trend", t.key, point.month] = (point.graded, point.good_or_better)
    for s in e.services:
        found["service", s.name] = (s.graded, s.good_or_better)
    for p in d.programmes:
        found["programme", p.kind.value] = p.completed
    found["feedback audits"] = d.feedback.audits
    found["responses"] = d.feedback.responses
    for a in d.by_standard:
        found["moderation", a.name] = (a.agreed, a.judged)
    t = d.actions_total
    found["actions"] = (t.opened, t.closed, t.overdue)
    found["done on time"] = e.done_on_time
    found["inadequate"] = d.meetings.inadequate
    found["no re-audit"] = r.none_made
    found["re-audit cancelled"] = r.cancelled
    found["re-audit done"] = r.done
    found["re-audit due"] = r.due
    found["no longer inadequate"] = r.no_longer_inadequate
    for s in Standard:
        found["improved", s.value] = r.changes[s.value][Change.IMPROVED]
        found["worse", s.value] = r.changes[s.value][Change.WORSE]
    found["tracked"] = r.actions
    found["tracked done"] = r.actions_done
    found["verified"] = r.actions_verified
    for theme in e.themes:
        found["theme", theme.theme, "to_improve"] = theme.to_improve
        found["theme", theme.theme, "strength"] = theme.strengths
    found["briefings"] = len(e.briefings)
    return found


@pytest.fixture
async def council(sessions: SessionMaker) -> Generated:
    # Another council of the same shape: none of its rows may count in this one's figures.
    await evidence_council(sessions, tenant_id=TENANT_B, seed=12)
    return await evidence_council(sessions)


@pytest.mark.parametrize(
    ("period", "now"), [(SUMMER, SUMMER_NOW), (YEAR, YEAR_NOW)], ids=["span", "year"]
)
async def test_every_figure_in_the_pack_equals_a_plain_count(
    sessions: SessionMaker, council: Generated, period: Period, now: datetime
) -> None:
    e, _ = await load_evidence(
        sessions=sessions, tenant_id=TENANT, period=period, zone=LONDON, now=now, below=3,
        for_qa=True,
    )  # fmt: skip
    plain = await plain_pack(sessions, period, now)
    pack = _pack_figures(e)
    # A theme never ticked in the period is not in the pack: its plain counts are nought.
    for key, _, _ in THEMES:
        for finding in ("to_improve", "strength"):
            pack.setdefault(("theme", key, finding), 0)
    # A judgement no moderator made is not listed.
    for key in TREND_KEYS:
        pack.setdefault(("moderation", key), (0, 0))
    assert {k: pack.get(k) for k in plain} == plain
    # The awkward cases are there to be counted.
    assert plain["inadequate"] >= 5 and plain["verified"] > 0 and plain["no re-audit"] > 0
    assert plain["re-audit cancelled"] > 0 and plain["re-audit due"] > 0
    assert plain["programme", "team_manager"] > 0
    # The renamed theme reads by its newer name.
    assert {t.title for t in e.themes if t.theme == "voice"} == {"Hearing the child"}


async def test_outside_qa_what_rests_on_fewer_than_3_is_hidden(
    sessions: SessionMaker, council: Generated
) -> None:
    whole, _ = await load_evidence(
        sessions=sessions, tenant_id=TENANT, period=SUMMER, zone=LONDON, now=SUMMER_NOW,
        below=3, for_qa=True,
    )  # fmt: skip
    shown, _ = await load_evidence(
        sessions=sessions, tenant_id=TENANT, period=SUMMER, zone=LONDON, now=SUMMER_NOW, below=3
    )
    # The tiny teams' compliance and any month of a standard or service graded on 1 or 2.
    assert any(c.hidden for c in shown.digest.compliance)
    for before, after in zip(whole.trends, shown.trends, strict=True):
        for b, a in zip(before.points, after.points, strict=True):
            if 0 < b.graded < 3:
                assert a.hidden and a.graded == 0
    for before, after in zip(whole.services, shown.services, strict=True):
        for b, a in zip(before.trend, after.trend, strict=True):
            if 0 < b.graded < 3:
                assert a.hidden
    for t in shown.themes:
        assert t.to_improve == 0 or t.to_improve >= 3
        assert t.strengths == 0 or t.strengths >= 3
    # Each re-audit outcome shown rests on 3 or more, and never one alone is hidden.
    r = shown.reaudits
    for part in ("done", "due", "cancelled", "none_made"):
        assert part in r.hidden_parts or getattr(r, part) == 0 or getattr(r, part) >= 3
    assert len({"done", "due", "cancelled", "none_made"} & r.hidden_parts) != 1
    # The areas named come from figures as shown.
    assert all(a.kind in ("standard", "theme") for a in shown.areas)


async def test_the_page_loads_nothing_from_elsewhere_and_names_no_case(
    sessions: SessionMaker, council: Generated
) -> None:
    e, deadlines = await load_evidence(
        sessions=sessions, tenant_id=TENANT, period=YEAR, zone=LONDON, now=YEAR_NOW, below=3
    )
    page = to_html(e, made_on=YEAR_NOW.date(), title="Annual QA report", deadlines=deadlines)
    parser = Tags()
    parser.feed(page)
    parser.close()
    assert parser.problems == [] and parser.stack == []
    assert parser.seen.count("svg") >= 4 and "polyline" in parser.seen
    for question in ("What do we know", "How do we know it?", "What are we doing about it?"):
        assert question in page
    assert "Named areas for improvement" in page and "@media print" in page
    # Self-contained: no script, stylesheet, frame, image or font fetched, no link to follow.
    assert not re.search(r"""(?i)\b(src|href|action|data)\s*=""", page)
    assert not re.search(r"(?i)<(script|link|iframe|img|object|embed|base)\b|@import|url\(", page)
    assert not re.search(r"(?i)https?://(?!www\.w3\.org/2000/svg\")", page)
    async with sessions() as session:
        refs = (await session.exec(select(Case.case_ref))).all()
    assert refs and not any(ref in page for ref in refs)


def test_the_commands_write_the_page(
    council: Generated, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.cli_reports import report_app

    app = typer.Typer()
    app.add_typer(report_app, name="report")
    monkeypatch.setenv("QALOOP_DATABASE_URL", database_url)
    monkeypatch.delenv("QALOOP_APP_TENANT_ID", raising=False)
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "pack.html"
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "report",
            "evidence",
            "--from",
            "2026-06-15",
            "--to",
            "2026-09-20",
            "--out",
            str(out),
            "--tenant",
            TENANT,
        ],
    )
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert "QA evidence pack: 15 June 2026 to 20 September 2026" in page
    # Two councils in the database: which one must be said.
    result = runner.invoke(app, ["report", "annual", "--year", "2026"])
    assert result.exit_code == 2 and "Which tenant?" in result.output
    result = runner.invoke(app, ["report", "annual", "--year", "2026", "--tenant", TENANT])
    assert result.exit_code == 0, result.output
    assert "Annual QA report: 2026" in result.stdout
    # Bad input: a clear message, and nothing written.
    for args, said in (
        (["--from", "2026-09-20", "--to", "2026-06-15"], "--to is before --from"),
        (["--from", "2026-06-15", "--to", "15/09/2026"], "wants a date"),
        (["--from", "2026-06-15", "--to", "2999-01-01"], "can't be after today"),
    ):
        result = runner.invoke(app, ["report", "evidence", *args, "--tenant", TENANT])
        assert result.exit_code == 2 and said in result.output, result.output


# --- the rules on their own ------------------------------------------------------------------------------


def test_a_re_audit_s_outcome_and_verified_actions_follow_the_one_definition() -> None:
    inadequate = {s.value: "inadequate" for s in Standard} | {"overall": "inadequate"}
    better = {s.value: "good" for s in Standard} | {"overall": "requires_improvement"}
    r = reaudit_outcomes(
        [
            ReauditGroup("completed", inadequate, better, 2),
            ReauditGroup("moderated", inadequate, inadequate, 1),
            ReauditGroup("assigned", inadequate, {}, 1),
            ReauditGroup(None, inadequate, {}, 3),
        ],
        [
            TrackedGroup("done", "plans", "completed", "good", 4),
            TrackedGroup("confirmed", "plans", "completed", "inadequate", 1),
            # Not verified: open, no standard, a re-audit not yet done.
            TrackedGroup("open", "plans", "completed", "good", 2),
            TrackedGroup("done", None, "completed", None, 1),
            TrackedGroup("done", "heart", "assigned", None, 1),
            TrackedGroup("cancelled", "heart", None, None, 5),
        ],
    )
    assert (r.audits, r.done, r.due, r.none_made, r.no_longer_inadequate) == (7, 3, 1, 3, 2)
    assert r.changes["plans"][Change.IMPROVED] == 2 and r.changes["plans"][Change.SAME] == 1
    assert (r.actions, r.actions_done, r.actions_verified) == (9, 7, 4)


def test_a_hidden_cell_alone_takes_the_smallest_other_with_it() -> None:
    assert hidden_cells([5, 1, 4], 3) == {1, 2}
    assert hidden_cells([5, 7, 4], 3, already={0}) == {0, 2}
    assert hidden_cells([5, 7, 4], 3) == set()


def test_the_areas_named_are_the_weakest_standards_and_most_ticked_themes() -> None:
    from bot.rules.digest import Digest, FeedbackFigures, GradeMix, Meetings, month
    from bot.rules.evidence import ReauditOutcomes, ThemeFigure

    counts = {s.value: {"good": 8, "inadequate": 2} for s in Standard}
    counts["records"] = {"good": 3, "inadequate": 7}
    counts["plans"] = {"good": 5, "inadequate": 5}
    d = Digest(
        "All teams", month(date(2026, 8, 1)), [], GradeMix(counts), [],
        Meetings(0, 0, 0, 0, 0), [], FeedbackFigures(0, 0, {}), [], [], [],
    )  # fmt: skip
    themes = [
        ThemeFigure("records", "a", "Chronology", 9, 0),
        ThemeFigure("heart", "b", "Voice", 0, 0, to_improve_hidden=True),
        ThemeFigure("plans", "c", "Contingency", 4, 2),
    ]
    e = Evidence(d, [], [], 0, ReauditOutcomes(0, 0, 0, 0, 0, 0, {}, 0, 0, 0), themes, [])
    areas = areas_for_improvement(e)
    assert [(a.kind, a.name) for a in areas] == [
        ("standard", "Records are clear and accessible"),
        ("standard", "Plans are good quality and SMART"),
        ("theme", "Chronology"),
        ("theme", "Contingency"),
    ]
    assert areas[0].why == "30% good or better"
