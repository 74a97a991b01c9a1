"""`calibration`, `calibration exercise` and an auditor's grades for the exercise.

The report names auditors, so it is QA's alone and goes to the asker's personal chat. The
exercise's summary goes to every auditor, so it must name no case: a word the tenant's
case-reference pattern matches is refused. Only an auditor the exercise was sent to may grade it,
once; anyone else pressing is refused and the refusal logged.
"""

from __future__ import annotations

from collections import defaultdict
from typing import ClassVar

from bot.payloads import TEXT_LIMIT, Id, Payload
from bot.rules.calibration import LOOKBACK_MONTHS, agreement, flagged
from bot.rules.cases import case_ref_words
from bot.rules.digest import local_start
from bot.rules.grades import Grade, Standard
from bot.rules.reaudit import months_on
from bot.services import flows, notify
from bot.turn import Reply, Request
from cards.calibration import (
    AgreementLine,
    CalibrationReport,
    ExerciseSpread,
    calibration_graded_card,
    calibration_report_card,
    calibration_request_card,
    calibration_request_summary,
    calibration_sent_card,
    calibration_summary,
)
from cards.names import CardKind, CardVerb
from cards.notices import usage_card
from storage import actions, reminders, staff
from storage import calibration as store

HOW = (
    "Type “calibration exercise” and then a short anonymised summary of one case's evidence: "
    "no names and no case reference. Every auditor gets it to grade."
)
TOO_LONG = f"That summary is over {TEXT_LIMIT:,} characters. Please shorten it."
NO_AUDITORS = "There's no auditor I can reach yet, so nothing was sent."
NOT_SENT_TO_YOU = "This calibration exercise wasn't sent to you, so there's nothing to grade."
NOT_FOUND = "I can't find that calibration exercise."
_CHOOSE = "Please choose a grade for each standard."


def case_ref_problem(refs: list[str]) -> str:
    return (
        f"That summary has something that looks like a case reference ({', '.join(refs[:3])}). "
        "It goes to every auditor, so please take it out (write dates as words, too). "
        "Nothing was sent."
    )


async def show_calibration(request: Request) -> Reply:
    session, tenant_id, today = request.session, request.tenant_id, request.today
    settings = request.settings
    zone = await actions.display_zone(session=session, tenant_id=tenant_id)
    since = months_on(today, -LOOKBACK_MONTHS)
    found = await store.pairs(session=session, tenant_id=tenant_id, since=local_start(since, zone))
    by_auditor: dict[int, list[tuple[str, str]]] = defaultdict(list)
    by_standard: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for pair in found:
        by_auditor[pair.auditor_id].append((pair.auditor_grade, pair.moderator_grade))
        by_standard[pair.judgement].append((pair.auditor_grade, pair.moderator_grade))
    limits = {
        "min_pairs": settings.calibration_min_pairs,
        "below_percent": settings.calibration_agreement_percent,
    }

    def line(name: str, pairs: list[tuple[str, str]]) -> AgreementLine:
        figure = agreement(pairs)
        return AgreementLine(name, figure, flagged(figure, **limits))

    names = await staff.names(session=session, tenant_id=tenant_id, ids=set(by_auditor))
    latest = await store.latest_exercise(session=session, tenant_id=tenant_id)
    exercise = None
    if latest is not None and latest.id is not None:
        spread = await store.spread(session=session, tenant_id=tenant_id, exercise_id=latest.id)
        exercise = ExerciseSpread(
            sent_on=latest.created_at.astimezone(zone).date(),
            sent=spread.sent,
            graded=spread.graded,
            counts=spread.counts,
        )
    report = CalibrationReport(
        since=since,
        by_auditor=sorted((line(names[a], p) for a, p in by_auditor.items()), key=lambda x: x.name),
        by_standard=[line(key, p) for key, p in by_standard.items()],
        exercise=exercise,
        **limits,
    )
    card = calibration_report_card(report, today=today)
    return Reply(card=card, summary=calibration_summary(), private=True)


async def send_exercise(request: Request) -> Reply:
    session, tenant_id = request.session, request.tenant_id
    summary = request.raw_args.strip()
    problem = None
    if not summary:
        return Reply(card=usage_card(HOW), summary="How to send a calibration exercise")
    if len(summary) > TEXT_LIMIT:
        problem = ("too_long", TOO_LONG)
    elif refs := case_ref_words(summary, request.settings.case_ref_pattern):
        problem = ("case_reference", case_ref_problem(refs))
    if problem is not None:
        reason, message = problem
        flows.log_refusal(request, "calibration_exercise", None, reason, entity="calibration")
        return flows.error_reply(message)
    me = flows.me(request)
    everyone = [
        a
        for a in await store.auditors(session=session, tenant_id=tenant_id)
        if a.id is not None and a.id != me
    ]
    chats = await reminders.personal_chats(session=session, tenant_id=tenant_id)
    reached = [a for a in everyone if a.id in chats]
    if not reached:
        flows.log_refusal(
            request, "calibration_exercise", None, "no_auditors", entity="calibration"
        )
        return flows.error_reply(NO_AUDITORS)
    exercise = await store.create_exercise(
        session,
        tenant_id=tenant_id,
        summary=summary,
        created_by=me,
        auditor_ids=[a.id for a in reached if a.id is not None],
        now=request.now,
    )
    assert exercise.id is not None
    for auditor in reached:
        await notify.tell(
            session,
            tenant_id=tenant_id,
            person=auditor,
            kind=CardKind.CALIBRATION_REQUEST,
            key=f"{CardKind.CALIBRATION_REQUEST}:{exercise.id}:{auditor.id}",
            summary=calibration_request_summary(),
            card=calibration_request_card(exercise_id=exercise.id, summary=summary),
        )
    card = calibration_sent_card(sent=len(reached), unreached=len(everyone) - len(reached))
    return Reply(card=card, summary="Calibration exercise sent")


class GradeCalibration(Payload):
    exercise_id: Id
    grade_heart: Grade
    grade_assessment: Grade
    grade_plans: Grade
    grade_records: Grade
    grade_oversight: Grade
    grade_strengths: Grade
    problems: ClassVar[dict[str, str]] = {f"grade_{s.value}": _CHOOSE for s in Standard}

    def grades(self) -> dict[str, str]:
        return {s.value: Grade(getattr(self, f"grade_{s.value}")).value for s in Standard}


async def on_grade(request: Request, payload: GradeCalibration) -> Reply:
    verb, exercise_id = CardVerb.GRADE_CALIBRATION, payload.exercise_id
    session, tenant_id = request.session, request.tenant_id
    me = flows.me(request)

    def refuse(reason: str, message: str, *, denied: bool = False) -> Reply:
        flows.log_refusal(
            request, verb, exercise_id, reason, denied=denied, entity="calibration_exercise"
        )
        return flows.error_reply(message)

    exercise = await store.exercise_of(
        session=session, tenant_id=tenant_id, exercise_id=exercise_id
    )
    if exercise is None:
        return refuse("not_found", NOT_FOUND)
    response = await store.response_of(
        session=session, tenant_id=tenant_id, exercise_id=exercise_id, auditor_id=me
    )
    if response is None:
        return refuse("not_sent_to_them", NOT_SENT_TO_YOU, denied=True)
    if response.graded_at is not None:
        flows.log_refusal(
            request, verb, exercise_id, "already_graded", entity="calibration_exercise"
        )
        notice = "Already sent. Nothing was changed."
        mine = {s.value: getattr(response, f"grade_{s.value}") for s in Standard}
        card = calibration_graded_card(summary=exercise.summary, grades=mine, notice=notice)
        return Reply(card=card, summary=notice)
    grades = payload.grades()
    store.record_grades(session, response, grades=grades, actor_id=me, now=request.now)
    notice = "Thank you. QA will go through everyone's grades together."
    card = calibration_graded_card(summary=exercise.summary, grades=grades, notice=notice)
    return Reply(card=card, summary="Calibration grades sent")
