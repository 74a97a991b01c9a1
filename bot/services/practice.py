"""The QA team's content about the practice standards: the grade descriptors
(bot/content/grade_descriptors.md, or QALOOP_GRADE_DESCRIPTORS_FILE) and the practice themes
(bot/content/themes.md, or QALOOP_THEMES_FILE), read afresh each time so an edit needs no
restart. Each file is checked whole; a problem is reported with its line (GuideFileError, as the
step guide's), and a card that shows the content then goes without it rather than failing."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.rules.grades import GRADE_LABELS, Grade, Standard
from bot.rules.themes import THEME_TITLE_LIMIT
from bot.services.guide import (
    GuideFileError,
    GuideProblem,
    claim_key,
    read_content,
    without_notes,
)
from bot.settings import Settings
from cards.practice import Descriptor, LearningLink, Practice, Theme
from storage import exemplars

log = logging.getLogger(__name__)

CONTENT = Path(__file__).resolve().parents[1] / "content"
DESCRIPTORS_FILE = CONTENT / "grade_descriptors.md"
THEMES_FILE = CONTENT / "themes.md"
MAX_BULLETS = 12
MAX_THEMES = 15
MAX_LINKS = 3
# So the grading form, which holds them all beside the longest text typed, stays under 40 KB.
MAX_THEMES_IN_ALL = 36
DESCRIPTORS_BUDGET = 5200
LINE_LIMIT = 400
LINK_KINDS = ("Academy course", "Guidance", "Exemplar")
_GRADE_BY_LABEL = {label.lower(): grade.value for grade, label in GRADE_LABELS.items()}
_THEME = re.compile(r"^-\s+(.*?)\s*\{([^}]*)\}\s*$")
_LINK = re.compile(r"^([A-Za-z ]+):\s*(.+?)\s*\|\s*(\S+)$")


@dataclass(slots=True)
class _Section:
    """One "## " standard, as read so far."""

    line: int
    standard: str
    lines: list[tuple[int, str]] = field(default_factory=list)


def _sections(text: str, problems: list[GuideProblem]) -> list[_Section]:
    """The file's standards in order, each with its lines; problems with the shape added."""
    text, unclosed = without_notes(text)
    if unclosed is not None:
        problems.append(
            GuideProblem(unclosed, "This note for editors has no end: close it with “-->”.")
        )
    title = False
    sections: list[_Section] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("## "):
            key = line[3:].split(":", 1)[0].strip().lower()
            if key not in set(Standard):
                known = ", ".join(Standard)
                problems.append(GuideProblem(number, f"“{key}” is not a standard: use {known}."))
            elif any(s.standard == key for s in sections):
                problems.append(GuideProblem(number, f"The standard “{key}” is here twice."))
            sections.append(_Section(number, key))
        elif line.startswith("# ") and not title and not sections:
            title = True
        elif line.startswith("#"):
            problems.append(
                GuideProblem(number, "Use “# ” once for the title and “## ” for each standard.")
            )
        elif not sections:
            problems.append(GuideProblem(number, "Write this under a standard’s “## ” line."))
        elif len(line) > LINE_LIMIT:
            problems.append(GuideProblem(number, f"Keep a line to {LINE_LIMIT} characters."))
        else:
            sections[-1].lines.append((number, line))
    if not title and not problems:
        problems.append(GuideProblem(1, "The file must start with the title, “# …”."))
    return sections


def parse_descriptors(text: str, *, path: Path = DESCRIPTORS_FILE) -> dict[str, Descriptor]:
    problems: list[GuideProblem] = []
    sections = _sections(text, problems)
    found: dict[str, Descriptor] = {}
    for section in sections:
        bullets: list[str] = []
        grades: dict[str, str] = {}
        for number, line in section.lines:
            if line.startswith("- "):
                bullets.append(line[2:].strip())
                continue
            name, colon, said = line.partition(":")
            grade = _GRADE_BY_LABEL.get(name.strip().lower())
            if not colon or grade is None:
                problems.append(
                    GuideProblem(
                        number,
                        "Start a line with “- ” (what good looks like) or a grade and a colon, "
                        "as in “Good: …”.",
                    )
                )
            elif grade in grades:
                problems.append(GuideProblem(number, f"{name.strip()} is described twice here."))
            elif not said.strip():
                problems.append(GuideProblem(number, f"Say what {name.strip()} means."))
            else:
                grades[grade] = said.strip()
        if len(bullets) > MAX_BULLETS:
            problems.append(
                GuideProblem(section.line, f"Keep to {MAX_BULLETS} “- ” lines per standard.")
            )
        missing = [GRADE_LABELS[g] for g in Grade if g.value not in grades]
        if missing:
            problems.append(
                GuideProblem(section.line, "Describe every grade; missing: " + ", ".join(missing))
            )
        found[section.standard] = Descriptor(section.standard, tuple(bullets), grades)
    size = sum(
        len(" ".join((*d.good_looks_like, *d.grades.values())).encode()) for d in found.values()
    )
    if size > DESCRIPTORS_BUDGET:
        problems.append(
            GuideProblem(
                1,
                f"The descriptors come to {size:,} characters; keep them to {DESCRIPTORS_BUDGET:,} "
                "so the grading card stays small enough for Teams.",
            )
        )
    missing_standards = [s.value for s in Standard if s.value not in found]
    if missing_standards and not problems:
        problems.append(
            GuideProblem(
                1, "Every standard needs a “## ” line; missing: " + ", ".join(missing_standards)
            )
        )
    if problems:
        raise GuideFileError(path, sorted(problems, key=lambda p: p.line))
    return found


def parse_themes(text: str, *, path: Path = THEMES_FILE) -> tuple[Theme, ...]:
    problems: list[GuideProblem] = []
    sections = _sections(text, problems)
    themes: list[tuple[int, Theme]] = []
    seen: dict[str, int] = {}
    for section in sections:
        count = 0
        for number, line in section.lines:
            if line.startswith("-"):
                theme = _theme(number, line, section.standard, seen, problems)
                count += 1
                if count == MAX_THEMES + 1:
                    problems.append(
                        GuideProblem(number, f"Keep to {MAX_THEMES} themes a standard.")
                    )
                if theme is not None:
                    themes.append((number, theme))
                continue
            link = _link(number, line, problems)
            if link is None:
                continue
            if not themes or themes[-1][0] < section.line:
                problems.append(GuideProblem(number, "A learning link goes under its theme."))
                continue
            _, last = themes[-1]
            if len(last.links) == MAX_LINKS:
                problems.append(GuideProblem(number, f"Keep to {MAX_LINKS} links a theme."))
                continue
            themes[-1] = (
                themes[-1][0],
                Theme(last.key, last.standard, last.title, (*last.links, link)),
            )
    if len(themes) > MAX_THEMES_IN_ALL:
        problems.append(
            GuideProblem(
                themes[MAX_THEMES_IN_ALL][0], f"Keep to {MAX_THEMES_IN_ALL} themes in all."
            )
        )
    if problems:
        raise GuideFileError(path, sorted(problems, key=lambda p: p.line))
    return tuple(theme for _, theme in themes)


def _theme(
    number: int, line: str, standard: str, seen: dict[str, int], problems: list[GuideProblem]
) -> Theme | None:
    found = _THEME.match(line)
    if found is None:
        problems.append(
            GuideProblem(number, "Write a theme as “- Its name {its-key}”, the key in braces.")
        )
        return None
    title, key = found[1].strip(), found[2].strip()
    if not title or len(title) > THEME_TITLE_LIMIT:
        problems.append(
            GuideProblem(number, f"A theme's name is 1 to {THEME_TITLE_LIMIT} characters.")
        )
        return None
    if not claim_key(number, key, seen, problems):
        return None
    return Theme(key=key, standard=standard, title=title)


def _link(number: int, line: str, problems: list[GuideProblem]) -> LearningLink | None:
    found = _LINK.match(line)
    kind = found[1].strip() if found else ""
    if found is None or kind not in LINK_KINDS:
        kinds = ", ".join(LINK_KINDS)
        problems.append(
            GuideProblem(
                number, f"Write a learning link as “Guidance: its title | https://…” ({kinds})."
            )
        )
        return None
    if not found[3].startswith("https://"):
        problems.append(GuideProblem(number, "A link must start with https://."))
        return None
    return LearningLink(kind=kind, title=found[2], url=found[3])


def load_practice(*, descriptors_file: Path | None, themes_file: Path | None) -> Practice:
    """Both files (the shipped ones where None); a file that cannot be used is logged with its
    problems and left out, so grading goes on without it."""
    descriptors: dict[str, Descriptor] = {}
    themes: tuple[Theme, ...] = ()
    path = descriptors_file or DESCRIPTORS_FILE
    try:
        descriptors = parse_descriptors(read_content(path), path=path)
    except GuideFileError as exc:
        log.error("grade descriptors unavailable: %s", exc)
    path = themes_file or THEMES_FILE
    try:
        themes = parse_themes(read_content(path), path=path)
    except GuideFileError as exc:
        log.error("practice themes unavailable: %s", exc)
    return Practice(descriptors=descriptors, themes=themes)


def practice_for(settings: Settings) -> Practice:
    """The council's practice content: its own files where the settings name them, else the
    shipped ones. Every card that shows descriptors or themes, first drawn or drawn again, reads
    it from here."""
    return load_practice(
        descriptors_file=settings.grade_descriptors_file, themes_file=settings.themes_file
    )


async def practice_with_exemplars(
    session: AsyncSession, *, tenant_id: str, settings: Settings
) -> Practice:
    """The council's practice content with the exemplars the QA team approved beside each
    theme's learning links: what every card that shows learning links reads."""
    practice = practice_for(settings)
    approved = await exemplars.approved_by_theme(session=session, tenant_id=tenant_id)
    if not approved:
        return practice
    themes = tuple(replace(t, exemplars=approved.get(t.key, ())) for t in practice.themes)
    return replace(practice, themes=themes)
