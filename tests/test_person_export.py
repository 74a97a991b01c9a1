"""`qaloop person export`: every row of every table that points at the person is in the document,
as many as a plain SQL count finds, and the request is audit-logged."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime
from pathlib import Path

import sqlalchemy as sa
from typer.testing import CliRunner

from bot.cli import app
from bot.services.subject_access import held_about
from storage.db import SessionMaker
from storage.demo import DEMO_TENANT_ID, build_demo
from storage.subject_access import person_columns

TODAY = date(2026, 11, 26)
NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
ALEX = "alexw@example.com"
# Beside the tables that point at a person: rows that belong to one of theirs.
BELONGING = {
    "feedbackversion": "SELECT count(*) FROM feedbackversion v JOIN feedback f "
    "ON f.id = v.feedback_id WHERE f.tenant_id = :t AND f.practitioner_id = :id",
    "deliveryattempt": "SELECT count(*) FROM deliveryattempt a JOIN delivery d "
    "ON d.id = a.delivery_id WHERE d.tenant_id = :t AND d.recipient_staff_id = :id",
    "sentcard": "SELECT count(*) FROM sentcard s JOIN conversationref r "
    "ON r.id = s.conversation_ref_id WHERE r.tenant_id = :t AND r.staff_id = :id",
}


async def _plain(sessions: SessionMaker, statement: str, **params: object) -> int:
    async with sessions() as session:
        connection = await session.connection()
        return int((await connection.execute(sa.text(statement), params)).scalar_one())


async def test_every_table_that_names_the_person_is_in_their_export(
    sessions: SessionMaker,
) -> None:
    await build_demo(sessions=sessions, today=TODAY)
    staff_id = await _plain(
        sessions,
        "SELECT id FROM staff WHERE tenant_id = :t AND email = :e",
        t=DEMO_TENANT_ID,
        e=ALEX,
    )
    expected: dict[str, int] = {}
    for table, columns in person_columns().items():
        where = " OR ".join(f"{c} = :id" for c in columns)
        if table == "auditlog":
            where += " OR (entity = 'staff' AND entity_id = :sid)"
        expected[table] = await _plain(
            sessions,
            f'SELECT count(*) FROM "{table}" WHERE tenant_id = :t AND ({where})',
            t=DEMO_TENANT_ID,
            id=staff_id,
            sid=str(staff_id),
        )
    for table, statement in BELONGING.items():
        expected[table] = await _plain(sessions, statement, t=DEMO_TENANT_ID, id=staff_id)
    # Counted before the export, which adds its own audit-log row.
    document = await held_about(
        sessions=sessions, tenant_id=DEMO_TENANT_ID, email=ALEX.upper(), now=NOW
    )
    assert document is not None
    tables = document["tables"]
    assert {t: len(rows) for t, rows in tables.items()} == {t: n for t, n in expected.items() if n}
    assert document["counts"] == {t: len(rows) for t, rows in tables.items()}
    # Alex audits, is audited, owns actions, gave feedback and chats with the bot.
    assert {
        "staff",
        "audit",
        "action",
        "feedback",
        "feedbackversion",
        "conversationref",
        "case",
    } <= set(tables)
    assert tables["staff"][0]["email"] == ALEX
    # Every column pointing at a person is found, whatever the table.
    assert "practitioner_id" in person_columns()["audit"]
    assert "recipient_staff_id" in person_columns()["delivery"]
    json.dumps(document)
    logged = await _plain(
        sessions,
        "SELECT count(*) FROM auditlog WHERE event = 'person.export' AND entity_id = :sid",
        sid=str(staff_id),
    )
    assert logged == 1


async def test_the_command_writes_json_and_says_when_nobody_matches(
    sessions: SessionMaker, database_url: str, tmp_path: Path
) -> None:
    await build_demo(sessions=sessions, today=TODAY)
    env = {"QALOOP_DATABASE_URL": database_url, "QALOOP_APP_TENANT_ID": ""}
    out = tmp_path / "alex.json"

    def run(*args: str) -> object:
        return CliRunner().invoke(
            app, ["person", "export", *args, "--tenant", DEMO_TENANT_ID], env=env
        )

    done = await asyncio.to_thread(run, ALEX, "--out", str(out))
    assert done.exit_code == 0, done.output  # type: ignore[attr-defined]
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["tables"]["staff"][0]["email"] == ALEX
    nobody = await asyncio.to_thread(run, "nobody@example.com")
    assert nobody.exit_code == 1  # type: ignore[attr-defined]
    assert "Nobody" in nobody.output  # type: ignore[attr-defined]
