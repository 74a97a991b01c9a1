"""A demo council for the Agents Playground: its mock users, cases, and six months of audits,
actions and feedback dated relative to a given day; deterministic for a seed."""

from __future__ import annotations

import hashlib
import random
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from typing import Final
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import SQLModel, col
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.rules.allocation import last_working_day
from bot.rules.briefing import second_tuesday
from bot.rules.deadlines import (
    MEETING_DEADLINE,
    MEETING_WHAT,
    VISIT_DEADLINE,
    VISIT_WHAT,
    meeting_due,
    meeting_measure,
    visit_due,
    visit_measure,
)
from bot.rules.digest import month_start
from bot.rules.grades import ActionState, AuditKind, AuditState, Grade, Standard
from bot.rules.roles import Role, format_roles
from bot.rules.workdays import add_working_days, first_working_day
from storage import audit_log
from storage.conversations import AHEAD_OF_USE
from storage.db import SessionMaker, transaction
from storage.models import (
    Action,
    ActionMeeting,
    Allocation,
    Audit,
    Briefing,
    Case,
    ConversationRef,
    ExtensionRequest,
    Feedback,
    FeedbackVersion,
    Moderation,
    Service,
    Staff,
    Team,
    Tenant,
    TenantErasure,
)

# The Agents Playground's default tenant, so its mock users land in the demo council.
DEMO_TENANT_ID: Final = "00000000-0000-0000-0000-0000000000001"
DEMO_TENANT_NAME: Final = "Demo Council"
# Where the Agents Playground (`make demo`) reaches the bot's messages: its mock connector, on its
# default port, and the bot's id and name in the playground's config (tests/e2e/playground_config).
PLAYGROUND_SERVICE_URL: Final = "http://localhost:56150/_connector"
PLAYGROUND_BOT: Final[Mapping[str, str]] = MappingProxyType(
    {"id": "00000000-0000-0000-0000-00000000000011", "name": "QA Loop"}
)


@dataclass(frozen=True, slots=True)
class PlaygroundUser:
    """One of the Agents Playground's default mock users and who they are in the demo."""

    playground_id: str
    display_name: str
    email: str
    aad_object_id: str
    roles: frozenset[Role]

    @property
    def personal_chat_id(self) -> str:
        """Their 1:1 chat with the bot, as the playground's config names it."""
        return f"a:qaloop-personal-{self.email.split('@')[0]}"


def _playground(n: int, name: str, email: str, *roles: Role) -> PlaygroundUser:
    return PlaygroundUser(
        f"user-id-{n}", name, email, f"00000000-0000-0000-0000-{20 + n:013d}", frozenset(roles)
    )


PLAYGROUND_USERS: Final[Mapping[str, PlaygroundUser]] = MappingProxyType(
    {
        "alex": _playground(0, "Alex Wilber", "alexw@example.com", Role.PRACTITIONER, Role.AUDITOR),
        "megan": _playground(
            1, "Megan Bowen", "meganb@example.com", Role.TEAM_MANAGER, Role.AUDITOR
        ),
        "adele": _playground(
            2, "Adele Vance", "adelev@example.com", Role.SERVICE_MANAGER, Role.AUDITOR
        ),
        "isaiah": _playground(3, "Isaiah Langer", "isaiahl@example.com", Role.HEAD_OF_SERVICE),
        "patti": _playground(4, "Patti Fernandez", "pattif@example.com", Role.QA, Role.AUDITOR),
        "lynne": _playground(5, "Lynne Robbins", "lynner@example.com", Role.PRACTITIONER),
    }
)


@dataclass(frozen=True, slots=True)
class DemoSummary:
    services: int
    teams: int
    staff: int
    conversations: int
    cases: int
    allocations: int
    audits: int
    moderations: int
    actions: int
    action_meetings: int
    extension_requests: int
    feedback: int
    feedback_versions: int
    briefings: int

    def __str__(self) -> str:
        return ", ".join(f"{n} {name.replace('_', ' ')}" for name, n in asdict(self).items())


# Alex's team comes first: the playground users work in it.
SERVICES: Final = (
    ("Safeguarding and Family Support", ("Assessment and Intervention", "Family Support")),
    ("Children in Care", ("Children in Care North", "Permanence and Leaving Care")),
)
PRACTITIONERS_PER_TEAM: Final = 6
CASES_PER_TEAM: Final = 50
COLLABORATIVE_PER_TEAM: Final = 3
MONTHS: Final = 6

FIRST_NAMES: Final = (
    "Olivia",
    "Amelia",
    "Isla",
    "Grace",
    "Sophie",
    "Emily",
    "Chloe",
    "Hannah",
    "Rachel",
    "Laura",
    "Sarah",
    "Rebecca",
    "Claire",
    "Joanne",
    "Nicola",
    "Priya",
    "Aisha",
    "Fatima",
    "Siobhan",
    "Niamh",
    "Rhiannon",
    "Bethan",
    "Oliver",
    "Harry",
    "George",
    "Jack",
    "James",
    "Thomas",
    "Daniel",
    "Matthew",
    "Samuel",
    "Mohammed",
    "Imran",
    "Kwame",
    "Gareth",
    "Owen",
    "Callum",
    "Liam",
    "Ryan",
)
SURNAMES: Final = (
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Johnson",
    "Davies",
    "Patel",
    "Robinson",
    "Wright",
    "Thompson",
    "Evans",
    "Walker",
    "White",
    "Roberts",
    "Green",
    "Hall",
    "Wood",
    "Jackson",
    "Clarke",
    "Khan",
    "Ahmed",
    "Hughes",
    "Edwards",
    "Lewis",
    "Turner",
    "Hill",
    "Baker",
    "Harris",
    "Morris",
    "Cooper",
    "Ward",
    "Begum",
    "Okafor",
    "Mensah",
    "Kaur",
    "Murphy",
    "Campbell",
    "Price",
)
PART_TIME: Final = ("1234", "2345", "123")

# Per standard, how likely a grade is one better, the same as, or one worse than the audit's
# overall quality: records and oversight are where audits most often find weaknesses.
STANDARD_DRIFT: Final[Mapping[Standard, tuple[int, int, int]]] = {
    Standard.HEART: (25, 60, 15),
    Standard.ASSESSMENT: (20, 60, 20),
    Standard.PLANS: (12, 58, 30),
    Standard.RECORDS: (10, 55, 35),
    Standard.OVERSIGHT: (10, 50, 40),
    Standard.STRENGTHS: (22, 60, 18),
}
GRADES: Final = tuple(Grade)
OVERALL_WEIGHTS: Final = (7, 48, 35, 10)

THEMES: Final = (
    "MASH",  # has an audit template (bot/content/templates/mash.md)
    "Life story work",
    "Neglect and the Graded Care Profile",
)

ACTION_TEMPLATES: Final[Mapping[Standard, tuple[tuple[str, str], ...]]] = {
    Standard.HEART: (
        (
            "Visit the child alone and record their wishes and feelings in their own words",
            "Direct work recorded within 5 working days and referenced in the plan review",
        ),
        (
            "Show how the child's views shaped the decisions in the latest review",
            "Review minutes include a section on the child's views and what changed",
        ),
    ),
    Standard.ASSESSMENT: (
        (
            "Update the assessment to reflect the change in household membership",
            "Updated assessment authorised by the team manager",
        ),
        (
            "Complete the outstanding parenting capacity assessment",
            "Assessment on file with analysis and recommendations",
        ),
    ),
    Standard.PLANS: (
        (
            "Rewrite the plan with SMART outcomes, named leads and dates",
            "Each outcome in the plan has an owner and a date at the next core group",
        ),
        (
            "Add a contingency plan for the plan's key risks",
            "Contingency section completed and shared with the family",
        ),
    ),
    Standard.RECORDS: (
        (
            "Bring case recordings up to date and add a chronology",
            "All visits recorded within 5 working days; chronology on file",
        ),
        (
            "Upload the missing core group minutes and health assessment",
            "Documents visible on the case record",
        ),
    ),
    Standard.OVERSIGHT: (
        (
            "Record management oversight with clear direction and timescales",
            "Supervision note on file with actions and a review date",
        ),
        (
            "Hold a case discussion on drift in the plan and record the decision",
            "Decision and rationale recorded on the case file",
        ),
    ),
    Standard.STRENGTHS: (
        (
            "Complete a family network meeting to identify safe adults",
            "Meeting held and network mapped on the case record",
        ),
        (
            "Use a strengths-based tool (safety map or genogram) with the family",
            "Completed tool uploaded and discussed with the family",
        ),
    ),
}

SUMMARIES: Final[Mapping[Grade, tuple[str, ...]]] = {
    Grade.OUTSTANDING: (
        "The child's lived experience is vivid throughout; the plan is driving real change.",
        "Exemplary direct work and analysis; management oversight is purposeful.",
    ),
    Grade.GOOD: (
        "Clear assessment and a plan that is making a difference; some recordings are late.",
        "The child is well known to the worker; oversight is regular and purposeful.",
        "Good partnership work; the plan would benefit from sharper outcomes.",
    ),
    Grade.REQUIRES_IMPROVEMENT: (
        "The child is safe but the plan lacks clear outcomes and timescales.",
        "Visits are happening but the child's voice is not recorded; oversight is thin.",
        "Assessment is out of date after changes in the household.",
    ),
    Grade.INADEQUATE: (
        "Risks are not assessed and the plan has drifted; no recent management oversight.",
        "The child has not been seen alone for several months and the plan is not reviewed.",
    ),
}
STRENGTHS_SEEN: Final = (
    "Warm, respectful relationship with the family.",
    "Creative direct work with the child.",
    "Good use of the family network.",
    "Timely multi-agency information sharing.",
    "Clear, jargon-free recording that the child could read later.",
)
# Two audits where the auditor wrote why an inadequate standard does not limit the overall grade.
LIMITING_OVERRIDES: Final = (
    (
        Standard.RECORDS,
        "Records were graded inadequate because of a recording backlog that was cleared during "
        "the audit week; the child was safe and the plan effective, so overall requires "
        "improvement.",
    ),
    (
        Standard.OVERSIGHT,
        "Oversight was inadequate during the manager's long-term absence; cover arrangements are "
        "now in place and practice with the family is otherwise sound.",
    ),
)
DONE_NOTES: Final = (
    "Done and recorded on the case file.",
    "Completed; discussed in supervision.",
    "Uploaded to the case record.",
    None,
)
EXTENSION_REASONS: Final = (
    "Waiting for the health assessment to come back from the provider.",
    "The family is away; the visit is booked for their return.",
    "The court timetable moved the review date.",
    "Core group rescheduled by the school.",
)
WORKED_WELL: Final = (
    "Doing it together made it feel like learning, not a test.",
    "Good to hear what is working well on the case.",
    "The auditor gave me time to explain my decisions.",
    None,
)
COULD_BE_BETTER: Final = (
    "More notice of the audit date would help with my visits.",
    "The grade descriptors could be clearer.",
    "I would have liked my manager to join.",
    None,
)
BRIEFINGS: Final = (
    (
        "Hearing the child's voice",
        "What good looks like when we record a child's wishes and feelings, with examples from "
        "this quarter's audits.",
        ("See children alone", "Record their words, not ours", "Show what changed because of it"),
    ),
    (
        "Writing SMART plans",
        "Plans that families understand and that we can review: five questions to ask of every "
        "outcome.",
        (
            "Specific and measurable outcomes",
            "A named lead for each",
            "A date that means something",
        ),
    ),
)

_LONDON = ZoneInfo("Europe/London")
_AAD_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://example.com/qaloop-demo")


def _at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), _LONDON).astimezone(UTC)


async def build_demo(*, sessions: SessionMaker, today: date, seed: int = 7) -> DemoSummary:
    """Build (or rebuild) the demo council in one transaction."""
    async with transaction(sessions) as session:
        await _delete_tenant(session, DEMO_TENANT_ID)
        return await _Demo(session, today=today, rng=random.Random(seed)).build(seed)


async def _delete_tenant(session: AsyncSession, tenant_id: str) -> None:
    """Every row of the tenant, children before parents; its audit log too, which the database
    allows only while the tenant is marked as being erased."""
    erasing = sa.delete(TenantErasure).where(col(TenantErasure.tenant_id) == tenant_id)
    await session.exec(erasing)
    session.add(TenantErasure(tenant_id=tenant_id))
    await session.flush()
    for table in reversed(SQLModel.metadata.sorted_tables):
        if "tenant_id" in table.c and table.name != TenantErasure.__tablename__:
            await session.exec(sa.delete(table).where(table.c.tenant_id == tenant_id))
    await session.exec(sa.delete(Tenant).where(col(Tenant.id) == tenant_id))
    await session.exec(erasing)


@dataclass(frozen=True, slots=True)
class _Month:
    start: date
    key: str
    assigned_on: date
    due_on: date
    current: bool


class _Demo:
    def __init__(self, session: AsyncSession, *, today: date, rng: random.Random) -> None:
        self.session = session
        self.today = today
        # Everything that has happened did so by the previous working day, never today.
        self.last_workday = add_working_days(today, -1)
        self.rng = rng
        self.tenant = DEMO_TENANT_ID
        self.counts: dict[str, int] = {}
        self.services: list[Service] = []
        self.teams: list[Team] = []
        self.service_of_team: dict[int, int] = {}
        self.staff: list[Staff] = []
        self.people: dict[str, Staff] = {}
        self.team_manager: dict[int, Staff] = {}
        self.service_manager: dict[int, Staff] = {}
        self.workers: dict[int, list[Staff]] = {}
        self.qa: list[Staff] = []
        self.load: dict[int, int] = {}
        self.cases: list[Case] = []
        self.audited: set[int] = set()
        self.audits: list[Audit] = []
        # Audits of Alex's cases: their actions and feedback are scripted for the playground.
        self.alex_cases: list[Audit] = []
        self.actions: list[Action] = []
        self.meetings: list[ActionMeeting] = []

    async def build(self, seed: int) -> DemoSummary:
        # The council has used QA Loop for the six months the demo's history covers, so the bot
        # makes today's missed runs for it when it starts (it skips councils newer than a run).
        joined = _at(month_start(self.today, 6), 9)
        self.session.add(Tenant(id=self.tenant, name=DEMO_TENANT_NAME, created_at=joined))
        await self.session.flush()
        await self._organisation()
        await self._people()
        await self._playground_chats()
        await self._cases()
        await self._audits()
        await self._moderation()
        await self._actions()
        await self._extension_requests()
        await self._feedback()
        await self._briefings()
        summary = DemoSummary(**self.counts)
        audit_log.record(
            self.session,
            tenant_id=self.tenant,
            actor_id=None,
            event="demo.build",
            entity="tenant",
            entity_id=self.tenant,
            after={"seed": seed, "today": self.today.isoformat(), **asdict(summary)},
        )
        return summary

    async def _add(self, name: str, rows: Sequence[SQLModel]) -> None:
        self.session.add_all(rows)
        await self.session.flush()
        self.counts[name] = len(rows)

    def _staff(self, staff_id: int | None) -> Staff:
        return next(p for p in self.staff if p.id == staff_id)

    # --- organisation and people ---------------------------------------------------------------

    async def _organisation(self) -> None:
        self.services = [Service(tenant_id=self.tenant, name=name) for name, _ in SERVICES]
        await self._add("services", self.services)
        for service, (_, team_names) in zip(self.services, SERVICES, strict=True):
            for name in team_names:
                self.teams.append(Team(tenant_id=self.tenant, service_id=_id(service), name=name))
        await self._add("teams", self.teams)
        self.service_of_team = {_id(t): t.service_id for t in self.teams}

    def _person(
        self,
        name: str,
        email: str,
        roles: set[Role],
        where: Team | Service | None,
        aad: str | None = None,
    ) -> Staff:
        """Someone in a team (and so its service), leading a service, or in neither (QA, admin)."""
        team = where if isinstance(where, Team) else None
        service_id = team.service_id if team else where.id if where else None
        person = Staff(
            tenant_id=self.tenant,
            email=email,
            display_name=name,
            aad_object_id=aad or str(uuid.uuid5(_AAD_NAMESPACE, email)),
            roles=format_roles(frozenset(roles)),
            team_id=team.id if team else None,
            service_id=service_id,
        )
        self.staff.append(person)
        return person

    def _playground_person(self, key: str, where: Team | Service | None) -> Staff:
        user = PLAYGROUND_USERS[key]
        person = self._person(
            user.display_name, user.email, set(user.roles), where, user.aad_object_id
        )
        self.people[key] = person
        return person

    async def _people(self) -> None:
        firsts = self.rng.sample(FIRST_NAMES, len(FIRST_NAMES))
        lasts = self.rng.sample(SURNAMES, len(SURNAMES))

        def someone(roles: set[Role], where: Team | Service | None) -> Staff:
            first, last = firsts.pop(), lasts.pop()
            email = f"{first}.{last}@example.com".lower()
            return self._person(f"{first} {last}", email, roles, where)

        managed_by: list[tuple[Staff, Staff]] = []
        patti = self._playground_person("patti", None)
        self.qa = [patti, someone({Role.QA, Role.AUDITOR}, None)]
        self.qa.append(someone({Role.QA, Role.AUDITOR}, None))
        managed_by += [(officer, patti) for officer in self.qa[1:]]
        someone({Role.ADMIN}, None)

        # Each service's head and service manager lead it from outside any of its teams.
        for s, service in enumerate(self.services):
            if s == 0:
                head = self._playground_person("isaiah", service)
                manager = self._playground_person("adele", service)
            else:
                head = someone({Role.HEAD_OF_SERVICE}, service)
                manager = someone({Role.SERVICE_MANAGER, Role.AUDITOR}, service)
            managed_by.append((manager, head))
            self.service_manager[_id(service)] = manager

        for t, team in enumerate(self.teams):
            if t == 0:
                tm = self._playground_person("megan", team)
                alex = self._playground_person("alex", team)
                workers = [alex, self._playground_person("lynne", team)]
            else:
                tm = someone({Role.TEAM_MANAGER, Role.AUDITOR}, team)
                # Each team's advanced practitioner carries cases and audits other teams'.
                workers = [someone({Role.PRACTITIONER, Role.AUDITOR}, team)]
            while len(workers) <= PRACTITIONERS_PER_TEAM:
                workers.append(someone({Role.PRACTITIONER}, team))
            self.team_manager[_id(team)] = tm
            self.workers[_id(team)] = workers
            managed_by.append((tm, self.service_manager[team.service_id]))
            managed_by += [(w, tm) for w in workers]
            # Part-timers and someone on leave, so reminders have people to skip.
            if t % 2 == 1:
                for worker, pattern in zip(workers[-len(PART_TIME) :], PART_TIME, strict=True):
                    worker.working_days = pattern
            if t == 1:
                workers[-1].away_until = add_working_days(self.today, 4)

        await self._add("staff", self.staff)
        for person, manager in managed_by:
            person.manager_id = manager.id
        await self.session.flush()
        self.load = {_id(p): 0 for p in self.staff if Role.AUDITOR in p.role_set}

    async def _playground_chats(self) -> None:
        """Each playground user's 1:1 chat with the bot, so jobs can plan their cards (a dry run
        shows the morning's) before anyone has opened the playground. Stored ahead of use: the
        first turn in it (opening the page) stores the real reference and counts as the chat's
        first, so a card owed that day comes then, when the page can show it."""
        chats = []
        for key, user in PLAYGROUND_USERS.items():
            person = self.people[key]
            reference = {
                "activityId": None,
                "bot": dict(PLAYGROUND_BOT),
                "channelId": "msteams",
                "conversation": {
                    "conversationType": "personal",
                    "id": user.personal_chat_id,
                    "isGroup": False,
                    "tenantId": self.tenant,
                },
                "serviceUrl": PLAYGROUND_SERVICE_URL,
                "user": {
                    "id": user.playground_id,
                    "name": user.display_name,
                    "aadObjectId": user.aad_object_id,
                },
                AHEAD_OF_USE: True,
            }
            chats.append(
                ConversationRef(
                    tenant_id=self.tenant,
                    conversation_id=user.personal_chat_id,
                    conversation_type="personal",
                    staff_id=_id(person),
                    aad_object_id=user.aad_object_id,
                    service_url=PLAYGROUND_SERVICE_URL,
                    reference=reference,
                )
            )
        await self._add("conversations", chats)

    # --- cases ---------------------------------------------------------------------------------

    async def _cases(self) -> None:
        refs: set[str] = set()
        alex = self.people["alex"]
        for team in self.teams:
            for n in range(CASES_PER_TEAM):
                ref = f"C-{self.rng.randrange(100_000, 1_000_000)}"
                while ref in refs:
                    ref = f"C-{self.rng.randrange(100_000, 1_000_000)}"
                refs.add(ref)
                # Alex holds eight long-open cases of his team, so some come up for audit.
                if team is self.teams[0] and n < 8:
                    worker, closed, recent = alex, False, False
                else:
                    worker = self.rng.choice(
                        self.workers[_id(team)][1 if team is self.teams[0] else 0 :]
                    )
                    closed, recent = self.rng.random() < 0.12, self.rng.random() < 0.1
                age = self.rng.randint(5, 150) if recent else self.rng.randint(220, 1500)
                self.cases.append(
                    Case(
                        tenant_id=self.tenant,
                        case_ref=ref,
                        team_id=_id(team),
                        worker_id=worker.id,
                        status="closed" if closed else "open",
                        opened_on=self.today - timedelta(days=age),
                    )
                )
        await self._add("cases", self.cases)

    def _pick_case(self, team: Team, month: _Month, *, alex: bool = False) -> Case:
        """An open case of the team, not audited before, that Alex holds or (else) does not."""
        alex_id = self.people["alex"].id
        candidates = [
            c
            for c in self.cases
            if c.team_id == team.id
            and c.status == "open"
            and c.opened_on is not None
            and c.opened_on < month.start - timedelta(days=28)
            and _id(c) not in self.audited
            and (c.worker_id == alex_id) == alex
        ]
        case = self.rng.choice(candidates)
        self.audited.add(_id(case))
        return case

    # --- audits --------------------------------------------------------------------------------

    def _months(self) -> list[_Month]:
        months = []
        for back in range(MONTHS - 1, -1, -1):
            start = month_start(self.today, back)
            due = last_working_day(start)
            if back == 0:
                due = max(due, add_working_days(self.today, 3))
            first = first_working_day(start)
            months.append(_Month(start, start.strftime("%Y-%m"), first, due, back == 0))
        return months

    def _collaborative_auditor(self, case: Case) -> Staff:
        """QA officers and other teams' advanced practitioners, balanced by load."""
        pool = [
            p
            for p in self.staff
            if Role.AUDITOR in p.role_set
            and p.team_id != case.team_id
            and not p.role_set & {Role.SERVICE_MANAGER, Role.TEAM_MANAGER}
        ]
        fewest = min(self.load[_id(p)] for p in pool)
        return self.rng.choice([p for p in pool if self.load[_id(p)] == fewest])

    async def _audits(self) -> None:
        alex, patti = self.people["alex"], self.people["patti"]
        team_a, team_b = self.teams[0], self.teams[1]
        months = self._months()
        candidates = sorted(c.case_ref for c in self.cases if c.status == "open")
        fingerprint = hashlib.sha256("\n".join(candidates).encode()).hexdigest()
        allocations = [
            Allocation(
                tenant_id=self.tenant,
                month=month.key,
                seed=str(self.rng.getrandbits(32)),
                candidate_fingerprint=fingerprint,
                per_team=COLLABORATIVE_PER_TEAM,
                created_by=patti.id,
                created_at=_at(add_working_days(month.assigned_on, -1), 15),
            )
            for month in months
        ]
        await self._add("allocations", allocations)

        last_month = months[-2]
        for index, (month, allocation) in enumerate(zip(months, allocations, strict=True)):
            for team in self.teams:
                for n in range(COLLABORATIVE_PER_TEAM):
                    # From the second month Alex's own cases come up; he audits in Family Support.
                    his_case = team is team_a and n == 0 and index > 0
                    he_audits = team is team_b and n < (2 if month.current else 1)
                    scripted = his_case or (he_audits and (month.current or month is last_month))
                    case = self._pick_case(team, month, alex=his_case)
                    if he_audits:
                        auditor = alex
                    elif his_case and month.current:
                        auditor = patti
                    else:
                        auditor = self._collaborative_auditor(case)
                    audit = self._audit(case, auditor, month, AuditKind.COLLABORATIVE, scripted)
                    audit.allocation_id = allocation.id
                    if he_audits and month.current:
                        audit.state = (AuditState.ASSIGNED, AuditState.IN_PROGRESS)[n]
                    elif he_audits and month is last_month:
                        audit.state = AuditState.IN_PROGRESS  # and so overdue
                    if his_case:
                        self.alex_cases.append(audit)
                        if month is last_month:
                            # Finished late, two days ago: his feedback is still owed.
                            self._complete(
                                audit, month, base=2, day=add_working_days(self.today, -2)
                            )
                        elif not month.current:
                            self._complete(audit, month, base=2)
            self._other_audits(index, month)

        overridable = [
            a
            for a in self.audits
            if a.state == AuditState.COMPLETED
            and a.overall_grade == Grade.REQUIRES_IMPROVEMENT
            and a not in self.alex_cases
        ]
        chosen = overridable[:: len(overridable) // 2][:2]
        for audit, (standard, reason) in zip(chosen, LIMITING_OVERRIDES, strict=True):
            setattr(audit, f"grade_{standard}", Grade.INADEQUATE)
            audit.limiting_reason = reason

        # An inadequate audit from yesterday, so its action meeting and visit are still due.
        recent = next(
            a
            for a in reversed(self.audits)
            if a.state == AuditState.COMPLETED
            and a.kind == AuditKind.COLLABORATIVE
            and a.limiting_reason is None
            and a.auditor_id != alex.id
            and a not in self.alex_cases
        )
        self._grade(recent, base=len(GRADES) - 1)
        recent.completed_at = _at(self.last_workday, 15, 30)
        recent.risk_identified = True
        self._inadequate_follow_up(recent, self.last_workday)

        await self._add("audits", self.audits)

    def _other_audits(self, index: int, month: _Month) -> None:
        """A month's thematic, multi-agency, senior manager and team manager audits."""
        theme = THEMES[min(index // 2, len(THEMES) - 1)]
        if index < 2:
            themed = self.teams[:2] * 2
        elif index < 4:
            themed = self.teams[2:] * 2
        else:
            themed = self.teams
        for t, team in enumerate(themed):
            auditor = self.qa[(index + t) % len(self.qa)]
            audit = self._audit(self._pick_case(team, month), auditor, month, AuditKind.THEMATIC)
            audit.theme = theme
        team = self.teams[index % len(self.teams)]
        if index % 2 == 0:
            auditor = self.service_manager[self.service_of_team[_id(team)]]
            self._audit(self._pick_case(team, month), auditor, month, AuditKind.SENIOR_MANAGER)
        else:
            auditor = self.qa[index % len(self.qa)]
            self._audit(self._pick_case(team, month), auditor, month, AuditKind.MULTI_AGENCY)
        team = self.teams[(index + 1) % len(self.teams)]
        auditor = self.team_manager[_id(team)]
        self._audit(self._pick_case(team, month), auditor, month, AuditKind.TEAM_MANAGER)

    def _audit(
        self, case: Case, auditor: Staff, month: _Month, kind: AuditKind, scripted: bool = False
    ) -> Audit:
        """A new audit, taken to a likely state for its month unless the caller scripts it."""
        audit = Audit(
            tenant_id=self.tenant,
            case_id=_id(case),
            team_id=case.team_id,
            kind=kind,
            auditor_id=_id(auditor),
            practitioner_id=case.worker_id,
            due_on=month.due_on,
            created_at=_at(min(month.assigned_on, self.today), 9, 15),
        )
        self.audits.append(audit)
        self.load[_id(auditor)] += 1
        if scripted:
            return audit
        roll = self.rng.random()
        if month.current:
            audit.state = AuditState.IN_PROGRESS if roll < 0.4 else AuditState.ASSIGNED
            finish = add_working_days(month.assigned_on, self.rng.randint(4, 12))
            if roll > 0.75 and finish < self.today:
                self._complete(audit, month, day=finish)
        elif roll < 0.03:
            audit.state = AuditState.DECLINED
            audit.declined_reason = "The worker is on long-term leave; please reallocate."
        elif roll < 0.05:
            audit.state = AuditState.CANCELLED
        elif roll < 0.09 and month.start == month_start(self.today, 1):
            audit.state = AuditState.IN_PROGRESS
        else:
            self._complete(audit, month)
        return audit

    def _complete(
        self, audit: Audit, month: _Month, *, base: int | None = None, day: date | None = None
    ) -> None:
        if day is None:
            # Most finish by the due date, a few a little late; none today or later.
            if self.rng.random() < 0.12:
                day = add_working_days(month.due_on, self.rng.randint(1, 4))
            else:
                day = min(
                    add_working_days(month.assigned_on, self.rng.randint(5, 15)), month.due_on
                )
            day = min(day, self.last_workday)
        audit.state = AuditState.COMPLETED
        audit.completed_at = _at(day, self.rng.randint(9, 16), self.rng.choice((0, 15, 30, 45)))
        audit.completed_by = audit.auditor_id
        self._grade(audit, base=base)
        if audit.overall_grade == Grade.INADEQUATE:
            audit.risk_identified = self.rng.random() < 0.5
            self._inadequate_follow_up(audit, day)

    def _grade(self, audit: Audit, *, base: int | None = None) -> None:
        """Six standards drifting around an overall quality, with the limiting judgement."""
        worst = len(GRADES) - 1
        if base is None:
            base = self.rng.choices(range(len(GRADES)), weights=OVERALL_WEIGHTS)[0]
        grades: dict[Standard, int] = {}
        for standard, weights in STANDARD_DRIFT.items():
            drift = self.rng.choices((-1, 0, 1), weights=weights)[0]
            grades[standard] = max(0, min(base + drift, worst if base == worst else worst - 1))
        if base == worst and worst not in grades.values():
            grades[self.rng.choice((Standard.RECORDS, Standard.OVERSIGHT, Standard.PLANS))] = worst
        for standard, grade in grades.items():
            setattr(audit, f"grade_{standard}", GRADES[grade])
        overall = worst if worst in grades.values() else round(sum(grades.values()) / len(grades))
        audit.overall_grade = GRADES[overall]
        audit.summary = self.rng.choice(SUMMARIES[GRADES[overall]])
        audit.strengths_seen = self.rng.choice(STRENGTHS_SEEN)

    @staticmethod
    def _inadequate_follow_up(audit: Audit, day: date) -> None:
        audit.meeting_due_on = meeting_due(day)
        audit.visit_due_on = visit_due(day) if audit.risk_identified else None

    # --- moderation ----------------------------------------------------------------------------

    async def _moderation(self) -> None:
        """About one in ten audits of past months; last month's sample is still undecided."""
        moderations: list[Moderation] = []
        this_month, last_month = month_start(self.today, 0), month_start(self.today, 1)
        decided_count = 0
        for audit in self.audits:
            if audit.state != AuditState.COMPLETED or audit.completed_at is None:
                continue
            completed = audit.completed_at.date()
            if completed >= this_month or self.rng.random() > 0.12:
                continue
            moderator = self.rng.choice([q for q in self.qa if q.id != audit.auditor_id])
            sampled = max(
                completed, min(first_working_day(month_start(completed, -1)), self.last_workday)
            )
            moderation = Moderation(
                tenant_id=self.tenant,
                audit_id=_id(audit),
                moderator_id=_id(moderator),
                month=completed.strftime("%Y-%m"),
                created_at=_at(sampled, 17),
            )
            moderations.append(moderation)
            if completed >= last_month:
                continue
            agreement = {s.value: True for s in Standard} | {"overall": True}
            decided_count += 1
            # Every third decided sample finds one standard graded too generously.
            if decided_count % 3 == 2:
                agreement[self.rng.choice(list(Standard)).value] = False
                moderation.comment = "One standard graded a step too high; agreed with the auditor."
            moderation.agreement = agreement
            decided = min(add_working_days(sampled, self.rng.randint(3, 10)), self.last_workday)
            moderation.decided_at = _at(decided, 17, 30)
            audit.state = AuditState.MODERATED
        await self._add("moderations", moderations)

    # --- actions -------------------------------------------------------------------------------

    def _action(
        self,
        audit: Audit,
        standard: Standard | None,
        owner_id: int | None,
        due_on: date,
        *,
        source: str = "audit",
        what: tuple[str, str] | None = None,
    ) -> Action:
        if what is None:
            assert standard is not None
            what = self.rng.choice(ACTION_TEMPLATES[standard])
        assert owner_id is not None
        action = Action(
            tenant_id=self.tenant,
            audit_id=audit.id,
            source=source,
            what=what[0],
            measure=what[1],
            owner_id=owner_id,
            standard=standard,
            due_on=due_on,
            created_by=audit.auditor_id,
            created_at=audit.completed_at or _at(self.last_workday),
        )
        self.actions.append(action)
        return action

    def _settle(self, action: Action, state: ActionState) -> None:
        """Take an action to a later state with plausible dates, none after yesterday."""
        created = action.created_at.date()
        if state == ActionState.CANCELLED:
            action.state = state
            action.cancelled_at = _at(min(add_working_days(created, 3), self.last_workday), 17)
        elif state in (ActionState.DONE, ActionState.CONFIRMED):
            done = add_working_days(action.due_on, -self.rng.randint(0, 5))
            done = max(created, min(done, self.last_workday))
            action.state = ActionState.DONE
            action.done_at = _at(done, 17)
            action.done_note = self.rng.choice(DONE_NOTES)
            if state == ActionState.CONFIRMED:
                confirmed = min(add_working_days(done, self.rng.randint(1, 3)), self.last_workday)
                action.state = state
                action.confirmed_at = _at(confirmed, 18)
                action.confirmed_by = self._staff(action.owner_id).manager_id

    async def _actions(self) -> None:
        for audit in self.audits:
            if audit.completed_at is None or audit in self.alex_cases:
                continue
            completed = audit.completed_at.date()
            for standard in _weak_standards(audit)[:3]:
                due = add_working_days(completed, self.rng.choice((10, 15, 20, 30)))
                action = self._action(audit, standard, self._owner(audit, standard), due)
                roll = self.rng.random()
                if due < self.today:
                    state = (
                        ActionState.CONFIRMED
                        if roll < 0.6
                        else ActionState.DONE
                        if roll < 0.75
                        else ActionState.CANCELLED
                        if roll < 0.85
                        else ActionState.OPEN
                    )
                else:
                    state = (
                        ActionState.OPEN
                        if roll < 0.75
                        else ActionState.DONE
                        if roll < 0.95
                        else ActionState.CANCELLED
                    )
                self._settle(action, state)
                if action.state == ActionState.OPEN and self.rng.random() < 0.12:
                    action.snoozed_until = add_working_days(self.today, self.rng.choice((1, 3)))
            if audit.meeting_due_on is not None:
                self._inadequate_actions(audit, completed)
        self._alex_actions()
        await self._add("actions", self.actions)
        await self._add("action_meetings", self.meetings)

    def _owner(self, audit: Audit, standard: Standard) -> int | None:
        # Oversight is the team manager's to put right; everything else the worker's.
        if standard == Standard.OVERSIGHT or audit.practitioner_id is None:
            return self.team_manager[audit.team_id].id
        return audit.practitioner_id

    def _inadequate_actions(self, audit: Audit, completed: date) -> None:
        """The response to an inadequate audit: action meeting, child visit, meeting actions."""
        assert audit.meeting_due_on is not None
        chair = self.service_manager[self.service_of_team[audit.team_id]]
        meeting = self._action(
            audit,
            None,
            chair.id,
            audit.meeting_due_on,
            source="action_meeting",
            what=(MEETING_WHAT, meeting_measure(MEETING_DEADLINE)),
        )
        held = audit.meeting_due_on < self.today
        self._settle(meeting, ActionState.CONFIRMED if held else ActionState.OPEN)
        if held and meeting.done_at is not None:
            # Recorded with the meeting form, as the chair would: the digest counts these.
            worker = audit.practitioner_id
            present = [
                *([f"SW {self._staff(worker).display_name}"] if worker is not None else []),
                f"TM {self.team_manager[audit.team_id].display_name}",
                f"SM {chair.display_name}",
                "IRO",
                "CP chair",
            ]
            self.meetings.append(
                ActionMeeting(
                    tenant_id=self.tenant,
                    audit_id=audit.id or 0,
                    held_on=meeting.done_at.date(),
                    attendees=", ".join(present),
                    recorded_by=chair.id or 0,
                    recorded_at=meeting.done_at,
                )
            )
        if audit.visit_due_on is not None:
            visit = self._action(
                audit,
                None,
                audit.practitioner_id,
                audit.visit_due_on,
                source="child_visit",
                what=(VISIT_WHAT, visit_measure(VISIT_DEADLINE)),
            )
            self._settle(
                visit, ActionState.DONE if completed < self.last_workday else ActionState.OPEN
            )
            if visit.done_at is not None:
                audit.visited_on = visit.done_at.date()
        if held:
            due = add_working_days(audit.meeting_due_on, 10)
            owner = self.team_manager[audit.team_id].id
            follow_up = self._action(audit, Standard.OVERSIGHT, owner, due, source="meeting")
            self._settle(follow_up, ActionState.CONFIRMED if due < self.today else ActionState.OPEN)

    def _alex_actions(self) -> None:
        """Alex's actions: enough open ones to page, three overdue, some due soon, a few closed."""
        alex = self.people["alex"].id
        audits = [a for a in self.alex_cases if a.completed_at is not None]
        offsets = (-12, -6, -2, 0, 1, 2, 3, 5, 8, 10, 15, 20, 25, 30)
        for n, offset in enumerate(offsets):
            # The overdue ones come from his older audits, the later ones from the newer.
            audit = audits[n * len(audits) // len(offsets)]
            weak = _weak_standards(audit) or list(Standard)
            due = add_working_days(self.today, offset)
            action = self._action(audit, weak[n % len(weak)], alex, due)
            if offset in (-2, 10):
                action.snoozed_until = add_working_days(self.today, 1 if offset < 0 else 2)
        closed = (ActionState.DONE, ActionState.DONE, ActionState.CONFIRMED, ActionState.CONFIRMED)
        for n, state in enumerate((*closed, ActionState.CANCELLED)):
            audit = audits[n % len(audits)]
            assert audit.completed_at is not None
            due = add_working_days(audit.completed_at.date(), 15)
            self._settle(self._action(audit, list(Standard)[n], alex, due), state)

    async def _extension_requests(self) -> None:
        """Alex's pending and approved requests, and others' pending, approved and declined."""
        alex, megan = self.people["alex"], self.people["megan"]
        mine = [a for a in self.actions if a.owner_id == alex.id and a.state == ActionState.OPEN]
        requests = [
            self._extension(next(a for a in mine if a.due_on > self.today), alex),
            self._extension(mine[-3], alex, decided_by=megan, approved=True),
        ]
        others = [
            a
            for a in self.actions
            if a.owner_id != alex.id and a.source == "audit" and a.state == ActionState.OPEN
        ]
        for n, action in enumerate(self.rng.sample(others, min(8, len(others)))):
            owner = self._staff(action.owner_id)
            if n < 3 or owner.manager_id is None:
                requests.append(self._extension(action, owner))
            else:
                manager = self._staff(owner.manager_id)
                requests.append(
                    self._extension(action, owner, decided_by=manager, approved=n % 3 != 0)
                )
        await self._add("extension_requests", requests)

    def _extension(
        self,
        action: Action,
        owner: Staff,
        *,
        decided_by: Staff | None = None,
        approved: bool = False,
    ) -> ExtensionRequest:
        asked = add_working_days(self.today, -self.rng.randint(1, 5))
        asked = max(action.created_at.date(), min(asked, self.last_workday))
        request = ExtensionRequest(
            tenant_id=self.tenant,
            action_id=_id(action),
            requested_by=_id(owner),
            old_due_on=action.due_on,
            new_due_on=add_working_days(action.due_on, 10),
            reason=self.rng.choice(EXTENSION_REASONS),
            created_at=_at(asked, 9, 30),
        )
        if decided_by is None:
            return request
        request.state = "approved" if approved else "declined"
        request.decided_by = decided_by.id
        request.decided_at = _at(min(add_working_days(asked, 1), self.last_workday), 15)
        if approved:
            # The approval already moved the due date, so the action shows the new one.
            request.old_due_on = add_working_days(action.due_on, -10)
            request.new_due_on = action.due_on
        return request

    # --- feedback and briefings ----------------------------------------------------------------

    async def _feedback(self) -> None:
        """Most practitioners answered within days; the last three days' answers are still owed."""
        owed_since = add_working_days(self.today, -3)
        given: list[tuple[Feedback, Audit]] = []
        for audit in self.audits:
            if (
                audit.completed_at is None
                or audit.kind != AuditKind.COLLABORATIVE
                or audit.practitioner_id is None
                or audit.completed_at.date() >= owed_since
                or self.rng.random() < 0.2
            ):
                continue
            day = add_working_days(audit.completed_at.date(), self.rng.randint(1, 4))
            feedback = Feedback(
                tenant_id=self.tenant,
                audit_id=_id(audit),
                practitioner_id=audit.practitioner_id,
                created_at=_at(min(day, self.last_workday), 13),
            )
            given.append((feedback, audit))
        await self._add("feedback", [f for f, _ in given])

        versions: list[FeedbackVersion] = []
        for feedback, audit in given:
            scale = (2, 3, 3, 4) if audit.overall_grade in _NEEDS_ACTION else (3, 4, 4, 5, 5)
            ratings = [self.rng.choice(scale) for _ in range(4)]
            # One in five changed their answers later the same day (editable for 7 days).
            for version in range(1, 3 if self.rng.random() < 0.2 else 2):
                if version == 2:
                    ratings[self.rng.randrange(4)] = min(5, max(ratings) + 1)
                versions.append(
                    FeedbackVersion(
                        tenant_id=self.tenant,
                        feedback_id=_id(feedback),
                        version=version,
                        involved=ratings[0],
                        helped_see_good=ratings[1],
                        understand_grade=ratings[2],
                        actions_clear=ratings[3],
                        worked_well=self.rng.choice(WORKED_WELL),
                        could_be_better=self.rng.choice(COULD_BE_BETTER),
                        submitted_at=feedback.created_at + timedelta(hours=3 * (version - 1)),
                    )
                )
        await self._add("feedback_versions", versions)

    async def _briefings(self) -> None:
        """Last month's published briefing and the next one in draft."""
        last_month = month_start(self.today, 1)
        published = second_tuesday(last_month.year, last_month.month)
        briefings = [
            Briefing(
                tenant_id=self.tenant,
                title=title,
                read=read,
                key_messages=list(messages),
                author_id=self.people["patti"].id,
                state="published" if n == 0 else "draft",
                created_at=_at(published - timedelta(days=7), 11),
                published_at=_at(published, 10) if n == 0 else None,
            )
            for n, (title, read, messages) in enumerate(BRIEFINGS)
        ]
        await self._add("briefings", briefings)


_NEEDS_ACTION: Final = frozenset({Grade.REQUIRES_IMPROVEMENT, Grade.INADEQUATE})


def _weak_standards(audit: Audit) -> list[Standard]:
    return [s for s in Standard if getattr(audit, f"grade_{s}") in _NEEDS_ACTION]


def _id(row: Service | Team | Staff | Case | Audit | Action | Feedback) -> int:
    assert row.id is not None, "flush before using ids"
    return row.id
