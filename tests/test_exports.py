"""`qaloop export`: the tracker's files read back equal the database, row for row; nothing in them
runs as a formula; --since picks exactly the records changed since."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import sqlalchemy as sa
from sqlmodel import col, select, update
from typer.testing import CliRunner

from bot.cli import app
from bot.services.exports import BOM, COLUMNS, KINDS, Kind, export
from bot.services.spreadsheet import FORMULA_STARTS
from storage.db import SessionMaker, compare_and_set, transaction
from storage.demo import DEMO_TENANT_ID, build_demo
from storage.models import Action, Audit, Staff

TODAY = date(2026, 11, 26)
LONDON = ZoneInfo("Europe/London")
NASTY = ('=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1")


@pytest.fixture
async def council(sessions: SessionMaker) -> SessionMaker:
    """The demo council, with text that a spreadsheet would run, an action of no audit and an
    audit with no practitioner."""
    await build_demo(sessions=sessions, today=TODAY)
    async with transaction(sessions) as session:
        actions = (
            await session.exec(
                select(Action).where(Action.tenant_id == DEMO_TENANT_ID).order_by(col(Action.id))
            )
        ).all()
        for action, text in zip(actions, NASTY, strict=False):
            action.what, action.measure = text, text
            session.add(action)
        orphan = actions[-1]
        orphan.audit_id = None
        session.add(orphan)
        person = (
            await session.exec(select(Staff).where(Staff.tenant_id == DEMO_TENANT_ID))
        ).first()
        assert person is not None
        person.display_name = "=cmd|' /C calc'!A0"
        session.add(person)
        audit = (
            await session.exec(
                select(Audit).where(
                    Audit.tenant_id == DEMO_TENANT_ID, col(Audit.practitioner_id).is_not(None)
                )
            )
        ).first()
        assert audit is not None
        audit.practitioner_id = None
        session.add(audit)
    return sessions


async def _csv(sessions: SessionMaker, kind: Kind, since: date | None = None) -> list[list[str]]:
    out = io.StringIO(newline="")
    async with sessions() as session:
        done = await export(
            kind,
            session=session,
            tenant_id=DEMO_TENANT_ID,
            zone=LONDON,
            fmt="csv",
            out=out,
            since=since,
        )
    text = out.getvalue()
    assert text.startswith(BOM)
    rows = list(csv.reader(io.StringIO(text.removeprefix(BOM), newline="")))
    assert rows[0] == [c.name for c in COLUMNS[kind]]
    assert done.rows == len(rows) - 1
    return rows


# Plain SQL, written apart from the export's query: what each file must hold, by id.
PLAIN = {
    "audits": """SELECT a.id, c.case_ref, t.name, s.email, p.email, a.due_on, a.overall_grade,
                        a.state, a.risk_identified
                 FROM audit a JOIN "case" c ON c.id = a.case_id JOIN team t ON t.id = a.team_id
                 JOIN staff s ON s.id = a.auditor_id LEFT JOIN staff p ON p.id = a.practitioner_id
                 WHERE a.tenant_id = :t ORDER BY a.id""",
    "actions": """SELECT x.id, x.audit_id, c.case_ref, s.email, x.what, x.measure, x.due_on,
                         x.state
                  FROM action x JOIN staff s ON s.id = x.owner_id
                  LEFT JOIN audit a ON a.id = x.audit_id LEFT JOIN "case" c ON c.id = a.case_id
                  WHERE x.tenant_id = :t ORDER BY x.id""",
    "feedback": """SELECT f.id, f.audit_id, s.email,
                          (SELECT max(v.version) FROM feedbackversion v WHERE v.feedback_id = f.id)
                   FROM feedback f JOIN staff s ON s.id = f.practitioner_id
                   WHERE f.tenant_id = :t ORDER BY f.id""",
    "moderation": """SELECT m.id, m.audit_id, m.month, s.email, m.decided_at IS NOT NULL
                     FROM moderation m JOIN staff s ON s.id = m.moderator_id
                     WHERE m.tenant_id = :t ORDER BY m.id""",
}
# The file's columns that hold the same values, in PLAIN's order.
FILE_COLUMNS = {
    "audits": (
        "audit_id case_ref team auditor_email practitioner_email due_on overall_grade state "
        "risk_identified"
    ),
    "actions": "action_id audit_id case_ref owner_email what measure due_on state",
    "feedback": "feedback_id audit_id practitioner_email version",
    "moderation": "moderation_id audit_id month moderator_email state",
}


def _plain_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return str(value)


async def _expected(sessions: SessionMaker, kind: str) -> list[list[str]]:
    async with sessions() as session:
        connection = await session.connection()
        rows = (await connection.execute(sa.text(PLAIN[kind]), {"t": DEMO_TENANT_ID})).all()
    expected = []
    for row in rows:
        cells = [_plain_text(v) for v in row]
        if kind == "moderation":
            cells[-1] = "decided" if row[-1] else "awaiting"
        if kind == "audits":
            cells[-1] = "yes" if row[-1] else "no"
        expected.append(cells)
    return expected


@pytest.mark.parametrize("kind", KINDS)
async def test_each_file_reads_back_as_the_database_holds_it(
    council: SessionMaker, kind: Kind
) -> None:
    rows = await _csv(council, kind)
    header = rows[0]
    picked = [header.index(name) for name in FILE_COLUMNS[kind].split()]
    found = [[row[i] for i in picked] for row in rows[1:]]
    expected = await _expected(council, kind)
    assert found == expected
    assert len(found) > 3


async def test_no_cell_in_any_file_starts_a_formula(council: SessionMaker, tmp_path: Path) -> None:
    actions = await _csv(council, "actions")
    what = actions[0].index("what")
    assert {row[what] for row in actions[1:]} >= {"'" + text for text in NASTY}
    for kind in KINDS:
        for row in await _csv(council, kind):
            assert not any(cell.startswith(FORMULA_STARTS) for cell in row), row
    path = tmp_path / "actions.xlsx"
    async with council() as session:
        await export(
            "actions",
            session=session,
            tenant_id=DEMO_TENANT_ID,
            zone=LONDON,
            fmt="xlsx",
            out=path,
        )
    sheet = openpyxl.load_workbook(path).active
    assert sheet is not None
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f", cell.coordinate
            assert not (isinstance(cell.value, str) and cell.value.startswith(FORMULA_STARTS))


async def test_the_workbook_holds_what_the_csv_holds(council: SessionMaker, tmp_path: Path) -> None:
    for kind in KINDS:
        path = tmp_path / f"{kind}.xlsx"
        async with council() as session:
            await export(
                kind, session=session, tenant_id=DEMO_TENANT_ID, zone=LONDON, fmt="xlsx", out=path
            )
        book = openpyxl.load_workbook(path, read_only=True)
        assert book.sheetnames == [kind]
        read = [[_as_csv(v) for v in row] for row in book[kind].iter_rows(values_only=True)]
        # XML reads a carriage return back as a line feed; nothing else differs.
        expected = [[c.replace("\r", "\n") for c in row] for row in await _csv(council, kind)]
        assert read == expected


def _as_csv(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        # openpyxl reads every date back as a datetime: a date's has no time.
        if value.time() == datetime.min.time() and value.microsecond == 0:
            return value.date().isoformat()
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


async def test_since_gives_the_records_changed_since_and_a_change_dates_itself(
    council: SessionMaker,
) -> None:
    async with transaction(council) as session:
        await session.exec(
            update(Action)
            .where(col(Action.tenant_id) == DEMO_TENANT_ID)
            .values(updated_at=datetime(2026, 10, 1, 12, tzinfo=UTC))
        )
        ids = list(
            (
                await session.exec(
                    select(Action.id)
                    .where(Action.tenant_id == DEMO_TENANT_ID)
                    .order_by(col(Action.id))
                    .limit(3)
                )
            ).all()
        )
        # 23:30 on 31 October in London is already 1 November's: it counts from that day.
        await session.exec(
            update(Action)
            .where(col(Action.id).in_(ids[:2]))
            .values(updated_at=datetime(2026, 11, 1, 0, 30, tzinfo=UTC))
        )
    since = await _csv(council, "actions", since=date(2026, 11, 1))
    assert [int(r[0]) for r in since[1:]] == ids[:2]
    assert len(await _csv(council, "actions", since=date(2026, 11, 2))) == 1

    # Marking the third done today (the one way a state changes) dates it today.
    async with transaction(council) as session:
        row = await session.get(Action, ids[2])
        assert row is not None
        assert await compare_and_set(session, row, {"state": row.state}, state="done")
    today = datetime.now(UTC).astimezone(LONDON).date()
    changed = await _csv(council, "actions", since=today)
    assert [int(r[0]) for r in changed[1:]] == [ids[2]]


async def test_the_command_writes_csv_and_xlsx_and_refuses_a_bad_day(
    council: SessionMaker, database_url: str, tmp_path: Path
) -> None:
    runner = CliRunner()
    env = {"QALOOP_DATABASE_URL": database_url, "QALOOP_APP_TENANT_ID": ""}
    base = ["--tenant", DEMO_TENANT_ID]

    def run(*args: str) -> Any:
        return runner.invoke(app, list(args), env=env, catch_exceptions=False)

    done = await asyncio.to_thread(run, "export", "audits", *base)
    assert done.exit_code == 0, done.output
    assert done.stdout.startswith(BOM + "audit_id,case_ref,")
    assert len(done.stdout.strip().splitlines()) == len(await _expected(council, "audits")) + 1
    out = tmp_path / "moderation.xlsx"
    done = await asyncio.to_thread(
        run, "export", "moderation", "--format", "xlsx", "--out", str(out), *base
    )
    assert done.exit_code == 0, done.output
    assert openpyxl.load_workbook(out).sheetnames == ["moderation"]
    refused = await asyncio.to_thread(run, "export", "actions", "--since", "1/11/2026", *base)
    assert refused.exit_code == 2 and "YYYY-MM-DD" in refused.output
    refused = await asyncio.to_thread(run, "export", "actions", "--format", "xlsx", *base)
    assert refused.exit_code == 2 and "--out" in refused.output
