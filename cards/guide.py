"""The weekly step guide: this week's steps for auditors, then their open audits with buttons."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from microsoft_teams.cards import (
    ActionSet,
    AdaptiveCard,
    CardElement,
    Container,
    ExecuteAction,
    TextBlock,
)

from bot.rules.grades import AUDIT_KIND_LABELS, AUDIT_STATE_LABELS
from cards.common import counted, im_back, label, literal, new_card, note, run, uk_date
from cards.names import CardVerb

# Enough for a heavy week; the rest are one `my audits` away.
AUDITS_SHOWN = 8


@dataclass(frozen=True, slots=True)
class GuideStep:
    title: str
    text: str


@dataclass(frozen=True, slots=True)
class StepGuide:
    title: str
    intro: str
    steps: tuple[GuideStep, ...]


@dataclass(frozen=True, slots=True)
class GuideAudit:
    id: int
    case_ref: str
    kind: str
    theme: str | None
    state: str
    due_on: date


def step_guide_summary(audits: int) -> str:
    """The notification preview: no case reference."""
    return f"Your audit steps this week, and your {counted(audits, 'open audit')}"


def step_guide_card(
    guide: StepGuide, *, audits: list[GuideAudit], today: date, week_ends: date
) -> AdaptiveCard:
    """`audits` are the auditor's open audits, soonest due first; `week_ends` is this Sunday."""
    body: list[CardElement] = [
        TextBlock(text="Weekly step guide", size="Small", is_subtle=True, wrap=True),
        literal(run(guide.title, bold=True)),
    ]
    if guide.intro:
        body.append(literal(guide.intro))
    for n, step in enumerate(guide.steps, start=1):
        body.append(
            Container(
                items=[literal(run(f"{n}. {step.title}", bold=True)), literal(step.text)],
                spacing="Medium",
            )
        )
    this_week = [a for a in audits if a.due_on <= week_ends]
    later = [a for a in audits if a.due_on > week_ends]
    body.append(
        TextBlock(
            text="Your audits this week",
            size="Medium",
            weight="Bolder",
            spacing="Large",
            separator=True,
            wrap=True,
        )
    )
    if not this_week:
        body.append(note("None due this week."))
    shown = 0
    for audit in this_week:
        if shown == AUDITS_SHOWN:
            break
        body.append(_audit(audit, today))
        shown += 1
    if later and shown < AUDITS_SHOWN:
        body.append(TextBlock(text="Coming up", weight="Bolder", spacing="Medium", wrap=True))
        for audit in later[: AUDITS_SHOWN - shown]:
            body.append(_audit(audit, today))
            shown += 1
    if len(audits) > shown:
        body.append(
            note(f"{len(audits) - shown} more: type my audits to see them all.", subtle=True)
        )
    return new_card(body, [im_back("My audits", "my audits")])


def _audit(audit: GuideAudit, today: date) -> Container:
    kind = label(AUDIT_KIND_LABELS, audit.kind)
    due = (
        run(f"Overdue: was due {uk_date(audit.due_on, today=today)}", bold=True, color="Attention")
        if audit.due_on < today
        else run(f"Due {uk_date(audit.due_on, today=today)}")
    )
    return Container(
        items=[
            literal(
                run(audit.case_ref, bold=True),
                f" · {kind}" + (f": {audit.theme}" if audit.theme else ""),
            ),
            literal(label(AUDIT_STATE_LABELS, audit.state) + " · ", due),
            ActionSet(
                actions=[
                    ExecuteAction(
                        title="Record grades",
                        verb=CardVerb.OPEN_GRADING,
                        data={"action": CardVerb.OPEN_GRADING, "audit_id": audit.id},
                    )
                ]
            ),
        ],
        separator=True,
        spacing="Medium",
    )


def guide_unavailable_card() -> AdaptiveCard:
    return new_card(
        [
            literal(
                "The step guide can't be shown just now: its content file has a problem. "
                "Please tell the QA team. Your audits are in my audits."
            )
        ],
        [im_back("My audits", "my audits")],
        wide=False,
    )
