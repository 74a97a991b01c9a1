"""Every scheduled job, registered in one place with explicit ids, coalescing and misfire grace."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from jobs import housekeeping
from storage.db import SessionMaker

# A stalled loop must not silently skip a run: APScheduler's default grace is one second.
MISFIRE_GRACE_S = 15 * 60


def create_scheduler(
    *, sessions: SessionMaker, zone: ZoneInfo, clock: Callable[[], datetime]
) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(
        timezone=zone,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE_S},
    )

    async def tidy() -> None:
        await housekeeping.run(sessions=sessions, now=clock())

    scheduler.add_job(
        tidy, CronTrigger(hour=3, minute=15, timezone=zone), id="housekeeping", name="housekeeping"
    )
    return scheduler
