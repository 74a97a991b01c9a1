"""The scheduler on an injected clock (issue 16 item 18): an event loop stalled over a scheduled
minute runs the job once, and a 01:30 job runs once a day across the London clock changes of
29 March and 25 October 2026, with the catch-up looking in every ten minutes; no sleeping."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlmodel import select

from bot.settings import Settings
from jobs.runs import CATCH_UP_UNTIL, Job, JobDeps, Planned
from jobs.scheduler import MISFIRE_GRACE_S, catch_up, create_scheduler
from storage.db import SessionMaker
from storage.models import JobRun
from tests.helpers import Clock, small_council
from tests.test_reminders_job import set_tenant_created

LONDON = ZoneInfo("Europe/London")


class Ticks:
    """A job that notes the clock each time it really runs (not merely fires)."""

    def __init__(self) -> None:
        self.runs: list[datetime] = []

    async def __call__(
        self, *, deps: JobDeps, now: datetime, dry_run: bool = False
    ) -> list[Planned]:
        self.runs.append(now)
        return []


async def wake(scheduler: AsyncIOScheduler, clock: Clock, at: datetime) -> list[str]:
    """The scheduler wakes at `at` (as AsyncIOScheduler's timer does, perhaps late): what
    APScheduler 3 does then, through its public job API. Each job due by `at` runs once for its
    latest missed time (coalesce), if `at` is within its misfire grace of that time, and its next
    time is worked out from that one. Returns the ids of the jobs that ran."""
    clock.now = at
    ran = []
    for job in scheduler.get_jobs():
        if job.id == "catch_up":
            continue  # an interval job in real time; the tests call catch_up themselves
        run_times = []
        fire = job.next_run_time
        while fire is not None and fire <= at:
            run_times.append(fire)
            fire = job.trigger.get_next_fire_time(fire, at)
        if not run_times:
            continue
        assert job.coalesce
        latest = run_times[-1]
        if (at - latest).total_seconds() <= job.misfire_grace_time:
            await job.func(*job.args, **job.kwargs)
            ran.append(job.id)
        job.modify(next_run_time=job.trigger.get_next_fire_time(latest, at))
    return ran


async def scheduler_from(
    jobs: list[Job], sessions: SessionMaker, settings: Settings, clock: Clock
) -> AsyncIOScheduler:
    """create_scheduler's scheduler, its jobs' first times taken from the injected clock."""
    scheduler = create_scheduler(jobs, sessions=sessions, settings=settings, clock=clock)
    scheduler.start(paused=True)
    for job in scheduler.get_jobs():
        job.modify(next_run_time=job.trigger.get_next_fire_time(None, clock()))
    return scheduler


async def runs_of(sessions: SessionMaker, name: str) -> list[str]:
    async with sessions() as session:
        rows = await session.exec(select(JobRun.period).where(JobRun.job == name))
        return sorted(rows.all())


async def test_a_loop_stalled_five_seconds_over_the_scheduled_minute_runs_the_job_once(
    sessions: SessionMaker, settings: Settings
) -> None:
    council = await small_council(sessions)
    start = datetime(2026, 11, 26, 8, 59, 30, tzinfo=LONDON)
    await set_tenant_created(sessions, council, start - timedelta(days=30))
    ticks = Ticks()
    job = Job("tick", ticks, at=lambda s: time(9, 0), days="*", catch_up_until=CATCH_UP_UNTIL)
    clock = Clock(start)
    scheduler = await scheduler_from([job], sessions, settings, clock)
    try:
        assert await wake(scheduler, clock, start) == []
        # The loop is busy from 08:59:58 to 09:00:05: the 09:00 timer fires five seconds late.
        stalled_until = datetime(2026, 11, 26, 9, 0, 5, tzinfo=LONDON)
        assert await wake(scheduler, clock, stalled_until) == ["tick"]
        # The catch-up, due at the same moment, and a second replica's, find it done.
        for later in (timedelta(seconds=1), timedelta(minutes=10)):
            await catch_up([job], sessions=sessions, settings=settings, now=stalled_until + later)
        assert await wake(scheduler, clock, stalled_until + timedelta(seconds=1)) == []
        assert await wake(scheduler, clock, stalled_until + timedelta(hours=8)) == []
        next_day = stalled_until + timedelta(days=1)
        assert await wake(scheduler, clock, next_day) == ["tick"]
    finally:
        scheduler.shutdown(wait=False)
    assert ticks.runs == [stalled_until, next_day]
    assert await runs_of(sessions, "tick") == ["2026-11-26", "2026-11-27"]


async def test_a_loop_stalled_past_the_misfire_grace_is_made_up_by_the_catch_up_once(
    sessions: SessionMaker, settings: Settings
) -> None:
    council = await small_council(sessions)
    start = datetime(2026, 11, 26, 8, 59, tzinfo=LONDON)
    await set_tenant_created(sessions, council, start - timedelta(days=30))
    ticks = Ticks()
    job = Job("tick", ticks, at=lambda s: time(9, 0), days="*", catch_up_until=CATCH_UP_UNTIL)
    clock = Clock(start)
    scheduler = await scheduler_from([job], sessions, settings, clock)
    try:
        late = datetime(2026, 11, 26, 9, 0, tzinfo=LONDON) + timedelta(seconds=MISFIRE_GRACE_S + 60)
        assert await wake(scheduler, clock, late) == [], "missed: too late for the timer"
        await catch_up([job], sessions=sessions, settings=settings, now=late)
        await catch_up(
            [job], sessions=sessions, settings=settings, now=late + timedelta(minutes=10)
        )
    finally:
        scheduler.shutdown(wait=False)
    assert ticks.runs == [late]


@pytest.mark.parametrize(
    ("first", "clock_change"),
    [(date(2026, 3, 27), date(2026, 3, 29)), (date(2026, 10, 23), date(2026, 10, 25))],
    ids=["29 Mar", "25 Oct"],
)
async def test_a_0130_job_runs_once_a_day_across_the_clock_change(
    first: date, clock_change: date, sessions: SessionMaker, settings: Settings
) -> None:
    council = await small_council(sessions)
    start = datetime.combine(first, time(0), tzinfo=LONDON)
    await set_tenant_created(sessions, council, start - timedelta(days=30))
    ticks = Ticks()
    job = Job("tick", ticks, at=lambda s: time(1, 30), days="*", catch_up_until=CATCH_UP_UNTIL)
    clock = Clock(start)
    scheduler = await scheduler_from([job], sessions, settings, clock)
    days = 5
    try:
        # Every ten minutes, a few seconds late, in real (UTC) time: the timer wakes, and the
        # catch-up looks; 25 October has 25 hours of them, 29 March 23.
        at = start.astimezone(LONDON) + timedelta(seconds=7)
        while at < start + timedelta(days=days):
            await wake(scheduler, clock, at)
            await catch_up([job], sessions=sessions, settings=settings, now=at)
            at = (at.astimezone(ZoneInfo("UTC")) + timedelta(minutes=10)).astimezone(LONDON)
    finally:
        scheduler.shutdown(wait=False)
    per_day = Counter(run.astimezone(LONDON).date() for run in ticks.runs)
    assert per_day == {first + timedelta(days=n): 1 for n in range(days)}
    assert await runs_of(sessions, "tick") == [
        (first + timedelta(days=n)).isoformat() for n in range(days)
    ]
    [on_the_day] = [r for r in ticks.runs if r.astimezone(LONDON).date() == clock_change]
    # 25 Oct: at the first of the two 01:30s (BST). 29 Mar: 01:30 never comes, so as the clocks
    # go forward (01:00 GMT is 02:00 BST).
    expected = "01:30 BST" if clock_change.month == 10 else "02:00 BST"
    assert on_the_day.astimezone(LONDON).strftime("%H:%M %Z") == expected
