"""An audit from assignment to feedback in the real client: three people, three playgrounds.

Patti (QA and auditor) grades an audit of Alex's case, meets the limiting-judgement rule, fixes the
overall grade, agrees a SMART action and completes the audit; Alex, the practitioner, gets the
feedback form and sends it; Isaiah, the Head of Service, gets the inadequate alert.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from bot.rules.grades import STANDARD_LABELS, Standard
from bot.rules.workdays import add_working_days
from bot.services.allocation import NewAudit, create_audit
from storage.db import make_engine, make_sessions, transaction
from storage.models import Audit, Case, FeedbackVersion, Staff
from tests.e2e.harness import drive, missing_prerequisites, playground
from tests.e2e.playground_config import write_config
from tests.test_e2e_playground import LONDON, _last_working_day, served_demo

pytestmark = pytest.mark.e2e

_missing = missing_prerequisites()
if _missing:
    pytest.skip(f"Agents Playground test skipped: {_missing}", allow_module_level=True)

WAIT_FOR_PATTI = 240_000  # ms: Alex and Isaiah wait while Patti grades
WEAK = Standard.RECORDS


RISK = "Risk identified: the child needs a visit by their social worker"
# Alex gets the feedback form and the child-visit card at once: say which each step is on.
FEEDBACK = "How did your audit feel?"


def _grades(overall: str) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = [
        {
            "choose": "Inadequate" if standard == WEAK else "Good",
            "field": STANDARD_LABELS[standard],
            "in": "Practice standards",
        }
        for standard in Standard
    ]
    return [*steps, {"choose": overall, "field": "Overall grade", "in": "Practice standards"}]


async def test_an_inadequate_audit_goes_from_grades_to_feedback_and_the_heads_alert(
    tmp_path: Path,
) -> None:
    day = _last_working_day(date.today())
    morning = datetime.combine(day, time(8, 0), tzinfo=LONDON)
    action_due = add_working_days(day, 5)
    async with served_demo(tmp_path, today=day, clock=lambda: morning) as (endpoint, url):
        engine = make_engine(url)
        sessions = make_sessions(engine)
        ready = {"alex": asyncio.Event(), "isaiah": asyncio.Event()}
        made: dict[str, Any] = {}

        async def assign(label: str) -> None:
            """Once Alex and Isaiah have their chats open, QA gives Patti an audit of Alex's."""
            await asyncio.wait_for(asyncio.gather(*(e.wait() for e in ready.values())), 120)
            async with transaction(sessions) as session:
                people = {
                    s.email: s
                    for s in (await session.exec(select(Staff))).all()
                    if s.email in ("pattif@example.com", "alexw@example.com")
                }
                patti, alex = people["pattif@example.com"], people["alexw@example.com"]
                audited = select(Audit.case_id).where(
                    col(Audit.state).in_(("assigned", "in_progress"))
                )
                case = (
                    await session.exec(
                        select(Case)
                        .where(Case.worker_id == alex.id, col(Case.id).not_in(audited))
                        .order_by(col(Case.id))
                    )
                ).first()
                assert case is not None and case.id is not None
                audit, _told = await create_audit(
                    session,
                    tenant_id=case.tenant_id,
                    new=NewAudit(case.id, case.case_ref, "thematic", "Records", patti, day),
                    actor_id=None,
                    today=day,
                    now=morning,
                )
                made["audit_id"] = audit.id

        def ready_for(name: str) -> Callable[[str], Awaitable[None]]:
            async def mark(label: str) -> None:
                ready[name].set()

            return mark

        patti: list[dict[str, Any]] = [
            {"say": "help"},
            {"waitForCardText": "What I can do for you"},
            {"pause": "assign"},
            {"waitForCardText": "An audit for you", "timeout": 30_000},
            {"click": "Record grades", "in": "An audit for you"},
            {"waitForCardText": "Practice standards"},
            *_grades("Good"),
            {"choose": RISK, "in": "Practice standards"},
            {"click": "Save grades", "in": "Practice standards"},
            {"waitForCardText": "So the overall grade is Inadequate"},
            {"choose": "Inadequate", "field": "Overall grade", "in": "Practice standards"},
            {"click": "Save grades", "in": "Practice standards"},
            {"waitForCardText": "Draft action: " + STANDARD_LABELS[WEAK]},
            {
                "fill": "Bring the case recordings up to date and add a chronology",
                "field": "What will be done (be specific)",
                "in": "Grades and actions",
            },
            {
                "fill": "Chronology on file, checked by the team manager in supervision",
                "field": "How we will know it has happened (measurable)",
                "in": "Grades and actions",
            },
            {
                "fill": action_due.isoformat(),
                "field": "Due date (a working day)",
                "in": "Grades and actions",
            },
            {"click": "Add action", "in": "Grades and actions"},
            {"waitForCardText": "Bring the case recordings up to date"},
            {"click": "Complete audit", "in": "Grades and actions"},
            {"waitForCardText": "Completed ✓"},
        ]
        alex: list[dict[str, Any]] = [
            {"say": "help"},
            {"waitForCardText": "What I can do for you"},
            {"pause": "ready"},
            {"waitForCard": FEEDBACK, "timeout": WAIT_FOR_PATTI},
            {
                "choose": "5 – Strongly agree",
                "field": "I was involved in the audit",
                "in": FEEDBACK,
            },
            {
                "choose": "4 – Agree",
                "field": "It helped me see what good practice looks like",
                "in": FEEDBACK,
            },
            {"choose": "4 – Agree", "field": "I understand the grade and why", "in": FEEDBACK},
            {
                "choose": "5 – Strongly agree",
                "field": "The actions are clear and achievable",
                "in": FEEDBACK,
            },
            {"fill": "Talking it through together", "field": "What worked well?", "in": FEEDBACK},
            {"click": "Send feedback", "in": "How did your audit feel?"},
            {"waitForCardText": "Thank you for your feedback"},
            # The risk Patti identified: Alex visits the child and records the day he did.
            {"waitForCard": "Please visit the child"},
            {"click": "Visit done", "in": "Please visit the child"},
            {"fill": day.isoformat(), "field": "Date of the visit", "in": "Please visit the child"},
            {"click": "Record the visit", "in": "Please visit the child"},
            {"waitForCardText": "Visit done ✓"},
        ]
        isaiah: list[dict[str, Any]] = [
            {"say": "help"},
            {"waitForCardText": "What I can do for you"},
            {"pause": "ready"},
            {"waitForCardText": "Inadequate audit: action needed", "timeout": WAIT_FOR_PATTI},
        ]
        try:
            with (
                playground(
                    endpoint,
                    workdir=tmp_path / "patti",
                    config_path=write_config(tmp_path, current_user="patti"),
                ) as patti_pg,
                playground(
                    endpoint,
                    workdir=tmp_path / "alex",
                    config_path=write_config(tmp_path, current_user="alex"),
                ) as alex_pg,
                playground(
                    endpoint,
                    workdir=tmp_path / "isaiah",
                    config_path=write_config(tmp_path, current_user="isaiah"),
                ) as isaiah_pg,
            ):
                seen: list[dict[str, Any]] = await asyncio.gather(
                    drive(patti_pg.url, patti, on_pause=assign, artifacts=tmp_path / "patti"),
                    drive(
                        alex_pg.url,
                        alex,
                        on_pause=ready_for("alex"),
                        artifacts=tmp_path / "alex",
                    ),
                    drive(
                        isaiah_pg.url,
                        isaiah,
                        on_pause=ready_for("isaiah"),
                        artifacts=tmp_path / "isaiah",
                    ),
                )
                alex_seen, isaiah_seen = seen[1], seen[2]
            async with sessions() as session:
                audit = await session.get(Audit, made["audit_id"])
                versions = (await session.exec(select(FeedbackVersion))).all()
        finally:
            await engine.dispose()

    assert audit is not None
    assert (audit.state, audit.overall_grade, audit.limiting_reason) == (
        "completed",
        "inadequate",
        None,
    )
    assert audit.meeting_due_on == add_working_days(day, 3)
    assert (audit.risk_identified, audit.visit_due_on) == (True, add_working_days(day, 1))
    assert audit.visited_on == day
    # Alex's answers arrived as one version of his feedback.
    sent = [v for v in versions if v.worked_well == "Talking it through together"]
    assert [
        (v.version, v.involved, v.helped_see_good, v.understand_grade, v.actions_clear)
        for v in sent
    ] == [(1, 5, 4, 4, 5)]
    alert = next(m["text"] for m in isaiah_seen["visible"] if "Inadequate audit" in m["text"])
    assert "Meeting held" in alert
    assert any("Thank you for your feedback" in m["text"] for m in alex_seen["visible"])


async def test_patti_cancels_an_open_audit_from_its_card(tmp_path: Path) -> None:
    """QA types `audit cancel N`, gives the reason in the card and presses Cancel audit."""
    day = _last_working_day(date.today())
    morning = datetime.combine(day, time(8, 0), tzinfo=LONDON)
    async with served_demo(tmp_path, today=day, clock=lambda: morning) as (endpoint, url):
        engine = make_engine(url)
        sessions = make_sessions(engine)
        try:
            async with sessions() as session:
                open_audit = (
                    await session.exec(
                        select(Audit).where(col(Audit.state) == "assigned").order_by(col(Audit.id))
                    )
                ).first()
            assert open_audit is not None and open_audit.id is not None
            audit_id = open_audit.id
            with playground(
                endpoint, workdir=tmp_path, config_path=write_config(tmp_path, current_user="patti")
            ) as pg:
                seen = await drive(
                    pg.url,
                    [
                        {"say": f"audit cancel {audit_id}"},
                        {"waitForCardText": f"Cancel audit #{audit_id}?"},
                        {
                            "fill": "The family moved out of area",
                            "field": "Why is it cancelled? For example: the case closed "
                            "(no names, please).",
                        },
                        {"click": "Cancel audit", "in": f"Cancel audit #{audit_id}?"},
                        {"waitForCardText": "Audit cancelled ✓"},
                    ],
                    artifacts=tmp_path,
                )
            async with sessions() as session:
                after = await session.get(Audit, audit_id)
        finally:
            await engine.dispose()

    assert after is not None and after.state == "cancelled"
    shown = [m["text"] for m in seen["visible"] if "Audit cancelled ✓" in m["text"]]
    assert shown and "Why: The family moved out of area" in shown[-1]
