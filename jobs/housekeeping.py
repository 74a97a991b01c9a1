"""Nightly tidy-up: forget inbound activity ids once Teams can no longer re-deliver them."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from jobs.runs import Job, JobDeps, Planned
from storage import inbound
from storage.db import transaction

KEEP_ACTIVITY_IDS = timedelta(days=2)


async def run(*, deps: JobDeps, now: datetime, dry_run: bool = False) -> list[Planned]:
    if not dry_run:
        async with transaction(deps.sessions) as session:
            await inbound.forget_before(session=session, cutoff=now - KEEP_ACTIVITY_IDS)
    return []


AT = time(3, 15)
JOB = Job("housekeeping", run, at=lambda s: AT, days="*")
