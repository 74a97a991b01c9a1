"""The "audit assigned" card and its copies, the QA team's "needs a new auditor" card with its
Reassign form, and the `audit new` form. Pure: built from the views below."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from microsoft_teams.cards import (
    Action,
    AdaptiveCard,
    CardElement,
    Choice,
    ChoiceSetInput,
    DateInput,
    ExecuteAction,
    ShowCardAction,
    TextInput,
    TextRun,
)

from bot.rules.grades import (
    AUDIT_KIND_LABELS,
    AUDIT_STATE_LABELS,
    DONE_AUDIT_STATES,
    AuditKind,
    AuditState,
)
from cards.common import heading, im_back, label, literal, new_card, note, run, too_long, uk_date
from cards.names import CardVerb, Input, item_input
from cards.own_view import own_view_button

TEXT_LIMIT = 2000
THEME_LIMIT = 200
# A ChoiceSet of auditors reads well up to this many; beyond it the form asks for an email.
AUDITOR_CHOICES = 25

ASSIGNED_SUMMARY = "You have a new audit to do"
PRACTITIONER_SUMMARY = "One of your cases has been selected for audit"
MANAGER_SUMMARY = "A case in your team has been selected for audit"
DECLINED_SUMMARY = "An audit needs a new auditor"
PASSED_ON_SUMMARY = "An audit is no longer yours"
REASSIGNED_COPY_SUMMARY = "An audit has a new auditor"


@dataclass(frozen=True, slots=True)
class AssignedView:
    id: int
    case_ref: str
    kind: str
    theme: str | None
    state: str
    due_on: date
    team: str
    auditor_id: int
    auditor_name: str
    practitioner_id: int | None
    practitioner_name: str | None
    manager_id: int | None
    manager_name: str | None
    declined_reason: str | None
    # The practitioner gave their own view of a collaborative audit (they are offered it once).
    own_view_given: bool = False


@dataclass(frozen=True, slots=True)
class AuditorChoice:
    id: int
    name: str
    team: str | None
    # Audits they have open now.
    load: int
    # In the case's own team: offered last.
    same_team: bool
    # Away through the audit's due date: offered after everyone else.
    away_until: date | None = None


@dataclass(frozen=True, slots=True)
class AuditForm:
    """What was typed into the `audit new` form, kept when it comes back with a problem."""

    case_ref: str = ""
    kind: str = AuditKind.THEMATIC
    theme: str = ""
    auditor: str = ""
    due_on: str = ""


def audit_assigned_card(view: AssignedView, *, recipient_id: int, today: date) -> AdaptiveCard:
    """The auditor's card: Record grades and Can't do this one while the audit is theirs."""
    passed_on = view.auditor_id != recipient_id
    body: list[CardElement] = [
        heading("This audit is no longer yours" if passed_on else "An audit for you")
    ]
    body += _details(view, today)
    actions: list[Action] = []
    if passed_on:
        body.append(
            literal(run("Passed on. ", bold=True), f"This audit is now with {view.auditor_name}.")
        )
    elif view.state == AuditState.DECLINED:
        body.append(literal(run("You said you can't do this one: ", bold=True)))
        body.append(literal(view.declined_reason or ""))
        body.append(note("The QA team will find someone else. Thank you for letting us know."))
    elif view.state in (AuditState.ASSIGNED, AuditState.IN_PROGRESS):
        if view.kind == AuditKind.COLLABORATIVE and view.practitioner_name:
            body.append(
                literal(
                    "Please arrange to audit it together with ",
                    run(view.practitioner_name, bold=True),
                    ".",
                )
            )
        actions = [
            ExecuteAction(
                title="Record grades",
                verb=CardVerb.OPEN_GRADING,
                data={"action": CardVerb.OPEN_GRADING, "audit_id": view.id},
                associated_inputs="none",
                style="positive",
            ),
            ShowCardAction(title="Can't do this one", card=_decline_form(view.id)),
        ]
    else:
        body.append(literal(run(_state_line(view.state), bold=True)))
    return new_card(body, actions)


def audit_copy_card(
    view: AssignedView, *, recipient_id: int, today: date, reassigned: bool = False
) -> AdaptiveCard:
    """The copy to the practitioner or the team manager: no buttons. `reassigned`: sent because
    the audit has a new auditor."""
    kind = label(AUDIT_KIND_LABELS, view.kind).lower()
    due = uk_date(view.due_on, today=today)
    own: list[CardElement] = []
    buttons: list[Action] = []
    if recipient_id == view.practitioner_id:
        title = (
            "Your case's audit has a new auditor" if reassigned else "Your case has been selected"
        )
        body: list[CardElement] = [heading(title)]
        with_whom = " with " if view.kind == AuditKind.COLLABORATIVE else " by "
        body.append(
            literal(
                "Your case ",
                run(view.case_ref, bold=True),
                f" has been selected for a {kind}{with_whom}",
                run(view.auditor_name, bold=True),
                f", due {due}.",
            )
        )
        if view.kind == AuditKind.COLLABORATIVE:
            body.append(note("They will be in touch to arrange a time to go through it together."))
            if view.state in (AuditState.ASSIGNED, AuditState.IN_PROGRESS):
                if view.own_view_given:
                    own.append(literal(run("Your own view is sent ✓", bold=True, color="Good")))
                else:
                    own.append(
                        note(
                            "Before you meet, you can grade your own practice on this case: "
                            "you'll see your view beside the auditor's when it is completed."
                        )
                    )
                    buttons.append(own_view_button(view.id))
    else:
        title = (
            "An audit in your team has a new auditor"
            if reassigned
            else "A case in your team has been selected"
        )
        body = [heading(title)]
        body.append(
            literal(
                "Case ",
                run(view.case_ref, bold=True),
                f" ({view.team}) has been selected for a {kind} by ",
                run(view.auditor_name, bold=True),
                f", due {due}.",
            )
        )
        if view.practitioner_name:
            body.append(literal("Practitioner: ", view.practitioner_name))
    if view.theme:
        body.append(literal("Theme: ", view.theme))
    if view.state not in (AuditState.ASSIGNED, AuditState.IN_PROGRESS):
        body.append(literal(run(_state_line(view.state), bold=True)))
    return new_card([*body, *own], [*buttons, im_back("My audits", "my audits")])


def audit_declined_card(
    view: AssignedView, *, choices: Sequence[AuditorChoice], today: date
) -> AdaptiveCard:
    """To the QA team: who can't do which audit and why, and a Reassign form while it waits."""
    if view.state != AuditState.DECLINED:
        cancelled = view.state == AuditState.CANCELLED
        body: list[CardElement] = [heading("Audit cancelled" if cancelled else "Audit reassigned")]
        body += _details(view, today)
        if view.state in (AuditState.ASSIGNED, AuditState.IN_PROGRESS):
            body.append(
                literal(run("Reassigned ✓ ", bold=True, color="Good"), f"to {view.auditor_name}.")
            )
        else:
            body.append(literal(run(_state_line(view.state), bold=True)))
        return new_card(body)
    body = [heading("An audit needs a new auditor")]
    body.append(literal(run(view.auditor_name, bold=True), " can't do this one:"))
    body.append(literal(view.declined_reason or ""))
    body += _details(view, today, auditor=False)
    form, actions = _reassign_form(view, choices, from_auditor=None)
    return new_card([*body, *form], actions)


def audit_reassign_card(
    view: AssignedView, *, choices: Sequence[AuditorChoice], today: date
) -> AdaptiveCard:
    """`audit reassign 12` (QA): give an open audit to someone else (its auditor is off sick,
    say), or cancel it."""
    body: list[CardElement] = [heading(f"Reassign audit #{view.id}")]
    body += _details(view, today)
    body.append(literal(run(label(AUDIT_STATE_LABELS, view.state), bold=True)))
    form, actions = _reassign_form(view, choices, from_auditor=view.auditor_id)
    return new_card([*body, *form], actions)


def _reassign_form(
    view: AssignedView, choices: Sequence[AuditorChoice], *, from_auditor: int | None
) -> tuple[list[CardElement], list[Action]]:
    """Who should do it instead, Reassign and Cancel this audit. `from_auditor` (the auditor
    the card was made for) lets a second press, after someone else reassigned it, be told so."""
    cancel = ShowCardAction(title="Cancel this audit", card=_cancel_form(view.id))
    if not choices:
        return [note("There is no other auditor who could take it. Add one, then reassign.")], [
            cancel
        ]
    data: dict[str, object] = {"action": CardVerb.REASSIGN_AUDIT, "audit_id": view.id}
    if from_auditor is not None:
        data["from_auditor"] = from_auditor
    choice = ChoiceSetInput(
        id=item_input(Input.AUDITOR_ID, view.id),
        label="Give it to",
        choices=[Choice(title=_choice_title(c), value=str(c.id)) for c in choices],
        value=str(choices[0].id),
        is_required=True,
        error_message="Please choose who should do it.",
    )
    reassign = ExecuteAction(
        title="Reassign", verb=CardVerb.REASSIGN_AUDIT, data=data, style="positive"
    )
    return [choice], [reassign, cancel]


def audit_cancel_card(view: AssignedView, *, today: date) -> AdaptiveCard:
    """`audit cancel 12` (QA): the audit, and why it is being cancelled, before it is."""
    body: list[CardElement] = [heading(f"Cancel audit #{view.id}?")]
    body += _details(view, today)
    body.append(literal(run(label(AUDIT_STATE_LABELS, view.state), bold=True)))
    body.append(note("Its auditor stops being reminded; actions already agreed from it stay open."))
    body.append(_cancel_reason(view.id))
    return new_card(body, [_cancel_button(view.id)])


def audit_cancelled_card(view: AssignedView, *, reason: str, today: date) -> AdaptiveCard:
    """The answer to Cancel audit: what was cancelled and why."""
    body: list[CardElement] = [heading("Audit cancelled ✓")]
    body += _details(view, today)
    body.append(literal(run("Why: ", bold=True), reason))
    body.append(note("Cards already posted about it now say it was cancelled."))
    return new_card(body, [im_back("My audits", "my audits")])


def audit_created_card(view: AssignedView, *, told: str, today: date) -> AdaptiveCard:
    """The answer to `audit new`: what was made and who was told."""
    body: list[CardElement] = [heading("Audit created ✓")]
    body += _details(view, today)
    body.append(note(told))
    return new_card(body, [im_back("Create another", "audit new")])


def new_audit_form(
    form: AuditForm,
    *,
    auditors: Sequence[AuditorChoice],
    today: date,
    message: str | None = None,
) -> AdaptiveCard:
    """QA's form for one audit of any kind; comes back with `message` and the values kept."""
    body: list[CardElement] = [heading("New audit")]
    if message:
        body.append(literal(run(message, color="Attention")))
    body.append(
        TextInput(
            id="case_ref",
            label="Case reference (no names)",
            placeholder="C-123456",
            value=form.case_ref or None,
            max_length=32,
            is_required=True,
            error_message="Please give the case reference.",
        )
    )
    body.append(
        ChoiceSetInput(
            id="kind",
            label="Kind of audit",
            choices=[Choice(title=AUDIT_KIND_LABELS[k], value=k.value) for k in _KINDS],
            value=form.kind or AuditKind.THEMATIC.value,
            is_required=True,
            error_message="Please choose the kind of audit.",
        )
    )
    body.append(
        TextInput(
            id="theme",
            label="Theme (for a thematic audit)",
            placeholder="MASH strategy meetings",
            value=form.theme or None,
            max_length=THEME_LIMIT,
            error_message=too_long(THEME_LIMIT),
        )
    )
    if 0 < len(auditors) <= AUDITOR_CHOICES:
        body.append(
            ChoiceSetInput(
                id="auditor",
                label="Auditor",
                choices=[Choice(title=_choice_title(c), value=str(c.id)) for c in auditors],
                value=form.auditor or None,
                is_required=True,
                error_message="Please choose the auditor.",
            )
        )
    else:
        body.append(
            TextInput(
                id="auditor",
                label="Auditor's email",
                placeholder="name@council.gov.uk",
                value=form.auditor or None,
                max_length=320,
                is_required=True,
                error_message="Please give the auditor's email.",
            )
        )
    body.append(
        DateInput(
            id="due_on",
            label="Due",
            min=(today + timedelta(days=1)).isoformat(),
            value=form.due_on or None,
            is_required=True,
            error_message="Please choose a due date.",
        )
    )
    create = ExecuteAction(
        title="Create audit",
        verb=CardVerb.CREATE_AUDIT,
        data={"action": CardVerb.CREATE_AUDIT},
        style="positive",
    )
    return new_card(body, [create])


_KINDS = (
    AuditKind.THEMATIC,
    AuditKind.MULTI_AGENCY,
    AuditKind.SENIOR_MANAGER,
    AuditKind.TEAM_MANAGER,
    AuditKind.COLLABORATIVE,
)


def _details(view: AssignedView, today: date, *, auditor: bool = True) -> list[CardElement]:
    kind: list[str | TextRun] = [label(AUDIT_KIND_LABELS, view.kind)]
    if view.theme:
        kind += [": ", view.theme]
    lines: list[CardElement] = [
        literal(run(view.case_ref, bold=True), f" · {view.team} · Audit #{view.id}"),
        literal(*kind),
        literal(f"Due {uk_date(view.due_on, today=today)}"),
    ]
    if view.practitioner_name:
        lines.append(literal("Practitioner: ", view.practitioner_name))
    if view.manager_name:
        lines.append(literal("Team manager: ", view.manager_name))
    if auditor:
        lines.append(literal("Auditor: ", view.auditor_name))
    return lines


def _cancel_form(audit_id: int) -> AdaptiveCard:
    return new_card([_cancel_reason(audit_id)], [_cancel_button(audit_id)], wide=False)


def _cancel_reason(audit_id: int) -> TextInput:
    return TextInput(
        id=item_input(Input.CANCEL_REASON, audit_id),
        label="Why is it cancelled? For example: the case closed (no names, please).",
        is_multiline=True,
        max_length=TEXT_LIMIT,
        is_required=True,
        error_message="Please say why it is cancelled.",
    )


def _cancel_button(audit_id: int) -> ExecuteAction:
    return ExecuteAction(
        title="Cancel audit",
        verb=CardVerb.CANCEL_AUDIT,
        data={"action": CardVerb.CANCEL_AUDIT, "audit_id": audit_id},
        style="destructive",
    )


def _decline_form(audit_id: int) -> AdaptiveCard:
    return new_card(
        [
            TextInput(
                id=item_input(Input.REASON, audit_id),
                label="Why can't you do it? The QA team will see this (no names, please).",
                is_multiline=True,
                max_length=TEXT_LIMIT,
                is_required=True,
                error_message="Please say why, so the QA team can find someone else.",
            )
        ],
        [
            ExecuteAction(
                title="Send to the QA team",
                verb=CardVerb.DECLINE_AUDIT,
                data={"action": CardVerb.DECLINE_AUDIT, "audit_id": audit_id},
            )
        ],
        wide=False,
    )


def _choice_title(choice: AuditorChoice) -> str:
    team = f", {choice.team}" if choice.team else ""
    same = " (same team)" if choice.same_team else ""
    away = (
        f", away until {choice.away_until.day} {choice.away_until:%b}" if choice.away_until else ""
    )
    return f"{choice.name}{team}: {choice.load} open{same}{away}"


def _state_line(state: str) -> str:
    if state == AuditState.CANCELLED:
        return "This audit was cancelled."
    if state in DONE_AUDIT_STATES:
        return "This audit is completed."
    if state == AuditState.DECLINED:
        return "The auditor can't do it; the QA team is finding someone else."
    return label(AUDIT_STATE_LABELS, state)
