"""An audit template's questions, a page at a time, in the grading flow: the auditor answers them
beside the six standards, so the answers can be compared when the template is used again."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from microsoft_teams.cards import (
    AdaptiveCard,
    CardElement,
    ChoiceSetInput,
    ExecuteAction,
    TextInput,
)
from microsoft_teams.cards import (
    Choice as CardChoice,
)

from bot.rules.templates import TEXT_ANSWER_LIMIT, AnswerType, Question, Template
from cards.common import heading, literal, new_card, note, run, too_long, up_to
from cards.names import CardVerb, Input, item_input

NEXT, PREVIOUS, FINISH = "next", "previous", "finish"


@dataclass(frozen=True, slots=True)
class TemplateProgress:
    """What the working card says of the audit's template: its name, and how far answered."""

    title: str
    answered: int
    total: int
    # The page to open: the first with a question unanswered.
    first_open_page: int = 0

    @property
    def done(self) -> bool:
        return self.answered >= self.total

    def line(self) -> str:
        return f"{self.title}: {self.answered} of {self.total} questions answered"


@dataclass(frozen=True, slots=True)
class TemplatePage:
    audit_id: int
    case_ref: str
    template: Template
    page: int
    answers: Mapping[str, str]
    message: str | None = None
    # Question key → what is wrong with what was sent.
    problems: Mapping[str, str] = field(default_factory=dict)


def template_card(view: TemplatePage) -> AdaptiveCard:
    template, number = view.template, view.page
    questions = template.page(number)
    answered = sum(1 for q in template.questions if view.answers.get(q.key))
    body: list[CardElement] = [
        heading(template.title),
        literal(run(view.case_ref, bold=True), f" · audit #{view.audit_id}"),
        note(
            f"Page {number + 1} of {template.pages} · {answered} of "
            f"{len(template.questions)} answered · version {template.version}",
            subtle=True,
        ),
    ]
    if view.message:
        body.append(literal(run(view.message, bold=True, color="Attention")))
    section: str | None = None
    for question in questions:
        if question.section != section:
            section = question.section
            body.append(literal(run(section, bold=True)))
        body.append(_input(question, view.answers.get(question.key, "")))
        if problem := view.problems.get(question.key):
            body.append(literal(run(problem, color="Attention")))
    data = {"audit_id": view.audit_id, "page": number}
    buttons = []
    if number > 0:
        buttons.append(_button("Previous page", {**data, "then": PREVIOUS}))
    last = number + 1 >= template.pages
    title = "Save and finish" if last else "Save and next page"
    buttons.append(_button(title, {**data, "then": FINISH if last else NEXT}, positive=True))
    return new_card(body, buttons)


def _input(question: Question, value: str) -> CardElement:
    input_id = item_input(Input.ANSWER, question.key)
    if question.type is AnswerType.TEXT:
        return TextInput(
            id=input_id,
            label=up_to(question.text, TEXT_ANSWER_LIMIT),
            is_multiline=True,
            max_length=TEXT_ANSWER_LIMIT,
            error_message=too_long(TEXT_ANSWER_LIMIT),
            value=value or None,
        )
    return ChoiceSetInput(
        id=input_id,
        label=question.text,
        style="compact",
        placeholder="Choose an answer",
        value=value or None,
        choices=[CardChoice(title=title, value=v) for v, title in question.choices()],
    )


def _button(title: str, data: dict[str, object], *, positive: bool = False) -> ExecuteAction:
    return ExecuteAction(
        title=title,
        verb=CardVerb.SAVE_TEMPLATE,
        data={"action": CardVerb.SAVE_TEMPLATE, **data},
        style="positive" if positive else None,
    )
