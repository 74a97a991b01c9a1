"""DESIGN §11, the 12-month trends budget (issue 13 item 7): good or better per standard per month
over 12 months, by service, and each auditor's grades, over 100k audits / 300k actions on SQLite
(bench_digest's council), against hand-written SQL computing the same figures in the same run;
and the size of the `stats` card that shows them.

  .venv/bin/python -m tests.bench.bench_trends [--small]

The trends' time is storage.digest.trend plus bot.rules.digest's adding up (each standard's months
and each service's totals), and storage.digest.auditor_counts plus bot.rules.trends.auditor_grades;
the SQL's is one statement each through the stdlib sqlite3 driver. Best of several runs each.
Budgets: each ≤ 2 × its SQL; `stats` for QA, a head of service and a team manager ≤ 40 KB. Exits 1
if a budget is missed or the figures differ, 2 if the harness fails.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import tempfile
import time
from collections.abc import Collection
from pathlib import Path
from typing import Any

from bot.rules.digest import (
    JUDGEMENTS,
    OVERALL,
    Counts,
    Digest,
    digest,
    local_start,
    month_so_far,
    next_month,
    overdue_point,
    teams_in,
    trend_window,
)
from bot.rules.disclosure import disclose
from bot.rules.trends import AuditorGrades, auditor_grades, window_bounds
from cards.common import card_size
from cards.digest import digest_card
from storage import digest as figures
from storage.db import make_engine, make_sessions
from tests.bench.bench_digest import NOW, TENANT, ZONE, _ts, seed

PERIOD = month_so_far(NOW.astimezone(ZONE).date())
TODAY = PERIOD.end
RATIO_BUDGET = 2.0
CARD_BUDGET = 40_000
RUNS = 7


async def trends_once(url: str) -> tuple[float, Digest, float, AuditorGrades]:
    """The trends as `stats` computes them for QA (everyone's, by service), and the auditors'."""
    engine = make_engine(url)
    sessions = make_sessions(engine)
    try:
        started = time.perf_counter()
        async with sessions() as session:
            teams = await figures.teams(session=session, tenant_id=TENANT)
            services = await figures.services(session=session, tenant_id=TENANT)
            rows = await figures.trend(session=session, tenant_id=TENANT, period=PERIOD, zone=ZONE)
        counts = Counts(
            period=PERIOD,
            trend_months=trend_window(PERIOD),
            teams=teams,
            services=services,
            trend=rows,
        )
        result = digest(counts, title="All teams", team_ids=None, today=TODAY)
        trends_seconds = time.perf_counter() - started
        started = time.perf_counter()
        start, end = window_bounds(TODAY, ZONE)
        async with sessions() as session:
            found = await figures.auditor_counts(
                session=session, tenant_id=TENANT, start=start, end=end
            )
        auditors = auditor_grades(found)
        return trends_seconds, result, time.perf_counter() - started, auditors
    finally:
        await engine.dispose()


async def card_sizes(url: str) -> dict[str, int]:
    """The whole `stats` card, as QA, a head of service (service 1, by team) and a team manager
    see it: bytes of JSON."""
    engine = make_engine(url)
    sessions = make_sessions(engine)
    try:
        async with sessions() as session:
            counts = await figures.counts(
                session=session,
                tenant_id=TENANT,
                period=PERIOD,
                zone=ZONE,
                overdue=overdue_point(PERIOD, ZONE, NOW),
            )
        scopes: list[tuple[str, Collection[int] | None, int | None, bool]] = [
            ("QA (by service)", None, None, True),
            ("head of service (by team)", teams_in(counts.teams, "service", 1), 1, False),
            ("team manager", {1}, None, False),
        ]
        sizes = {}
        for name, team_ids, service_id, qa in scopes:
            d = digest(counts, title=name, team_ids=team_ids, today=TODAY, service_id=service_id)
            sizes[name] = card_size(digest_card(disclose(d, below=3, for_qa=qa)))
        return sizes
    finally:
        await engine.dispose()


# --- the same figures, hand-written ------------------------------------------------------------


def _hand_trend() -> str:
    months = trend_window(PERIOD)
    starts = [_ts(local_start(m, ZONE)) for m in months]
    index = " ".join(f"WHEN completed_at < '{s}' THEN {n - 1}" for n, s in enumerate(starts[1:], 1))
    columns = []
    for key in JUDGEMENTS:
        column = "overall_grade" if key == OVERALL else f"grade_{key}"
        columns += [
            f"SUM({column} IS NOT NULL)",
            f"SUM({column} IN ('outstanding', 'good'))",
        ]
    return (
        f"SELECT t.service_id, CASE {index} ELSE {len(months) - 1} END AS m, {', '.join(columns)}"
        " FROM audit a JOIN team t ON t.id = a.team_id AND t.tenant_id = :t"
        " WHERE a.tenant_id = :t AND a.state IN ('completed', 'moderated')"
        " AND a.completed_at >= :lo AND a.completed_at < :hi GROUP BY t.service_id, m"
    )


HAND_AUDITORS = """
SELECT s.display_name, a.overall_grade, COUNT(*) FROM audit a
  JOIN staff s ON s.id = a.auditor_id AND s.tenant_id = :t
 WHERE a.tenant_id = :t AND a.state IN ('completed', 'moderated')
   AND a.completed_at >= :lo AND a.completed_at < :hi AND a.overall_grade IS NOT NULL
 GROUP BY a.auditor_id, s.display_name, a.overall_grade
"""


def sql_once(path: Path) -> tuple[float, list[tuple[Any, ...]], float, list[tuple[Any, ...]]]:
    months = trend_window(PERIOD)
    trend_args = {
        "t": TENANT,
        "lo": _ts(local_start(months[0], ZONE)),
        "hi": _ts(local_start(next_month(months[-1]), ZONE)),
    }
    start, end = window_bounds(TODAY, ZONE)
    auditor_args = {"t": TENANT, "lo": _ts(start), "hi": _ts(end)}
    conn = sqlite3.connect(path)
    try:
        started = time.perf_counter()
        trend = conn.execute(_hand_trend(), trend_args).fetchall()
        trend_seconds = time.perf_counter() - started
        started = time.perf_counter()
        auditors = conn.execute(HAND_AUDITORS, auditor_args).fetchall()
        return trend_seconds, trend, time.perf_counter() - started, auditors
    finally:
        conn.close()


def same_figures(
    d: Digest, trend: list[tuple[Any, ...]], auditors: AuditorGrades, by_hand: list[tuple[Any, ...]]
) -> list[str]:
    problems = []
    months = trend_window(PERIOD)
    series = {OVERALL: d.trend, **d.standard_trend}
    for n, key in enumerate(JUDGEMENTS):
        for m, point in enumerate(series[key]):
            graded = sum(r[2 + 2 * n] or 0 for r in trend if r[1] == m)
            good = sum(r[3 + 2 * n] or 0 for r in trend if r[1] == m)
            if (point.graded, point.good_or_better) != (graded, good):
                problems.append(f"{key} {months[m]}: {point.graded}/{point.good_or_better}")
    for group in d.trend_groups:
        service = int(group.name.rsplit(" ", 1)[1])
        for n, key in enumerate(JUDGEMENTS):
            graded = sum(r[2 + 2 * n] or 0 for r in trend if r[0] == service)
            if group.graded[key] != graded:
                problems.append(f"{group.name} {key}: {group.graded[key]} vs {graded}")
    hand: dict[str, dict[str, int]] = {}
    for name, grade, n in by_hand:
        hand.setdefault(name, {})[grade] = n
    for one in auditors.auditors:
        if {g.value: n for g, n in one.counts.items() if n} != hand.get(one.name):
            problems.append(f"auditor {one.name}")
    if len(auditors.auditors) != len(hand):
        problems.append(f"{len(auditors.auditors)} auditors vs {len(hand)}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="A tenth of the size, to try it out.")
    args = parser.parse_args()
    scale = 0.1 if args.small else 1.0
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "trends.db"
        started = time.perf_counter()
        try:
            sizes = seed(path, scale)
        except Exception as exc:  # the harness failed, not the budget
            print(f"seeding failed: {exc!r}", file=sys.stderr)
            return 2
        print(
            f"seeded {sizes} in {time.perf_counter() - started:.1f} s; "
            f"trends {trend_window(PERIOD)[0]:%b %Y} to {PERIOD.label}"
        )
        url = f"sqlite+aiosqlite:///{path}"
        times: dict[str, list[float]] = {"trend": [], "trend_sql": [], "aud": [], "aud_sql": []}
        sql_once(path)  # warm the page cache for both alike
        asyncio.run(trends_once(url))
        for _ in range(RUNS):
            trend_s, result, aud_s, auditors = asyncio.run(trends_once(url))
            times["trend"].append(trend_s)
            times["aud"].append(aud_s)
            trend_sql_s, trend, aud_sql_s, by_hand = sql_once(path)
            times["trend_sql"].append(trend_sql_s)
            times["aud_sql"].append(aud_sql_s)
        cards = asyncio.run(card_sizes(url))
    best = {k: min(v) for k, v in times.items()}
    met = True
    for what, ours, theirs in (
        ("12-month trends (storage + rules)", "trend", "trend_sql"),
        ("auditors' grades (storage + rules)", "aud", "aud_sql"),
    ):
        ratio = best[ours] / best[theirs]
        within = ratio <= RATIO_BUDGET
        met &= within
        print(
            f"{what}: best {best[ours] * 1000:.0f} ms of {RUNS}; hand-written SQL "
            f"{best[theirs] * 1000:.0f} ms; ratio {ratio:.2f} "
            f"(budget ≤ {RATIO_BUDGET:.0f}×: {'met' if within else 'MISSED'})"
        )
    for name, size in cards.items():
        within = size <= CARD_BUDGET
        met &= within
        print(
            f"stats card, {name}: {size / 1000:.1f} KB (budget ≤ 40 KB: "
            f"{'met' if within else 'MISSED'})"
        )
    last = result.trend[-2]
    print(
        f"figures: {sum(p.graded for p in result.trend)} graded in 12 months; "
        f"{last.label} good or better {last.good_or_better}/{last.graded}; "
        f"{len(result.trend_groups)} services; {len(auditors.auditors)} auditors"
    )
    problems = same_figures(result, trend, auditors, by_hand)
    if problems:
        print("figures differ: " + "; ".join(problems[:5]))
        return 1
    print("the trends' and auditors' figures equal the SQL's")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
