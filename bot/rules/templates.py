"""Audit templates: the questions a kind of audit asks beyond the six standards, so that when the
same template is used again the answers can be compared (the framework: "the audits will each have
templates developed for future use to enable accurate comparisons on performance to be made when
audits are repeated").

A template names the audit kind it is for and, for a thematic audit, its theme; each question has
a key kept across versions (so its answers stay comparable when it is reworded) and an answer
type. Answers are stored per question with the template's version.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from bot.rules.digest import GOOD_OR_BETTER
from bot.rules.grades import GRADE_LABELS, Grade

# Kept to what one card can show in a few pages, and what a report can compare.
MAX_QUESTIONS = 60
QUESTIONS_PER_PAGE = 8
QUESTION_LIMIT = 300
TEXT_ANSWER_LIMIT = 500
TITLE_LIMIT = 120


class AnswerType(StrEnum):
    """How a question is answered; written in the file in brackets: [yes-no], [grade], [text]."""

    YES_NO = "yes-no"
    GRADE = "grade"
    TEXT = "text"


class Answer(StrEnum):
    """A [yes-no] question's answers."""

    YES = "yes"
    PARTLY = "partly"
    NO = "no"
    NOT_APPLICABLE = "na"


ANSWER_LABELS: dict[str, str] = {
    Answer.YES: "Yes",
    Answer.PARTLY: "Partly",
    Answer.NO: "No",
    Answer.NOT_APPLICABLE: "Not applicable",
}


@dataclass(frozen=True, slots=True)
class Question:
    key: str
    text: str
    type: AnswerType
    section: str

    def choices(self) -> list[tuple[str, str]]:
        """(value, label) of each answer, for a question answered by choosing."""
        if self.type is AnswerType.YES_NO:
            return list(ANSWER_LABELS.items())
        if self.type is AnswerType.GRADE:
            return [(g.value, GRADE_LABELS[g]) for g in Grade]
        return []


@dataclass(frozen=True, slots=True)
class Template:
    key: str
    title: str
    version: int
    # The audit kind it is for (collaborative, thematic, ...), and for a thematic audit its theme.
    kind: str
    theme: str | None
    questions: tuple[Question, ...]

    def applies_to(self, kind: str, theme: str | None) -> bool:
        if kind != self.kind:
            return False
        if self.theme is None:
            return True
        return theme is not None and theme.strip().casefold() == self.theme.casefold()

    @property
    def pages(self) -> int:
        return max(1, -(-len(self.questions) // QUESTIONS_PER_PAGE))

    def page(self, number: int) -> tuple[Question, ...]:
        """Page `number` (from 0) of the questions."""
        start = number * QUESTIONS_PER_PAGE
        return self.questions[start : start + QUESTIONS_PER_PAGE]

    def question(self, key: str) -> Question | None:
        return next((q for q in self.questions if q.key == key), None)


def template_for(templates: Iterable[Template], kind: str, theme: str | None) -> Template | None:
    """The template an audit of that kind and theme uses: one naming its theme before one for
    the whole kind; None when there is none."""
    matching = [t for t in templates if t.applies_to(kind, theme)]
    matching.sort(key=lambda t: t.theme is None)
    return matching[0] if matching else None


def answer_problem(question: Question, value: str) -> str | None:
    """Why `value` cannot be the answer to `question`; None when it can."""
    if question.type is AnswerType.TEXT:
        if len(value) > TEXT_ANSWER_LIMIT:
            return f"An answer can be up to {TEXT_ANSWER_LIMIT} characters."
        return None
    if value not in {v for v, _ in question.choices()}:
        return "Please choose one of the answers given."
    return None


def unanswered(template: Template, answers: Mapping[str, str]) -> list[Question]:
    """The questions with no answer yet ("Not applicable" is an answer)."""
    return [q for q in template.questions if not answers.get(q.key, "").strip()]


# --- comparing the answers when the template is used again ------------------------------------


def quarter_of(day: date) -> date:
    """The first day of the quarter `day` is in: the period answers are compared by."""
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def quarter_label(start: date) -> str:
    return f"{start.year} Q{(start.month - 1) // 3 + 1}"


@dataclass(frozen=True, slots=True)
class Mix:
    """One question's answers in one period: how many audits gave each."""

    period: date
    counts: Mapping[str, int]

    @property
    def answered(self) -> int:
        return sum(self.counts.values())

    def yes_rate(self) -> float | None:
        """Yes among the answers that apply (not "not applicable"); None when none applies."""
        applicable = self.answered - self.counts.get(Answer.NOT_APPLICABLE, 0)
        return self.counts.get(Answer.YES, 0) / applicable if applicable else None

    def good_or_better_rate(self) -> float | None:
        """A [grade] question's good or outstanding answers among all its answers."""
        good = sum(self.counts.get(g, 0) for g in GOOD_OR_BETTER)
        return good / self.answered if self.answered else None

    def headline(self, question: Question) -> tuple[str, float | None]:
        """The one figure compared from period to period, as words and as a rate."""
        if question.type is AnswerType.YES_NO:
            applicable = self.answered - self.counts.get(Answer.NOT_APPLICABLE, 0)
            return f"{self.counts.get(Answer.YES, 0)} of {applicable} yes", self.yes_rate()
        if question.type is AnswerType.GRADE:
            good = sum(self.counts.get(g, 0) for g in GOOD_OR_BETTER)
            return f"{good} of {self.answered} good or better", self.good_or_better_rate()
        return f"{self.answered} answered", None


def mixes(rows: Sequence[tuple[str, date, str]]) -> dict[str, list[Mix]]:
    """(question, day the audit was completed, answer) → per question, each quarter's mix,
    oldest first."""
    counted: dict[str, dict[date, dict[str, int]]] = {}
    for question, day, answer in rows:
        by_period = counted.setdefault(question, {})
        counts = by_period.setdefault(quarter_of(day), {})
        counts[answer] = counts.get(answer, 0) + 1
    return {
        question: [Mix(period, counts) for period, counts in sorted(by_period.items())]
        for question, by_period in counted.items()
    }
