"""Cases close or change worker, people leave: every open item is cancelled with its reason, moved
or kept, and nothing is lost (counted with plain SQL before and after). The manager passes a
leaver's actions on from a card, over HTTP; the wrong person pressing changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.features import CATALOGUE
from bot.services import lifecycle
from bot.settings import Settings
from storage.db import SessionMaker, transaction
from storage.imports import CaseChange, ImportFailed, import_cases, import_staff
from storage.models import Action, Staff, Tenant
from tests.chat import MEGAN, TENANT, Chat, Person, button
from tests.helpers import (
    DUE,
    NESTOR,
    NOW,
    PATTI,
    TODAY,
    Council,
    action_row,
    add_action,
    add_audit,
    council_with_everyone,
    everyone_has_talked_to_the_bot,
    logged,
    press,
    queued,
)

pytestmark = pytest.mark.clock(NOW)  # Thu 26 Nov 2026, 10:02 in London


LEE = Person("Lee Gu", "00000000-0000-0000-0000-0000000000024", "29:lee", "leeg@example.com")


async def with_lee(sessions: SessionMaker) -> Council:
    """The council of the action tests, and Lee, a second practitioner in Alex's team."""
    council = await council_with_everyone(sessions)
    async with transaction(sessions) as session:
        lee = Staff(
            tenant_id=TENANT,
            email=LEE.email,
            display_name=LEE.name,
            aad_object_id=LEE.aad,
            roles="practitioner",
            team_id=council.team_id,
            manager_id=council.staff["megan"].id,
        )
        session.add(lee)
        await session.flush()
        council.staff["lee"] = lee
    return council


async def count(sessions: SessionMaker, sql: str) -> int:
    async with sessions() as session:
        return int((await session.exec(text(sql))).scalar_one())  # type: ignore[call-overload]


OPEN_ACTIONS = "SELECT count(*) FROM action WHERE state = 'open'"
ALL_ACTIONS = "SELECT count(*) FROM action"
UNFINISHED_AUDITS = (
    "SELECT count(*) FROM audit WHERE state IN ('assigned', 'in_progress', 'declined')"
)


def ctx() -> lifecycle.Context:
    return lifecycle.Context(TENANT, TODAY, NOW, CATALOGUE.redraws(Settings()))


def cases_csv(tmp_path: Path, council: Council, rows: list[tuple[int, str, str]]) -> Path:
    """case index, worker email, status; the other cases as they are."""
    lines = ["case_ref,team,worker_email,status,opened_on"]
    for index, worker, status in rows:
        lines.append(f"{council.cases[index].case_ref},North,{worker},{status},")
    path = tmp_path / "cases.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


async def import_cases_file(sessions: SessionMaker, path: Path) -> lifecycle.Moves:
    moves = lifecycle.Moves()

    async def changed(session: AsyncSession, changes: list[CaseChange]) -> None:
        await lifecycle.cases_changed(session, ctx(), changes, moves)

    await import_cases(sessions=sessions, tenant_id=TENANT, path=path, on_changed=changed)
    return moves


async def close_case_actions(sessions: SessionMaker, setting: str) -> None:
    async with transaction(sessions) as session:
        tenant = await session.get(Tenant, TENANT)
        assert tenant is not None
        tenant.closed_case_actions = setting
        session.add(tenant)


async def make_child_visit(sessions: SessionMaker, action: Action) -> None:
    async with transaction(sessions) as session:
        row = await session.get(Action, action.id)
        assert row is not None
        row.source = "child_visit"
        session.add(row)


# --- a case closes ---------------------------------------------------------------------------------


async def test_closing_a_case_cancels_its_audits_with_the_reason_and_keeps_its_actions(
    chat: Chat, sessions: SessionMaker, tmp_path: Path
) -> None:
    council = await with_lee(sessions)
    await everyone_has_talked_to_the_bot(chat)
    await add_audit(sessions, council, auditor="megan", practitioner="alex", due_on=DUE)
    await add_audit(
        sessions, council, auditor="megan", practitioner="alex", due_on=DUE, state="in_progress"
    )
    other = await add_audit(
        sessions, council, auditor="megan", practitioner="alex", due_on=DUE, case_index=1
    )
    await add_action(sessions, council, owner="alex", what="Update the plan", due_on=DUE)
    before = await count(sessions, OPEN_ACTIONS)
    assert await count(sessions, UNFINISHED_AUDITS) == 3

    moves = await import_cases_file(
        sessions,
        cases_csv(
            tmp_path,
            council,
            [(0, "alexw@example.com", "closed"), (1, "alexw@example.com", "open")],
        ),
    )

    assert moves.audits_cancelled == 2 and moves.actions_kept == 1 and moves.actions_closed == 0
    assert await count(sessions, UNFINISHED_AUDITS) == 1  # case 2's audit is untouched
    assert (
        await count(
            sessions,
            "SELECT count(*) FROM audit WHERE state = 'cancelled' AND cancelled_reason = 'case closed'",
        )
        == 2
    )
    assert (
        await count(
            sessions, f"SELECT count(*) FROM audit WHERE id = {other.id} AND state = 'assigned'"
        )
        == 1
    )
    assert await count(sessions, OPEN_ACTIONS) == before  # the setting says keep
    assert len(await logged(sessions, "audit.cancelled")) == 2
    [to_qa] = await queued(sessions, "case_ended")
    assert to_qa.recipient_staff_id == council.staff["patti"].id
    assert to_qa.summary == "A case ended: 2 audits cancelled"  # no case reference in a preview
    assert council.cases[0].case_ref not in to_qa.summary


async def test_with_the_setting_close_its_actions_close_but_a_child_visit_stays_open(
    chat: Chat, sessions: SessionMaker, tmp_path: Path
) -> None:
    council = await with_lee(sessions)
    await close_case_actions(sessions, "close")
    plan = await add_action(sessions, council, owner="alex", what="Update the plan", due_on=DUE)
    visit = await add_action(sessions, council, owner="alex", what="Visit the child", due_on=DUE)
    await make_child_visit(sessions, visit)
    elsewhere = await add_action(
        sessions, council, owner="alex", what="Other case", due_on=DUE, case_index=1
    )
    total = await count(sessions, ALL_ACTIONS)

    moves = await import_cases_file(
        sessions, cases_csv(tmp_path, council, [(0, "alexw@example.com", "transferred")])
    )

    assert (moves.actions_closed, moves.actions_kept) == (1, 1)
    assert plan.id and visit.id and elsewhere.id
    assert (await action_row(sessions, plan.id)).state == "cancelled"
    assert (await action_row(sessions, plan.id)).cancelled_at is not None
    assert (await action_row(sessions, visit.id)).state == "open"
    assert (await action_row(sessions, elsewhere.id)).state == "open"
    assert await count(sessions, ALL_ACTIONS) == total  # nothing deleted
    [cancelled] = await logged(sessions, "action.cancelled")
    assert cancelled.entity_id == str(plan.id) and cancelled.after["reason"] == "case transferred"


async def test_a_bad_row_changes_nothing_and_says_which_line(
    sessions: SessionMaker, tmp_path: Path
) -> None:
    council = await with_lee(sessions)
    await add_audit(sessions, council, auditor="megan", practitioner="alex", due_on=DUE)
    path = cases_csv(
        tmp_path,
        council,
        [(0, "alexw@example.com", "closed"), (1, "alexw@example.com", "transfered")],
    )

    with pytest.raises(ImportFailed) as failed:
        await import_cases_file(sessions, path)

    assert [(e.line, e.column) for e in failed.value.errors] == [(3, "status")]
    assert await count(sessions, UNFINISHED_AUDITS) == 1
    assert await count(sessions, "SELECT count(*) FROM \"case\" WHERE status = 'closed'") == 0


# --- a case has a new worker --------------------------------------------------------------------


async def test_a_new_worker_gets_the_cases_open_items_and_everyone_is_told(
    chat: Chat, sessions: SessionMaker, tmp_path: Path
) -> None:
    council = await with_lee(sessions)
    await everyone_has_talked_to_the_bot(chat)
    await chat.say("help", who=LEE)
    audit = await add_audit(sessions, council, auditor="megan", practitioner="alex", due_on=DUE)
    # Lee was auditing this case: now it is theirs, so the audit goes back to QA.
    audited = await add_audit(sessions, council, auditor="lee", practitioner="alex", due_on=DUE)
    moving = await add_action(sessions, council, owner="alex", what="Update the plan", due_on=DUE)
    staying = await add_action(
        sessions, council, owner="alex", what="Other case", due_on=DUE, case_index=1
    )
    before = await count(sessions, OPEN_ACTIONS)

    moves = await import_cases_file(
        sessions, cases_csv(tmp_path, council, [(0, "leeg@example.com", "open")])
    )

    assert moving.id and staying.id and audit.id and audited.id
    assert (await action_row(sessions, moving.id)).owner_id == council.staff["lee"].id
    assert (await action_row(sessions, staying.id)).owner_id == council.staff["alex"].id
    assert await count(sessions, OPEN_ACTIONS) == before
    assert (
        await count(
            sessions,
            f"SELECT count(*) FROM audit WHERE id = {audit.id} "
            f"AND practitioner_id = {council.staff['lee'].id}",
        )
        == 1
    )
    assert (
        await count(
            sessions, f"SELECT count(*) FROM audit WHERE id = {audited.id} AND state = 'declined'"
        )
        == 1
    )
    assert (moves.actions_moved, moves.audits_returned) == (1, 1)
    told = {d.recipient_staff_id for d in await queued(sessions, "case_new_worker")}
    assert told == {council.staff[p].id for p in ("alex", "lee", "megan")}
    assert {d.recipient_staff_id for d in await queued(sessions, "audit_declined")} == {
        council.staff["patti"].id
    }
    [moved] = await logged(sessions, "action.owner_changed")
    assert moved.before == {"owner_id": council.staff["alex"].id}


# --- a person leaves ---------------------------------------------------------------------------


STAFF = """email,display_name,roles,team,service,status
meganb@example.com,Megan Bowen,team_manager,North,Safeguarding,
leeg@example.com,Lee Gu,practitioner,North,Safeguarding,
nestorw@example.com,Nestor Wilke,practitioner,South,Safeguarding,
pattif@example.com,Patti Fernandez,qa,,,
"""


async def import_staff_file(
    sessions: SessionMaker, path: Path, *, full: bool = False
) -> lifecycle.Moves:
    moves = lifecycle.Moves()

    async def left(session: AsyncSession, ids: list[int]) -> None:
        await lifecycle.staff_left(session, ctx(), ids, moves)

    await import_staff(sessions=sessions, tenant_id=TENANT, path=path, full=full, on_left=left)
    return moves


async def alex_leaves(sessions: SessionMaker, tmp_path: Path) -> tuple[Council, list[Action]]:
    council = await with_lee(sessions)
    plan = await add_action(sessions, council, owner="alex", what="Update the plan", due_on=DUE)
    record = await add_action(
        sessions, council, owner="alex", what="Record the visit", due_on=DUE, case_index=1
    )
    await add_audit(sessions, council, auditor="alex", practitioner="lee", due_on=DUE, case_index=2)
    return council, [plan, record]


async def test_someone_absent_from_a_full_staff_import_leaves_and_nothing_is_lost(
    chat: Chat, sessions: SessionMaker, tmp_path: Path
) -> None:
    council, actions = await alex_leaves(sessions, tmp_path)
    await everyone_has_talked_to_the_bot(chat)
    open_before = await count(sessions, OPEN_ACTIONS)
    unfinished_before = await count(sessions, UNFINISHED_AUDITS)
    path = tmp_path / "staff.csv"
    path.write_text(STAFF, encoding="utf-8")

    moves = await import_staff_file(sessions, path, full=True)

    alex, megan = council.staff["alex"].id, council.staff["megan"].id
    assert await count(sessions, f"SELECT count(*) FROM staff WHERE id = {alex} AND active") == 0
    assert await count(sessions, OPEN_ACTIONS) == open_before
    assert await count(sessions, UNFINISHED_AUDITS) == unfinished_before
    assert (
        await count(
            sessions, f"SELECT count(*) FROM action WHERE owner_id = {alex} AND state = 'open'"
        )
        == 0
    )
    assert (
        await count(
            sessions, f"SELECT count(*) FROM action WHERE owner_id = {megan} AND state = 'open'"
        )
        == 2
    )
    assert (
        await count(
            sessions,
            f"SELECT count(*) FROM audit WHERE auditor_id = {alex} AND state = 'declined' AND declined_reason = 'the auditor has left'",
        )
        == 1
    )
    assert (moves.actions_moved, moves.audits_returned) == (2, 1)
    assert len(await logged(sessions, "action.owner_changed")) == 2
    [to_megan] = await queued(sessions, "leaver_actions")
    assert to_megan.recipient_staff_id == megan
    assert to_megan.summary == "Alex Wilber has left: their actions need new owners"
    assert sorted(to_megan.subjects or []) == sorted(
        [f"leaver:{alex}", *(f"action:{a.id}" for a in actions)]
    )
    # A leaver gets no more cards (the QA team's card about their audit goes to QA only).
    assert not [d for d in await queued(sessions, "audit_declined") if d.recipient_staff_id == alex]


async def test_a_row_whose_manager_is_leaving_is_refused_with_its_line(
    sessions: SessionMaker, tmp_path: Path
) -> None:
    await alex_leaves(sessions, tmp_path)
    path = tmp_path / "staff.csv"
    path.write_text(
        "email,display_name,roles,team,service,manager_email,status\n"
        "alexw@example.com,Alex Wilber,practitioner,North,Safeguarding,,left\n"
        "leeg@example.com,Lee Gu,practitioner,North,Safeguarding,alexw@example.com,\n",
        encoding="utf-8",
    )
    with pytest.raises(ImportFailed) as failed:
        await import_staff_file(sessions, path)
    assert [(e.line, e.column) for e in failed.value.errors] == [(3, "manager_email")]
    assert await count(sessions, "SELECT count(*) FROM staff WHERE NOT active") == 0


async def test_megan_passes_a_leavers_action_on_and_nestor_cannot(
    chat: Chat, sessions: SessionMaker, tmp_path: Path
) -> None:
    council, (plan, _record) = await alex_leaves(sessions, tmp_path)
    await everyone_has_talked_to_the_bot(chat)
    path = tmp_path / "staff.csv"
    path.write_text(
        "email,display_name,roles,team,service,status\n"
        "alexw@example.com,Alex Wilber,practitioner,North,Safeguarding,left\n",
        encoding="utf-8",
    )
    await import_staff_file(sessions, path)
    [to_megan] = await queued(sessions, "leaver_actions")
    assert plan.id is not None
    data = button(to_megan.card, "Pass on", plan.id)
    assert data == {
        "action": "pass_on_action",
        "action_id": plan.id,
        "from_owner": council.staff["megan"].id,
    }
    to_lee = data | {f"new_owner_{plan.id}": str(council.staff["lee"].id)}

    refused = await press(chat, to_lee, who=NESTOR)

    assert (
        refused.error == "Only the person holding this action, their manager or QA can pass it on."
    )
    assert (await action_row(sessions, plan.id)).owner_id == council.staff["megan"].id
    [denied] = await logged(sessions, "denied.pass_on_action")
    assert denied.actor_id == council.staff["nestor"].id

    passed = await press(chat, to_lee, who=MEGAN)

    assert "Passed on ✓ Lee Gu owns it now." in passed.text
    assert (await action_row(sessions, plan.id)).owner_id == council.staff["lee"].id
    [given] = [r for r in await logged(sessions, "action.owner_changed") if r.actor_id]
    assert given.actor_id == council.staff["megan"].id
    assert given.after == {"owner_id": council.staff["lee"].id, "reason": "passed on"}

    again = await press(chat, to_lee, who=MEGAN)
    assert again.error == "Already passed on: Lee Gu has it."

    # QA may pass it on too, but only to someone in the action's team.
    to_nestor = button(to_megan.card, "Pass on", _record.id) | {
        f"new_owner_{_record.id}": str(council.staff["nestor"].id)
    }
    wrong = await press(chat, to_nestor, who=PATTI)
    assert wrong.error == "They can't own this action. Please choose someone from the list."
    assert _record.id is not None
    assert (await action_row(sessions, _record.id)).owner_id == council.staff["megan"].id


async def test_a_full_staff_list_that_leaves_out_many_is_refused_until_the_number_is_confirmed(
    sessions: SessionMaker, tmp_path: Path
) -> None:
    """A partial file (here, the QA team alone) taken as the whole list would stop cards for
    nearly everyone: it is refused, nothing is written, until --leavers confirms the number."""
    await alex_leaves(sessions, tmp_path)
    active = await count(sessions, "SELECT count(*) FROM staff WHERE active")
    path = tmp_path / "staff.csv"
    path.write_text(
        "email,display_name,roles,team,service\npattif@example.com,Patti Fernandez,qa,,\n"
    )
    leaving = active - 1
    assert leaving > 3

    with pytest.raises(ImportFailed) as refused:
        await import_staff(sessions=sessions, tenant_id=TENANT, path=path, full=True)
    with pytest.raises(ImportFailed):
        await import_staff(
            sessions=sessions, tenant_id=TENANT, path=path, full=True, confirmed_leavers=2
        )

    [problem] = refused.value.errors
    assert problem.reason.startswith(
        f"This full staff list leaves out {leaving} of the {active} active staff"
    )
    assert f"--leavers {leaving}" in problem.reason
    assert await count(sessions, "SELECT count(*) FROM staff WHERE active") == active
    assert await logged(sessions, "import.staff") == []

    await import_staff(
        sessions=sessions, tenant_id=TENANT, path=path, full=True, confirmed_leavers=leaving
    )
    assert await count(sessions, "SELECT count(*) FROM staff WHERE active") == 1
