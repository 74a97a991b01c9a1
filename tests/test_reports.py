"""`qaloop report`: the CSV round-trips to the same figures, the HTML parses and carries its charts,
the Markdown reads; none of them holds a case reference."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import typer
from typer.testing import CliRunner

from bot.rules.digest import Digest, month
from bot.services.reports import BOM, CSV_HEADER, load_digest, rows, to_csv, to_html, to_markdown
from storage.db import SessionMaker
from tests.chat import TENANT
from tests.test_digest import Fixture, build_august

LONDON = ZoneInfo("Europe/London")
MADE_ON = date(2026, 9, 1)


@pytest.fixture
async def august(sessions: SessionMaker) -> tuple[Digest, Fixture]:
    fx = await build_august(sessions)
    d = await load_digest(
        sessions=sessions,
        tenant_id=TENANT,
        period=month(date(2026, 8, 1)),
        zone=LONDON,
        now=datetime(2026, 9, 1, 8, tzinfo=UTC),
        below=3,
    )
    return d, fx


async def test_the_csv_round_trips(august: tuple[Digest, Fixture]) -> None:
    d, _ = august
    text = to_csv(d)
    assert text.startswith(BOM)
    read = list(csv.reader(io.StringIO(text.removeprefix(BOM), newline="")))
    assert tuple(read[0]) == CSV_HEADER
    assert [tuple(r) for r in read[1:]] == list(rows(d))
    found = {(s, g, m): v for s, g, m, v in read[1:]}
    assert found["compliance", "All", "on_time_percent"] == "62.5"
    assert found["compliance", "All", "declined_not_reassigned"] == "1"
    assert found["grades", "overall", "inadequate"] == "3"
    assert found["trend", "2026-07", "good_or_better_percent"] == ""
    # A file travels beyond QA: what rests on fewer than 3 is not in it (bot.rules.disclosure).
    # East had one audit due, so South (three) is hidden with it: 8 due less North's 4 leaves
    # the two together, never one.
    assert (
        found["compliance", "East", "due"]
        == found["compliance", "South", "due"]
        == ("fewer than 3")
    )
    assert found["compliance", "North", "due"] == "4"
    assert found["trend", "2026-06", "graded"] == "fewer than 3"
    assert found["feedback", "All", "responses"] == "fewer than 3"
    assert ("feedback", "All", "average_involved") not in found
    assert found["moderation_by_auditor", "Alex", "audits"] == "fewer than 3"
    assert not any(s == "overrides" and g != "All" for s, g, _ in found)


def test_a_name_that_looks_like_a_formula_is_text() -> None:
    from bot.services.spreadsheet import no_formula

    assert no_formula("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert no_formula("\t=1+1") == "'\t=1+1"
    assert no_formula("North") == "North"


class Tags(HTMLParser):
    VOID = frozenset({"meta", "br", "img", "hr", "link", "input"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.seen: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.seen.append(tag)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.seen.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.problems.append(tag)


async def test_the_html_parses_and_has_its_charts(august: tuple[Digest, Fixture]) -> None:
    d, fx = august
    page = to_html(d, made_on=MADE_ON)
    parser = Tags()
    parser.feed(page)
    parser.close()
    assert parser.problems == [] and parser.stack == []
    assert parser.seen.count("svg") == 3
    assert "polyline" in parser.seen and parser.seen.count("rect") >= 4
    assert "@media print" in page
    # Self-contained: nothing fetched from elsewhere.
    assert "<script" not in page and "src=" not in page and "<link" not in page
    assert not any(ref in page for ref in fx.case_refs)


async def test_the_markdown_reads(august: tuple[Digest, Fixture]) -> None:
    d, fx = august
    text = to_markdown(d, made_on=MADE_ON)
    assert text.startswith("# QA figures: August 2026")
    assert "5 of 8 audits due were completed on time (62%)" in text
    assert "1 declined, not reassigned; fewer than 3 cancelled: no reason recorded." in text
    assert "| Jul 2026 | 0 | 0 | – |" in text
    assert not any(ref in text for ref in fx.case_refs)


def test_the_command_writes_a_file(
    august: tuple[Digest, Fixture],
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bot.cli_reports import report_app

    # Mounted as bot.cli will mount it, without changing the real app for other tests.
    app = typer.Typer()
    app.add_typer(report_app, name="report")
    monkeypatch.setenv("QALOOP_DATABASE_URL", database_url)
    monkeypatch.delenv("QALOOP_APP_TENANT_ID", raising=False)
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "august.csv"
    args = ["report", "monthly", "--period", "2026-08", "--format", "csv", "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(BOM.encode())
    result = CliRunner().invoke(app, ["report", "quarterly", "--period", "2026-08"])
    assert result.exit_code == 2
