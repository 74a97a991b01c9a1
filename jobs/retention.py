"""Monthly: apply the retention policy (bot.services.retention), once per tenant and month."""

from __future__ import annotations

from datetime import datetime, time

from bot.services import retention
from jobs.runs import Job, JobDeps, Planned


async def run(*, deps: JobDeps, now: datetime, dry_run: bool = False) -> list[Planned]:
    # Nothing to send; a dry run has nothing to print (`qaloop purge --dry-run` gives the counts).
    if not dry_run:
        await retention.purge(
            sessions=deps.sessions,
            tenant_id=deps.tenant_id,
            policy=deps.settings.retention,
            now=now,
        )
    return []


AT = time(3, 30)
# Tried every night, run the first night of each month it can (the run key is the month), so a
# month the bot was down on the 1st is not skipped.
JOB = Job("retention", run, at=lambda s: AT, days="*", period_of=lambda day: f"{day:%Y-%m}")
