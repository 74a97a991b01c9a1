"""Nightly tidy-up: forget inbound activity ids once Teams can no longer re-deliver them, and the
lists people asked for on earlier days (they are redrawn only on the day they were posted)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from cards.names import CardKind
from jobs.runs import Job, JobDeps, Planned
from storage import inbound, outbox
from storage.db import transaction

KEEP_ACTIVITY_IDS = timedelta(days=2)
# A list is redrawn only on the day it was posted; a day's grace covers any time zone.
KEEP_LISTS = timedelta(days=2)


async def run(*, deps: JobDeps, now: datetime, dry_run: bool = False) -> list[Planned]:
    if not dry_run:
        async with transaction(deps.sessions) as session:
            await inbound.forget_before(session=session, cutoff=now - KEEP_ACTIVITY_IDS)
            await outbox.forget_posted(
                session,
                tenant_id=deps.tenant_id,
                kinds=(CardKind.MY_ACTIONS, CardKind.MY_AUDITS),
                before=now - KEEP_LISTS,
            )
    return []


AT = time(3, 15)
JOB = Job("housekeeping", run, at=lambda s: AT, days="*")
