"""What makes a Best Practice Briefing fit to post, and reading one from a markdown file.

Pure: no database, no cards. The same limits serve the chat form and `qaloop briefing import`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlsplit

TITLE_LIMIT = 200
# The column's size; a five-minute read is about a thousand words.
READ_LIMIT = 6000
KEY_MESSAGE_LIMIT = 300
MAX_KEY_MESSAGES = 7
LINK_LIMIT = 1000

# Briefing states (the `state` column): saved, waiting for the monthly post, posted.
DRAFT = "draft"
READY = "ready"
PUBLISHED = "published"


@dataclass(frozen=True, slots=True)
class BriefingText:
    title: str
    read: str
    key_messages: tuple[str, ...]
    link: str | None


@dataclass(frozen=True, slots=True)
class FileProblem:
    line: int
    message: str


class BriefingFileError(ValueError):
    """A briefing file that cannot be read; every problem with its line number."""

    def __init__(self, problems: list[FileProblem]) -> None:
        super().__init__("; ".join(f"line {p.line}: {p.message}" for p in problems))
        self.problems = problems


def link_problem(link: str) -> str | None:
    if len(link) > LINK_LIMIT:
        return f"The link can be up to {LINK_LIMIT:,} characters."
    parts = urlsplit(link)
    if parts.scheme.lower() != "https" or not parts.netloc or " " in link:
        return "The link must be a web address starting with https://."
    return None


def split_key_messages(text: str) -> list[str]:
    """One key message per line; a leading bullet ("-", "*", "•") or number is dropped."""
    messages = []
    for line in text.splitlines():
        cleaned = _BULLET.sub("", line.strip()).strip()
        if cleaned:
            messages.append(cleaned)
    return messages


def form_problems(*, title: str, read: str, key_messages: list[str], link: str) -> dict[str, str]:
    """What is wrong with a briefing typed into the form, by field; empty when it is fine."""
    problems: dict[str, str] = {}
    if not title:
        problems["title"] = "Please give the briefing a title."
    elif len(title) > TITLE_LIMIT:
        problems["title"] = f"The title can be up to {TITLE_LIMIT} characters."
    if not read:
        problems["read"] = "Please write the five-minute read."
    elif len(read) > READ_LIMIT:
        problems["read"] = f"The five-minute read can be up to {READ_LIMIT:,} characters."
    if not key_messages:
        problems["key_messages"] = "Please give at least one key message, one per line."
    elif len(key_messages) > MAX_KEY_MESSAGES:
        problems["key_messages"] = f"Please keep to {MAX_KEY_MESSAGES} key messages or fewer."
    elif any(len(m) > KEY_MESSAGE_LIMIT for m in key_messages):
        problems["key_messages"] = f"Each key message can be up to {KEY_MESSAGE_LIMIT} characters."
    if link and (problem := link_problem(link)):
        problems["link"] = problem
    return problems


_BULLET = re.compile(r"^(?:[-*•]|\d{1,2}[.)])\s+")
_HEADING = re.compile(r"^(#{1,6})\s*(.*?)\s*#*\s*$")
_LINK_LINE = re.compile(r"^link\s*:\s*(.*)$", re.IGNORECASE)
_KEY_MESSAGES = "key messages"


def parse_briefing_file(text: str) -> BriefingText:
    """Read a briefing written as:

        # Title
        The five-minute read, in one or more paragraphs.
        ## Key messages
        - one message per bullet
        Link: https://…   (optional, anywhere after the title)

    Raises BriefingFileError listing every problem found, each with its line number.
    """
    problems: list[FileProblem] = []
    lines = text.splitlines()
    title: str | None = None
    title_line = 0
    read_lines: list[str] = []
    read_start = 0
    messages: list[tuple[int, str]] = []
    link: str | None = None
    link_line = 0
    section = "before"
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line:
            if section == "read":
                read_lines.append("")
            continue
        if found := _LINK_LINE.match(line):
            if link is not None:
                problems.append(FileProblem(number, "There is more than one Link: line."))
            link, link_line = found[1].strip(), number
            continue
        if heading := _HEADING.match(line):
            level, words = len(heading[1]), heading[2]
            if level == 1:
                if title is not None:
                    problems.append(
                        FileProblem(number, "Only one title (# line) is allowed; this is a second.")
                    )
                    continue
                title, title_line, section, read_start = words, number, "read", number + 1
            elif level == 2 and words.lower().rstrip(":") == _KEY_MESSAGES:
                if section == "before":
                    problems.append(FileProblem(number, "The title (# line) must come first."))
                if section == "messages":
                    problems.append(FileProblem(number, "“## Key messages” appears twice."))
                section = "messages"
            else:
                problems.append(
                    FileProblem(
                        number,
                        f"Unexpected heading “{_shorten(line)}”: the only section is "
                        "“## Key messages”.",
                    )
                )
            continue
        if section == "before":
            problems.append(
                FileProblem(number, "The file must start with the title, as a line “# Title”.")
            )
            section = "skipped"
        elif section == "read":
            read_lines.append(line)
        elif section == "messages":
            bullet = _BULLET.match(line)
            if bullet is None:
                problems.append(
                    FileProblem(
                        number, "Each key message must be a bullet line starting with “- ”."
                    )
                )
                continue
            messages.append((number, line[bullet.end() :].strip()))
    end = len(lines) + 1 if lines else 1
    if title is None:
        if not any(p.message.startswith("The file must start") for p in problems):
            problems.append(
                FileProblem(1, "The file must start with the title, as a line “# Title”.")
            )
    elif not title:
        problems.append(FileProblem(title_line, "The title is empty."))
    elif len(title) > TITLE_LIMIT:
        problems.append(
            FileProblem(title_line, f"The title can be up to {TITLE_LIMIT} characters.")
        )
    read = "\n\n".join(_paragraphs(read_lines))
    if title is not None and not read:
        problems.append(
            FileProblem(read_start, "The five-minute read is missing: write it under the title.")
        )
    elif len(read) > READ_LIMIT:
        problems.append(
            FileProblem(read_start, f"The five-minute read can be up to {READ_LIMIT:,} characters.")
        )
    if title is not None and section != "messages" and not messages:
        problems.append(FileProblem(end, "The “## Key messages” section is missing."))
    elif title is not None and not messages:
        problems.append(FileProblem(end, "“## Key messages” has no bullet lines under it."))
    if len(messages) > MAX_KEY_MESSAGES:
        problems.append(
            FileProblem(
                messages[MAX_KEY_MESSAGES][0],
                f"Please keep to {MAX_KEY_MESSAGES} key messages or fewer.",
            )
        )
    for number, message in messages:
        if not message:
            problems.append(FileProblem(number, "This key message is empty."))
        elif len(message) > KEY_MESSAGE_LIMIT:
            problems.append(
                FileProblem(number, f"A key message can be up to {KEY_MESSAGE_LIMIT} characters.")
            )
    if link is not None:
        if not link:
            problems.append(FileProblem(link_line, "The Link: line has no address."))
        elif problem := link_problem(link):
            problems.append(FileProblem(link_line, problem))
    if problems:
        raise BriefingFileError(sorted(problems, key=lambda p: p.line))
    assert title is not None
    return BriefingText(
        title=title, read=read, key_messages=tuple(m for _, m in messages), link=link or None
    )


def _paragraphs(lines: list[str]) -> list[str]:
    """Consecutive lines joined into paragraphs; blank lines end a paragraph."""
    paragraphs: list[str] = []
    current: list[str] = []
    for line in [*lines, ""]:
        if line:
            current.append(line)
        elif current:
            paragraphs.append(" ".join(current))
            current = []
    return paragraphs


def _shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def is_briefing_day(day: date) -> bool:
    """The `briefing` job's day: the month's second Tuesday."""
    return day == second_tuesday(day.year, day.month)


def scheduled_day(today: date) -> date:
    """The day the monthly `briefing` job next posts: the second Tuesday of this month, or of
    next month once this month's has passed."""
    day = second_tuesday(today.year, today.month)
    if day < today:
        year, month = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
        day = second_tuesday(year, month)
    return day


def second_tuesday(year: int, month: int) -> date:
    first = date(year, month, 1)
    first_tuesday = first + timedelta(days=(1 - first.weekday()) % 7)
    return first_tuesday + timedelta(days=7)
