"""DESIGN §11, the themes budget (issue 13): the themes report over 100k audits / 600k theme
ticks on SQLite, against hand-written SQL computing the same figures, measured in the same run.

  .venv/bin/python -m tests.bench.bench_themes [--small]

The report's time is storage.themes.theme_counts plus bot.rules.theme_report.theme_report
(everyone's, broken down by service, as QA's `themes` computes it); the SQL's is two statements
through the stdlib sqlite3 driver. Best of several runs each. Budget: ≤ 2 × the SQL. Exits 1 if
the budget is missed or the figures differ, 2 if the harness fails.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from bot.rules.digest import ServiceRow, TeamRow, local_start
from bot.rules.theme_report import ThemeReport, report_periods, scope_groups, theme_report
from storage import themes
from storage.db import make_engine, make_sessions
from storage.migrate import upgrade
from storage.models import Audit, AuditTheme, Case, Service, Staff, Team, Tenant

TENANT = "00000000-0000-0000-0000-0000000000001"
ZONE = ZoneInfo("Europe/London")
TODAY = date(2026, 11, 26)
NOW = datetime(2026, 11, 26, 10, tzinfo=UTC)
PERIODS = report_periods(TODAY, so_far=True)
RATIO_BUDGET = 2.0
RUNS = 7
TEAMS = 50
FULL = {"staff": 2_000, "cases": 30_000, "audits": 100_000}
TICKS_PER_AUDIT = 6
KEYS = [f"theme-{n:02d}" for n in range(36)]
STANDARDS = ("heart", "assessment", "plans", "records", "oversight", "strengths")


def _chunks(rows: Iterable[dict[str, Any]], size: int = 20_000) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def seed(path: Path, scale: float) -> dict[str, int]:
    """Two years of audits, most completed, six ticks each (on every state: only completed and
    moderated ones count), inserted with executemany in chunks."""
    size = {k: max(3, int(v * scale)) for k, v in FULL.items()}
    upgrade(f"sqlite+aiosqlite:///{path}")
    rng = random.Random(20261126)
    engine = sa.create_engine(f"sqlite:///{path}")
    start = datetime(2024, 11, 26, tzinfo=UTC)
    span = (NOW - start).total_seconds()
    ticks = 0
    with engine.begin() as conn:

        def ins(model: Any, rows: Iterable[dict[str, Any]]) -> None:
            for chunk in _chunks(rows):
                conn.execute(sa.insert(model.__table__), chunk)

        ins(Tenant, [{"id": TENANT, "name": "Bench council", "created_at": start}])
        ins(Service, [{"id": n, "tenant_id": TENANT, "name": f"Service {n}"} for n in (1, 2, 3)])
        ins(
            Team,
            [
                {"id": n, "tenant_id": TENANT, "service_id": n % 3 + 1, "name": f"Team {n:02d}"}
                for n in range(1, TEAMS + 1)
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
                    "roles": "auditor practitioner",
                    "team_id": n % TEAMS + 1,
                    "created_at": start,
                }
                for n in range(1, size["staff"] + 1)
            ),
        )
        ins(
            Case,
            (
                {"id": n, "tenant_id": TENANT, "case_ref": f"C-{n:07d}", "team_id": n % TEAMS + 1}
                for n in range(1, size["cases"] + 1)
            ),
        )
        audits, tags = [], []
        for n in range(1, size["audits"] + 1):
            created = start + timedelta(seconds=rng.random() * span)
            roll = rng.random()
            state = (
                "cancelled"
                if roll < 0.03
                else "declined"
                if roll < 0.05
                else "in_progress"
                if roll < 0.1
                else "moderated"
                if roll < 0.2
                else "completed"
            )
            done = state in ("completed", "moderated")
            completed = created + timedelta(days=rng.randint(1, 30)) if done else None
            auditor = rng.randint(1, size["staff"])
            audits.append(
                {
                    "id": n,
                    "tenant_id": TENANT,
                    "case_id": rng.randint(1, size["cases"]),
                    "team_id": rng.randint(1, TEAMS),
                    "state": state,
                    "auditor_id": auditor,
                    "due_on": (created + timedelta(days=20)).date(),
                    "overall_grade": "good" if done else None,
                    "created_at": created,
                    "completed_at": completed if completed and completed < NOW else None,
                }
            )
            for key in rng.sample(KEYS, TICKS_PER_AUDIT):
                ticks += 1
                tags.append(
                    {
                        "tenant_id": TENANT,
                        "audit_id": n,
                        "standard": STANDARDS[int(key[-2:]) % 6],
                        "theme": key,
                        "title": f"Theme {key[-2:]}",
                        "finding": "strength" if rng.random() < 0.45 else "to_improve",
                        "created_by": auditor,
                        "created_at": created,
                    }
                )
        ins(Audit, audits)
        ins(AuditTheme, tags)
    engine.dispose()
    return {"audits": len(audits), "ticks": ticks}


async def report_once(url: str) -> tuple[float, ThemeReport]:
    engine = make_engine(url)
    sessions = make_sessions(engine)
    try:
        started = time.perf_counter()
        async with sessions() as session:
            tallies, audits = await themes.theme_counts(
                session=session,
                tenant_id=TENANT,
                months=PERIODS.window,
                end=PERIODS.end,
                zone=ZONE,
            )
        teams = [TeamRow(n, f"Team {n:02d}", n % 3 + 1) for n in range(1, TEAMS + 1)]
        services = [ServiceRow(n, f"Service {n}") for n in (1, 2, 3)]
        kind, groups = scope_groups(teams, services, "all", None)
        report = theme_report(
            tallies,
            audits,
            periods=PERIODS,
            title="All teams",
            team_ids=None,
            groups=groups,
            group_kind=kind,
        )
        return time.perf_counter() - started, report
    finally:
        await engine.dispose()


# --- the same figures, hand-written ------------------------------------------------------------


def _ts(value: datetime) -> str:
    """As SQLAlchemy stores a UTC timestamp in SQLite."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


HAND_TICKS = """
SELECT t.theme, t.finding,
  SUM(a.completed_at >= :m0), SUM(a.completed_at >= :pm0 AND a.completed_at < :m0),
  SUM(a.completed_at >= :q0), SUM(a.completed_at < :q0)
  FROM audittheme t JOIN audit a ON a.id = t.audit_id AND a.tenant_id = :t
 WHERE t.tenant_id = :t AND a.state IN ('completed', 'moderated')
   AND a.completed_at >= :pq0 AND a.completed_at < :end
 GROUP BY t.theme, t.finding
"""
HAND_AUDITS = """
SELECT SUM(completed_at >= :m0), SUM(completed_at >= :pm0 AND completed_at < :m0),
  SUM(completed_at >= :q0), SUM(completed_at < :q0)
  FROM audit WHERE tenant_id = :t AND state IN ('completed', 'moderated')
   AND completed_at >= :pq0 AND completed_at < :end
"""


def _params() -> dict[str, str]:
    def start(first: date) -> str:
        return _ts(local_start(first, ZONE))

    return {
        "t": TENANT,
        "m0": start(PERIODS.month.months[0]),
        "pm0": start(PERIODS.previous_month.months[0]),
        "q0": start(PERIODS.quarter.months[0]),
        "pq0": start(PERIODS.previous_quarter.months[0]),
        "end": _ts(local_start(PERIODS.end + timedelta(days=1), ZONE)),
    }


def sql_once(path: Path) -> tuple[float, list[tuple[Any, ...]], tuple[Any, ...]]:
    conn = sqlite3.connect(path)
    try:
        started = time.perf_counter()
        ticks = conn.execute(HAND_TICKS, _params()).fetchall()
        audits = conn.execute(HAND_AUDITS, _params()).fetchone()
        return time.perf_counter() - started, ticks, audits
    finally:
        conn.close()


def same_figures(
    report: ThemeReport, ticks: list[tuple[Any, ...]], audits: tuple[Any, ...]
) -> list[str]:
    problems = []
    periods = (report.month, report.quarter)
    for n, p in enumerate(periods):
        if (p.audits, p.previous_audits) != (audits[2 * n], audits[2 * n + 1]):
            problems.append(f"{p.label}: audits {p.audits}/{p.previous_audits} vs {audits}")
        for finding in ("strength", "to_improve"):
            plain = {r[0]: (r[2 + 2 * n] or 0, r[3 + 2 * n] or 0) for r in ticks if r[1] == finding}
            top = sorted((v[0] for v in plain.values() if v[0]), reverse=True)[
                : len(p.ranked(finding))
            ]
            if [t.audits for t in p.ranked(finding)] != top:
                problems.append(f"{p.label} {finding}: ranking differs")
            for t in p.ranked(finding):
                if (t.audits, t.previous_audits) != plain.get(t.theme, (0, 0)):
                    problems.append(
                        f"{p.label} {finding} {t.theme}: {t.audits} vs {plain.get(t.theme)}"
                    )
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="A tenth of the size, to try it out.")
    args = parser.parse_args()
    scale = 0.1 if args.small else 1.0
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "themes.db"
        started = time.perf_counter()
        try:
            sizes = seed(path, scale)
        except Exception as exc:  # the harness failed, not the budget
            print(f"seeding failed: {exc!r}", file=sys.stderr)
            return 2
        print(f"seeded {sizes} in {time.perf_counter() - started:.1f} s")
        url = f"sqlite+aiosqlite:///{path}"
        report_times, sql_times = [], []
        report: ThemeReport | None = None
        ticks: list[tuple[Any, ...]] = []
        audits: tuple[Any, ...] = ()
        sql_once(path)  # warm the page cache for both alike
        asyncio.run(report_once(url))
        for _ in range(RUNS):
            seconds, report = asyncio.run(report_once(url))
            report_times.append(seconds)
            seconds, ticks, audits = sql_once(path)
            sql_times.append(seconds)
    assert report is not None
    best_report, best_sql = min(report_times), min(sql_times)
    ratio = best_report / best_sql
    problems = same_figures(report, ticks, audits)
    print(f"themes report (storage.themes + rules): best {best_report * 1000:.0f} ms of {RUNS}")
    print(f"hand-written SQL:                        best {best_sql * 1000:.0f} ms of {RUNS}")
    print(f"ratio report / SQL: {ratio:.2f}")
    close = ratio <= RATIO_BUDGET
    print(f"budget ≤ {RATIO_BUDGET:.0f} × SQL: {'met' if close else 'MISSED'}")
    q = report.quarter
    print(
        f"figures: {report.month.audits} audits {report.month.label}, {q.audits} {q.label}; "
        f"top to improve {q.to_improve[0].title if q.to_improve else '–'} "
        f"({q.to_improve[0].audits if q.to_improve else 0})"
    )
    if problems:
        print("figures differ: " + "; ".join(problems[:5]))
        return 1
    print("the report's figures equal the SQL's")
    return 0 if close else 1


if __name__ == "__main__":
    sys.exit(main())
