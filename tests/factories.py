"""A small council for tests, built straight into the tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from storage.db import SessionMaker, transaction
from storage.models import Action, Audit, Case, Service, Staff, Team, Tenant
from tests.chat import ALEX, MEGAN, TENANT


@dataclass
class Council:
    tenant_id: str
    staff: dict[str, Staff] = field(default_factory=dict)
    team_id: int = 0
    cases: list[Case] = field(default_factory=list)


async def small_council(sessions: SessionMaker, *, tenant_id: str = TENANT) -> Council:
    """Alex (practitioner and auditor) and Megan (his team manager) in one team."""
    council = Council(tenant_id)
    async with transaction(sessions) as session:
        session.add(Tenant(id=tenant_id, name=f"Council {tenant_id[-4:]}"))
        await session.flush()
        service = Service(tenant_id=tenant_id, name="Safeguarding")
        session.add(service)
        await session.flush()
        assert service.id is not None
        team = Team(tenant_id=tenant_id, service_id=service.id, name="North")
        session.add(team)
        await session.flush()
        assert team.id is not None
        council.team_id = team.id
        megan = Staff(
            tenant_id=tenant_id,
            email=MEGAN.email,
            display_name=MEGAN.name,
            aad_object_id=MEGAN.aad,
            roles="team_manager",
            team_id=team.id,
        )
        session.add(megan)
        await session.flush()
        alex = Staff(
            tenant_id=tenant_id,
            email=ALEX.email,
            display_name=ALEX.name,
            aad_object_id=ALEX.aad,
            roles="auditor practitioner",
            team_id=team.id,
            manager_id=megan.id,
        )
        session.add(alex)
        await session.flush()
        council.staff = {"alex": alex, "megan": megan}
        for n in range(3):
            case = Case(
                tenant_id=tenant_id,
                case_ref=f"C-{n + 1}{int(tenant_id[:8], 16) % 1000:03d}44",
                team_id=team.id,
                worker_id=alex.id,
            )
            session.add(case)
            council.cases.append(case)
        await session.flush()
    return council


async def add_action(
    sessions: SessionMaker,
    council: Council,
    *,
    owner: str,
    what: str,
    due_on: date,
    state: str = "open",
    case_index: int | None = 0,
    measure: str = "Seen on the case record",
) -> Action:
    async with transaction(sessions) as session:
        audit_id = None
        if case_index is not None:
            case = council.cases[case_index]
            audit = Audit(
                tenant_id=council.tenant_id,
                case_id=case.id or 0,
                team_id=council.team_id,
                auditor_id=council.staff["megan"].id or 0,
                practitioner_id=council.staff["alex"].id,
                due_on=due_on,
                state="completed",
            )
            session.add(audit)
            await session.flush()
            audit_id = audit.id
        action = Action(
            tenant_id=council.tenant_id,
            audit_id=audit_id,
            what=what,
            measure=measure,
            owner_id=council.staff[owner].id or 0,
            due_on=due_on,
            state=state,
            standard="plans",
        )
        session.add(action)
    return action


async def add_audit(
    sessions: SessionMaker,
    council: Council,
    *,
    auditor: str,
    practitioner: str | None,
    due_on: date,
    case_index: int = 0,
    state: str = "assigned",
    kind: str = "collaborative",
) -> Audit:
    async with transaction(sessions) as session:
        audit = Audit(
            tenant_id=council.tenant_id,
            case_id=council.cases[case_index].id or 0,
            team_id=council.team_id,
            auditor_id=council.staff[auditor].id or 0,
            practitioner_id=council.staff[practitioner].id if practitioner else None,
            due_on=due_on,
            state=state,
            kind=kind,
        )
        session.add(audit)
    return audit
