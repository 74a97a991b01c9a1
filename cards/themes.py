"""The themes report card (`themes`) and its section of the monthly digest: the practice themes
auditors ticked most as strengths and as areas to improve, this month and this quarter, against
the period before. Figures and theme names only: no case, no person."""

from __future__ import annotations

from microsoft_teams.cards import AdaptiveCard, CardElement, SubmitAction

from bot.rules.digest import percent
from bot.rules.disclosure import fewer_than
from bot.rules.grades import STANDARD_LABELS
from bot.rules.theme_report import Change, PeriodThemes, RankedTheme, ThemeReport
from bot.rules.themes import FINDING_LABELS, Finding
from cards.common import counted, heading, im_back, label, literal, new_card, note, run, section

# The briefing buttons a QA card offers: one per top area to improve, at most.
BRIEFING_BUTTONS = 3
_ARROWS = {Change.UP: "▲", Change.DOWN: "▼", Change.SAME: "=", Change.NEW: "new"}


def themes_summary(report: ThemeReport) -> str:
    """The notification preview: the scope and period only."""
    return f"Practice themes: {report.title}, {report.quarter.label}"


def themes_card(report: ThemeReport, *, briefing_buttons: bool = False) -> AdaptiveCard:
    """`themes`; QA gets a button to write a briefing on each top area to improve."""
    body: list[CardElement] = [
        heading("Practice themes"),
        literal(run(report.title, subtle=True)),
        note(
            "The themes auditors ticked most often in completed audits, with the share of audits "
            "and the change on the period before.",
            subtle=True,
        ),
    ]
    if report.is_empty:
        body.append(note("No audits were completed this quarter or last, so there are no themes."))
        return new_card(body)
    for period in (report.month, report.quarter):
        body.append(section(period.label))
        body += period_lines(period, report.suppressed_below)
    body += _groups(report)
    actions: list[SubmitAction] = []
    if briefing_buttons:
        for t in report.quarter.to_improve[:BRIEFING_BUTTONS]:
            actions.append(
                im_back(f"Briefing: {t.title}"[:60], f"briefing new from theme {t.theme}")
            )
    return new_card(body, actions)


def themes_section(report: ThemeReport) -> list[CardElement]:
    """The monthly digest's section: the month and the quarter, without the group breakdown."""
    parts: list[CardElement] = [section("Practice themes")]
    if report.is_empty:
        return [*parts, note("No audits were completed this quarter or last.")]
    for period in (report.month, report.quarter):
        parts.append(literal(run(period.label, bold=True)))
        parts += period_lines(period, report.suppressed_below)
    return parts


def period_lines(p: PeriodThemes, below: int | None) -> list[CardElement]:
    hidden = fewer_than(below or 0)
    if p.hidden:
        return [
            note(
                f"{hidden.capitalize()} audits were completed: not shown, so that no one's audit "
                "can be told apart."
            )
        ]
    if not p.audits:
        return [note("No audits were completed.")]
    lines: list[CardElement] = [note(f"{counted(p.audits, 'audit')} completed.", subtle=True)]
    for finding in (Finding.STRENGTH, Finding.TO_IMPROVE):
        ranked = p.ranked(finding)
        lines.append(literal(run(f"{FINDING_LABELS[finding]}: ", bold=True)))
        if not ranked:
            lines.append(note("None ticked.", subtle=True))
        lines += [
            literal(f"{n}. ", run(t.title, bold=True), f" — {ranked_line(t, p, hidden)}")
            for n, t in enumerate(ranked, 1)
        ]
    if p.left_out:
        left = counted(p.left_out, "theme")
        lines.append(note(f"{left} ticked in {hidden} audits left out.", subtle=True))
    return lines


def ranked_line(t: RankedTheme, p: PeriodThemes, hidden: str) -> str:
    """ "12 audits (30%); Sep: 8 (20%) ▲" — with its standard."""
    now = f"{counted(t.audits, 'audit')} ({percent(t.share)})"
    if t.previous_hidden:
        before = f"{p.previous_label}: {hidden}"
    elif not p.previous_audits:
        before = f"{p.previous_label}: no audits"
    else:
        before = f"{p.previous_label}: {t.previous_audits} ({percent(t.previous_share)})"
    arrow = _ARROWS.get(t.change) if t.change else None
    standard = label(STANDARD_LABELS, t.standard)
    return f"{now}; {before}{f' {arrow}' if arrow else ''} · {standard}"


def _groups(report: ThemeReport) -> list[CardElement]:
    if not report.groups:
        return []
    hidden = fewer_than(report.suppressed_below or 0)
    parts: list[CardElement] = [section(f"By {report.group_kind.lower()}, {report.quarter.label}")]
    for g in report.groups:
        if g.hidden:
            parts.append(literal(run(g.name, bold=True), f": {hidden} audits, not shown"))
            continue
        parts.append(
            literal(
                run(g.name, bold=True),
                f": strength {g.strength or '–'}; to improve {g.to_improve or '–'}",
            )
        )
    return parts
