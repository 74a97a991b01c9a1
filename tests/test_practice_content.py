"""The QA team's content files for the practice standards: the shipped ones read whole, a bad
file is refused with every problem on its line, and the grading form with the most a file may
hold, beside the longest text typed, stays under 40 KB."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.rules.grades import Standard
from bot.services.guide import GuideFileError
from bot.services.practice import (
    DESCRIPTORS_BUDGET,
    MAX_THEMES_IN_ALL,
    load_practice,
    parse_descriptors,
    parse_themes,
)
from cards.common import card_size
from cards.grading import GradesDraft, GradingView, grading_form_card
from cards.practice import Descriptor, Practice, Theme


def test_the_shipped_files_cover_every_standard_with_the_framework_s_words() -> None:
    practice = load_practice(descriptors_file=None, themes_file=None)

    assert set(practice.descriptors) == set(Standard)
    assert "Detailed genogram included" in practice.descriptors["assessment"].good_looks_like
    assert all(len(d.grades) == 4 for d in practice.descriptors.values())
    assert {t.standard for t in practice.themes} == set(Standard)
    assert practice.theme("genogram") == Theme("genogram", "assessment", "Detailed genogram")


def test_a_bad_descriptors_file_says_every_problem_with_its_line() -> None:
    text = "\n".join(
        [
            "# Grade descriptors",  # 1
            "## heart: Heart",  # 2
            "- We will listen to children",  # 3
            "Good: Seen and heard",  # 4
            "Good: again",  # 5
            "Wonderful: not a grade",  # 6
            "## feelings",  # 7
            "<!-- open note",  # 8
        ]
    )
    with pytest.raises(GuideFileError) as raised:
        parse_descriptors(text, path=Path("grade_descriptors.md"))

    said = [(p.line, p.message) for p in raised.value.problems]
    assert (
        2,
        "Describe every grade; missing: Outstanding, Requires improvement, Inadequate",
    ) in said
    assert (5, "Good is described twice here.") in said
    assert any(line == 6 and "a grade and a colon" in m for line, m in said)
    assert any(line == 7 and "“feelings” is not a standard" in m for line, m in said)
    assert (8, "This note for editors has no end: close it with “-->”.") in said
    assert str(raised.value).startswith("grade_descriptors.md: line 2:")


def test_a_bad_themes_file_says_every_problem_with_its_line() -> None:
    text = "\n".join(
        [
            "# Themes",  # 1
            "Guidance: Too early | https://example.gov.uk/a",  # 2
            "## plans: Plans",  # 3
            "- SMART plan {smart-plan}",  # 4
            "  Guidance: Plain http | http://example.gov.uk/b",  # 5
            "  Podcast: Not a kind | https://example.gov.uk/c",  # 6
            "- Also SMART {smart-plan}",  # 7
            "- No key here",  # 8
            "- Bad key {Bad Key}",  # 9
        ]
    )
    with pytest.raises(GuideFileError) as raised:
        parse_themes(text)

    lines = [p.line for p in raised.value.problems]
    assert lines == [2, 5, 6, 7, 8, 9]
    messages = [p.message for p in raised.value.problems]
    assert messages[1] == "A link must start with https://."
    assert messages[3] == "The key {smart-plan} is used on line 4 too."


def test_an_unusable_file_leaves_the_cards_without_it(tmp_path: Path) -> None:
    broken = tmp_path / "themes.md"
    broken.write_text("## nothing\n", encoding="utf-8")

    practice = load_practice(descriptors_file=None, themes_file=broken)

    assert practice.themes == () and len(practice.descriptors) == 6


def test_the_grading_form_with_the_most_content_allowed_stays_under_40_kb() -> None:
    per_standard = DESCRIPTORS_BUDGET // 6 // 5
    descriptors = {
        s.value: Descriptor(
            s.value,
            ("x" * per_standard,),
            {
                g: "y" * per_standard
                for g in ("outstanding", "good", "requires_improvement", "inadequate")
            },
        )
        for s in Standard
    }
    themes = tuple(
        Theme(f"theme-{n:02d}" + "k" * 15, list(Standard)[n % 6].value, "t" * 60)
        for n in range(MAX_THEMES_IN_ALL)
    )
    practice = Practice(descriptors=descriptors, themes=themes)
    view = GradingView(
        id=2_147_483_647,
        case_ref="ABC-1234567890",
        kind="thematic",
        theme="é" * 200,
        state="in_progress",
        due_on=date(2026, 12, 10),
        auditor_name="é" * 200,
        practitioner_name="é" * 200,
        grades={},
        overall_grade=None,
    )
    draft = GradesDraft(
        summary="é" * 2000,
        strengths_seen="é" * 2000,
        limiting_reason="é" * 2000,
        themes={t.key: "strength" for t in themes},
    )

    card = grading_form_card(
        view, draft=draft, message="m" * 500, today=date(2026, 11, 26), practice=practice
    )

    assert card_size(card) < 40 * 1024
