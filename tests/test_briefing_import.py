"""`qaloop briefing import FILE.md`: a good file becomes a draft and its author gets the preview;
a malformed one is refused with every problem and its line, and nothing is stored."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer import Typer
from typer.testing import CliRunner

from bot.cli_briefings import briefing_app
from bot.rules.briefing import BriefingFileError, parse_briefing_file
from bot.services.briefings import import_briefing
from storage.db import SessionMaker, transaction
from storage.migrate import upgrade
from storage.models import Briefing, Delivery
from tests.chat import LYNNE, PATTI, TENANT, card_text
from tests.helpers import NOW, TODAY, audit_council, logged, person, personal_chat, rows

GOOD = """\
# Professional curiosity

Ask what lies behind what you see.
Check what you are told.

Keep the child's daily life in view.

## Key messages
- Ask why, and ask again
* Check with other agencies
1. Record what you did and why

Link: https://academy.example.org/curiosity
"""


def problems_of(text: str) -> list[tuple[int, str]]:
    with pytest.raises(BriefingFileError) as raised:
        parse_briefing_file(text)
    return [(p.line, p.message) for p in raised.value.problems]


def test_a_good_file_is_read_with_paragraphs_bullets_and_link() -> None:
    briefing = parse_briefing_file(GOOD)
    assert briefing.title == "Professional curiosity"
    assert briefing.read == (
        "Ask what lies behind what you see. Check what you are told.\n\n"
        "Keep the child's daily life in view."
    )
    assert briefing.key_messages == (
        "Ask why, and ask again",
        "Check with other agencies",
        "Record what you did and why",
    )
    assert briefing.link == "https://academy.example.org/curiosity"


def test_every_problem_is_reported_with_its_line() -> None:
    text = """\
Some words before the title
# Title one
# Title two
## Background
## Key messages
A line that is not a bullet
-
Link: http://insecure.example.org
"""
    assert problems_of(text) == [
        (1, "The file must start with the title, as a line “# Title”."),
        (3, "Only one title (# line) is allowed; this is a second."),
        (3, "The five-minute read is missing: write it under the title."),
        (4, "Unexpected heading “## Background”: the only section is “## Key messages”."),
        (6, "Each key message must be a bullet line starting with “- ”."),
        (7, "Each key message must be a bullet line starting with “- ”."),
        (8, "The link must be a web address starting with https://."),
        (9, "“## Key messages” has no bullet lines under it."),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", [(1, "The file must start with the title, as a line “# Title”.")]),
        ("# T\nRead.\n", [(3, "The “## Key messages” section is missing.")]),
        (
            "# T\nRead.\n## Key messages\n" + "".join(f"- m{n}\n" for n in range(9)),
            [(11, "Please keep to 7 key messages or fewer.")],
        ),
        (
            "# T\nRead.\n## Key messages\n- m\nLink: https://a.example\nLink: https://b.example\n",
            [(6, "There is more than one Link: line.")],
        ),
        ("#  \nRead.\n## Key messages\n- m\n", [(1, "The title is empty.")]),
        (
            "# T\nRead.\n## Key messages\n- m\nLink: javascript:alert(1)\n",
            [(5, "The link must be a web address starting with https://.")],
        ),
    ],
)
def test_malformed_files(text: str, expected: list[tuple[int, str]]) -> None:
    assert problems_of(text) == expected


async def test_an_import_stores_a_draft_and_sends_the_author_the_preview(
    sessions: SessionMaker,
) -> None:
    council = await audit_council(sessions)
    async with transaction(sessions) as session:
        patti = await person(session, council.id("patti"))
    await personal_chat(sessions, patti)

    async with transaction(sessions) as session:
        imported = await import_briefing(
            session,
            tenant_id=TENANT,
            text=GOOD,
            author_email=PATTI.email.upper(),
            ready=False,
            now=NOW,
            today=TODAY,
        )

    assert imported.preview_sent and imported.state == "draft"
    [briefing] = await rows(sessions, Briefing)
    assert briefing.title == "Professional curiosity" and briefing.author_id == council.id("patti")
    [preview] = [d for d in await rows(sessions, Delivery) if d.kind == "briefing_preview"]
    assert preview.recipient_staff_id == council.id("patti")
    shown = card_text(preview.card)
    assert "Imported ✓" in shown and "[Publish now]" in shown and "[Edit]" in shown
    [saved] = await logged(sessions, "briefing.saved")
    assert saved.after is not None and saved.after["via"] == "import"


async def test_ready_schedules_it_for_the_monthly_post(sessions: SessionMaker) -> None:
    await audit_council(sessions)
    async with transaction(sessions) as session:
        imported = await import_briefing(
            session,
            tenant_id=TENANT,
            text=GOOD,
            author_email=PATTI.email,
            ready=True,
            now=NOW,
            today=TODAY,
        )
    assert imported.state == "ready" and not imported.preview_sent  # no chat with Patti yet
    [briefing] = await rows(sessions, Briefing)
    assert briefing.state == "ready"


async def test_a_bad_author_or_a_case_reference_stores_nothing(sessions: SessionMaker) -> None:
    council = await audit_council(sessions)
    case_ref = council.cases["South"][1].case_ref
    text = GOOD.replace("Check what you are told.", f"Check what you are told, as in {case_ref}.")

    with pytest.raises(BriefingFileError) as raised:
        async with transaction(sessions) as session:
            await import_briefing(
                session,
                tenant_id=TENANT,
                text=text,
                author_email=LYNNE.email,
                ready=False,
                now=NOW,
                today=TODAY,
            )

    assert [(p.line, p.message) for p in raised.value.problems] == [
        (0, f"--author {LYNNE.email}: only the QA team can author."),
        (
            4,
            f"It names a case reference ({case_ref}). Briefings go to staff channels, so please take it out.",
        ),
    ]
    assert await rows(sessions, Briefing) == []


def test_the_command_line_lists_the_problems_and_exits_1(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'qaloop.db'}"
    upgrade(url)
    bad = tmp_path / "briefing.md"
    bad.write_text("# Title\n\n## Key messages\n- one\nLink: http://x.example\n")
    app = Typer()
    app.add_typer(briefing_app, name="briefing")

    result = CliRunner().invoke(
        app,
        ["briefing", "import", str(bad), "--author", PATTI.email, "--tenant", TENANT],
        env={"QALOOP_DATABASE_URL": url},
    )

    assert result.exit_code == 1, result.output
    assert "nothing was imported" in result.output
    assert "The five-minute read is missing" in result.output
    assert "The link must be a web address starting with" in result.output
