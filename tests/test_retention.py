"""The retention policy: a dry run and a real run remove the same, counted in the audit log; an
audit goes only when nothing about it is still live; the figures from the first whole month after
the cut-off are as they were."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlmodel import col, select, update
from typer.testing import CliRunner

from bot.cli import app
from bot.rules.digest import Digest, month
from bot.rules.retention import Policy, cutoffs, first_period_kept
from bot.services.reports import load_digest
from bot.services.retention import purge
from bot.settings import Settings
from jobs import retention as retention_job
from jobs.runs import run_job
from storage.db import SessionMaker, transaction
from storage.demo import DEMO_TENANT_ID, build_demo
from storage.models import (
    AuditLog,
    ConversationRef,
    Delivery,
    DeliveryAttempt,
    Staff,
    UTCDateTime,
)

TODAY = date(2026, 11, 26)
LONDON = ZoneInfo("Europe/London")
# A year on from a demo council whose history runs from June to November 2026, audits and free
# text are kept a year: the cut-off (15 September 2026) falls inside that history.
NOW = datetime(2027, 9, 15, 2, 30, tzinfo=UTC)
POLICY = Policy(
    delivered_days=30, leaver_reference_days=90, free_text_years=1, closed_audit_years=1
)
TABLES = (
    "audit",
    "action",
    "feedback",
    "feedbackversion",
    "moderation",
    "actionmeeting",
    "extensionrequest",
    "delivery",
    "deliveryattempt",
    "conversationref",
    "staff",
    "case",
    "auditlog",
)


async def _count(sessions: SessionMaker, statement: str, **params: Any) -> int:
    query = sa.text(statement)
    if "cut" in params:
        query = query.bindparams(sa.bindparam("cut", type_=UTCDateTime))
    async with sessions() as session:
        connection = await session.connection()
        return int((await connection.execute(query, params)).scalar_one())


async def _sizes(sessions: SessionMaker) -> dict[str, int]:
    return {t: await _count(sessions, f'SELECT count(*) FROM "{t}"') for t in TABLES}


@pytest.fixture
async def council(sessions: SessionMaker) -> SessionMaker:
    """The demo council dated as it happened (as migration 0011 dates old rows), with messages
    delivered long ago and lately, and a leaver whose chat was last used in May 2027."""
    await build_demo(sessions=sessions, today=TODAY)
    async with sessions() as session, session.begin():
        connection = await session.connection()
        for statement in (
            "UPDATE audit SET updated_at = COALESCE(completed_at, created_at)",
            "UPDATE action SET updated_at = COALESCE(cancelled_at, confirmed_at, done_at, "
            "created_at)",
            "UPDATE moderation SET updated_at = COALESCE(decided_at, created_at)",
        ):
            await connection.execute(sa.text(statement))
    async with transaction(sessions) as session:
        refs = (
            await session.exec(
                select(ConversationRef)
                .where(ConversationRef.tenant_id == DEMO_TENANT_ID)
                .order_by(col(ConversationRef.id))
            )
        ).all()
        active, leaving = refs[0], refs[1]
        for n, sent in enumerate(
            (
                datetime(2027, 7, 1, tzinfo=UTC),
                datetime(2027, 8, 10, tzinfo=UTC),
                datetime(2027, 9, 1, tzinfo=UTC),
                None,
            )
        ):
            delivery = Delivery(
                tenant_id=DEMO_TENANT_ID,
                dedupe_key=f"test:{n}",
                kind="reminder",
                recipient_staff_id=active.staff_id,
                conversation_ref_id=active.id or 0,
                summary="Your QA items today",
                card={},
                state="sent" if sent else "pending",
                sent_at=sent,
            )
            session.add(delivery)
            await session.flush()
            session.add(
                DeliveryAttempt(tenant_id=DEMO_TENANT_ID, delivery_id=delivery.id or 0, attempt=1)
            )
        await session.exec(
            update(ConversationRef)
            .where(col(ConversationRef.id).in_([active.id, leaving.id]))
            .values(updated_at=datetime(2027, 5, 1, tzinfo=UTC))
        )
        await session.exec(
            update(Staff).where(col(Staff.id) == leaving.staff_id).values(active=False)
        )
    return sessions


async def _digest(sessions: SessionMaker, first: date) -> Digest:
    return await load_digest(
        sessions=sessions,
        tenant_id=DEMO_TENANT_ID,
        period=month(first),
        zone=LONDON,
        now=datetime(2026, 12, 1, 8, tzinfo=UTC),
        below=3,
    )


def _whole_months(d: Digest, first: date) -> Digest:
    # The trend by service or team adds up all its months, so it is among the affected figures.
    return dataclasses.replace(
        d,
        trend=[p for p in d.trend if p.month >= first],
        standard_trend={
            k: [p for p in points if p.month >= first] for k, points in d.standard_trend.items()
        },
        trend_groups=[],
    )


async def test_dry_run_and_real_run_agree_and_keep_the_figures(council: SessionMaker) -> None:
    cut = cutoffs(POLICY, NOW)
    before = await _sizes(council)
    live = "SELECT count(*) FROM action WHERE state IN ('open', 'done')"
    live_actions = await _count(council, live)
    october = await _digest(council, date(2026, 10, 1))
    november = await _digest(council, date(2026, 11, 1))
    text_kept = await _count(
        council,
        "SELECT count(*) FROM feedbackversion WHERE submitted_at >= :cut "
        "AND (worked_well IS NOT NULL OR could_be_better IS NOT NULL)",
        cut=cut.free_text,
    )

    dry = await purge(
        sessions=council, tenant_id=DEMO_TENANT_ID, policy=POLICY, now=NOW, dry_run=True
    )
    assert await _sizes(council) == before
    real = await purge(sessions=council, tenant_id=DEMO_TENANT_ID, policy=POLICY, now=NOW)
    assert real.counts == dry.counts
    after = await _sizes(council)

    counts = real.counts
    assert 0 < counts["audits"] < before["audit"]
    assert before["audit"] - after["audit"] == counts["audits"]
    assert before["action"] - after["action"] == counts["actions"]
    assert before["feedback"] - after["feedback"] == counts["feedback"]
    assert before["moderation"] - after["moderation"] == counts["moderations"]
    # The two sent before 16 August; the one sent since and the one still waiting stay.
    assert counts["delivered_messages"] == 2
    assert before["delivery"] - after["delivery"] == 2
    assert before["deliveryattempt"] - after["deliveryattempt"] == 2
    # The leaver's chat; the active person's, unused as long, stays.
    assert counts["leaver_references"] == 1
    assert before["conversationref"] - after["conversationref"] == 1
    assert after["staff"] == before["staff"] and after["case"] == before["case"]
    assert counts["feedback_comments"] + counts["audit_notes"] > 0
    # Nothing still being worked on goes.
    assert live_actions > 0 and await _count(council, live) == live_actions
    assert (
        await _count(
            council,
            "SELECT count(*) FROM feedbackversion WHERE submitted_at < :cut "
            "AND (worked_well IS NOT NULL OR could_be_better IS NOT NULL)",
            cut=cut.free_text,
        )
        == 0
    )
    assert (
        await _count(
            council,
            "SELECT count(*) FROM feedbackversion WHERE submitted_at >= :cut "
            "AND (worked_well IS NOT NULL OR could_be_better IS NOT NULL)",
            cut=cut.free_text,
        )
        == text_kept
    )
    # October and November are whole months after the cut-off: their figures are as they were,
    # but for the trend's months before October (README: documented as affected).
    first = date(2026, 10, 1)
    assert _whole_months(await _digest(council, first), first) == _whole_months(october, first)
    assert _whole_months(await _digest(council, date(2026, 11, 1)), first) == _whole_months(
        november, first
    )
    assert real.figures_kept_from == first_period_kept(cut) == date(2027, 9, 1)

    # One audit-log row, with the counts; the dry run wrote none.
    async with council() as session:
        logged = (
            await session.exec(select(AuditLog).where(AuditLog.event == "retention.purge"))
        ).all()
    assert len(logged) == 1 and logged[0].after is not None
    assert logged[0].after["counts"] == counts
    assert after["auditlog"] == before["auditlog"] + 1

    again = await purge(sessions=council, tenant_id=DEMO_TENANT_ID, policy=POLICY, now=NOW)
    assert again.total == 0


async def test_the_monthly_job_purges_once_a_month(
    council: SessionMaker, database_url: str
) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=database_url,
        retain_free_text_years=1,
        retain_closed_audit_years=1,
    )
    first = await run_job(
        retention_job.JOB, sessions=council, settings=settings, now=NOW, tenant_ids=[DEMO_TENANT_ID]
    )
    later = await run_job(
        retention_job.JOB,
        sessions=council,
        settings=settings,
        now=NOW.replace(day=20),
        tenant_ids=[DEMO_TENANT_ID],
    )
    assert [o.state for o in first] == ["ran"] and [o.state for o in later] == ["taken"]
    assert (
        await _count(council, "SELECT count(*) FROM auditlog WHERE event = 'retention.purge'") == 1
    )


async def test_purge_dry_run_on_the_command_line_changes_nothing(
    council: SessionMaker, database_url: str
) -> None:
    before = await _sizes(council)
    done = await asyncio.to_thread(
        CliRunner().invoke,
        app,
        ["purge", "--dry-run", "--tenant", DEMO_TENANT_ID],
        env={"QALOOP_DATABASE_URL": database_url, "QALOOP_APP_TENANT_ID": ""},
        catch_exceptions=False,
    )
    assert done.exit_code == 0, done.output
    assert "Would remove" in done.output and "delivered messages:" in done.output
    assert "figures from" in done.output
    assert await _sizes(council) == before
