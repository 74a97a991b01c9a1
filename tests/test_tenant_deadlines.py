"""The meeting and visit deadlines are the tenant's: `qaloop tenant deadlines` sets them (checked,
audit-logged), an audit completed afterwards is due by them, and the alert says them in words."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlmodel import select
from typer import Typer
from typer.testing import CliRunner

from bot.cli_tenant import tenant_app
from bot.rules.deadlines import Deadline, Deadlines, Unit
from storage import tenants
from storage.db import SessionMaker, make_engine, make_sessions, transaction
from storage.migrate import upgrade
from storage.models import AuditLog, Tenant
from tests.chat import TENANT, Chat, card_text
from tests.helpers import NOW, audit_council, everyone_says_hello, grade_inadequate, queued

pytestmark = pytest.mark.clock(NOW)  # Thu 26 Nov 2026, 10:02 in London


def _app() -> Typer:
    app = Typer()
    app.add_typer(tenant_app, name="tenant")
    return app


def _run(url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        _app(),
        ["tenant", "deadlines", *args, "--tenant", TENANT],
        env={"QALOOP_DATABASE_URL": url},
    )
    return result.exit_code, " ".join(result.output.split())


async def _stored(url: str) -> tuple[Tenant | None, list[AuditLog]]:
    engine = make_engine(url)
    try:
        async with make_sessions(engine)() as session:
            tenant = await session.get(Tenant, TENANT)
            logged = (
                await session.exec(select(AuditLog).where(AuditLog.event == "tenant.deadlines_set"))
            ).all()
            return tenant, list(logged)
    finally:
        await engine.dispose()


async def _add_tenant(url: str) -> None:
    engine = make_engine(url)
    try:
        async with transaction(make_sessions(engine)) as session:
            session.add(Tenant(id=TENANT, name="Test Council"))
    finally:
        await engine.dispose()


def test_the_command_line_shows_checks_and_sets_the_deadlines(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'qaloop.db'}"
    upgrade(url)
    asyncio.run(_add_tenant(url))

    code, shown = _run(url)
    assert code == 0, shown
    assert "Action meeting after an inadequate audit: within 3 working days." in shown
    assert "Child visit after risk is identified: by the next working day." in shown

    code, said = _run(url, "--meeting", "0", "--visit", "2", "--visit-unit", "fortnights")
    assert code == 2, said
    assert "Nothing was changed" in said
    assert "meeting: The number of days must be from 1 to 20, not 0." in said
    assert "visit: The unit must be working or calendar, not 'fortnights'." in said
    tenant, logged = asyncio.run(_stored(url))
    assert tenant is not None and (tenant.meeting_due_days, tenant.visit_due_days) == (3, 1)
    assert logged == []

    code, said = _run(url, "--meeting", "2", "--meeting-unit", "calendar")
    assert code == 0, said
    assert "Action meeting after an inadequate audit: within 2 calendar days." in said
    assert "Child visit after risk is identified: by the next working day." in said
    tenant, [row] = asyncio.run(_stored(url))
    assert tenant is not None
    assert (tenant.meeting_due_days, tenant.meeting_due_unit) == (2, "calendar")
    assert (tenant.visit_due_days, tenant.visit_due_unit) == (1, "working")
    assert row.before == {
        "meeting_due_days": 3,
        "meeting_due_unit": "working",
        "visit_due_days": 1,
        "visit_due_unit": "working",
    }
    assert row.after == row.before | {"meeting_due_days": 2, "meeting_due_unit": "calendar"}


async def test_an_audit_is_due_by_its_tenant_s_deadlines_and_the_alert_says_them(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await audit_council(sessions)
    await everyone_says_hello(chat)
    async with transaction(sessions) as session:
        await tenants.set_deadlines(
            session,
            tenant_id=TENANT,
            chosen=Deadlines(meeting=Deadline(2, Unit.CALENDAR), visit=Deadline(2, Unit.WORKING)),
            actor_id=None,
        )

    # Thursday 24 December 2026: Christmas Day and Boxing Day (Monday off) are not working days.
    audit = await grade_inadequate(
        sessions, council, now=datetime(2026, 12, 24, 10, 0, tzinfo=UTC), risk=True
    )

    assert audit.meeting_due_on == date(2026, 12, 26)  # two calendar days
    assert audit.visit_due_on == date(2026, 12, 30)  # two working days
    [alert, *_] = await queued(sessions, "inadequate_alert")
    shown = card_text(alert.card)
    assert "Due Sat 26 Dec  ·  within 2 calendar days" in shown
    assert "Due Wed 30 Dec  ·  within 2 working days" in shown
