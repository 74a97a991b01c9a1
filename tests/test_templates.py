"""Audit templates (issue 14 item 1): a thematic audit's questions beyond the six standards, read
from a file the QA team edits, answered in the grading flow, stored per question and version, and
compared quarter by quarter when the template is used again. Over HTTP, on a fixed clock; the
comparison's figures against plain SQL on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlmodel import col, update
from typer.testing import CliRunner

from bot.cli import app
from bot.rules.templates import QUESTIONS_PER_PAGE, mixes, template_for
from bot.services.templates import TEMPLATES_DIR, load_templates, read_template
from storage import templates as store
from storage.db import SessionMaker, transaction
from storage.models import Audit, TemplateAnswer
from tests.chat import DIEGO, Chat, inputs
from tests.helpers import (
    ALEX,
    NOW,
    PATTI,
    add_assigned_audit,
    audit_council,
    everyone_says_hello,
    logged,
    press,
)
from tests.test_grading import DUE, save

pytestmark = pytest.mark.clock(NOW)  # Thu 26 Nov 2026, 10:02 in London
LONDON = ZoneInfo("Europe/London")
MASH = read_template(TEMPLATES_DIR / "mash.md")


# --- the file ---------------------------------------------------------------------------------


def test_the_shipped_mash_template_asks_the_framework_s_thematic_questions() -> None:
    assert (MASH.key, MASH.version, MASH.kind, MASH.theme) == ("mash", 1, "thematic", "MASH")
    sections = list(dict.fromkeys(q.section for q in MASH.questions))
    assert sections == [
        "Contact and decision-making",
        "Strategy meetings",
        "Section 47 enquiries",
        "Step-up and step-down",
        "Assessment ending in no further action",
    ]
    assert {q.type.value for q in MASH.questions} == {"yes-no", "grade", "text"}


BAD = """# A template
Key: Bad Key
Version: x
Audit kind: thematc

- a question {k}
## A section
- Is it? [maybe] {q1}
- Is it? [yes-no] {q1}
- Again? [yes-no] {q1}
"""


def test_template_check_lists_every_problem_with_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.md"
    bad.write_text(BAD, encoding="utf-8")

    result = CliRunner().invoke(app, ["template", "check", str(bad)])

    assert result.exit_code == 1
    lines = [ln.strip() for ln in result.output.splitlines() if ln.strip().startswith("line")]
    assert [ln.split(":")[0] for ln in lines] == [
        "line 2",
        "line 3",
        "line 4",
        "line 6",
        "line 8",
        "line 10",
    ]
    assert "“[maybe]” is not an answer type" in result.output
    assert "The key {q1} is used on line 9 too." in result.output


def test_template_check_says_a_good_file_is_fine() -> None:
    result = CliRunner().invoke(app, ["template", "check", str(TEMPLATES_DIR / "mash.md")])
    assert result.exit_code == 0
    assert "16 questions on 2 card pages" in " ".join(result.output.split())


def test_a_thematic_audit_finds_its_theme_s_template_before_one_for_every_thematic(
    tmp_path: Path,
) -> None:
    (tmp_path / "mash.md").write_text((TEMPLATES_DIR / "mash.md").read_text(), encoding="utf-8")
    (tmp_path / "any.md").write_text(
        "# Any thematic audit\nKey: thematic\nVersion: 2\nAudit kind: thematic\n"
        "## Learning\n- Was the learning shared? [yes-no] {shared}\n",
        encoding="utf-8",
    )
    templates = load_templates(tmp_path)
    chosen = template_for(templates, "thematic", " mash ")
    assert chosen is not None and chosen.key == "mash"
    chosen = template_for(templates, "thematic", "Neglect")
    assert chosen is not None and chosen.key == "thematic"
    assert template_for(templates, "collaborative", None) is None


# --- answering in the grading flow -------------------------------------------------------------


async def mash_audit(sessions: SessionMaker) -> int:
    council = await audit_council(sessions)
    audit = await add_assigned_audit(
        sessions, council, case_index=1, auditor="diego", due_on=DUE, kind="thematic"
    )
    async with transaction(sessions) as session:
        await session.exec(update(Audit).where(col(Audit.id) == audit.id).values(theme="MASH"))
    assert audit.id is not None
    return audit.id


def every_answer(keys: list[str]) -> dict[str, str]:
    chosen = {"yes-no": "yes", "grade": "good", "text": "Earlier contact with the school"}
    return {f"answer_{k}": chosen[MASH.question(k).type.value] for k in keys}  # type: ignore[union-attr]


def page_keys(card: dict[str, Any]) -> list[str]:
    return [i.removeprefix("answer_") for i in inputs(card) if i.startswith("answer_")]


async def stored(sessions: SessionMaker, audit_id: int) -> dict[str, tuple[str, str, int]]:
    async with sessions() as session:
        rows = await (await session.connection()).execute(
            text(
                "SELECT question, answer, template, version FROM templateanswer "
                "WHERE audit_id = :audit"
            ),
            {"audit": audit_id},
        )
        return {q: (a, t, v) for q, a, t, v in rows.all()}


async def test_diego_answers_the_mash_questions_a_page_at_a_time_then_completes(
    chat: Chat, sessions: SessionMaker
) -> None:
    audit_id = await mash_audit(sessions)
    await everyone_says_hello(chat)
    await press(chat, {"action": "open_grading", "audit_id": audit_id}, who=DIEGO)
    working = await save(chat, audit_id)
    assert "MASH thematic audit: 0 of 16 questions answered" in working.text

    # Completing before the questions are answered is refused, and says why.
    early = await press(chat, {"action": "complete_audit", "audit_id": audit_id}, who=DIEGO)
    assert "16 template questions still to answer" in early.text
    assert [r.after for r in await logged(sessions, "audit.completed")] == []

    first = await press(chat, {"action": "open_template", "audit_id": audit_id}, who=DIEGO)
    assert first.card is not None
    keys = page_keys(first.card)
    assert keys == [q.key for q in MASH.questions[:QUESTIONS_PER_PAGE]]
    assert "Page 1 of 2" in first.text and "version 1" in first.text

    second = await press(
        chat,
        {"action": "save_template", "audit_id": audit_id, "page": 0, "then": "next"}
        | every_answer(keys),
        who=DIEGO,
    )
    assert second.card is not None and "Page 2 of 2" in second.text
    rest = page_keys(second.card)
    assert rest == [q.key for q in MASH.questions[QUESTIONS_PER_PAGE:]]

    back = await press(
        chat,
        {"action": "save_template", "audit_id": audit_id, "page": 1, "then": "finish"}
        | every_answer(rest),
        who=DIEGO,
    )
    assert "MASH thematic audit: 16 of 16 questions answered" in back.text
    answers = await stored(sessions, audit_id)
    assert set(answers) == {q.key for q in MASH.questions}
    assert answers["strategy-held"] == ("yes", "mash", 1)
    assert answers["better"] == ("Earlier contact with the school", "mash", 1)
    [log, _] = await logged(sessions, "audit.template_answers")
    assert log.after == {"template": "mash", "version": 1, "questions": sorted(keys)}

    done = await press(chat, {"action": "complete_audit", "audit_id": audit_id}, who=DIEGO)
    assert "Audit completed" in done.text


async def test_an_answer_that_does_not_fit_is_refused_and_nothing_on_the_page_is_saved(
    chat: Chat, sessions: SessionMaker
) -> None:
    audit_id = await mash_audit(sessions)
    await everyone_says_hello(chat)
    keys = [q.key for q in MASH.questions[:QUESTIONS_PER_PAGE]]
    sent = every_answer(keys) | {"answer_strategy-held": "maybe"}

    pressed = await press(
        chat, {"action": "save_template", "audit_id": audit_id, "page": 0} | sent, who=DIEGO
    )

    assert "Nothing on this page was saved" in pressed.text
    assert "Please choose one of the answers given." in pressed.text
    assert await stored(sessions, audit_id) == {}
    # A question from another page, or none of the template's, changes nothing either.
    stranger = await press(
        chat,
        {"action": "save_template", "audit_id": audit_id, "page": 0, "answer_better": "x"},
        who=DIEGO,
    )
    assert stranger.error == "Please answer the questions on the card. Nothing was saved."
    assert await stored(sessions, audit_id) == {}


async def test_only_the_auditor_or_qa_may_answer_and_a_refusal_is_logged(
    chat: Chat, sessions: SessionMaker
) -> None:
    audit_id = await mash_audit(sessions)
    await everyone_says_hello(chat)
    keys = [q.key for q in MASH.questions[:QUESTIONS_PER_PAGE]]
    data = {"action": "save_template", "audit_id": audit_id, "page": 0} | every_answer(keys)

    refused = await press(chat, data, who=ALEX)

    assert refused.error is not None and "Only the audit's auditor or the QA team" in refused.error
    assert await stored(sessions, audit_id) == {}
    [log] = await logged(sessions, "denied.save_template")
    assert (log.entity_id, log.actor_id) == (str(audit_id), await _id_of(sessions, ALEX.email))
    by_qa = await press(chat, data | {"then": "finish"}, who=PATTI)
    assert "8 of 16 questions answered" in by_qa.text


async def test_an_audit_without_a_template_has_no_questions(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await audit_council(sessions)
    audit = await add_assigned_audit(sessions, council, case_index=1, auditor="diego", due_on=DUE)
    await everyone_says_hello(chat)
    await press(chat, {"action": "open_grading", "audit_id": audit.id}, who=DIEGO)
    working = await save(chat, audit.id or 0)
    assert "questions answered" not in working.text
    pressed = await press(chat, {"action": "open_template", "audit_id": audit.id}, who=DIEGO)
    assert pressed.error == "This audit has no template questions."


# --- comparing answers when the template is used again -----------------------------------------

COUNTS_SQL = """
SELECT t.question, t.answer, COUNT(*) FROM templateanswer t
JOIN audit a ON a.id = t.audit_id
WHERE t.tenant_id = :tenant AND a.tenant_id = :tenant AND t.template = 'mash'
  AND a.state IN ('completed', 'moderated') AND a.completed_at >= :start AND a.completed_at < :end
GROUP BY t.question, t.answer
"""


async def test_the_comparison_counts_equal_plain_sql_by_quarter(sessions: SessionMaker) -> None:
    council = await audit_council(sessions)
    other = await audit_council(sessions, tenant_id="00000000-0000-0000-0000-00000000000b")
    diego = council.id("diego")
    states = ["completed", "moderated", "cancelled", "in_progress", "completed", "completed"]
    when = [
        datetime(2026, 8, 3, 10, tzinfo=UTC),
        datetime(2026, 9, 30, 22, 30, tzinfo=UTC),  # 23:30 in London: still Q3
        datetime(2026, 9, 1, 10, tzinfo=UTC),
        None,
        datetime(2026, 10, 2, 10, tzinfo=UTC),
        datetime(2026, 11, 20, 10, tzinfo=UTC),
    ]
    answers = ["yes", "no", "yes", "yes", "partly", "na"]
    async with transaction(sessions) as session:
        for n, (state, at, answer) in enumerate(zip(states, when, answers, strict=True)):
            for tenant, who in ((council.tenant_id, diego), (other.tenant_id, other.id("diego"))):
                cases = council.cases if tenant == council.tenant_id else other.cases
                audit = Audit(
                    tenant_id=tenant,
                    case_id=cases["North"][n].id or 0,
                    team_id=cases["North"][n].team_id,
                    auditor_id=who,
                    due_on=date(2026, 8, 1),
                    state=state,
                    kind="thematic",
                    theme="MASH",
                    completed_at=at,
                )
                session.add(audit)
                await session.flush()
                for question, value in (("strategy-held", answer), ("decision-quality", "good")):
                    session.add(
                        TemplateAnswer(
                            tenant_id=tenant,
                            audit_id=audit.id or 0,
                            template="mash",
                            version=1 + n % 2,
                            question=question,
                            answer=value,
                            answered_by=who,
                        )
                    )

    async with sessions() as session:
        rows = await store.completed_answers(
            session=session, tenant_id=council.tenant_id, template="mash", zone=LONDON
        )
        by_question = mixes(rows)
        plain = {}
        for start, end in (
            (datetime(2026, 6, 30, 23, tzinfo=UTC), datetime(2026, 9, 30, 23, tzinfo=UTC)),
            (datetime(2026, 9, 30, 23, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)),
        ):
            found = await (await session.connection()).execute(
                text(COUNTS_SQL), {"tenant": council.tenant_id, "start": start, "end": end}
            )
            plain[start] = {(q, a): c for q, a, c in found.all()}

    q3, q4 = by_question["strategy-held"]
    assert (q3.period, q4.period) == (date(2026, 7, 1), date(2026, 10, 1))
    q3_sql, q4_sql = plain.values()
    for mix, sql in ((q3, q3_sql), (q4, q4_sql)):
        assert {a: c for (q, a), c in sql.items() if q == "strategy-held"} == dict(mix.counts)
    assert dict(q3.counts) == {"yes": 1, "no": 1}
    assert q3.yes_rate() == 0.5 and q4.yes_rate() == 0.0  # "na" is not counted against
    grade_q3, grade_q4 = by_question["decision-quality"]
    assert grade_q3.good_or_better_rate() == grade_q4.good_or_better_rate() == 1.0


async def _id_of(sessions: SessionMaker, email: str) -> int:
    async with sessions() as session:
        found = await (await session.connection()).execute(
            text("SELECT id FROM staff WHERE email = :email"), {"email": email}
        )
        return int(found.scalar_one())
