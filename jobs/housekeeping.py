"""Nightly tidy-up: forget inbound activity ids once Teams can no longer re-deliver them."""

from __future__ import annotations

from datetime import datetime, timedelta

from storage import inbound
from storage.db import SessionMaker, transaction

KEEP_ACTIVITY_IDS = timedelta(days=2)


async def run(*, sessions: SessionMaker, now: datetime) -> None:
    async with transaction(sessions) as session:
        await inbound.forget_before(session=session, cutoff=now - KEEP_ACTIVITY_IDS)
