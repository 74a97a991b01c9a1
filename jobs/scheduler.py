"""How the app's jobs are scheduled: explicit ids, coalescing, misfire grace in minutes, cron in
the tenant's zone, and a catch-up for a run missed or left unfinished while no replica was up.

Which jobs there are is the features' to say (bot.features): each job module declares its `Job`,
and the app passes the list in."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from datetime import date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.settings import Settings
from jobs.runs import Job, Outcome, run_job
from storage import job_runs
from storage.db import SessionMaker, transaction

log = logging.getLogger(__name__)

# A stalled loop must not silently skip a run: APScheduler's default grace is one second.
MISFIRE_GRACE_S = 15 * 60
# How often a replica looks for a run that should have happened and is not done.
CATCH_UP_EVERY_MIN = 10


class DailyTrigger(CronTrigger):  # type: ignore[misc]
    """A cron trigger that fires at most once per local day.

    When the clocks go back, a time in the repeated hour (01:30 on 25 October in London) comes
    twice and CronTrigger fires at both; the second is moved to the next day's time.
    """

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        fire: datetime | None = super().get_next_fire_time(previous_fire_time, now)
        if fire is None or previous_fire_time is None:
            return fire
        zone: tzinfo = self.timezone
        fired_on = previous_fire_time.astimezone(zone).date()
        if fire.astimezone(zone).date() != fired_on:
            return fire
        # Without the previous fire time: CronTrigger would start from just after it again.
        next_day = datetime.combine(fired_on + timedelta(days=1), time(0), tzinfo=zone)
        later: datetime | None = super().get_next_fire_time(None, next_day)
        return later


class SelectedDaysTrigger(DailyTrigger):
    """A daily trigger that fires only on the days `runs_on` accepts, e.g. the first working day
    of the month (which cron cannot say: bank holidays move it)."""

    # Far enough for any monthly or quarterly rule; a rule that never accepts a day never fires.
    LOOK_AHEAD_DAYS = 400

    def __init__(self, *, runs_on: Callable[[date], bool], **cron: object) -> None:
        super().__init__(**cron)
        self.runs_on = runs_on

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        zone: tzinfo = self.timezone
        fire = super().get_next_fire_time(previous_fire_time, now)
        for _ in range(self.LOOK_AHEAD_DAYS):
            if fire is None or self.runs_on(fire.astimezone(zone).date()):
                return fire
            next_day = datetime.combine(
                fire.astimezone(zone).date() + timedelta(days=1), time(0), tzinfo=zone
            )
            fire = super().get_next_fire_time(None, next_day)
        return None


def trigger_for(job: Job, settings: Settings) -> DailyTrigger:
    at = job.at(settings)
    cron = {"day_of_week": job.days, "hour": at.hour, "minute": at.minute}
    if job.runs_on is not None:
        return SelectedDaysTrigger(runs_on=job.runs_on, timezone=settings.zone, **cron)
    return DailyTrigger(timezone=settings.zone, **cron)


def scheduled_at(job: Job, settings: Settings, day: datetime) -> datetime | None:
    """When the job fires on `day`'s local date, or None if it does not fire that day."""
    zone = settings.zone
    local = day.astimezone(zone).date()
    midnight = datetime.combine(local, time(0), tzinfo=zone)
    fire: datetime | None = trigger_for(job, settings).get_next_fire_time(None, midnight)
    if fire is None or fire.astimezone(zone).date() != local:
        return None
    return fire


async def catch_up(
    jobs: Collection[Job], *, sessions: SessionMaker, settings: Settings, now: datetime
) -> list[Outcome]:
    """Make today's runs that should have happened by now and are not done, while still useful.

    Runs on start-up (a missed run) and every few minutes after (a run whose process died, once
    it is stale, or one that failed). Only for tenants that existed when the run was due: a
    council set up at 10:00 missed nothing at 09:00.
    """
    outcomes: list[Outcome] = []
    for job, fire in _catching_up(jobs, settings, now):
        period = job.period(now, settings.zone)
        async with sessions() as session:
            existed = await job_runs.tenant_ids(session=session, created_by=fire)
            done = await job_runs.done_for(session=session, job=job.name, period=period)
        missed = [t for t in existed if t not in done]
        if missed:
            log.info("catching up %s for %d tenants", job.name, len(missed))
            outcomes += await run_job(
                job, sessions=sessions, settings=settings, now=now, tenant_ids=missed
            )
    return outcomes


async def set_aside_catch_up(
    jobs: Collection[Job],
    *,
    sessions: SessionMaker,
    settings: Settings,
    now: datetime,
    tenant_id: str,
) -> list[str]:
    """Set aside, for one tenant, the runs a catch-up would make `now`: the names of those jobs.

    For the demo council as the Agents Playground starts: a catch-up there would send the day's
    cards before anyone has the page open, and the page shows only what arrives while it is
    open. Set aside, each person's card comes with their first message instead (the late-joiner
    card), and `qaloop run-job` still makes the run for everyone.
    """
    names = []
    async with transaction(sessions) as session:
        for job, _ in _catching_up(jobs, settings, now):
            period = job.period(now, settings.zone)
            if await job_runs.set_aside(
                session=session, tenant_id=tenant_id, job=job.name, period=period
            ):
                names.append(job.name)
    return names


def _catching_up(
    jobs: Collection[Job], settings: Settings, now: datetime
) -> list[tuple[Job, datetime]]:
    """The jobs a catch-up would make `now` if not done: due today by now, and still in time."""
    due = []
    for job in jobs:
        if job.catch_up_until is None:
            continue
        fire = scheduled_at(job, settings, now)
        if fire is None or now < fire or now.astimezone(settings.zone).time() >= job.catch_up_until:
            continue
        due.append((job, fire))
    return due


def create_scheduler(
    jobs: Collection[Job],
    *,
    sessions: SessionMaker,
    clock: Callable[[], datetime],
    settings: Settings | None = None,
    zone: ZoneInfo | None = None,
) -> AsyncIOScheduler:
    """The scheduler with every job in `jobs`, and the catch-up: as soon as it starts, then often.

    `settings` gives the job times and the zone; `zone` alone is the older call (default times).
    """
    if settings is None:
        settings = Settings.model_construct(timezone=(zone or ZoneInfo("Europe/London")).key)
    chosen = settings
    scheduler = AsyncIOScheduler(
        timezone=chosen.zone,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE_S},
    )

    def firing(job: Job) -> Callable[[], object]:
        async def fire() -> None:
            await run_job(job, sessions=sessions, settings=chosen, now=clock())

        return fire

    for job in jobs:
        scheduler.add_job(firing(job), trigger_for(job, chosen), id=job.name, name=job.name)

    async def look_back() -> None:
        await catch_up(jobs, sessions=sessions, settings=chosen, now=clock())

    # As soon as the scheduler starts, then every few minutes.
    scheduler.add_job(
        look_back,
        "interval",
        minutes=CATCH_UP_EVERY_MIN,
        next_run_time=datetime.now(chosen.zone),
        id="catch_up",
        name="catch up missed runs",
    )
    return scheduler
