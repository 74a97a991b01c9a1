"""Every scheduled job is safe to run again over whatever state it finds: over the demo council
(six months of history, moderations made without a stored sample), each job runs, and running it
again (as a run taken over after a crash does) fails nothing and plans nothing new."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.features import CATALOGUE
from bot.settings import Settings
from jobs.runs import JobDeps, run_job
from storage.db import SessionMaker
from storage.demo import DEMO_TENANT_ID, build_demo

JOBS = CATALOGUE.jobs

LONDON = ZoneInfo("Europe/London")
# The demo's day: Thursday 26 November 2026; its October moderations have no stored sample.
NOW = datetime(2026, 11, 26, 9, 0, tzinfo=LONDON)


@pytest.mark.parametrize("name", sorted(JOBS))
async def test_each_job_runs_over_the_demo_council_and_again_without_harm(
    name: str, sessions: SessionMaker, settings: Settings
) -> None:
    await build_demo(sessions=sessions, today=NOW.date())
    job = JOBS[name]

    [first] = await run_job(job, sessions=sessions, settings=settings, now=NOW)
    deps = JobDeps(sessions=sessions, settings=settings, tenant_id=DEMO_TENANT_ID)
    again = await job.run(deps=deps, now=NOW)

    assert first.state == "ran"
    assert sorted(p.dedupe_key for p in again) == sorted(p.dedupe_key for p in first.planned)
