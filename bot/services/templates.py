"""Audit templates as files the QA team edits (bot/content/templates/*.md, or the council's own
folder that QALOOP_TEMPLATES_DIR names): read, checked with line-numbered problems, and found for
an audit. The format is described at the top of the shipped MASH template; the rules of a
template (answer types, which audit it is for, comparing answers) are in bot.rules.templates.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from bot.rules.grades import AuditKind
from bot.rules.templates import (
    MAX_QUESTIONS,
    QUESTION_LIMIT,
    QUESTIONS_PER_PAGE,
    TITLE_LIMIT,
    AnswerType,
    Question,
    Template,
    template_for,
    unanswered,
)
from bot.rules.themes import THEME_KEY, THEME_KEY_LIMIT
from bot.services.guide import (
    GuideFileError,
    GuideProblem,
    claim_key,
    read_content,
    without_notes,
)
from bot.settings import Settings
from bot.turn import Request
from cards.template import TemplateProgress
from storage import templates as store
from storage.models import Audit

log = logging.getLogger(__name__)

TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "content" / "templates"
_FIELD = re.compile(r"^(Key|Version|Audit kind|Theme):\s*(.*)$")
_QUESTION = re.compile(r"^-\s+(.*?)\s*\[([a-z-]+)\]\s*\{([^}]*)\}$")
_TYPES = ", ".join(f"[{t.value}]" for t in AnswerType)
_KINDS = ", ".join(k.value for k in AuditKind)


def parse_template(text: str, *, path: Path) -> Template:
    """The template in `text`, or GuideFileError with every problem and its line."""
    problems: list[GuideProblem] = []
    text, unclosed = without_notes(text)
    if unclosed is not None:
        problems.append(
            GuideProblem(unclosed, "This note for editors has no end: close it with “-->”.")
        )
    title: str | None = None
    fields: dict[str, tuple[int, str]] = {}
    section: str | None = None
    questions: list[Question] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("## "):
            section = line[3:].strip()
            if title is None:
                problems.append(GuideProblem(number, "The name (a “# ” line) must come first."))
        elif line.startswith("# ") and title is None and section is None:
            title = line[2:].strip()
            if not title or len(title) > TITLE_LIMIT:
                problems.append(
                    GuideProblem(number, f"A template's name is 1 to {TITLE_LIMIT} characters.")
                )
        elif line.startswith("#"):
            problems.append(
                GuideProblem(number, "Use “# ” once for the name and “## ” for each section.")
            )
        elif (found := _FIELD.match(line)) is not None and section is None:
            if found[1] in fields:
                problems.append(GuideProblem(number, f"“{found[1]}:” is given twice."))
            fields[found[1]] = (number, found[2].strip())
        elif line.startswith("-"):
            if section is None:
                problems.append(GuideProblem(number, "Write a question under a “## ” section."))
                continue
            question = _question(number, line, section, seen, problems)
            if question is not None:
                questions.append(question)
        else:
            problems.append(
                GuideProblem(
                    number,
                    "Write a question as “- The question? [yes-no] {its-key}”, or a heading.",
                )
            )
    template = _template(title, fields, questions, problems)
    if problems or template is None:
        raise GuideFileError(path, sorted(problems, key=lambda p: p.line))
    return template


def _question(
    number: int, line: str, section: str, seen: dict[str, int], problems: list[GuideProblem]
) -> Question | None:
    found = _QUESTION.match(line)
    if found is None:
        problems.append(
            GuideProblem(
                number,
                "Write a question as “- The question? [yes-no] {its-key}”: "
                "its answer type in brackets, then its key in braces.",
            )
        )
        return None
    text, kind, key = found[1].strip(), found[2], found[3].strip()
    if not text or len(text) > QUESTION_LIMIT:
        problems.append(GuideProblem(number, f"A question is 1 to {QUESTION_LIMIT} characters."))
        return None
    if kind not in set(AnswerType):
        problems.append(GuideProblem(number, f"“[{kind}]” is not an answer type: use {_TYPES}."))
        return None
    if not claim_key(number, key, seen, problems):
        return None
    return Question(key=key, text=text, type=AnswerType(kind), section=section)


def _template(
    title: str | None,
    fields: dict[str, tuple[int, str]],
    questions: list[Question],
    problems: list[GuideProblem],
) -> Template | None:
    if title is None:
        problems.append(GuideProblem(1, "The file must start with the template's name, “# …”."))
    for name in ("Key", "Version", "Audit kind"):
        if name not in fields:
            problems.append(GuideProblem(1, f"Give the template's “{name}:” under its name."))
    key_line, key = fields.get("Key", (1, ""))
    if key and (not THEME_KEY.match(key) or len(key) > THEME_KEY_LIMIT):
        problems.append(
            GuideProblem(key_line, "A key is lower-case letters, digits and hyphens, as mash.")
        )
    version_line, version = fields.get("Version", (1, ""))
    if version and (not version.isdigit() or not 1 <= int(version) <= 999):
        problems.append(GuideProblem(version_line, "The version is a whole number from 1."))
    kind_line, kind = fields.get("Audit kind", (1, ""))
    if kind and kind not in set(AuditKind):
        problems.append(GuideProblem(kind_line, f"“{kind}” is not an audit kind: use {_KINDS}."))
    theme_line, theme = fields.get("Theme", (1, ""))
    if theme and kind and kind != AuditKind.THEMATIC:
        problems.append(GuideProblem(theme_line, "Only a thematic audit's template has a theme."))
    if not questions and not problems:
        problems.append(GuideProblem(1, "A template needs at least one question."))
    if len(questions) > MAX_QUESTIONS:
        problems.append(GuideProblem(1, f"Keep to {MAX_QUESTIONS} questions."))
    if problems or title is None:
        return None
    return Template(
        key=key,
        title=title,
        version=int(version),
        kind=kind,
        theme=theme or None,
        questions=tuple(questions),
    )


def read_template(path: Path) -> Template:
    return parse_template(read_content(path), path=path)


def load_templates(folder: Path) -> tuple[Template, ...]:
    """Every usable template in the folder; a file that cannot be used is logged with its
    problems and left out, and a key used twice keeps the first file (by name)."""
    found: dict[str, Template] = {}
    for path in sorted(folder.glob("*.md")):
        try:
            template = read_template(path)
        except GuideFileError as exc:
            log.error("audit template unavailable: %s", exc)
            continue
        if template.key in found:
            log.error(
                "audit template %s: the key %s is used by another file", path.name, template.key
            )
            continue
        found[template.key] = template
    return tuple(found.values())


def templates_for(settings: Settings) -> tuple[Template, ...]:
    """The council's templates: its own folder where the settings name one, else those shipped."""
    return load_templates(settings.templates_dir or TEMPLATES_DIR)


def audit_template(settings: Settings, kind: str, theme: str | None) -> Template | None:
    """The template an audit of that kind and theme is graded with, if any."""
    return template_for(templates_for(settings), kind, theme)


async def progress(request: Request, audit: Audit) -> TemplateProgress | None:
    """How far the audit's template questions are answered; None for an audit without one."""
    template = audit_template(request.settings, audit.kind, audit.theme)
    if template is None:
        return None
    assert audit.id is not None
    answers = await store.answers_of(
        session=request.session, tenant_id=request.tenant_id, audit_id=audit.id
    )
    left = unanswered(template, answers)
    first_open = template.questions.index(left[0]) if left else 0
    return TemplateProgress(
        title=template.title,
        answered=len(template.questions) - len(left),
        total=len(template.questions),
        first_open_page=first_open // QUESTIONS_PER_PAGE,
    )
