"""The weekly step guide: the content file the QA team edits, the `step_guide` job on the week's
first working day to auditors with open audits, and `guide`."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest

from bot.features import CATALOGUE
from bot.features.guide.handlers import show_guide
from bot.rules.workdays import first_working_day_of_week, is_first_working_day_of_week
from bot.services.guide import (
    STEP_GUIDE_FILE,
    GuideFileError,
    iso_week,
    load_step_guide,
    parse_step_guide,
)
from bot.settings import Settings
from jobs import step_guide
from jobs.runs import Job, JobDeps
from jobs.runs import run_job as run_for_tenants
from jobs.scheduler import scheduled_at
from storage.db import SessionMaker, transaction
from tests.chat import DIEGO, LYNNE, PATTI, TENANT, Chat, button, buttons, card_text
from tests.helpers import add_assigned_audit, audit_council, person, personal_chat, request

JOBS = CATALOGUE.jobs

MONDAY = datetime(2026, 11, 30, 8, 45, tzinfo=UTC)


def test_the_shipped_guide_follows_the_framework() -> None:
    guide = load_step_guide()
    titles = [s.title for s in guide.steps]
    assert titles[:6] == [
        "The case is chosen at random",
        "Book the collaborative audit",
        "Review against the six practice standards",
        "Grade with limiting judgements in mind",
        "Agree SMART actions",
        "If practice is inadequate",
    ]
    assert "within 3 working days" in guide.steps[5].text
    assert "The practitioner's feedback" in titles


def test_a_broken_guide_file_names_every_problem_with_its_line(tmp_path: Path) -> None:
    text = "Intro before the title\n# Guide\n## \n#Step without a space\n## Fine\nText.\n## Empty\n"
    with pytest.raises(GuideFileError) as raised:
        parse_step_guide(text, path=tmp_path / "step_guide.md")
    assert [(p.line, p.message) for p in raised.value.problems] == [
        (1, "The file must start with the title, “# …”."),
        (3, "This step has no heading after “## ”."),
        (3, "This step has no text under its heading."),
        (4, "Use “# ” for the title and “## ” for each step, with a space."),
        (7, "This step has no text under its heading."),
    ]
    assert str(raised.value).startswith("step_guide.md: line 1:")
    assert STEP_GUIDE_FILE.name == "step_guide.md"


def test_the_first_working_day_moves_after_a_bank_holiday() -> None:
    assert first_working_day_of_week(date(2026, 12, 2)) == date(2026, 11, 30)
    # Easter Monday 2026 is 6 April: the guide comes on the Tuesday.
    assert first_working_day_of_week(date(2026, 4, 9)) == date(2026, 4, 7)
    assert is_first_working_day_of_week(date(2026, 4, 7))
    assert not is_first_working_day_of_week(date(2026, 4, 6))
    assert iso_week(date(2026, 11, 30)) == "2026-W49"
    assert iso_week(date(2027, 1, 1)) == "2026-W53"


def test_the_scheduler_fires_the_guide_on_the_first_working_day_of_the_week_only(
    settings: Settings,
) -> None:
    london = settings.zone
    job = JOBS["step_guide"]

    def noon(day: date) -> datetime:
        return datetime.combine(day, time(12), tzinfo=london)

    assert scheduled_at(job, settings, noon(date(2026, 11, 30))) == datetime(
        2026, 11, 30, 8, 45, tzinfo=london
    )
    assert scheduled_at(job, settings, noon(date(2026, 12, 1))) is None
    assert scheduled_at(job, settings, noon(date(2026, 4, 6))) is None  # Easter Monday
    assert scheduled_at(job, settings, noon(date(2026, 4, 7))) == datetime(
        2026, 4, 7, 8, 45, tzinfo=london
    )


async def test_the_job_sends_each_auditor_with_open_audits_their_guide_once_a_week(
    sessions: SessionMaker, settings: Settings
) -> None:
    council = await audit_council(sessions)
    this_week = await add_assigned_audit(
        sessions, council, auditor="patti", due_on=date(2026, 12, 3)
    )
    overdue = await add_assigned_audit(
        sessions,
        council,
        auditor="patti",
        case_index=1,
        due_on=date(2026, 11, 20),
        state="in_progress",
    )
    later = await add_assigned_audit(
        sessions, council, auditor="patti", case_index=2, due_on=date(2027, 1, 8)
    )
    await add_assigned_audit(
        sessions,
        council,
        team="South",
        auditor="diego",
        due_on=date(2026, 12, 4),
        state="completed",
    )
    await add_assigned_audit(
        sessions, council, team="East", auditor="joni", due_on=date(2026, 12, 4)
    )
    async with transaction(sessions) as session:
        for key in ("patti", "diego", "alex", "lynne"):
            await personal_chat(sessions, await person(session, council.id(key)))
    # Joni has an open audit but no chat with the bot yet; Diego's audit is completed; Alex and
    # Lynne have nothing open.

    planned = await step_guide.run(deps=JobDeps(sessions, settings, TENANT), now=MONDAY)

    [guide] = planned
    assert guide.recipient_staff_id == council.id("patti")
    assert guide.dedupe_key == f"step_guide:{council.id('patti')}:2026-W49"
    assert guide.summary == "Your audit steps this week, and your 3 open audits"
    refs = [c.case_ref for c in council.cases["North"]]
    assert not any(r in guide.summary for r in refs)
    shown = card_text(guide.card)
    assert "Your audit steps this week" in shown and "1. The case is chosen at random" in shown
    week, coming = shown.split("Your audits this week")[1].split("Coming up")
    assert refs[1] in week and "Overdue: was due Fri 20 Nov" in week
    assert refs[0] in week and "Due Thu 3 Dec" in week
    assert refs[2] in coming and "Due Fri 8 Jan 2027" in coming
    grading = [b["data"] for b in buttons(guide.card) if b["title"] == "Record grades"]
    assert grading == [
        {"action": "open_grading", "audit_id": overdue.id},
        {"action": "open_grading", "audit_id": this_week.id},
        {"action": "open_grading", "audit_id": later.id},
    ]

    # Run a day late (a missed Monday recovered with run-job): the same week's guide.
    [late] = await step_guide.run(
        deps=JobDeps(sessions, settings, TENANT), now=MONDAY.replace(day=1, month=12)
    )
    assert late.dedupe_key == guide.dedupe_key


async def test_away_auditors_are_skipped_and_a_second_run_sends_nothing_more(
    sessions: SessionMaker, settings: Settings
) -> None:
    council = await audit_council(sessions)
    await add_assigned_audit(sessions, council, auditor="patti", due_on=date(2026, 12, 3))
    await add_assigned_audit(
        sessions, council, team="South", auditor="diego", due_on=date(2026, 12, 3)
    )
    async with transaction(sessions) as session:
        for key in ("patti", "diego"):
            await personal_chat(sessions, await person(session, council.id(key)))
        diego = await person(session, council.id("diego"))
        diego.away_until = date(2026, 12, 4)
        session.add(diego)
    job = Job("step_guide", step_guide.run, at=lambda s: s.step_guide_time, days="mon-fri")

    [first] = await run_for_tenants(job, sessions=sessions, settings=settings, now=MONDAY)
    [second] = await run_for_tenants(job, sessions=sessions, settings=settings, now=MONDAY)

    assert first.state == "ran" and first.queued == 1
    assert [p.recipient_name for p in first.planned] == [PATTI.name]
    assert second.state == "taken"
    assert DIEGO.name not in [p.recipient_name for p in first.planned]


async def test_guide_shows_the_asker_their_steps_and_audits_privately(
    sessions: SessionMaker,
) -> None:
    council = await audit_council(sessions)
    audit = await add_assigned_audit(
        sessions, council, team="South", auditor="diego", due_on=date(2026, 12, 3)
    )
    async with transaction(sessions) as session:
        diego = await person(session, council.id("diego"))
        reply = await show_guide(request(session, diego))
    assert reply.private
    shown = card_text(reply.content())
    assert council.cases["South"][0].case_ref in shown
    assert button(reply.content(), "Record grades") == {
        "action": "open_grading",
        "audit_id": audit.id,
    }
    assert council.cases["South"][0].case_ref not in reply.summary


async def test_over_http_guide_is_for_auditors_only(chat: Chat, sessions: SessionMaker) -> None:
    await audit_council(sessions)
    refused = await chat.say("guide", who=LYNNE)
    assert "not available for your role" in refused.text
    answer = await chat.say("guide", who=PATTI)
    assert "Your audit steps this week" in answer.text


async def test_a_council_s_own_guide_file_is_used_by_the_command_and_the_job(
    sessions: SessionMaker, settings: Settings, tmp_path: Path
) -> None:
    own = tmp_path / "our_guide.md"
    own.write_text("# Northshire's audit week\n## Ring the practitioner\nOn Monday.\n")
    ours = settings.model_copy(update={"step_guide_file": own})
    council = await audit_council(sessions)
    await add_assigned_audit(sessions, council, auditor="patti", due_on=date(2026, 12, 3))
    async with transaction(sessions) as session:
        patti = await person(session, council.id("patti"))
        await personal_chat(sessions, patti)
        reply = await show_guide(request(session, patti, settings=ours))

    shown = card_text(reply.content())
    assert "Northshire's audit week" in shown and "1. Ring the practitioner" in shown
    assert "The case is chosen at random" not in shown
    [guide] = await step_guide.run(deps=JobDeps(sessions, ours, TENANT), now=MONDAY)
    assert "1. Ring the practitioner" in card_text(guide.card)


async def test_auditors_see_the_shipped_guide_s_steps_not_its_notes_for_editors(
    chat: Chat, sessions: SessionMaker
) -> None:
    await audit_council(sessions)

    answer = await chat.say("guide", who=PATTI)

    assert "Your audit steps this week" in answer.text
    assert "1. The case is chosen at random" in answer.text
    assert "edit this file" not in answer.text and "edits this file" not in answer.text
    assert "<!--" not in answer.text and "-->" not in answer.text
    assert "edit this file" in STEP_GUIDE_FILE.read_text()  # the notes are still there to read


async def test_a_council_s_own_notes_for_editors_are_left_out_wherever_they_are(
    sessions: SessionMaker, settings: Settings, tmp_path: Path
) -> None:
    own = tmp_path / "our_guide.md"
    own.write_text(
        "<!-- Kept by Sam in QA; ask before changing. -->\n"
        "# Northshire's audit week\n"
        "Read this first. <!-- reworded in May --> It is short.\n"
        "## Ring the practitioner\n"
        "On Monday.\n"
        "<!--\n"
        "## Old step we dropped\n"
        "Kept here in case the framework brings it back.\n"
        "-->\n"
        "## Book the room\n"
        "By Wednesday.\n"
    )
    ours = settings.model_copy(update={"step_guide_file": own})
    council = await audit_council(sessions)
    await add_assigned_audit(sessions, council, auditor="patti", due_on=date(2026, 12, 3))
    async with transaction(sessions) as session:
        await personal_chat(sessions, await person(session, council.id("patti")))

    [guide] = await step_guide.run(deps=JobDeps(sessions, ours, TENANT), now=MONDAY)

    shown = card_text(guide.card)
    assert "Read this first.  It is short." in shown
    assert "1. Ring the practitioner\nOn Monday." in shown
    assert "2. Book the room\nBy Wednesday." in shown
    for hidden in ("Sam", "reworded", "Old step", "in case", "<!--", "-->"):
        assert hidden not in shown, hidden


def test_a_note_for_editors_left_open_is_a_problem_at_its_line(tmp_path: Path) -> None:
    text = "# Guide\n<!-- one\nline -->\n## Step\nText.\n<!-- never closed\n## Lost\nText.\n#Bad\n"
    with pytest.raises(GuideFileError) as raised:
        parse_step_guide(text, path=tmp_path / "step_guide.md")
    assert [(p.line, p.message) for p in raised.value.problems] == [
        (6, "This note for editors has no end: close it with “-->”.")
    ]
    # A closed note spanning lines leaves the lines after it numbered as in the file.
    with pytest.raises(GuideFileError) as raised:
        parse_step_guide("# Guide\n<!-- a\nb -->\n## Step\n\n#Bad\n", path=tmp_path)
    assert [p.line for p in raised.value.problems] == [4, 6]


def test_a_missing_guide_file_stops_the_bot_starting(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="is not a file"):
        Settings(_env_file=None, step_guide_file=tmp_path / "nowhere.md")  # type: ignore[call-arg]
