"""In the real client: the Microsoft 365 Agents Playground, driven in headless Chromium."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from bot.app import create_app
from bot.settings import Settings
from storage.db import make_engine, make_sessions
from storage.demo import build_demo
from storage.migrate import upgrade
from tests.e2e.harness import drive, free_port, missing_prerequisites, playground
from tests.e2e.playground_config import write_config

pytestmark = pytest.mark.e2e

_missing = missing_prerequisites()
if _missing:
    pytest.skip(f"Agents Playground test skipped: {_missing}", allow_module_level=True)

DOCS = Path(__file__).parent.parent / "docs"


@pytest.fixture
async def demo_bot(tmp_path: Path) -> AsyncIterator[str]:
    """The demo council served on a free loopback port, as `make demo` does."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}"
    await asyncio.to_thread(upgrade, url)
    engine = make_engine(url)
    await build_demo(sessions=make_sessions(engine), today=date.today())
    await engine.dispose()
    port = free_port()
    server = TestServer(
        create_app(Settings(_env_file=None, database_url=url)), host="127.0.0.1", port=port
    )
    await server.start_server()
    yield f"http://127.0.0.1:{port}/api/messages"
    await server.close()


async def test_alex_sees_his_actions_overdue_first_and_a_suggestion_for_a_typo(
    demo_bot: str, tmp_path: Path
) -> None:
    config = write_config(tmp_path, current_user="alex")
    with playground(demo_bot, workdir=tmp_path, config_path=config) as pg:
        result = await drive(
            pg.url,
            [
                {"say": "my actions"},
                {"waitForCardText": "My actions"},
                {"waitForCardText": "Overdue by"},
                {"screenshot": "my-actions.png", "card": "My actions"},
                {"say": "helpp"},
                {"waitForCardText": "Did you mean help?"},
            ],
            artifacts=tmp_path,
            viewport="1400x2600",
        )

    actions_card = next(m["text"] for m in result["visible"] if "My actions" in m["text"])
    # The first action listed is an overdue one: nothing due later comes before it.
    first_status = actions_card.index("Overdue by")
    for later in ("Due today", "Due ", "Snoozed"):
        position = actions_card.find(later)
        assert position == -1 or position > first_status, later
    assert any("Did you mean help?" in m["text"] for m in result["visible"])
    if os.environ.get("QALOOP_UPDATE_SCREENSHOT"):
        shutil.copy(tmp_path / "my-actions.png", DOCS / "my-actions.png")
