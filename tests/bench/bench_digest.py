"""DESIGN §11, third budget: the monthly digest over 100k audits / 300k actions on SQLite, against
one hand-written SQL aggregate computing the same figures, measured in the same run.

  .venv/bin/python -m tests.bench.bench_digest [--small]

The digest's time is storage.digest.counts plus bot.rules.digest.digest (everyone's figures, as the
job computes them); the SQL's is one statement through the stdlib sqlite3 driver. Best of several
runs each. Budgets: digest ≤ 1 s and ≤ 2 × the SQL. Exits 1 if a budget is missed or the figures
differ, 2 if the harness fails.
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

from bot.rules.digest import (
    Digest,
    bounds,
    digest,
    local_start,
    month,
    next_month,
    overdue_point,
    trend_window,
)
from storage import digest as figures
from storage.db import make_engine, make_sessions
from storage.migrate import upgrade
from storage.models import (
    Action,
    ActionMeeting,
    Audit,
    Case,
    Feedback,
    FeedbackVersion,
    Moderation,
    Service,
    Staff,
    Team,
    Tenant,
)

TENANT = "00000000-0000-0000-0000-0000000000001"
ZONE = ZoneInfo("Europe/London")
PERIOD = month(date(2026, 10, 1))
NOW = datetime(2026, 11, 2, 9, tzinfo=UTC)
BUDGET_S = 1.0
RATIO_BUDGET = 2.0
RUNS = 7
STANDARDS = ("heart", "assessment", "plans", "records", "oversight", "strengths")
GRADES = ("outstanding", "good", "requires_improvement", "inadequate")
FULL = {"teams": 50, "staff": 5_000, "cases": 30_000, "audits": 100_000, "actions": 300_000}


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
    """Two years of a big council, most of it before the period, with executemany in chunks."""
    size = {k: max(3, int(v * scale)) if k != "teams" else v for k, v in FULL.items()}
    url = f"sqlite+aiosqlite:///{path}"
    upgrade(url)
    rng = random.Random(20261102)
    engine = sa.create_engine(f"sqlite:///{path}")
    start = datetime(2024, 11, 1, tzinfo=UTC)
    span = (NOW - start).total_seconds()
    counts = {"feedback": 0, "moderations": 0, "meetings": 0}
    with engine.begin() as conn:

        def ins(model: Any, rows: Iterable[dict[str, Any]]) -> None:
            for chunk in _chunks(rows):
                conn.execute(sa.insert(model.__table__), chunk)

        ins(Tenant, [{"id": TENANT, "name": "Bench council", "created_at": start}])
        ins(Service, [{"id": n, "tenant_id": TENANT, "name": f"Service {n}"} for n in (1, 2, 3)])
        teams = size["teams"]
        ins(
            Team,
            [
                {"id": n, "tenant_id": TENANT, "service_id": n % 3 + 1, "name": f"Team {n:02d}"}
                for n in range(1, teams + 1)
            ],
        )
        staff = size["staff"]
        ins(
            Staff,
            (
                {
                    "id": n,
                    "tenant_id": TENANT,
                    "email": f"p{n}@example.com",
                    "display_name": f"Person {n}",
                    "roles": "auditor practitioner" if n % 10 == 0 else "practitioner",
                    "team_id": n % teams + 1,
                    "created_at": start,
                }
                for n in range(1, staff + 1)
            ),
        )
        ins(
            Case,
            (
                {"id": n, "tenant_id": TENANT, "case_ref": f"C-{n:07d}", "team_id": n % teams + 1}
                for n in range(1, size["cases"] + 1)
            ),
        )
        audits, meetings, feedback, versions, moderations = [], [], [], [], []
        for n in range(1, size["audits"] + 1):
            created = start + timedelta(seconds=rng.random() * span)
            due = (created + timedelta(days=rng.randint(5, 40))).astimezone(ZONE).date()
            roll = rng.random()
            state = (
                "cancelled"
                if roll < 0.03
                else "declined"
                if roll < 0.05
                else "assigned"
                if roll < 0.15
                else "completed"
            )
            row: dict[str, Any] = {
                "id": n,
                "tenant_id": TENANT,
                "case_id": rng.randint(1, size["cases"]),
                "team_id": rng.randint(1, teams),
                "state": state,
                "auditor_id": rng.randrange(10, staff + 1, 10),
                "practitioner_id": rng.randint(1, staff) if rng.random() < 0.8 else None,
                "due_on": due,
                "created_at": created,
                "completed_at": None,
                "meeting_due_on": None,
                "overall_grade": None,
                **{f"grade_{s}": None for s in STANDARDS},
            }
            if state == "completed":
                done = datetime.combine(due, datetime.min.time(), tzinfo=ZONE) + timedelta(
                    hours=rng.randint(-240, 60)
                )
                row["completed_at"] = done.astimezone(UTC)
                weights = (0.15, 0.45, 0.3, 0.1)
                for s in STANDARDS:
                    row[f"grade_{s}"] = rng.choices(GRADES, weights)[0]
                worst = max(GRADES.index(row[f"grade_{s}"]) for s in STANDARDS)
                overall = GRADES[worst] if rng.random() < 0.9 else GRADES[max(0, worst - 1)]
                row["overall_grade"] = overall
                if overall == "inadequate":
                    row["meeting_due_on"] = done.date() + timedelta(days=5)
                    if rng.random() < 0.8:
                        counts["meetings"] += 1
                        meetings.append(
                            {
                                "tenant_id": TENANT,
                                "audit_id": n,
                                "held_on": done.date() + timedelta(days=rng.randint(1, 8)),
                                "attendees": "SW, TM",
                                "recorded_by": 10,
                                "recorded_at": done,
                            }
                        )
                if row["practitioner_id"] and rng.random() < 0.6:
                    counts["feedback"] += 1
                    fid = counts["feedback"]
                    feedback.append(
                        {
                            "id": fid,
                            "tenant_id": TENANT,
                            "audit_id": n,
                            "practitioner_id": row["practitioner_id"],
                            "created_at": done,
                        }
                    )
                    for version in range(1, rng.choice((2, 2, 3)) if rng.random() < 0.2 else 2):
                        versions.append(
                            {
                                "tenant_id": TENANT,
                                "feedback_id": fid,
                                "version": version,
                                "submitted_at": done,
                                **{
                                    r: rng.randint(1, 5)
                                    for r in (
                                        "involved",
                                        "helped_see_good",
                                        "understand_grade",
                                        "actions_clear",
                                    )
                                },
                            }
                        )
                if rng.random() < 0.1:
                    counts["moderations"] += 1
                    decided = done + timedelta(days=rng.randint(5, 30))
                    agreement = {s: rng.random() < 0.9 for s in (*STANDARDS, "overall")}
                    moderations.append(
                        {
                            "tenant_id": TENANT,
                            "audit_id": n,
                            "moderator_id": 20,
                            "month": done.strftime("%Y-%m"),
                            "agreement": agreement if decided < NOW else None,
                            "decided_at": decided if decided < NOW else None,
                            "created_at": done,
                        }
                    )
            audits.append(row)
        ins(Audit, audits)
        ins(ActionMeeting, meetings)
        ins(Feedback, feedback)
        ins(FeedbackVersion, versions)
        ins(Moderation, moderations)

        def actions() -> Iterator[dict[str, Any]]:
            for n in range(1, size["actions"] + 1):
                created = start + timedelta(seconds=rng.random() * span)
                due = (created + timedelta(days=rng.randint(7, 60))).date()
                roll = rng.random()
                done = created + timedelta(days=rng.randint(1, 70)) if roll < 0.6 else None
                if done is not None and done > NOW:
                    done = None
                state = "cancelled" if roll > 0.97 else ("done" if done else "open")
                yield {
                    "id": n,
                    "tenant_id": TENANT,
                    "audit_id": rng.randint(1, size["audits"]),
                    "what": "Update the plan",
                    "measure": "Seen on the record",
                    "owner_id": rng.randint(1, staff),
                    "due_on": due,
                    "state": state,
                    "created_at": created,
                    "done_at": done,
                    "cancelled_at": created + timedelta(days=3) if state == "cancelled" else None,
                }

        ins(Action, actions())
    engine.dispose()
    return {
        "audits": size["audits"],
        "actions": size["actions"],
        "feedback": counts["feedback"],
        "moderations": counts["moderations"],
    }


# --- the digest, as the job computes it --------------------------------------------------------------


async def digest_once(url: str) -> tuple[float, Digest]:
    engine = make_engine(url)
    sessions = make_sessions(engine)
    try:
        started = time.perf_counter()
        async with sessions() as session:
            counts = await figures.counts(
                session=session,
                tenant_id=TENANT,
                period=PERIOD,
                zone=ZONE,
                overdue=overdue_point(PERIOD, ZONE, NOW),
            )
        result = digest(counts, title="All teams", team_ids=None, today=NOW.date())
        return time.perf_counter() - started, result
    finally:
        await engine.dispose()


# --- the same figures in one hand-written statement ------------------------------------------------


def _ts(value: datetime) -> str:
    """As SQLAlchemy stores a UTC timestamp in SQLite."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


HAND_SQL = """
WITH
cutoff(day, late_from) AS (VALUES {cutoffs}),
done AS (
  SELECT * FROM audit
  WHERE tenant_id = :t AND state IN ('completed', 'moderated')
    AND completed_at >= :lo AND completed_at < :hi
)
SELECT 'compliance', a.team_id, COUNT(*),
       SUM(a.state IN ('completed', 'moderated') AND a.completed_at < c.late_from),
       SUM(a.state IN ('completed', 'moderated')), SUM(a.state = 'declined'), 0, 0
  -- CROSS JOIN keeps audit the outer loop; as a plain JOIN SQLite scanned audit once per day
  -- of the month (2.8 s of the 3.6 s this statement first took).
  FROM audit a CROSS JOIN cutoff c ON c.day = a.due_on
 WHERE a.tenant_id = :t AND a.due_on BETWEEN :start AND :end
   AND a.state != 'cancelled'
 GROUP BY a.team_id
UNION ALL
SELECT 'grades', team_id, COUNT(*), SUM(overall_grade IN ('outstanding', 'good')),
       SUM(overall_grade = 'inadequate'),
       SUM(grade_records = 'inadequate'), 0, 0
  FROM done GROUP BY team_id
UNION ALL
SELECT 'trend', team_id, {month_case}, COUNT(overall_grade),
       SUM(overall_grade IN ('outstanding', 'good')), 0, 0, 0
  FROM audit
 WHERE tenant_id = :t AND state IN ('completed', 'moderated')
   AND completed_at >= :trend_lo AND completed_at < :hi
 GROUP BY team_id, 3
UNION ALL
SELECT 'meetings', d.team_id, COUNT(*), SUM(m.held_on <= d.meeting_due_on),
       SUM(m.held_on > d.meeting_due_on), SUM(m.held_on IS NULL), 0, 0
  FROM done d LEFT JOIN actionmeeting m ON m.audit_id = d.id AND m.tenant_id = :t
 WHERE d.overall_grade = 'inadequate'
 GROUP BY d.team_id
UNION ALL
SELECT 'actions', a.team_id,
       SUM(x.created_at >= :lo AND x.created_at < :hi),
       SUM(x.done_at >= :lo AND x.done_at < :hi),
       SUM(x.due_on < :as_of AND x.created_at < :cut
           AND (x.done_at IS NULL OR x.done_at >= :cut)
           AND (x.cancelled_at IS NULL OR x.cancelled_at >= :cut)
           AND (x.state != 'cancelled' OR x.cancelled_at IS NOT NULL)),
       CASE WHEN a.team_id IS NULL THEN COALESCE(s.service_id, t.service_id) END, 0, 0
  -- By the team of the action's audit, else the owner's service: every action counts.
  FROM action x
  LEFT JOIN audit a ON a.id = x.audit_id AND a.tenant_id = :t
  LEFT JOIN staff s ON s.id = x.owner_id AND s.tenant_id = :t
  LEFT JOIN team t ON t.id = s.team_id AND t.tenant_id = :t
 WHERE x.tenant_id = :t
 GROUP BY a.team_id, 6
UNION ALL
SELECT 'feedback', d.team_id, COUNT(*), COUNT(v.id), SUM(v.involved), SUM(v.helped_see_good),
       SUM(v.understand_grade), SUM(v.actions_clear)
  FROM done d
  LEFT JOIN feedback f ON f.audit_id = d.id AND f.tenant_id = :t
  LEFT JOIN feedbackversion v ON v.feedback_id = f.id AND v.version =
       (SELECT MAX(w.version) FROM feedbackversion w WHERE w.feedback_id = f.id)
 WHERE d.practitioner_id IS NOT NULL
 GROUP BY d.team_id
UNION ALL
SELECT 'moderation', a.team_id, a.auditor_id,
       {agreed}, {judged}, 0, 0, 0
  FROM moderation m JOIN audit a ON a.id = m.audit_id AND a.tenant_id = :t
 WHERE m.tenant_id = :t AND m.agreement IS NOT NULL
   AND m.decided_at >= :lo AND m.decided_at < :hi
 GROUP BY a.team_id, a.auditor_id
UNION ALL
SELECT 'overrides', team_id, COUNT(*), 0, 0, 0, 0, 0
  FROM done
 WHERE overall_grade IS NOT NULL AND overall_grade != 'inadequate'
   AND 'inadequate' IN (grade_heart, grade_assessment, grade_plans, grade_records,
                        grade_oversight, grade_strengths)
 GROUP BY team_id
"""


def hand_sql() -> tuple[str, dict[str, Any]]:
    lo, hi = bounds(PERIOD, ZONE)
    window = trend_window(PERIOD)
    starts = [local_start(m, ZONE) for m in window]
    days = [PERIOD.start + timedelta(days=n) for n in range((PERIOD.end - PERIOD.start).days + 1)]
    cutoffs = ", ".join(
        f"('{d.isoformat()}', '{_ts(local_start(d + timedelta(days=1), ZONE))}')" for d in days
    )
    month_case = (
        "CASE "
        + " ".join(
            f"WHEN completed_at < '{_ts(s)}' THEN {n - 1}" for n, s in enumerate(starts[1:], 1)
        )
        + f" ELSE {len(window) - 1} END"
    )
    keys = (*STANDARDS, "overall")
    agreed = " + ".join(f"SUM(json_extract(m.agreement, '$.{k}') = 1)" for k in keys)
    judged = " + ".join(f"COUNT(json_extract(m.agreement, '$.{k}'))" for k in keys)
    point = overdue_point(PERIOD, ZONE, NOW)
    sql = HAND_SQL.format(cutoffs=cutoffs, month_case=month_case, agreed=agreed, judged=judged)
    params = {
        "t": TENANT,
        "lo": _ts(lo),
        "hi": _ts(hi),
        "start": PERIOD.start.isoformat(),
        "end": PERIOD.end.isoformat(),
        "trend_lo": _ts(starts[0]),
        "as_of": point.as_of.isoformat(),
        "cut": _ts(point.cutoff),
    }
    assert local_start(next_month(window[-1]), ZONE) == hi
    return sql, params


def sql_once(path: Path) -> tuple[float, list[tuple[Any, ...]]]:
    sql, params = hand_sql()
    connection = sqlite3.connect(path)
    try:
        started = time.perf_counter()
        found = connection.execute(sql, params).fetchall()
        return time.perf_counter() - started, found
    finally:
        connection.close()


def same_figures(d: Digest, found: list[tuple[Any, ...]]) -> list[str]:
    """Where the digest and the hand-written SQL disagree; empty when they agree."""

    def total(kind: str, column: int) -> int:
        return sum(int(r[column] or 0) for r in found if r[0] == kind)

    checks = {
        "due": (d.compliance_total.due, total("compliance", 2)),
        "on time": (d.compliance_total.on_time, total("compliance", 3)),
        "declined": (d.compliance_total.declined, total("compliance", 5)),
        "completed": (d.grades.total(), total("grades", 2)),
        "inadequate": (d.meetings.inadequate, total("meetings", 2)),
        "meetings in time": (d.meetings.in_time, total("meetings", 3)),
        "opened": (d.actions_total.opened, total("actions", 2)),
        "done": (d.actions_total.closed, total("actions", 3)),
        "overdue": (d.actions_total.overdue, total("actions", 4)),
        "feedback audits": (d.feedback.audits, total("feedback", 2)),
        "responses": (d.feedback.responses, total("feedback", 3)),
        "agreed": (sum(a.agreed for a in d.by_auditor), total("moderation", 3)),
        "judged": (sum(a.judged for a in d.by_auditor), total("moderation", 4)),
        "overrides": (len(d.overrides), total("overrides", 2)),
        "trend graded": (sum(p.graded for p in d.trend), total("trend", 3)),
    }
    return [f"{k}: digest {a} vs SQL {b}" for k, (a, b) in checks.items() if a != b]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="A tenth of the size, to try it out.")
    args = parser.parse_args()
    scale = 0.1 if args.small else 1.0
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "digest.db"
        started = time.perf_counter()
        try:
            sizes = seed(path, scale)
        except Exception as exc:  # the harness failed, not the budget
            print(f"seeding failed: {exc!r}", file=sys.stderr)
            return 2
        print(f"seeded {sizes} in {time.perf_counter() - started:.1f} s; period {PERIOD.label}")
        url = f"sqlite+aiosqlite:///{path}"
        digest_times, sql_times = [], []
        result: Digest | None = None
        found: list[tuple[Any, ...]] = []
        sql_once(path)  # warm the page cache for both alike
        asyncio.run(digest_once(url))
        for _ in range(RUNS):
            seconds, result = asyncio.run(digest_once(url))
            digest_times.append(seconds)
            seconds, found = sql_once(path)
            sql_times.append(seconds)
    assert result is not None
    best_digest, best_sql = min(digest_times), min(sql_times)
    ratio = best_digest / best_sql
    problems = same_figures(result, found)
    print(f"digest (storage.digest.counts + rules): best {best_digest * 1000:.0f} ms of {RUNS}")
    print(f"hand-written SQL aggregate:               best {best_sql * 1000:.0f} ms of {RUNS}")
    print(f"ratio digest / SQL: {ratio:.2f}")
    within = best_digest <= BUDGET_S
    close = ratio <= RATIO_BUDGET
    print(f"budget ≤ {BUDGET_S:.0f} s: {'met' if within else 'MISSED'}")
    print(f"budget ≤ {RATIO_BUDGET:.0f} × SQL: {'met' if close else 'MISSED'}")
    print(
        f"figures: {result.compliance_total.on_time}/{result.compliance_total.due} on time, "
        f"{result.grades.total()} graded, {result.actions_total.opened} actions opened, "
        f"{result.actions_total.overdue} overdue, {result.feedback.responses} responses"
    )
    if problems:
        print("figures differ: " + "; ".join(problems))
        return 1
    print("the digest's figures equal the SQL's")
    return 0 if within and close else 1


if __name__ == "__main__":
    sys.exit(main())
