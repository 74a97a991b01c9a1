"""The month's random allocation: reproducible from its seed, stratified by team, spread across
workers, auditors balanced by load and kept off their own team's cases; the candidates it draws
from; and `qaloop allocate` (dry run, the real thing, a month already allocated, --reassign)."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlmodel import col, select

from bot.rules.allocation import (
    Auditor,
    Candidate,
    fingerprint,
    last_working_day,
    months_before,
    parse_month,
    plan,
)
from storage import allocation as store
from storage.db import SessionMaker, transaction
from storage.models import Allocation, Audit, Case, Staff
from tests.chat import Chat
from tests.helpers import (
    NOW,
    AuditCouncil,
    add_assigned_audit,
    assigned,
    audit_council,
    audit_row,
    audits,
    everyone_says_hello,
    logged,
    qaloop,
    queued,
)

pytestmark = pytest.mark.clock(NOW)  # Thu 26 Nov 2026, 10:02 in London


def cases(teams: int = 3, workers: int = 3, per_worker: int = 4) -> list[Candidate]:
    """Case ids 1..n; team t's workers are 100*t + w."""
    made: list[Candidate] = []
    for team in range(1, teams + 1):
        for worker in range(workers):
            for n in range(per_worker):
                made.append(
                    Candidate(
                        case_id=len(made) + 1,
                        case_ref=f"C-{team}{worker}{n:03d}",
                        team_id=team,
                        worker_id=100 * team + worker,
                    )
                )
    return made


AUDITORS = [Auditor(id=1, team_id=1), Auditor(id=2, team_id=2), Auditor(id=3, team_id=3)]


# The pure rules


def test_the_same_seed_and_inputs_give_the_same_picks_in_any_order() -> None:
    candidates = cases()
    shuffled = random.Random(7).sample(candidates, len(candidates))

    first = plan(candidates, AUDITORS, per_team=3, seed="20261201")
    again = plan(shuffled, list(reversed(AUDITORS)), per_team=3, seed="20261201")
    other = plan(candidates, AUDITORS, per_team=3, seed="20261202")

    assert first == again
    assert first.fingerprint == fingerprint(shuffled)
    assert [p.case for p in first.picks] != [p.case for p in other.picks]
    assert first.fingerprint == other.fingerprint


def test_the_fingerprint_changes_when_the_candidates_do() -> None:
    candidates = cases()
    assert fingerprint(candidates) != fingerprint(candidates[1:])
    assert len(fingerprint(candidates)) == 64


def test_picks_are_stratified_by_team_and_short_teams_are_reported() -> None:
    candidates = [*cases(teams=2), Candidate(999, "C-99999", team_id=3, worker_id=300)]

    chosen = plan(candidates, AUDITORS, per_team=4, seed="s")

    assert Counter(p.case.team_id for p in chosen.picks) == {1: 4, 2: 4, 3: 1}
    assert chosen.short == {3: 3}
    assert len({p.case.case_id for p in chosen.picks}) == len(chosen.picks)


def test_picks_are_spread_across_workers_before_anyone_gets_a_second() -> None:
    for seed in map(str, range(20)):
        chosen = plan(cases(teams=1, workers=3), AUDITORS, per_team=5, seed=seed)
        per_worker = Counter(p.case.worker_id for p in chosen.picks)
        assert sorted(per_worker.values()) == [1, 2, 2], seed


def test_no_auditor_gets_their_own_team_s_case_while_another_can_take_it() -> None:
    for seed in map(str, range(20)):
        chosen = plan(cases(), AUDITORS, per_team=3, seed=seed)
        assert all(p.auditor_id != p.case.team_id for p in chosen.picks), seed


def test_a_practitioner_never_audits_their_own_case_even_in_their_own_team() -> None:
    # Team 1's only auditor also works one of its cases; nobody else audits.
    worker = Auditor(id=100, team_id=1)
    mine = Candidate(1, "C-1000", team_id=1, worker_id=100)
    theirs = Candidate(2, "C-1001", team_id=1, worker_id=101)

    chosen = plan([mine, theirs], [worker], per_team=2, seed="x")

    by_case = {p.case.case_id: p.auditor_id for p in chosen.picks}
    assert by_case == {1: None, 2: 100}


def test_auditors_are_balanced_by_their_open_load() -> None:
    busy = [Auditor(id=1, team_id=None, load=4), Auditor(id=2, team_id=None, load=0)]
    candidates = cases(teams=2, workers=2)

    chosen = plan(candidates, busy, per_team=3, seed="load")

    given = Counter(p.auditor_id for p in chosen.picks)
    assert given == {2: 5, 1: 1}  # 2 catches up to 4 first, then they alternate
    even = plan(
        candidates, [Auditor(1, None), Auditor(2, None), Auditor(3, None)], per_team=3, seed="e"
    )
    assert sorted(Counter(p.auditor_id for p in even.picks).values()) == [2, 2, 2]


def test_months_and_due_dates() -> None:
    assert parse_month("2026-12") == date(2026, 12, 1)
    assert parse_month("2026-13") is None and parse_month("2026-1") is None
    assert parse_month("December") is None
    assert last_working_day(date(2026, 12, 1)) == date(2026, 12, 31)
    assert last_working_day(date(2026, 5, 1)) == date(2026, 5, 29)  # 31st is a Sunday
    assert last_working_day(date(2027, 8, 1)) == date(2027, 8, 31)
    assert last_working_day(date(2026, 8, 1)) == date(2026, 8, 28)  # 31st: bank holiday Monday
    assert months_before(date(2026, 12, 1), 12) == date(2025, 12, 1)
    assert months_before(date(2026, 3, 1), 3) == date(2025, 12, 1)


# The candidates, from the database


async def add_audit_at(
    sessions: SessionMaker,
    council: AuditCouncil,
    *,
    team: str,
    index: int,
    created: datetime,
    state: str = "completed",
    completed: datetime | None = None,
) -> None:
    audit = await add_assigned_audit(
        sessions, council, team=team, case_index=index, due_on=created.date(), state=state
    )
    async with transaction(sessions) as session:
        row = await session.get(Audit, audit.id)
        assert row is not None
        row.created_at, row.completed_at = created, completed
        session.add(row)


async def test_cases_audited_within_the_window_are_left_out(sessions: SessionMaker) -> None:
    council = await audit_council(sessions, cases_per_team=4)
    # Allocating December 2026 with 12 months: audits since 1 Dec 2025 count.

    def at(year: int, month: int, day: int) -> datetime:
        return datetime(year, month, day, 12, tzinfo=UTC)

    await add_audit_at(sessions, council, team="North", index=0, created=at(2025, 12, 2))
    await add_audit_at(sessions, council, team="North", index=1, created=at(2025, 11, 28))
    await add_audit_at(
        sessions, council, team="North", index=2, created=at(2025, 6, 1), completed=at(2026, 1, 5)
    )
    await add_audit_at(
        sessions, council, team="South", index=0, created=at(2026, 10, 1), state="cancelled"
    )
    async with transaction(sessions) as session:
        closed = council.cases["East"][0]
        row = await session.get(Case, closed.id)
        assert row is not None
        row.status = "closed"
        session.add(row)
        session.add(
            Case(
                tenant_id=council.tenant_id,
                case_ref="C-40001",
                team_id=council.teams["East"].id or 0,
            )
        )

    async with sessions() as session:
        twelve = await store.candidates(
            session=session, tenant_id=council.tenant_id, since=date(2025, 12, 1)
        )
        none = await store.candidates(
            session=session, tenant_id=council.tenant_id, since=date(2026, 12, 1)
        )
        elsewhere = await store.candidates(
            session=session, tenant_id="another", since=date(2025, 12, 1)
        )

    refs = {c.case_ref for c in twelve}
    assert "C-10001" not in refs  # audited in the window
    assert "C-10002" in refs  # audited just before it
    assert "C-10003" not in refs  # completed in the window
    assert "C-20001" in refs  # that audit was cancelled
    assert "C-30001" not in refs and "C-40001" not in refs  # closed; no worker
    assert len(refs) == 12 - 3
    assert {c.case_ref for c in none} == refs | {"C-10001", "C-10003"}
    assert elsewhere == []


async def test_auditors_their_open_load_and_who_is_away_through_the_due_date(
    sessions: SessionMaker,
) -> None:
    council = await audit_council(sessions)
    async with transaction(sessions) as session:
        diego = await session.get(Staff, council.id("diego"))
        patti = await session.get(Staff, council.id("patti"))
        assert diego is not None and patti is not None
        diego.away_until = date(2026, 12, 31)  # through the due date: given nothing
        patti.away_until = date(2026, 12, 30)  # back on the due date: still in the pool
    await add_assigned_audit(sessions, council, auditor="joni", due_on=date(2026, 12, 18))
    await add_assigned_audit(
        sessions,
        council,
        auditor="joni",
        case_index=1,
        due_on=date(2026, 12, 18),
        state="completed",
    )

    async with sessions() as session:
        pool, away = await store.auditor_pool(
            session=session, tenant_id=council.tenant_id, due_on=date(2026, 12, 31)
        )

    assert {a.id: a.load for a in pool} == {
        council.id("alex"): 0,
        council.id("joni"): 1,
        council.id("patti"): 0,
    }
    assert [s.id for s in away] == [council.id("diego")]


# qaloop allocate


async def test_a_dry_run_prints_the_plan_and_seed_writes_nothing_and_repeats_itself(
    sessions: SessionMaker, database_url: str, tmp_path: Path
) -> None:
    council = await audit_council(sessions)
    args = ("allocate", "--month", "2026-12", "--per-team", "2", "--seed", "4242", "--dry-run")

    first = await qaloop(database_url, tmp_path, *args, "--tenant", council.tenant_id)
    again = await qaloop(database_url, tmp_path, *args, "--tenant", council.tenant_id)

    assert first.code == 0, first.err
    assert first.out == again.out
    assert "Seed: 4242" in first.said and "Dry run: nothing was stored or sent." in first.said
    assert "6 cases from 18 candidates" in first.said
    assert first.said.count("2026-12-31") == 6
    async with sessions() as session:
        assert (await session.exec(select(Allocation))).all() == []
    assert await audits(sessions) == []


async def test_an_auditor_away_through_the_due_date_is_given_none_and_is_named(
    sessions: SessionMaker, database_url: str, tmp_path: Path
) -> None:
    council = await audit_council(sessions)
    async with transaction(sessions) as session:
        diego = await session.get(Staff, council.id("diego"))
        assert diego is not None
        diego.away_until = date(2027, 1, 8)
    args = ("allocate", "--month", "2026-12", "--per-team", "2", "--seed", "4242")

    ran = await qaloop(database_url, tmp_path, *args, "--tenant", council.tenant_id)

    assert ran.code == 0, ran.err
    assert "Away until 31 Dec or later, so given none: Diego Siciliani" in ran.said
    made = await audits(sessions)
    assert len(made) == 6 and council.id("diego") not in {a.auditor_id for a in made}


async def test_allocate_stores_the_seed_and_fingerprint_creates_audits_and_sends_the_cards(
    chat: Chat, sessions: SessionMaker, database_url: str, tmp_path: Path
) -> None:
    council = await audit_council(sessions)
    await everyone_says_hello(chat)
    args = ("allocate", "--month", "2026-12", "--per-team", "2", "--tenant", council.tenant_id)
    planned = await qaloop(database_url, tmp_path, *args, "--seed", "77", "--dry-run")

    ran = await qaloop(database_url, tmp_path, *args, "--seed", "77", "--exclude-months", "6")

    assert ran.code == 0, ran.err
    assert "Allocated 6 audits for 2026-12" in ran.said
    assert ran.out.split("Seed:")[0] == planned.out.split("Seed:")[0]  # the same picks
    async with sessions() as session:
        [allocation] = (await session.exec(select(Allocation))).all()
    assert (allocation.month, allocation.seed, allocation.per_team) == ("2026-12", "77", 2)
    assert allocation.excluded_months == 6 and len(allocation.candidate_fingerprint) == 64
    made = await audits(sessions)
    assert len(made) == 6
    assert {a.allocation_id for a in made} == {allocation.id}
    assert {(a.kind, a.state, a.due_on) for a in made} == {
        ("collaborative", "assigned", date(2026, 12, 31))
    }
    teams = {t.id: name for name, t in council.teams.items()}
    assert Counter(teams[a.team_id] for a in made) == {"North": 2, "South": 2, "East": 2}
    auditors = {council.id(k): k for k in ("alex", "diego", "joni", "patti")}
    for audit in made:
        assert audit.auditor_id != audit.practitioner_id
        assert auditors[audit.auditor_id] != "alex" or teams[audit.team_id] != "North"
    assert sorted(Counter(a.auditor_id for a in made).values()) in ([1, 1, 2, 2], [1, 2, 3])
    assigned_cards = await queued(sessions, "audit_assigned")
    assert len(assigned_cards) == 6
    assert all(d.summary == "You have a new audit to do" for d in assigned_cards)
    copies = await queued(sessions, "audit_assigned_copy")
    assert all("C-" not in d.summary for d in copies)
    [created] = await logged(sessions, "allocation.created")
    assert created.after is not None and created.after["seed"] == "77"
    assert len(await logged(sessions, "audit.created")) == 6

    refused = await qaloop(database_url, tmp_path, *args)

    assert refused.code == 1
    assert "2026-12 is already allocated" in refused.said and "seed 77" in refused.said
    assert len(await audits(sessions)) == 6
    shown_again = await qaloop(
        database_url, tmp_path, *args, "--seed", "77", "--exclude-months", "6", "--dry-run"
    )
    assert shown_again.out.split("Seed:")[0] == planned.out.split("Seed:")[0]
    assert "the candidates are unchanged since" in shown_again.said


async def test_without_a_seed_one_is_made_and_printed(
    sessions: SessionMaker, database_url: str, tmp_path: Path
) -> None:
    council = await audit_council(sessions)

    ran = await qaloop(
        database_url,
        tmp_path,
        "allocate",
        "--month",
        "2027-01",
        "--dry-run",
        "--tenant",
        council.tenant_id,
    )

    assert ran.code == 0, ran.err
    seed = ran.said.split("Seed: ")[1].split()[0]
    assert seed.isdigit()


async def test_allocate_refuses_a_bad_month(
    sessions: SessionMaker, database_url: str, tmp_path: Path
) -> None:
    council = await audit_council(sessions)

    ran = await qaloop(
        database_url, tmp_path, "allocate", "--month", "Dec", "--tenant", council.tenant_id
    )

    assert ran.code == 2 and "--month as YYYY-MM" in ran.said


async def test_allocate_reassign_gives_an_audit_to_the_least_loaded_or_the_named_auditor(
    chat: Chat, sessions: SessionMaker, database_url: str, tmp_path: Path
) -> None:
    council = await audit_council(sessions)
    await everyone_says_hello(chat)
    audit_id = await assigned(sessions, council, auditor="diego", state="declined")
    await add_assigned_audit(
        sessions, council, team="South", auditor="joni", due_on=date(2026, 12, 18)
    )
    base = ("allocate", "--tenant", council.tenant_id, "--reassign", str(audit_id))

    own_case = await qaloop(database_url, tmp_path, *base, "--to", "alexw@example.com")
    least = await qaloop(database_url, tmp_path, *base)

    assert own_case.code == 1 and "can't take audit" in own_case.said
    assert least.code == 0, least.err
    assert f"Audit #{audit_id} reassigned to Patti Fernandez (who had 0 open)" in least.said
    row = await audit_row(sessions, audit_id)
    assert (row.state, row.auditor_id) == ("assigned", council.id("patti"))
    [moved] = await logged(sessions, "audit.reassigned")
    assert moved.actor_id is None

    named = await qaloop(database_url, tmp_path, *base, "--to", "JONIS@example.com")

    assert named.code == 0, named.err
    assert (await audit_row(sessions, audit_id)).auditor_id == council.id("joni")
    to_joni = [
        d
        for d in await queued(sessions, "audit_assigned")
        if d.recipient_staff_id == council.id("joni")
    ]
    assert len(to_joni) == 1
    async with sessions() as session:
        rows = (await session.exec(select(Audit).order_by(col(Audit.id)))).all()
    assert len(rows) == 2


async def test_audit_new_from_the_command_line(
    chat: Chat, sessions: SessionMaker, database_url: str, tmp_path: Path
) -> None:
    council = await audit_council(sessions)
    await everyone_says_hello(chat)
    due = date.today().replace(day=1)
    due = date(due.year + (due.month // 12), due.month % 12 + 1, 1)
    due = last_working_day(due)
    args = (
        "audit",
        "new",
        "--case",
        "C-20001",
        "--kind",
        "thematic",
        "--tenant",
        council.tenant_id,
    )

    no_theme = await qaloop(
        database_url, tmp_path, *args, "--auditor", "jonis@example.com", "--due", due.isoformat()
    )
    made = await qaloop(
        database_url,
        tmp_path,
        *args,
        "--theme",
        "MASH strategy meetings",
        "--auditor",
        "jonis@example.com",
        "--due",
        due.isoformat(),
    )

    assert no_theme.code == 1 and "A thematic audit needs a theme" in no_theme.said
    assert made.code == 0, made.err
    assert "created. Cards queued for Joni Sherman, Diego Siciliani, Nestor Wilke." in made.said
    [audit] = await audits(sessions)
    assert (audit.kind, audit.theme, audit.due_on) == ("thematic", "MASH strategy meetings", due)
    [created] = await logged(sessions, "audit.created")
    assert created.actor_id is None


async def test_audit_cancel_from_the_command_line(
    sessions: SessionMaker, database_url: str, tmp_path: Path
) -> None:
    council = await audit_council(sessions)
    audit_id = await assigned(sessions, council, auditor="diego")
    base = ("audit", "cancel", str(audit_id), "--tenant", council.tenant_id)

    no_reason = await qaloop(database_url, tmp_path, *base, "--reason", "  ")
    cancelled = await qaloop(database_url, tmp_path, *base, "--reason", "Case closed")
    again = await qaloop(database_url, tmp_path, *base, "--reason", "Case closed")

    assert no_reason.code == 2 and "give a reason" in no_reason.said
    assert cancelled.code == 0, cancelled.err
    assert f"Audit #{audit_id} cancelled." in cancelled.said
    assert again.code == 1 and "already cancelled" in again.said
    assert (await audit_row(sessions, audit_id)).state == "cancelled"
    [logged_cancel] = await logged(sessions, "audit.cancelled")
    assert logged_cancel.actor_id is None and logged_cancel.after is not None
    assert logged_cancel.after["reason"] == "Case closed"
