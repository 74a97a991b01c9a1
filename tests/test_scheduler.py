"""Scheduling without sleeping: fire times over the 2026 London clock changes; `qaloop run-job`."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections import Counter
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger
from sqlmodel import func, select

from bot.features import CATALOGUE
from bot.settings import Settings
from jobs.scheduler import DailyTrigger, trigger_for
from storage.db import SessionMaker
from storage.models import Delivery, JobRun
from tests.test_reminders_job import alex_with_everything_due

JOBS = CATALOGUE.jobs

LONDON = ZoneInfo("Europe/London")
SPRING_FORWARD = date(2026, 3, 29)  # 01:00 GMT becomes 02:00 BST
FALL_BACK = date(2026, 10, 25)  # 02:00 BST becomes 01:00 GMT


def fire_times(trigger: CronTrigger, around: date, days: int = 3) -> list[datetime]:
    """Every fire time from `days` before `around` to `days` after, as the scheduler asks."""
    start = datetime.combine(around - timedelta(days=days), time(0), tzinfo=LONDON)
    end = start + timedelta(days=2 * days + 1)
    fires: list[datetime] = []
    previous = None
    now = start
    while (fire := trigger.get_next_fire_time(previous, now)) is not None and fire < end:
        fires.append(fire)
        previous = now = fire
    return fires


def per_local_day(fires: list[datetime]) -> Counter[date]:
    return Counter(f.astimezone(LONDON).date() for f in fires)


@pytest.mark.parametrize("clock_change", [SPRING_FORWARD, FALL_BACK], ids=["29 Mar", "25 Oct"])
@pytest.mark.parametrize("at", [time(h, m) for h in range(24) for m in (0, 30)], ids=str)
def test_a_daily_job_fires_once_a_day_across_the_clock_change_whatever_its_time(
    clock_change: date, at: time
) -> None:
    trigger = DailyTrigger(hour=at.hour, minute=at.minute, timezone=LONDON)
    fires = fire_times(trigger, clock_change)
    assert set(per_local_day(fires).values()) == {1}
    assert len(fires) == 7


def test_a_plain_cron_trigger_fires_twice_in_the_repeated_hour_which_is_why_we_wrap_it() -> None:
    plain = per_local_day(fire_times(CronTrigger(hour=1, minute=30, timezone=LONDON), FALL_BACK))
    assert plain[FALL_BACK] == 2


def test_reminders_fire_at_nine_local_on_working_weekdays_either_side_of_both_changes() -> None:
    trigger = trigger_for(JOBS["reminders"], Settings(_env_file=None))  # type: ignore[call-arg]
    spring = fire_times(trigger, SPRING_FORWARD)
    assert [f.astimezone(LONDON).strftime("%a %d %H:%M %Z") for f in spring] == [
        "Thu 26 09:00 GMT",
        "Fri 27 09:00 GMT",
        "Mon 30 09:00 BST",
        "Tue 31 09:00 BST",
        "Wed 01 09:00 BST",
    ]
    autumn = fire_times(trigger, FALL_BACK)
    assert [f.astimezone(LONDON).strftime("%a %d %H:%M %Z") for f in autumn] == [
        "Thu 22 09:00 BST",
        "Fri 23 09:00 BST",
        "Mon 26 09:00 GMT",
        "Tue 27 09:00 GMT",
        "Wed 28 09:00 GMT",
    ]


def test_every_registered_job_fires_at_most_once_on_each_clock_change_day() -> None:
    settings = Settings(_env_file=None, reminders_time=time(1, 30))  # type: ignore[call-arg]
    for job in JOBS.values():
        for day in (SPRING_FORWARD, FALL_BACK):
            fires = per_local_day(fire_times(trigger_for(job, settings), day))
            # A job on chosen days only (the month's first working day) may not fire that week.
            expected = {0, 1} if job.runs_on is not None else {1}
            assert max(fires.values(), default=0) in expected, job.name


# --- qaloop run-job -------------------------------------------------------------------------------


async def qaloop(database_url: str, *args: str) -> tuple[int, str, str]:
    """Run the real command line in its own process, as an operator would."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("QALOOP_")}
    env["QALOOP_DATABASE_URL"] = database_url
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def said(text: str) -> str:
    """Rich wraps long lines to the terminal: compare words, not line breaks."""
    return " ".join(text.split())


async def rows(sessions: SessionMaker) -> tuple[int, int]:
    async with sessions() as session:
        deliveries = (await session.exec(select(func.count()).select_from(Delivery))).one()
        runs = (await session.exec(select(func.count()).select_from(JobRun))).one()
    return deliveries, runs


async def test_a_dry_run_prints_one_json_line_per_delivery_and_queues_nothing(
    database_url: str, sessions: SessionMaker
) -> None:
    await alex_with_everything_due(sessions)

    code, out, err = await qaloop(
        database_url, "run-job", "reminders", "--as-of", "2026-11-26", "--dry-run"
    )

    assert code == 0, err
    (line,) = out.splitlines()
    delivery = json.loads(line)
    assert set(delivery) == {"recipient", "conversation", "kind", "summary", "card"}
    assert delivery["recipient"]["name"] == "Alex Wilber"
    assert delivery["conversation"] == "a:personal-alex"
    assert delivery["kind"] == "my_qa"
    assert delivery["summary"] == "You have 3 QA items today"
    assert delivery["card"]["type"] == "AdaptiveCard"
    assert "Dry run of reminders: 1 delivery; nothing was queued or sent." in said(err)
    assert await rows(sessions) == (0, 0)


async def test_run_job_queues_once_for_the_day_and_says_so(
    database_url: str, sessions: SessionMaker
) -> None:
    await alex_with_everything_due(sessions)

    code, out, err = await qaloop(database_url, "run-job", "reminders", "--as-of", "2026-11-26")
    assert code == 0, err
    assert "reminders for 2026-11-26" in said(out) and "1 of 1 delivery queued" in said(out)
    assert await rows(sessions) == (1, 1)

    code, out, err = await qaloop(database_url, "run-job", "reminders", "--as-of", "2026-11-26")
    assert code == 0, err
    assert "has already run; nothing to do" in said(out)
    assert await rows(sessions) == (1, 1)


async def test_an_unknown_job_or_date_is_refused_with_what_would_work(
    database_url: str, sessions: SessionMaker
) -> None:
    code, out, err = await qaloop(database_url, "run-job", "remindres")
    assert code == 2 and out == ""
    assert "No job called “remindres”" in said(err)
    assert f"The jobs are: {', '.join(sorted(JOBS))}." in said(err)

    code, _, err = await qaloop(database_url, "run-job", "reminders", "--as-of", "26/11/2026")
    assert code == 2 and "YYYY-MM-DD" in said(err)


def test_run_job_help_lists_every_job() -> None:
    from typer.testing import CliRunner

    from bot.cli import JOB_NAMES, app

    assert tuple(sorted(JOBS)) == JOB_NAMES
    shown = CliRunner().invoke(app, ["run-job", "--help"], env={"COLUMNS": "200"}).output
    assert all(name in shown for name in JOBS)
