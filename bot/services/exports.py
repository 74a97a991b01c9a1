"""The QA tracker as files (`qaloop export`): one row per audit, action, feedback response or
moderation, with documented columns, as CSV or an Excel workbook, written as the rows arrive.

What goes in: case references, staff names and emails, grades, dates, the actions themselves (what
and how it will be measured: the framework's tracker is the record of them). What stays out: the
free text that may name a child or family (an audit's summary and reasons, a done note, a
practitioner's comments, a moderator's comment); they stay in the bot, where only their owners see
them. Every text cell is neutralised against formula injection.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any, Literal, Protocol
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.rules.grades import ActionState, AuditKind, AuditState, Standard
from bot.services.spreadsheet import no_formula
from cards.feedback import STATEMENTS
from storage import exports
from storage.exports import KINDS, Kind

__all__ = ["COLUMNS", "KINDS", "Column", "Kind", "export"]

Format = Literal["csv", "xlsx"]
Cell = str | int | date | datetime | None
BOM = "\ufeff"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    about: str


_GRADE = "outstanding, good, requires_improvement or inadequate; blank until graded"
# Blind moderation: whether the moderator's own grade, given before they saw the auditor's,
# matched it (before moderation was blind: whether they agreed with it).
_AGREED = "yes, no, or blank until decided: the moderator's own grade matched the auditor's"
_CHANGED = Column("changed_at", "when the record last changed (local time); what --since reads")

COLUMNS: dict[Kind, tuple[Column, ...]] = {
    "audits": (
        Column("audit_id", "QA Loop's number for the audit"),
        Column("case_ref", "the case reference (never a name)"),
        Column("kind", " ".join(k.value for k in AuditKind)),
        Column("theme", "a thematic audit's theme"),
        Column("service", "the case's service"),
        Column("team", "the case's team"),
        Column("state", " ".join(s.value for s in AuditState)),
        Column("auditor", "the auditor's name"),
        Column("auditor_email", "the auditor's email"),
        Column("practitioner", "the case's practitioner, if known"),
        Column("practitioner_email", "the practitioner's email"),
        Column("due_on", "the day the audit is due"),
        Column("completed_at", "when the grades were recorded (local time)"),
        *(Column(f"grade_{s.value}", _GRADE) for s in Standard),
        Column("overall_grade", _GRADE),
        Column("risk_identified", "yes or no"),
        Column("meeting_due_on", "inadequate: the action meeting's due day"),
        Column("meeting_held_on", "inadequate: the day it was held"),
        Column("visit_due_on", "risk identified: the child visit's due day"),
        Column("visited_on", "risk identified: the day the child was seen"),
        _CHANGED,
    ),
    "actions": (
        Column("action_id", "QA Loop's number for the action"),
        Column("audit_id", "the audit it came from"),
        Column("case_ref", "the audit's case reference"),
        Column("team", "the audit's team"),
        Column("source", "audit, meeting, action_meeting or child_visit"),
        Column("standard", "the standard it improves, if given"),
        Column("what", "what will be done (as agreed, SMART)"),
        Column("measure", "how we will know it is done"),
        Column("owner", "who does it"),
        Column("owner_email", "their email"),
        Column("due_on", "the day it is due"),
        Column("state", " ".join(s.value for s in ActionState)),
        Column("created_at", "when it was agreed (local time)"),
        Column("done_at", "when the owner marked it done"),
        Column("confirmed_at", "when the team manager confirmed it"),
        Column("cancelled_at", "when it was cancelled"),
        _CHANGED,
    ),
    "feedback": (
        Column("feedback_id", "QA Loop's number for the response"),
        Column("audit_id", "the audit it is about"),
        Column("case_ref", "the audit's case reference"),
        Column("team", "the audit's team"),
        Column("practitioner", "who gave it"),
        Column("practitioner_email", "their email"),
        Column("version", "the latest version (a response can be changed; each is kept)"),
        *(
            Column(name, f"1 (strongly disagree) to 5 (strongly agree): {said}")
            for name, said in STATEMENTS
        ),
        Column("first_given_at", "when the first version was given (local time)"),
        Column("changed_at", "when the latest version was given (local time); what --since reads"),
    ),
    "moderation": (
        Column("moderation_id", "QA Loop's number for the moderation"),
        Column("audit_id", "the audit moderated"),
        Column("case_ref", "the audit's case reference"),
        Column("team", "the audit's team"),
        Column("month", "the sample's month"),
        Column("auditor", "who graded the audit"),
        Column("moderator", "who moderates it"),
        Column("moderator_email", "their email"),
        Column("state", "awaiting or decided"),
        *(Column(f"agreed_{s.value}", _AGREED) for s in Standard),
        Column("agreed_overall", _AGREED),
        Column("sampled_at", "when it was sampled (local time)"),
        Column("decided_at", "when the moderator decided"),
        _CHANGED,
    ),
}


def _converters(zone: ZoneInfo, *, text: bool) -> dict[type, Callable[[Any], Cell]]:
    """How each type of value becomes a cell: text for CSV, typed values for a workbook. Looked
    up by type once a value (isinstance chains cost a third of an export's time)."""

    def local(value: datetime) -> datetime:
        # Local time, to the second, without a zone: what a spreadsheet can show and sort.
        return value.astimezone(zone).replace(tzinfo=None, microsecond=0)

    def local_text(value: datetime) -> str:
        # "2026-11-03 10:00:00": isoformat is several times quicker than strftime.
        return value.astimezone(zone).isoformat(" ", "seconds")[:19]

    def same(value: Any) -> Any:
        return value

    def yes_no(value: bool) -> str:
        return "yes" if value else "no"

    return {
        str: no_formula,
        bool: yes_no,
        int: str if text else same,
        date: date.isoformat if text else same,
        datetime: local_text if text else local,
        type(None): (lambda value: "") if text else same,
    }


def row_maker(kind: Kind, zone: ZoneInfo, *, text: bool) -> Callable[[Any], list[Cell]]:
    """One record (a row of storage.exports.records) as the file's row, in COLUMNS' order."""
    convert = _converters(zone, text=text)
    names = [c.name for c in COLUMNS[kind]]
    if kind == "moderation":
        keys = (*(s.value for s in Standard), "overall")

        def moderation(row: Any) -> list[Cell]:
            values = dict(row._mapping)
            agreement: dict[str, bool] = values.pop("agreement") or {}
            decided = values["decided_at"] is not None
            values["state"] = "decided" if decided else "awaiting"
            for key in keys:
                given = agreement.get(key) if decided else None
                values[f"agreed_{key}"] = None if given is None else bool(given)
            return [convert[type(v)](v) for v in (values[name] for name in names)]

        return moderation

    selected = exports.column_names(kind)
    if selected != names:
        raise ValueError(f"the {kind} query's columns are not the file's: {selected}")

    def plain(row: Any) -> list[Cell]:
        return [convert[type(v)](v) for v in row]

    return plain


class Sheet(Protocol):
    def write(self, row: list[Cell]) -> None: ...


@contextmanager
def _csv_sheet(out: IO[str]) -> Iterator[Sheet]:
    writer = csv.writer(out)

    class CsvSheet:
        def write(self, row: list[Cell]) -> None:
            writer.writerow(row)

    out.write(BOM)
    yield CsvSheet()


@contextmanager
def _xlsx_sheet(path: Path, title: str) -> Iterator[Sheet]:
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    # Write-only: each row goes to a temporary file as it is appended, so memory stays flat.
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title)

    class XlsxSheet:
        def write(self, row: list[Cell]) -> None:
            # Control characters are not allowed in the file's XML; they carry nothing anyway.
            sheet.append(
                [ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in row]
            )

    yield XlsxSheet()
    book.save(path)


@dataclass(frozen=True, slots=True)
class Exported:
    kind: Kind
    rows: int
    since: datetime | None


async def export(
    kind: Kind,
    *,
    session: AsyncSession,
    tenant_id: str,
    zone: ZoneInfo,
    fmt: Format,
    out: Path | IO[str],
    since: date | None = None,
    progress: Callable[[int], None] | None = None,
) -> Exported:
    """Write every `kind` record of the tenant changed on or after local day `since` to `out` (a
    path, or an open text stream for CSV); `progress(n)` is told of each 1,000 rows."""
    start = _start(since, zone)
    written = 0
    make = row_maker(kind, zone, text=fmt == "csv")
    with _open(fmt, out, kind) as sheet:
        sheet.write([c.name for c in COLUMNS[kind]])
        async for row in exports.records(
            session=session, kind=kind, tenant_id=tenant_id, since=start
        ):
            sheet.write(make(row))
            written += 1
            if progress is not None and written % 1000 == 0:
                progress(1000)
    if progress is not None:
        progress(written % 1000)
    return Exported(kind, written, start)


async def count(
    kind: Kind, *, session: AsyncSession, tenant_id: str, zone: ZoneInfo, since: date | None = None
) -> int:
    """How many rows `export` would write (for a progress bar's total)."""
    return await exports.count(
        session=session, kind=kind, tenant_id=tenant_id, since=_start(since, zone)
    )


def _start(since: date | None, zone: ZoneInfo) -> datetime | None:
    """The start of local day `since`, in UTC."""
    if since is None:
        return None
    return datetime.combine(since, datetime.min.time(), tzinfo=zone).astimezone(UTC)


@contextmanager
def _open(fmt: Format, out: Path | IO[str], kind: Kind) -> Iterator[Sheet]:
    if fmt == "xlsx":
        if not isinstance(out, Path):
            raise ValueError("an Excel workbook is written to a file")
        with _xlsx_sheet(out, kind) as sheet:
            yield sheet
        return
    if isinstance(out, Path):
        # newline="": the csv module writes CRLF, as Excel expects.
        with out.open("w", encoding="utf-8", newline="") as stream, _csv_sheet(stream) as sheet:
            yield sheet
        return
    with _csv_sheet(out) as sheet:
        yield sheet
