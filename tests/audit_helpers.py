"""A council for the audit-lifecycle tests: two services, three teams, every role, cases in each
team. Shared by the allocation, grading, inadequate-response, feedback and moderation tests; a
test that needs more adds rows of its own rather than changing this."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from storage.db import SessionMaker, transaction
from storage.models import Audit, Case, Service, Staff, Team, Tenant
from tests.action_helpers import NESTOR, PATTI
from tests.chat import ALEX, MEGAN, TENANT, Chat, Person

ADELE = Person(
    "Adele Vance", "00000000-0000-0000-0000-0000000000024", "29:adele", "adelev@example.com"
)
ISAIAH = Person(
    "Isaiah Langer", "00000000-0000-0000-0000-0000000000025", "29:isaiah", "isaiahl@example.com"
)
LYNNE = Person(
    "Lynne Robbins", "00000000-0000-0000-0000-0000000000026", "29:lynne", "lynner@example.com"
)
DIEGO = Person(
    "Diego Siciliani", "00000000-0000-0000-0000-0000000000027", "29:diego", "diegos@example.com"
)
JONI = Person(
    "Joni Sherman", "00000000-0000-0000-0000-0000000000028", "29:joni", "jonis@example.com"
)
GRADY = Person(
    "Grady Archie", "00000000-0000-0000-0000-0000000000029", "29:grady", "gradya@example.com"
)

# Who is who (key: first name, lower case):
#   Safeguarding service: HoS isaiah, SM adele
#     North team: TM megan; alex (practitioner and auditor), lynne (practitioner)
#     South team: TM nestor; diego (practitioner and auditor)
#   Early Help service: HoS/SM grady
#     East team: TM joni (and auditor)
#   QA: patti (qa and auditor, no team)
EVERYONE = (ALEX, MEGAN, NESTOR, PATTI, ADELE, ISAIAH, LYNNE, DIEGO, JONI, GRADY)


@dataclass
class AuditCouncil:
    tenant_id: str
    staff: dict[str, Staff] = field(default_factory=dict)
    services: dict[str, Service] = field(default_factory=dict)
    teams: dict[str, Team] = field(default_factory=dict)
    # Per team name, its open cases in order; worker ids cycle through the team's practitioners.
    cases: dict[str, list[Case]] = field(default_factory=dict)

    def id(self, key: str) -> int:
        found = self.staff[key].id
        assert found is not None
        return found


async def audit_council(
    sessions: SessionMaker, *, tenant_id: str = TENANT, cases_per_team: int = 6
) -> AuditCouncil:
    council = AuditCouncil(tenant_id)
    async with transaction(sessions) as session:
        session.add(Tenant(id=tenant_id, name="Test Council"))
        await session.flush()
        for name in ("Safeguarding", "Early Help"):
            service = Service(tenant_id=tenant_id, name=name)
            session.add(service)
            await session.flush()
            council.services[name] = service
        safeguarding, early_help = council.services["Safeguarding"], council.services["Early Help"]
        for name, service in (
            ("North", safeguarding),
            ("South", safeguarding),
            ("East", early_help),
        ):
            team = Team(tenant_id=tenant_id, service_id=service.id or 0, name=name)
            session.add(team)
            await session.flush()
            council.teams[name] = team

        def add(person: Person, roles: str, *, team: str | None, service: Service) -> Staff:
            row = Staff(
                tenant_id=tenant_id,
                email=person.email,
                display_name=person.name,
                aad_object_id=person.aad,
                roles=roles,
                team_id=council.teams[team].id if team else None,
                service_id=service.id,
            )
            session.add(row)
            council.staff[person.name.split()[0].lower()] = row
            return row

        add(ISAIAH, "head_of_service", team=None, service=safeguarding)
        add(ADELE, "service_manager", team=None, service=safeguarding)
        add(GRADY, "head_of_service service_manager", team=None, service=early_help)
        add(MEGAN, "team_manager", team="North", service=safeguarding)
        add(NESTOR, "team_manager", team="South", service=safeguarding)
        add(JONI, "team_manager auditor", team="East", service=early_help)
        add(PATTI, "qa auditor", team=None, service=safeguarding)
        await session.flush()
        managers = {"North": "megan", "South": "nestor", "East": "joni"}
        for key, roles, team_name in (
            ("alex", "practitioner auditor", "North"),
            ("lynne", "practitioner", "North"),
            ("diego", "practitioner auditor", "South"),
        ):
            person = next(p for p in EVERYONE if p.name.split()[0].lower() == key)
            row = add(person, roles, team=team_name, service=safeguarding)
            row.manager_id = council.staff[managers[team_name]].id
        await session.flush()
        workers = {"North": ["alex", "lynne"], "South": ["diego"], "East": ["joni"]}
        prefix = {"North": 1, "South": 2, "East": 3}
        for team_name, team in council.teams.items():
            council.cases[team_name] = []
            for n in range(cases_per_team):
                worker = workers[team_name][n % len(workers[team_name])]
                case = Case(
                    tenant_id=tenant_id,
                    case_ref=f"C-{prefix[team_name]}{n + 1:04d}",
                    team_id=team.id or 0,
                    worker_id=council.staff[worker].id,
                )
                session.add(case)
                council.cases[team_name].append(case)
        await session.flush()
    return council


async def add_assigned_audit(
    sessions: SessionMaker,
    council: AuditCouncil,
    *,
    team: str = "North",
    case_index: int = 0,
    auditor: str = "patti",
    due_on: date,
    state: str = "assigned",
    kind: str = "collaborative",
) -> Audit:
    """An audit of a team's case; its practitioner is the case's worker."""
    case = council.cases[team][case_index]
    async with transaction(sessions) as session:
        audit = Audit(
            tenant_id=council.tenant_id,
            case_id=case.id or 0,
            team_id=council.teams[team].id or 0,
            auditor_id=council.id(auditor),
            practitioner_id=case.worker_id,
            due_on=due_on,
            state=state,
            kind=kind,
        )
        session.add(audit)
    return audit


async def everyone_says_hello(chat: Chat) -> None:
    """So the bot has a personal chat with each of them (it can only write where it has been)."""
    for person in EVERYONE:
        await chat.say("help", who=person)
