"""DESIGN §11, exports: `qaloop export actions` of 300k actions (SQLite) against a plain SQL SELECT of
the same joined rows written by the csv module, in the same run; and peak memory at a quarter of
the rows and at all of them, each in a process of its own, to show it stays flat.

  .venv/bin/python -m tests.bench.bench_export [--rows 300000]

Budgets: export ≤ 3 × the plain dump's time; its peak memory at 300k no more than 25 MB above its
peak at 75k. The workbook (xlsx) is timed at 75k too, for information. Exits 1 if a budget is missed or
the files differ in their row count, 2 if the harness fails.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from bot.services.exports import export
from storage.db import make_engine, make_sessions
from storage.migrate import upgrade
from storage.models import Action, Audit, Case, Service, Staff, Team, Tenant

TENANT = "00000000-0000-0000-0000-0000000000001"
ZONE = ZoneInfo("Europe/London")
RATIO_BUDGET = 3.0
FLAT_BUDGET_MB = 25.0
START = datetime(2024, 11, 1, tzinfo=UTC)
# The plain dump: the same rows and joins as the export, no formatting.
PLAIN_SQL = """
SELECT x.id, x.audit_id, c.case_ref, t.name, x.source, x.standard, x.what, x.measure,
       s.display_name, s.email, x.due_on, x.state, x.created_at, x.done_at, x.confirmed_at,
       x.cancelled_at, COALESCE(x.updated_at, x.created_at)
  FROM action x JOIN staff s ON s.id = x.owner_id
  LEFT JOIN audit a ON a.id = x.audit_id LEFT JOIN "case" c ON c.id = a.case_id
  LEFT JOIN team t ON t.id = a.team_id
 WHERE x.tenant_id = ? ORDER BY x.id
"""


def _chunks(rows: Iterable[dict[str, Any]], size: int = 20_000) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def seed(path: Path, actions: int) -> None:
    """A council with 5,000 staff, 30,000 cases, an audit for every three actions and `actions`
    actions, some of whose text would be a formula in a spreadsheet."""
    upgrade(f"sqlite+aiosqlite:///{path}")
    rng = random.Random(20261203)
    audits = max(1, actions // 3)
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:

        def ins(model: Any, rows: Iterable[dict[str, Any]]) -> None:
            for chunk in _chunks(rows):
                conn.execute(sa.insert(model.__table__), chunk)

        ins(Tenant, [{"id": TENANT, "name": "Bench council", "created_at": START}])
        ins(Service, [{"id": n, "tenant_id": TENANT, "name": f"Service {n}"} for n in (1, 2, 3)])
        ins(
            Team,
            [
                {"id": n, "tenant_id": TENANT, "service_id": n % 3 + 1, "name": f"Team {n:02d}"}
                for n in range(1, 51)
            ],
        )
        ins(
            Staff,
            (
                {
                    "id": n,
                    "tenant_id": TENANT,
                    "email": f"p{n}@example.com",
                    "display_name": f"Person {n}",
                    "team_id": n % 50 + 1,
                    "created_at": START,
                }
                for n in range(1, 5001)
            ),
        )
        ins(
            Case,
            (
                {"id": n, "tenant_id": TENANT, "case_ref": f"C-{n:07d}", "team_id": n % 50 + 1}
                for n in range(1, 30_001)
            ),
        )
        ins(
            Audit,
            (
                {
                    "id": n,
                    "tenant_id": TENANT,
                    "case_id": rng.randint(1, 30_000),
                    "team_id": rng.randint(1, 50),
                    "state": "completed",
                    "auditor_id": rng.randint(1, 5000),
                    "due_on": date(2025, 1, 1) + timedelta(days=n % 600),
                    "created_at": START + timedelta(minutes=n),
                    "updated_at": START + timedelta(minutes=n),
                }
                for n in range(1, audits + 1)
            ),
        )

        def action(n: int) -> dict[str, Any]:
            created = START + timedelta(minutes=3 * n)
            done = created + timedelta(days=rng.randint(1, 40)) if rng.random() < 0.6 else None
            return {
                "id": n,
                "tenant_id": TENANT,
                "audit_id": (n - 1) // 3 + 1,
                "what": ("=SUM(A1)" if n % 97 == 0 else "Update the plan with the family")
                + f" ({n})",
                "measure": "The plan on the record shows the child's views, reviewed monthly",
                "owner_id": rng.randint(1, 5000),
                "standard": "plans",
                "due_on": (created + timedelta(days=28)).date(),
                "state": "done" if done else "open",
                "created_at": created,
                "done_at": done,
                "updated_at": done or created,
            }

        ins(Action, (action(n) for n in range(1, actions + 1)))
    engine.dispose()


def plain_dump(path: Path, out: Path) -> int:
    connection = sqlite3.connect(path)
    try:
        with out.open("w", encoding="utf-8", newline="") as stream:
            writer = csv.writer(stream)
            rows = 0
            cursor = connection.execute(PLAIN_SQL, (TENANT,))
            while batch := cursor.fetchmany(2000):
                writer.writerows(batch)
                rows += len(batch)
            return rows
    finally:
        connection.close()


async def exported(path: Path, out: Path, fmt: str) -> int:
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with make_sessions(engine)() as session, session.begin():
            done = await export(
                "actions",
                session=session,
                tenant_id=TENANT,
                zone=ZONE,
                fmt="xlsx" if fmt == "xlsx" else "csv",
                out=out,
            )
            return done.rows
    finally:
        await engine.dispose()


def one(mode: str, path: Path, out: Path) -> None:
    """One measurement, in this process: seconds, rows and this process's peak memory (MB)."""
    started = time.perf_counter()
    rows = plain_dump(path, out) if mode == "plain" else asyncio.run(exported(path, out, mode))
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "rows": rows, "peak_mb": peak_mb}))


def measure(mode: str, path: Path, out: Path) -> dict[str, float]:
    found = subprocess.run(
        [sys.executable, "-m", "tests.bench.bench_export", "--one", mode, str(path), str(out)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(found.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--one", nargs=3, metavar=("MODE", "DB", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        one(args.one[0], Path(args.one[1]), Path(args.one[2]))
        return 0
    say = print
    with tempfile.TemporaryDirectory() as tmp:
        where = Path(tmp)
        sizes = {"quarter": max(1, args.rows // 4), "all": args.rows}
        paths = {}
        for name, rows in sizes.items():
            started = time.perf_counter()
            paths[name] = where / f"{name}.db"
            seed(paths[name], rows)
            say(f"Seeded {rows:,} actions in {time.perf_counter() - started:.1f} s.")
        big = paths["all"]
        plain = min(
            (measure("plain", big, where / "plain.csv") for _ in range(3)),
            key=lambda m: m["seconds"],
        )
        ours = min(
            (measure("csv", big, where / "actions.csv") for _ in range(3)),
            key=lambda m: m["seconds"],
        )
        small = measure("csv", paths["quarter"], where / "quarter.csv")
        # The workbook at a quarter of the rows: openpyxl writes some 20k cells a second here.
        xlsx = measure("xlsx", paths["quarter"], where / "actions.xlsx")
    ratio = ours["seconds"] / plain["seconds"]
    growth = ours["peak_mb"] - small["peak_mb"]
    say(
        f"plain SELECT to CSV: {plain['rows']:,} rows in {plain['seconds']:.2f} s, "
        f"peak {plain['peak_mb']:.0f} MB"
    )
    say(
        f"export actions csv:  {ours['rows']:,} rows in {ours['seconds']:.2f} s, "
        f"peak {ours['peak_mb']:.0f} MB — {ratio:.2f} × the plain dump (budget ≤ {RATIO_BUDGET})"
    )
    say(
        f"memory: peak {small['peak_mb']:.0f} MB at {small['rows']:,} rows, "
        f"{ours['peak_mb']:.0f} MB at {ours['rows']:,}: +{growth:.1f} MB for 4 × the rows "
        f"(budget ≤ {FLAT_BUDGET_MB:.0f} MB)"
    )
    say(
        f"export actions xlsx: {xlsx['rows']:,} rows in {xlsx['seconds']:.2f} s, "
        f"peak {xlsx['peak_mb']:.0f} MB (no budget)"
    )
    ok = ratio <= RATIO_BUDGET and growth <= FLAT_BUDGET_MB
    ok = ok and ours["rows"] == plain["rows"] == args.rows and xlsx["rows"] == small["rows"]
    say("Within budget." if ok else "OVER BUDGET or rows differ.")
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as exc:  # the harness failed, not the budget
        print(f"bench_export failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        sys.exit(2)
