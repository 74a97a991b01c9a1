"""In the real client: `stats` draws its charts, and a briefing published by QA reaches the channel.

Both run the demo council in the Microsoft 365 Agents Playground, driven in headless Chromium.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.rules.briefing import MAX_KEY_MESSAGES
from tests.e2e.harness import drive, missing_prerequisites, playground
from tests.e2e.playground_config import TEAM_ID, write_config
from tests.test_e2e_playground import served_demo

pytestmark = pytest.mark.e2e

_missing = missing_prerequisites()
if _missing:
    pytest.skip(f"Agents Playground test skipped: {_missing}", allow_module_level=True)

LONDON = ZoneInfo("Europe/London")


def _squash(text: str) -> str:
    """Whitespace as drive.mjs compares it: one space."""
    return " ".join(text.split())


# --- stats: the charts draw -----------------------------------------------------------------------

# What only the drawn charts put on the page (their SVG axis and bar labels). The playground
# (0.2.28) does not show a chart's title even with showTitle, so the axes are what to look for.
# The bar chart: each grade's name in full, then its count beside the bar (no axis, so no
# fractional ticks); the figures in words above it have commas.
BAR_CHART = re.compile(
    r"Outstanding \d+ Good \d+ Requires improvement \d+ Inadequate \d+ By practice standard"
)
# The line chart: y ticks 0 to 100 (y_min and y_max), then the graded months of the twelve (Jun,
# Jul...) along the x axis; a line for overall and each standard.
LINE_CHART = re.compile(r"0 25 50 75 100( [A-Z][a-z]{2}){3,12} ")
# The tables the charts fall back to where they do not render: in the card, not on the page.
BAR_FALLBACK = "Grade Audits Outstanding"
LINE_FALLBACK = "Oversight: "


async def test_megan_types_stats_and_sees_the_grades_and_trend_charts_drawn(
    tmp_path: Path,
) -> None:
    # The 20th, so the month so far has graded audits in Megan's team and so a grades chart.
    day = date.today().replace(day=20)
    noon = datetime.combine(day, time(12, 0), tzinfo=LONDON)
    async with served_demo(tmp_path, today=day, clock=lambda: noon) as (endpoint, _url):
        config = write_config(tmp_path, current_user="megan")
        with playground(endpoint, workdir=tmp_path, config_path=config) as pg:
            result = await drive(
                pg.url,
                [
                    {"say": "stats"},
                    {"waitForCardText": "QA figures"},
                    # The chart elements draw their axes: wait for both, not just the card.
                    {"waitForCardText": {"regex": BAR_CHART.pattern}},
                    {"screenshot": "stats.png", "card": "QA figures"},
                ],
                artifacts=tmp_path,
                viewport="1400x4000",
            )

    shown = [_squash(m["text"]) for m in result["visible"] if "QA figures" in m["text"]]
    assert len(shown) == 1
    card = shown[0]
    assert BAR_CHART.search(card), card
    assert LINE_CHART.search(card), card
    assert BAR_FALLBACK not in card and LINE_FALLBACK not in card, "a chart fell back to its table"
    # The card itself carried the fallbacks, so their absence above is the charts' doing.
    sent = next(
        _squash(a["text"])
        for m in result["messages"]
        for a in m["attachments"]
        if "QA figures" in a.get("text", "")
    )
    assert BAR_FALLBACK in sent and LINE_FALLBACK in sent
    # The figures are said in words too, for clients where charts do not render.
    assert "Good or better:" in card
    assert (tmp_path / "stats.png").stat().st_size > 0


# --- a briefing published by QA appears in the General channel ----------------------------------

TITLE = "Hearing the child's voice in every record"
READ = (
    "Write down what the child said, in their own words, and when and where they said it.\n\n"
    "Then say what difference it made to the plan."
)
KEY_MESSAGES = "Quote the child, not the adult\nSay how their view changed the plan"
LINK = "https://example.org/childs-voice"
FORM = "New Best Practice Briefing"


async def test_patti_publishes_a_briefing_and_it_is_posted_in_the_general_channel(
    tmp_path: Path,
) -> None:
    async with served_demo(tmp_path, today=date.today()) as (endpoint, _url):
        config = write_config(tmp_path, current_user="patti")
        with playground(endpoint, workdir=tmp_path, config_path=config) as pg:
            result = await drive(
                pg.url,
                [
                    # In the channel (the mention is inserted): choose it for briefings.
                    {"open": "channel:General"},
                    {"say": "use this channel for briefings"},
                    {"waitForCardText": "Done ✓ I'll post Best Practice Briefings here"},
                    # In her own chat: write the briefing, preview it, publish it.
                    {"open": "personal"},
                    {"say": "briefing new"},
                    {"waitForCardText": FORM},
                    {"fill": TITLE, "field": "Title", "in": FORM},
                    {"fill": READ, "field": "Five-minute read", "in": FORM},
                    {
                        "fill": KEY_MESSAGES,
                        "field": f"Key messages, one per line (up to {MAX_KEY_MESSAGES})",
                        "in": FORM,
                    },
                    {"fill": LINK, "field": "Link to learn more (optional, https://…)", "in": FORM},
                    {"click": "Preview", "in": FORM},
                    {"waitForCardText": "Preview of your briefing"},
                    {"waitForCardText": "It will be posted to: General."},
                    {"click": "Publish now", "in": "Preview of your briefing"},
                    {"waitForCardText": "Published ✓"},
                    {"waitForCardText": "to: General."},
                    # Back in the channel: the outbox has posted it there.
                    {"open": "channel:General"},
                    {"waitForCardText": TITLE, "timeout": 30_000},
                    {"screenshot": "general.png"},
                ],
                artifacts=tmp_path,
                viewport="1400x2600",
            )

    # The newest post in the channel (on top) is the briefing as staff read it.
    newest = _squash(result["visible"][0]["text"])
    assert newest.startswith(f"Best Practice Briefing {TITLE}"), newest
    assert "Quote the child, not the adult" in newest and "Learn more" in newest
    # It is a post of its own in the General channel, not a reply in Patti's thread.
    posts = [
        m
        for m in result["messages"]
        if m["conversation"] == "channel"
        and any(TITLE in a.get("text", "") for a in m["attachments"])
    ]
    assert len(posts) == 1, posts
    assert posts[0]["conversationId"] == f"{TEAM_ID};messageid={posts[0]['id']}"
