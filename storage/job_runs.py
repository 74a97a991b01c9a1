"""Run keys for scheduled jobs: a unique (tenant, job, period) row makes a run happen once."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import audit_log
from storage.db import SessionMaker
from storage.models import JobRun, Tenant, utcnow

# A run set aside (the demo's, made as the Agents Playground starts): the catch-up leaves it, as
# it would a done one; a run asked for (qaloop run-job, the scheduler firing) takes it over.
SET_ASIDE = "set_aside"
# A run still "running" after this long died with its process; another may take it over. Runs take
# seconds (5,000 people: about 15 s), so this is generous.
STALE_AFTER = timedelta(minutes=10)


async def claim(*, sessions: SessionMaker, tenant_id: str, job: str, period: str) -> int | None:
    """The run's id when this caller won the (tenant, job, period) key; None when another has it.

    The insert commits on its own, before the job's work, so every replica sees the key at once.
    A failed run, or one that stalled long ago, is taken over by whoever asks next.
    """
    async with sessions() as session:
        run = JobRun(tenant_id=tenant_id, job=job, period=period)
        session.add(run)
        try:
            await session.commit()
        except IntegrityError:
            await session.rollback()
        else:
            return run.id
    async with sessions() as session:
        earlier = await find(session=session, tenant_id=tenant_id, job=job, period=period)
        if earlier is None or earlier.id is None:
            return None
        if earlier.state == "done":
            return None
        if earlier.state == "running" and utcnow() - earlier.started_at < STALE_AFTER:
            return None
        # Compare-and-set on what we read, so two replicas taking over at once cannot both win.
        result = await session.exec(
            update(JobRun)
            .where(
                col(JobRun.id) == earlier.id,
                col(JobRun.state) == earlier.state,
                col(JobRun.started_at) == earlier.started_at,
            )
            .values(state="running", started_at=utcnow(), finished_at=None, detail=None)
        )
        await session.commit()
        return earlier.id if result.rowcount == 1 else None


async def finish(session: AsyncSession, *, run_id: int, detail: str) -> None:
    """Mark the run done, in the transaction that wrote its results."""
    await session.exec(
        update(JobRun)
        .where(col(JobRun.id) == run_id)
        .values(state="done", finished_at=utcnow(), detail=detail[:2000])
    )


async def fail(*, sessions: SessionMaker, run_id: int, detail: str) -> None:
    async with sessions() as session:
        await session.exec(
            update(JobRun)
            .where(col(JobRun.id) == run_id)
            .values(state="failed", finished_at=utcnow(), detail=detail[:2000])
        )
        await session.commit()


async def find(*, session: AsyncSession, tenant_id: str, job: str, period: str) -> JobRun | None:
    result = await session.exec(
        select(JobRun).where(
            JobRun.tenant_id == tenant_id, JobRun.job == job, JobRun.period == period
        )
    )
    return result.first()


async def done_for(*, session: AsyncSession, job: str, period: str) -> set[str]:
    """The tenants whose run of `job` for `period` is done, or set aside."""
    result = await session.exec(
        select(JobRun.tenant_id).where(
            JobRun.job == job,
            JobRun.period == period,
            col(JobRun.state).in_(("done", SET_ASIDE)),
        )
    )
    return set(result.all())


async def set_aside(*, session: AsyncSession, tenant_id: str, job: str, period: str) -> bool:
    """Record the (tenant, job, period) run as set aside, audit-logged; False if it has a run."""
    if await find(session=session, tenant_id=tenant_id, job=job, period=period) is not None:
        return False
    run = JobRun(
        tenant_id=tenant_id,
        job=job,
        period=period,
        state=SET_ASIDE,
        finished_at=utcnow(),
        detail="set aside: not caught up; run-job or the scheduler still runs it",
    )
    session.add(run)
    await session.flush()
    audit_log.record(
        session,
        tenant_id=tenant_id,
        actor_id=None,
        event="job.set_aside",
        entity="jobrun",
        entity_id=run.id,
        after={"job": job, "period": period},
    )
    return True


async def tenant_ids(*, session: AsyncSession, created_by: datetime | None = None) -> list[str]:
    """Every tenant, or those that already existed at `created_by`."""
    query = select(Tenant.id).order_by(col(Tenant.id))
    if created_by is not None:
        query = query.where(col(Tenant.created_at) <= created_by)
    return list((await session.exec(query)).all())
