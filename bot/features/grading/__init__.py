"""Audits & grading: `my audits`, the grading form (six standards, limiting judgements, SMART
actions), completing an audit, and the result card the practitioner gets."""

from __future__ import annotations

from bot.feature import Feature
from bot.features.grading import exemplars, handlers, my_audits, templates
from bot.payloads import CardAction, PagePayload
from bot.services.audit_result import rebuild_audit_result
from cards.names import CardKind, CardVerb

FEATURE = Feature(
    name="grading",
    about="my audits, grading, audit templates, SMART actions added, audits completed and their result",
    commands=(my_audits.MY_AUDITS,),
    verbs={
        CardVerb.MY_AUDITS_PAGE: CardAction(PagePayload, my_audits.page_of_audits),
        CardVerb.OPEN_GRADING: CardAction(handlers.OpenGrading, handlers.on_open_grading),
        CardVerb.SAVE_GRADES: CardAction(handlers.SaveGrades, handlers.on_save_grades),
        CardVerb.ADD_ACTION: CardAction(handlers.AddAction, handlers.on_add_action),
        CardVerb.COMPLETE_AUDIT: CardAction(handlers.CompleteAudit, handlers.on_complete_audit),
        CardVerb.SUGGEST_EXEMPLAR: CardAction(
            exemplars.SuggestExemplar, exemplars.on_suggest_exemplar
        ),
        CardVerb.OPEN_TEMPLATE: CardAction(templates.OpenTemplate, templates.on_open_template),
        CardVerb.SAVE_TEMPLATE: CardAction(templates.SaveTemplate, templates.on_save_template),
    },
    rebuilders={
        CardKind.ACTION_ASSIGNED: handlers.rebuild_action_assigned,
        CardKind.AUDIT_RESULT: rebuild_audit_result,
        CardKind.MY_AUDITS: my_audits.rebuild_my_audits,
    },
)
