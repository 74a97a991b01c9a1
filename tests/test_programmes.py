"""The audit programme (issue 14 item 2): senior manager and team manager audits allocated from the
cases the collaborative picks leave, a TM never given their own team's case; each programme's
progress on the digest equal to a plain SQL count over audit (declined, cancelled, reassigned
audits, a TM with no team), on SQLite and PostgreSQL; the targets and the closed-case setting set
from the command line, bad input refused with nothing changed; the compliance line says why
audits were cancelled."""

from __future__ import annotations

import asyncio
import random
from datetime import date, timedelta
from pathlib import Path

from sqlmodel import col, select
from typer import Typer
from typer.testing import CliRunner

from bot.cli_tenant import tenant_app
from bot.rules import allocation as rules
from bot.rules.digest import Counts, digest, overdue_point, teams_in
from bot.rules.disclosure import disclose
from bot.rules.grades import AuditKind
from bot.rules.programmes import PROGRAMMES, ProgrammeCount, Targets
from cards.common import card_json
from cards.digest import compliance_line, digest_card
from storage import allocation, tenants
from storage import digest as figures
from storage.db import SessionMaker, make_engine, make_sessions, transaction
from storage.migrate import upgrade
from storage.models import Audit, AuditLog, Staff, Tenant
from tests.chat import TENANT, card_text
from tests.test_figures import AUGUST, LONDON, OCT_1, count, generated_council

# --- allocation ---------------------------------------------------------------------------------------


def _generated_month(rng: random.Random) -> tuple[list[rules.Candidate], list[rules.Manager]]:
    """Two to six teams of one to five workers with up to six cases each; a TM in most teams,
    sometimes two, sometimes a TM with no team, or one who works a case of their own."""
    candidates: list[rules.Candidate] = []
    managers: list[rules.Manager] = []
    next_id = 1000
    for team in range(1, rng.randint(2, 6) + 1):
        workers = list(range(team * 100, team * 100 + rng.randint(1, 5)))
        for _ in range(2):
            if rng.random() < 0.8:
                # Sometimes the TM holds cases: they are one of the team's workers.
                tm = rng.choice(workers) if rng.random() < 0.3 else (next_id := next_id + 1)
                managers.append(rules.Manager(tm, team, AuditKind.TEAM_MANAGER, rng.randint(0, 3)))
        for n in range(rng.randint(0, 6)):
            candidates.append(
                rules.Candidate(team * 1000 + n, f"C-{team}{n:03d}", team, rng.choice(workers))
            )
    if rng.random() < 0.5:
        managers.append(rules.Manager(next_id + 1, None, AuditKind.TEAM_MANAGER))
    for n in range(rng.randint(0, 3)):
        managers.append(rules.Manager(9000 + n, None, AuditKind.SENIOR_MANAGER, rng.randint(0, 2)))
    return candidates, managers


def test_no_team_manager_is_ever_given_their_own_team_s_case() -> None:
    made = {AuditKind.TEAM_MANAGER: 0, AuditKind.SENIOR_MANAGER: 0}
    for seed in range(400):
        rng = random.Random(seed)
        candidates, managers = _generated_month(rng)
        auditors = [rules.Auditor(id=1, team_id=None), rules.Auditor(id=2, team_id=1)]
        per_team, per_tm, senior = rng.randint(0, 2), rng.randint(0, 3), rng.randint(0, 4)
        chosen = rules.plan(
            candidates,
            auditors,
            per_team=per_team,
            seed=str(seed),
            managers=managers,
            per_team_manager=per_tm,
            senior_manager=senior,
        )
        by_id = {m.id: m for m in managers}
        for pick in chosen.programme:
            manager = by_id[pick.auditor_id or 0]
            assert manager.kind is pick.kind, seed
            assert pick.case.worker_id != manager.id, seed
            if pick.kind is AuditKind.TEAM_MANAGER:
                assert pick.case.team_id != manager.team_id, seed
            made[pick.kind] += 1
        every = [p.case.case_id for p in (*chosen.picks, *chosen.programme)]
        assert len(every) == len(set(every)), f"a case picked twice, seed {seed}"
        tms = [m for m in managers if m.kind is AuditKind.TEAM_MANAGER]
        tm_picks = [p for p in chosen.programme if p.kind is AuditKind.TEAM_MANAGER]
        short = chosen.programme_short
        assert len(tm_picks) + short.get(AuditKind.TEAM_MANAGER, 0) == per_tm * len(tms), seed
        sm_picks = [p for p in chosen.programme if p.kind is AuditKind.SENIOR_MANAGER]
        assert len(sm_picks) + short.get(AuditKind.SENIOR_MANAGER, 0) == senior, seed
        # The programme never changes the collaborative picks the same seed gives.
        alone = rules.plan(candidates, auditors, per_team=per_team, seed=str(seed))
        assert alone.picks == chosen.picks, seed
        again = rules.plan(
            list(reversed(candidates)),
            auditors,
            per_team=per_team,
            seed=str(seed),
            managers=list(reversed(managers)),
            per_team_manager=per_tm,
            senior_manager=senior,
        )
        assert again.programme == chosen.programme, f"not reproducible, seed {seed}"
    # The generator gave the rule something to do.
    assert made[AuditKind.TEAM_MANAGER] > 200 and made[AuditKind.SENIOR_MANAGER] > 100, made


# --- progress against plain SQL -------------------------------------------------------------------

DONE_IN = (
    "a.tenant_id = :t AND a.kind = :k AND a.state IN ('completed', 'moderated') "
    "AND a.completed_at >= :a AND a.completed_at < :b"
)
TEAM_MANAGERS = (
    "SELECT COUNT(*) FROM staff WHERE tenant_id = :t AND active = TRUE "
    "AND (' ' || roles || ' ') LIKE '% team_manager %'"
)


async def _programme_council(sessions: SessionMaker) -> dict[str, int]:
    """The generated council's audits spread over the four programmes (and multi-agency, in none);
    team manager audits by its TMs, one with no team and one who has left; one TM audit declined
    and reassigned to another TM, then completed; targets set."""
    g = await generated_council(sessions)
    rng = random.Random(5)
    async with transaction(sessions) as session:
        floating = Staff(
            tenant_id=TENANT, email="floating@example.com", display_name="Floating TM",
            roles="team_manager auditor",
        )  # fmt: skip
        gone = Staff(
            tenant_id=TENANT, email="gone@example.com", display_name="Gone TM",
            roles="team_manager", team_id=g.teams["East"], active=False,
        )  # fmt: skip
        session.add_all([floating, gone])
        await session.flush()
        tms = [p for p in g.people.values() if "team_manager" in p.roles] + [floating, gone]
        audits = list((await session.exec(select(Audit).where(Audit.tenant_id == TENANT))).all())
        kinds = [*PROGRAMMES, AuditKind.MULTI_AGENCY]
        for audit in audits:
            audit.kind = rng.choice(kinds).value
            if audit.kind == AuditKind.TEAM_MANAGER:
                audit.auditor_id = rng.choice(tms).id or 0
            session.add(audit)
        moved = next(
            a for a in audits if a.kind == AuditKind.TEAM_MANAGER and a.state == "assigned"
        )
        moved.due_on = date(2026, 8, 14)
        assert await allocation.decline(session, moved, actor_id=moved.auditor_id, reason="Busy")
        allocation.reassign(session, moved, actor_id=None, auditor_id=floating.id or 0)
        moved.state = "completed"
        moved.completed_at = OCT_1 - timedelta(days=45)
        session.add(moved)
        await tenants.set_targets(
            session,
            tenant_id=TENANT,
            chosen=Targets(collaborative=20, thematic=4, senior_manager=6, team_manager=2),
            actor_id=None,
        )
    return g.teams


async def test_each_programme_s_progress_equals_a_plain_count_over_audit(
    sessions: SessionMaker,
) -> None:
    teams = await _programme_council(sessions)
    async with sessions() as session:
        counts = await figures.counts(
            session=session,
            tenant_id=TENANT,
            period=AUGUST,
            zone=LONDON,
            overdue=overdue_point(AUGUST, LONDON, OCT_1),
        )
        start, end = (
            figures.local_start(AUGUST.start, LONDON),
            figures.local_start(AUGUST.end + timedelta(days=1), LONDON),
        )
        p = {"t": TENANT, "a": start, "b": end}
        scopes: list[tuple[str, set[int] | None]] = [
            ("all", None),
            ("North", {teams["North"]}),
            ("East", {teams["East"]}),
            ("Safeguarding", teams_in(counts.teams, "service", counts.teams[0].service_id)),
        ]
        checked = 0
        for name, team_ids in scopes:
            shown = {
                row.kind: row
                for row in digest(
                    counts, title=name, team_ids=team_ids, today=OCT_1.date()
                ).programmes
            }
            for kind in (AuditKind.COLLABORATIVE, AuditKind.THEMATIC, AuditKind.SENIOR_MANAGER):
                # The council's programmes: the council's count in every scope.
                plain = await count(
                    session, f"SELECT COUNT(*) FROM audit a WHERE {DONE_IN}", k=kind.value, **p
                )
                assert shown[kind].completed == plain, (name, kind)
                assert shown[kind].target == Targets(20, 4, 6, 2).of(kind)
                checked += plain
            tm = (
                ""
                if team_ids is None
                else f" AND s.team_id IN ({', '.join(map(str, sorted(team_ids)))})"
            )
            plain_tm = await count(
                session,
                f"SELECT COUNT(*) FROM audit a JOIN staff s ON s.id = a.auditor_id WHERE {DONE_IN}{tm}",
                k=AuditKind.TEAM_MANAGER.value,
                **p,
            )
            in_scope = (
                ""
                if team_ids is None
                else f" AND team_id IN ({', '.join(map(str, sorted(team_ids)))})"
            )
            managers = await count(session, TEAM_MANAGERS + in_scope, t=TENANT)
            assert shown[AuditKind.TEAM_MANAGER].completed == plain_tm, name
            assert shown[AuditKind.TEAM_MANAGER].target == 2 * managers, name
            checked += plain_tm
        # The TM with no team counts in everyone's figures (their reassigned audit too), and in
        # no team's; the TM who left is no longer in any target.
        everyone = {
            r.kind: r
            for r in digest(counts, title="", team_ids=None, today=OCT_1.date()).programmes
        }
        assert everyone[AuditKind.TEAM_MANAGER].target == 2 * 4
        no_team = await count(
            session,
            f"SELECT COUNT(*) FROM audit a JOIN staff s ON s.id = a.auditor_id WHERE {DONE_IN} AND s.team_id IS NULL",
            k=AuditKind.TEAM_MANAGER.value,
            **p,
        )
        assert no_team >= 1
        assert checked > 20

        # Cancelled audits due in August, by why, as the compliance line says them.
        whole = digest(counts, title="", team_ids=None, today=OCT_1.date())
        for cancelled in whole.cancelled:
            plain = await count(
                session,
                "SELECT COUNT(*) FROM audit WHERE tenant_id = :t AND state = 'cancelled' "
                "AND due_on >= :a AND due_on <= :b AND COALESCE(cancelled_reason, 'no reason recorded') = :r",
                t=TENANT, a=AUGUST.start, b=AUGUST.end, r=cancelled.reason,
            )  # fmt: skip
            assert cancelled.count == plain
        total = await count(
            session,
            "SELECT COUNT(*) FROM audit WHERE tenant_id = :t AND state = 'cancelled' "
            "AND due_on >= :a AND due_on <= :b",
            t=TENANT, a=AUGUST.start, b=AUGUST.end,
        )  # fmt: skip
        assert sum(c.count for c in whole.cancelled) == total > 0


def test_the_compliance_line_says_why_audits_were_cancelled_and_hides_a_few() -> None:
    counts = Counts(
        period=AUGUST,
        trend_months=[],
        teams=[],
        compliance=[figures.ComplianceCount(7, 4, 3, 3)],
        cancelled=[
            figures.CancelledCount(7, "case closed", 3),
            figures.CancelledCount(7, "case transferred", 1),
        ],
        programmes=[ProgrammeCount(AuditKind.COLLABORATIVE, 7, 5)],
        targets=Targets(collaborative=8, thematic=2),
    )
    whole = digest(counts, title="All teams", team_ids=None, today=date(2026, 9, 1))
    assert compliance_line(whole).endswith(
        "; 3 cancelled: case closed; 1 cancelled: case transferred."
    )
    shown = card_text(card_json(digest_card(whole)))
    assert "Collaborative: 5 of 8 completed (62%)" in shown
    assert "Thematic: 0 of 2 completed (0%)" in shown
    assert "Senior manager: 0 completed (no target set)" in shown
    # Beyond QA: one cancelled audit, or two completed, would be someone's.
    told = disclose(whole, below=3, for_qa=False)
    assert compliance_line(told).endswith(
        "; 3 cancelled: case closed; fewer than 3 cancelled: case transferred."
    )
    few = Counts(
        period=AUGUST, trend_months=[], teams=[],
        programmes=[ProgrammeCount(AuditKind.TEAM_MANAGER, 7, 2)],
        targets=Targets(team_manager=1), team_managers=[7, None],
    )  # fmt: skip
    mine = disclose(
        digest(few, title="Team", team_ids={7}, today=date(2026, 9, 1)), below=3, for_qa=False
    )
    assert "Team manager: fewer than 3 of 1 completed" in card_text(card_json(digest_card(mine)))


# --- the command line ----------------------------------------------------------------------------


def _app() -> Typer:
    app = Typer()
    app.add_typer(tenant_app, name="tenant")
    return app


def _run(url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        _app(), ["tenant", *args, "--tenant", TENANT], env={"QALOOP_DATABASE_URL": url}
    )
    return result.exit_code, " ".join(result.output.split())


async def _stored(url: str) -> tuple[Tenant, list[AuditLog]]:
    engine = make_engine(url)
    try:
        async with make_sessions(engine)() as session:
            tenant = await session.get(Tenant, TENANT)
            assert tenant is not None
            logged = (
                await session.exec(select(AuditLog).where(col(AuditLog.event).like("tenant.%_set")))
            ).all()
            return tenant, list(logged)
    finally:
        await engine.dispose()


async def _add_tenant(url: str) -> None:
    engine = make_engine(url)
    try:
        async with transaction(make_sessions(engine)) as session:
            session.add(Tenant(id=TENANT, name="Test Council"))
    finally:
        await engine.dispose()


def test_the_targets_and_the_closed_case_setting_are_set_from_the_command_line(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'qaloop.db'}"
    upgrade(url)
    asyncio.run(_add_tenant(url))

    code, shown = _run(url, "targets")
    assert code == 0, shown
    assert "Collaborative audits: no target." in shown
    assert "Team manager audits: no target." in shown

    code, said = _run(
        url, "targets", "--collaborative", "-1", "--team-manager", "21", "--thematic", "3"
    )
    assert code == 2, said
    assert "Nothing was changed" in said
    assert "collaborative: The target must be from 0 (none) to 500, not -1." in said
    assert "team-manager: The target must be from 0 (none) to 20, not 21." in said
    code, said = _run(url, "closed-case-actions", "archive")
    assert code == 2, said
    assert "Nothing was changed: the setting must be keep or close, not 'archive'." in said
    tenant, logged = asyncio.run(_stored(url))
    assert (tenant.target_collaborative, tenant.target_thematic, tenant.target_team_manager) == (
        0,
        0,
        0,
    )
    assert tenant.closed_case_actions == "keep"
    assert logged == []

    code, said = _run(url, "targets", "--senior-manager", "6", "--team-manager", "2")
    assert code == 0, said
    assert "Senior manager audits: 6 a month." in said
    assert "Team manager audits: 2 a month for each team manager." in said
    code, said = _run(url, "closed-case-actions", "Close")
    assert code == 0, said
    assert "When a case closes, its open actions are cancelled" in said
    tenant, logged = asyncio.run(_stored(url))
    assert (tenant.target_senior_manager, tenant.target_team_manager, tenant.target_thematic) == (
        6,
        2,
        0,
    )
    assert tenant.closed_case_actions == "close"
    assert [row.event for row in logged] == ["tenant.targets_set", "tenant.closed_case_actions_set"]
    assert logged[0].after == (logged[0].before or {}) | {
        "target_senior_manager": 6,
        "target_team_manager": 2,
    }
    assert logged[1].before == {"closed_case_actions": "keep"}
