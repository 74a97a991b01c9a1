"""Grade descriptors and practice themes on the grading card: Diego opens the descriptors per
standard, ticks the themes he saw as strengths and to improve, and Lynne's completed audit shows
each grade's descriptor and the learning links for her themes. Over HTTP, on a fixed clock."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from bot.settings import Settings
from storage.db import SessionMaker
from tests.chat import ALEX, Chat, button, card_text, inputs, nodes
from tests.helpers import DIEGO, LYNNE, NOW, PATTI, everyone_says_hello, logged, press, queued
from tests.test_grading import diego_s_audit, save

pytestmark = pytest.mark.clock(NOW)  # Thu 26 Nov 2026, 10:02 in London


THEMES = """# Practice themes
## heart: Children and families at the heart of everything we do
- Voice of the child recorded {voice-of-child}
  Academy course: Hearing the child's voice | https://academy.example.gov.uk/voice
## plans: Plans are good quality and SMART
- SMART actions with named owners {smart-plan}
  Guidance: What a SMART plan looks like | https://guidance.example.gov.uk/smart
  Exemplar: A plan the family wrote with us | https://academy.example.gov.uk/exemplar-plan
- Clear timescales {clear-timescales}
"""


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    themes = tmp_path / "themes.md"
    themes.write_text(THEMES, encoding="utf-8")
    return Settings(_env_file=None, database_url=database_url, themes_file=themes)  # type: ignore[call-arg]


async def tags(sessions: SessionMaker, audit_id: int) -> list[tuple[str, str, str, str]]:
    """The audit's ticks by plain SQL: (standard, theme, title, finding)."""
    async with sessions() as session:
        rows = await (await session.connection()).execute(
            text(
                "SELECT standard, theme, title, finding FROM audittheme "
                "WHERE audit_id = :audit ORDER BY theme"
            ),
            {"audit": audit_id},
        )
        return [tuple(r) for r in rows.all()]


def toggles(card: dict[str, Any]) -> list[dict[str, Any]]:
    return [n for n in nodes(card) if n.get("type") == "Action.ToggleVisibility"]


async def test_the_form_offers_each_standard_s_descriptors_and_its_themes(
    chat: Chat, sessions: SessionMaker
) -> None:
    _, audit_id = await diego_s_audit(sessions)

    form = await press(chat, {"action": "open_grading", "audit_id": audit_id}, who=DIEGO)

    assert form.card is not None
    shown = inputs(form.card)
    assert shown["strength_heart"]["isMultiSelect"] is True
    assert shown["to_improve_plans"]["style"] == "compact"
    assert [c["value"] for c in shown["to_improve_plans"]["choices"]] == [
        "smart-plan",
        "clear-timescales",
    ]
    assert "strength_records" not in shown  # no themes for records in this council's file
    targets = [t["targetElements"] for t in toggles(form.card)]
    assert targets == [[f"descriptor_{s}"] for s in ALL_STANDARDS]
    [heart] = [n for n in nodes(form.card) if n.get("id") == "descriptor_heart"]
    assert heart["isVisible"] is False
    said = card_text(heart)
    assert "What good looks like" in said and "We will listen to children" in said
    assert "Good: The child is seen and heard" in said
    assert "Inadequate: The child's voice is absent" in said


ALL_STANDARDS = ("heart", "assessment", "plans", "records", "oversight", "strengths")


async def test_diego_ticks_themes_and_they_are_kept_changed_and_logged(
    chat: Chat, sessions: SessionMaker
) -> None:
    council, audit_id = await diego_s_audit(sessions)
    await press(chat, {"action": "open_grading", "audit_id": audit_id}, who=DIEGO)

    saved = await save(
        chat,
        audit_id,
        strength_heart="voice-of-child",
        to_improve_plans="smart-plan,clear-timescales",
    )

    assert saved.error is None and saved.card is not None
    assert await tags(sessions, audit_id) == [
        ("plans", "clear-timescales", "Clear timescales", "to_improve"),
        ("plans", "smart-plan", "SMART actions with named owners", "to_improve"),
        ("heart", "voice-of-child", "Voice of the child recorded", "strength"),
    ]
    assert "Themes seen as strengths: Voice of the child recorded" in saved.text
    assert "Themes to improve: SMART actions with named owners; Clear timescales" in saved.text
    [tagged] = await logged(sessions, "audit.themes")
    assert tagged.actor_id == council.id("diego") and tagged.entity_id == str(audit_id)
    assert tagged.before == {}
    assert tagged.after == {
        "voice-of-child": "strength",
        "smart-plan": "to_improve",
        "clear-timescales": "to_improve",
    }
    again = await press(chat, {"action": "open_grading", "audit_id": audit_id}, who=DIEGO)
    assert again.card is not None
    assert inputs(again.card)["to_improve_plans"]["value"] == "smart-plan,clear-timescales"

    await save(chat, audit_id, strength_plans="smart-plan")

    assert await tags(sessions, audit_id) == [
        ("plans", "smart-plan", "SMART actions with named owners", "strength")
    ]
    _, second = await logged(sessions, "audit.themes")
    assert second.before == {
        "voice-of-child": "strength",
        "smart-plan": "to_improve",
        "clear-timescales": "to_improve",
    }
    assert second.after == {"smart-plan": "strength"}
    await save(chat, audit_id, strength_plans="smart-plan")
    assert len(await logged(sessions, "audit.themes")) == 2


async def test_a_theme_ticked_both_ways_or_not_in_the_list_is_refused_and_nothing_stored(
    chat: Chat, sessions: SessionMaker
) -> None:
    _, audit_id = await diego_s_audit(sessions)

    both = await save(chat, audit_id, strength_plans="smart-plan", to_improve_plans="smart-plan")
    elsewhere = await save(chat, audit_id, strength_heart="smart-plan")
    unknown = await save(chat, audit_id, strength_heart="genogram")
    malformed = await save(chat, audit_id, strength_heart="Voice Of The Child!")

    assert (
        "Ticked as both a strength and to improve: SMART actions with named owners. "
        "Please choose one." in both.text
    )
    assert "A theme ticked is no longer in the list" in elsewhere.text
    assert "A theme ticked is no longer in the list" in unknown.text
    assert malformed.error is not None
    assert await tags(sessions, audit_id) == []
    async with sessions() as session:
        graded = (
            await (await session.connection()).execute(
                text("SELECT overall_grade FROM audit WHERE id = :id"), {"id": audit_id}
            )
        ).scalar_one()
    assert graded is None
    refused = [r.after for r in await logged(sessions, "refused.save_grades")]
    assert {"reason": "theme_both_ways"} in refused and {"reason": "theme_unknown"} in refused


async def test_only_the_auditor_or_qa_may_tick_themes(chat: Chat, sessions: SessionMaker) -> None:
    council, audit_id = await diego_s_audit(sessions)

    alex = await save(chat, audit_id, who=ALEX, strength_heart="voice-of-child")
    lynne = await save(chat, audit_id, who=LYNNE, to_improve_plans="smart-plan")

    assert alex.error is not None and "Only the audit's auditor or the QA team" in alex.error
    assert lynne.error == alex.error
    assert await tags(sessions, audit_id) == []
    assert len(await logged(sessions, "denied.save_grades")) == 2
    patti = await save(chat, audit_id, who=PATTI, strength_heart="voice-of-child")
    assert patti.error is None
    [tagged] = await logged(sessions, "audit.themes")
    assert tagged.actor_id == council.id("patti")


async def test_lynne_s_completed_audit_links_each_grade_to_its_descriptor_and_her_learning(
    chat: Chat, sessions: SessionMaker
) -> None:
    _, audit_id = await diego_s_audit(sessions)
    await everyone_says_hello(chat)
    await press(chat, {"action": "open_grading", "audit_id": audit_id}, who=DIEGO)
    saved = await save(
        chat,
        audit_id,
        grade_plans="requires_improvement",
        overall_grade="good",
        strength_heart="voice-of-child",
        to_improve_plans="smart-plan",
    )
    assert saved.card is not None
    data = button(saved.card, "Complete audit")
    # The draft action for plans left empty: completing goes ahead without it.
    await press(chat, data, who=DIEGO)

    [result] = await queued(sessions, "audit_result")
    assert "voice" not in result.summary.lower()
    card = result.card
    shown = card_text(card)
    assert [t["title"] for t in toggles(card)] == ["What this grade means"] * 6
    [plans] = [n for n in nodes(card) if n.get("id") == "descriptor_plans"]
    # Her grade's descriptor first.
    assert card_text(plans).startswith("Requires improvement: A plan exists but")
    assert "Themes seen as strengths: Voice of the child recorded" in shown
    assert "Themes to improve: SMART actions with named owners" in shown
    links = [(n["title"], n["url"]) for n in nodes(card) if n.get("type") == "Action.OpenUrl"]
    # What to improve first.
    assert links == [
        ("What a SMART plan looks like", "https://guidance.example.gov.uk/smart"),
        ("A plan the family wrote with us", "https://academy.example.gov.uk/exemplar-plan"),
        ("Hearing the child's voice", "https://academy.example.gov.uk/voice"),
    ]
