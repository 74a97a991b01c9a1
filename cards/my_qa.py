"""The daily "my QA" card: one per person per working day, bundling everything that needs them.

Each open action carries the same owner buttons as `my actions` (cards.action_buttons).
"""

from __future__ import annotations

from datetime import date

from microsoft_teams.cards import (
    ActionSet,
    AdaptiveCard,
    CardElement,
    Container,
    TextBlock,
    TextRun,
)

from bot.rules.grades import AUDIT_KIND_LABELS, STANDARD_LABELS, ActionState
from bot.rules.reminders import (
    ActionDue,
    AuditDue,
    Bundle,
    FeedbackOwed,
    action_is_due,
    overdue_days,
)
from cards.action_buttons import owner_buttons
from cards.common import counted, heading, label, literal, new_card, note, run, truncate, uk_date

TITLE = "Your QA items today"
# Ten actions with their buttons stay far below the 40 KB message limit in any script; the rest
# are one command away.
MAX_ACTIONS = 10
MAX_AUDITS = 10
MAX_FEEDBACK = 10
WHAT_LIMIT = 300


def my_qa_summary(count: int) -> str:
    """The notification preview: a count only, never a case reference."""
    return f"You have {counted(count, 'QA item')} today"


def my_qa_card(bundle: Bundle) -> AdaptiveCard:
    today = bundle.day
    body: list[CardElement] = [heading(TITLE)]
    names = bundle.person.name.split()
    if bundle.count:
        body.append(
            literal(f"Hello{' ' + names[0] if names else ''}, here's what needs you today.")
        )
    else:  # re-rendered after the last item was dealt with
        body.append(note("You're all caught up for today. Thank you!"))
    if bundle.actions:
        body += _actions_section(bundle.actions, today)
    if bundle.audits:
        body += _audits_section(bundle.audits, today)
    if bundle.feedback or (bundle.count and bundle.earlier_feedback):
        body += _feedback_section(bundle.feedback, today, earlier=bundle.earlier_feedback)
    return new_card(body)


def _subheading(text: str) -> TextBlock:
    return TextBlock(text=text, weight="Bolder", size="Medium", wrap=True, spacing="Large")


def _actions_section(actions: tuple[ActionDue, ...], today: date) -> list[CardElement]:
    # What still needs them today, as the card's greeting counts it: not what is done, snoozed
    # past today or (drawn again later) listed only because the morning's card showed it.
    waiting = [a for a in actions if action_is_due(a, today)]
    overdue = sum(1 for a in waiting if a.due_on < today)
    parts: list[CardElement] = [
        _subheading("Actions"),
        note(
            counted(len(waiting), "action") + (f", {overdue} overdue" if overdue else ""),
            subtle=True,
        ),
    ]
    # Overdue first: the oldest due date is the most overdue.
    ordered = sorted(actions, key=lambda a: (a.due_on, a.id))
    parts += [_action(action, today) for action in ordered[:MAX_ACTIONS]]
    if len(ordered) > MAX_ACTIONS:
        parts.append(note(f"And {len(ordered) - MAX_ACTIONS} more — type my actions to see them."))
    return parts


def _action(action: ActionDue, today: date) -> Container:
    about: list[str | TextRun] = []
    if action.case_ref:
        about.append(run(action.case_ref, bold=True))
    if action.standard:
        about.append((" · " if about else "") + label(STANDARD_LABELS, action.standard))
    items: list[CardElement] = [
        literal(_status(action, today), run(f"  ·  Action #{action.id}", subtle=True))
    ]
    if about:
        items.append(literal(*about))
    items.append(literal(truncate(action.what, WHAT_LIMIT)))
    if action.state == ActionState.OPEN:
        items.append(
            ActionSet.model_validate(owner_buttons(action.id, today=today, source=action.source))
        )
    return Container(items=items, separator=True, spacing="Medium")


def _status(action: ActionDue, today: date) -> TextRun:
    if action.state != ActionState.OPEN:
        return run("Done ✓", bold=True, color="Good")
    if action.extension_asked_for is not None:
        asked = uk_date(action.extension_asked_for, today=today)
        return run(f"{_due(action, today)} · you've asked to move it to {asked}", bold=True)
    if action.snoozed_until is not None and action.snoozed_until > today:
        again = _on(action.snoozed_until, today)
        return run(f"{_due(action, today)} · snoozed, I'll remind you {again}", bold=True)
    if action.due_on < today:
        return run(_due(action, today), bold=True, color="Attention")
    if action.due_on == today:
        return run(_due(action, today), bold=True, color="Warning")
    return run(_due(action, today), bold=True)


def _due(action: ActionDue, today: date) -> str:
    if action.due_on < today:
        days = overdue_days(action.due_on, today)
        if days:
            return f"Overdue by {counted(days, 'working day')}"
        return f"Overdue: was due {uk_date(action.due_on, today=today)}"
    if action.due_on == today:
        return "Due today"
    return f"Due {uk_date(action.due_on, today=today)}"


def _on(day: date, today: date) -> str:
    said = uk_date(day, today=today)
    return said if said in ("today", "tomorrow") else f"on {said}"


def _audits_section(audits: tuple[AuditDue, ...], today: date) -> list[CardElement]:
    parts: list[CardElement] = [_subheading("Audits due")]
    for audit in audits[:MAX_AUDITS]:
        kind = label(AUDIT_KIND_LABELS, audit.kind)
        due = (
            run(f"Overdue: was due {uk_date(audit.due_on, today=today)}", color="Attention")
            if audit.due_on < today
            else run(f"Due {uk_date(audit.due_on, today=today)}")
        )
        line: list[str | TextRun] = [run(audit.case_ref, bold=True), f" · {kind}"]
        if audit.theme:
            line += [": ", audit.theme]
        parts.append(literal(*line, " · ", due, separator=True))
    if len(audits) > MAX_AUDITS:
        parts.append(note(f"And {len(audits) - MAX_AUDITS} more."))
    parts.append(note("Type my audits to record grades.", subtle=True))
    return parts


def _feedback_section(
    feedback: tuple[FeedbackOwed, ...], today: date, *, earlier: int
) -> list[CardElement]:
    parts: list[CardElement] = [
        _subheading("Feedback we'd love from you"),
        note("How did the audit of your case feel? It takes two minutes.", subtle=True),
    ]
    for owed in feedback[:MAX_FEEDBACK]:
        completed = uk_date(owed.completed_on, today=today)
        parts.append(
            literal(
                run(owed.case_ref, bold=True), f" · audit completed {completed}", separator=True
            )
        )
    if len(feedback) > MAX_FEEDBACK:
        parts.append(note(f"And {len(feedback) - MAX_FEEDBACK} more."))
    if earlier:
        # Owed on audits completed before this week: not asked for here, but `feedback` lists
        # them, so the two agree.
        parts.append(note(f"{counted(earlier, 'more form')} from earlier in the month."))
    parts.append(note("Type feedback to give it.", subtle=True))
    return parts
