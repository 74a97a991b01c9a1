"""Moderation on a real database: the monthly sample job (run keys, the stored seed, the cards to
moderators, `qaloop run-job`) and the moderator's card over HTTP."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, select

from bot.features import CATALOGUE
from bot.rules.moderation import Candidate, draw_sample, fingerprint
from bot.settings import Settings
from cards.common import card_json
from cards.moderation import moderation_card
from jobs.runs import JobDeps, run_job
from jobs.scheduler import scheduled_at
from storage import moderation
from storage.conversations import save_reference
from storage.db import SessionMaker, transaction
from storage.models import Audit, JobRun, Moderation, ModerationSample
from tests.chat import ALEX, DIEGO, PATTI, Chat, card_text, nodes, press
from tests.helpers import (
    NOW,
    TODAY,
    AuditCouncil,
    Clock,
    add_assigned_audit,
    audit_council,
    everyone_says_hello,
    logged,
    queued,
)
from tests.test_scheduler import qaloop

JOBS = CATALOGUE.jobs

pytestmark = pytest.mark.clock(NOW)  # Thu 26 Nov 2026, 10:02 in London


LONDON = ZoneInfo("Europe/London")
FIRST_OF_DECEMBER = datetime(2026, 12, 1, 8, 30, tzinfo=LONDON)
JOB = JOBS["moderation_sample"]
GRADES = {
    "grade_heart": "good",
    "grade_assessment": "good",
    "grade_plans": "requires_improvement",
    "grade_records": "good",
    "grade_oversight": "inadequate",
    "grade_strengths": "outstanding",
}


async def completed(
    sessions: SessionMaker,
    council: AuditCouncil,
    *,
    auditor: str,
    completed_at: datetime,
    team: str = "North",
    case_index: int = 0,
    state: str = "completed",
) -> Audit:
    audit = await add_assigned_audit(
        sessions,
        council,
        team=team,
        case_index=case_index,
        auditor=auditor,
        due_on=completed_at.date(),
        state=state,
    )
    async with transaction(sessions) as session:
        row = await session.get(Audit, audit.id)
        assert row is not None
        for name, grade in GRADES.items():
            setattr(row, name, grade)
        row.overall_grade = "good"
        row.limiting_reason = "Oversight gap was [one](https://x.test) supervision"
        row.completed_at = completed_at
        session.add(row)
    return audit


async def november(sessions: SessionMaker, council: AuditCouncil) -> list[Audit]:
    """Twelve audits completed in November by three auditors, and some that are not candidates."""
    audits = []
    for n in range(12):
        auditor, team = [("alex", "South"), ("diego", "North"), ("joni", "North")][n % 3]
        audits.append(
            await completed(
                sessions,
                council,
                auditor=auditor,
                team=team,
                case_index=n // 3,
                completed_at=datetime(2026, 11, 2 + n, 14, 0, tzinfo=UTC),
            )
        )
    # Not November's: completed in October or December, or still in progress.
    await completed(
        sessions,
        council,
        auditor="alex",
        team="East",
        case_index=0,
        completed_at=datetime(2026, 10, 31, 23, 30, tzinfo=UTC),
    )
    await completed(
        sessions,
        council,
        auditor="alex",
        team="East",
        case_index=1,
        completed_at=datetime(2026, 12, 1, 0, 30, tzinfo=UTC),
    )
    await completed(
        sessions,
        council,
        auditor="alex",
        team="East",
        case_index=2,
        completed_at=datetime(2026, 11, 20, tzinfo=UTC),
        state="in_progress",
    )
    return audits


async def give_chats(sessions: SessionMaker, council: AuditCouncil, *who: str) -> None:
    async with transaction(sessions) as session:
        for key in who:
            await save_reference(
                session=session,
                tenant_id=council.tenant_id,
                conversation_id=f"a:personal-{key}",
                conversation_type="personal",
                service_url="http://127.0.0.1:9/",
                reference={},
                staff_id=council.staff[key].id,
            )


async def moderations(sessions: SessionMaker) -> list[Moderation]:
    async with sessions() as session:
        rows = await session.exec(select(Moderation).order_by(col(Moderation.audit_id)))
        return list(rows.all())


# The monthly sample


def test_the_job_fires_at_08_30_on_the_first_working_day_of_the_month_only() -> None:
    settings = Settings(_env_file=None)

    assert scheduled_at(JOB, settings, FIRST_OF_DECEMBER) == FIRST_OF_DECEMBER
    assert scheduled_at(JOB, settings, FIRST_OF_DECEMBER + timedelta(days=1)) is None
    assert scheduled_at(JOB, settings, datetime(2027, 1, 1, 12, tzinfo=LONDON)) is None
    assert scheduled_at(JOB, settings, datetime(2027, 1, 4, 12, tzinfo=LONDON)) == datetime(
        2027, 1, 4, 8, 30, tzinfo=LONDON
    )
    assert JOB.period(FIRST_OF_DECEMBER, LONDON) == "2026-11"


async def test_the_first_working_day_draws_last_month_s_sample_and_sends_each_card(
    sessions: SessionMaker, settings: Settings
) -> None:
    council = await audit_council(sessions)
    audits = await november(sessions, council)
    await give_chats(sessions, council, "patti")

    [outcome] = await run_job(JOB, sessions=sessions, settings=settings, now=FIRST_OF_DECEMBER)

    assert outcome.state == "ran" and outcome.period == "2026-11"
    async with sessions() as session:
        [sample] = (await session.exec(select(ModerationSample))).all()
    assert sample.month == "2026-11" and sample.rate_percent == 10
    candidates = [Candidate(a.id or 0, a.auditor_id) for a in audits]
    assert sample.candidate_fingerprint == fingerprint(candidates)
    # The stored seed gives the same sample again: one per auditor (10 % of 12 is 2).
    expected = draw_sample(candidates, seed=sample.seed)
    rows = await moderations(sessions)
    assert [r.audit_id for r in rows] == [c.audit_id for c in expected]
    assert len(rows) == 3
    auditors = {a.id: a.auditor_id for a in audits}
    assert {auditors[r.audit_id] for r in rows} == {
        council.id(k) for k in ("alex", "diego", "joni")
    }
    assert {r.moderator_id for r in rows} == {council.id("patti")}
    assert all(r.month == "2026-11" and r.decided_at is None for r in rows)
    cards = await queued(sessions, "moderation_request")
    assert [c.recipient_staff_id for c in cards] == [council.id("patti")] * 3
    assert all(c.summary == "An audit to moderate" for c in cards)
    assert [c.subjects for c in cards] == [[f"audit:{r.audit_id}"] for r in rows]
    assert len(await logged(sessions, "moderation.sampled")) == 1
    assert len(await logged(sessions, "moderation.assigned")) == 3


async def test_running_again_for_the_same_month_does_nothing_new(
    sessions: SessionMaker, settings: Settings
) -> None:
    council = await audit_council(sessions)
    await november(sessions, council)
    await give_chats(sessions, council, "patti")
    await run_job(JOB, sessions=sessions, settings=settings, now=FIRST_OF_DECEMBER)
    before = await moderations(sessions)

    [same_day] = await run_job(JOB, sessions=sessions, settings=settings, now=FIRST_OF_DECEMBER)
    [later] = await run_job(
        JOB, sessions=sessions, settings=settings, now=FIRST_OF_DECEMBER + timedelta(days=7)
    )

    assert (same_day.state, later.state) == ("taken", "taken")
    assert [m.id for m in await moderations(sessions)] == [m.id for m in before]
    assert len(await queued(sessions, "moderation_request")) == 3
    async with sessions() as session:
        runs = (await session.exec(select(JobRun).where(JobRun.job == JOB.name))).all()
    assert [(r.period, r.state) for r in runs] == [("2026-11", "done")]


async def test_a_run_taken_over_after_a_crash_keeps_the_stored_sample(
    sessions: SessionMaker, settings: Settings
) -> None:
    """The sample is stored; a second run of the job (as after a crash) plans the same cards."""
    council = await audit_council(sessions)
    await november(sessions, council)
    await give_chats(sessions, council, "patti")

    deps = JobDeps(sessions=sessions, settings=settings, tenant_id=council.tenant_id)
    first = await JOB.run(deps=deps, now=FIRST_OF_DECEMBER)
    again = await JOB.run(deps=deps, now=FIRST_OF_DECEMBER)

    assert [p.dedupe_key for p in again] == [p.dedupe_key for p in first]
    async with sessions() as session:
        assert len((await session.exec(select(ModerationSample))).all()) == 1
    assert len(await moderations(sessions)) == 3


async def test_a_dry_run_from_the_command_line_stores_and_queues_nothing(
    database_url: str, sessions: SessionMaker
) -> None:
    council = await audit_council(sessions)
    await november(sessions, council)
    await give_chats(sessions, council, "patti")

    code, out, err = await qaloop(
        database_url, "run-job", "moderation_sample", "--as-of", "2026-12-01", "--dry-run"
    )

    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == 3
    assert {line["kind"] for line in lines} == {"moderation_request"}
    assert {line["summary"] for line in lines} == {"An audit to moderate"}
    assert all(line["recipient"]["name"] == "Patti Fernandez" for line in lines)
    assert await moderations(sessions) == []
    async with sessions() as session:
        assert (await session.exec(select(ModerationSample))).all() == []

    code, out, err = await qaloop(
        database_url, "run-job", "moderation_sample", "--as-of", "2026-12-01"
    )
    assert code == 0, err
    assert "moderation_sample for 2026-11" in " ".join(out.split())
    assert len(await moderations(sessions)) == 3


# The moderator's card


async def sent_for_moderation(sessions: SessionMaker, council: AuditCouncil) -> Audit:
    """One of Alex's November audits, sampled for Patti."""
    audit = await completed(
        sessions,
        council,
        auditor="alex",
        team="South",
        completed_at=datetime(2026, 11, 20, 15, tzinfo=UTC),
    )
    async with transaction(sessions) as session:
        session.add(
            Moderation(
                tenant_id=council.tenant_id,
                audit_id=audit.id or 0,
                moderator_id=council.id("patti"),
                month="2026-11",
            )
        )
    return audit


def decide(audit_id: int, disagree: tuple[str, ...] = (), comment: str = "") -> dict[str, Any]:
    data: dict[str, Any] = {"action": "moderate_audit", "audit_id": audit_id, "comment": comment}
    for key in ("heart", "assessment", "plans", "records", "oversight", "strengths", "overall"):
        data[f"agree_{key}"] = "disagree" if key in disagree else "agree"
    return data


async def test_patti_moderates_the_audit_and_alex_hears_the_outcome(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await audit_council(sessions)
    audit = await sent_for_moderation(sessions, council)
    assert audit.id is not None
    await everyone_says_hello(chat)
    comment = "Oversight should be [inadequate](https://x.test) overall"

    pressed = await press(chat, decide(audit.id, ("oversight", "overall"), comment), who=PATTI)

    text = pressed.text
    assert "Moderated ✓" in text
    assert "By Patti Fernandez, today at 10:02: agreed with 5 of 7 grades." in text
    assert "Disagree ✗  Regular management oversight: Inadequate" in text
    assert "Agree ✓  Strengths-based approach: Outstanding" in text
    assert comment in text
    assert "I've told Alex Wilber." in text
    [row] = await moderations(sessions)
    assert row.decided_at == NOW and row.comment == comment
    assert row.agreement == {
        "heart": True,
        "assessment": True,
        "plans": True,
        "records": True,
        "oversight": False,
        "strengths": True,
        "overall": False,
    }
    async with sessions() as session:
        stored = await session.get(Audit, audit.id)
    assert stored is not None and stored.state == "moderated"
    [changed] = await logged(sessions, "audit.moderated")
    assert changed.before == {"state": "completed"} and changed.after == {"state": "moderated"}
    assert changed.actor_id == council.id("patti")
    assert len(await logged(sessions, "moderation.decided")) == 1
    [outcome] = await queued(sessions, "moderation_outcome")
    assert outcome.recipient_staff_id == council.id("alex")
    assert outcome.summary == "One of your audits has been moderated"
    assert "C-2" not in outcome.summary
    assert "agreed with 5 of 7 grades" in card_text(outcome.card)


async def test_a_disagreement_needs_a_comment_and_the_form_keeps_the_choices(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await audit_council(sessions)
    audit = await sent_for_moderation(sessions, council)
    assert audit.id is not None

    pressed = await press(chat, decide(audit.id, ("plans",)), who=PATTI)

    assert pressed.error is None
    assert "Please say in the comment why you disagree." in pressed.text
    choices = _inputs(pressed.card)
    assert choices["agree_plans"] == "disagree" and choices["agree_heart"] == "agree"
    [row] = await moderations(sessions)
    assert row.decided_at is None
    assert (await logged(sessions, "refused.moderate_audit"))[0].after == {
        "reason": "comment_needed"
    }


async def test_a_second_press_says_already_moderated_and_changes_nothing(
    chat: Chat, sessions: SessionMaker, clock: Clock
) -> None:
    council = await audit_council(sessions)
    audit = await sent_for_moderation(sessions, council)
    assert audit.id is not None
    await press(chat, decide(audit.id), who=PATTI)
    clock.now = NOW + timedelta(hours=1)

    again = await press(chat, decide(audit.id, ("heart",), "Changed my mind"), who=PATTI)

    assert "Already moderated. Nothing was changed." in again.text
    assert "agreed with 7 of 7 grades" in again.text
    [row] = await moderations(sessions)
    assert row.decided_at == NOW and row.comment is None
    assert len(await logged(sessions, "moderation.decided")) == 1


async def test_only_the_moderator_it_was_sent_to_may_moderate(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await audit_council(sessions)
    audit = await sent_for_moderation(sessions, council)
    assert audit.id is not None

    auditor = await press(chat, decide(audit.id), who=ALEX)
    other = await press(chat, decide(audit.id), who=DIEGO)

    message = "Only the moderator this audit was sent to can moderate it."
    assert auditor.error == message and other.error == message
    [row] = await moderations(sessions)
    assert row.decided_at is None
    denials = await logged(sessions, "denied.moderate_audit")
    assert [d.actor_id for d in denials] == [council.id("alex"), council.id("diego")]


async def test_a_stale_card_for_a_cancelled_audit_changes_nothing(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await audit_council(sessions)
    audit = await sent_for_moderation(sessions, council)
    assert audit.id is not None
    async with transaction(sessions) as session:
        row = await session.get(Audit, audit.id)
        assert row is not None
        row.state = "cancelled"
        session.add(row)

    pressed = await press(chat, decide(audit.id), who=PATTI)
    unknown = await press(chat, decide(audit.id + 100), who=PATTI)

    assert pressed.error == "This audit is cancelled now, so it can't be moderated."
    assert unknown.error == (
        "This audit isn't in a moderation sample, so there is nothing to moderate."
    )
    assert (await moderations(sessions))[0].decided_at is None


async def test_a_malformed_moderation_is_refused(chat: Chat, sessions: SessionMaker) -> None:
    council = await audit_council(sessions)
    audit = await sent_for_moderation(sessions, council)
    assert audit.id is not None

    pressed = await press(chat, decide(audit.id) | {"agree_heart": "maybe"}, who=PATTI)

    assert pressed.error == "Please choose Agree or Disagree for each grade. Nothing was changed."
    assert (await moderations(sessions))[0].decided_at is None
    assert len(await logged(sessions, "refused.bad_payload")) == 1


async def test_the_card_shows_grades_and_the_limiting_reason_literally(
    sessions: SessionMaker,
) -> None:
    council = await audit_council(sessions)
    audit = await sent_for_moderation(sessions, council)
    assert audit.id is not None
    async with sessions() as session:
        shown = (
            await moderation.audits_to_moderate(
                session=session, tenant_id=council.tenant_id, audit_ids=[audit.id], zone=LONDON
            )
        )[audit.id]

    card = card_json(moderation_card(shown, today=TODAY))

    text = card_text(card)
    assert "C-20001 · Collaborative audit" in text
    assert "Audited by Alex Wilber, completed Fri 20 Nov" in text
    assert "Oversight gap was [one](https://x.test) supervision" in text
    labels = {e["id"]: e["label"] for e in nodes(card) if e.get("type") == "Input.ChoiceSet"}
    assert labels["agree_oversight"] == "Regular management oversight: Inadequate"
    assert labels["agree_overall"] == "Overall grade: Good"
    assert all(e.get("value") == "agree" for e in nodes(card) if e.get("type") == "Input.ChoiceSet")
    assert card["actions"][0]["data"] == {"action": "moderate_audit", "audit_id": audit.id}


def _inputs(card: Any) -> dict[str, Any]:
    return {
        e["id"]: e.get("value") for e in nodes(card) if str(e.get("type", "")).startswith("Input.")
    }
