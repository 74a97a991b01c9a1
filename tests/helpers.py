"""What the tests share besides the conversation (tests/chat.py) and the fixtures (conftest.py):
the fixed clock, councils built straight into the tables, reading what changed, cards as posted,
stored conversations, and running the qaloop CLI."""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.features import CATALOGUE
from bot.services.allocation import send_assigned
from bot.services.inadequate import respond_to_completed
from bot.settings import Settings
from bot.turn import Request
from storage import conversations
from storage.db import SessionMaker, transaction
from storage.models import (
    Action,
    Audit,
    AuditLog,
    Case,
    ChannelUse,
    ConversationRef,
    Delivery,
    SentCard,
    Service,
    Staff,
    Team,
    Tenant,
)
from tests.chat import (
    ADELE,
    ALEX,
    DIEGO,
    GRADY,
    ISAIAH,
    JONI,
    LYNNE,
    MEGAN,
    NESTOR,
    PATTI,
    TENANT,
    Chat,
    Person,
    Pressed,
    press,
)

# --- the clock -----------------------------------------------------------------------------------

# Thursday 26 November 2026, 10:02 in London (GMT): what `@pytest.mark.clock(NOW)` sets.
NOW = datetime(2026, 11, 26, 10, 2, tzinfo=UTC)
TODAY = NOW.date()
DUE = date(2026, 12, 3)


class Clock:
    """The app's clock; a test moves it by setting `now`. None reads the real time."""

    def __init__(self, now: datetime | None) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now or datetime.now(UTC)


# --- a small council: Alex and Megan -------------------------------------------------------------


@dataclass
class Council:
    tenant_id: str
    staff: dict[str, Staff] = field(default_factory=dict)
    team_id: int = 0
    cases: list[Case] = field(default_factory=list)


def staff_row(
    tenant_id: str,
    person: Person,
    roles: str,
    *,
    team_id: int | None = None,
    service_id: int | None = None,
    manager_id: int | None = None,
) -> Staff:
    return Staff(
        tenant_id=tenant_id,
        email=person.email,
        display_name=person.name,
        aad_object_id=person.aad,
        roles=roles,
        team_id=team_id,
        service_id=service_id,
        manager_id=manager_id,
    )


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
        megan = staff_row(tenant_id, MEGAN, "team_manager", team_id=team.id)
        session.add(megan)
        await session.flush()
        alex = staff_row(
            tenant_id, ALEX, "auditor practitioner", team_id=team.id, manager_id=megan.id
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


async def council_with_everyone(sessions: SessionMaker) -> Council:
    """Alex (practitioner, managed by Megan), Megan (TM), Nestor (practitioner in another team,
    no manager of Alex) and Patti (QA)."""
    council = await small_council(sessions)
    async with transaction(sessions) as session:
        for person, roles in ((NESTOR, "practitioner"), (PATTI, "qa")):
            row = staff_row(council.tenant_id, person, roles)
            session.add(row)
            await session.flush()
            council.staff[person.key] = row
    return council


async def everyone_has_talked_to_the_bot(chat: Chat) -> None:
    for person in (ALEX, MEGAN, NESTOR, PATTI):
        await chat.say("help", who=person)


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


async def ask_for_more_time(
    chat: Chat, action_id: int, new_due_on: str = "2026-12-10", reason: str = "Waiting for the CP"
) -> Pressed:
    return await press(
        chat,
        {
            "action": "request_extension",
            "action_id": action_id,
            f"new_due_on_{action_id}": new_due_on,
            f"reason_{action_id}": reason,
        },
    )


# --- the audit council: two services, three teams, every role ------------------------------------

# Who is who (key: first name, lower case):
#   Safeguarding service: HoS isaiah, SM adele
#     North team: TM megan; alex (practitioner and auditor), lynne (practitioner)
#     South team: TM nestor; diego (practitioner and auditor)
#   Early Help service: HoS/SM grady
#     East team: TM joni (and auditor)
#   QA: patti (qa and auditor, no team)
# Shared by the allocation, grading, inadequate-response, feedback and moderation tests; a test
# that needs more adds rows of its own rather than changing this.
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
            row = staff_row(
                tenant_id,
                person,
                roles,
                team_id=council.teams[team].id if team else None,
                service_id=service.id,
            )
            session.add(row)
            council.staff[person.key] = row
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
            person = next(p for p in EVERYONE if p.key == key)
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


async def assigned(
    sessions: SessionMaker,
    council: AuditCouncil,
    *,
    auditor: str = "diego",
    team: str = "North",
    case_index: int = 0,
    state: str = "assigned",
) -> int:
    """An audit given to `auditor`, due 18 Dec, its assigned card and copies queued as
    allocation does."""
    audit = await add_assigned_audit(
        sessions,
        council,
        team=team,
        case_index=case_index,
        auditor=auditor,
        due_on=date(2026, 12, 18),
        state=state,
    )
    assert audit.id is not None
    async with transaction(sessions) as session:
        await send_assigned(
            session, tenant_id=council.tenant_id, audit_id=audit.id, today=TODAY, now=NOW
        )
    return audit.id


STANDARDS = ("heart", "assessment", "plans", "records", "oversight", "strengths")


async def grade_inadequate(
    sessions: SessionMaker,
    council: AuditCouncil,
    *,
    now: datetime = NOW,
    risk: bool = True,
    team: str = "North",
    case_index: int = 0,
    auditor: str = "patti",
) -> Audit:
    """An audit of alex's case (North, index 0) completed by `auditor` as inadequate, as the
    grading flow does it (calling bot.inadequate in the completing transaction)."""
    assigned = await add_assigned_audit(
        sessions, council, team=team, case_index=case_index, auditor=auditor, due_on=now.date()
    )
    async with transaction(sessions) as session:
        audit = await session.get(Audit, assigned.id)
        assert audit is not None
        for n, standard in enumerate(STANDARDS):
            grade = "inadequate" if n in (1, 4) else "requires_improvement"
            setattr(audit, f"grade_{standard}", grade)
        audit.overall_grade = "inadequate"
        audit.risk_identified = risk
        audit.state = "completed"
        audit.completed_at = now
        audit.completed_by = council.id(auditor)
        session.add(audit)
        await session.flush()
        await respond_to_completed(
            session,
            tenant_id=council.tenant_id,
            audit=audit,
            actor_id=council.id(auditor),
            today=now.date(),
            now=now,
        )
    return audit


# --- reading what changed ------------------------------------------------------------------------


async def rows(sessions: SessionMaker, model: Any) -> list[Any]:
    async with sessions() as session:
        return list((await session.exec(select(model).order_by(col(model.id)))).all())


async def logged(sessions: SessionMaker, event: str) -> list[AuditLog]:
    async with sessions() as session:
        found = await session.exec(
            select(AuditLog).where(AuditLog.event == event).order_by(col(AuditLog.id))
        )
        return list(found.all())


async def queued(sessions: SessionMaker, kind: str) -> list[Delivery]:
    async with sessions() as session:
        found = await session.exec(
            select(Delivery).where(Delivery.kind == kind).order_by(col(Delivery.id))
        )
        return list(found.all())


async def action_row(sessions: SessionMaker, action_id: int) -> Action:
    async with sessions() as session:
        action = await session.get(Action, action_id)
        assert action is not None
        return action


async def audit_row(sessions: SessionMaker, audit_id: int) -> Audit:
    async with sessions() as session:
        audit = await session.get(Audit, audit_id)
        assert audit is not None
        return audit


async def audits(sessions: SessionMaker) -> list[Audit]:
    return await rows(sessions, Audit)


async def staff_id(sessions: SessionMaker, person: Person) -> int:
    async with sessions() as session:
        row = (await session.exec(select(Staff).where(Staff.email == person.email))).one()
        assert row.id is not None
        return row.id


async def person(session: AsyncSession, staff_id: int) -> Staff:
    found = await session.get(Staff, staff_id)
    assert found is not None
    return found


# --- cards as posted -----------------------------------------------------------------------------


async def post_card(
    sessions: SessionMaker,
    person: Person,
    *,
    kind: str,
    subjects: list[str],
    activity_id: str,
    tenant_id: str = TENANT,
) -> SentCard:
    """A card the outbox has posted to the person's chat, as the delivery engine records it:
    one row per subject. Returns the first."""
    async with transaction(sessions) as session:
        ref = (
            await session.exec(
                select(ConversationRef).where(
                    ConversationRef.conversation_id == f"a:personal-{person.teams_id}"
                )
            )
        ).one()
        assert ref.id is not None
        sent = [
            SentCard(
                tenant_id=tenant_id,
                subject=subject,
                conversation_ref_id=ref.id,
                activity_id=activity_id,
                kind=kind,
            )
            for subject in subjects
        ]
        session.add_all(sent)
    return sent[0]


# --- stored conversations, and calling a handler directly ----------------------------------------

SERVICE_URL = "https://smba.trafficmanager.net/uk/"
GENERAL = "19:general-channel@thread.tacv2"
QA_CHANNEL = "19:qa-team-channel@thread.tacv2"


def thread_of(channel_id: str, message_id: str = "1764148442112") -> str:
    return f"{channel_id};messageid={message_id}"


def _reference(conversation_id: str, kind: str) -> dict[str, Any]:
    return {
        "activityId": None,
        "bot": {"id": "28:qaloop-bot", "name": "QA Loop"},
        "channelId": "msteams",
        "conversation": {
            "conversationType": kind,
            "id": conversation_id,
            "isGroup": kind != "personal",
            "tenantId": TENANT,
        },
        "serviceUrl": SERVICE_URL,
    }


async def channel_message_seen(
    sessions: SessionMaker, channel_id: str = GENERAL, *, name: str | None = "General"
) -> str:
    """A message in the channel reached the bot: its thread's reference is stored, as
    bot.handler does. Returns the thread's conversation id."""
    thread = thread_of(channel_id)
    async with transaction(sessions) as session:
        await conversations.save_reference(
            session=session,
            tenant_id=TENANT,
            conversation_id=thread,
            conversation_type="channel",
            service_url=SERVICE_URL,
            reference=_reference(thread, "channel"),
            team_aad_group_id="5b8c2a1e-0000-4000-8000-000000000001",
            channel_name=name,
        )
    return thread


async def personal_chat(sessions: SessionMaker, person: Staff) -> str:
    conversation_id = f"a:personal-{person.id}"
    async with transaction(sessions) as session:
        await conversations.save_reference(
            session=session,
            tenant_id=person.tenant_id,
            conversation_id=conversation_id,
            conversation_type="personal",
            service_url=SERVICE_URL,
            reference=_reference(conversation_id, "personal"),
            staff_id=person.id,
        )
    return conversation_id


def request(
    session: AsyncSession,
    person: Staff,
    *,
    args: str = "",
    conversation_id: str | None = None,
    today: date = TODAY,
    now: datetime = NOW,
    settings: Settings | None = None,
) -> Request:
    """A Request for calling a command or card handler directly; the HTTP tests cover the same
    flows end to end."""
    settings = settings or Settings()
    return Request(
        session=session,
        tenant_id=person.tenant_id,
        person=person,
        today=today,
        settings=settings,
        args=args.lower(),
        raw_args=args,
        now=now,
        conversation_id=conversation_id,
        commands=CATALOGUE.commands,
        rebuilders=CATALOGUE.redraws(settings),
    )


async def channel_uses(sessions: SessionMaker) -> list[tuple[str, str]]:
    """(channel conversation id, purpose) for every channel chosen."""
    async with sessions() as session:
        found = await session.exec(
            select(ConversationRef.conversation_id, ChannelUse.purpose)
            .join(ChannelUse, col(ChannelUse.conversation_ref_id) == col(ConversationRef.id))
            .order_by(col(ChannelUse.id))
        )
        return [(c, p) for c, p in found.all()]


async def deliveries(sessions: SessionMaker, kind: str) -> list[tuple[Delivery, ConversationRef]]:
    async with sessions() as session:
        found = await session.exec(
            select(Delivery, ConversationRef)
            .join(ConversationRef, col(ConversationRef.id) == col(Delivery.conversation_ref_id))
            .where(Delivery.kind == kind)
            .order_by(col(Delivery.id))
        )
        return list(found.all())


# --- the qaloop CLI ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str

    @property
    def said(self) -> str:
        return " ".join((self.out + " " + self.err).split())


async def qaloop(database_url: str, cwd: Path, *args: str) -> Ran:
    """Run the qaloop CLI against the test database, with no other QALOOP_ settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("QALOOP_")}
    env |= {"QALOOP_DATABASE_URL": database_url, "COLUMNS": "200", "NO_COLOR": "1"}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return Ran(process.returncode, out.decode(), err.decode())
