"""Who is asked to confirm or decide on an owner's action (storage.staff.approver_for): their line
manager; else a team manager of their team; else a service manager of their service; else its
head of service; never the owner, never someone inactive."""

from __future__ import annotations

from sqlmodel import update

from storage import staff
from storage.db import SessionMaker, transaction
from storage.models import Service, Staff, Team, Tenant
from tests.chat import _person
from tests.helpers import staff_row

TENANT = "00000000-0000-0000-0000-00000000a001"


async def _council(sessions: SessionMaker) -> dict[str, Staff]:
    people: dict[str, Staff] = {}
    async with transaction(sessions) as session:
        session.add(Tenant(id=TENANT, name="Council"))
        await session.flush()
        service = Service(tenant_id=TENANT, name="Safeguarding")
        other_service = Service(tenant_id=TENANT, name="Early help")
        session.add_all([service, other_service])
        await session.flush()
        north = Team(tenant_id=TENANT, service_id=service.id or 0, name="North")
        south = Team(tenant_id=TENANT, service_id=service.id or 0, name="South")
        session.add_all([north, south])
        await session.flush()
        rows = {
            # The owner, in North, with no line manager.
            "owner": ("practitioner", north.id, None),
            "southtm": ("team_manager", south.id, None),
            "northtm": ("team_manager", north.id, None),
            "head": ("head_of_service", None, service.id),
            "sm": ("service_manager", None, service.id),
            "othersm": ("service_manager", None, other_service.id),
            "colleague": ("practitioner", north.id, None),
        }
        for n, (key, (roles, team_id, service_id)) in enumerate(rows.items()):
            person = _person(f"{key.capitalize()} Pat", 60 + n)
            row = staff_row(TENANT, person, roles, team_id=team_id, service_id=service_id)
            session.add(row)
            await session.flush()
            people[key] = row
    return people


async def _approver(sessions: SessionMaker, owner: Staff) -> str | None:
    async with sessions() as session:
        found = await staff.approver_for(session=session, tenant_id=TENANT, owner=owner)
        return found.display_name.split()[0].lower() if found else None


async def _leave(sessions: SessionMaker, person: Staff) -> None:
    async with transaction(sessions) as session:
        await session.exec(update(Staff).where(Staff.id == person.id).values(active=False))  # type: ignore[call-overload]


async def test_the_team_manager_then_the_service_manager_then_the_head(
    sessions: SessionMaker,
) -> None:
    people = await _council(sessions)
    owner = people["owner"]

    assert await _approver(sessions, owner) == "northtm"
    await _leave(sessions, people["northtm"])
    assert await _approver(sessions, owner) == "sm"
    await _leave(sessions, people["sm"])
    assert await _approver(sessions, owner) == "head"
    await _leave(sessions, people["head"])
    assert await _approver(sessions, owner) is None


async def test_a_line_manager_comes_first_and_nobody_approves_their_own(
    sessions: SessionMaker,
) -> None:
    people = await _council(sessions)
    owner, north_tm = people["owner"], people["northtm"]
    owner.manager_id = people["southtm"].id
    assert await _approver(sessions, owner) == "southtm"

    # A team manager's own action goes to their service, not to themselves.
    assert await _approver(sessions, north_tm) == "sm"


async def test_the_first_by_id_who_holds_the_role_as_a_word_and_never_a_lookalike(
    sessions: SessionMaker,
) -> None:
    """The query reads one row: the first person by id whose stored roles hold the role as a
    whole word (alone, first, or last), not text that merely contains its letters."""
    people = await _council(sessions)
    north = people["northtm"].team_id
    async with transaction(sessions) as session:
        for n, roles in enumerate(["team_managers", "teamxmanager", "auditor team_manager"]):
            row = staff_row(TENANT, _person(f"Extra{n} Pat", 90 + n), roles, team_id=north)
            row.id = (people["northtm"].id or 0) - 100 + n  # before the North TM by id
            session.add(row)
    assert await _approver(sessions, people["owner"]) == "extra2"
    await _leave(sessions, people["northtm"])
    async with transaction(sessions) as session:
        await session.exec(
            update(Staff)
            .where(Staff.team_id == north, Staff.roles.contains("auditor"))
            .values(active=False)
        )  # type: ignore[call-overload,union-attr]
    # With no team manager left in North: the service manager, never the lookalikes.
    assert await _approver(sessions, people["owner"]) == "sm"
