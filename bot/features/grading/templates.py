"""An audit template's questions in the grading flow: opening a page of them, and saving a page
(then the next, the previous, or back to grades and actions). The auditor or QA only, on an audit
still open; an answer that does not fit its question is refused with the reason, and nothing on
that page is saved."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, model_validator

from bot.features.grading.handlers import _audit_for, _log_refusal, _view, working_reply
from bot.payloads import Id, Payload
from bot.rules.templates import TEXT_ANSWER_LIMIT, Template, answer_problem
from bot.services import flows
from bot.services.templates import audit_template
from bot.turn import Reply, Request
from cards.names import CardVerb, Input
from cards.template import NEXT, PREVIOUS, TemplatePage, template_card
from storage import templates as store
from storage.models import Audit

_PREFIX = f"{Input.ANSWER}_"
NO_TEMPLATE = "This audit has no template questions."


class OpenTemplate(Payload):
    audit_id: Id
    page: int = Field(0, ge=0, le=100)


class SaveTemplate(Payload):
    audit_id: Id
    page: int = Field(0, ge=0, le=100)
    then: Literal["next", "previous", "finish"] = "finish"
    # Question key → answer, from the card's "answer_<key>" inputs.
    answers: dict[str, str] = Field(default_factory=dict, max_length=100)
    problems: ClassVar[dict[str, str]] = {
        "answers": f"An answer can be up to {TEXT_ANSWER_LIMIT} characters.",
    }

    @model_validator(mode="before")
    @classmethod
    def _answers_sent(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        answers = {
            name.removeprefix(_PREFIX): value.strip() if isinstance(value, str) else value
            for name, value in data.items()
            if isinstance(name, str) and name.startswith(_PREFIX)
        }
        return {**data, "answers": answers}


async def on_open_template(request: Request, payload: OpenTemplate) -> Reply:
    found = await _open(request, CardVerb.OPEN_TEMPLATE, payload.audit_id)
    if isinstance(found, Reply):
        return found
    audit, template = found
    return await _page(request, audit, template, min(payload.page, template.pages - 1))


async def on_save_template(request: Request, payload: SaveTemplate) -> Reply:
    verb = CardVerb.SAVE_TEMPLATE
    found = await _open(request, verb, payload.audit_id)
    if isinstance(found, Reply):
        return found
    audit, template = found
    page = min(payload.page, template.pages - 1)
    on_page = {q.key: q for q in template.page(page)}
    if strangers := sorted(set(payload.answers) - set(on_page)):
        _log_refusal(request, verb, audit, "not_on_page", fields=strangers[:10])
        return flows.error_reply("Please answer the questions on the card. Nothing was saved.")
    problems = {
        key: problem
        for key, value in payload.answers.items()
        if value and (problem := answer_problem(on_page[key], value)) is not None
    }
    if problems:
        _log_refusal(request, verb, audit, "answer_problem", fields=sorted(problems))
        typed = {**await _answers(request, audit), **payload.answers}
        return await _page(
            request,
            audit,
            template,
            page,
            answers=typed,
            message="Nothing on this page was saved: please see below.",
            problems=problems,
        )
    sent = {key: payload.answers.get(key, "") for key in on_page}
    saved = await store.save_answers(
        request.session,
        audit,
        template=template.key,
        version=template.version,
        answers=sent,
        actor_id=flows.me(request),
        now=request.now,
    )
    if payload.then == NEXT and page + 1 < template.pages:
        return await _page(request, audit, template, page + 1)
    if payload.then == PREVIOUS and page > 0:
        return await _page(request, audit, template, page - 1)
    assert audit.id is not None
    view = await _view(request, audit.id)
    message = "Answers saved." if saved else "Answers as they were: nothing changed."
    return await working_reply(request, audit, view, message=message)


async def _open(request: Request, verb: str, audit_id: int) -> tuple[Audit, Template] | Reply:
    found = await _audit_for(request, verb, audit_id)
    if isinstance(found, Reply):
        return found
    template = audit_template(request.settings, found.kind, found.theme)
    if template is None:
        _log_refusal(request, verb, found, "no_template")
        return flows.error_reply(NO_TEMPLATE)
    return found, template


async def _answers(request: Request, audit: Audit) -> dict[str, str]:
    assert audit.id is not None
    return await store.answers_of(
        session=request.session, tenant_id=request.tenant_id, audit_id=audit.id
    )


async def _page(
    request: Request,
    audit: Audit,
    template: Template,
    page: int,
    *,
    answers: dict[str, str] | None = None,
    message: str | None = None,
    problems: dict[str, str] | None = None,
) -> Reply:
    assert audit.id is not None
    view = await _view(request, audit.id)
    card = template_card(
        TemplatePage(
            audit_id=audit.id,
            case_ref=view.case_ref,
            template=template,
            page=page,
            answers=answers if answers is not None else await _answers(request, audit),
            message=message,
            problems=problems or {},
        )
    )
    return Reply(card=card, summary=message or template.title)
