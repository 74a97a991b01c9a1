"""A big council for the benchmarks, built fast with SQLAlchemy core executemany, cached by version.

Tenant A (the tests' TENANT) holds 5k staff / 15k cases / 50k audits / 150k actions at full size;
tenant B is small and reuses the targets' Entra ids, so a lookup that forgot its tenant would show.
Each of the `TARGETS` people owns exactly 50 open actions in tenant A (some overdue, some due today,
most later, most linked to an audit of a case) and 40 in tenant B.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import random
import shutil
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

from storage.migrate import MIGRATIONS, head_revision, upgrade
from storage.models import Action, Audit, Case, Service, Staff, Team, Tenant
from tests.chat import ALEX, TENANT

# Bump when the data below changes; the head revision is part of the cache key too.
SEED_VERSION = "my-actions-3"

TENANT_B = "00000000-0000-0000-0000-0000000000002"
# A Wednesday without bank holidays nearby, so due-date wording is stable.
TODAY = date(2026, 3, 11)
# Before that day's 09:00 reminders run: each bench client's first message is then a plain
# `my actions` turn (after the run, a chat's first message also brings the day's card).
NOW = datetime(2026, 3, 11, 8, 0, tzinfo=UTC)

TARGETS = 8
TARGET_OPEN = 50
TARGET_OPEN_B = 40

FULL = {"staff": 5_000, "cases": 15_000, "audits": 50_000, "actions": 150_000, "teams": 50}
SMALL_B = {"staff": 60, "cases": 200, "audits": 500, "actions": 1_500, "teams": 3}

STANDARDS = ("heart", "assessment", "plans", "records", "oversight", "strengths")
_PHRASES = (
    "Update the child's plan so that every action has an owner and a date",
    "Record the outcome of the last home visit, including the child's own words",
    "Arrange a core group meeting and invite the school nurse and the family support worker",
    "Complete the chronology from referral to now and share it with the team manager",
    "Make sure the genogram reflects the current household and wider family network",
    "Write up supervision notes and link them to the case record",
    "Review the safety plan with the family and record who agreed to what",
    "Seek the child's views through direct work before the next review",
)
_MEASURES = (
    "Seen on the case record",
    "The team manager confirms it in supervision",
    "The plan is uploaded and the family has a copy",
    "The next audit finds it in place",
    "Minutes of the meeting are on file",
)


@dataclass(frozen=True)
class Target:
    aad: str
    email: str
    name: str


@dataclass(frozen=True)
class Seeded:
    url: str
    path: Path
    tenant_id: str
    targets: tuple[Target, ...]
    counts: dict[str, int]
    seconds: float
    cached: bool


def targets() -> tuple[Target, ...]:
    first = Target(ALEX.aad, ALEX.email, ALEX.name)
    rest = tuple(
        Target(
            f"00000000-0000-0000-0000-1000000000{i:02d}", f"target{i}@example.com", f"Target {i}"
        )
        for i in range(1, TARGETS)
    )
    return (first, *rest)


def sizes(scale: float) -> dict[str, int]:
    return {k: max(int(v * scale), 1) for k, v in FULL.items()}


def _texts(rng: random.Random) -> tuple[list[str], list[str]]:
    whats = []
    for i in range(300):
        parts = rng.sample(_PHRASES, rng.randint(1, 3))
        whats.append(f"{'. '.join(parts)}. (ref {i})")
    measures = [f"{rng.choice(_MEASURES)}." for _ in range(50)]
    return whats, measures


def _chunks(rows: Iterable[dict[str, Any]], size: int = 20_000) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class _Ids:
    """Explicit primary keys, so rows can point at each other without reading back."""

    def __init__(self) -> None:
        self._next: dict[str, int] = {}

    def take(self, table: str, n: int) -> range:
        start = self._next.get(table, 1)
        self._next[table] = start + n
        return range(start, start + n)


def _tenant_rows(
    conn: sa.Connection,
    ids: _Ids,
    rng: random.Random,
    *,
    tenant_id: str,
    size: dict[str, int],
    target_open: int,
    whats: list[str],
    measures: list[str],
) -> dict[str, int]:
    def ins(model: Any, rows: Iterable[dict[str, Any]]) -> None:
        for chunk in _chunks(rows):
            conn.execute(sa.insert(model.__table__), chunk)

    created = NOW - timedelta(days=400)
    ins(
        Tenant,
        [
            {
                "id": tenant_id,
                "name": f"Council {tenant_id[-1]}",
                "timezone": "Europe/London",
                "created_at": created,
            }
        ],
    )

    n_services = max(size["teams"] // 10, 1)
    service_ids = ids.take("service", n_services)
    ins(
        Service,
        [
            {"id": s, "tenant_id": tenant_id, "name": f"Service {i}"}
            for i, s in enumerate(service_ids)
        ],
    )
    team_ids = ids.take("team", size["teams"])
    ins(
        Team,
        [
            {
                "id": t,
                "tenant_id": tenant_id,
                "service_id": service_ids[i % n_services],
                "name": f"Team {i}",
            }
            for i, t in enumerate(team_ids)
        ],
    )

    staff_ids = ids.take("staff", size["staff"])
    tgts = targets()
    target_ids = list(staff_ids[: len(tgts)])
    staff_rows = []
    for i, sid in enumerate(staff_ids):
        if i < len(tgts):
            aad, email, name, roles = (
                tgts[i].aad,
                tgts[i].email,
                tgts[i].name,
                "auditor practitioner",
            )
        else:
            aad = f"{tenant_id[:8]}-aad-{i:06d}"
            email, name = f"person{i}@{tenant_id[-1]}.example.com", f"Person {i}"
            roles = rng.choice(
                ("practitioner", "practitioner", "practitioner auditor", "team_manager")
            )
        staff_rows.append(
            {
                "id": sid, "tenant_id": tenant_id, "email": email, "display_name": name,
                "aad_object_id": aad, "roles": roles, "team_id": team_ids[i % len(team_ids)],
                "manager_id": None, "working_days": "12345", "away_until": None,
                "reachable": True, "unreachable_since": None, "active": True, "created_at": created,
            }
        )  # fmt: skip
    ins(Staff, staff_rows)
    others = list(staff_ids[len(tgts) :])

    case_ids = ids.take("case", size["cases"])
    case_team = {c: team_ids[i % len(team_ids)] for i, c in enumerate(case_ids)}
    ins(
        Case,
        [
            {
                "id": c, "tenant_id": tenant_id, "case_ref": f"C-{100000 + i}{tenant_id[-1]}",
                "team_id": case_team[c], "worker_id": rng.choice(staff_ids), "status": "open",
                "opened_on": TODAY - timedelta(days=rng.randint(30, 900)),
            }
            for i, c in enumerate(case_ids)
        ],
    )  # fmt: skip

    audit_ids = ids.take("audit", size["audits"])
    audit_states = ("completed",) * 6 + ("moderated", "assigned", "in_progress", "declined")

    def audit_rows() -> Iterator[dict[str, Any]]:
        for a in audit_ids:
            case = rng.choice(case_ids)
            state = rng.choice(audit_states)
            due = TODAY - timedelta(days=rng.randint(-30, 700))
            done = state in ("completed", "moderated")
            yield {
                "id": a, "tenant_id": tenant_id, "case_id": case, "team_id": case_team[case],
                "kind": "collaborative", "theme": None, "state": state,
                "auditor_id": rng.choice(staff_ids), "practitioner_id": rng.choice(staff_ids),
                "allocation_id": None, "due_on": due,
                "overall_grade": rng.choice(("good", "requires_improvement", "outstanding")) if done else None,
                "risk_identified": False,
                "created_at": datetime.combine(due - timedelta(days=20), datetime.min.time(), UTC),
                "completed_at": datetime.combine(due, datetime.min.time(), UTC) if done else None,
            }  # fmt: skip

    ins(Audit, audit_rows())

    def action_row(
        aid: int, owner: int, state: str, due: date, audit: int | None
    ) -> dict[str, Any]:
        return {
            "id": aid, "tenant_id": tenant_id, "audit_id": audit,
            "source": "audit" if audit else "meeting", "what": rng.choice(whats),
            "measure": rng.choice(measures), "owner_id": owner, "standard": rng.choice(STANDARDS),
            "due_on": due, "state": state, "snoozed_until": None, "created_by": None,
            "created_at": datetime.combine(due - timedelta(days=40), datetime.min.time(), UTC),
            "done_at": None if state == "open" else NOW - timedelta(days=rng.randint(1, 300)),
        }  # fmt: skip

    # Each target: `target_open` open (some overdue, two due today, a few soon, most later), plus
    # closed ones that must not be counted.
    per_target_closed = 25
    target_total = len(target_ids) * (target_open + per_target_closed)
    action_ids = iter(ids.take("action", max(size["actions"], target_total + 1)))
    open_dues = [TODAY - timedelta(days=d) for d in (1, 2, 3, 5, 8, 13, 21, 34, 40, 55, 70, 90)]
    open_dues += [TODAY, TODAY, TODAY + timedelta(days=1), TODAY + timedelta(days=2)]
    open_dues += [TODAY + timedelta(days=7 + 3 * k) for k in range(target_open - len(open_dues))]
    open_dues = open_dues[:target_open]

    def all_actions() -> Iterator[dict[str, Any]]:
        made = 0
        for owner in target_ids:
            for k, due in enumerate(open_dues):
                audit = rng.choice(audit_ids) if k % 10 != 9 else None
                yield action_row(next(action_ids), owner, "open", due, audit)
            for _ in range(per_target_closed):
                due = TODAY - timedelta(days=rng.randint(1, 400))
                state = rng.choice(("done", "confirmed", "cancelled"))
                yield action_row(next(action_ids), owner, state, due, rng.choice(audit_ids))
            made += target_open + per_target_closed
        states = ("open",) * 35 + ("done",) * 20 + ("confirmed",) * 35 + ("cancelled",) * 10
        for _ in range(size["actions"] - made):
            state = rng.choice(states)
            due = TODAY + timedelta(days=rng.randint(-300, 120))
            audit = rng.choice(audit_ids) if rng.random() < 0.9 else None
            yield action_row(next(action_ids), rng.choice(others), state, due, audit)

    ins(Action, all_actions())
    return {
        "staff": len(staff_ids),
        "cases": len(case_ids),
        "audits": len(audit_ids),
        "actions": max(size["actions"], target_total),
    }


def _build(path: Path, scale: float) -> dict[str, int]:
    url = f"sqlite+aiosqlite:///{path}"
    upgrade(url)
    rng = random.Random(20260311)
    whats, measures = _texts(rng)
    engine = sa.create_engine(f"sqlite:///{path}")

    @sa.event.listens_for(engine, "connect")
    def _fast(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA journal_mode=OFF")
        dbapi_connection.execute("PRAGMA synchronous=OFF")

    ids = _Ids()
    counts: dict[str, int] = {}
    with engine.begin() as conn:
        a = _tenant_rows(
            conn, ids, rng, tenant_id=TENANT, size=sizes(scale), target_open=TARGET_OPEN,
            whats=whats, measures=measures,
        )  # fmt: skip
        b = _tenant_rows(
            conn, ids, rng, tenant_id=TENANT_B, size=SMALL_B, target_open=TARGET_OPEN_B,
            whats=whats, measures=measures,
        )  # fmt: skip
        counts = {f"A.{k}": v for k, v in a.items()} | {f"B.{k}": v for k, v in b.items()}
    engine.dispose()
    return counts


def _schema_and_seed_digest() -> str:
    """Changes whenever a migration or this file does, even when the head revision does not."""
    digest = hashlib.sha256()
    for path in [*sorted(MIGRATIONS.glob("**/*.py")), Path(__file__)]:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _cache_dir() -> Path:
    return Path(tempfile.gettempdir()) / "qaloop-bench"


def seeded_database(workdir: Path, *, scale: float = 1.0, use_cache: bool = True) -> Seeded:
    """A private copy (in `workdir`) of the seeded database, built or taken from the cache."""
    started = time.perf_counter()
    key = f"{SEED_VERSION}-x{scale:g}-{head_revision()}-{_schema_and_seed_digest()}"
    cache = _cache_dir() / f"{key}.db"
    counts_file = cache.with_suffix(".counts")
    cached = use_cache and cache.exists() and counts_file.exists()
    if not cached:
        cache.parent.mkdir(parents=True, exist_ok=True)
        building = cache.with_name(f"{key}.{os.getpid()}.building")
        building.unlink(missing_ok=True)
        counts = _build(building, scale)
        counts_file.write_text(json.dumps(counts))
        os.replace(building, cache)
    counts = dict(json.loads(counts_file.read_text()))
    path = workdir / "bench.db"
    shutil.copyfile(cache, path)
    return Seeded(
        url=f"sqlite+aiosqlite:///{path}",
        path=path,
        tenant_id=TENANT,
        targets=targets(),
        counts=counts,
        seconds=time.perf_counter() - started,
        cached=cached,
    )


@contextlib.asynccontextmanager
async def postgres_database(server_url: str) -> AsyncIterator[str]:
    """A fresh, migrated database on the PostgreSQL server at `server_url`, dropped afterwards."""
    name = f"qaloop_bench_{uuid.uuid4().hex[:10]}"
    url = make_url(server_url)
    admin = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        database = url.set(database=name).render_as_string(hide_password=False)
        await asyncio.to_thread(upgrade, database)
        yield database
    finally:
        async with admin.connect() as connection:
            await connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.dispose()


async def copy_into(source_url: str, target_url: str) -> None:
    """Every row of the migrated database at `source_url` (the bench's SQLite copy) into the
    migrated, empty one at `target_url` (PostgreSQL), table by table, with each id sequence moved
    past the copied ids and the planner's statistics gathered. Foreign keys are not checked while
    copying (a manager's row may come after their staff's): the rows come from a database that
    checked them."""
    source = create_async_engine(source_url)
    target = create_async_engine(target_url)
    try:
        async with source.connect() as reading, target.begin() as writing:
            await writing.exec_driver_sql("SET session_replication_role = replica")
            for table in SQLModel.metadata.sorted_tables:
                rows = [dict(row) for row in (await reading.execute(table.select())).mappings()]
                for start in range(0, len(rows), 5_000):
                    await writing.execute(table.insert(), rows[start : start + 5_000])
                if "id" in table.c and isinstance(table.c.id.type, sa.Integer):
                    await writing.exec_driver_sql(
                        f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "
                        f'coalesce(max(id), 0) + 1, false) FROM "{table.name}"'
                    )
            await writing.exec_driver_sql("SET session_replication_role = origin")
            # Statistics, as a restore would gather them: without, the planner joined every
            # audit of the tenant to each action of a page (60 ms, not 0.3).
            await writing.exec_driver_sql("ANALYZE")
    finally:
        await source.dispose()
        await target.dispose()
