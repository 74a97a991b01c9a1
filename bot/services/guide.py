"""The weekly step guide's content: its file, the week it covers, and the open audits it shows.

The steps live in bot/content/step_guide.md, or the council's own file that
QALOOP_STEP_GUIDE_FILE names, so the QA team can change them without code: a "# " title, an
optional introduction, then a "## " heading for each step with the text under it. Notes for
whoever edits the file go in HTML comments, <!-- like this -->, on one line or several: auditors
never see them (nor does a Markdown preview of the file).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from bot.rules.reminders import AuditDue
from bot.rules.themes import THEME_KEY as CONTENT_KEY
from bot.rules.themes import THEME_KEY_LIMIT as CONTENT_KEY_LIMIT
from cards.guide import GuideAudit, GuideStep, StepGuide

log = logging.getLogger(__name__)

STEP_GUIDE_FILE = Path(__file__).resolve().parents[1] / "content" / "step_guide.md"
MAX_STEPS = 12
TITLE_LIMIT = 200
TEXT_LIMIT = 1500
# Open audits of any due date: the card shows this week's first, then what is coming up.
FAR_AHEAD = date.max
_HEADING = re.compile(r"^(#+)(?:\s+(.*))?$")
_NOTE = re.compile(r"<!--.*?-->", re.DOTALL)
NOTE_OPEN = "<!--"


@dataclass(frozen=True, slots=True)
class GuideProblem:
    line: int
    message: str


class GuideFileError(ValueError):
    """The content file cannot be used; every problem with its line number."""

    def __init__(self, path: Path, problems: list[GuideProblem]) -> None:
        listed = "; ".join(f"line {p.line}: {p.message}" for p in problems)
        super().__init__(f"{path.name}: {listed}")
        self.problems = problems


def parse_step_guide(text: str, *, path: Path = STEP_GUIDE_FILE) -> StepGuide:
    """Read the guide, reporting every problem at once (GuideFileError)."""
    problems: list[GuideProblem] = []
    title: str | None = None
    intro: list[str] = []
    steps: list[tuple[int, str, list[str]]] = []
    text, unclosed = without_notes(text)
    if unclosed is not None:
        problems.append(
            GuideProblem(unclosed, "This note for editors has no end: close it with “-->”.")
        )
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        marker = _HEADING.match(line)
        if marker is None and line.startswith("#"):
            problems.append(
                GuideProblem(
                    number, "Use “# ” for the title and “## ” for each step, with a space."
                )
            )
        elif marker is not None and len(marker[1]) == 2:
            if title is None:
                problems.append(GuideProblem(number, "The title (a “# ” line) must come first."))
            steps.append((number, (marker[2] or "").strip(), []))
        elif marker is not None and len(marker[1]) == 1:
            if title is not None:
                problems.append(GuideProblem(number, "Only one title (“# ” line) is allowed."))
            else:
                title = (marker[2] or "").strip()
                if not title:
                    problems.append(GuideProblem(number, "The title is empty."))
                elif len(title) > TITLE_LIMIT:
                    problems.append(
                        GuideProblem(number, f"The title can be up to {TITLE_LIMIT} characters.")
                    )
        elif marker is not None:
            problems.append(GuideProblem(number, "Only “# ” (title) and “## ” (step) headings."))
        elif steps:
            steps[-1][2].append(line)
        elif title is not None:
            intro.append(line)
        else:
            problems.append(GuideProblem(number, "The file must start with the title, “# …”."))
    if title is None and not problems:
        problems.append(GuideProblem(1, "The file must start with the title, “# …”."))
    if not steps:
        problems.append(GuideProblem(1, "There are no steps: start each with a “## ” line."))
    if len(steps) > MAX_STEPS:
        problems.append(GuideProblem(steps[MAX_STEPS][0], f"Keep to {MAX_STEPS} steps or fewer."))
    for number, heading, lines in steps:
        if not heading:
            problems.append(GuideProblem(number, "This step has no heading after “## ”."))
        elif len(heading) > TITLE_LIMIT:
            problems.append(
                GuideProblem(number, f"A step heading can be up to {TITLE_LIMIT} characters.")
            )
        if not lines:
            problems.append(GuideProblem(number, "This step has no text under its heading."))
        elif len(" ".join(lines)) > TEXT_LIMIT:
            problems.append(
                GuideProblem(number, f"A step's text can be up to {TEXT_LIMIT:,} characters.")
            )
    if problems:
        raise GuideFileError(path, sorted(problems, key=lambda p: p.line))
    assert title is not None
    return StepGuide(
        title=title,
        intro=" ".join(intro),
        steps=tuple(GuideStep(heading, " ".join(lines)) for _, heading, lines in steps),
    )


def without_notes(text: str) -> tuple[str, int | None]:
    """The text with every <!-- note --> blanked, its line breaks kept so problems are reported
    at the right line; and the line of a note left open, if any (everything after it is
    dropped, as a Markdown preview hides it)."""
    kept = _NOTE.sub(lambda note: "\n" * note[0].count("\n"), text)
    start = kept.find(NOTE_OPEN)
    if start == -1:
        return kept, None
    return kept[:start], kept.count("\n", 0, start) + 1


def read_content(path: Path) -> str:
    """A content file's text (the guide, descriptors, themes, a template), or GuideFileError."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise GuideFileError(
            path, [GuideProblem(0, f"cannot be read ({type(exc).__name__})")]
        ) from exc


def claim_key(number: int, key: str, seen: dict[str, int], problems: list[GuideProblem]) -> bool:
    """Whether `key` (a theme's or a question's, in braces) is well formed and first used on line
    `number` of its file; else the problem is added."""
    if not CONTENT_KEY.match(key) or len(key) > CONTENT_KEY_LIMIT:
        problems.append(
            GuideProblem(number, "A key is lower-case letters, digits and hyphens, as {genogram}.")
        )
        return False
    if key in seen:
        problems.append(GuideProblem(number, f"The key {{{key}}} is used on line {seen[key]} too."))
        return False
    seen[key] = number
    return True


def load_step_guide(path: Path | None = None) -> StepGuide:
    """Read the file (the shipped guide if None) each time, so an edit shows in the next guide
    without a restart."""
    path = path or STEP_GUIDE_FILE
    return parse_step_guide(read_content(path), path=path)


def iso_week(day: date) -> str:
    """The step guide's period, as in "2026-W48"."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_end(day: date) -> date:
    """The Sunday of `day`'s ISO week."""
    return day + timedelta(days=7 - day.isoweekday())


def guide_audit(audit: AuditDue) -> GuideAudit:
    return GuideAudit(
        id=audit.id,
        case_ref=audit.case_ref,
        kind=audit.kind,
        theme=audit.theme,
        state=audit.state,
        due_on=audit.due_on,
    )
