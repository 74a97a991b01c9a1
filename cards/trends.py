"""The trends beyond the digest: `stats auditors` (each auditor's overall grades beside all
auditors', QA's alone) and `my learning` (a practitioner's own audits over time, with their themes,
actions and learning links). Names and theme titles are stored text: rendered literally."""

from __future__ import annotations

from microsoft_teams.cards import (
    Action,
    AdaptiveCard,
    CardElement,
    HorizontalBarChart,
    HorizontalBarChartDataValue,
)

from bot.rules.digest import percent
from bot.rules.grades import GRADE_LABELS, STANDARD_LABELS, Grade
from bot.rules.trends import AuditorGrades, GradeShare, Learning
from cards.common import counted, heading, im_back, label, literal, new_card, note, run, section
from cards.digest import GRADE_COLOURS, GRADE_SHORT, table
from cards.practice import Practice, learning_links

AUDITOR_ROWS = 25
AUDIT_ROWS = 12
THEME_ROWS = 5
AUDITORS_TITLE = "Grades by auditor"


def auditors_summary(view: AuditorGrades) -> str:
    return f"{AUDITORS_TITLE}: {counted(len(view.auditors), 'auditor')}"


def _share_row(s: GradeShare) -> list[str]:
    return [
        s.name,
        str(s.graded),
        *(percent(s.share(g)) for g in Grade),
        percent(s.good_or_better),
    ]


def auditors_card(view: AuditorGrades, *, since: str) -> AdaptiveCard:
    """Every auditor's audits completed in the window by overall grade, as shares of their own,
    with all auditors' first to read each against."""
    body: list[CardElement] = [
        heading(AUDITORS_TITLE),
        note(
            f"Audits completed from {since}, by overall grade. For the QA team only.", subtle=True
        ),
    ]
    if view.unmatched:
        body.append(literal(f"No auditor's name has “{view.unmatched}” in it."))
    everyone = view.everyone
    if not everyone.graded:
        body.append(note("No graded audits were completed in these months."))
        return new_card(body, [im_back("Stats", "stats")])
    body.append(
        note(
            f"All auditors: {counted(everyone.graded, 'audit')}, good or better "
            f"{percent(everyone.good_or_better)}."
        )
    )
    if len(view.auditors) == 1:
        body += _beside(view.auditors[0], everyone)
    header = ["Auditor", "Audits", *(GRADE_SHORT[g] for g in Grade), "Good+"]
    rows = [_share_row(everyone)] + [_share_row(a) for a in view.auditors[:AUDITOR_ROWS]]
    body.append(table(header, rows))
    if len(view.auditors) > AUDITOR_ROWS:
        more = counted(len(view.auditors) - AUDITOR_ROWS, "more auditor")
        body.append(note(f"And {more}: type stats auditors and a name to see one.", subtle=True))
    return new_card(body, [im_back("Stats", "stats")])


def _beside(one: GradeShare, everyone: GradeShare) -> list[CardElement]:
    """One auditor's grades as a chart, each grade's share beside all auditors' in words."""
    words = "; ".join(
        f"{GRADE_LABELS[g]} {percent(one.share(g))} (all {percent(everyone.share(g))})"
        for g in Grade
    )
    return [
        literal(run(one.name, bold=True), f": {counted(one.graded, 'audit')}. {words}."),
        HorizontalBarChart(
            title=f"{one.name}: overall grades (%)",
            show_title=True,
            display_mode="AbsoluteNoAxis",
            data=[
                HorizontalBarChartDataValue(
                    x=GRADE_LABELS[g], y=round(100 * (one.share(g) or 0)), color=GRADE_COLOURS[g]
                )
                for g in Grade
            ],
            fallback=table(
                ["Grade", one.name, "All auditors"],
                [
                    [GRADE_LABELS[g], percent(one.share(g)), percent(everyone.share(g))]
                    for g in Grade
                ],
                stored_columns=3,
            ),
        ),
    ]


# --- my learning -------------------------------------------------------------------------------------


def learning_summary(view: Learning) -> str:
    """The notification preview: no case detail."""
    return "Your learning" if view.own else "Learning in your team"


def learning_card(view: Learning, practice: Practice) -> AdaptiveCard:
    whose = "Your" if view.own else f"{view.name}'s"
    body: list[CardElement] = [
        heading("Your learning" if view.own else "Learning"),
    ]
    if not view.own:
        body.append(
            literal(run(view.name, bold=True), " — their audits, shown to you as their manager.")
        )
    if not view.audits:
        body.append(
            note(
                f"No audits of {'your' if view.own else 'their'} cases were completed from "
                f"{view.since}."
            )
        )
        return new_card(body, _buttons(view))
    mix = ", ".join(f"{GRADE_LABELS[g]} {n}" for g, n in view.overall_mix() if n)
    body.append(
        note(
            f"{whose} audits completed from {view.since}: {len(view.audits)}"
            + (f" ({mix}); good or better {percent(view.good_or_better)}." if mix else ".")
        )
    )
    body.append(section("Over time"))
    rows = [
        [
            f"{a.completed_on.day} {a.completed_on:%b %Y}",
            f"#{a.audit_id} {a.case_ref}",
            label(GRADE_LABELS, a.overall) if a.overall else "–",
            ", ".join(a.to_improve) or "–",
        ]
        for a in view.audits[:AUDIT_ROWS]
    ]
    body.append(
        table(
            ["Completed", "Audit", "Overall", "To improve"],
            rows,
            first_wide=False,
            stored_columns=4,
        )
    )
    if len(view.audits) > AUDIT_ROWS:
        more = counted(len(view.audits) - AUDIT_ROWS, "earlier audit")
        body.append(note(f"And {more}.", subtle=True))
    body.append(section("What to work on"))
    if view.standards_to_improve:
        body.append(
            note(
                "Standards graded requires improvement or inadequate: "
                + "; ".join(
                    f"{label(STANDARD_LABELS, s)} ({counted(n, 'audit')})"
                    for s, n in view.standards_to_improve
                )
                + "."
            )
        )
    else:
        body.append(note("No standard was graded requires improvement or inadequate."))
    for title, seen in (("Strengths seen", view.strengths), ("To improve", view.to_improve)):
        if seen:
            body.append(
                literal(
                    run(f"{title}: ", bold=True),
                    "; ".join(f"{t.title} ({t.audits})" for t in seen[:THEME_ROWS]),
                )
            )
    themes = [t for t in (practice.theme(s.theme) for s in view.to_improve) if t is not None]
    lines, links = learning_links(themes)
    body += lines
    body.append(section("Actions from these audits"))
    body.append(
        note(
            f"{view.actions_open} open ({view.actions_overdue} overdue), {view.actions_done} done."
        )
    )
    return new_card(body, [*links, *_buttons(view)])


def _buttons(view: Learning) -> list[Action]:
    return [im_back("My actions", "my actions")] if view.own else []
