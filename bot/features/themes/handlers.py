"""`themes` (managers and QA) and `briefing new from theme <theme>` (QA)."""

from __future__ import annotations

from bot.rules.briefing import KEY_MESSAGE_LIMIT, MAX_KEY_MESSAGES, READ_LIMIT, TITLE_LIMIT
from bot.rules.digest import percent
from bot.rules.disclosure import disclose_themes, fewer_than
from bot.rules.grades import STANDARD_LABELS
from bot.rules.permissions import TeamScope, team_scope
from bot.rules.roles import Role
from bot.rules.theme_report import TOP, PeriodThemes, ThemeReport, report_periods, theme_line
from bot.rules.themes import Finding
from bot.services import flows
from bot.services.practice import practice_for, practice_with_exemplars
from bot.services.theme_report import report_for, titles_of
from bot.turn import Reply, Request
from cards.briefing import briefing_form_card
from cards.common import counted, label, truncate
from cards.notices import error_card, not_allowed_card, usage_card
from cards.practice import Practice, Theme
from cards.themes import themes_card, themes_summary
from storage import actions, staff, team

NOT_FOR_YOU = (
    "The themes report is for team managers, service managers, heads of service and the QA team, "
    "so it's not available for your role."
)
NO_TEAM = (
    "You have no team recorded, so there are no themes to show. Ask an admin to set your team "
    "in the staff import."
)
# The newest approved exemplars drafted into a briefing from a theme; QA edits the draft.
EXEMPLARS_IN_BRIEFING = 3
WHICH = (
    "Which theme? For example: briefing new from theme genogram. Type themes to see the top ones."
)


async def show_themes(request: Request) -> Reply:
    """A team manager sees their team, a service lead their service by team, QA everyone by
    service. Anyone but QA sees it through bot.rules.disclosure."""
    session, tenant_id = request.session, request.tenant_id
    me = await staff.standing(session=session, tenant_id=tenant_id, person=request.person)
    scope = team_scope(me)
    if scope is None:
        return Reply(card=not_allowed_card(NOT_FOR_YOU), summary=NOT_FOR_YOU)
    if scope.kind == "team" and scope.id is None:
        return Reply(card=not_allowed_card(NO_TEAM), summary=NO_TEAM)
    is_qa = Role.QA in me.roles
    title = await team.title(session=session, tenant_id=tenant_id, scope=scope)
    report = disclose_themes(
        await _report(request, scope, title), below=request.settings.suppress_below, for_qa=is_qa
    )
    return Reply(
        card=themes_card(report, briefing_buttons=is_qa),
        summary=themes_summary(report),
        private=True,
    )


async def _report(
    request: Request, scope: TeamScope, title: str, *, groups: bool = True, top: int = TOP
) -> ThemeReport:
    zone = await actions.display_zone(session=request.session, tenant_id=request.tenant_id)
    return await report_for(
        request.session,
        tenant_id=request.tenant_id,
        scope=scope,
        title=title,
        periods=report_periods(request.today, so_far=True),
        zone=zone,
        titles=titles_of(practice_for(request.settings)),
        groups=groups,
        top=top,
    )


async def new_briefing_from_theme(request: Request) -> Reply:
    """The briefing form filled in from one theme: its counts across the council (as staff may
    see them, since a briefing goes to staff channels), its standard's descriptor and its
    learning links. No case detail: counts and the QA team's own content only."""
    if Role.QA not in request.person.role_set:
        flows.log_refusal(request, "briefing_from_theme", None, "role", denied=True)
        message = "Only the QA team can write briefings."
        return Reply(card=not_allowed_card(message), summary=message)
    typed = request.args.strip()
    if not typed:
        return Reply(card=usage_card(WHICH, button=("Themes", "themes")), summary="Which theme?")
    practice = await practice_with_exemplars(
        request.session, tenant_id=request.tenant_id, settings=request.settings
    )
    theme = _theme(practice, typed)
    if theme is None:
        message = (
            f"I don't know a theme called “{truncate(request.raw_args.strip(), 60)}”. Use a theme's "
            "key from the themes file, as in briefing new from theme genogram, or type themes."
        )
        return Reply(card=error_card(message), summary="Unknown theme")
    scope = TeamScope("all", None, 0)
    # Every theme ranked, so this one is found wherever it stands.
    whole = await _report(request, scope, "All teams", groups=False, top=len(practice.themes))
    report = disclose_themes(whole, below=request.settings.suppress_below, for_qa=False)
    return Reply(
        card=briefing_form_card(values=briefing_values(theme, practice, report)),
        summary="New Best Practice Briefing",
        private=True,
    )


def _theme(practice: Practice, typed: str) -> Theme | None:
    wanted = typed.casefold()
    return next(
        (t for t in practice.themes if wanted in (t.key, t.title.casefold())),
        None,
    )


def briefing_values(theme: Theme, practice: Practice, report: ThemeReport) -> dict[str, str]:
    """Title, read, key messages and link drafted from the theme; QA edits them before posting."""
    standard = label(STANDARD_LABELS, theme.standard)
    below = report.suppressed_below or 0
    read = [
        f"“{theme.title}” is one of the practice themes of the standard “{standard}”. "
        "Here is what our audits say about it, and where to learn more.",
        "",
    ]
    for period in (report.month, report.quarter):
        read.append(f"{period.label}: {_counts_line(period, theme.key, below)}")
    descriptor = practice.descriptors.get(theme.standard)
    if descriptor and descriptor.good_looks_like:
        read += ["", f"What good looks like for “{standard}”:"]
        read += [f"• {line}" for line in descriptor.good_looks_like]
    if theme.links:
        read += ["", "Learning:"]
        read += [f"• {link.kind}: {link.title} — {link.url}" for link in theme.links]
    if theme.exemplars:
        read += ["", "Exemplars from our audits:"]
        read += [f"• {e.title}: {e.text}" for e in theme.exemplars[:EXEMPLARS_IN_BRIEFING]]
    messages = (
        list(descriptor.good_looks_like) if descriptor and descriptor.good_looks_like else []
    ) or [theme.title]
    return {
        "title": truncate(f"Practice theme: {theme.title}", TITLE_LIMIT),
        "read": truncate("\n".join(read), READ_LIMIT),
        "key_messages": "\n".join(
            truncate(m, KEY_MESSAGE_LIMIT) for m in messages[:MAX_KEY_MESSAGES]
        ),
        "link": theme.links[0].url if theme.links else "",
    }


def _counts_line(period: PeriodThemes, key: str, below: int) -> str:
    if period.hidden:
        return f"{fewer_than(below)} audits were completed, so the figures are not shown."
    if not period.audits:
        return "no audits were completed."
    parts = []
    for finding in (Finding.TO_IMPROVE, Finding.STRENGTH):
        found = theme_line(period, finding, key)
        seen = f"{found.audits} ({percent(found.share)})" if found else fewer_than(below)
        parts.append(f"ticked as {_AS[finding]} in {seen}")
    return f"{'; '.join(parts)} of {counted(period.audits, 'completed audit')}."


_AS = {Finding.TO_IMPROVE: "an area to improve", Finding.STRENGTH: "a strength"}
