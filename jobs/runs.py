"""Running a job once per (tenant, period): claim the run key, plan, enqueue, record the outcome."""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, Literal, Protocol
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.settings import Settings
from storage import job_runs, outbox
from storage.db import SessionMaker, transaction

log = logging.getLogger(__name__)

ENQUEUE_CHUNK = 200
# Nobody wants the morning's card in the evening: a missed run is made up until then.
CATCH_UP_UNTIL = time(17, 0)


@dataclass(frozen=True, slots=True)
class JobDeps:
    """What a job may use: the database, the settings, and the one tenant it runs for."""

    sessions: SessionMaker
    settings: Settings
    tenant_id: str

    @property
    def zone(self) -> ZoneInfo:
        return self.settings.zone


@dataclass(frozen=True, slots=True)
class Planned:
    """One delivery a job would make; enqueued as it is, or printed by a dry run."""

    # None for a post to a channel.
    recipient_staff_id: int | None
    recipient_name: str
    conversation_ref_id: int
    conversation_id: str
    kind: str
    # The notification preview: never a case reference.
    summary: str
    card: dict[str, Any]
    dedupe_key: str
    subjects: list[str] = field(default_factory=list)

    def dry_run_line(self) -> str:
        """The JSON line `qaloop run-job --dry-run` prints (DESIGN §5)."""
        return json.dumps(
            {
                "recipient": {"staff_id": self.recipient_staff_id, "name": self.recipient_name},
                "conversation": self.conversation_id,
                "kind": self.kind,
                "summary": self.summary,
                "card": self.card,
            },
            ensure_ascii=False,
        )


class JobFunction(Protocol):
    def __call__(
        self, *, deps: JobDeps, now: datetime, dry_run: bool = False
    ) -> Awaitable[list[Planned]]: ...


@dataclass(frozen=True, slots=True)
class Job:
    name: str
    run: JobFunction
    # The local time it fires at, read from the settings.
    at: Callable[[Settings], time]
    # Cron day_of_week, e.g. "mon-fri".
    days: str
    # A run missed while no replica was up is made on start-up until this local time; None: never.
    catch_up_until: time | None = None
    # Of the days `days` names, the ones it runs on (e.g. the month's first working day); None: all.
    runs_on: Callable[[date], bool] | None = None
    # The run key's period from the local date, e.g. the month "2026-11" for a monthly job, so it
    # runs once that month; None: the date itself (a daily job).
    period_of: Callable[[date], str] | None = None

    def period(self, now: datetime, zone: ZoneInfo) -> str:
        """The run key's period: the local date, or what `period_of` makes of it."""
        day = now.astimezone(zone).date()
        return self.period_of(day) if self.period_of is not None else day.isoformat()


@dataclass(frozen=True, slots=True)
class Outcome:
    tenant_id: str
    period: str
    # ran: this caller did it; taken: another run has the key; completed: a finished run was
    # made again for whoever it missed (nothing sent twice); failed: see the log.
    state: Literal["ran", "taken", "completed", "dry_run", "failed"]
    planned: list[Planned] = field(default_factory=list)
    queued: int = 0


async def run_job(
    job: Job,
    *,
    sessions: SessionMaker,
    settings: Settings,
    now: datetime,
    dry_run: bool = False,
    tenant_ids: Sequence[str] | None = None,
    complete: bool = False,
) -> list[Outcome]:
    """Run `job` for each tenant (all of them unless given): once per period, whoever else tries.

    A dry run claims nothing and enqueues nothing; it returns what would be sent. `complete`
    makes a run that has finished again for those it missed (people who became reachable since):
    each delivery's dedupe key keeps anyone from getting it twice.
    """
    if tenant_ids is None:
        async with sessions() as session:
            tenant_ids = await job_runs.tenant_ids(session=session)
    period = job.period(now, settings.zone)
    outcomes = []
    for tenant_id in tenant_ids:
        deps = JobDeps(sessions=sessions, settings=settings, tenant_id=tenant_id)
        if dry_run:
            planned = await job.run(deps=deps, now=now, dry_run=True)
            outcomes.append(Outcome(tenant_id, period, "dry_run", planned))
            continue
        if complete and await _finished(deps, job, period):
            outcomes.append(await _complete(job, deps, now, period))
            continue
        outcomes.append(await _run_once(job, deps, now, period))
    return outcomes


async def _finished(deps: JobDeps, job: Job, period: str) -> bool:
    async with deps.sessions() as session:
        run = await job_runs.find(
            session=session, tenant_id=deps.tenant_id, job=job.name, period=period
        )
    return run is not None and run.state == "done"


async def _complete(job: Job, deps: JobDeps, now: datetime, period: str) -> Outcome:
    """The finished run made again; only what its dedupe keys have not seen is queued."""
    planned = await job.run(deps=deps, now=now)
    queued = await _enqueue(deps, planned)
    log.info(
        "%s for %s in tenant %s completed: %d more queued", job.name, period, deps.tenant_id, queued
    )
    return Outcome(deps.tenant_id, period, "completed", planned, queued)


async def _enqueue(deps: JobDeps, planned: list[Planned]) -> int:
    """Queue `planned`, a chunk per transaction, so other writers (every turn, on SQLite) never
    wait long; a delivery whose dedupe key was queued before is skipped. How many were queued."""
    queued = 0
    for start in range(0, len(planned), ENQUEUE_CHUNK):
        async with transaction(deps.sessions) as session:
            for delivery in planned[start : start + ENQUEUE_CHUNK]:
                queued += await enqueue_planned(session, deps.tenant_id, delivery)
    return queued


async def enqueue_planned(session: AsyncSession, tenant_id: str, delivery: Planned) -> int:
    """Queue one planned delivery in the caller's transaction; 0 if its key was queued before."""
    return await outbox.enqueue(
        session,
        tenant_id=tenant_id,
        dedupe_key=delivery.dedupe_key,
        kind=delivery.kind,
        conversation_ref_id=delivery.conversation_ref_id,
        summary=delivery.summary,
        card=delivery.card,
        recipient_staff_id=delivery.recipient_staff_id,
        subjects=delivery.subjects,
    )


async def _run_once(job: Job, deps: JobDeps, now: datetime, period: str) -> Outcome:
    tenant_id = deps.tenant_id
    run_id = await job_runs.claim(
        sessions=deps.sessions, tenant_id=tenant_id, job=job.name, period=period
    )
    if run_id is None:
        log.info("%s for %s in tenant %s: already run elsewhere", job.name, period, tenant_id)
        return Outcome(tenant_id, period, "taken")
    try:
        planned = await job.run(deps=deps, now=now)
        # A crash part-way leaves the run "running" until it is taken over as stale; the dedupe
        # keys then skip whatever was queued already.
        queued = await _enqueue(deps, planned)
        async with transaction(deps.sessions) as session:
            await job_runs.finish(
                session, run_id=run_id, detail=f"{len(planned)} planned, {queued} queued"
            )
    except Exception as exc:  # one tenant's failure must not stop the others; it is recorded
        # Frames only: an exception's message can carry query parameters, such as case refs.
        log.error(
            "%s for %s in tenant %s failed: %s\n%s",
            job.name,
            period,
            tenant_id,
            type(exc).__name__,
            "".join(traceback.format_tb(exc.__traceback__)),
        )
        await job_runs.fail(sessions=deps.sessions, run_id=run_id, detail=type(exc).__name__)
        return Outcome(tenant_id, period, "failed")
    log.info(
        "%s for %s in tenant %s: %d planned, %d queued",
        job.name,
        period,
        tenant_id,
        len(planned),
        queued,
    )
    return Outcome(tenant_id, period, "ran", planned, queued)
