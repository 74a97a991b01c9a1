"""DESIGN §11, the evidence pack over 100k audits / 300k actions (SQLite): its time and peak memory
against hand-written SQL computing the same figures, measured in the same run.

  .venv/bin/python -m tests.bench.bench_evidence [--small]

The council is bench_digest's (two years to November 2026) with theme ticks, re-audits of the
inadequate audits and briefings added; the pack covers the twelve months to October 2026. The
pack's time is bot.services.evidence.load_evidence (every count, the rules, disclosure) plus the
HTML page; the SQL's is the statements below through the stdlib sqlite3 driver, best of several
runs each. Peak memory is how far each one's resident memory rises during a run, in a process of its
own after a first run (which pays for the imports and compiled statements once). Budgets: time ≤ 3 × the SQL's; memory a run takes ≤ 25 MB (the SQL's is printed beside it). Exits 1 if a budget is
missed or the figures differ, 2 if the harness fails.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bot.rules.digest import bounds, local_start, next_month, overdue_point, span, trend_window
from bot.rules.evidence import Evidence
from bot.services.evidence import load_evidence, to_html
from storage.db import make_engine, make_sessions
from storage.models import Audit, AuditTheme, Briefing
from tests.bench.bench_digest import NOW, STANDARDS, TENANT, ZONE, _chunks, _ts
from tests.bench.bench_digest import seed as seed_digest

PERIOD = span(date(2025, 11, 1), date(2026, 10, 31))
RATIO_BUDGET = 3.0
# The SQL's own run takes next to nothing once SQLite's page cache is warm, so a ratio to it says
# little: the pack is held to a ceiling instead, which a pack that kept rows would break.
MEMORY_BUDGET_MB = 25.0
RUNS = 5
THEMES = ("voice", "chronology", "supervision", "contingency", "network", "education")
KEYS = ("overall", *STANDARDS)


def seed(path: Path, scale: float) -> dict[str, int]:
    """bench_digest's council, then ticks on a third of the completed audits, a re-audit of most
    inadequate ones (a few cancelled, some still to do) and a briefing a month."""
    sizes = seed_digest(path, scale)
    rng = random.Random(20261103)
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        done = conn.execute(
            sa.text(
                "SELECT id, case_id, team_id, auditor_id, due_on, completed_at, overall_grade"
                " FROM audit WHERE state = 'completed'"
            )
        ).all()
        ticks, again = [], []
        next_id = sizes["audits"] + 1
        for audit_id, case_id, team_id, auditor_id, due_on, completed_at, overall in done:
            if rng.random() < 0.33:
                for theme in rng.sample(THEMES, rng.randint(1, 2)):
                    ticks.append(
                        {
                            "tenant_id": TENANT,
                            "audit_id": audit_id,
                            "standard": rng.choice(STANDARDS),
                            "theme": theme,
                            "title": theme.title(),
                            "finding": rng.choice(("strength", "to_improve")),
                            "created_by": auditor_id,
                        }
                    )
            if overall == "inadequate" and rng.random() < 0.9:
                roll = rng.random()
                state = "cancelled" if roll < 0.1 else "assigned" if roll < 0.3 else "completed"
                completed = datetime.fromisoformat(completed_at).replace(tzinfo=UTC)
                row: dict[str, Any] = {
                    "id": next_id,
                    "tenant_id": TENANT,
                    "case_id": case_id,
                    "team_id": team_id,
                    "state": state,
                    "auditor_id": 10 if auditor_id != 10 else 20,
                    "due_on": date.fromisoformat(due_on) + timedelta(days=91),
                    "reaudit_of": audit_id,
                    "created_at": completed,
                    "completed_at": completed + timedelta(days=91)
                    if state == "completed"
                    else None,
                    "overall_grade": rng.choice(("good", "requires_improvement", "inadequate"))
                    if state == "completed"
                    else None,
                    **{
                        f"grade_{s}": rng.choice(("good", "requires_improvement", "inadequate"))
                        if state == "completed"
                        else None
                        for s in STANDARDS
                    },
                }
                again.append(row)
                next_id += 1
        for chunk in _chunks(ticks):
            conn.execute(sa.insert(AuditTheme.__table__), chunk)  # type: ignore[attr-defined]
        for chunk in _chunks(again):
            conn.execute(sa.insert(Audit.__table__), chunk)  # type: ignore[attr-defined]
        conn.execute(
            sa.insert(Briefing.__table__),  # type: ignore[attr-defined]
            [
                {
                    "tenant_id": TENANT,
                    "title": f"Briefing {n}",
                    "read": "Five minutes.",
                    "state": "published",
                    "published_at": datetime(2025, 1, 14, 10, tzinfo=UTC) + timedelta(days=30 * n),
                }
                for n in range(22)
            ],
        )
    engine.dispose()
    return sizes | {"ticks": len(ticks), "reaudits": len(again)}


# --- the pack --------------------------------------------------------------------------------------


async def pack_once(url: str) -> tuple[float, Evidence, int]:
    engine = make_engine(url)
    try:
        started = time.perf_counter()
        e, deadlines = await load_evidence(
            sessions=make_sessions(engine),
            tenant_id=TENANT,
            period=PERIOD,
            zone=ZONE,
            now=NOW,
            below=3,
        )
        page = to_html(e, made_on=NOW.date(), deadlines=deadlines)
        return time.perf_counter() - started, e, len(page)
    finally:
        await engine.dispose()


# --- the same figures, written by hand -------------------------------------------------------------

DONE = "a.tenant_id = :t AND a.state IN ('completed', 'moderated') AND a.completed_at >= :lo AND a.completed_at < :hi"
GOOD = "('outstanding', 'good')"
LATEST = "(SELECT reaudit_of, MAX(id) AS id FROM audit WHERE tenant_id = :t AND reaudit_of IS NOT NULL GROUP BY reaudit_of)"


def late_from(day: str) -> str:
    """The UTC instant a day's close in London, as one would write it by hand for these years:
    midnight after it, an hour earlier when that midnight falls in summer time."""
    summer = " OR ".join(
        f"date({day}, '+1 day') BETWEEN '{a}' AND '{b}'"
        for a, b in (("2025-03-31", "2025-10-26"), ("2026-03-30", "2026-10-25"))
    )
    return f"datetime({day}, '+1 day', CASE WHEN {summer} THEN '-1 hour' ELSE '+0 hour' END)"


def statements() -> list[tuple[str, str, dict[str, Any]]]:
    lo, hi = bounds(PERIOD, ZONE)
    window = trend_window(PERIOD, 12)
    starts = [local_start(m, ZONE) for m in window]
    month = (
        "CASE "
        + " ".join(
            f"WHEN a.completed_at < '{_ts(s)}' THEN {n - 1}" for n, s in enumerate(starts[1:], 1)
        )
        + f" ELSE {len(window) - 1} END"
    )
    col = {k: "a.overall_grade" if k == "overall" else f"a.grade_{k}" for k in KEYS}
    point = overdue_point(PERIOD, ZONE, NOW)
    p = {
        "t": TENANT,
        "lo": _ts(lo),
        "hi": _ts(hi),
        "start": PERIOD.start.isoformat(),
        "end": PERIOD.end.isoformat(),
        "trend_lo": _ts(starts[0]),
        "trend_hi": _ts(local_start(next_month(window[-1]), ZONE)),
        "as_of": point.as_of.isoformat(),
        "cut": _ts(point.cutoff),
    }
    grade_sums = ", ".join(
        f"SUM({col[k]} = '{g}')"
        for k in KEYS
        for g in ("outstanding", "good", "requires_improvement", "inadequate")
    )
    trend_sums = ", ".join(f"COUNT({col[k]}), SUM({col[k]} IN {GOOD})" for k in KEYS)
    agreed = ", ".join(
        f"SUM(json_extract(m.agreement, '$.{k}') = 1), COUNT(json_extract(m.agreement, '$.{k}'))"
        for k in KEYS
    )
    grade_of = (
        "CASE x.standard " + " ".join(f"WHEN '{s}' THEN r.grade_{s}" for s in STANDARDS) + " END"
    )
    rank = "CASE {c} WHEN 'outstanding' THEN 0 WHEN 'good' THEN 1 WHEN 'requires_improvement' THEN 2 WHEN 'inadequate' THEN 3 END"
    moved = ", ".join(
        f"SUM({rank.format(c=f'r.grade_{s}')} < {rank.format(c=f'a.grade_{s}')}),"
        f" SUM({rank.format(c=f'r.grade_{s}')} > {rank.format(c=f'a.grade_{s}')})"
        for s in STANDARDS
    )
    return [
        (
            "compliance",
            f"SELECT a.team_id, COUNT(*), SUM(a.state IN ('completed', 'moderated')"
            f" AND a.completed_at < {late_from('a.due_on')}), SUM(a.state = 'declined') FROM audit a"
            " WHERE a.tenant_id = :t AND a.due_on BETWEEN :start AND :end AND a.state != 'cancelled'"
            " GROUP BY a.team_id",
            p,
        ),
        (
            "grades",
            f"SELECT a.team_id, {grade_sums} FROM audit a WHERE {DONE} GROUP BY a.team_id",
            p,
        ),
        (
            "trend",
            f"SELECT t.service_id, {month}, {trend_sums} FROM audit a JOIN team t ON t.id = a.team_id"
            " WHERE a.tenant_id = :t AND a.state IN ('completed', 'moderated')"
            " AND a.completed_at >= :trend_lo AND a.completed_at < :trend_hi GROUP BY 1, 2",
            p,
        ),
        ("programmes", f"SELECT a.kind, COUNT(*) FROM audit a WHERE {DONE} GROUP BY a.kind", p),
        (
            "meetings",
            f"SELECT COUNT(*), SUM(m.held_on <= a.meeting_due_on) FROM audit a"
            f" LEFT JOIN actionmeeting m ON m.audit_id = a.id AND m.tenant_id = :t WHERE {DONE} AND a.overall_grade = 'inadequate'",
            p,
        ),
        (
            "actions",
            "SELECT SUM(x.created_at >= :lo AND x.created_at < :hi), SUM(x.done_at >= :lo AND x.done_at < :hi),"
            " SUM(x.due_on < :as_of AND x.created_at < :cut AND (x.done_at IS NULL OR x.done_at >= :cut)"
            " AND (x.cancelled_at IS NULL OR x.cancelled_at >= :cut) AND (x.state != 'cancelled' OR x.cancelled_at IS NOT NULL)),"
            f" SUM(x.done_at >= :lo AND x.done_at < :hi AND x.done_at < {late_from('x.due_on')})"
            " FROM action x WHERE x.tenant_id = :t",
            p,
        ),
        (
            "feedback",
            f"SELECT COUNT(*), COUNT(v.id), SUM(v.involved) FROM audit a"
            " LEFT JOIN feedback f ON f.audit_id = a.id AND f.tenant_id = :t LEFT JOIN feedbackversion v ON v.feedback_id = f.id"
            " AND v.version = (SELECT MAX(w.version) FROM feedbackversion w WHERE w.feedback_id = f.id)"
            f" WHERE {DONE} AND a.practitioner_id IS NOT NULL",
            p,
        ),
        (
            "moderation",
            f"SELECT {agreed} FROM moderation m WHERE m.tenant_id = :t AND m.agreement IS NOT NULL"
            " AND m.decided_at >= :lo AND m.decided_at < :hi",
            p,
        ),
        (
            "reaudits",
            f"SELECT r.state, COUNT(*), SUM(r.overall_grade != 'inadequate'), {moved} FROM audit a"
            f" LEFT JOIN {LATEST} l ON l.reaudit_of = a.id LEFT JOIN audit r ON r.id = l.id"
            f" WHERE {DONE} AND a.overall_grade = 'inadequate' GROUP BY r.state",
            p,
        ),
        (
            "verified",
            "SELECT SUM(x.state != 'cancelled'), SUM(x.state IN ('done', 'confirmed')),"
            f" SUM(x.state IN ('done', 'confirmed') AND x.standard IS NOT NULL"
            f" AND r.state IN ('completed', 'moderated') AND {grade_of} != 'inadequate')"
            f" FROM action x JOIN audit a ON a.id = x.audit_id LEFT JOIN {LATEST} l ON l.reaudit_of = a.id"
            " LEFT JOIN audit r ON r.id = l.id"
            f" WHERE x.tenant_id = :t AND x.source NOT IN ('action_meeting', 'child_visit')"
            f" AND {DONE} AND a.overall_grade = 'inadequate'",
            p,
        ),
        (
            "themes",
            "SELECT x.theme, x.finding, COUNT(*) FROM audittheme x JOIN audit a ON a.id = x.audit_id"
            f" WHERE x.tenant_id = :t AND {DONE} GROUP BY x.theme, x.finding",
            p,
        ),
        (
            "briefings",
            "SELECT title, published_at FROM briefing WHERE tenant_id = :t AND state = 'published'"
            " AND published_at >= :lo AND published_at < :hi ORDER BY published_at",
            p,
        ),
    ]


def sql_once(path: Path) -> tuple[float, dict[str, list[tuple[Any, ...]]]]:
    connection = sqlite3.connect(path)
    try:
        found = {}
        started = time.perf_counter()
        for name, sql, params in statements():
            found[name] = connection.execute(sql, params).fetchall()
        return time.perf_counter() - started, found
    finally:
        connection.close()


def same_figures(e: Evidence, found: dict[str, list[tuple[Any, ...]]]) -> list[str]:
    """Where the pack (as QA would see it, before anything is hidden) and the SQL disagree."""
    d, r = e.digest, e.reaudits

    def total(name: str, column: int) -> int:
        return sum(int(row[column] or 0) for row in found[name])

    reaudits = {row[0]: row for row in found["reaudits"]}
    checks = {
        "due": (d.compliance_total.due, total("compliance", 1)),
        "on time": (d.compliance_total.on_time, total("compliance", 2)),
        "graded": (d.grades.total(), sum(total("grades", 1 + n) for n in range(4))),
        "trend graded": (
            sum(p.graded for p in e.trends[0].points),
            total("trend", 2),
        ),
        "inadequate": (d.meetings.inadequate, total("meetings", 0)),
        "opened": (d.actions_total.opened, total("actions", 0)),
        "done": (d.actions_total.closed, total("actions", 1)),
        "overdue": (d.actions_total.overdue, total("actions", 2)),
        "done on time": (e.done_on_time, total("actions", 3)),
        "responses": (d.feedback.responses, total("feedback", 1)),
        "re-audits done": (r.done, int(reaudits.get("completed", (0, 0))[1])),
        "verified": (r.actions_verified, total("verified", 2)),
        "to improve": (
            sum(t.to_improve for t in e.themes),
            sum(n for _, f, n in found["themes"] if f == "to_improve"),
        ),
        "briefings": (len(e.briefings), len(found["briefings"])),
    }
    return [f"{k}: pack {a} vs SQL {b}" for k, (a, b) in checks.items() if a != b]


# --- peak memory, each in a process of its own ------------------------------------------------------


def _status_mb(field: str) -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    raise LookupError(field)


def one(mode: str, path: Path) -> None:
    """One run after another: how far resident memory rose above where it started (MB), as JSON.
    The first run pays what is paid once a process (imports, compiled statements); the kernel's
    high-water mark is then reset (Linux's clear_refs), so only the second run's own is counted."""

    def run() -> None:
        if mode == "pack":
            asyncio.run(pack_once(f"sqlite+aiosqlite:///{path}"))
        else:
            sql_once(path)

    run()
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    before = _status_mb("VmRSS")
    run()
    print(json.dumps({"grew_mb": max(_status_mb("VmHWM") - before, 0.0)}))


def grew(mode: str, path: Path) -> float:
    found = subprocess.run(
        [sys.executable, "-m", "tests.bench.bench_evidence", "--one", mode, str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    return float(json.loads(found.stdout.strip().splitlines()[-1])["grew_mb"])


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--small", action="store_true", help="A tenth of the size, to try it out.")
    parser.add_argument("--one", nargs=2, metavar=("MODE", "DB"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        one(args.one[0], Path(args.one[1]))
        return 0
    scale = 0.1 if args.small else 1.0
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "evidence.db"
        started = time.perf_counter()
        try:
            sizes = seed(path, scale)
        except Exception as exc:  # the harness failed, not the budget
            print(f"seeding failed: {exc!r}", file=sys.stderr)
            return 2
        print(f"seeded {sizes} in {time.perf_counter() - started:.1f} s; period {PERIOD.label}")
        url = f"sqlite+aiosqlite:///{path}"
        sql_once(path)  # warm the page cache for both alike
        asyncio.run(pack_once(url))
        pack_times, sql_times = [], []
        found: dict[str, list[tuple[Any, ...]]] = {}
        size = 0
        for _ in range(RUNS):
            seconds, _, size = asyncio.run(pack_once(url))
            pack_times.append(seconds)
            seconds, found = sql_once(path)
            sql_times.append(seconds)
        pack_mb, sql_mb = grew("pack", path), grew("sql", path)
        engine = make_engine(url)
        whole, _ = asyncio.run(_whole(engine))
    best_pack, best_sql = min(pack_times), min(sql_times)
    ratio = best_pack / best_sql
    print(
        f"evidence pack (counts, rules, disclosure, HTML of {size // 1024} KB): best {best_pack * 1000:.0f} ms of {RUNS}"
    )
    print(
        f"hand-written SQL:                                     best {best_sql * 1000:.0f} ms of {RUNS}"
    )
    print(
        f"ratio pack / SQL: {ratio:.2f} (budget ≤ {RATIO_BUDGET:.0f}: {'met' if ratio <= RATIO_BUDGET else 'MISSED'})"
    )
    flat = pack_mb <= MEMORY_BUDGET_MB
    print(f"memory a run takes: pack {pack_mb:.1f} MB, SQL {sql_mb:.1f} MB"
          f" (budget: pack ≤ {MEMORY_BUDGET_MB:.0f} MB: {'met' if flat else 'MISSED'})")  # fmt: skip
    problems = same_figures(whole, found)
    if problems:
        print("figures differ: " + "; ".join(problems))
        return 1
    print("the pack's figures equal the SQL's")
    return 0 if ratio <= RATIO_BUDGET and flat else 1


async def _whole(engine: Any) -> tuple[Evidence, Any]:
    try:
        return await load_evidence(
            sessions=make_sessions(engine),
            tenant_id=TENANT,
            period=PERIOD,
            zone=ZONE,
            now=NOW,
            below=3,
            for_qa=True,
        )
    finally:
        await engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
