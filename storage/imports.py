"""All-or-nothing CSV imports of staff and cases: a bad file reports every problem and writes nothing."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.rules.cases import DEFAULT_CASE_REF_PATTERN
from bot.rules.lifecycle import CaseStatus, leavers_need_confirming
from bot.rules.roles import Role, format_roles, parse_roles
from storage import audit_log
from storage.db import SessionMaker, gather_statistics, transaction
from storage.models import Case, Service, Staff, Team, Tenant

Progress = Callable[[int, int], None]

STAFF_REQUIRED = ("email", "display_name", "roles", "team", "service")
STAFF_OPTIONAL = ("manager_email", "working_days", "aad_object_id", "status")
# A staff row's status: empty or "active" for someone working here, "left" for a leaver.
STAFF_STATUSES = ("active", "left")
CASE_COLUMNS = ("case_ref", "team", "worker_email", "status", "opened_on")

# Practitioners and team managers work in a team, and belong to its service.
TEAM_ROLES = frozenset({Role.PRACTITIONER, Role.TEAM_MANAGER})
# Service managers and heads of service lead a whole service: they may name it without a team.
SERVICE_ROLES = frozenset({Role.SERVICE_MANAGER, Role.HEAD_OF_SERVICE})

_EMAIL = re.compile(r"^[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+$")
_AAD_ID = re.compile(r"^[0-9a-f-]{8,64}$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# A cases file is refused outright if a heading looks like a child's name or date of birth.
_PERSONAL_WORDS = frozenset(
    {"name", "names", "forename", "forenames", "firstname", "lastname", "surname", "surnames"}
    | {"fullname", "childname", "givenname", "familyname", "dob", "birth", "birthdate"}
    | {"dateofbirth", "birthday"}
)
# Headings about staff or teams ("team_name", "worker_name") are not about the child.
_ORG_WORDS = frozenset({"team", "service", "worker", "auditor", "manager", "staff"})


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem, placed as a spreadsheet shows it: the header is line 1."""

    line: int
    column: str
    reason: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", {self.column}" if self.column else "")
        return f"{where}: {self.reason}"


class ImportFailed(Exception):
    """The file had problems; nothing was written."""

    def __init__(self, errors: Sequence[RowError]) -> None:
        self.errors = sorted(errors, key=lambda e: e.line)
        super().__init__(f"{len(self.errors)} problem(s) in the file; nothing was imported")


@dataclass(frozen=True, slots=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int
    # People who left with this import (marked left, or absent from a full import).
    left: int = 0


@dataclass(frozen=True, slots=True)
class CaseChange:
    """A case whose status or worker this import changed (None before: a new case)."""

    case_id: int
    status_before: str | None
    status: str
    worker_before: int | None
    worker: int | None


# What the caller does with the changes, in the import's own transaction: a failure there
# undoes the import too, so the file and its consequences land together or not at all.
CasesChanged = Callable[[AsyncSession, list[CaseChange]], Awaitable[None]]
StaffLeft = Callable[[AsyncSession, list[int]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class _Row:
    line: int
    cells: dict[str, str]


@dataclass(frozen=True, slots=True)
class _Table:
    columns: frozenset[str]
    rows: list[_Row]
    errors: list[RowError]


def _heading(text: str) -> str:
    return re.sub(r"[\s\-]+", "_", text.strip().lower())


def _looks_personal(heading: str) -> bool:
    words = set(heading.split("_"))
    if words & _ORG_WORDS:
        return False
    return bool(words & _PERSONAL_WORDS) or heading.replace("_", "") in _PERSONAL_WORDS


async def _read_table(
    path: Path,
    *,
    required: Sequence[str],
    optional: Sequence[str] = (),
    refuse_personal: bool = False,
) -> _Table:
    """The file's rows keyed by known column; raises ImportFailed when rows cannot be read."""
    data = await asyncio.to_thread(path.read_bytes)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        reason = "this line is not UTF-8 text; in Excel use Save As 'CSV UTF-8 (Comma delimited)'"
        raise ImportFailed([RowError(line, "", reason)]) from exc
    if not text.strip():
        raise ImportFailed([RowError(1, "", "the file is empty")])
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        records = list(reader)
    except csv.Error as exc:
        reason = f"the file is not readable as CSV here: {exc}"
        raise ImportFailed([RowError(reader.line_num, "", reason)]) from exc

    header = [_heading(h) for h in records[0]]
    body = records[1:]
    errors: list[RowError] = []
    fatal = False
    known = (*required, *optional)
    seen: set[str] = set()
    for index, heading in enumerate(header):
        if not heading:
            if any(index < len(r) and r[index].strip() for r in body):
                errors.append(RowError(1, f"column {index + 1}", "has values but no heading"))
        elif heading in seen:
            errors.append(RowError(1, heading, "appears twice in the header"))
        elif refuse_personal and _looks_personal(heading):
            fatal = True
            reason = (
                "looks like a child's name or date of birth; QA Loop never stores these, "
                "remove the column and import again"
            )
            errors.append(RowError(1, heading, reason))
        elif heading not in known:
            hint = " (columns must be separated by commas)" if ";" in heading else ""
            errors.append(RowError(1, heading, f"is not a known column{hint}"))
        seen.add(heading)
    for column in required:
        if column not in seen:
            fatal = True
            errors.append(RowError(1, column, "column is missing from the header"))
    if fatal:
        raise ImportFailed(errors)

    rows: list[_Row] = []
    for line, record in enumerate(body, start=2):
        if not any(cell.strip() for cell in record):
            continue  # Excel leaves blank rows at the end of a sheet
        if len(record) > len(header) and any(cell.strip() for cell in record[len(header) :]):
            reason = f"this row has {len(record)} values but the header has {len(header)} columns"
            errors.append(RowError(line, "", reason))
            continue
        cells = {h: (record[i].strip() if i < len(record) else "") for i, h in enumerate(header)}
        rows.append(_Row(line, {k: v for k, v in cells.items() if k in known}))
    if not rows and not errors:
        errors.append(RowError(2, "", "the file has a header but no rows"))
    return _Table(frozenset(seen), rows, errors)


def _parse_working_days(text: str) -> str:
    """ISO weekday digits ("12345", "1,2,3") or day names ("Mon Tue Wed") as sorted digits."""
    days: set[int] = set()
    for part in re.split(r"[\s,;]+", text.lower()):
        if part.isdigit() and set(part) <= set("1234567"):
            days.update(int(c) for c in part)
        elif len(part) >= 3 and (day := _day_number(part)) is not None:
            days.add(day)
        elif part:
            raise ValueError(part)
    if not days:
        raise ValueError(text)
    return "".join(str(d) for d in sorted(days))


def _day_number(word: str) -> int | None:
    """1 for "mon", "mond" or "monday"; None for anything else."""
    return next((n for n, day in enumerate(_DAYS, start=1) if day.startswith(word)), None)


def _record(
    session: AsyncSession,
    tenant_id: str,
    event: str,
    entity: str,
    entity_id: int | str | None,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    # Imports are run by an operator from the command line, not by a known person.
    audit_log.record(
        session,
        tenant_id=tenant_id,
        actor_id=None,
        event=event,
        entity=entity,
        entity_id=entity_id,
        before=before,
        after=after,
    )


def _diff(
    before: dict[str, Any], after: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    changed = [k for k in after if before.get(k) != after[k]]
    if not changed:
        return None
    return {k: before.get(k) for k in changed}, {k: after[k] for k in changed}


# --- staff -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _StaffRow:
    line: int
    email: str
    display_name: str
    roles: str
    team: str | None
    service: str | None
    manager_email: str | None
    working_days: str | None
    aad_object_id: str | None
    left: bool = False


async def import_staff(
    *,
    sessions: SessionMaker,
    tenant_id: str,
    path: Path,
    tenant_name: str | None = None,
    timezone: str = "Europe/London",
    progress: Progress | None = None,
    full: bool = False,
    confirmed_leavers: int | None = None,
    on_left: StaffLeft | None = None,
) -> ImportResult:
    """Create or update staff by email, with their teams and services, from a CSV file.

    A row with status "left" marks a leaver; with `full`, the file is the whole staff list and
    anyone active who is not in it has left too. Leavers stop getting cards; `on_left` is given
    their ids, in this transaction, to move their open work. A full import that would mark more
    leavers than bot.rules.lifecycle takes on trust is refused (nothing written) unless
    `confirmed_leavers` is that number.

    A team member's service is their team's; service managers and heads of service may instead
    name the service they lead and no team. New services and teams are created as named.
    The tenant is created (named `tenant_name`) on its first import. Optional columns left out
    of the header keep what is stored; within a row, an empty working_days or aad_object_id
    keeps what is stored and an empty manager_email clears it.
    """
    table = await _read_table(path, required=STAFF_REQUIRED, optional=STAFF_OPTIONAL)
    async with transaction(sessions) as session:
        tenant = await session.get(Tenant, tenant_id)
        services = {
            s.name.casefold(): s
            for s in (await session.exec(select(Service).where(Service.tenant_id == tenant_id)))
        }
        teams = {
            t.name.casefold(): t
            for t in (await session.exec(select(Team).where(Team.tenant_id == tenant_id)))
        }
        staff = {
            s.email.lower(): s
            for s in (await session.exec(select(Staff).where(Staff.tenant_id == tenant_id)))
        }
        rows = _validate_staff(table, services=services, teams=teams, staff=staff, full=full)
        if tenant is None:
            tenant = Tenant(id=tenant_id, name=tenant_name or tenant_id, timezone=timezone)
            session.add(tenant)
            await session.flush()
            _record(
                session, tenant_id, "import.staff", "tenant", tenant_id, None, {"name": tenant.name}
            )
        result, marked_left = await _write_staff(
            session,
            tenant_id=tenant_id,
            rows=rows,
            manager_column="manager_email" in table.columns,
            services=services,
            teams=teams,
            staff=staff,
            progress=progress,
        )
        in_file = {r.email for r in rows}
        absent = [p for e, p in staff.items() if full and e not in in_file and p.active]
        # Only those the file leaves out: a row saying "left" is meant.
        active = sum(1 for p in staff.values() if p.active) + len(marked_left)
        if full and leavers_need_confirming(
            active=active, leaving=len(absent), confirmed=confirmed_leavers
        ):
            raise ImportFailed([RowError(0, "", _too_many_leavers(len(absent), active))])
        for person in absent:
            person.active = False
            session.add(person)
            after = {"active": False, "reason": "absent from a full staff import"}
            _record(session, tenant_id, "import.staff", "staff", person.id, {"active": True}, after)
        await session.flush()
        leavers = [*marked_left, *absent]
        left_ids = [p.id for p in leavers if p.id is not None]
        if on_left is not None and left_ids:
            await on_left(session, left_ids)
    await gather_statistics(sessions, "staff", "team", "service")
    return ImportResult(result.created, result.updated, result.unchanged, len(left_ids))


def _too_many_leavers(leaving: int, active: int) -> str:
    return (
        f"This full staff list leaves out {leaving} of the {active} active staff, who would be "
        "marked as left. "
        "If the file is the whole list and that is right, run the import again with "
        f"--leavers {leaving}; otherwise check the file (is it all of it?)."
    )


def _validate_staff(
    table: _Table,
    *,
    services: dict[str, Service],
    teams: dict[str, Team],
    staff: dict[str, Staff],
    full: bool = False,
) -> list[_StaffRow]:
    errors = list(table.errors)
    rows: list[_StaffRow] = []
    first_line: dict[str, int] = {}
    aad_line: dict[str, int] = {}
    aad_holders = {s.aad_object_id: email for email, s in staff.items() if s.aad_object_id}
    service_names = {s.id: s.name.casefold() for s in services.values()}
    # The service each team belongs to: as stored, or as the first row naming a new team says.
    team_service = {name: service_names[t.service_id] for name, t in teams.items()}
    file_emails = {r.cells["email"].lower() for r in table.rows}
    leaving = {
        r.cells["email"].lower() for r in table.rows if r.cells.get("status", "").lower() == "left"
    }
    if full:
        leaving |= {e for e, s in staff.items() if s.active and e not in file_emails}

    for row in table.rows:
        c, line, known_errors = row.cells, row.line, len(errors)

        email = c["email"].lower()
        if not email:
            errors.append(RowError(line, "email", "is required"))
        elif not _EMAIL.match(email) or len(email) > 320:
            errors.append(RowError(line, "email", "is not an email address"))
        elif email in first_line:
            reason = f"is also on line {first_line[email]}; each person needs one row"
            errors.append(RowError(line, "email", reason))
        else:
            first_line[email] = line

        name = c["display_name"]
        if not name:
            errors.append(RowError(line, "display_name", "is required"))
        elif len(name) > 200:
            errors.append(RowError(line, "display_name", "is longer than 200 characters"))

        roles: frozenset[Role] = frozenset()
        try:
            roles = parse_roles(c["roles"])
        except ValueError as exc:
            errors.append(RowError(line, "roles", str(exc)))

        team, service = c["team"], c["service"]
        if len(team) > 200 or len(service) > 200:
            column = "team" if len(team) > 200 else "service"
            errors.append(RowError(line, column, "is longer than 200 characters"))
        elif team and not service:
            reason = "is required when a team is given (a team belongs to a service)"
            errors.append(RowError(line, "service", reason))
        elif team:
            known = team_service.setdefault(team.casefold(), service.casefold())
            if known != service.casefold():
                reason = f"{team!r} belongs to another service; a team has one service"
                errors.append(RowError(line, "team", reason))
        elif roles & TEAM_ROLES:
            reason = "is required for practitioners and team managers"
            errors.append(RowError(line, "team", reason))
        elif service and not roles & SERVICE_ROLES:
            reason = (
                "is required when a service is given; only service managers and heads of "
                "service belong to a service without a team"
            )
            errors.append(RowError(line, "team", reason))
        elif not service and roles & SERVICE_ROLES:
            reason = "is required for service managers and heads of service (the service they lead)"
            errors.append(RowError(line, "service", reason))

        manager = c.get("manager_email", "").lower()
        if manager and not _EMAIL.match(manager):
            errors.append(RowError(line, "manager_email", "is not an email address"))
        elif manager and manager == email:
            errors.append(RowError(line, "manager_email", "is the person's own email"))
        elif manager and manager not in file_emails and manager not in staff:
            reason = "matches no one in this file or among existing staff"
            errors.append(RowError(line, "manager_email", reason))
        elif manager and manager in leaving and email not in leaving:
            reason = "names someone who is leaving with this import; give their new manager"
            errors.append(RowError(line, "manager_email", reason))

        status = c.get("status", "").lower()
        if status and status not in STAFF_STATUSES:
            errors.append(RowError(line, "status", "must be active or left (or left empty)"))

        working_days: str | None = None
        if c.get("working_days"):
            try:
                working_days = _parse_working_days(c["working_days"])
            except ValueError:
                reason = "should be ISO weekday numbers like 12345 or day names like Mon Tue"
                errors.append(RowError(line, "working_days", reason))

        aad = c.get("aad_object_id", "").lower()
        if aad and not _AAD_ID.match(aad):
            errors.append(RowError(line, "aad_object_id", "is not a Microsoft Entra object id"))
        elif aad and aad in aad_line:
            errors.append(RowError(line, "aad_object_id", f"is also on line {aad_line[aad]}"))
        elif aad and aad_holders.get(aad, email) != email:
            reason = "belongs to another existing staff member"
            errors.append(RowError(line, "aad_object_id", reason))
        elif aad:
            aad_line[aad] = line

        if len(errors) == known_errors:
            rows.append(
                _StaffRow(
                    line,
                    email,
                    name,
                    format_roles(roles),
                    team or None,
                    service or None,
                    manager or None,
                    working_days,
                    aad or None,
                    status == "left",
                )
            )

    if "manager_email" in table.columns:
        errors.extend(_manager_loops(rows, staff))
    if errors:
        raise ImportFailed(errors)
    return rows


def _manager_loops(rows: list[_StaffRow], staff: dict[str, Staff]) -> list[RowError]:
    by_id = {s.id: email for email, s in staff.items()}
    manager_of: dict[str, str | None] = {
        email: by_id.get(s.manager_id) for email, s in staff.items()
    }
    manager_of.update({r.email: r.manager_email for r in rows})
    errors = []
    for row in rows:
        chain = [row.email]
        boss = manager_of.get(row.email)
        while boss is not None and boss not in chain:
            chain.append(boss)
            boss = manager_of.get(boss)
        if boss == row.email:
            loop = " → ".join([*chain, row.email])
            errors.append(RowError(row.line, "manager_email", f"makes a loop of managers: {loop}"))
    return errors


def _staff_snapshot(
    person: Staff,
    team_names: dict[int | None, str],
    service_names: dict[int | None, str],
    emails: dict[int | None, str],
) -> dict[str, Any]:
    return {
        "email": person.email,
        "display_name": person.display_name,
        "roles": person.roles,
        "team": team_names.get(person.team_id),
        "service": service_names.get(person.service_id),
        "manager_email": emails.get(person.manager_id),
        "working_days": person.working_days,
        "aad_object_id": person.aad_object_id,
        "active": person.active,
    }


async def _write_staff(
    session: AsyncSession,
    *,
    tenant_id: str,
    rows: list[_StaffRow],
    manager_column: bool,
    services: dict[str, Service],
    teams: dict[str, Team],
    staff: dict[str, Staff],
    progress: Progress | None,
) -> tuple[ImportResult, list[Staff]]:
    """The counts, and those this file marks left who were active until now."""
    event = "import.staff"
    new_services: list[Service] = []
    for row in rows:
        if row.service and row.service.casefold() not in services:
            service = Service(tenant_id=tenant_id, name=row.service)
            services[row.service.casefold()] = service
            new_services.append(service)
    session.add_all(new_services)
    await session.flush()
    new_teams: list[Team] = []
    for row in rows:
        if row.team and row.service and row.team.casefold() not in teams:
            service_id = services[row.service.casefold()].id
            assert service_id is not None
            team = Team(tenant_id=tenant_id, service_id=service_id, name=row.team)
            teams[row.team.casefold()] = team
            new_teams.append(team)
    session.add_all(new_teams)
    await session.flush()
    for s in new_services:
        _record(session, tenant_id, event, "service", s.id, None, {"name": s.name})
    service_names: dict[int | None, str] = {s.id: s.name for s in services.values()}
    for t in new_teams:
        after = {"name": t.name, "service": service_names[t.service_id]}
        _record(session, tenant_id, event, "team", t.id, None, after)

    team_names: dict[int | None, str] = {t.id: t.name for t in teams.values()}
    emails: dict[int | None, str] = {s.id: s.email for s in staff.values()}
    before: dict[str, dict[str, Any] | None] = {}
    for done, row in enumerate(rows, start=1):
        person = staff.get(row.email)
        if person is None:
            person = Staff(tenant_id=tenant_id, email=row.email, display_name=row.display_name)
            staff[row.email] = person
            session.add(person)
            before[row.email] = None
        else:
            before[row.email] = _staff_snapshot(person, team_names, service_names, emails)
        person.email = row.email
        person.display_name = row.display_name
        person.roles = row.roles
        # A team member belongs to the team's service; a senior manager to the service named.
        own_team = teams[row.team.casefold()] if row.team else None
        person.team_id = own_team.id if own_team else None
        if own_team is not None:
            person.service_id = own_team.service_id
        else:
            person.service_id = services[row.service.casefold()].id if row.service else None
        person.working_days = row.working_days or person.working_days
        person.aad_object_id = row.aad_object_id or person.aad_object_id
        person.active = not row.left
        if progress is not None:
            progress(done, len(rows))
    await session.flush()

    if manager_column:
        for row in rows:
            manager = staff[row.manager_email] if row.manager_email else None
            staff[row.email].manager_id = manager.id if manager else None
    emails = {s.id: s.email for s in staff.values()}
    created = updated = unchanged = 0
    for row in rows:
        person = staff[row.email]
        after = _staff_snapshot(person, team_names, service_names, emails)
        old = before[row.email]
        if old is None:
            created += 1
            _record(session, tenant_id, event, "staff", person.id, None, after)
        elif (change := _diff(old, after)) is None:
            unchanged += 1
        else:
            updated += 1
            _record(session, tenant_id, event, "staff", person.id, *change)
    await session.flush()
    left = [
        staff[r.email] for r in rows if r.left and (before[r.email] or {}).get("active") is True
    ]
    return ImportResult(created, updated, unchanged), left


# --- cases -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _CaseRow:
    case_ref: str
    team: Team
    worker: Staff | None
    status: str
    opened_on: date | None


async def import_cases(
    *,
    sessions: SessionMaker,
    tenant_id: str,
    path: Path,
    case_ref_pattern: str = DEFAULT_CASE_REF_PATTERN,
    progress: Progress | None = None,
    on_changed: CasesChanged | None = None,
) -> ImportResult:
    """Create or update cases by case reference from a CSV file; a name column refuses the file.

    A status of closed or transferred, or a new worker, is a change `on_changed` is given, in
    this transaction, to close or move the case's open work."""
    pattern = re.compile(case_ref_pattern)
    table = await _read_table(path, required=CASE_COLUMNS, refuse_personal=True)
    async with transaction(sessions) as session:
        if await session.get(Tenant, tenant_id) is None:
            reason = "no staff have been imported for this organisation yet; import staff first"
            raise ImportFailed([RowError(1, "", reason)])
        teams = {
            t.name.casefold(): t
            for t in (await session.exec(select(Team).where(Team.tenant_id == tenant_id)))
        }
        staff = {
            s.email.lower(): s
            for s in (await session.exec(select(Staff).where(Staff.tenant_id == tenant_id)))
        }
        cases = {
            c.case_ref: c
            for c in (await session.exec(select(Case).where(Case.tenant_id == tenant_id)))
        }
        rows = _validate_cases(table, pattern=pattern, teams=teams, staff=staff)
        result, changed = await _write_cases(
            session,
            tenant_id=tenant_id,
            rows=rows,
            cases=cases,
            teams=teams,
            staff=staff,
            progress=progress,
        )
        if on_changed is not None and changed:
            await on_changed(session, changed)
    await gather_statistics(sessions, "case", "audit", "action")
    return result


def _validate_cases(
    table: _Table,
    *,
    pattern: re.Pattern[str],
    teams: dict[str, Team],
    staff: dict[str, Staff],
) -> list[_CaseRow]:
    errors = list(table.errors)
    rows: list[_CaseRow] = []
    first_line: dict[str, int] = {}
    for row in table.rows:
        c, line, known_errors = row.cells, row.line, len(errors)

        # Never echo a bad case_ref: a name typed in the wrong column must not reach a log.
        ref = c["case_ref"]
        if not ref:
            errors.append(RowError(line, "case_ref", "is required"))
        elif len(ref) > 32 or not pattern.fullmatch(ref):
            reason = f"does not match the case reference pattern {pattern.pattern}"
            errors.append(RowError(line, "case_ref", reason))
        elif ref in first_line:
            reason = f"is also on line {first_line[ref]}; each case needs one row"
            errors.append(RowError(line, "case_ref", reason))
        else:
            first_line[ref] = line

        team = teams.get(c["team"].casefold())
        if not c["team"]:
            errors.append(RowError(line, "team", "is required"))
        elif team is None:
            reason = f"no team is called {c['team']!r}; import staff with their teams first"
            errors.append(RowError(line, "team", reason))

        worker_email = c["worker_email"].lower()
        worker = staff.get(worker_email) if worker_email else None
        if worker_email and worker is None:
            reason = "matches no staff member; import staff first"
            errors.append(RowError(line, "worker_email", reason))
        elif worker is not None and not worker.active:
            reason = "has left; give the case's new worker"
            errors.append(RowError(line, "worker_email", reason))

        status = c["status"].lower()
        if status not in CaseStatus._value2member_map_:
            known = ", ".join(s.value for s in CaseStatus)
            errors.append(RowError(line, "status", f"must be one of {known}"))

        opened_on: date | None = None
        if c["opened_on"]:
            try:
                if not _ISO_DATE.match(c["opened_on"]):
                    raise ValueError
                opened_on = date.fromisoformat(c["opened_on"])
            except ValueError:
                reason = "is not a date like 2025-03-31 (format the column as yyyy-mm-dd)"
                errors.append(RowError(line, "opened_on", reason))

        if len(errors) == known_errors and team is not None:
            rows.append(_CaseRow(ref, team, worker, status, opened_on))
    if errors:
        raise ImportFailed(errors)
    return rows


def _case_snapshot(
    case: Case, team_names: dict[int | None, str], emails: dict[int | None, str]
) -> dict[str, Any]:
    return {
        "case_ref": case.case_ref,
        "team": team_names.get(case.team_id),
        "worker_email": emails.get(case.worker_id),
        "status": case.status,
        "opened_on": case.opened_on.isoformat() if case.opened_on else None,
    }


async def _write_cases(
    session: AsyncSession,
    *,
    tenant_id: str,
    rows: list[_CaseRow],
    cases: dict[str, Case],
    teams: dict[str, Team],
    staff: dict[str, Staff],
    progress: Progress | None,
) -> tuple[ImportResult, list[CaseChange]]:
    """The counts, and the cases whose status or worker changed."""
    team_names: dict[int | None, str] = {t.id: t.name for t in teams.values()}
    emails: dict[int | None, str] = {s.id: s.email for s in staff.values()}
    # Logged after the flush, once new cases have ids.
    changes: list[tuple[Case, dict[str, Any] | None, dict[str, Any]]] = []
    moved: list[tuple[Case, str | None, int | None]] = []
    created = updated = unchanged = 0
    for done, row in enumerate(rows, start=1):
        assert row.team.id is not None
        case = cases.get(row.case_ref)
        if case is None:
            case = Case(tenant_id=tenant_id, case_ref=row.case_ref, team_id=row.team.id)
            session.add(case)
            old = None
        else:
            old = _case_snapshot(case, team_names, emails)
        status_before, worker_before = (case.status, case.worker_id) if old else (None, None)
        case.team_id = row.team.id
        case.worker_id = row.worker.id if row.worker else None
        case.status = row.status
        case.opened_on = row.opened_on
        if old is not None and (status_before, worker_before) != (case.status, case.worker_id):
            moved.append((case, status_before, worker_before))
        new = _case_snapshot(case, team_names, emails)
        if old is None:
            created += 1
            changes.append((case, None, new))
        elif (change := _diff(old, new)) is None:
            unchanged += 1
        else:
            updated += 1
            changes.append((case, *change))
        if progress is not None:
            progress(done, len(rows))
    await session.flush()
    for case, before, after in changes:
        _record(session, tenant_id, "import.cases", "case", case.id, before, after)
    await session.flush()
    changed = [
        CaseChange(case.id or 0, status, case.status, worker, case.worker_id)
        for case, status, worker in moved
    ]
    return ImportResult(created, updated, unchanged), changed
