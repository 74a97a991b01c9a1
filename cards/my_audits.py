"""The `my audits` card: audits I am doing and audits of my cases, a page at a time; Record grades
on each open audit I am doing."""

from __future__ import annotations

from datetime import date

from microsoft_teams.cards import (
    ActionSet,
    AdaptiveCard,
    CardElement,
    Container,
    ExecuteAction,
    TextBlock,
)

from bot.rules.grades import (
    AUDIT_KIND_LABELS,
    AUDIT_STATE_LABELS,
    GRADE_LABELS,
    OPEN_AUDIT_STATES,
)
from cards.common import (
    heading,
    label,
    literal,
    new_card,
    note,
    paging_actions,
    run,
    showing_line,
    uk_date,
)
from cards.names import CardVerb
from cards.views import AuditItem, Page

_GROUPS = (("auditor", "Audits I'm doing"), ("practitioner", "Audits of my cases"))


def my_audits_card(*, items: list[AuditItem], page: Page, today: date) -> AdaptiveCard:
    if not items and page.offset == 0:
        return new_card(
            [
                heading("My audits"),
                note("You have no audits right now."),
                note("When you audit a case, or one of your cases is audited, it will show here."),
            ]
        )
    body: list[CardElement] = [heading("My audits")]
    if showing := showing_line(page, len(items)):
        body.append(note(showing, subtle=True))
    for part, title in _GROUPS:
        group = [item for item in items if item.my_part == part]
        if group:
            body.append(
                TextBlock(text=title, size="Medium", weight="Bolder", spacing="Large", wrap=True)
            )
            body += [_audit(item, today) for item in group]
    return new_card(body, paging_actions(page, CardVerb.MY_AUDITS_PAGE))


def _audit(item: AuditItem, today: date) -> Container:
    kind = label(AUDIT_KIND_LABELS, item.kind)
    due = (
        run(f"Overdue: was due {uk_date(item.due_on, today=today)}", bold=True, color="Attention")
        if item.overdue
        else run(f"Due {uk_date(item.due_on, today=today)}")
    )
    parts: list[CardElement] = [
        literal(
            run(item.case_ref, bold=True), f" · {kind}" + (f": {item.theme}" if item.theme else "")
        ),
        literal(label(AUDIT_STATE_LABELS, item.state) + " · ", due),
    ]
    if item.other_person:
        who = "With" if item.my_part == "auditor" else "Auditor:"
        parts.append(literal(f"{who} {item.other_person}"))
    if item.overall_grade:
        parts.append(literal(f"Overall grade: {label(GRADE_LABELS, item.overall_grade)}"))
    if item.my_part == "auditor" and item.state in OPEN_AUDIT_STATES:
        data = {"action": CardVerb.OPEN_GRADING, "audit_id": item.id}
        parts.append(
            ActionSet(
                actions=[
                    ExecuteAction(title="Record grades", verb=CardVerb.OPEN_GRADING, data=data)
                ]
            )
        )
    return Container(items=parts, separator=True, spacing="Medium")
