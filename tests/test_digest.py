"""The digest's figures for a small August 2026 worked out by hand; `stats` scoped by role; the
monthly job's deliveries; and no case reference in any card.

August 2026 in London: summer time throughout (UTC+1); Monday 31 August is a bank holiday, so
Tuesday 1 September is the first working day of September.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.features import CATALOGUE
from bot.features.digests.handlers import NOT_FOR_YOU, show_stats
from bot.rules.deadlines import meeting_due
from bot.rules.digest import (
    Digest,
    Meetings,
    digest,
    is_first_working_day_of_quarter,
    month,
    overdue_point,
    parse_period,
    previous_month,
    previous_quarter,
    trend_window,
)
from bot.rules.grades import Grade, Standard
from bot.rules.workdays import first_working_day, is_first_working_day_of_month
from bot.settings import Settings
from bot.turn import Request
from cards.common import card_json, card_size
from cards.digest import digest_card, meetings_line
from jobs.digest import monthly_digest, quarterly_report
from jobs.runs import JobDeps, run_job
from jobs.scheduler import scheduled_at
from storage import digest as figures
from storage.db import SessionMaker, transaction
from storage.models import (
    Action,
    ActionMeeting,
    Audit,
    Case,
    ChannelUse,
    ConversationRef,
    Feedback,
    FeedbackVersion,
    Moderation,
    Service,
    Staff,
    Team,
    Tenant,
)
from tests.chat import TENANT, card_text

JOBS = CATALOGUE.jobs

LONDON = ZoneInfo("Europe/London")
TENANT_B = "00000000-0000-0000-0000-0000000000002"
AUGUST = month(date(2026, 8, 1))
# The close of August, as the job on 1 September sees it.
SEP_1 = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A London wall-clock time as UTC."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LONDON).astimezone(UTC)


def six(overall: str, **exceptions: str) -> dict[str, str]:
    """Every standard graded like the overall grade, but for the exceptions."""
    grades = {f"grade_{s.value}": overall for s in Standard} | {"overall_grade": overall}
    return grades | {f"grade_{k}": v for k, v in exceptions.items()}


@dataclass
class Fixture:
    tenant_id: str
    staff: dict[str, Staff] = field(default_factory=dict)
    teams: dict[str, int] = field(default_factory=dict)
    audits: dict[str, Audit] = field(default_factory=dict)
    case_refs: list[str] = field(default_factory=list)


async def build_august(sessions: SessionMaker, *, tenant_id: str = TENANT) -> Fixture:
    """Three teams in two services; audits, actions, feedback and moderation around August 2026."""
    fx = Fixture(tenant_id)
    async with transaction(sessions) as session:
        session.add(Tenant(id=tenant_id, name="Council"))
        await session.flush()
        services = {}
        for name in ("Safeguarding", "Children in care"):
            services[name] = Service(tenant_id=tenant_id, name=name)
            session.add(services[name])
        await session.flush()
        for name, service in (
            ("North", "Safeguarding"),
            ("South", "Safeguarding"),
            ("East", "Children in care"),
        ):
            team = Team(tenant_id=tenant_id, service_id=services[service].id or 0, name=name)
            session.add(team)
            await session.flush()
            fx.teams[name] = team.id or 0
        people = {
            "quinn": ("qa auditor", None, None),
            "sara": ("service_manager", None, services["Safeguarding"].id),
            "megan": ("team_manager", "North", None),
            "erin": ("team_manager", "East", None),
            "alex": ("auditor practitioner", "North", None),
            "bea": ("auditor practitioner", "South", None),
            "pat": ("practitioner", "East", None),
        }
        for key, (roles, team_name, service_id) in people.items():
            person = Staff(
                tenant_id=tenant_id,
                email=f"{key}@{tenant_id[-4:]}.example.com",
                display_name=key.title(),
                aad_object_id=f"{tenant_id[:-4]}{key[:4]}",
                roles=roles,
                team_id=fx.teams[team_name] if team_name else None,
                service_id=service_id,
            )
            session.add(person)
            fx.staff[key] = person
        await session.flush()
        cases = {}
        for n, name in enumerate(("North", "South", "East")):
            ref = f"NC-{4711 + n}{tenant_id[-1]}"
            cases[name] = Case(tenant_id=tenant_id, case_ref=ref, team_id=fx.teams[name])
            session.add(cases[name])
            fx.case_refs.append(ref)
        await session.flush()

        def audit(
            key: str,
            team: str,
            due: date,
            state: str,
            completed: datetime | None = None,
            *,
            auditor: str = "alex",
            practitioner: str | None = None,
            grades: dict[str, str] | None = None,
            meeting_due_on: date | None = None,
        ) -> Audit:
            row = Audit(
                tenant_id=tenant_id,
                case_id=cases[team].id or 0,
                team_id=fx.teams[team],
                state=state,
                auditor_id=fx.staff[auditor].id or 0,
                practitioner_id=fx.staff[practitioner].id if practitioner else None,
                due_on=due,
                completed_at=completed,
                meeting_due_on=meeting_due_on,
                limiting_reason="Records will be put right this week" if key == "N1" else None,
            )
            for name, grade in (grades or {}).items():
                setattr(row, name, grade)
            session.add(row)
            fx.audits[key] = row
            return row

        d = date
        # Due in August: North 4 (2 on time, 3 completed), South 3 (2, 2; S2 declined), East 1 (1, 1).
        # N1 is done at 23:30 on the 14th (22:30 UTC): on time. N2 at 00:30 on the 15th (still
        # the 14th in UTC): late.
        audit("N1", "North", d(2026, 8, 14), "completed", at(d(2026, 8, 14), 23, 30),
              practitioner="alex", grades=six("good", records="inadequate"))  # fmt: skip
        audit("N2", "North", d(2026, 8, 14), "completed", at(d(2026, 8, 15), 0, 30),
              practitioner="alex", grades=six("requires_improvement"))  # fmt: skip
        audit("N3", "North", d(2026, 8, 20), "assigned")
        audit("N4", "North", d(2026, 8, 20), "cancelled")
        audit("N5", "North", d(2026, 8, 21), "completed", at(d(2026, 8, 21), 11),
              grades=six("inadequate"), meeting_due_on=d(2026, 8, 26))  # fmt: skip
        audit("S1", "South", d(2026, 8, 10), "moderated", at(d(2026, 8, 5), 9),
              auditor="bea", practitioner="bea", grades=six("outstanding"))  # fmt: skip
        audit("S2", "South", d(2026, 8, 28), "declined", auditor="bea")
        audit("S3", "South", d(2026, 8, 3), "completed", at(d(2026, 8, 3), 15), auditor="bea",
              grades=six("inadequate"), meeting_due_on=d(2026, 8, 6))  # fmt: skip
        # Thursday 27 August: the meeting is due Wednesday 2 September (Monday is a holiday);
        # no due date was stored, so the rule works it out.
        audit("E2", "East", d(2026, 8, 27), "completed", at(d(2026, 8, 27), 10),
              practitioner="pat", grades=six("inadequate"))  # fmt: skip
        # Due in July, completed in August: in the grades, not in August's compliance.
        audit("E1", "East", d(2026, 7, 31), "completed", at(d(2026, 8, 3), 10), grades=six("good"))
        # The trend: May 1 of 1, June 1 of 2, nothing graded in March, April or July.
        audit("M1", "East", d(2026, 5, 5), "moderated", at(d(2026, 5, 5), 10), auditor="bea",
              grades=six("outstanding"))  # fmt: skip
        audit("J1", "North", d(2026, 6, 10), "moderated", at(d(2026, 6, 10), 10),
              grades=six("good"))  # fmt: skip
        audit("J2", "South", d(2026, 6, 11), "moderated", at(d(2026, 6, 11), 10), auditor="bea",
              grades=six("inadequate"))  # fmt: skip
        await session.flush()

        def aid(key: str) -> int:
            return fx.audits[key].id or 0

        session.add(ActionMeeting(tenant_id=tenant_id, audit_id=aid("E2"), held_on=d(2026, 9, 2),
                                  attendees="SW, TM, IRO", recorded_by=fx.staff["erin"].id or 0))  # fmt: skip
        session.add(ActionMeeting(tenant_id=tenant_id, audit_id=aid("S3"), held_on=d(2026, 8, 7),
                                  attendees="SW, TM", recorded_by=fx.staff["sara"].id or 0))  # fmt: skip
        # Feedback: N1 answered twice (the latest counts), S1 once; N2 and E2 not at all.
        for key, versions in (("N1", [(1, 1, 1, 1), (5, 4, 3, 2)]), ("S1", [(4, 4, 4, 4)])):
            audit_row = fx.audits[key]
            fb = Feedback(tenant_id=tenant_id, audit_id=aid(key),
                          practitioner_id=audit_row.practitioner_id or 0)  # fmt: skip
            session.add(fb)
            await session.flush()
            for n, (a, b, c, e) in enumerate(versions, 1):
                session.add(FeedbackVersion(tenant_id=tenant_id, feedback_id=fb.id or 0, version=n,
                                            involved=a, helped_see_good=b, understand_grade=c,
                                            actions_clear=e))  # fmt: skip
        # Moderation decided in August: Alex agreed on 6 of 7, Bea on 7 of 7. July's and an
        # undecided one do not count.
        everything = {s.value: True for s in Standard} | {"overall": True}
        for key, agreement, decided in (
            ("J1", everything | {"plans": False}, at(d(2026, 8, 10), 17)),
            ("J2", everything, at(d(2026, 8, 12), 17)),
            ("M1", {"heart": False} | {k: v for k, v in everything.items() if k != "heart"},
             at(d(2026, 7, 20), 17)),
            ("N1", None, None),
        ):  # fmt: skip
            session.add(Moderation(tenant_id=tenant_id, audit_id=aid(key),
                                   moderator_id=fx.staff["quinn"].id or 0, month="2026-08",
                                   agreement=agreement, decided_at=decided))  # fmt: skip
        # Actions, all from J1, a North audit: opened 2, done 1, overdue 3 (by their owners' teams
        # North had 1, 1, 2 and South 1, 0, 1).
        for owner, created, due, state, done, cancelled in (
            ("alex", d(2026, 8, 3), d(2026, 8, 20), "open", None, None),
            ("alex", d(2026, 7, 1), d(2026, 7, 15), "done", d(2026, 8, 5), None),
            ("alex", d(2026, 7, 1), d(2026, 8, 31), "open", None, None),
            ("bea", d(2026, 8, 10), d(2026, 9, 30), "open", None, None),
            ("bea", d(2026, 7, 1), d(2026, 8, 5), "done", d(2026, 9, 3), None),
            ("bea", d(2026, 7, 1), d(2026, 7, 10), "cancelled", None, d(2026, 7, 20)),
        ):
            session.add(
                Action(
                    tenant_id=tenant_id,
                    audit_id=aid("J1"),
                    what="Update the plan",
                    measure="Seen on the record",
                    owner_id=fx.staff[owner].id or 0,
                    due_on=due,
                    state=state,
                    created_at=at(created, 10),
                    done_at=at(done, 10) if done else None,
                    cancelled_at=at(cancelled, 10) if cancelled else None,
                )
            )
    return fx


async def august(sessions: SessionMaker, team_ids: set[int] | None = None) -> Digest:
    async with sessions() as session:
        counts = await figures.counts(
            session=session,
            tenant_id=TENANT,
            period=AUGUST,
            zone=LONDON,
            overdue=overdue_point(AUGUST, LONDON, SEP_1),
            team_ids=team_ids,
        )
    return digest(counts, title="All teams", team_ids=team_ids, today=date(2026, 9, 1))


@pytest.fixture
async def fixture(sessions: SessionMaker) -> Fixture:
    # Another council with the same shape: none of its figures may leak into this one's.
    await build_august(sessions, tenant_id=TENANT_B)
    return await build_august(sessions)


# --- the rules ---------------------------------------------------------------------------------------


def test_periods() -> None:
    assert previous_month(date(2026, 1, 5)) == month(date(2025, 12, 1))
    assert previous_quarter(date(2026, 10, 1)).key == "2026-Q3"
    assert previous_quarter(date(2026, 1, 2)).key == "2025-Q4"
    q3 = parse_period("2026-Q3", "quarter")
    assert q3 is not None and (q3.start, q3.end) == (date(2026, 7, 1), date(2026, 9, 30))
    assert parse_period("2026-10", "month") == month(date(2026, 10, 1))
    assert parse_period("2026-10", "quarter") is None
    assert parse_period("2026-13", "month") is None
    assert trend_window(AUGUST)[0] == date(2025, 9, 1) and len(trend_window(AUGUST)) == 12
    assert trend_window(q3)[-1] == date(2026, 9, 1)


def test_first_working_days_skip_weekends_and_bank_holidays() -> None:
    assert first_working_day(date(2026, 8, 1)) == date(2026, 8, 3)  # Saturday 1st
    assert is_first_working_day_of_month(date(2026, 9, 1))  # Tuesday
    assert first_working_day(date(2027, 1, 1)) == date(2027, 1, 4)  # New Year's Day, a Friday
    assert is_first_working_day_of_quarter(date(2026, 10, 1))
    assert not is_first_working_day_of_quarter(date(2026, 9, 1))


def test_a_meeting_is_due_three_working_days_later_across_a_bank_holiday() -> None:
    assert meeting_due(date(2026, 8, 27)) == date(2026, 9, 2)


# --- the figures, worked out by hand ------------------------------------------------------------------


async def test_compliance_counts_local_dates_and_a_declined_audit_as_due_and_not_done(
    sessions: SessionMaker, fixture: Fixture
) -> None:
    d = await august(sessions)
    # S2 was declined and not reassigned: due, not done. N4 was cancelled: not due.
    assert [(c.team, c.due, c.on_time, c.completed, c.declined) for c in d.compliance] == [
        ("East", 1, 1, 1, 0),
        ("North", 4, 2, 3, 0),
        ("South", 3, 2, 2, 1),
    ]
    t = d.compliance_total
    assert (t.due, t.on_time, t.declined) == (8, 5, 1)


async def test_grade_mix_overall_and_per_standard(sessions: SessionMaker, fixture: Fixture) -> None:
    d = await august(sessions)
    assert dict(d.grades.of("overall")) == {
        Grade.OUTSTANDING: 1,
        Grade.GOOD: 2,
        Grade.REQUIRES_IMPROVEMENT: 1,
        Grade.INADEQUATE: 3,
    }
    assert dict(d.grades.of("records")) == {
        Grade.OUTSTANDING: 1,
        Grade.GOOD: 1,
        Grade.REQUIRES_IMPROVEMENT: 1,
        Grade.INADEQUATE: 4,
    }
    assert d.good_or_better == pytest.approx(3 / 7)


async def test_twelve_month_trend_with_months_missing(
    sessions: SessionMaker, fixture: Fixture
) -> None:
    d = await august(sessions)
    assert [(p.label, p.graded, p.good_or_better) for p in d.trend[:6]] == [
        (f"{m} 2025", 0, 0) for m in ("Sep", "Oct", "Nov", "Dec")
    ] + [("Jan 2026", 0, 0), ("Feb 2026", 0, 0)]
    assert [(p.label, p.graded, p.good_or_better) for p in d.trend[6:]] == [
        ("Mar 2026", 0, 0),
        ("Apr 2026", 0, 0),
        ("May 2026", 1, 1),
        ("Jun 2026", 2, 1),
        ("Jul 2026", 0, 0),
        ("Aug 2026", 7, 3),
    ]
    assert [p.share for p in d.trend][:2] == [None, None]
    assert d.trend[10].share is None


async def test_meetings_in_time_late_and_not_held(sessions: SessionMaker, fixture: Fixture) -> None:
    d = await august(sessions)
    # E2 in time across the bank holiday, S3 a day late, N5 not held and overdue.
    m = d.meetings
    assert (m.inadequate, m.in_time, m.late, m.not_held_overdue, m.not_held_not_due) == (
        3,
        1,
        1,
        1,
        0,
    )


async def test_a_meeting_marked_done_without_its_record_counts_the_day_it_was_marked(
    sessions: SessionMaker, fixture: Fixture
) -> None:
    # N5's chair marked the meeting action done from their daily card on Tue 25 Aug (due the
    # 26th) and has not yet recorded who attended: it was held, and in time.
    async with transaction(sessions) as session:
        n5 = fixture.audits["N5"]
        session.add(
            Action(
                tenant_id=TENANT,
                audit_id=n5.id,
                source="action_meeting",
                what="Hold the action meeting",
                measure="Meeting held within 3 working days",
                owner_id=fixture.staff["alex"].id or 0,
                due_on=date(2026, 8, 26),
                state="done",
                created_at=at(date(2026, 8, 21), 11),
                done_at=at(date(2026, 8, 25), 16),
            )
        )

    m = (await august(sessions)).meetings

    assert (m.inadequate, m.in_time, m.late, m.not_held_overdue) == (3, 2, 1, 0)


async def test_child_visits_by_the_next_working_day_late_and_not_recorded(
    sessions: SessionMaker, fixture: Fixture
) -> None:
    d = date
    async with transaction(sessions) as session:
        # S3 (Mon 3 Aug): seen on the 4th, recorded on the 5th: the day seen counts.
        # E2 (Thu 27 Aug): marked done at 00:30 on Sat 29 Aug with no day given (still the 28th
        # in UTC): the local day of marking it done counts, so it was late.
        # N5 (Fri 21 Aug): due Mon 24 Aug, not recorded by 1 September.
        for key, due, visited, done in (
            ("S3", d(2026, 8, 4), d(2026, 8, 4), at(d(2026, 8, 5), 10)),
            ("E2", d(2026, 8, 28), None, at(d(2026, 8, 29), 0, 30)),
            ("N5", d(2026, 8, 24), None, None),
        ):
            audit = fixture.audits[key]
            audit.risk_identified = True
            audit.visit_due_on, audit.visited_on = due, visited
            session.add(audit)
            session.add(
                Action(
                    tenant_id=TENANT,
                    audit_id=audit.id,
                    source="child_visit",
                    what="Visit the child",
                    measure="Visit recorded on the case file",
                    owner_id=fixture.staff["alex"].id or 0,
                    due_on=due,
                    state="done" if done else "open",
                    created_at=audit.completed_at or at(due, 9),
                    done_at=done,
                )
            )

    m = (await august(sessions)).meetings

    assert (
        m.visits,
        m.visited_in_time,
        m.visited_late,
        m.not_visited_overdue,
        m.not_visited_not_due,
    ) == (3, 1, 1, 1, 0)
    assert meetings_line(m).endswith(
        "Risk identified in 3: child visited by the next working day for 1, visited late for 1; "
        "1 not recorded and overdue."
    )


async def test_a_child_visit_after_risk_at_a_better_grade_is_counted_with_no_meeting(
    sessions: SessionMaker, fixture: Fixture
) -> None:
    # E1, graded good on Mon 3 Aug with risk identified: the child was seen on the 4th.
    async with transaction(sessions) as session:
        audit = fixture.audits["E1"]
        audit.risk_identified = True
        audit.visit_due_on, audit.visited_on = date(2026, 8, 4), date(2026, 8, 4)
        session.add(audit)

    m = (await august(sessions)).meetings

    assert (m.inadequate, m.visits, m.visited_in_time) == (3, 1, 1)
    assert meetings_line(m).endswith(
        "Risk identified in 1: child visited by the next working day for 1, visited late for 0."
    )
    only_visits = Meetings(0, 0, 0, 0, 0, visits=1, visited_in_time=1)
    assert meetings_line(only_visits) == (
        "No audits were graded inadequate. Risk identified in 1: child visited by the next "
        "working day for 1, visited late for 0."
    )


async def test_actions_opened_done_and_overdue_at_the_close(
    sessions: SessionMaker, fixture: Fixture
) -> None:
    d = await august(sessions)
    assert [(a.team, a.opened, a.closed, a.overdue) for a in d.actions] == [("North", 2, 1, 3)]


async def test_feedback_rate_and_latest_averages(sessions: SessionMaker, fixture: Fixture) -> None:
    f = (await august(sessions)).feedback
    assert (f.audits, f.responses) == (4, 2)
    assert f.averages == {
        "involved": 4.5,
        "helped_see_good": 4.0,
        "understand_grade": 3.5,
        "actions_clear": 3.0,
    }


async def test_moderation_agreement_by_auditor_and_standard(
    sessions: SessionMaker, fixture: Fixture
) -> None:
    d = await august(sessions)
    assert [(a.name, a.agreed, a.judged) for a in d.by_auditor] == [("Alex", 6, 7), ("Bea", 7, 7)]
    by_standard = {a.name: (a.agreed, a.judged) for a in d.by_standard}
    assert by_standard["plans"] == (1, 2)
    assert by_standard["heart"] == (2, 2)
    assert by_standard["overall"] == (2, 2)


async def test_limiting_overrides_are_listed(sessions: SessionMaker, fixture: Fixture) -> None:
    d = await august(sessions)
    assert [(o.team, o.auditor, o.overall, o.inadequate) for o in d.overrides] == [
        ("North", "Alex", "good", ("records",))
    ]


async def test_a_team_sees_only_its_own_figures(sessions: SessionMaker, fixture: Fixture) -> None:
    d = await august(sessions, team_ids={fixture.teams["North"]})
    assert [c.team for c in d.compliance] == ["North"]
    assert d.grades.total() == 3
    assert d.meetings.inadequate == 1
    assert [a.name for a in d.by_auditor] == ["Alex"]


async def test_an_empty_month(sessions: SessionMaker, fixture: Fixture) -> None:
    async with sessions() as session:
        quiet = month(date(2025, 2, 1))
        counts = await figures.counts(
            session=session,
            tenant_id=TENANT,
            period=quiet,
            zone=LONDON,
            overdue=overdue_point(quiet, LONDON, SEP_1),
        )
    d = digest(counts, title="All teams", team_ids=None, today=date(2025, 3, 3))
    assert d.is_empty
    text = card_text(card_json(digest_card(d)))
    assert "Nothing to report" in text


# --- stats ----------------------------------------------------------------------------------------------


async def stats_for(sessions: SessionMaker, fx: Fixture, who: str) -> tuple[str, dict[str, Any]]:
    async with sessions() as session:
        reply = await show_stats(
            Request(
                session=session,
                tenant_id=TENANT,
                person=fx.staff[who],
                today=date(2026, 8, 31),
                settings=Settings(),
                now=at(date(2026, 8, 31), 12),
                commands=CATALOGUE.commands,
                rebuilders=CATALOGUE.redraws(Settings()),
            )
        )
    return reply.summary, reply.content()


async def test_stats_is_scoped_to_what_the_asker_may_see(
    sessions: SessionMaker, fixture: Fixture
) -> None:
    summary, card = await stats_for(sessions, fixture, "megan")
    text = card_text(card)
    assert "Team North" in summary and "August 2026 so far" in summary
    assert "2 of 4 audits due so far were completed on time" in text
    assert "Bea" not in text

    _, card = await stats_for(sessions, fixture, "sara")
    text = card_text(card)
    assert "Safeguarding service" in text
    assert "4 of 7 audits due so far were completed on time" in text
    assert "East" not in text

    _, card = await stats_for(sessions, fixture, "quinn")
    text = card_text(card)
    assert "5 of 8 audits due so far were completed on time" in text
    assert "East" in text


async def test_stats_is_not_for_a_practitioner(sessions: SessionMaker, fixture: Fixture) -> None:
    summary, card = await stats_for(sessions, fixture, "pat")
    assert summary == NOT_FOR_YOU
    assert "not available for your role" in card_text(card)


# --- the jobs ------------------------------------------------------------------------------------------


async def add_chats(sessions: SessionMaker, fx: Fixture, *, channel: bool) -> None:
    async with transaction(sessions) as session:
        for key in ("megan", "erin", "quinn"):
            session.add(
                ConversationRef(
                    tenant_id=TENANT,
                    conversation_id=f"a:{key}",
                    conversation_type="personal",
                    staff_id=fx.staff[key].id,
                    service_url="https://smba.trafficmanager.net/uk/",
                    reference={},
                )
            )
        if channel:
            ref = ConversationRef(
                tenant_id=TENANT,
                conversation_id="19:qa@thread.tacv2",
                conversation_type="channel",
                channel_name="QA team",
                service_url="https://smba.trafficmanager.net/uk/",
                reference={},
            )
            session.add(ref)
            await session.flush()
            session.add(
                ChannelUse(tenant_id=TENANT, conversation_ref_id=ref.id or 0, purpose="qa_digests")
            )


def deps(sessions: SessionMaker, settings: Settings) -> JobDeps:
    return JobDeps(sessions=sessions, settings=settings, tenant_id=TENANT)


async def test_monthly_digest_goes_to_the_channel_and_each_team_manager(
    sessions: SessionMaker, settings: Settings, fixture: Fixture
) -> None:
    await add_chats(sessions, fixture, channel=True)
    planned = await monthly_digest(deps=deps(sessions, settings), now=at(date(2026, 9, 1), 9))
    assert [(p.kind, p.recipient_name, p.dedupe_key.split(":", 2)[2]) for p in planned] == [
        ("qa_digest", "QA team", f"channel:{planned[0].conversation_ref_id}"),
        ("qa_digest", "Erin", f"staff:{fixture.staff['erin'].id}"),
        ("qa_digest", "Megan", f"staff:{fixture.staff['megan'].id}"),
    ]
    assert planned[0].summary == "QA figures for August 2026: All teams"
    assert "5 of 8 audits due" in card_text(planned[0].card)
    # East had one audit due: too few to show Erin (bot.rules.disclosure).
    assert "Fewer than 3 audits were due" in card_text(planned[1].card)
    assert "Your team's figures for August 2026." in card_text(planned[2].card)
    assert "2 of 4 audits due" in card_text(planned[2].card)
    charts = {e["type"] for e in planned[0].card["body"] if e["type"].startswith("Chart.")}
    assert charts == {"Chart.HorizontalBar", "Chart.Line"}
    # The grades fall back to a table, the 12 months by 7 trends to a line of words each.
    assert {
        e["type"]: e.get("fallback", {}).get("type")
        for e in planned[0].card["body"]
        if e["type"].startswith("Chart.")
    } == {"Chart.HorizontalBar": "Table", "Chart.Line": "Container"}


async def test_without_a_channel_team_managers_still_get_theirs(
    sessions: SessionMaker,
    settings: Settings,
    fixture: Fixture,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await add_chats(sessions, fixture, channel=False)
    planned = await monthly_digest(deps=deps(sessions, settings), now=at(date(2026, 9, 1), 9))
    assert [p.recipient_name for p in planned] == ["Erin", "Megan"]
    assert "no channel is chosen" in caplog.text


async def test_the_scheduler_fires_them_on_the_first_working_day_only(settings: Settings) -> None:
    monthly, quarterly = JOBS["monthly_digest"], JOBS["quarterly_report"]
    assert scheduled_at(monthly, settings, at(date(2026, 9, 1), 12)) == at(date(2026, 9, 1), 9)
    assert scheduled_at(monthly, settings, at(date(2026, 9, 2), 12)) is None
    # 1 January is a bank holiday and 2-3 January 2027 a weekend: the quarter starts on the 4th.
    assert scheduled_at(quarterly, settings, at(date(2027, 1, 1), 12)) is None
    assert scheduled_at(quarterly, settings, at(date(2027, 1, 4), 12)) == at(date(2027, 1, 4), 9)
    assert scheduled_at(quarterly, settings, at(date(2026, 9, 1), 12)) is None


async def test_a_missed_run_is_recovered_on_a_later_day_with_the_period_before_it(
    sessions: SessionMaker, settings: Settings, fixture: Fixture
) -> None:
    """`qaloop run-job monthly_digest --as-of 2026-09-02`: the 1 September run was missed, and
    the operator running it a day late gets August's digest under August's run key."""
    await add_chats(sessions, fixture, channel=True)
    late = at(date(2026, 9, 2), 10)
    job = JOBS["monthly_digest"]
    [outcome] = await run_job(
        job, sessions=sessions, settings=settings, now=late, tenant_ids=[TENANT]
    )
    assert (outcome.period, outcome.state) == ("2026-08", "ran")
    on_time = await monthly_digest(deps=deps(sessions, settings), now=at(date(2026, 9, 1), 9))
    late_summaries = [p.summary for p in outcome.planned]
    assert late_summaries == [p.summary for p in on_time]
    assert "QA figures for August 2026: All teams" in late_summaries
    assert outcome.queued == len(on_time) == 3

    [again] = await run_job(
        job, sessions=sessions, settings=settings, now=late, tenant_ids=[TENANT]
    )
    assert again.state == "taken"

    planned = await quarterly_report(deps=deps(sessions, settings), now=at(date(2026, 10, 7), 9))
    assert [(p.kind, p.recipient_name) for p in planned] == [("qa_quarterly", "QA team")]
    assert "Q3 2026" in planned[0].summary


async def test_no_case_reference_in_any_card(
    sessions: SessionMaker, settings: Settings, fixture: Fixture
) -> None:
    await add_chats(sessions, fixture, channel=True)
    planned = await monthly_digest(deps=deps(sessions, settings), now=at(date(2026, 9, 1), 9))
    planned += await quarterly_report(deps=deps(sessions, settings), now=at(date(2026, 10, 1), 9))
    cards = [json.dumps(p.card) + p.summary for p in planned]
    for who in ("megan", "sara", "quinn"):
        summary, card = await stats_for(sessions, fixture, who)
        cards.append(json.dumps(card) + summary)
    assert len(cards) == 7
    for ref in fixture.case_refs:
        assert not any(ref in text for text in cards), ref
    # Nor the free text an auditor wrote.
    assert not any("Records will be put right" in text for text in cards)


async def test_a_digest_of_fifty_teams_stays_under_40_kb() -> None:
    from bot.rules.digest import ActionCount, ComplianceCount, Counts, ModerationCount, TeamRow

    teams = [TeamRow(n, f"Team number {n}", 1) for n in range(1, 51)]
    counts = Counts(
        period=AUGUST,
        trend_months=trend_window(AUGUST),
        teams=teams,
        compliance=[ComplianceCount(t.id, 30, 20, 25) for t in teams],
        actions=[ActionCount(t.id, 40, 30, 10) for t in teams],
        moderation=[
            ModerationCount(t.id, t.id, f"Auditor {t.id}", {"heart": 1}, {"heart": 1})
            for t in teams
        ],
    )
    d = digest(counts, title="All teams", team_ids=None, today=date(2026, 9, 1))
    assert card_size(digest_card(d)) < 40_000
