"""Moderation on a real database: the monthly sample job (run keys, the stored seed, the cards to
moderators, `qaloop run-job`) and blind moderation over HTTP: the moderator's own grades before
the auditor's are shown, then the agreed grades; the wrong person at each step."""

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
from cards.moderation import agree_grades_card, moderation_card
from jobs.runs import JobDeps, run_job
from jobs.scheduler import scheduled_at
from storage import moderation
from storage.conversations import save_reference
from storage.db import SessionMaker, transaction
from storage.models import Audit, JobRun, Moderation, ModerationGrade, ModerationSample
from tests.chat import ALEX, DIEGO, PATTI, Chat, buttons, card_text, inputs, nodes, press
from tests.helpers import (
    NOW,
    TODAY,
    AuditCouncil,
    Clock,
    add_assigned_audit,
    audit_council,
    audit_row,
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


# The moderator's cards: their own grades blind, then the grades agreed


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


# Patti's own view of Alex's audit: a grade kinder on oversight (Alex: inadequate) and harsher
# overall (Alex: good).
PATTI_GRADES = {
    "heart": "good",
    "assessment": "good",
    "plans": "requires_improvement",
    "records": "good",
    "oversight": "requires_improvement",
    "strengths": "outstanding",
    "overall": "requires_improvement",
}
ALEX_GRADES = {**{k.removeprefix("grade_"): v for k, v in GRADES.items()}, "overall": "good"}


def own_grades(audit_id: int, grades: dict[str, str] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"action": "moderate_audit", "audit_id": audit_id}
    return data | {f"grade_{k}": v for k, v in (grades or PATTI_GRADES).items()}


def agreed(audit_id: int, grades: dict[str, str], comment: str = "") -> dict[str, Any]:
    data: dict[str, Any] = {"action": "agree_grades", "audit_id": audit_id, "comment": comment}
    return data | {f"agreed_{k}": v for k, v in grades.items()}


async def grade_rows(sessions: SessionMaker) -> list[ModerationGrade]:
    async with sessions() as session:
        rows = await session.exec(select(ModerationGrade).order_by(col(ModerationGrade.id)))
        return list(rows.all())


def grade_words(card: dict[str, Any]) -> str:
    """The card's visible text and input labels and values: all but the grades on offer."""
    found = [card_text(card)]
    for e in nodes(card):
        if str(e.get("type", "")).startswith("Input."):
            found += [str(e.get("label", "")), str(e.get("value", ""))]
    return "\n".join(found)


async def test_the_request_keeps_the_auditor_s_grades_from_the_moderator(
    sessions: SessionMaker, settings: Settings
) -> None:
    council = await audit_council(sessions)
    await november(sessions, council)
    await give_chats(sessions, council, "patti")
    await run_job(JOB, sessions=sessions, settings=settings, now=FIRST_OF_DECEMBER)

    cards = await queued(sessions, "moderation_request")

    assert len(cards) == 3
    for card in (c.card for c in cards):
        shown = grade_words(card)
        assert "Grade it yourself from the case record first." in shown
        for grade in ("Outstanding", "Good", "Requires improvement", "Inadequate"):
            assert grade not in shown
        assert "Oversight gap" not in shown  # the limiting reason says which way Alex went
        fields = inputs(card)
        assert set(fields) == {f"grade_{k}" for k in ALEX_GRADES}
        assert all(f.get("value") is None and f["isRequired"] for f in fields.values())
        assert [b["title"] for b in buttons(card)] == ["Send my grades"]


async def test_patti_grades_blind_then_sees_both_and_records_the_agreed_grades(
    chat: Chat, sessions: SessionMaker, clock: Clock
) -> None:
    council = await audit_council(sessions)
    audit = await sent_for_moderation(sessions, council)
    assert audit.id is not None
    await everyone_says_hello(chat)
    patti = chat.person(PATTI)

    mine = await patti.presses(own_grades(audit.id))

    assert mine.error is None and mine.card is not None
    text = mine.text
    assert "Agree the grades" in text
    assert "Your grades matched the auditor's on 5 of 7." in text
    assert "Regular management oversight: auditor Inadequate · you Requires improvement ≠" in text
    assert "Overall grade: auditor Good · you Requires improvement ≠" in text
    assert "Strengths-based approach: auditor Outstanding · you Outstanding ✓" in text
    # Now, and not before, the auditor's reasoning.
    assert "Oversight gap was [one](https://x.test) supervision" in text
    values = {k: f.get("value") for k, f in inputs(mine.card).items()}
    assert values["agreed_heart"] == "good" and values["agreed_strengths"] == "outstanding"
    assert values["agreed_oversight"] is None and values["agreed_overall"] is None
    rows = await grade_rows(sessions)
    assert {r.judgement: (r.auditor_grade, r.moderator_grade, r.agreed_grade) for r in rows} == {
        k: (ALEX_GRADES[k], PATTI_GRADES[k], None) for k in ALEX_GRADES
    }
    [graded] = await logged(sessions, "moderation.graded")
    assert graded.actor_id == council.id("patti") and graded.after["grades"] == PATTI_GRADES
    [row] = await moderations(sessions)
    assert row.decided_at is None
    clock.now = NOW + timedelta(minutes=20)

    settled = {**PATTI_GRADES, "oversight": "inadequate"}
    comment = "Overall [requires improvement](https://x.test): plans drift"
    done = await patti.presses(agreed(audit.id, settled, comment))

    text = done.text
    assert "Moderated ✓" in text
    assert "By Patti Fernandez, today at 10:22: the moderator's own grades matched" in text
    assert "on 5 of 7 grades." in text
    assert (
        "Regular management oversight: auditor Inadequate · moderator Requires improvement"
        " · agreed Inadequate ≠"
    ) in text
    assert comment in text and "I've told Alex Wilber." in text
    rows = await grade_rows(sessions)
    assert {r.judgement: r.agreed_grade for r in rows} == settled
    [row] = await moderations(sessions)
    assert row.decided_at == NOW + timedelta(minutes=20) and row.comment == comment
    assert row.agreement == {k: ALEX_GRADES[k] == PATTI_GRADES[k] for k in ALEX_GRADES}
    stored = await audit_row(sessions, audit.id)
    assert stored.state == "moderated"
    [changed] = await logged(sessions, "audit.moderated")
    assert changed.before == {"state": "completed"} and changed.after == {"state": "moderated"}
    [decided] = await logged(sessions, "moderation.decided")
    assert decided.actor_id == council.id("patti") and decided.after["agreed"] == settled
    [outcome] = await queued(sessions, "moderation_outcome")
    assert outcome.recipient_staff_id == council.id("alex")
    assert outcome.summary == "One of your audits has been moderated"
    told = card_text(outcome.card)
    assert "Overall grade: auditor Good · moderator Requires improvement · agreed" in told


async def test_the_agreed_grades_wait_for_the_moderator_s_own(
    chat: Chat, sessions: SessionMaker
) -> None:
    """A forged or early press of "Record agreed grades" changes nothing: the moderator's
    own grades come first, or they would not be blind."""
    council = await audit_council(sessions)
    audit = await sent_for_moderation(sessions, council)
    assert audit.id is not None

    early = await chat.person(PATTI).presses(agreed(audit.id, ALEX_GRADES))

    assert early.error == (
        "Please send your own grades first: you'll see the auditor's once you have. "
        "Nothing was changed."
    )
    assert await grade_rows(sessions) == []
    assert (await moderations(sessions))[0].decided_at is None
    [refusal] = await logged(sessions, "refused.agree_grades")
    assert refusal.after == {"reason": "not_graded"}


async def test_own_grades_stand_once_sent(chat: Chat, sessions: SessionMaker) -> None:
    council = await audit_council(sessions)
    audit = await sent_for_moderation(sessions, council)
    assert audit.id is not None
    patti = chat.person(PATTI)
    await patti.presses(own_grades(audit.id))

    again = await patti.presses(own_grades(audit.id, ALEX_GRADES))

    assert "You've sent your grades already; here they are beside the auditor's." in again.text
    assert "you Requires improvement ≠" in again.text
    assert {r.judgement: r.moderator_grade for r in await grade_rows(sessions)} == PATTI_GRADES
    assert len(await logged(sessions, "moderation.graded")) == 1
    [refusal] = await logged(sessions, "refused.moderate_audit")
    assert refusal.after == {"reason": "already_graded"}


async def test_an_agreed_grade_other_than_the_auditor_s_needs_a_comment(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await audit_council(sessions)
    audit = await sent_for_moderation(sessions, council)
    assert audit.id is not None
    patti = chat.person(PATTI)
    await patti.presses(own_grades(audit.id))

    pressed = await patti.presses(agreed(audit.id, PATTI_GRADES))

    assert pressed.error is None
    assert "Please say in the comment why an agreed grade differs from the auditor's." in (
        pressed.text
    )
    assert pressed.card is not None
    values = {k: f.get("value") for k, f in inputs(pressed.card).items()}
    assert values["agreed_oversight"] == "requires_improvement"
    assert {r.agreed_grade for r in await grade_rows(sessions)} == {None}
    assert (await moderations(sessions))[0].decided_at is None
    [refusal] = await logged(sessions, "refused.agree_grades")
    assert refusal.after == {"reason": "comment_needed"}
    # The auditor's grades agreed throughout need no comment.
    done = await patti.presses(agreed(audit.id, ALEX_GRADES))
    assert "Moderated ✓" in done.text


async def test_a_second_press_says_already_moderated_and_changes_nothing(
    chat: Chat, sessions: SessionMaker, clock: Clock
) -> None:
    council = await audit_council(sessions)
    audit = await sent_for_moderation(sessions, council)
    assert audit.id is not None
    patti = chat.person(PATTI)
    await patti.presses(own_grades(audit.id, ALEX_GRADES))
    await patti.presses(agreed(audit.id, ALEX_GRADES))
    clock.now = NOW + timedelta(hours=1)

    again = await patti.presses(agreed(audit.id, PATTI_GRADES, "Changed my mind"))
    regraded = await patti.presses(own_grades(audit.id))

    for pressed in (again, regraded):
        assert "Already moderated. Nothing was changed." in pressed.text
        assert "matched the auditor's on 7 of 7 grades" in pressed.text
    [row] = await moderations(sessions)
    assert row.decided_at == NOW and row.comment is None
    assert {r.agreed_grade for r in await grade_rows(sessions)} == set(ALEX_GRADES.values())
    assert len(await logged(sessions, "moderation.decided")) == 1


async def test_only_the_moderator_it_was_sent_to_may_press_either_button(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await audit_council(sessions)
    audit = await sent_for_moderation(sessions, council)
    assert audit.id is not None
    message = "Only the moderator this audit was sent to can moderate it."

    # Alex is the auditor; Diego another auditor.
    for who in (ALEX, DIEGO):
        pressed = await chat.person(who).presses(own_grades(audit.id))
        assert pressed.error == message
    assert await grade_rows(sessions) == []
    await chat.person(PATTI).presses(own_grades(audit.id))
    for who in (ALEX, DIEGO):
        pressed = await chat.person(who).presses(agreed(audit.id, ALEX_GRADES))
        assert pressed.error == message

    assert {r.agreed_grade for r in await grade_rows(sessions)} == {None}
    assert {r.moderator_grade for r in await grade_rows(sessions)} == set(PATTI_GRADES.values())
    [row] = await moderations(sessions)
    assert row.decided_at is None
    assert (await audit_row(sessions, audit.id)).state == "completed"
    people = [council.id("alex"), council.id("diego")]
    for verb in ("moderate_audit", "agree_grades"):
        denials = await logged(sessions, f"denied.{verb}")
        assert [d.actor_id for d in denials] == people
        assert all(d.after == {"reason": "not_moderator"} for d in denials)


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

    pressed = await press(chat, own_grades(audit.id), who=PATTI)
    unknown = await press(chat, own_grades(audit.id + 100), who=PATTI)

    assert pressed.error == "This audit is cancelled now, so it can't be moderated."
    assert unknown.error == (
        "This audit isn't in a moderation sample, so there is nothing to moderate."
    )
    assert (await moderations(sessions))[0].decided_at is None
    assert await grade_rows(sessions) == []


async def test_a_malformed_moderation_is_refused(chat: Chat, sessions: SessionMaker) -> None:
    council = await audit_council(sessions)
    audit = await sent_for_moderation(sessions, council)
    assert audit.id is not None

    pressed = await press(chat, own_grades(audit.id) | {"grade_heart": "maybe"}, who=PATTI)
    # A card from before moderation was blind: agree / disagree, no grades.
    old = {"action": "moderate_audit", "audit_id": audit.id, "agree_heart": "agree"}
    older = await press(chat, old, who=PATTI)

    for refused in (pressed, older):
        assert refused.error == (
            "Please choose a grade for each standard and overall. Nothing was changed."
        )
    assert await grade_rows(sessions) == []
    assert len(await logged(sessions, "refused.bad_payload")) == 2


async def test_the_agree_card_shows_the_limiting_reason_literally(sessions: SessionMaker) -> None:
    council = await audit_council(sessions)
    audit = await sent_for_moderation(sessions, council)
    assert audit.id is not None
    async with sessions() as session:
        shown = (
            await moderation.audits_to_moderate(
                session=session, tenant_id=council.tenant_id, audit_ids=[audit.id], zone=LONDON
            )
        )[audit.id]

    blind = card_json(moderation_card(shown, today=TODAY))
    both = card_json(agree_grades_card(shown, PATTI_GRADES, today=TODAY))

    for card in (blind, both):
        assert "C-20001 · Collaborative audit" in card_text(card)
        assert "Audited by Alex Wilber, completed Fri 20 Nov" in card_text(card)
    assert "Oversight gap" not in grade_words(blind)
    assert "Oversight gap was [one](https://x.test) supervision" in card_text(both)
    assert blind["actions"][0]["data"] == {"action": "moderate_audit", "audit_id": audit.id}
    assert both["actions"][0]["data"] == {"action": "agree_grades", "audit_id": audit.id}
