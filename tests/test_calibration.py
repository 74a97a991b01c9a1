"""Calibration over HTTP on a fixed clock (Thu 26 Nov 2026 10:02): QA's `calibration` report, for QA
only; `calibration exercise` sent to every auditor and graded from their cards (the wrong person
refused); and every figure checked against a plain SQL count over generated moderations, on SQLite
and PostgreSQL."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select

from bot.rules.calibration import LOOKBACK_MONTHS, agreement
from bot.rules.digest import local_start
from bot.rules.grades import GRADE_LABELS, JUDGEMENTS, STANDARD_LABELS, Grade, Standard
from bot.rules.reaudit import months_on
from storage import calibration as store
from storage.db import SessionMaker, transaction
from storage.models import (
    Audit,
    CalibrationExercise,
    CalibrationResponse,
    Moderation,
    ModerationGrade,
)
from tests.chat import ALEX, DIEGO, JONI, MEGAN, PATTI, TENANT, Chat, card_text
from tests.helpers import (
    NOW,
    TODAY,
    AuditCouncil,
    audit_council,
    everyone_says_hello,
    logged,
    queued,
    rows,
)
from tests.test_figures import LONDON, count

pytestmark = pytest.mark.clock(NOW)  # Thu 26 Nov 2026, 10:02 in London

TENANT_B = "00000000-0000-0000-0000-00000000000b"
GRADES = [g.value for g in Grade]
SINCE = local_start(months_on(TODAY, -LOOKBACK_MONTHS), LONDON)  # 26 Nov 2025, 00:00 London


# --- generated moderations -----------------------------------------------------------------------


async def generated_moderations(
    sessions: SessionMaker, council: AuditCouncil, *, seed: int, audits: int = 70
) -> None:
    """Blind moderations of Alex's, Diego's and Joni's audits (Joni's few), with the awkward
    ones: decided at the window's first instant and just before it, not yet decided, a standard
    the auditor left ungraded; grades that agree more often than not."""
    rng = random.Random(seed)
    decided_at: list[datetime | None] = [SINCE, SINCE - timedelta(seconds=1), None]
    decided_at += [NOW - timedelta(days=rng.randint(0, 420)) for _ in range(audits - 3)]
    async with transaction(sessions) as session:
        for n, when in enumerate(decided_at):
            auditor = "joni" if n % 12 == 5 else rng.choice(["alex", "diego"])
            team = rng.choice(["North", "South", "East"])
            case = council.cases[team][n % len(council.cases[team])]
            audit = Audit(
                tenant_id=council.tenant_id,
                case_id=case.id or 0,
                team_id=council.teams[team].id or 0,
                auditor_id=council.id(auditor),
                practitioner_id=case.worker_id,
                due_on=date(2025, 6, 1),
                state="moderated" if when else "completed",
                kind="collaborative",
                completed_at=(when or NOW) - timedelta(days=3),
            )
            session.add(audit)
            await session.flush()
            moderation = Moderation(
                tenant_id=council.tenant_id,
                audit_id=audit.id or 0,
                moderator_id=council.id("patti"),
                month="2026-01",
                decided_at=when,
                agreement={} if when else None,
            )
            session.add(moderation)
            await session.flush()
            for key in JUDGEMENTS:
                theirs = None if rng.random() < 0.05 else rng.choice(GRADES)
                near = theirs or "good"
                step = rng.choice([0, 0, 0, -1, 1, 2])
                mine = GRADES[min(3, max(0, GRADES.index(near) + step))]
                session.add(
                    ModerationGrade(
                        tenant_id=council.tenant_id,
                        moderation_id=moderation.id or 0,
                        judgement=key,
                        auditor_grade=theirs,
                        moderator_grade=mine,
                        agreed_grade=mine if when else None,
                    )
                )


RANK = (
    "CASE {0} WHEN 'outstanding' THEN 0 WHEN 'good' THEN 1 "
    "WHEN 'requires_improvement' THEN 2 WHEN 'inadequate' THEN 3 END"
)
A, M = RANK.format("g.auditor_grade"), RANK.format("g.moderator_grade")
CONDITIONS = {
    "pairs": "1 = 1",
    "exact": "g.auditor_grade = g.moderator_grade",
    "within_one": f"{A} - {M} BETWEEN -1 AND 1",
    "better": f"{A} < {M}",
    "worse": f"{A} > {M}",
}


async def plain(sessions: SessionMaker, where: str, condition: str, **params: Any) -> int:
    async with sessions() as session:
        return await count(
            session,
            "SELECT count(*) FROM moderationgrade g "
            "JOIN moderation m ON m.id = g.moderation_id AND m.tenant_id = :tenant "
            "JOIN audit a ON a.id = m.audit_id AND a.tenant_id = :tenant "
            "WHERE g.tenant_id = :tenant AND m.decided_at >= :since "
            f"AND g.auditor_grade IS NOT NULL AND {where} AND {condition}",
            tenant=TENANT,
            since=SINCE,
            **params,
        )


async def test_every_figure_equals_a_plain_sql_count(sessions: SessionMaker) -> None:
    council = await audit_council(sessions)
    other = await audit_council(sessions, tenant_id=TENANT_B)
    await generated_moderations(sessions, council, seed=5)
    await generated_moderations(sessions, other, seed=6)
    async with sessions() as session:
        found = await store.pairs(session=session, tenant_id=TENANT, since=SINCE)
    by_auditor: dict[int, list[tuple[str, str]]] = defaultdict(list)
    by_judgement: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for pair in found:
        by_auditor[pair.auditor_id].append((pair.auditor_grade, pair.moderator_grade))
        by_judgement[pair.judgement].append((pair.auditor_grade, pair.moderator_grade))

    assert set(by_auditor) == {council.id(k) for k in ("alex", "diego", "joni")}
    assert set(by_judgement) == set(JUDGEMENTS)
    for auditor_id, pairs in by_auditor.items():
        figure = agreement(pairs)
        for name, condition in CONDITIONS.items():
            expected = await plain(sessions, "a.auditor_id = :who", condition, who=auditor_id)
            assert getattr(figure, name) == expected, (auditor_id, name)
    for key, pairs in by_judgement.items():
        figure = agreement(pairs)
        for name, condition in CONDITIONS.items():
            expected = await plain(sessions, "g.judgement = :key", condition, key=key)
            assert getattr(figure, name) == expected, (key, name)
    # The first instant of the window counts; the second before it, and the undecided, do not.
    assert len(found) == await plain(sessions, "1 = 1", "1 = 1")
    assert 0 < len(found) < 70 * len(JUDGEMENTS)


async def test_qa_sees_the_figures_and_the_flags_over_http(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await audit_council(sessions)
    await generated_moderations(sessions, council, seed=5)

    answer = await chat.person(PATTI).says("calibration")

    text = answer.text
    assert "Calibration" in text and "since Wed 26 Nov 2025" in text
    for key in ("alex", "diego", "joni"):
        pairs = await plain(sessions, "a.auditor_id = :who", "1 = 1", who=council.id(key))
        exact = await plain(
            sessions, "a.auditor_id = :who", CONDITIONS["exact"], who=council.id(key)
        )
        name = council.staff[key].display_name
        line = next(x for x in text.splitlines() if name in x)
        assert f"{pairs} pairs, {100 * exact / pairs:.0f}% exact" in line
        flagged = pairs >= 10 and 100 * exact / pairs < 80
        assert line.startswith("⚑") == flagged
    assert "Regular management oversight:" in text and "Overall grade:" in text
    # Joni's handful of pairs is never flagged, whatever the agreement.
    assert not next(x for x in text.splitlines() if "Joni Sherman" in x).startswith("⚑")


async def test_the_report_is_for_qa_only(chat: Chat, sessions: SessionMaker) -> None:
    await audit_council(sessions)

    for who in (ALEX, MEGAN, JONI):
        for typed in ("calibration", "calibration exercise A child seen at home"):
            answer = await chat.person(who).says(typed)
            said = typed.split(" A ")[0]
            assert f"“{said}” is not available for your role." in answer.text
    assert await rows(sessions, CalibrationExercise) == []


# --- the calibration exercise -------------------------------------------------------------------

SUMMARY = (
    "Boy, 9, on a child protection plan for neglect. Visits every 10 working days; last two "
    "missed. Plan has no dates. Supervision notes copy the plan. The child's views are recorded."
)


def grades(**changed: str) -> dict[str, str]:
    return {s.value: "good" for s in Standard} | changed


def grade_it(exercise_id: int, chosen: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = {"action": "grade_calibration", "exercise_id": exercise_id}
    return data | {f"grade_{k}": v for k, v in chosen.items()}


async def test_qa_sends_an_exercise_every_auditor_grades_and_qa_sees_the_spread(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await audit_council(sessions)
    await everyone_says_hello(chat)
    patti = chat.person(PATTI)

    sent = await patti.says(f"calibration exercise {SUMMARY}")

    assert "Sent to 3 auditors." in sent.text
    [exercise] = await rows(sessions, CalibrationExercise)
    assert exercise.summary == SUMMARY and exercise.created_by == council.id("patti")
    cards = await queued(sessions, "calibration_request")
    # Every auditor but Patti herself, who wrote it.
    assert sorted(c.recipient_staff_id for c in cards) == sorted(
        council.id(k) for k in ("alex", "diego", "joni")
    )
    assert {c.summary for c in cards} == {"A calibration exercise to grade"}
    assert SUMMARY in card_text(cards[0].card)
    [log] = await logged(sessions, "calibration.sent")
    assert log.actor_id == council.id("patti")
    assert exercise.id is not None

    alex = await chat.person(ALEX).presses(grade_it(exercise.id, grades(plans="inadequate")))
    diego = await chat.person(DIEGO).presses(
        grade_it(exercise.id, grades(plans="requires_improvement"))
    )

    assert "Thank you." in alex.text and "Plans are good quality and SMART: Inadequate" in alex.text
    assert diego.error is None
    spread = await patti.says("calibration")
    text = spread.text
    assert "Sent today: 2 of 3 auditors have graded it." in text
    assert (
        "Plans are good quality and SMART: Outstanding 0, Good 0, Requires improvement 1, "
        "Inadequate 1"
    ) in text
    assert "Every child has an assessment: Outstanding 0, Good 2" in text
    async with sessions() as session:
        for standard in Standard:
            for grade in GRADES:
                expected = await count(
                    session,
                    f"SELECT count(*) FROM calibrationresponse WHERE tenant_id = :tenant "
                    f"AND exercise_id = :exercise AND grade_{standard.value} = :grade",
                    tenant=TENANT,
                    exercise=exercise.id,
                    grade=grade,
                )
                label = GRADE_LABELS[Grade(grade)]
                line = next(
                    x for x in text.splitlines() if x.startswith(STANDARD_LABELS[standard] + ":")
                )
                assert f"{label} {expected}" in line


async def test_only_an_auditor_it_was_sent_to_grades_it_and_only_once(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await audit_council(sessions)
    await everyone_says_hello(chat)
    await chat.person(PATTI).says(f"calibration exercise {SUMMARY}")
    [exercise] = await rows(sessions, CalibrationExercise)
    assert exercise.id is not None

    # Megan audits nothing; Patti wrote it, so it was not sent to her.
    megan = await chat.person(MEGAN).presses(grade_it(exercise.id, grades()))
    patti = await chat.person(PATTI).presses(grade_it(exercise.id, grades()))
    await chat.person(ALEX).presses(grade_it(exercise.id, grades()))
    again = await chat.person(ALEX).presses(grade_it(exercise.id, grades(heart="inadequate")))
    nowhere = await chat.person(ALEX).presses(grade_it(exercise.id + 50, grades()))

    message = "This calibration exercise wasn't sent to you, so there's nothing to grade."
    assert megan.error == message and patti.error == message
    assert "Already sent. Nothing was changed." in again.text
    assert "Children and families at the heart of everything we do: Good" in again.text
    assert nowhere.error == "I can't find that calibration exercise."
    responses = await rows(sessions, CalibrationResponse)
    assert len(responses) == 3
    graded = [r for r in responses if r.graded_at is not None]
    assert [r.auditor_id for r in graded] == [council.id("alex")]
    assert graded[0].grade_heart == "good"
    denials = await logged(sessions, "denied.grade_calibration")
    assert [d.actor_id for d in denials] == [council.id("megan"), council.id("patti")]
    assert len(await logged(sessions, "calibration.graded")) == 1
    assert [r.after for r in await logged(sessions, "refused.grade_calibration")] == [
        {"reason": "already_graded"},
        {"reason": "not_found"},
    ]


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        (
            "calibration exercise Seen at home, see C-10001 for the plan.",
            "looks like a case reference (C-10001)",
        ),
        (
            "calibration exercise Referred by school in 2025; c-20002 open since.",
            "looks like a case reference (2025, C-20002)",
        ),
        ("calibration exercise " + "x" * 2001, "That summary is over 2,000 characters."),
    ],
)
async def test_a_summary_that_could_name_a_case_is_refused_and_nothing_sent(
    chat: Chat, sessions: SessionMaker, typed: str, said: str
) -> None:
    await audit_council(sessions)
    await everyone_says_hello(chat)

    answer = await chat.person(PATTI).says(typed)

    assert said in answer.text
    assert await rows(sessions, CalibrationExercise) == []
    assert await rows(sessions, CalibrationResponse) == []
    assert await queued(sessions, "calibration_request") == []
    assert len(await logged(sessions, "refused.calibration_exercise")) == 1


async def test_an_empty_exercise_says_how(chat: Chat, sessions: SessionMaker) -> None:
    await audit_council(sessions)

    answer = await chat.person(PATTI).says("calibration exercise")

    assert "a short anonymised summary of one case's evidence" in answer.text
    async with sessions() as session:
        assert (await session.exec(select(CalibrationExercise))).all() == []
