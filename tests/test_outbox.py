"""The outbox keeps one row per dedupe key, whoever asks and however often."""

from __future__ import annotations

from sqlmodel import func, select

from storage import outbox
from storage.conversations import save_reference
from storage.db import SessionMaker, transaction
from storage.models import Delivery
from tests.helpers import small_council


async def test_the_same_dedupe_key_is_queued_once(sessions: SessionMaker) -> None:
    council = await small_council(sessions)
    async with transaction(sessions) as session:
        saved = await save_reference(
            session=session,
            tenant_id=council.tenant_id,
            conversation_id="a:1",
            conversation_type="personal",
            service_url="http://127.0.0.1:1/",
            reference={},
        )
        ref = saved.row
        assert ref.id is not None
        queued = [
            await outbox.enqueue(
                session,
                tenant_id=council.tenant_id,
                dedupe_key="my_qa:1:2026-11-26",
                kind="my_qa",
                conversation_ref_id=ref.id,
                summary="You have 2 QA items today",
                card={"type": "AdaptiveCard"},
                subjects=["action:1"],
            )
            for _ in range(3)
        ]
    assert queued == [True, False, False]
    async with sessions() as session:
        rows = (await session.exec(select(Delivery))).all()
        assert (await session.exec(select(func.count()).select_from(Delivery))).one() == 1
    assert rows[0].state == "pending" and rows[0].subjects == ["action:1"]
