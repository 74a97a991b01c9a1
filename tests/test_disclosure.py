"""No figure identifies a person (DESIGN §2): a figure shown to anyone but QA that rests on fewer
than 3 audits or responses reads "fewer than 3", a total never gives a hidden cell away, and the
monthly digest reaches each service manager and head of service as their service's figures.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from sqlmodel import select

from bot.features import CATALOGUE
from bot.rules.digest import (
    Agreement,
    Digest,
    FeedbackFigures,
    GradeMix,
    Meetings,
    TeamCompliance,
    TrendPoint,
    digest,
    month,
    teams_in,
)
from bot.rules.disclosure import SUPPRESS_BELOW, disclose, fewer_than, hidden_cells
from bot.settings import Settings
from jobs.runs import run_job
from storage.db import SessionMaker, transaction
from storage.models import Audit, Feedback, FeedbackVersion, Staff, Team
from tests.chat import ADELE, MEGAN, TENANT, Chat, card_text
from tests.helpers import small_council
from tests.test_figures import OCT_1, Q3, Generated, counted, generated_council

JOBS = CATALOGUE.jobs

AUGUST = month(date(2026, 8, 1))
SEP_1 = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)


# --- the rule ---------------------------------------------------------------------------------------


def test_the_threshold_is_three_and_reads_fewer_than_three() -> None:
    assert SUPPRESS_BELOW == 3 == Settings(_env_file=None).suppress_below  # type: ignore[call-arg]
    assert fewer_than(SUPPRESS_BELOW) == "fewer than 3"


def test_one_small_cell_beside_a_total_takes_the_next_smallest_with_it() -> None:
    assert hidden_cells([10, 2, 7], 3) == {1, 2}
    assert hidden_cells([10, 2, 1], 3) == {1, 2}
    assert hidden_cells([10, 9], 3) == set()
    # Alone (no other cell to subtract), or with nothing to identify (none), nothing more.
    assert hidden_cells([2], 3) == {0}
    assert hidden_cells([0, 5], 3) == set()


def _figures(compliance: list[int], auditors: list[int], trend: list[int]) -> Digest:
    window = [date(2026, m, 1) for m in range(4, 10)]
    return Digest(
        title="Test",
        period=Q3,
        compliance=[TeamCompliance(f"T{n}", due, due, due) for n, due in enumerate(compliance)],
        compliance_total=TeamCompliance("All", sum(compliance), sum(compliance), sum(compliance)),
        grades=GradeMix({"overall": {"good": sum(trend[3:])}}),
        trend=[TrendPoint(m, graded, graded) for m, graded in zip(window, trend, strict=True)],
        meetings=Meetings(0, 0, 0, 0, 0),
        actions=[],
        feedback=FeedbackFigures(0, 0, {}),
        by_auditor=[Agreement(f"A{n}", 7 * a, 7 * a, a) for n, a in enumerate(auditors)],
        by_standard=[Agreement("heart", sum(auditors), sum(auditors), sum(auditors))],
        overrides=[],
    )


@pytest.mark.parametrize(
    ("compliance", "auditors", "trend"),
    [
        ([1, 5, 9], [2, 4, 4], [0, 1, 4, 2, 6, 5]),
        ([2, 2, 9], [1, 1, 8], [3, 3, 3, 1, 1, 1]),
        ([4], [2], [0, 0, 0, 0, 0, 2]),
        ([3, 1], [5, 6], [9, 9, 9, 9, 9, 1]),
    ],
)
def test_no_shown_total_less_the_shown_cells_is_one_hidden_cell(
    compliance: list[int], auditors: list[int], trend: list[int]
) -> None:
    d = disclose(_figures(compliance, auditors, trend), below=3, for_qa=False)
    for shown_total, cells in (
        (not d.compliance_total.hidden, [c.hidden for c in d.compliance]),
        (not d.by_standard[0].hidden, [a.hidden for a in d.by_auditor]),
        # The quarter's grades total its three months.
        (not d.grades.hidden, [p.hidden for p in d.trend[3:]]),
    ):
        if shown_total:
            assert sum(cells) != 1, cells
    # And nothing hidden keeps a number a card could print.
    assert all(c.due == 0 for c in d.compliance if c.hidden)
    assert all(a.agreed == a.judged == 0 for a in d.by_auditor if a.hidden)


def test_one_or_two_inadequate_or_risk_audits_are_not_a_figure_outside_qa() -> None:
    from cards.common import card_json
    from cards.digest import digest_card

    one = replace(_figures([4], [4], [0, 0, 0, 3, 3, 3]), meetings=Meetings(1, 1, 0, 0, 0, 1, 1))
    many = replace(one, meetings=Meetings(3, 2, 1, 0, 0, 4, 4))

    hidden = disclose(one, below=3, for_qa=False)
    text = card_text(card_json(digest_card(hidden)))
    assert hidden.meetings.hidden and hidden.meetings.inadequate == 0
    assert "Fewer than 3 audits were graded inadequate or found risk" in text
    assert "1 audit graded inadequate" not in text
    assert disclose(one, below=3, for_qa=True).meetings == one.meetings
    assert disclose(many, below=3, for_qa=False).meetings == many.meetings


def test_qa_sees_every_figure() -> None:
    whole = _figures([1, 5, 9], [2, 4, 4], [0, 1, 4, 2, 6, 5])
    assert disclose(whole, below=3, for_qa=True) == whole


async def test_over_generated_data_no_manager_s_figure_rests_on_fewer_than_three(
    sessions: SessionMaker,
) -> None:
    council: Generated = await generated_council(sessions)
    tiny: list[bool] = []
    for period in (AUGUST, Q3):
        counts = await counted(sessions, TENANT, period, OCT_1)
        scopes = [({t}, None) for t in council.teams.values()] + [
            (teams_in(counts.teams, "service", s), s) for s in council.services.values()
        ]
        for team_ids, service_id in scopes:
            whole = digest(
                counts, title="x", team_ids=team_ids, service_id=service_id, today=OCT_1.date()
            )
            d = disclose(whole, below=3, for_qa=False)
            if 0 < whole.compliance_total.due < 3:
                tiny.append(d.compliance_total.hidden)
            assert all(c.due >= 3 for c in d.compliance if not c.hidden)
            assert d.compliance_total.hidden or not 0 < d.compliance_total.due < 3
            assert d.grades.hidden or not 0 < d.grades.total() < 3
            assert all(p.graded == 0 or p.graded >= 3 for p in d.trend if not p.hidden)
            assert d.feedback.responses_hidden or not 0 < d.feedback.responses < 3
            assert all(a.audits >= 3 for a in d.by_auditor if not a.hidden)
            assert d.overrides == []
            if not d.compliance_total.hidden:
                assert sum(c.hidden for c in d.compliance) != 1
            if any(not a.hidden for a in d.by_standard):
                assert sum(a.hidden for a in d.by_auditor) != 1
    # The tiny teams' own figures are hidden from their managers.
    assert tiny and all(tiny), tiny


# --- over HTTP: the monthly digest in each manager's chat ---------------------------------------------


async def one_practitioner_s_feedback(sessions: SessionMaker) -> tuple[int, int]:
    """North (Alex and Megan) had one audit in August, of Alex's case; Alex rated it."""
    council = await small_council(sessions)
    async with transaction(sessions) as session:
        audit = Audit(
            tenant_id=TENANT,
            case_id=council.cases[0].id or 0,
            team_id=council.team_id,
            state="completed",
            auditor_id=council.staff["megan"].id or 0,
            practitioner_id=council.staff["alex"].id,
            due_on=date(2026, 8, 14),
            completed_at=datetime(2026, 8, 12, 10, tzinfo=UTC),
            overall_grade="good",
            **{f"grade_{s}": "good" for s in ("heart", "assessment", "plans")},
            **{f"grade_{s}": "good" for s in ("records", "oversight", "strengths")},
        )
        session.add(audit)
        await session.flush()
        feedback = Feedback(
            tenant_id=TENANT, audit_id=audit.id or 0, practitioner_id=council.staff["alex"].id or 0
        )
        session.add(feedback)
        await session.flush()
        session.add(
            FeedbackVersion(
                tenant_id=TENANT,
                feedback_id=feedback.id or 0,
                version=1,
                involved=1,
                helped_see_good=2,
                understand_grade=1,
                actions_clear=2,
            )
        )
        team = await session.get(Team, council.team_id)
        assert team is not None
        session.add(
            Staff(
                tenant_id=TENANT,
                email=ADELE.email,
                display_name=ADELE.name,
                aad_object_id=ADELE.aad,
                roles="service_manager",
                service_id=team.service_id,
            )
        )
        await session.flush()
    async with sessions() as session:
        ids = await session.exec(
            select(Staff.id)
            .where(Staff.email.in_([MEGAN.email, ADELE.email]))
            .order_by(Staff.email)
        )  # type: ignore[attr-defined]
        adele_id, megan_id = ids.all()
    return megan_id or 0, adele_id or 0


async def monthly_digest_sent(
    chat: Chat, sessions: SessionMaker, settings: Settings, *, to: int
) -> tuple[dict[str, str], list[str]]:
    """The monthly digest run on 1 September: each chat's card text, and the run's dedupe keys."""
    before = len(chat.connector.sent)
    [outcome] = await run_job(
        JOBS["monthly_digest"],
        sessions=sessions,
        settings=settings,
        now=datetime(2026, 9, 1, 8, 5, tzinfo=UTC),
        tenant_ids=[TENANT],
    )
    assert outcome.state == "ran"
    sent = await chat.connector.wait_for(before + to)
    texts = {s.conversation_id: card_text(s.cards[0]) for s in sent[before:]}
    return texts, [p.dedupe_key for p in outcome.planned]


async def test_a_team_digest_with_one_practitioner_s_feedback_shows_fewer_than_three(
    chat: Chat, sessions: SessionMaker, settings: Settings
) -> None:
    await one_practitioner_s_feedback(sessions)
    await chat.say("help", who=MEGAN)

    texts, _ = await monthly_digest_sent(chat, sessions, settings, to=1)

    megan = texts[f"a:personal-{MEGAN.teams_id}"]
    assert "Fewer than 3 audits with a practitioner were completed" in megan
    assert "Team North" in megan and "Your team's figures for August 2026." in megan
    # Neither Alex's ratings nor his audit's grade.
    assert "Average ratings" not in megan and "1.0" not in megan
    assert "Fewer than 3 audits were completed" in megan and "Good 1" not in megan


async def test_the_service_manager_gets_her_service_s_digest(
    chat: Chat, sessions: SessionMaker, settings: Settings
) -> None:
    megan_id, adele_id = await one_practitioner_s_feedback(sessions)
    for person in (MEGAN, ADELE):
        await chat.say("help", who=person)

    texts, keys = await monthly_digest_sent(chat, sessions, settings, to=2)

    adele = texts[f"a:personal-{ADELE.teams_id}"]
    # Told about her service, never "your team"; no figure in it identifies Alex.
    assert "Safeguarding service" in adele and "Your service's figures for August 2026." in adele
    assert "your team" not in adele.lower()
    assert "Fewer than 3 audits with a practitioner were completed" in adele
    # One delivery per person and period.
    assert sorted(keys) == sorted(
        f"qa_digest:2026-08:staff:{staff_id}" for staff_id in (megan_id, adele_id)
    )


def test_counts_agree_in_number_in_the_figures_cards() -> None:
    from cards.common import card_json
    from cards.digest import TEAM_ROWS, digest_card
    from cards.team import Compliance, Overdue, TeamView, team_card
    from cards.views import Page

    many = _figures([5] * (TEAM_ROWS + 1), [4], [0, 0, 0, 3, 3, 3])
    text = card_text(card_json(digest_card(many)))
    assert "And 1 more team:" in text
    assert "1 declined" not in text

    one = _figures([1], [4], [0, 0, 0, 3, 3, 3])
    one = replace(one, compliance=[], compliance_total=TeamCompliance("All", 1, 1, 1))
    assert "1 of 1 audit due was completed on time" in card_text(card_json(digest_card(one)))
    # The completed count is of those due, so it never reads "0 completed in all" above grades.
    assert "1 of them completed, on time or late" in card_text(card_json(digest_card(one)))

    view = TeamView(
        title="Safeguarding service",
        extensions=[],
        confirmations=[],
        more_waiting=False,
        overdue=[Overdue(1, "Alex Wilber", "Update the plan", None, None, date(2026, 11, 30), 1)],
        page=Page(0, 10, 1),
        compliance=[Compliance("North", 4, 2, 1), Compliance("Solo", 0, 0, hidden=True)],
        away=[],
        away_total=0,
        compliance_total=Compliance("All", 6, 3, 1),
        hidden_text="fewer than 3",
    )
    text = card_text(card_json(team_card(view, today=date(2026, 12, 1))))
    assert "Overdue by 1 working day" in text
    # The declined audit not reassigned is its own number; the tiny team's is not shown.
    assert "3 of 6 completed (50%); 1 declined, not reassigned" in text
    assert "North: 2 of 4 completed (50%); 1 declined, not reassigned" in text
    assert "Solo: fewer than 3 audits due" in text
