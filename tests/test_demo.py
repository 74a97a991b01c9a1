"""The demo council: the Agents Playground's mock users find a realistic, consistent QA world."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import date, datetime, time
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlmodel import SQLModel, func, select

from bot.app import create_app
from bot.features import CATALOGUE
from bot.rules.cases import DEFAULT_CASE_REF_PATTERN
from bot.rules.grades import ActionState, AuditKind, AuditState, Grade, Standard
from bot.rules.roles import Role
from bot.rules.workdays import add_working_days
from bot.settings import LOOPBACK_HOSTS, Settings
from jobs.runs import run_job
from jobs.scheduler import catch_up, set_aside_catch_up
from storage.db import SessionMaker, transaction
from storage.demo import (
    DEMO_TENANT_ID,
    PLAYGROUND_BOT,
    PLAYGROUND_SERVICE_URL,
    PLAYGROUND_USERS,
    DemoSummary,
    build_demo,
)
from storage.models import (
    Action,
    Audit,
    AuditLog,
    Case,
    Delivery,
    ExtensionRequest,
    Feedback,
    FeedbackVersion,
    Service,
    Staff,
    Team,
    Tenant,
)
from tests.chat import Chat, Person, card_text
from tests.e2e import playground_config
from tests.fake_connector import FakeConnector
from tests.helpers import qaloop

JOBS = CATALOGUE.jobs

TODAY = date(2026, 11, 26)  # a Thursday
LONDON = ZoneInfo("Europe/London")
M = TypeVar("M", bound=SQLModel)


@pytest.fixture
async def demo(sessions: SessionMaker) -> DemoSummary:
    return await build_demo(sessions=sessions, today=TODAY)


# --- helpers -------------------------------------------------------------------------------------


async def everyone(sessions: SessionMaker) -> dict[str, Staff]:
    async with sessions() as session:
        people = await session.exec(select(Staff).where(Staff.tenant_id == DEMO_TENANT_ID))
        return {p.email: p for p in people}


async def all_of(sessions: SessionMaker, model: type[M]) -> list[M]:
    async with sessions() as session:
        return list((await session.exec(select(model))).all())


def person(people: dict[str, Staff], key: str) -> Staff:
    return people[PLAYGROUND_USERS[key].email]


# --- the people ----------------------------------------------------------------------------------


async def test_the_playground_users_are_there_with_their_ids_and_roles(
    sessions: SessionMaker, demo: DemoSummary
) -> None:
    people = await everyone(sessions)

    for key, user in PLAYGROUND_USERS.items():
        staff = person(people, key)
        # The playground's ids have 13 digits in the last group: not RFC 4122 UUIDs.
        assert re.fullmatch(r"00000000-0000-0000-0000-0{11}2[0-5]", user.aad_object_id)
        assert (staff.display_name, staff.aad_object_id) == (user.display_name, user.aad_object_id)
        assert staff.role_set == user.roles, key
    assert PLAYGROUND_USERS["alex"].aad_object_id == "00000000-0000-0000-0000-0000000000020"
    assert PLAYGROUND_USERS["lynne"].email == "lynner@example.com"
    assert person(people, "alex").role_set == {Role.PRACTITIONER, Role.AUDITOR}


async def test_the_playground_users_work_together(
    sessions: SessionMaker, demo: DemoSummary
) -> None:
    people = await everyone(sessions)
    alex, megan, adele, isaiah, lynne = (
        person(people, k) for k in ("alex", "megan", "adele", "isaiah", "lynne")
    )
    async with sessions() as session:
        teams = {t.id: t for t in await session.exec(select(Team))}

    assert alex.manager_id == megan.id and lynne.manager_id == megan.id
    assert lynne.team_id == alex.team_id == megan.team_id
    assert megan.manager_id == adele.id and adele.manager_id == isaiah.id
    alex_service = teams[alex.team_id].service_id if alex.team_id else None
    assert alex_service is not None and alex.service_id == alex_service
    assert (adele.team_id, adele.service_id) == (None, alex_service)
    assert (isaiah.team_id, isaiah.service_id) == (None, alex_service)
    assert (person(people, "patti").team_id, person(people, "patti").service_id) == (None, None)


async def test_team_members_are_in_their_teams_service_and_senior_managers_lead_one(
    sessions: SessionMaker, demo: DemoSummary
) -> None:
    people = list((await everyone(sessions)).values())
    async with sessions() as session:
        teams = {t.id: t for t in await session.exec(select(Team))}
        services = set((await session.exec(select(Service.id))).all())

    in_teams = [p for p in people if p.team_id is not None]
    assert in_teams and all(p.service_id == teams[p.team_id].service_id for p in in_teams)
    senior = [p for p in people if p.role_set & {Role.SERVICE_MANAGER, Role.HEAD_OF_SERVICE}]
    assert len(senior) == 2 * len(services)
    assert all(p.team_id is None and p.service_id in services for p in senior)
    # Each service has its own head and service manager.
    for role in (Role.SERVICE_MANAGER, Role.HEAD_OF_SERVICE):
        assert {p.service_id for p in senior if role in p.role_set} == services
    assert all(p.service_id is None for p in people if p.team_id is None and p not in senior)


async def test_about_forty_staff_hold_every_role_with_their_own_ids(
    sessions: SessionMaker, demo: DemoSummary
) -> None:
    people = list((await everyone(sessions)).values())

    assert 36 <= len(people) <= 44 and demo.staff == len(people)
    held = Counter(role for p in people for role in p.role_set)
    assert set(held) == {r.value for r in Role}
    assert held[Role.TEAM_MANAGER] == 4
    assert held[Role.SERVICE_MANAGER] == held[Role.HEAD_OF_SERVICE] == 2
    assert all(p.email.endswith("@example.com") for p in people)
    ids = [p.aad_object_id for p in people]
    assert None not in ids and len(set(ids)) == len(ids)
    assert all(p.manager_id for p in people if Role.PRACTITIONER in p.role_set)


# --- cases and audits ----------------------------------------------------------------------------


async def test_cases_are_pseudonymous_references(sessions: SessionMaker, demo: DemoSummary) -> None:
    cases = await all_of(sessions, Case)

    assert len(cases) == demo.cases and 180 <= len(cases) <= 220
    assert all(re.fullmatch(DEFAULT_CASE_REF_PATTERN, c.case_ref) for c in cases)
    assert {c.status for c in cases} == {"open", "closed"}
    assert all(c.opened_on and c.opened_on < TODAY for c in cases)


async def test_six_months_of_audits_of_every_kind_and_state(
    sessions: SessionMaker, demo: DemoSummary
) -> None:
    audits = await all_of(sessions, Audit)

    assert {a.kind for a in audits} == {k.value for k in AuditKind}
    assert {a.state for a in audits} == {s.value for s in AuditState}
    kinds = Counter(a.kind for a in audits)
    assert kinds.most_common(1)[0][0] == AuditKind.COLLABORATIVE
    assert "MASH" in {a.theme for a in audits if a.kind == AuditKind.THEMATIC}
    assert len({a.created_at.astimezone(LONDON).strftime("%Y-%m") for a in audits}) == 6
    now = datetime.combine(TODAY, time(0), LONDON)
    for a in audits:
        if a.state in (AuditState.COMPLETED, AuditState.MODERATED):
            assert a.completed_at is not None and a.completed_at < now
            assert a.overall_grade is not None
        else:
            assert a.completed_at is None and a.overall_grade is None


async def test_grades_follow_the_limiting_judgement(
    sessions: SessionMaker, demo: DemoSummary
) -> None:
    audits = await all_of(sessions, Audit)
    graded = [a for a in audits if a.overall_grade]

    def standards(a: Audit) -> list[str | None]:
        return [getattr(a, f"grade_{s}") for s in Standard]

    limited = [a for a in graded if Grade.INADEQUATE in standards(a)]
    assert all(a.overall_grade == Grade.INADEQUATE or a.limiting_reason for a in limited)
    overrides = [a for a in limited if a.overall_grade != Grade.INADEQUATE]
    assert len(overrides) == 2
    assert {a.overall_grade for a in graded} == {g.value for g in Grade}
    assert Counter(a.overall_grade for a in graded).most_common(1)[0][0] in (
        Grade.GOOD,
        Grade.REQUIRES_IMPROVEMENT,
    )
    for a in graded:
        if a.overall_grade == Grade.INADEQUATE and a.completed_at is not None:
            assert a.meeting_due_on == add_working_days(a.completed_at.date(), 3)
            assert (a.visit_due_on is not None) == a.risk_identified


async def test_alex_is_auditing_some_and_has_his_own_cases_audited(
    sessions: SessionMaker, demo: DemoSummary
) -> None:
    alex = person(await everyone(sessions), "alex")
    audits = await all_of(sessions, Audit)

    auditing = [
        a for a in audits if a.auditor_id == alex.id and a.state in ("assigned", "in_progress")
    ]
    assert {a.state for a in auditing} == {"assigned", "in_progress"}
    assert any(a.due_on < TODAY for a in auditing)
    his_cases = [a for a in audits if a.practitioner_id == alex.id]
    assert len([a for a in his_cases if a.state == AuditState.COMPLETED]) >= 3
    assert all(a.auditor_id != alex.id for a in his_cases)
    # His latest audit finished this week and he still owes the feedback form.
    feedback = {f.audit_id for f in await all_of(sessions, Feedback)}
    latest = max(his_cases, key=lambda a: a.completed_at or datetime.min.replace(tzinfo=LONDON))
    assert latest.completed_at is not None and latest.id not in feedback


# --- actions, extensions, feedback ---------------------------------------------------------------


async def test_alex_has_a_page_and_more_of_open_actions_some_overdue(
    sessions: SessionMaker, demo: DemoSummary
) -> None:
    alex = person(await everyone(sessions), "alex")
    async with sessions() as session:
        mine = (await session.exec(select(Action).where(Action.owner_id == alex.id))).all()

    open_ = [a for a in mine if a.state == ActionState.OPEN]
    assert len(open_) >= 12
    assert len([a for a in open_ if a.due_on < TODAY]) >= 2
    assert any(TODAY <= a.due_on <= add_working_days(TODAY, 3) for a in open_)
    assert any(a.due_on > add_working_days(TODAY, 10) for a in open_)
    assert any(a.snoozed_until and a.snoozed_until > TODAY for a in open_)
    assert {a.state for a in mine} == {s.value for s in ActionState}


async def test_actions_in_every_state_with_consistent_dates(
    sessions: SessionMaker, demo: DemoSummary
) -> None:
    actions = await all_of(sessions, Action)

    assert {a.state for a in actions} == {s.value for s in ActionState}
    assert {a.source for a in actions} >= {"audit", "action_meeting", "child_visit", "meeting"}
    for a in actions:
        assert (a.done_at is not None) == (a.state in (ActionState.DONE, ActionState.CONFIRMED))
        assert (a.confirmed_at is not None) == (a.state == ActionState.CONFIRMED)
        assert (a.cancelled_at is not None) == (a.state == ActionState.CANCELLED)
        assert a.done_at is None or a.done_at >= a.created_at
    overdue_owners = {a.owner_id for a in actions if a.state == "open" and a.due_on < TODAY}
    assert len(overdue_owners) > 2


async def test_extension_requests_and_feedback_versions_exist(
    sessions: SessionMaker, demo: DemoSummary
) -> None:
    people = await everyone(sessions)
    requests = await all_of(sessions, ExtensionRequest)
    versions = await all_of(sessions, FeedbackVersion)

    assert {r.state for r in requests} == {"pending", "approved", "declined"}
    alex, megan = person(people, "alex"), person(people, "megan")
    assert any(r.requested_by == alex.id and r.state == "pending" for r in requests)
    assert any(r.decided_by == megan.id for r in requests)
    assert demo.feedback >= 20
    assert max(v.version for v in versions) == 2
    assert all(1 <= v.involved <= 5 and 1 <= v.actions_clear <= 5 for v in versions)


# --- rebuilding and tenancy ----------------------------------------------------------------------


async def test_rebuilding_replaces_the_demo_with_the_same_data(
    sessions: SessionMaker, demo: DemoSummary
) -> None:
    refs = sorted(c.case_ref for c in await all_of(sessions, Case))

    again = await build_demo(sessions=sessions, today=TODAY)

    assert again == demo
    assert sorted(c.case_ref for c in await all_of(sessions, Case)) == refs
    async with sessions() as session:
        assert (await session.exec(select(func.count()).select_from(Audit))).one() == demo.audits


async def test_the_demo_is_built_relative_to_the_day_given(sessions: SessionMaker) -> None:
    later = date(2027, 3, 15)
    await build_demo(sessions=sessions, today=later)

    audits = await all_of(sessions, Audit)
    assert max(a.due_on for a in audits) >= later
    assert min(a.due_on for a in audits).strftime("%Y-%m") == "2026-10"


async def test_every_row_belongs_to_the_demo_tenant_and_others_are_left_alone(
    sessions: SessionMaker,
) -> None:
    async with transaction(sessions) as session:
        session.add(Tenant(id="other", name="Other Council"))
        await session.flush()
        session.add(Staff(tenant_id="other", email="x@other.example", display_name="X"))

    summary = await build_demo(sessions=sessions, today=TODAY)
    await build_demo(sessions=sessions, today=TODAY)

    async with sessions() as session:
        for table in SQLModel.metadata.sorted_tables:
            if "tenant_id" not in table.c:
                continue
            rows = await session.exec(
                select(table.c.tenant_id, func.count()).group_by(table.c.tenant_id)
            )
            tenants: dict[str, int] = dict(rows.all())
            assert set(tenants) <= {DEMO_TENANT_ID, "other"}, table.name
            if table.name == "staff":
                assert tenants == {DEMO_TENANT_ID: summary.staff, "other": 1}
        names = (await session.exec(select(Tenant.name).order_by(Tenant.name))).all()
    assert names == ["Demo Council", "Other Council"]


# --- the playground's chats and the day's run ------------------------------------------------------


async def test_run_job_dry_run_on_the_demo_shows_the_playground_people_s_morning_cards(
    database_url: str, demo: DemoSummary, tmp_path: Path
) -> None:
    ran = await qaloop(
        database_url, tmp_path, "run-job", "reminders", "--as-of", str(TODAY), "--dry-run"
    )

    assert ran.code == 0, ran.err
    planned = [json.loads(line) for line in ran.out.splitlines()]
    daily = {p["recipient"]["name"]: p for p in planned if p["kind"] == "my_qa"}
    alex = PLAYGROUND_USERS["alex"]
    assert daily[alex.display_name]["conversation"] == "a:qaloop-personal-alexw"
    assert daily[alex.display_name]["summary"].startswith("You have ")
    assert "Your QA items today" in card_text(daily[alex.display_name]["card"])
    playground = {u.display_name for u in PLAYGROUND_USERS.values()}
    assert {p["recipient"]["name"] for p in planned} <= playground  # nobody else has a chat
    assert demo.conversations == len(PLAYGROUND_USERS)


def test_the_demo_s_chats_are_the_ones_the_playground_config_names() -> None:
    for key, user in PLAYGROUND_USERS.items():
        mock = playground_config.person(key)
        assert (user.personal_chat_id, user.playground_id) == (mock.personal_chat_id, mock.user_id)
        assert user.aad_object_id == mock.aad_object_id
    assert PLAYGROUND_BOT == {"id": playground_config.BOT_ID, "name": playground_config.BOT_NAME}
    assert urlsplit(PLAYGROUND_SERVICE_URL).hostname in LOOPBACK_HOSTS


async def test_make_demo_mid_morning_sets_the_day_s_run_aside_for_first_messages_and_run_job(
    sessions: SessionMaker, demo: DemoSummary, connector: FakeConnector, settings: Settings
) -> None:
    late_morning = datetime.combine(TODAY, time(11, 0), tzinfo=LONDON)

    set_aside = await set_aside_catch_up(
        CATALOGUE.jobs.values(),
        sessions=sessions,
        settings=settings,
        now=late_morning,
        tenant_id=DEMO_TENANT_ID,
    )

    # The daily delivery alert, due at 08:00, is set aside with the morning's cards.
    assert set_aside == ["delivery_alert", "reminders"]
    # The bot starts: its catch-up leaves the day alone, so nothing goes to pages not yet open.
    assert (
        await catch_up(
            CATALOGUE.jobs.values(), sessions=sessions, settings=settings, now=late_morning
        )
        == []
    )
    server = TestServer(create_app(settings, clock=lambda: late_morning), host="127.0.0.1")
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as http:
            chat = Chat(str(server.make_url("/")), connector, http)
            alex = PLAYGROUND_USERS["alex"]
            # Alex opens the playground: his first message in the chat the demo stored.
            hello = chat.activity(
                "personal_message",
                who=Person(alex.display_name, alex.aad_object_id, alex.playground_id, alex.email),
                text="help",
            )
            hello["conversation"]["id"] = alex.personal_chat_id
            await chat.post(hello, expect=2)
    finally:
        await server.close()
    cards = [s for s in connector.sent if s.conversation_id == alex.personal_chat_id]
    assert any("Your QA items today" in card_text(c) for s in cards for c in s.cards)
    async with sessions() as session:
        first = (await session.exec(select(Delivery).where(Delivery.kind == "my_qa"))).all()
    assert [d.recipient_staff_id for d in first] == [(await everyone(sessions))[alex.email].id]

    # An operator's run-job still makes the day's run, for everyone else.
    [outcome] = await run_job(
        JOBS["reminders"], sessions=sessions, settings=settings, now=late_morning
    )
    assert outcome.state == "ran" and len(outcome.planned) > outcome.queued > 0
    logged = [e for e in await all_of(sessions, AuditLog) if e.event == "job.set_aside"]
    assert sorted(e.after["job"] for e in logged if e.after) == ["delivery_alert", "reminders"]
    assert all(e.after == {"job": e.after["job"], "period": str(TODAY)} for e in logged if e.after)
