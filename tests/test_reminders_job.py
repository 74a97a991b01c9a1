"""The reminders job on a real database: one card per person, escalations, run keys and catch-up."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_JOB_EXECUTED, JobExecutionEvent
from sqlmodel import col, delete, func, select, update

from bot.features import CATALOGUE
from bot.rules.workdays import add_working_days
from bot.settings import Settings
from jobs import escalation, reminders
from jobs.runs import Job, JobDeps, Planned, run_job
from jobs.scheduler import catch_up, create_scheduler
from storage import job_runs
from storage.conversations import save_reference
from storage.db import SessionMaker, make_engine, make_sessions, transaction
from storage.models import (
    Action,
    Audit,
    ConversationRef,
    Delivery,
    ExtensionRequest,
    JobRun,
    SentCard,
    Staff,
    Team,
    Tenant,
)
from tests.helpers import Council, add_action, add_audit, small_council

REBUILDERS = CATALOGUE.redraws(Settings())

JOBS = CATALOGUE.jobs
# Every job but the daily delivery alert, which catches up too, at any time of day and week
# (tests/test_send_failures.py): the catch-up tests here are about the morning's cards.
MORNING_JOBS = [job for name, job in JOBS.items() if name != "delivery_alert"]

LONDON = ZoneInfo("Europe/London")
THU = date(2026, 11, 26)
NINE = datetime(2026, 11, 26, 9, 0, tzinfo=LONDON)
CHRISTMAS = datetime(2026, 12, 25, 9, 0, tzinfo=LONDON)


async def give_chat(sessions: SessionMaker, council: Council, who: str) -> None:
    async with transaction(sessions) as session:
        await save_reference(
            session=session,
            tenant_id=council.tenant_id,
            conversation_id=f"a:personal-{who}",
            conversation_type="personal",
            service_url="http://127.0.0.1:9/",
            reference={},
            staff_id=council.staff[who].id,
        )


async def add_service_manager(sessions: SessionMaker, council: Council) -> Staff:
    async with transaction(sessions) as session:
        service_id = (
            await session.exec(select(Team.service_id).where(Team.id == council.team_id))
        ).one()
        sam = Staff(
            tenant_id=council.tenant_id,
            email="sam.lead@example.com",
            display_name="Sam Lead",
            roles="service_manager",
            service_id=service_id,
        )
        session.add(sam)
    council.staff["sam"] = sam
    return sam


async def owe_feedback(sessions: SessionMaker, council: Council, completed: datetime) -> Audit:
    async with transaction(sessions) as session:
        audit = Audit(
            tenant_id=council.tenant_id,
            case_id=council.cases[2].id or 0,
            team_id=council.team_id,
            auditor_id=council.staff["megan"].id or 0,
            practitioner_id=council.staff["alex"].id,
            due_on=completed.date(),
            state="completed",
            completed_at=completed,
        )
        session.add(audit)
    return audit


async def plan(
    sessions: SessionMaker, settings: Settings, council: Council, now: datetime
) -> list[Planned]:
    return await reminders.run(
        deps=JobDeps(sessions=sessions, settings=settings, tenant_id=council.tenant_id), now=now
    )


async def count(sessions: SessionMaker, model: type[Delivery] | type[JobRun]) -> int:
    async with sessions() as session:
        return (await session.exec(select(func.count()).select_from(model))).one()


async def alex_with_everything_due(sessions: SessionMaker) -> Council:
    """Alex: an overdue action, one due much later, an audit due tomorrow, feedback owed."""
    council = await small_council(sessions)
    await add_action(
        sessions, council, owner="alex", what="Record the visit", due_on=add_working_days(THU, -2)
    )
    await add_action(sessions, council, owner="alex", what="Later", due_on=THU + timedelta(days=20))
    await add_audit(sessions, council, auditor="alex", practitioner=None, due_on=THU + timedelta(1))
    await owe_feedback(sessions, council, datetime(2026, 11, 24, 15, 0, tzinfo=UTC))
    await give_chat(sessions, council, "alex")
    await give_chat(sessions, council, "megan")
    return council


async def test_alex_gets_one_card_with_everything_due_and_megan_none(
    sessions: SessionMaker, settings: Settings
) -> None:
    council = await alex_with_everything_due(sessions)

    (card,) = await plan(sessions, settings, council, NINE)

    alex = council.staff["alex"]
    assert (card.recipient_staff_id, card.recipient_name) == (alex.id, "Alex Wilber")
    assert card.conversation_id == "a:personal-alex"
    assert card.kind == "my_qa"
    assert card.summary == "You have 3 QA items today"
    assert card.dedupe_key == f"my_qa:{alex.id}:2026-11-26"
    assert [s.split(":")[0] for s in card.subjects] == ["action", "audit", "feedback"]
    assert card.card["body"][0]["text"] == "Your QA items today"
    assert "Record the visit" in str(card.card) and "Later" not in str(card.card)


async def test_nobody_is_chased_on_christmas_day(
    sessions: SessionMaker, settings: Settings
) -> None:
    council = await alex_with_everything_due(sessions)
    assert await plan(sessions, settings, council, CHRISTMAS) == []


async def test_someone_who_never_opened_the_bot_is_left_for_roster_sync(
    sessions: SessionMaker, settings: Settings
) -> None:
    council = await small_council(sessions)
    await add_action(sessions, council, owner="alex", what="Record the visit", due_on=THU)
    assert await plan(sessions, settings, council, NINE) == []


async def test_an_action_snoozed_past_today_waits_and_its_due_date_stays(
    sessions: SessionMaker, settings: Settings
) -> None:
    council = await small_council(sessions)
    await give_chat(sessions, council, "alex")
    action = await add_action(sessions, council, owner="alex", what="Visit", due_on=THU)
    async with transaction(sessions) as session:
        await session.exec(
            update(Action)
            .where(col(Action.id) == action.id)
            .values(snoozed_until=THU + timedelta(1))
        )
    assert await plan(sessions, settings, council, NINE) == []
    (card,) = await plan(sessions, settings, council, NINE + timedelta(days=1))
    assert "Overdue by 1 working day" in str(card.card)


async def test_escalations_reach_the_team_manager_at_five_and_the_service_manager_at_ten(
    sessions: SessionMaker, settings: Settings
) -> None:
    council = await small_council(sessions)
    await add_service_manager(sessions, council)
    for who in ("alex", "megan", "sam"):
        await give_chat(sessions, council, who)
    for days in (4, 5, 10):
        await add_action(
            sessions,
            council,
            owner="alex",
            what=f"{days} late",
            due_on=add_working_days(THU, -days),
        )

    planned = await plan(sessions, settings, council, NINE)

    by_kind = {(p.kind, p.recipient_name): p for p in planned}
    assert set(by_kind) == {
        ("my_qa", "Alex Wilber"),
        ("escalation", "Megan Bowen"),
        ("escalation", "Sam Lead"),
    }
    megan = by_kind[("escalation", "Megan Bowen")]
    assert megan.summary == "2 actions in your team are overdue"
    assert megan.dedupe_key == f"escalation:{council.staff['megan'].id}:2026-11-26"
    assert "10 late" in str(megan.card) and "5 late" in str(megan.card)
    assert "4 late" not in str(megan.card)
    sam = by_kind[("escalation", "Sam Lead")]
    assert sam.summary == "1 action in your service is overdue"
    assert "10 late" in str(sam.card) and "5 late" not in str(sam.card)


async def test_each_manager_gets_at_most_one_escalation_a_day_however_often_it_runs(
    sessions: SessionMaker, settings: Settings
) -> None:
    council = await small_council(sessions)
    await give_chat(sessions, council, "megan")
    await add_action(sessions, council, owner="alex", what="late", due_on=add_working_days(THU, -6))
    job = JOBS["reminders"]

    (first,) = await run_job(job, sessions=sessions, settings=settings, now=NINE)
    assert (first.state, first.queued) == ("ran", 1)
    # Even with the run key gone (an operator forcing a rerun), the dedupe key holds.
    async with transaction(sessions) as session:
        await session.exec(delete(JobRun))
    await add_action(
        sessions, council, owner="alex", what="later", due_on=add_working_days(THU, -7)
    )
    (again,) = await run_job(
        job, sessions=sessions, settings=settings, now=NINE + timedelta(hours=3)
    )
    assert (again.state, len(again.planned), again.queued) == ("ran", 1, 0)
    async with sessions() as session:
        kinds = (await session.exec(select(Delivery.kind, Delivery.dedupe_key))).all()
    assert kinds == [("escalation", f"escalation:{council.staff['megan'].id}:2026-11-26")]


async def test_the_preview_text_never_carries_a_case_reference(
    sessions: SessionMaker, settings: Settings
) -> None:
    council = await small_council(sessions)
    await add_service_manager(sessions, council)
    for who in ("alex", "megan", "sam"):
        await give_chat(sessions, council, who)
    for n, case_index in enumerate((0, 1, 2, 0, 1)):
        for owner in ("alex", "megan"):
            await add_action(
                sessions,
                council,
                owner=owner,
                what=f"Action {n} on {council.cases[case_index].case_ref}",
                due_on=add_working_days(THU, -4 * n),
                case_index=case_index,
            )
    await add_audit(sessions, council, auditor="alex", practitioner="megan", due_on=THU)
    await owe_feedback(sessions, council, datetime(2026, 11, 25, 10, 0, tzinfo=UTC))

    planned = await plan(sessions, settings, council, NINE)

    assert {p.kind for p in planned} == {"my_qa", "escalation"}
    case_ref = re.compile(settings.case_ref_pattern)
    refs = [c.case_ref for c in council.cases]
    for p in planned:
        assert any(ref in str(p.card) for ref in refs)  # the body may name the case
        assert not any(ref in p.summary for ref in refs), p.summary
        assert not any(case_ref.match(word) for word in p.summary.split()), p.summary


# --- run keys -------------------------------------------------------------------------------------


async def test_two_replicas_firing_the_same_job_and_period_make_one_run(
    database_url: str, settings: Settings
) -> None:
    """Two engines stand for two bot processes on one database."""
    replicas = [make_engine(database_url), make_engine(database_url)]
    a, b = (make_sessions(engine) for engine in replicas)
    try:
        council = await alex_with_everything_due(a)
        calls: list[str] = []

        async def counting(*, deps: JobDeps, now: datetime, dry_run: bool = False) -> list[Planned]:
            calls.append(deps.tenant_id)
            await asyncio.sleep(0.05)
            return []

        job = Job("counting", counting, lambda s: time(9), "*")
        results = await asyncio.gather(
            *(run_job(job, sessions=s, settings=settings, now=NINE) for s in (a, b, a, b))
        )
        assert sorted(o.state for r in results for o in r) == ["ran", "taken", "taken", "taken"]
        assert calls == [council.tenant_id]

        results = await asyncio.gather(
            *(run_job(JOBS["reminders"], sessions=s, settings=settings, now=NINE) for s in (a, b))
        )
        assert sorted(o.state for r in results for o in r) == ["ran", "taken"]
        assert await count(a, Delivery) == 1
        assert await count(a, JobRun) == 2
    finally:
        for engine in replicas:
            await engine.dispose()


async def test_a_failed_or_stalled_run_is_taken_over_and_a_done_one_is_not(
    sessions: SessionMaker,
) -> None:
    council = await small_council(sessions)
    tenant = council.tenant_id

    def claim(period: str) -> object:
        return job_runs.claim(sessions=sessions, tenant_id=tenant, job="reminders", period=period)

    done = await claim("2026-11-24")
    assert isinstance(done, int)
    async with transaction(sessions) as session:
        await job_runs.finish(session, run_id=done, detail="0 planned")
    assert await claim("2026-11-24") is None

    failed = await claim("2026-11-25")
    assert isinstance(failed, int)
    await job_runs.fail(sessions=sessions, run_id=failed, detail="OperationalError")
    assert await claim("2026-11-25") == failed

    running = await claim("2026-11-26")
    assert await claim("2026-11-26") is None  # still running, recently
    async with transaction(sessions) as session:
        await session.exec(
            update(JobRun)
            .where(col(JobRun.id) == running)
            .values(started_at=datetime.now(UTC) - timedelta(hours=1))
        )
    assert await claim("2026-11-26") == running
    assert await claim("2026-11-26") is None


async def test_a_job_that_fails_is_recorded_and_runs_again_next_time(
    sessions: SessionMaker, settings: Settings
) -> None:
    council = await small_council(sessions)
    tries: list[int] = []

    async def flaky(*, deps: JobDeps, now: datetime, dry_run: bool = False) -> list[Planned]:
        tries.append(1)
        if len(tries) == 1:
            raise RuntimeError("C-12345 must never reach the log")
        return []

    job = Job("flaky", flaky, lambda s: time(9), "*")
    (first,) = await run_job(job, sessions=sessions, settings=settings, now=NINE)
    async with sessions() as session:
        row = await job_runs.find(
            session=session, tenant_id=council.tenant_id, job="flaky", period="2026-11-26"
        )
    assert first.state == "failed" and row is not None
    assert (row.state, row.detail) == ("failed", "RuntimeError")
    (second,) = await run_job(job, sessions=sessions, settings=settings, now=NINE)
    assert second.state == "ran" and len(tries) == 2


async def test_a_dry_run_claims_nothing_and_queues_nothing(
    sessions: SessionMaker, settings: Settings
) -> None:
    await alex_with_everything_due(sessions)
    (outcome,) = await run_job(
        JOBS["reminders"], sessions=sessions, settings=settings, now=NINE, dry_run=True
    )
    assert outcome.state == "dry_run" and len(outcome.planned) == 1
    assert await count(sessions, JobRun) == 0
    assert await count(sessions, Delivery) == 0


# --- catch-up -------------------------------------------------------------------------------------


async def set_tenant_created(sessions: SessionMaker, council: Council, at: datetime) -> None:
    async with transaction(sessions) as session:
        await session.exec(
            update(Tenant).where(col(Tenant.id) == council.tenant_id).values(created_at=at)
        )


async def test_started_at_eleven_on_a_working_day_the_missed_reminders_run(
    sessions: SessionMaker, settings: Settings
) -> None:
    council = await alex_with_everything_due(sessions)
    await set_tenant_created(sessions, council, NINE - timedelta(days=30))
    eleven = NINE + timedelta(hours=2)

    (outcome,) = await catch_up(MORNING_JOBS, sessions=sessions, settings=settings, now=eleven)

    assert (outcome.state, outcome.period, outcome.queued) == ("ran", "2026-11-26", 1)
    # A second replica starting later finds it done and does nothing.
    assert (
        await catch_up(
            MORNING_JOBS,
            sessions=sessions,
            settings=settings,
            now=eleven + timedelta(hours=1),
        )
        == []
    )
    assert await count(sessions, Delivery) == 1


async def test_a_run_whose_process_died_is_made_by_a_later_look_back(
    sessions: SessionMaker, settings: Settings
) -> None:
    council = await alex_with_everything_due(sessions)
    await set_tenant_created(sessions, council, NINE - timedelta(days=30))
    run_id = await job_runs.claim(
        sessions=sessions, tenant_id=council.tenant_id, job="reminders", period="2026-11-26"
    )
    assert run_id is not None  # ... and then the process died, before queueing anything

    (soon,) = await catch_up(
        MORNING_JOBS, sessions=sessions, settings=settings, now=NINE + timedelta(hours=1)
    )
    assert soon.state == "taken"  # it might still be running
    async with transaction(sessions) as session:
        await session.exec(
            update(JobRun).values(started_at=datetime.now(UTC) - job_runs.STALE_AFTER)
        )
    (later,) = await catch_up(
        MORNING_JOBS, sessions=sessions, settings=settings, now=NINE + timedelta(hours=1)
    )
    assert (later.state, later.queued) == ("ran", 1)


async def test_no_catch_up_before_the_time_in_the_evening_at_weekends_or_for_new_tenants(
    sessions: SessionMaker, settings: Settings
) -> None:
    council = await alex_with_everything_due(sessions)
    await set_tenant_created(sessions, council, NINE - timedelta(days=30))
    for now in (
        NINE - timedelta(minutes=1),
        NINE.replace(hour=17, minute=30),
        datetime(2026, 11, 28, 11, 0, tzinfo=LONDON),  # a Saturday
    ):
        assert await catch_up(MORNING_JOBS, sessions=sessions, settings=settings, now=now) == [], (
            now
        )
    # A council set up at ten o'clock missed nothing at nine.
    await set_tenant_created(sessions, council, NINE + timedelta(hours=1))
    assert (
        await catch_up(
            MORNING_JOBS,
            sessions=sessions,
            settings=settings,
            now=NINE + timedelta(hours=2),
        )
        == []
    )
    assert await count(sessions, JobRun) == 0


async def test_the_scheduler_registers_every_job_and_catches_up_as_it_starts(
    sessions: SessionMaker, settings: Settings
) -> None:
    council = await alex_with_everything_due(sessions)
    await set_tenant_created(sessions, council, NINE - timedelta(days=30))
    scheduler = create_scheduler(
        CATALOGUE.jobs.values(),
        sessions=sessions,
        settings=settings,
        clock=lambda: NINE + timedelta(hours=2),
    )
    caught_up = asyncio.Event()

    def on_executed(event: JobExecutionEvent) -> None:
        if event.job_id == "catch_up":
            caught_up.set()

    scheduler.add_listener(on_executed, EVENT_JOB_EXECUTED)
    scheduler.start()
    try:
        jobs = {job.id: job for job in scheduler.get_jobs()}
        assert set(jobs) >= {"reminders", "housekeeping"}
        reminders_job = jobs["reminders"]
        assert str(reminders_job.trigger.timezone) == "Europe/London"
        assert reminders_job.coalesce is True
        assert reminders_job.misfire_grace_time >= 5 * 60
        async with asyncio.timeout(10):
            await caught_up.wait()
    finally:
        scheduler.shutdown(wait=False)
    assert await count(sessions, Delivery) == 1
    async with sessions() as session:
        run = (await session.exec(select(JobRun).where(JobRun.job == "reminders"))).one()
    assert (run.job, run.period, run.state) == ("reminders", "2026-11-26", "done")


# --- cards re-rendered in place -------------------------------------------------------------------


async def test_a_my_qa_card_re_rendered_shows_done_and_snoozed_actions_in_their_new_state(
    sessions: SessionMaker,
) -> None:
    council = await small_council(sessions)
    alex = council.staff["alex"].id or 0
    done = await add_action(sessions, council, owner="alex", what="Done one", due_on=THU)
    snoozed = await add_action(sessions, council, owner="alex", what="Snoozed one", due_on=THU)
    asked = await add_action(sessions, council, owner="alex", what="More time", due_on=THU)
    async with transaction(sessions) as session:
        await session.exec(
            update(Action)
            .where(col(Action.id) == done.id)
            .values(state="done", done_at=datetime(2026, 11, 26, 10, 2, tzinfo=UTC))
        )
        await session.exec(
            update(Action)
            .where(col(Action.id) == snoozed.id)
            .values(snoozed_until=THU + timedelta(1))
        )
        session.add(
            ExtensionRequest(
                tenant_id=council.tenant_id,
                action_id=asked.id or 0,
                requested_by=alex,
                old_due_on=THU,
                new_due_on=date(2026, 12, 10),
                reason="Waiting for the school",
            )
        )

    # The morning's card showed all three; drawn again, it keeps them in their new state.
    shown = frozenset(a.id or 0 for a in (done, snoozed, asked))
    async with sessions() as session:
        built = await reminders.rebuild_my_qa(session, council.tenant_id, alex, THU, shown=shown)
        nobody = await reminders.rebuild_my_qa(
            session, council.tenant_id, 999_999, THU, shown=shown
        )
        # A card that never showed the snoozed one (it was snoozed before the morning) leaves it off.
        unshown = await reminders.rebuild_my_qa(
            session, council.tenant_id, alex, THU, shown=frozenset({done.id or 0, asked.id or 0})
        )
    assert built is not None and nobody is None and unshown is not None
    card, summary = built
    text = str(card)
    assert "Done ✓" in text and "snoozed, I'll remind you tomorrow" in text
    assert "you've asked to move it to Thu 10 Dec" in text
    assert summary == "You have 1 QA item today"
    # One action still needs Alex today, and the card says so, however many it lists.
    assert "1 action" in text and "3 actions" not in text
    assert "Snoozed one" not in str(unshown[0]) and unshown[1] == summary


async def test_an_escalation_re_rendered_drops_an_action_done_since(
    sessions: SessionMaker,
) -> None:
    council = await small_council(sessions)
    megan = council.staff["megan"].id or 0
    first = await add_action(
        sessions, council, owner="alex", what="First late", due_on=add_working_days(THU, -6)
    )
    await add_action(
        sessions, council, owner="alex", what="Second late", due_on=add_working_days(THU, -8)
    )
    async with transaction(sessions) as session:
        await session.exec(update(Action).where(col(Action.id) == first.id).values(state="done"))
    async with sessions() as session:
        built = await escalation.rebuild_escalation(session, council.tenant_id, megan, THU)
    assert built is not None
    card, summary = built
    assert "Second late" in str(card) and "First late" not in str(card)
    assert summary == "1 action in your team is overdue"


async def test_posted_my_qa_and_escalation_cards_are_rebuilt_for_their_recipient(
    sessions: SessionMaker,
) -> None:
    council = await small_council(sessions)
    for who in ("alex", "megan"):
        await give_chat(sessions, council, who)
    late = await add_action(
        sessions, council, owner="alex", what="Late one", due_on=add_working_days(THU, -6)
    )
    async with transaction(sessions) as session:
        chats = {
            r.staff_id: r.id
            for r in (await session.exec(select(ConversationRef))).all()
            if r.staff_id is not None
        }
        posted = {
            kind: SentCard(
                tenant_id=council.tenant_id,
                subject=f"action:{late.id}",
                conversation_ref_id=chats[council.staff[who].id or 0] or 0,
                activity_id=f"activity-{who}",
                kind=kind,
            )
            for kind, who in (("my_qa", "alex"), ("escalation", "megan"))
        }
        session.add_all(posted.values())
        await session.exec(
            update(Action)
            .where(col(Action.id) == late.id)
            .values(state="done", done_at=datetime(2026, 11, 26, 10, 2, tzinfo=UTC))
        )

    async with sessions() as session:
        mine = await REBUILDERS.rebuild(session, council.tenant_id, posted["my_qa"], THU)
        theirs = await REBUILDERS.rebuild(session, council.tenant_id, posted["escalation"], THU)
    assert mine is not None and theirs is not None
    assert "Done ✓" in str(mine[0]) and "Late one" in str(mine[0])
    assert "Late one" not in str(theirs[0])
    assert theirs[1] == "Nothing overdue to chase now"
