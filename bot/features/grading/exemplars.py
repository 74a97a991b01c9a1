"""Suggesting an exemplar from the grading cards: a theme ticked as a strength, written up with
no case details (any word the council's case-reference pattern matches is refused, as for a
calibration exercise), sent to the QA team to approve."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import StringConstraints, field_validator

from bot.features.grading.handlers import ThemeKey, audit_view_for, working_reply
from bot.payloads import Id, Payload
from bot.rules.cases import case_ref_words
from bot.rules.exemplars import TEXT_LIMIT, TITLE_LIMIT
from bot.rules.grades import DONE_AUDIT_STATES
from bot.rules.themes import Finding
from bot.services import exemplars as service
from bot.services import flows
from bot.services.practice import practice_for
from bot.turn import Reply, Request
from cards.exemplars import ExemplarDraft, exemplar_form_card
from cards.grading import completed_card
from cards.names import CardVerb
from storage import exemplars

Title = Annotated[str, StringConstraints(strip_whitespace=True, max_length=TITLE_LIMIT)]
Body = Annotated[str, StringConstraints(strip_whitespace=True, max_length=TEXT_LIMIT)]
NO_STRENGTHS = (
    "An exemplar comes from a theme ticked as a strength, and none is ticked in this audit. "
    "Press Change grades to tick one."
)


class SuggestExemplar(Payload):
    audit_id: Id
    exemplar_theme: ThemeKey | None = None
    exemplar_title: Title = ""
    exemplar_text: Body = ""
    problems: ClassVar[dict[str, str]] = {
        "exemplar_theme": "Please choose the strength from the list.",
        "exemplar_title": f"A title can be up to {TITLE_LIMIT} characters.",
        "exemplar_text": f"An exemplar can be up to {TEXT_LIMIT:,} characters.",
    }

    @field_validator("exemplar_theme", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if value == "" else value

    def draft(self) -> ExemplarDraft:
        return ExemplarDraft(self.exemplar_theme or "", self.exemplar_title, self.exemplar_text)


async def on_suggest_exemplar(request: Request, payload: SuggestExemplar) -> Reply:
    verb = CardVerb.SUGGEST_EXEMPLAR
    found = await audit_view_for(request, verb, payload.audit_id)
    if isinstance(found, Reply):
        return found
    audit, view = found
    strengths = [(t.key, t.title) for t in view.themes if t.finding == Finding.STRENGTH]
    if not strengths:
        return flows.refused(request, verb, payload.audit_id, "no_strengths", NO_STRENGTHS)
    practice = practice_for(request.settings)
    theme = practice.theme(payload.exemplar_theme or "")
    problem = None
    if payload.exemplar_theme not in dict(strengths):
        problem = "Please choose one of the strengths ticked in this audit."
    elif theme is None:
        problem = "That theme is no longer in the list (the QA team may have changed it)."
    elif not payload.exemplar_title:
        problem = "Please give the exemplar a title."
    elif not payload.exemplar_text:
        problem = "Please say what made it good practice."
    elif refs := case_ref_words(
        f"{payload.exemplar_title}\n{payload.exemplar_text}", request.settings.case_ref_pattern
    ):
        problem = (
            f"It has what looks like a case reference ({', '.join(refs[:3])}). Exemplars are "
            "shared with staff, so please take it out, with any names (write a number of three "
            "or more digits in words)."
        )
    if problem is not None or theme is None:
        flows.log_refusal(request, verb, payload.audit_id, "exemplar_not_ready")
        card = exemplar_form_card(
            payload.audit_id, strengths, draft=payload.draft(), message=problem or ""
        )
        return Reply(card=card, summary="The exemplar was not sent")
    session, tenant_id = request.session, request.tenant_id
    same = await exemplars.same_suggestion(
        session=session,
        tenant_id=tenant_id,
        audit_id=payload.audit_id,
        theme=theme.key,
        title=payload.exemplar_title,
        text=payload.exemplar_text,
    )
    if same is not None:
        flows.log_refusal(request, verb, payload.audit_id, "repeat")
        message = "Already sent to the QA team ✓"
    else:
        exemplar = await exemplars.suggest(
            session,
            tenant_id=tenant_id,
            audit_id=payload.audit_id,
            standard=theme.standard,
            theme=theme.key,
            title=payload.exemplar_title,
            text=payload.exemplar_text,
            actor_id=flows.me(request),
        )
        assert exemplar.id is not None
        shown = await service.view_of(
            session, tenant_id=tenant_id, exemplar_id=exemplar.id, settings=request.settings
        )
        assert shown is not None
        await service.ask_qa(
            session,
            tenant_id=tenant_id,
            view=shown,
            today=request.today,
            suggested_by=flows.me(request),
        )
        message = (
            f"Exemplar sent to the QA team ✓ Once approved, it is shown with the learning for "
            f"“{theme.title}”."
        )
    if audit.state in DONE_AUDIT_STATES:
        card = completed_card(view, today=request.today, message=message)
        return Reply(card=card, summary=message)
    return await working_reply(request, audit, view, message=message)
