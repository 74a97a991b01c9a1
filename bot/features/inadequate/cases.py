"""`inadequate` (QA, service managers, heads of service): every child's case judged inadequate in
the last 12 months, with the meeting, the visit, the actions and the re-audit — the framework's
"tracking of children where practice has been judged, through audit, to be inadequate".

QA sees every team; a service manager or head of service the teams of their service. The card
carries case references, so it goes to the asker's personal chat only.
"""

from __future__ import annotations

from datetime import date

from bot.payloads import PagePayload
from bot.rules.deadlines import meeting_due, timeliness
from bot.rules.digest import local_start, teams_in
from bot.rules.grades import DONE_AUDIT_STATES, AuditState
from bot.rules.permissions import team_scope
from bot.rules.reaudit import LOOKBACK_MONTHS, compare, is_done, is_verified, months_on
from bot.rules.roles import Role
from bot.services import flows
from bot.turn import Command, Reply, Request
from cards.inadequate_cases import (
    Reaudit,
    Step,
    TrackedCase,
    inadequate_cases_card,
    inadequate_cases_summary,
)
from cards.notices import not_allowed_card
from cards.views import PAGE_SIZE, Page
from storage import actions, staff, tenants
from storage import digest as figures
from storage import reaudit as store
from storage.reaudit import InadequateCase, grades_of

NOT_FOR_YOU = (
    "The inadequate cases are for the QA team, service managers and heads of service, "
    "so they're not available for your role."
)


async def show_inadequate(request: Request) -> Reply:
    session, tenant_id, today = request.session, request.tenant_id, request.today
    me = await staff.standing(session=session, tenant_id=tenant_id, person=request.person)
    scope = team_scope(me)
    if scope is None or scope.kind == "team":
        # A lead without a service recorded sees nothing rather than one team's cases.
        return Reply(card=not_allowed_card(NOT_FOR_YOU), summary=NOT_FOR_YOU, private=True)
    team_ids = None
    if scope.kind == "service":
        all_teams = await figures.teams(session=session, tenant_id=tenant_id)
        team_ids = teams_in(all_teams, scope.kind, scope.id)
    zone = await actions.display_zone(session=session, tenant_id=tenant_id)
    since = local_start(months_on(today, -LOOKBACK_MONTHS), zone)
    rows, total = await store.inadequate_cases(
        session=session,
        tenant_id=tenant_id,
        since=since,
        team_ids=team_ids,
        offset=request.offset,
        size=PAGE_SIZE,
    )
    deadlines = await tenants.deadlines(session=session, tenant_id=tenant_id)

    def tracked(row: InadequateCase) -> TrackedCase:
        audit = row.audit
        assert audit.id is not None and audit.completed_at is not None
        completed_on = audit.completed_at.astimezone(zone).date()
        meeting_due_on = audit.meeting_due_on or meeting_due(completed_on, deadlines)
        again = row.reaudit
        again_grades = (
            grades_of(again) if again is not None and again.state in DONE_AUDIT_STATES else None
        )
        return TrackedCase(
            audit_id=audit.id,
            case_ref=row.case_ref,
            team=row.team,
            completed_on=completed_on,
            meeting=_step(meeting_due_on, row.meeting_held_on, today),
            visit=_step(audit.visit_due_on, audit.visited_on, today),
            actions=sum(1 for a in row.actions if a.state != "cancelled"),
            done=sum(1 for a in row.actions if is_done(a.state)),
            verified=sum(
                1
                for a in row.actions
                if is_verified(state=a.state, standard=a.standard, reaudit_grades=again_grades)
            ),
            reaudit=_reaudit(
                row,
                again_grades,
                completed_on=again.completed_at.astimezone(zone).date()
                if again is not None and again.completed_at is not None
                else None,
            ),
        )

    cases = [tracked(row) for row in rows]
    page = Page(offset=request.offset, size=PAGE_SIZE, total=total)
    return Reply(
        card=inadequate_cases_card(cases=cases, page=page, today=today),
        summary=inadequate_cases_summary(total),
        private=True,
    )


def _step(due_on: date | None, done_on: date | None, today: date) -> Step | None:
    if due_on is None:
        return None
    return Step(due_on=due_on, done_on=done_on, timeliness=timeliness(due_on, done_on, today))


def _reaudit(
    row: InadequateCase, again_grades: dict[str, str | None] | None, *, completed_on: date | None
) -> Reaudit:
    again = row.reaudit
    if again is None:
        return Reaudit(audit_id=None, state="not_scheduled", reason=row.not_scheduled)
    if again.state == AuditState.CANCELLED:
        return Reaudit(audit_id=again.id, state="cancelled", reason=row.cancelled_because)
    if again_grades is None:
        return Reaudit(
            audit_id=again.id, state="due", due_on=again.due_on, auditor=row.reaudit_auditor
        )
    changes = compare(grades_of(row.audit), again_grades)
    return Reaudit(
        audit_id=again.id,
        state="done",
        auditor=row.reaudit_auditor,
        completed_on=completed_on,
        changes=tuple((s.value, c) for s, c in changes.items()),
    )


async def page_of_inadequate(request: Request, payload: PagePayload) -> Reply:
    return await flows.page_if_allowed(request.at(payload.offset), INADEQUATE)


INADEQUATE = Command(
    "inadequate",
    "Children's cases judged inadequate in the last 12 months: meeting, visit, actions, re-audit",
    show_inadequate,
    roles=frozenset({Role.QA, Role.SERVICE_MANAGER, Role.HEAD_OF_SERVICE}),
    # Teams' menus hold 10 commands a scope and are full; it is typed, and listed in `help`.
    menu=(),
)
