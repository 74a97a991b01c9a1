"""Allocation: audits assigned to auditors (the monthly plan, `audit new`), declined, reassigned
or cancelled, and the cards that tell the auditor, practitioner and team manager."""

from __future__ import annotations

from bot.feature import Feature
from bot.features.allocation import handlers
from bot.payloads import CardAction
from bot.rules.roles import Role
from bot.turn import Command
from cards.names import CardKind, CardVerb

_QA = frozenset({Role.QA})

FEATURE = Feature(
    name="allocation",
    about="audits allocated, created, declined, reassigned and cancelled",
    commands=(
        Command(
            "audit new",
            "Create one audit of any kind (QA)",
            handlers.show_new_audit_form,
            roles=_QA,
            menu=(),
        ),
        Command(
            "audit reassign",
            "Give an open audit to another auditor, for example audit reassign 12 (QA)",
            handlers.show_reassign_form,
            example="audit reassign 12",
            roles=_QA,
            menu=(),
        ),
        Command(
            "audit cancel",
            "Cancel an audit that will not be done, for example audit cancel 12 (QA)",
            handlers.show_cancel_form,
            example="audit cancel 12",
            roles=_QA,
            menu=(),
        ),
    ),
    verbs={
        CardVerb.DECLINE_AUDIT: CardAction(handlers.DeclineAudit, handlers.on_decline),
        CardVerb.REASSIGN_AUDIT: CardAction(handlers.ReassignAudit, handlers.on_reassign),
        CardVerb.CREATE_AUDIT: CardAction(handlers.CreateAudit, handlers.on_create),
        CardVerb.CANCEL_AUDIT: CardAction(handlers.CancelAudit, handlers.on_cancel),
    },
    rebuilders={
        CardKind.AUDIT_ASSIGNED: handlers.rebuild_assigned,
        CardKind.AUDIT_ASSIGNED_COPY: handlers.rebuild_copy,
        CardKind.AUDIT_DECLINED: handlers.rebuild_declined,
    },
)
