"""Every figure equals a plain count (DESIGN §2): the digest's compliance and action totals against
SQL written here, over a generated council (hundreds of audits, declined, declined and reassigned,
cancelled; actions owned by service managers and heads of service, managers without a team, tiny
teams) and over the demo council, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.rules.digest import (
    ActionCount,
    Digest,
    Period,
    bounds,
    digest,
    local_start,
    month,
    overdue_point,
    quarter,
    teams_in,
)
from storage import allocation
from storage import digest as figures
from storage.db import SessionMaker, transaction
from storage.demo import DEMO_TENANT_ID, build_demo
from storage.models import Action, Audit, Case, Service, Staff, Team, Tenant, UTCDateTime
from tests.chat import TENANT

LONDON = ZoneInfo("Europe/London")
TENANT_B = "00000000-0000-0000-0000-0000000000002"
AUGUST = month(date(2026, 8, 1))
Q3 = quarter(2026, 3)
# The close of Q3, as the jobs on 1 October see it.
OCT_1 = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)


@dataclass
class Generated:
    tenant_id: str
    services: dict[str, int] = field(default_factory=dict)
    teams: dict[str, int] = field(default_factory=dict)
    people: dict[str, Staff] = field(default_factory=dict)
    declined_then_reassigned: int = 0
    still_declined: int = 0


def _moment(rng: random.Random, day: date) -> datetime:
    """Some time that London day, often near midnight, where local and UTC dates differ."""
    minutes = rng.choice(
        [rng.randint(0, 24 * 60 - 1), rng.randint(0, 59), 23 * 60 + rng.randint(0, 59)]
    )
    local = datetime(day.year, day.month, day.day, tzinfo=LONDON) + timedelta(minutes=minutes)
    return local.astimezone(UTC)


async def generated_council(
    sessions: SessionMaker, *, tenant_id: str = TENANT, seed: int = 11
) -> Generated:
    """Three services; five teams, two of them tiny (one and two people); service managers and
    heads of service without a team, a QA officer in no team or service; ~400 audits due June to
    October 2026 and ~500 actions, a fifth of them from no audit."""
    rng = random.Random(seed)
    g = Generated(tenant_id)
    async with transaction(sessions) as session:
        session.add(Tenant(id=tenant_id, name="Generated council"))
        await session.flush()
        for name in ("Safeguarding", "Children in care", "Early help"):
            service = Service(tenant_id=tenant_id, name=name)
            session.add(service)
            await session.flush()
            g.services[name] = service.id or 0
        for name, service, size in (
            ("North", "Safeguarding", 8),
            ("South", "Safeguarding", 6),
            ("Solo", "Safeguarding", 1),
            ("East", "Children in care", 7),
            ("Pair", "Children in care", 2),
        ):
            team = Team(tenant_id=tenant_id, service_id=g.services[service], name=name)
            session.add(team)
            await session.flush()
            g.teams[name] = team.id or 0
            for n in range(size):
                roles = "team_manager auditor" if n == 0 and size > 2 else "practitioner auditor"
                key = f"{name.lower()}{n}"
                g.people[key] = Staff(
                    tenant_id=tenant_id,
                    email=f"{key}@{tenant_id[-4:]}.example.com",
                    display_name=key.title(),
                    roles=roles,
                    team_id=team.id,
                )
        # Managers above a team: a service and no team.
        for key, roles, service in (
            ("sm_safe", "service_manager auditor", "Safeguarding"),
            ("hos_safe", "head_of_service", "Safeguarding"),
            ("sm_care", "service_manager", "Children in care"),
            ("hos_early", "head_of_service", "Early help"),
        ):
            g.people[key] = Staff(
                tenant_id=tenant_id,
                email=f"{key}@{tenant_id[-4:]}.example.com",
                display_name=key.title(),
                roles=roles,
                service_id=g.services[service],
            )
        g.people["quinn"] = Staff(
            tenant_id=tenant_id, email=f"quinn@{tenant_id[-4:]}.example.com",
            display_name="Quinn", roles="qa auditor",
        )  # fmt: skip
        for person in g.people.values():
            session.add(person)
        await session.flush()
        team_people = {
            name: [p for p in g.people.values() if p.team_id == team_id]
            for name, team_id in g.teams.items()
        }
        auditors = [p for p in g.people.values() if "auditor" in p.roles]
        cases = {}
        for name, team_id in g.teams.items():
            cases[name] = []
            for n in range(6):
                case = Case(
                    tenant_id=tenant_id,
                    case_ref=f"G-{team_id}{n:03d}{tenant_id[-1]}",
                    team_id=team_id,
                    worker_id=rng.choice(team_people[name]).id,
                )
                session.add(case)
                cases[name].append(case)
        await session.flush()

        audits: list[Audit] = []
        for _ in range(400):
            # Audits by the square of a team's size: the tiny teams have a few a quarter.
            team = rng.choices(list(g.teams), [len(team_people[t]) ** 2 for t in g.teams])[0]
            case = rng.choice(cases[team])
            due = date(2026, 6, 1) + timedelta(days=rng.randint(0, 140))
            state = rng.choices(
                ["assigned", "in_progress", "completed", "moderated", "declined", "cancelled"],
                [10, 8, 45, 10, 17, 10],
            )[0]
            audit = Audit(
                tenant_id=tenant_id,
                case_id=case.id or 0,
                team_id=g.teams[team],
                state=state,
                auditor_id=rng.choice(auditors).id or 0,
                practitioner_id=case.worker_id,
                due_on=due,
                created_at=local_start(due - timedelta(days=30), LONDON),
            )
            if state in ("completed", "moderated"):
                audit.completed_at = _moment(rng, due + timedelta(days=rng.randint(-10, 6)))
                audit.overall_grade = rng.choice(["good", "requires_improvement", "outstanding"])
            session.add(audit)
            audits.append(audit)
        await session.flush()
        # Declined audits: about half reassigned (the same audit, back to assigned with another
        # auditor), a few of those since completed; the rest never redone.
        for audit in [a for a in audits if a.state == "declined"]:
            if rng.random() < 0.5:
                other = rng.choice([p for p in auditors if p.id != audit.auditor_id])
                allocation.reassign(session, audit, actor_id=None, auditor_id=other.id or 0)
                g.declined_then_reassigned += 1
                if rng.random() < 0.4:
                    audit.state = "completed"
                    audit.completed_at = _moment(
                        rng, audit.due_on + timedelta(days=rng.randint(-3, 5))
                    )
            else:
                g.still_declined += 1
        # Audits declined first and then cancelled are neither due nor declined.
        for audit in rng.sample([a for a in audits if a.state == "assigned"], 5):
            assert await allocation.decline(
                session, audit, actor_id=audit.auditor_id, reason="Off sick"
            )
            assert await allocation.cancel(session, audit, actor_id=None, reason="Case closed")
        await session.flush()

        owners = list(g.people.values())
        for _ in range(500):
            owner = rng.choice(owners)
            audit = rng.choice(audits) if rng.random() < 0.8 else None
            created = _moment(rng, date(2026, 5, 1) + timedelta(days=rng.randint(0, 150)))
            due = (created + timedelta(days=rng.randint(3, 50))).date()
            roll = rng.random()
            done = created + timedelta(days=rng.randint(1, 60)) if roll < 0.55 else None
            cancelled = created + timedelta(days=rng.randint(1, 30)) if roll > 0.9 else None
            state = "cancelled" if cancelled else ("done" if done else "open")
            session.add(
                Action(
                    tenant_id=tenant_id,
                    audit_id=audit.id if audit else None,
                    source="audit" if audit else "meeting",
                    what="Update the plan",
                    measure="Seen on the record",
                    owner_id=owner.id or 0,
                    due_on=due,
                    state=state,
                    created_at=created,
                    done_at=done if state == "done" else None,
                    # A few cancelled without a recorded time: never overdue.
                    cancelled_at=cancelled if rng.random() < 0.9 else None,
                )
            )
    return g


# --- plain SQL ---------------------------------------------------------------------------------------


async def count(session: AsyncSession, sql: str, **params: Any) -> int:
    """One plain SQL count; timestamps bound as the columns store them."""
    statement = sa.text(sql).bindparams(
        *(
            sa.bindparam(k, type_=UTCDateTime())
            for k, v in params.items()
            if isinstance(v, datetime)
        )
    )
    result = await (await session.connection()).execute(statement, params)
    return int(result.scalar_one() or 0)


COMPLETED = "state IN ('completed', 'moderated')"


@dataclass(frozen=True)
class PlainCompliance:
    due: int
    on_time: int
    completed: int
    declined: int


async def plain_compliance(
    session: AsyncSession, tenant_id: str, period: Period, team_id: int | None = None
) -> PlainCompliance:
    team = "" if team_id is None else " AND team_id = :team"
    where = f"tenant_id = :t AND due_on >= :a AND due_on <= :b AND state <> 'cancelled'{team}"
    p = {"t": tenant_id, "a": period.start, "b": period.end} | (
        {} if team_id is None else {"team": team_id}
    )
    on_time = 0
    day = period.start
    while day <= period.end:
        on_time += await count(
            session,
            f"SELECT COUNT(*) FROM audit WHERE tenant_id = :t AND due_on = :d {team}"
            f" AND state <> 'cancelled' AND {COMPLETED} AND completed_at < :late",
            **({"t": tenant_id, "d": day, "late": local_start(day + timedelta(days=1), LONDON)}
               | ({} if team_id is None else {"team": team_id})),
        )  # fmt: skip
        day += timedelta(days=1)
    return PlainCompliance(
        await count(session, f"SELECT COUNT(*) FROM audit WHERE {where}", **p),
        on_time,
        await count(session, f"SELECT COUNT(*) FROM audit WHERE {where} AND {COMPLETED}", **p),
        await count(
            session, f"SELECT COUNT(*) FROM audit WHERE {where} AND state = 'declined'", **p
        ),
    )


ACTION_MEASURES = {
    "opened": "x.created_at >= :lo AND x.created_at < :hi",
    "closed": "x.done_at >= :lo AND x.done_at < :hi",
    "overdue": (
        "x.due_on < :as_of AND x.created_at < :cut AND (x.done_at IS NULL OR x.done_at >= :cut)"
        " AND (x.cancelled_at IS NULL OR x.cancelled_at >= :cut)"
        " AND (x.state <> 'cancelled' OR x.cancelled_at IS NOT NULL)"
    ),
}


async def plain_actions(
    session: AsyncSession,
    tenant_id: str,
    period: Period,
    now: datetime,
    where: str = "",
    **more: Any,
) -> tuple[int, int, int]:
    """Opened, done and overdue over the action table (with its audit and owner for `where`)."""
    lo, hi = bounds(period, LONDON)
    point = overdue_point(period, LONDON, now)
    params = {"t": tenant_id, "lo": lo, "hi": hi, "as_of": point.as_of, "cut": point.cutoff} | more
    found = []
    for measure in ACTION_MEASURES.values():
        sql = (
            "SELECT COUNT(*) FROM action x"
            " LEFT JOIN audit a ON a.id = x.audit_id AND a.tenant_id = :t"
            " LEFT JOIN staff s ON s.id = x.owner_id AND s.tenant_id = :t"
            " LEFT JOIN team ot ON ot.id = s.team_id AND ot.tenant_id = :t"
            f" WHERE x.tenant_id = :t AND {measure}{where}"
        )
        used = {k: v for k, v in params.items() if f":{k}" in sql}
        found.append(await count(session, sql, **used))
    return found[0], found[1], found[2]


async def counted(sessions: SessionMaker, tenant_id: str, period: Period, now: datetime) -> Any:
    async with sessions() as session:
        return await figures.counts(
            session=session,
            tenant_id=tenant_id,
            period=period,
            zone=LONDON,
            overdue=overdue_point(period, LONDON, now),
        )


def totals(d: Digest) -> tuple[int, int, int]:
    t = d.actions_total
    return t.opened, t.closed, t.overdue


# --- over generated data ------------------------------------------------------------------------------


@pytest.fixture
async def council(sessions: SessionMaker) -> Generated:
    # Another council of the same shape: none of its rows may count in this one's figures.
    await generated_council(sessions, tenant_id=TENANT_B, seed=12)
    return await generated_council(sessions)


@pytest.mark.parametrize("period", [AUGUST, Q3], ids=["August", "Q3"])
async def test_compliance_counts_declined_audits_as_due_and_not_done(
    sessions: SessionMaker, council: Generated, period: Period
) -> None:
    assert council.still_declined > 10 and council.declined_then_reassigned > 10
    counts = await counted(sessions, TENANT, period, OCT_1)
    whole = digest(counts, title="All teams", team_ids=None, today=OCT_1.date())
    async with sessions() as session:
        plain = await plain_compliance(session, TENANT, period)
        t = whole.compliance_total
        assert (t.due, t.on_time, t.completed) == (plain.due, plain.on_time, plain.completed)
        assert t.declined == plain.declined > 0
        for name, team_id in council.teams.items():
            mine = digest(counts, title=name, team_ids={team_id}, today=OCT_1.date())
            plain = await plain_compliance(session, TENANT, period, team_id)
            c = mine.compliance_total
            assert (c.due, c.on_time, c.completed) == (
                plain.due,
                plain.on_time,
                plain.completed,
            ), name
            assert c.declined == plain.declined, name


@pytest.mark.parametrize("period", [AUGUST, Q3], ids=["August", "Q3"])
async def test_action_totals_count_every_owner_by_the_team_of_their_audit(
    sessions: SessionMaker, council: Generated, period: Period
) -> None:
    counts = await counted(sessions, TENANT, period, OCT_1)
    whole = digest(counts, title="All teams", team_ids=None, today=OCT_1.date())
    async with sessions() as session:
        assert totals(whole) == await plain_actions(session, TENANT, period, OCT_1)
        for name, team_id in council.teams.items():
            mine = digest(counts, title=name, team_ids={team_id}, today=OCT_1.date())
            plain = await plain_actions(
                session, TENANT, period, OCT_1, " AND a.team_id = :team", team=team_id
            )
            assert totals(mine) == plain, name
        for name, service_id in council.services.items():
            teams = teams_in(counts.teams, "service", service_id)
            mine = digest(
                counts, title=name, team_ids=teams, service_id=service_id, today=OCT_1.date()
            )
            plain = await plain_actions(
                session,
                TENANT,
                period,
                OCT_1,
                " AND (a.team_id IN (SELECT id FROM team WHERE service_id = :svc)"
                " OR (x.audit_id IS NULL AND COALESCE(s.service_id, ot.service_id) = :svc))",
                svc=service_id,
            )
            assert totals(mine) == plain, name


def test_an_action_belongs_to_the_team_of_its_audit_else_its_owner_s_service() -> None:
    from bot.rules.digest import action_home

    assert action_home(ActionCount(7, 1, 0, 0, service_id=None)) == ("team", 7)
    assert action_home(ActionCount(None, 1, 0, 0, service_id=3)) == ("service", 3)
    assert action_home(ActionCount(None, 1, 0, 0)) is None


# --- over the demo council -----------------------------------------------------------------------------

DEMO_TODAY = date(2026, 11, 26)
DEMO_NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)


async def test_the_demo_s_figures_equal_plain_counts(sessions: SessionMaker) -> None:
    """The demo's six months and its last quarter: compliance counts its declined audits (Q3
    had three never redone), and its service managers' actions are in the totals."""
    await build_demo(sessions=sessions, today=DEMO_TODAY)
    periods = [month(date(2026, m, 1)) for m in range(6, 11)] + [Q3]
    declined = 0
    for period in periods:
        counts = await counted(sessions, DEMO_TENANT_ID, period, DEMO_NOW)
        whole = digest(counts, title="All teams", team_ids=None, today=DEMO_TODAY)
        async with sessions() as session:
            plain = await plain_compliance(session, DEMO_TENANT_ID, period)
            t = whole.compliance_total
            assert (t.due, t.on_time, t.completed) == (
                plain.due,
                plain.on_time,
                plain.completed,
            ), period.label
            assert t.declined == plain.declined, period.label
            assert totals(whole) == await plain_actions(
                session, DEMO_TENANT_ID, period, DEMO_NOW
            ), period.label
        if period == Q3:
            declined = t.declined
            assert t.on_time < t.due
    assert declined > 0


# --- one home for each rule --------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
CODE = ("bot", "cards", "jobs", "storage")


def _sources() -> dict[str, str]:
    return {
        str(path.relative_to(ROOT)): path.read_text(encoding="utf-8")
        for package in CODE
        for path in (ROOT / package).rglob("*.py")
    }


def test_compliance_on_time_suppression_and_attribution_are_each_written_once() -> None:
    """bot.rules.digest says what is due (NOT_DUE), late (on_time_cutoffs) and whose an action
    is (action_home); bot.rules.disclosure what may be shown ("fewer than", SUPPRESS_BELOW)."""
    homes = {
        "NOT_DUE = ": "bot/rules/digest.py",
        "def on_time_cutoffs": "bot/rules/digest.py",
        "def action_home": "bot/rules/digest.py",
        "SUPPRESS_BELOW = ": "bot/rules/disclosure.py",
        'f"fewer than': "bot/rules/disclosure.py",
    }
    sources = _sources()
    for text, home in homes.items():
        assert [p for p, s in sources.items() if text in s] == [home], text
    # The old definitions of "not due", spelled out again in a query, are gone.
    for path, source in sources.items():
        assert "AuditState.CANCELLED, AuditState.DECLINED" not in source, path
