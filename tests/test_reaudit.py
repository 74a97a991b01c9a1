"""Re-audit of inadequate practice: when it is due (bank holidays), who does it (never the
original auditor), a case that closed, the comparison per standard, and `inadequate` over HTTP
on a fixed clock (Thu 26 Nov 2026 10:02) — with its verified count checked against plain SQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import col, select

from bot.features import CATALOGUE
from bot.rules.reaudit import (
    Change,
    Policy,
    compare,
    is_verified,
    needs_reaudit,
    reaudit_due,
)
from bot.services import lifecycle
from bot.settings import Settings
from storage import reaudit as store
from storage.db import SessionMaker, make_engine, make_sessions, transaction
from storage.imports import CaseChange
from storage.migrate import upgrade
from storage.models import Action, Audit, Case, Staff
from tests.chat import ALEX, MEGAN, TENANT, Chat
from tests.helpers import (
    ADELE,
    GRADY,
    ISAIAH,
    NOW,
    PATTI,
    STANDARDS,
    AuditCouncil,
    audit_council,
    everyone_says_hello,
    grade_inadequate,
    logged,
    queued,
)

pytestmark = pytest.mark.clock(NOW)  # Thu 26 Nov 2026, 10:02 in London


AUDITORS = ("patti", "alex", "diego", "joni")


# --- the rules -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("completed_on", "months", "due_on"),
    [
        # 25 Dec 2026 is Christmas (Fri); Boxing Day falls on the Saturday, so Mon 28 Dec is its
        # substitute bank holiday: the first working day is Tue 29 Dec.
        (date(2026, 9, 25), 3, date(2026, 12, 29)),
        # 26 Mar 2027 is Good Friday and 29 Mar Easter Monday: Tue 30 Mar.
        (date(2026, 12, 26), 3, date(2027, 3, 30)),
        # No 30 Feb: the month's last day, Sun 28 Feb 2027, so Mon 1 Mar.
        (date(2026, 11, 30), 3, date(2027, 3, 1)),
        # An ordinary Thursday stays as it is.
        (date(2026, 11, 26), 3, date(2027, 2, 26)),
        (date(2026, 11, 26), 6, date(2027, 5, 26)),
    ],
)
def test_the_re_audit_is_due_months_on_on_a_working_day(
    completed_on: date, months: int, due_on: date
) -> None:
    assert reaudit_due(completed_on, Policy(months=months)) == due_on


def test_only_inadequate_is_re_audited_unless_the_tenant_adds_requires_improvement() -> None:
    assert needs_reaudit("inadequate")
    assert not needs_reaudit("requires_improvement")
    assert needs_reaudit("requires_improvement", Policy(requires_improvement=True))
    assert not needs_reaudit("good", Policy(requires_improvement=True))
    assert not needs_reaudit(None)


def test_each_standard_is_improved_the_same_or_worse() -> None:
    before = {"heart": "inadequate", "plans": "good", "records": "requires_improvement"}
    after = {"heart": "good", "plans": "requires_improvement", "records": "requires_improvement"}
    changes = compare(before, after)
    assert changes["heart"] is Change.IMPROVED
    assert changes["plans"] is Change.WORSE
    assert changes["records"] is Change.SAME
    assert changes["assessment"] is None  # not graded on either


def test_an_action_is_verified_only_when_done_and_its_standard_no_longer_inadequate() -> None:
    again = {"assessment": "requires_improvement", "oversight": "inadequate"}
    assert is_verified(state="done", standard="assessment", reaudit_grades=again)
    assert is_verified(state="confirmed", standard="assessment", reaudit_grades=again)
    assert not is_verified(state="open", standard="assessment", reaudit_grades=again)
    assert not is_verified(state="done", standard="oversight", reaudit_grades=again)
    assert not is_verified(state="done", standard=None, reaudit_grades=again)
    assert not is_verified(state="done", standard="assessment", reaudit_grades=None)


# --- scheduling ----------------------------------------------------------------------------------


async def reaudits(sessions: SessionMaker) -> list[Audit]:
    async with sessions() as session:
        rows = await session.exec(
            select(Audit).where(col(Audit.reaudit_of).is_not(None)).order_by(col(Audit.id))
        )
        return list(rows.all())


async def test_an_inadequate_audit_schedules_a_re_audit_of_the_case_with_another_auditor(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await audit_council(sessions)
    await everyone_says_hello(chat)
    # Completed on Fri 25 Sep 2026: three months on is Christmas Day.
    completed = datetime(2026, 9, 25, 10, 0, tzinfo=UTC)

    original = await grade_inadequate(sessions, council, now=completed, risk=False)

    [again] = await reaudits(sessions)
    assert again.reaudit_of == original.id
    assert (again.case_id, again.team_id, again.kind) == (
        original.case_id,
        original.team_id,
        original.kind,
    )
    assert again.due_on == date(2026, 12, 29)
    assert again.state == "assigned"
    assert again.auditor_id not in (original.auditor_id, original.practitioner_id)
    [created] = [r for r in await logged(sessions, "audit.created") if r.entity_id == str(again.id)]
    assert created.after is not None and created.after["reaudit_of"] == original.id
    assigned = await queued(sessions, "audit_assigned")
    assert [d.recipient_staff_id for d in assigned] == [again.auditor_id]
    assert "C-10001" not in assigned[0].summary


@pytest.mark.parametrize("auditor", AUDITORS)
async def test_the_re_auditor_is_never_the_original_auditor(
    sessions: SessionMaker, auditor: str
) -> None:
    council = await audit_council(sessions)
    # Case index 1 in North is lynne's, so alex may audit it too.
    original = await grade_inadequate(sessions, council, case_index=1, auditor=auditor)

    [again] = await reaudits(sessions)
    assert again.reaudit_of == original.id
    assert again.auditor_id != council.id(auditor)
    assert again.auditor_id != council.id("lynne")


async def test_no_re_audit_when_no_one_but_the_original_auditor_could_do_it(
    sessions: SessionMaker,
) -> None:
    council = await audit_council(sessions)
    async with transaction(sessions) as session:
        for key in ("alex", "diego", "joni"):
            row = await session.get(Staff, council.id(key))
            assert row is not None
            row.roles = row.roles.replace("auditor", "").strip() or "practitioner"
            session.add(row)

    original = await grade_inadequate(sessions, council, case_index=1, auditor="patti")

    assert await reaudits(sessions) == []
    [why] = await logged(sessions, "reaudit.not_scheduled")
    assert (why.entity_id, why.after) == (str(original.id), {"reason": "no other auditor"})


async def test_requires_improvement_is_re_audited_only_when_the_tenant_says_so(
    sessions: SessionMaker,
) -> None:
    council = await audit_council(sessions)
    await _grade(sessions, council, case_index=2, overall="requires_improvement")
    assert await reaudits(sessions) == []

    async with transaction(sessions) as session:
        assert await store.set_policy(
            session,
            tenant_id=council.tenant_id,
            chosen=Policy(months=6, requires_improvement=True),
            actor_id=None,
        )
    original = await _grade(sessions, council, case_index=3, overall="requires_improvement")

    [again] = await reaudits(sessions)
    assert again.reaudit_of == original.id
    assert again.due_on == date(2027, 5, 26)  # six months on, a Wednesday
    assert len(await logged(sessions, "tenant.reaudit_set")) == 1


async def test_a_case_closed_before_the_audit_is_completed_gets_no_re_audit(
    sessions: SessionMaker,
) -> None:
    council = await audit_council(sessions)
    await _close(sessions, council.cases["North"][0].id)

    original = await grade_inadequate(sessions, council)

    assert await reaudits(sessions) == []
    [why] = await logged(sessions, "reaudit.not_scheduled")
    assert (why.entity_id, why.after) == (str(original.id), {"reason": "case closed"})


async def test_a_case_that_closes_meanwhile_has_its_re_audit_cancelled_with_the_reason(
    sessions: SessionMaker,
) -> None:
    council = await audit_council(sessions)
    await grade_inadequate(sessions, council)
    await grade_inadequate(sessions, council, case_index=2, auditor="diego")
    first, second = await reaudits(sessions)

    # The case import says the case closed: its open audits, the re-audit among them, end.
    await _close(sessions, council.cases["North"][0].id)
    states = {a.id: a.state for a in await reaudits(sessions)}
    assert states == {first.id: "cancelled", second.id: "assigned"}
    [log] = await logged(sessions, "audit.cancelled")
    assert log.entity_id == str(first.id)
    assert log.after is not None and log.after["reason"] == "case closed"


# --- `inadequate` over HTTP ----------------------------------------------------------------------


async def test_qa_sees_each_inadequate_case_with_its_meeting_visit_actions_and_re_audit(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await audit_council(sessions)
    original = await grade_inadequate(sessions, council, risk=True)
    [again] = await reaudits(sessions)
    await _add_actions(sessions, original, [("done", "assessment"), ("open", "oversight")])
    # The earlier one, re-audited: assessment better, oversight still inadequate, plans worse.
    earlier = await grade_inadequate(
        sessions, council, now=NOW - timedelta(days=100), case_index=2, auditor="diego", risk=False
    )
    await _add_actions(
        sessions,
        earlier,
        [
            ("done", "assessment"),
            ("confirmed", "oversight"),
            ("done", None),
            ("cancelled", "plans"),
        ],
    )
    done_again = await _complete_reaudit(
        sessions, earlier, {"assessment": "good", "oversight": "inadequate", "plans": "inadequate"}
    )

    answer = await chat.say("inadequate", who=PATTI)

    shown = answer.text
    assert "Children's cases judged inadequate" in shown
    assert "2 cases in the last 12 months" in shown
    assert shown.index("C-10001") < shown.index("C-10003")  # newest first
    assert "Meeting: due by Tue 1 Dec" in shown
    assert "Visit: due by tomorrow" in shown or "Visit: due by Fri 27 Nov" in shown
    assert "Actions: 1 of 2 done, 0 verified" in shown
    assert "due Fri 26 Feb 2027 with " in shown and f"(audit #{again.id})" in shown
    # The earlier case: its meeting was never recorded, so it is overdue; no visit was due.
    assert "Visit: none was due" in shown
    assert "Actions: 3 of 3 done, 1 verified" in shown
    assert f"(audit #{done_again.id}) — Improved: Assessment" in shown
    assert "Same: Heart, Records, Oversight, Strengths; Worse: Plans" in shown
    assert "Worse: Plans" in shown
    # Sent to Patti's personal chat only.
    assert all(s.conversation_id == f"a:personal-{PATTI.teams_id}" for s in answer.sent)


async def test_a_service_manager_sees_their_service_only_and_others_may_not_use_it(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await audit_council(sessions)
    await grade_inadequate(sessions, council)  # North, Safeguarding
    await grade_inadequate(sessions, council, team="East", auditor="patti")  # Early Help

    adele = (await chat.say("inadequate", who=ADELE)).text
    assert "C-10001" in adele and "C-30001" not in adele
    isaiah = (await chat.say("inadequate", who=ISAIAH)).text
    assert "C-10001" in isaiah and "C-30001" not in isaiah
    grady = (await chat.say("inadequate", who=GRADY)).text
    assert "C-30001" in grady and "C-10001" not in grady

    # Not in the full command menus, so `help` is where it is found.
    assert "Children's cases judged inadequate" in (await chat.say("help", who=ADELE)).text
    assert "Children's cases judged inadequate" not in (await chat.say("help", who=MEGAN)).text
    for person in (MEGAN, ALEX):
        refused = (await chat.say("inadequate", who=person)).text
        assert "C-10001" not in refused and "C-30001" not in refused
        assert "not available for your role" in refused
    # A page pressed by someone who may not see it changes nothing and shows nothing.
    pressed = await chat.press({"action": "inadequate_page", "offset": 10}, who=ALEX)
    assert "C-10001" not in str(pressed.body)


async def test_a_long_list_pages(chat: Chat, sessions: SessionMaker) -> None:
    council = await audit_council(sessions, cases_per_team=12)
    for n in range(12):
        await grade_inadequate(
            sessions, council, now=NOW - timedelta(days=n), case_index=n, risk=False
        )

    first = (await chat.say("inadequate", who=PATTI)).text
    assert "Showing 1–10 of 12" in first and "[Show 2 more]" in first
    pressed = await chat.press({"action": "inadequate_page", "offset": 10}, who=PATTI)
    assert pressed.status == 200
    page_two = str(pressed.body)
    assert "C-10011" in page_two and "C-10012" in page_two and "C-10001" not in page_two


async def test_the_cancelled_and_not_scheduled_re_audits_say_why(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await audit_council(sessions)
    await grade_inadequate(sessions, council)
    await _close(sessions, council.cases["North"][0].id)
    await _close(sessions, council.cases["South"][0].id)
    await grade_inadequate(sessions, council, team="South", auditor="patti")

    shown = (await chat.say("inadequate", who=PATTI)).text

    assert "Re-audit: not scheduled: case closed" in shown
    assert "cancelled (audit #" in shown and "): case closed" in shown


# --- the verified figure against plain SQL ---------------------------------------------------


VERIFIED_SQL = """
SELECT COUNT(*) FROM action a
JOIN audit o ON o.id = a.audit_id
JOIN audit r ON r.reaudit_of = o.id
WHERE o.tenant_id = :tenant AND o.overall_grade = 'inadequate'
  AND o.state IN ('completed', 'moderated') AND r.state IN ('completed', 'moderated')
  AND a.source NOT IN ('action_meeting', 'child_visit')
  AND a.state IN ('done', 'confirmed')
  AND (   (a.standard = 'heart' AND r.grade_heart <> 'inadequate')
       OR (a.standard = 'assessment' AND r.grade_assessment <> 'inadequate')
       OR (a.standard = 'plans' AND r.grade_plans <> 'inadequate')
       OR (a.standard = 'records' AND r.grade_records <> 'inadequate')
       OR (a.standard = 'oversight' AND r.grade_oversight <> 'inadequate')
       OR (a.standard = 'strengths' AND r.grade_strengths <> 'inadequate'))
"""

DONE_SQL = """
SELECT COUNT(*) FROM action a JOIN audit o ON o.id = a.audit_id
WHERE o.tenant_id = :tenant AND o.overall_grade = 'inadequate'
  AND o.state IN ('completed', 'moderated')
  AND a.source NOT IN ('action_meeting', 'child_visit') AND a.state IN ('done', 'confirmed')
"""


async def test_the_done_and_verified_counts_equal_plain_sql(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await audit_council(sessions)
    states = ("open", "done", "confirmed", "cancelled")
    grades = ("outstanding", "good", "requires_improvement", "inadequate", None)
    for n in range(6):
        original = await grade_inadequate(
            sessions, council, now=NOW - timedelta(days=20 * n), case_index=n, risk=n % 2 == 0
        )
        await _add_actions(
            sessions,
            original,
            [(states[(n + k) % 4], (*STANDARDS, None)[(n * 2 + k) % 7]) for k in range(5)],
        )
        if n % 3 != 2:  # awkward: some re-audits not done yet
            await _complete_reaudit(
                sessions,
                original,
                {s: grades[(n + i) % 5] for i, s in enumerate(STANDARDS)},
            )

    shown = (await chat.say("inadequate", who=PATTI)).text

    async with sessions() as session:
        connection = await session.connection()
        params = {"tenant": council.tenant_id}
        verified = (await connection.execute(sa.text(VERIFIED_SQL), params)).scalar_one()
        done = (await connection.execute(sa.text(DONE_SQL), params)).scalar_one()
    assert verified > 0 and done > verified
    lines = [line for line in shown.splitlines() if line.startswith("Actions: ")]
    assert len(lines) == 6
    assert sum(int(line.split(" of ")[0].removeprefix("Actions: ")) for line in lines) == done
    assert sum(int(line.split(", ")[1].split(" ")[0]) for line in lines) == verified


# --- helpers ---------------------------------------------------------------------------------------


async def _grade(
    sessions: SessionMaker, council: AuditCouncil, *, case_index: int, overall: str
) -> Audit:
    """An audit completed with `overall`, through the same response as completing it."""
    from bot.services.inadequate import respond_to_completed
    from tests.helpers import add_assigned_audit

    assigned = await add_assigned_audit(
        sessions, council, case_index=case_index, auditor="patti", due_on=NOW.date()
    )
    async with transaction(sessions) as session:
        audit = await session.get(Audit, assigned.id)
        assert audit is not None
        for standard in STANDARDS:
            setattr(audit, f"grade_{standard}", overall)
        audit.overall_grade, audit.state, audit.completed_at = overall, "completed", NOW
        session.add(audit)
        await session.flush()
        await respond_to_completed(
            session,
            tenant_id=council.tenant_id,
            audit=audit,
            actor_id=council.id("patti"),
            today=NOW.date(),
            now=NOW,
        )
    return audit


async def _close(sessions: SessionMaker, case_id: int | None) -> None:
    """The case closes as a case import closes it: its status, then the import's consequences
    (bot.services.lifecycle) in the same transaction."""
    async with transaction(sessions) as session:
        case = await session.get(Case, case_id)
        assert case is not None and case.id is not None
        before = case.status
        case.status = "closed"
        session.add(case)
        change = CaseChange(case.id, before, "closed", case.worker_id, case.worker_id)
        ctx = lifecycle.Context(case.tenant_id, NOW.date(), NOW, CATALOGUE.redraws(Settings()))
        await lifecycle.cases_changed(session, ctx, [change], lifecycle.Moves())


async def _add_actions(
    sessions: SessionMaker, audit: Audit, items: list[tuple[str, str | None]]
) -> None:
    async with transaction(sessions) as session:
        for n, (state, standard) in enumerate(items):
            session.add(
                Action(
                    tenant_id=audit.tenant_id,
                    audit_id=audit.id,
                    source="audit" if standard else "meeting",
                    what=f"Action {n}",
                    measure="Seen on the file",
                    owner_id=audit.practitioner_id or audit.auditor_id,
                    standard=standard,
                    due_on=NOW.date() + timedelta(days=7),
                    state=state,
                    done_at=NOW if state in ("done", "confirmed") else None,
                )
            )


async def _complete_reaudit(
    sessions: SessionMaker, original: Audit, grades: dict[str, str | None]
) -> Audit:
    async with transaction(sessions) as session:
        found = await store.reaudit_of(
            session=session, tenant_id=original.tenant_id, audit_id=original.id or 0
        )
        assert found is not None
        again = await session.get(Audit, found.id)
        assert again is not None
        for standard in STANDARDS:
            setattr(
                again,
                f"grade_{standard}",
                grades.get(standard, getattr(original, f"grade_{standard}")),
            )
        again.overall_grade = "requires_improvement"
        again.state, again.completed_at = "completed", NOW
        session.add(again)
    return again


# --- the command line ---------------------------------------------------------------------------


def _cli(url: str, *args: str) -> tuple[int, str]:
    from typer.testing import CliRunner

    from bot.cli import app

    result = CliRunner().invoke(app, list(args), env={"QALOOP_DATABASE_URL": url})
    return result.exit_code, " ".join(result.output.split())


async def test_the_setting_is_shown_checked_and_set_and_closing_a_case_cancels_its_re_audit(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'qaloop.db'}"
    await asyncio.to_thread(upgrade, url)
    engine = make_engine(url)
    sessions = make_sessions(engine)
    try:
        council = await audit_council(sessions)
        code, shown = await asyncio.to_thread(_cli, url, "tenant", "reaudit", "--tenant", TENANT)
        assert code == 0 and "An audit graded inadequate is re-audited 3 months on." in shown
        code, said = await asyncio.to_thread(
            _cli, url, "tenant", "reaudit", "--months", "13", "--tenant", TENANT
        )
        assert code == 2 and "from 1 to 12 months" in said
        code, said = await asyncio.to_thread(
            _cli,
            url,
            "tenant",
            "reaudit",
            "--months",
            "4",
            "--requires-improvement",
            "--tenant",
            TENANT,
        )
        assert code == 0, said
        assert "inadequate or requires improvement is re-audited 4 months on" in said
        async with sessions() as session:
            assert await store.policy(session=session, tenant_id=TENANT) == Policy(4, True)

        await grade_inadequate(sessions, council)
        [again] = await reaudits(sessions)
        # Four months on from Thu 26 Nov 2026 is Good Friday; then Easter Monday.
        assert again.due_on == date(2027, 3, 30)
        cases = tmp_path / "cases.csv"
        cases.write_text(
            "case_ref,team,worker_email,status,opened_on\nC-10001,North,alexw@example.com,closed,\n"
        )
        code, said = await asyncio.to_thread(
            _cli, url, "import", "cases", str(cases), "--tenant", TENANT
        )
        assert code == 0, said
        # The case's open audits, the re-audit among them, are cancelled by the import itself.
        assert "1 audit cancelled" in said
        [again] = await reaudits(sessions)
        assert again.state == "cancelled"
    finally:
        await engine.dispose()
