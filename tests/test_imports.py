"""An admin imports staff and cases from CSV files: all or nothing, every problem reported."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import col, func, select

from storage.db import SessionMaker
from storage.imports import ImportFailed, ImportResult, RowError, import_cases, import_staff
from storage.models import AuditLog, Case, Service, Staff, Team, Tenant

FIXTURES = Path(__file__).parent / "fixtures"
TENANT = "tenant-imports"


# --- helpers -------------------------------------------------------------------------------------


async def row_counts(sessions: SessionMaker) -> dict[str, int]:
    counts = {}
    async with sessions() as session:
        for model in (Tenant, Service, Team, Staff, Case, AuditLog):
            counts[model.__name__] = (
                await session.exec(select(func.count()).select_from(model))
            ).one()
    return counts


async def staff_by_email(sessions: SessionMaker, tenant_id: str = TENANT) -> dict[str, Staff]:
    async with sessions() as session:
        people = await session.exec(select(Staff).where(Staff.tenant_id == tenant_id))
        return {p.email: p for p in people}


async def import_good_staff(sessions: SessionMaker, tenant_id: str = TENANT) -> ImportResult:
    return await import_staff(
        sessions=sessions,
        tenant_id=tenant_id,
        path=FIXTURES / "staff_good.csv",
        tenant_name="Test Council",
    )


def failure(exc: pytest.ExceptionInfo[ImportFailed]) -> list[tuple[int, str]]:
    return [(e.line, e.column) for e in exc.value.errors]


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


# --- staff ---------------------------------------------------------------------------------------


async def test_a_good_staff_file_creates_the_tenant_teams_and_people(
    sessions: SessionMaker,
) -> None:
    result = await import_good_staff(sessions)

    assert result == ImportResult(created=8, updated=0, unchanged=0)
    async with sessions() as session:
        tenant = await session.get(Tenant, TENANT)
        assert tenant is not None and tenant.name == "Test Council"
        services = (await session.exec(select(Service.name).order_by(Service.name))).all()
        teams = (await session.exec(select(Team.name).order_by(Team.name))).all()
    assert services == ["Children in Care", "Safeguarding"]
    assert teams == ["Care Team", "North", "South"]

    people = await staff_by_email(sessions)
    alex, megan, lynne = (
        people["alexw@example.com"],
        people["meganb@example.com"],
        people["lynner@example.com"],
    )
    # Megan's row comes after Alex's, yet she is his manager; and emails are lower-cased.
    assert alex.manager_id == megan.id
    assert megan.manager_id == people["adelev@example.com"].id
    assert alex.role_set == {"practitioner", "auditor"}
    assert megan.roles == "auditor team_manager"
    assert people["kate.price@example.com"].role_set == {"team_manager", "auditor"}
    assert lynne.working_days == "123"
    assert people["sam.jones@example.com"].working_days == "1234"
    assert alex.working_days == "12345"
    assert alex.aad_object_id == "00000000-0000-0000-0000-0000000000020"
    assert lynne.aad_object_id is None
    assert people["pattif@example.com"].team_id is None
    assert people["pattif@example.com"].service_id is None
    assert alex.team_id == megan.team_id == lynne.team_id
    async with sessions() as session:
        by_name = {s.name: s.id for s in await session.exec(select(Service))}
        teams_by_id = {t.id: t for t in await session.exec(select(Team))}
    # Everyone in a team is in its service; the service manager leads hers without a team.
    assert all(
        p.service_id == teams_by_id[p.team_id].service_id for p in people.values() if p.team_id
    )
    assert alex.service_id == by_name["Safeguarding"]
    adele = people["adelev@example.com"]
    assert (adele.team_id, adele.service_id) == (None, by_name["Safeguarding"])


async def test_a_bad_staff_file_reports_every_problem_and_changes_nothing(
    sessions: SessionMaker,
) -> None:
    await import_good_staff(sessions)
    before = await row_counts(sessions)

    with pytest.raises(ImportFailed) as failed:
        await import_staff(sessions=sessions, tenant_id=TENANT, path=FIXTURES / "staff_bad.csv")

    assert failure(failed) == [
        (3, "email"),
        (4, "roles"),
        (5, "manager_email"),
        (6, "email"),
        (7, "display_name"),
        (7, "service"),
        (7, "working_days"),
    ]
    reasons = {(e.line, e.column): e.reason for e in failed.value.errors}
    assert "wizard" in reasons[(4, "roles")]
    assert "line 2" in reasons[(6, "email")]
    assert await row_counts(sessions) == before
    # Line 2 was fine on its own, but nothing of a bad file is written.
    assert (await staff_by_email(sessions))["alexw@example.com"].display_name == "Alex Wilber"


async def test_a_bad_first_import_does_not_even_create_the_tenant(sessions: SessionMaker) -> None:
    with pytest.raises(ImportFailed):
        await import_staff(sessions=sessions, tenant_id=TENANT, path=FIXTURES / "staff_bad.csv")

    assert set((await row_counts(sessions)).values()) == {0}


async def test_an_excel_file_with_a_bom_and_crlf_is_read(sessions: SessionMaker) -> None:
    result = await import_staff(
        sessions=sessions, tenant_id=TENANT, path=FIXTURES / "staff_excel_bom.csv"
    )

    assert result.created == 2
    people = await staff_by_email(sessions)
    assert people["sian.evans@example.com"].display_name == "Siân Evans"
    assert people["zoe.hart@example.com"].display_name == "Zoë Hart"


async def test_a_file_that_is_not_utf8_is_refused_with_its_line(
    sessions: SessionMaker, tmp_path: Path
) -> None:
    latin1 = "email,display_name,roles,team,service\nsian@example.com,Siân,practitioner,N,S\n"
    path = write(tmp_path, "latin1.csv", latin1.encode("latin-1"))

    with pytest.raises(ImportFailed) as failed:
        await import_staff(sessions=sessions, tenant_id=TENANT, path=path)

    assert failure(failed) == [(2, "")]
    assert "UTF-8" in failed.value.errors[0].reason


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("", [(1, "")]),
        ("\ufeff\r\n", [(1, "")]),
        ("email,display_name,roles,team,service\n", [(2, "")]),
        ("email,display_name,roles,team,service\n,,,,\n", [(2, "")]),
    ],
    ids=["empty", "bom-only", "header-only", "blank-rows-only"],
)
async def test_an_empty_file_is_refused(
    sessions: SessionMaker, tmp_path: Path, content: str, expected: list[tuple[int, str]]
) -> None:
    with pytest.raises(ImportFailed) as failed:
        await import_staff(
            sessions=sessions, tenant_id=TENANT, path=write(tmp_path, "x.csv", content)
        )

    assert failure(failed) == expected


async def test_header_problems_are_named(sessions: SessionMaker, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "staff.csv",
        "Email,Display Name,roles,roles,team,nickname\nsam@example.com,Sam,practitioner,,North,Sammy\n",
    )

    with pytest.raises(ImportFailed) as failed:
        await import_staff(sessions=sessions, tenant_id=TENANT, path=path)

    assert failure(failed) == [(1, "roles"), (1, "nickname"), (1, "service")]
    assert [e.reason for e in failed.value.errors] == [
        "appears twice in the header",
        "is not a known column",
        "column is missing from the header",
    ]


async def test_rows_with_too_many_values_and_managers_in_a_loop_are_reported(
    sessions: SessionMaker, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        "staff.csv",
        "email,display_name,roles,team,service,manager_email\n"
        "a@example.com,A,team_manager,North,S,b@example.com\n"
        "b@example.com,B,team_manager,North,S,a@example.com\n"
        "c@example.com,C,practitioner,North,S,c@example.com\n"
        "d@example.com,D,practitioner,North,S,a@example.com,extra\n"
        "e@example.com,E,practitioner,,,a@example.com\n",
    )

    with pytest.raises(ImportFailed) as failed:
        await import_staff(sessions=sessions, tenant_id=TENANT, path=path)

    assert failure(failed) == [
        (2, "manager_email"),
        (3, "manager_email"),
        (4, "manager_email"),
        (5, ""),
        (6, "team"),
    ]
    assert "a@example.com → b@example.com → a@example.com" in failed.value.errors[0].reason


async def test_a_team_keeps_its_service(sessions: SessionMaker, tmp_path: Path) -> None:
    await import_good_staff(sessions)
    path = write(
        tmp_path,
        "staff.csv",
        "email,display_name,roles,team,service\n"
        "new@example.com,New Person,practitioner,North,Children in Care\n",
    )

    with pytest.raises(ImportFailed) as failed:
        await import_staff(sessions=sessions, tenant_id=TENANT, path=path)

    assert failure(failed) == [(2, "team")]


async def test_a_senior_manager_may_name_a_service_and_no_team(
    sessions: SessionMaker, tmp_path: Path
) -> None:
    await import_good_staff(sessions)
    path = write(
        tmp_path,
        "staff.csv",
        "email,display_name,roles,team,service\n"
        "hos@example.com,Hana Ortiz,head_of_service,,Early Help\n"
        "sm@example.com,Sol Meyer,service_manager auditor,,safeguarding\n",
    )

    result = await import_staff(sessions=sessions, tenant_id=TENANT, path=path)

    assert result == ImportResult(created=2, updated=0, unchanged=0)
    async with sessions() as session:
        services = {s.name: s.id for s in await session.exec(select(Service))}
        entries = (await session.exec(select(AuditLog).order_by(col(AuditLog.id)))).all()
    # A new service is created for a service-level row; a known one is matched ignoring case.
    assert set(services) == {"Children in Care", "Early Help", "Safeguarding"}
    people = await staff_by_email(sessions)
    hos, sm = people["hos@example.com"], people["sm@example.com"]
    assert (hos.team_id, hos.service_id) == (None, services["Early Help"])
    assert (sm.team_id, sm.service_id) == (None, services["Safeguarding"])
    assert entries[-1].after is not None
    assert (entries[-1].after["team"], entries[-1].after["service"]) == (None, "Safeguarding")


async def test_only_senior_managers_may_name_a_service_without_a_team(
    sessions: SessionMaker, tmp_path: Path
) -> None:
    await import_good_staff(sessions)
    before = await row_counts(sessions)
    path = write(
        tmp_path,
        "staff.csv",
        "email,display_name,roles,team,service\n"
        "sm@example.com,Sol Meyer,service_manager,,Safeguarding\n"
        "pat@example.com,Pat Quinn,practitioner,,Safeguarding\n"
        "qa@example.com,Quinn Ash,qa auditor,,Safeguarding\n"
        "hos@example.com,Hana Ortiz,head_of_service,,\n"
        "tm@example.com,Tia Moss,team_manager service_manager,,Safeguarding\n",
    )

    with pytest.raises(ImportFailed) as failed:
        await import_staff(sessions=sessions, tenant_id=TENANT, path=path)

    assert failure(failed) == [(3, "team"), (4, "team"), (5, "service"), (6, "team")]
    reasons = {(e.line, e.column): e.reason for e in failed.value.errors}
    assert "practitioners" in reasons[(3, "team")]
    assert "only service managers and heads of service" in reasons[(4, "team")]
    assert await row_counts(sessions) == before


async def test_a_persons_service_follows_their_team_and_changes_are_logged(
    sessions: SessionMaker, tmp_path: Path
) -> None:
    await import_good_staff(sessions)
    moved = (
        (FIXTURES / "staff_good.csv")
        .read_text()
        .replace(
            "sam.jones@example.com,Sam Jones,practitioner,South,Safeguarding",
            "sam.jones@example.com,Sam Jones,practitioner,Care Team,Children in Care",
        )
    )

    result = await import_staff(
        sessions=sessions, tenant_id=TENANT, path=write(tmp_path, "s.csv", moved)
    )

    assert result == ImportResult(created=0, updated=1, unchanged=7)
    sam = (await staff_by_email(sessions))["sam.jones@example.com"]
    async with sessions() as session:
        care = (await session.exec(select(Team).where(Team.name == "Care Team"))).one()
        last = (await session.exec(select(AuditLog).order_by(col(AuditLog.id).desc()))).first()
    assert (sam.team_id, sam.service_id) == (care.id, care.service_id)
    assert last is not None
    assert (last.before, last.after) == (
        {"team": "South", "service": "Safeguarding"},
        {"team": "Care Team", "service": "Children in Care"},
    )


async def test_reimporting_the_same_file_changes_nothing(sessions: SessionMaker) -> None:
    await import_good_staff(sessions)
    logged = (await row_counts(sessions))["AuditLog"]

    again = await import_good_staff(sessions)

    assert again == ImportResult(created=0, updated=0, unchanged=8)
    assert (await row_counts(sessions))["AuditLog"] == logged


async def test_every_created_or_changed_entity_is_audit_logged(
    sessions: SessionMaker, tmp_path: Path
) -> None:
    await import_good_staff(sessions)
    async with sessions() as session:
        entries = (await session.exec(select(AuditLog).order_by(col(AuditLog.id)))).all()
    assert {e.event for e in entries} == {"import.staff"}
    assert all(e.actor_id is None and e.tenant_id == TENANT for e in entries)
    kinds = [e.entity for e in entries]
    assert (kinds.count("tenant"), kinds.count("service"), kinds.count("team")) == (1, 2, 3)
    assert kinds.count("staff") == 8
    alex_created = next(
        e for e in entries if e.after and e.after.get("email") == "alexw@example.com"
    )
    assert alex_created.before is None
    assert alex_created.after is not None
    assert alex_created.after["manager_email"] == "meganb@example.com"

    changed = (FIXTURES / "staff_good.csv").read_text().replace("Alex Wilber", "Alex J. Wilber")
    result = await import_staff(
        sessions=sessions, tenant_id=TENANT, path=write(tmp_path, "s.csv", changed)
    )

    assert result == ImportResult(created=0, updated=1, unchanged=7)
    async with sessions() as session:
        last = (await session.exec(select(AuditLog).order_by(col(AuditLog.id).desc()))).first()
    assert last is not None
    assert (last.entity, last.before, last.after) == (
        "staff",
        {"display_name": "Alex Wilber"},
        {"display_name": "Alex J. Wilber"},
    )


async def test_progress_is_reported_row_by_row(sessions: SessionMaker) -> None:
    seen: list[tuple[int, int]] = []

    await import_staff(
        sessions=sessions,
        tenant_id=TENANT,
        path=FIXTURES / "staff_good.csv",
        progress=lambda done, total: seen.append((done, total)),
    )

    assert seen == [(n, 8) for n in range(1, 9)]


async def test_each_tenant_has_its_own_staff_and_teams(sessions: SessionMaker) -> None:
    await import_good_staff(sessions, "tenant-a")
    await import_good_staff(sessions, "tenant-b")

    a, b = await staff_by_email(sessions, "tenant-a"), await staff_by_email(sessions, "tenant-b")
    assert a.keys() == b.keys()
    assert a["alexw@example.com"].team_id != b["alexw@example.com"].team_id
    assert b["alexw@example.com"].manager_id == b["meganb@example.com"].id


# --- cases ---------------------------------------------------------------------------------------


async def test_a_good_cases_file_links_teams_and_workers(sessions: SessionMaker) -> None:
    await import_good_staff(sessions)

    result = await import_cases(
        sessions=sessions, tenant_id=TENANT, path=FIXTURES / "cases_good.csv"
    )

    assert result == ImportResult(created=4, updated=0, unchanged=0)
    people = await staff_by_email(sessions)
    async with sessions() as session:
        cases = {c.case_ref: c for c in await session.exec(select(Case))}
        logged = (
            await session.exec(select(AuditLog).where(AuditLog.event == "import.cases"))
        ).all()
    assert cases["C-104233"].worker_id == people["alexw@example.com"].id
    assert cases["AB123456"].status == "closed"
    assert cases["987654"].worker_id is None and cases["987654"].opened_on is None
    assert len(logged) == 4
    assert logged[0].after == {
        "case_ref": "C-104233",
        "team": "North",
        "worker_email": "alexw@example.com",
        "status": "open",
        "opened_on": "2024-03-01",
    }

    again = await import_cases(
        sessions=sessions, tenant_id=TENANT, path=FIXTURES / "cases_good.csv"
    )
    assert again == ImportResult(created=0, updated=0, unchanged=4)


async def test_a_cases_file_with_a_name_column_is_refused(sessions: SessionMaker) -> None:
    await import_good_staff(sessions)
    before = await row_counts(sessions)

    with pytest.raises(ImportFailed) as failed:
        await import_cases(
            sessions=sessions, tenant_id=TENANT, path=FIXTURES / "cases_with_names.csv"
        )

    assert failure(failed) == [(1, "child_name")]
    assert "never stores" in failed.value.errors[0].reason
    assert "Jamie" not in str(failed.value.errors)
    assert await row_counts(sessions) == before


@pytest.mark.parametrize(
    "heading", ["child_name", "Name", "first name", "Surname", "DOB", "date_of_birth", "forename"]
)
async def test_any_heading_that_looks_like_a_name_is_refused(
    sessions: SessionMaker, tmp_path: Path, heading: str
) -> None:
    await import_good_staff(sessions)
    path = write(
        tmp_path,
        "cases.csv",
        f"case_ref,team,worker_email,status,opened_on,{heading}\nC-104233,North,,open,,x\n",
    )

    with pytest.raises(ImportFailed) as failed:
        await import_cases(sessions=sessions, tenant_id=TENANT, path=path)

    assert [e.reason.startswith("looks like a child's name") for e in failed.value.errors] == [True]


async def test_bad_case_rows_are_all_reported_without_echoing_the_reference(
    sessions: SessionMaker,
) -> None:
    await import_good_staff(sessions)
    before = await row_counts(sessions)

    with pytest.raises(ImportFailed) as failed:
        await import_cases(sessions=sessions, tenant_id=TENANT, path=FIXTURES / "cases_bad.csv")

    assert failure(failed) == [
        (3, "case_ref"),
        (4, "case_ref"),
        (5, "case_ref"),
        (6, "team"),
        (7, "worker_email"),
        (7, "status"),
        (7, "opened_on"),
    ]
    assert "pattern" in failed.value.errors[0].reason
    assert "Jamie" not in str(failed.value.errors)
    assert "line 2" in failed.value.errors[2].reason
    assert await row_counts(sessions) == before


async def test_the_case_reference_pattern_is_configurable(
    sessions: SessionMaker, tmp_path: Path
) -> None:
    await import_good_staff(sessions)
    path = write(
        tmp_path,
        "cases.csv",
        "case_ref,team,worker_email,status,opened_on\n"
        "LL/123456,North,,open,\nC-104233,North,,open,\n",
    )

    with pytest.raises(ImportFailed) as failed:
        await import_cases(
            sessions=sessions, tenant_id=TENANT, path=path, case_ref_pattern=r"^LL/\d{6}$"
        )

    assert failed.value.errors == [
        RowError(3, "case_ref", r"does not match the case reference pattern ^LL/\d{6}$")
    ]


async def test_cases_need_the_staff_imported_first(sessions: SessionMaker) -> None:
    with pytest.raises(ImportFailed) as failed:
        await import_cases(sessions=sessions, tenant_id=TENANT, path=FIXTURES / "cases_good.csv")

    assert "import staff first" in failed.value.errors[0].reason


async def test_cases_only_see_their_own_tenants_teams(sessions: SessionMaker) -> None:
    await import_good_staff(sessions, "tenant-a")
    await import_staff(
        sessions=sessions, tenant_id="tenant-b", path=FIXTURES / "staff_excel_bom.csv"
    )

    with pytest.raises(ImportFailed) as failed:
        await import_cases(
            sessions=sessions, tenant_id="tenant-b", path=FIXTURES / "cases_good.csv"
        )

    # tenant-b has a North team but none of tenant-a's people or other teams.
    assert failure(failed) == [
        (2, "worker_email"),
        (3, "worker_email"),
        (4, "team"),
        (4, "worker_email"),
        (5, "team"),
    ]


async def test_an_import_leaves_postgresql_statistics_for_the_planner(
    sessions: SessionMaker, tmp_path: Path
) -> None:
    """Without statistics, the first `my actions` after a big first import planned a join of
    every audit to each action (docs/performance.md); autovacuum would gather them only later."""
    await import_good_staff(sessions)
    path = write(
        tmp_path,
        "cases.csv",
        "case_ref,team,worker_email,status,opened_on\nC-104233,North,,open,\n",
    )
    await import_cases(sessions=sessions, tenant_id=TENANT, path=path)

    async with sessions() as session:
        connection = await session.connection()
        if connection.dialect.name != "postgresql":
            return  # SQLite's planner does without
        # reltuples is -1 until a table is first analysed (PostgreSQL 14 and later).
        analysed = await connection.exec_driver_sql(
            "SELECT relname, reltuples >= 0 FROM pg_class WHERE relname IN "
            "('staff', 'team', 'service', 'case', 'audit', 'action') ORDER BY relname"
        )
        assert dict(analysed.all()) == {
            "action": True,
            "audit": True,
            "case": True,
            "service": True,
            "staff": True,
            "team": True,
        }
