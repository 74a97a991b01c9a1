"""The practitioner's own view first: Lynne grades her own practice on her collaborative audit
from her copy of it, once, before she sees Diego's grades; her completed audit shows both side by
side; anyone else pressing is refused and logged. QA's `stats` says how far practitioners and
auditors agree, equal to plain SQL counts over generated data. Over HTTP, on a fixed clock."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from bot.rules.calibration import agreement
from bot.rules.digest import bounds, month_so_far
from bot.rules.grades import Grade, Standard
from storage import own_views
from storage.db import SessionMaker, transaction
from storage.models import Audit, PractitionerGrade
from tests.chat import ALEX, Chat, button, buttons, card_text, inputs
from tests.helpers import (
    DIEGO,
    LYNNE,
    MEGAN,
    NOW,
    PATTI,
    TODAY,
    assigned,
    audit_council,
    everyone_says_hello,
    logged,
    press,
    queued,
)
from tests.test_figures import LONDON, count
from tests.test_grading import save

pytestmark = pytest.mark.clock(NOW)  # Thu 26 Nov 2026, 10:02 in London


async def own_rows(sessions: SessionMaker, audit_id: int) -> list[tuple[str, str]]:
    async with sessions() as session:
        rows = await (await session.connection()).execute(
            text(
                "SELECT standard, grade FROM practitionergrade WHERE audit_id = :a ORDER BY standard"
            ),
            {"a": audit_id},
        )
        return [(r[0], r[1]) for r in rows.all()]


async def lynne_s_audit(chat: Chat, sessions: SessionMaker) -> int:
    """A collaborative audit of Lynne's case (North, the second), given to Diego."""
    council = await audit_council(sessions)
    await everyone_says_hello(chat)
    return await assigned(sessions, council, auditor="diego", case_index=1)


async def test_lynne_gives_her_own_view_once_and_sees_it_beside_diego_s_grades(
    chat: Chat, sessions: SessionMaker
) -> None:
    audit_id = await lynne_s_audit(chat, sessions)
    # Her copy of the audit offers it; Megan's (her manager) does not.
    to_lynne = [d for d in await queued(sessions, "audit_assigned_copy") if list(buttons(d.card))]
    assert len(to_lynne) == 1 and "Your own view first" in card_text(to_lynne[0].card)
    opened = await press(chat, button(to_lynne[0].card, "Your own view first"), who=LYNNE)

    assert opened.card is not None
    assert "Your own view first" in opened.text and "Once sent, it can't be changed" in opened.text
    shown = inputs(opened.card)
    assert sorted(shown) == sorted(f"own_grade_{s}" for s in Standard)
    assert all(i.get("isRequired") is not True for i in shown.values())  # every one optional
    send = button(opened.card, "Send my view")

    nothing = await press(chat, send, who=LYNNE)
    assert "Please choose a grade for at least one standard" in nothing.text
    assert await own_rows(sessions, audit_id) == []

    sent = await press(
        chat, send | {"own_grade_heart": "good", "own_grade_plans": "outstanding"}, who=LYNNE
    )
    assert "your own view is saved ✓" in sent.text
    assert "Plans are good quality and SMART: Outstanding" in sent.text
    assert "Every child has an assessment: left out" in sent.text
    assert await own_rows(sessions, audit_id) == [("heart", "good"), ("plans", "outstanding")]
    [given] = await logged(sessions, "audit.own_view")
    assert given.after == {"heart": "good", "plans": "outstanding"}

    again = await press(chat, send | {"own_grade_heart": "inadequate"}, who=LYNNE)
    assert "Already sent ✓" in again.text
    assert await own_rows(sessions, audit_id) == [("heart", "good"), ("plans", "outstanding")]
    assert len(await logged(sessions, "refused.submit_own_view")) == 2  # none chosen, again
    reopened = await press(chat, button(to_lynne[0].card, "Your own view first"), who=LYNNE)
    assert "Already sent ✓" in reopened.text and not inputs(reopened.card or {})

    # Diego grades: Lynne sees nothing of it until the audit is completed.
    await press(chat, {"action": "open_grading", "audit_id": audit_id}, who=DIEGO)
    saved = await save(chat, audit_id, grade_plans="requires_improvement")
    assert saved.card is not None
    assert "own view" not in saved.text.lower()  # nor does Diego, before completing
    assert not [d for d in await queued(sessions, "audit_result")]
    done = await press(chat, button(saved.card, "Complete audit"), who=DIEGO)
    assert "Lynne Robbins's own view: " in done.text

    [result] = await queued(sessions, "audit_result")
    said = card_text(result.card)
    assert "Grades: the auditor's and your own view" in said
    assert "Children and families at the heart of everything we do: Auditor Good · You Good" in (
        said
    )
    assert "Plans are good quality and SMART: Auditor Requires improvement · You Outstanding" in (
        said
    )
    assert "Records are clear and accessible: Auditor Good · You left out" in said
    assert "C-1" not in result.summary

    closed = await press(chat, send | {"own_grade_heart": "good"}, who=LYNNE)
    assert closed.error is not None and "no longer open" in closed.error
    assert await own_rows(sessions, audit_id) == [("heart", "good"), ("plans", "outstanding")]


async def test_anyone_but_the_practitioner_is_refused_logged_and_nothing_changes(
    chat: Chat, sessions: SessionMaker
) -> None:
    audit_id = await lynne_s_audit(chat, sessions)
    data = {"action": "submit_own_view", "audit_id": audit_id, "own_grade_heart": "outstanding"}

    for who in (ALEX, DIEGO, MEGAN, PATTI):
        pressed = await press(chat, data, who=who)
        opened = await press(chat, {"action": "open_own_view", "audit_id": audit_id}, who=who)
        assert pressed.error is not None and "Only the practitioner" in pressed.error
        assert opened.error == pressed.error

    assert await own_rows(sessions, audit_id) == []
    assert len(await logged(sessions, "denied.submit_own_view")) == 4
    assert len(await logged(sessions, "denied.open_own_view")) == 4
    assert await logged(sessions, "audit.own_view") == []


async def test_a_thematic_audit_asks_for_no_own_view(chat: Chat, sessions: SessionMaker) -> None:
    audit_id = await lynne_s_audit(chat, sessions)
    async with transaction(sessions) as session:
        audit = await session.get(Audit, audit_id)
        assert audit is not None
        audit.kind = "thematic"
        audit.theme = "MASH strategy meetings"
        session.add(audit)

    pressed = await press(
        chat,
        {"action": "submit_own_view", "audit_id": audit_id, "own_grade_heart": "good"},
        who=LYNNE,
    )

    assert pressed.error is not None and "collaborative audits only" in pressed.error
    assert await own_rows(sessions, audit_id) == []


# --- QA's figure: agreement between practitioners and auditors ---------------------------------

GRADES = [g.value for g in Grade]
RANK = "CASE {0} WHEN 'outstanding' THEN 0 WHEN 'good' THEN 1 WHEN 'requires_improvement' THEN 2 WHEN 'inadequate' THEN 3 END"
AUDITOR = "CASE p.standard " + " ".join(f"WHEN '{s}' THEN a.grade_{s}" for s in Standard) + " END"
IN_PERIOD = (
    "a.tenant_id = :t AND a.kind = 'collaborative' AND a.state IN ('completed', 'moderated')"
    " AND a.completed_at >= :lo AND a.completed_at < :hi"
)


async def generated(sessions: SessionMaker, seed: int) -> Any:
    """Audits of every kind and state, completed this month, last month or not at all, some with
    the practitioner's grades (some standards left out, one audit's auditor grade missing)."""
    council = await audit_council(sessions, cases_per_team=12)
    rng = random.Random(seed)
    cases = [c for team in council.cases.values() for c in team]
    async with transaction(sessions) as session:
        for n in range(80):
            case = rng.choice(cases)
            kind = "collaborative" if n % 5 else "thematic"
            state = rng.choice(["completed", "completed", "moderated", "in_progress", "cancelled"])
            completed = NOW - timedelta(
                days=rng.choice([0, 3, 20, 25, 40]), hours=rng.randint(0, 9)
            )
            audit = Audit(
                tenant_id=council.tenant_id,
                case_id=case.id or 0,
                team_id=case.team_id,
                auditor_id=council.id("diego"),
                practitioner_id=case.worker_id,
                due_on=TODAY,
                state=state,
                kind=kind,
                theme=None if kind == "collaborative" else "MASH",
                completed_at=completed if state in ("completed", "moderated") else None,
                overall_grade="good",
                **{
                    f"grade_{s}": (None if n == 7 and s == Standard.HEART else rng.choice(GRADES))
                    for s in Standard
                },
            )
            session.add(audit)
            await session.flush()
            if rng.random() < 0.7:
                for s in Standard:
                    if rng.random() < 0.8:
                        session.add(
                            PractitionerGrade(
                                tenant_id=council.tenant_id,
                                audit_id=audit.id or 0,
                                practitioner_id=case.worker_id or 0,
                                standard=s.value,
                                grade=rng.choice(GRADES),
                            )
                        )
    return council


@pytest.mark.parametrize("seed", [1, 7])
async def test_own_view_agreement_equals_plain_sql_counts(
    sessions: SessionMaker, seed: int
) -> None:
    council = await generated(sessions, seed)
    lo, hi = bounds(month_so_far(TODAY), LONDON)

    async with sessions() as session:
        found = await own_views.own_view_pairs(
            session=session, tenant_id=council.tenant_id, start=lo, end=hi
        )
        figures = agreement([(own, auditor) for _, own, auditor in found.pairs])
        params = {"t": council.tenant_id, "lo": lo, "hi": hi}
        joined = f"FROM practitionergrade p JOIN audit a ON a.id = p.audit_id WHERE {IN_PERIOD}"
        graded = f"{joined} AND ({AUDITOR}) IS NOT NULL"
        apart = f"({RANK.format('p.grade')} - {RANK.format(AUDITOR)})"
        plain = (
            await count(session, f"SELECT COUNT(*) FROM audit a WHERE {IN_PERIOD}", **params),
            await count(
                session,
                f"SELECT COUNT(DISTINCT p.audit_id) {joined}",
                **params,
            ),
            await count(session, f"SELECT COUNT(*) {graded}", **params),
            await count(session, f"SELECT COUNT(*) {graded} AND p.grade = {AUDITOR}", **params),
            await count(
                session, f"SELECT COUNT(*) {graded} AND {apart} BETWEEN -1 AND 1", **params
            ),
            await count(session, f"SELECT COUNT(*) {graded} AND {apart} < 0", **params),
            await count(session, f"SELECT COUNT(*) {graded} AND {apart} > 0", **params),
        )

    assert plain[0] > 10 and plain[2] > 30  # enough to mean something
    assert (
        found.completed,
        found.with_own_view,
        figures.pairs,
        figures.exact,
        figures.within_one,
        figures.better,
        figures.worse,
    ) == plain


async def test_qa_s_stats_show_the_agreement_and_managers_do_not(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await generated(sessions, 3)
    lo, hi = bounds(month_so_far(TODAY), LONDON)
    async with sessions() as session:
        found = await own_views.own_view_pairs(
            session=session, tenant_id=council.tenant_id, start=lo, end=hi
        )
    figures = agreement([(own, auditor) for _, own, auditor in found.pairs])
    await everyone_says_hello(chat)

    patti = await chat.say("stats", who=PATTI)
    megan = await chat.say("stats", who=MEGAN)

    assert "Practitioners' own view (QA only)" in patti.text
    assert (
        f"{found.with_own_view} of {found.completed} collaborative audits completed had the "
        "practitioner's own grades" in patti.text
    )
    assert f"({figures.exact} of {figures.pairs})" in patti.text
    assert f"({figures.within_one} of {figures.pairs})" in patti.text
    assert f"better {figures.better} times and worse {figures.worse}" in patti.text
    assert "own view" not in megan.text.lower()
