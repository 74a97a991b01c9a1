"""Activity ids already handled, so Teams' re-deliveries take effect once. An id is unique within
its conversation only (a message's id is its timestamp), so it is kept with the conversation's."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, delete, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import SessionMaker
from storage.models import InboundActivity, utcnow


async def claim(
    *, sessions: SessionMaker, tenant_id: str, conversation_id: str, activity_id: str
) -> bool:
    """True the first time this activity is seen; False for a repeat (or one still running).
    In a transaction of its own, before the turn."""
    async with sessions() as session:
        fresh = await claim_in(
            session, tenant_id=tenant_id, conversation_id=conversation_id, activity_id=activity_id
        )
        await session.commit()
    return fresh


async def claim_in(
    session: AsyncSession, *, tenant_id: str, conversation_id: str, activity_id: str
) -> bool:
    """claim, in the caller's transaction: the turn's changes and its claim commit together, or
    neither does (so a failed turn leaves nothing to forget). A repeat still running waits here
    for the first to end: on PostgreSQL for its row, on SQLite for the write lock.
    One statement that gives way to a row already there (no exception, no second round trip)."""
    connection = await session.connection()
    done = await connection.execute(
        _CLAIM[connection.dialect.name == "sqlite"],
        {
            "tenant_id": tenant_id,
            "conversation_id": conversation_id,
            "activity_id": activity_id,
            "received_at": utcnow(),
        },
    )
    return bool(done.rowcount)


# The statements of every card press, built once (storage.db, prebuilt statements). An insert
# takes its values by column name; the others bind the key as key_<column>, as an update must.
_KEY = ("tenant_id", "conversation_id", "activity_id")
_CLAIM = {
    is_sqlite: insert(InboundActivity.__table__).on_conflict_do_nothing(  # type: ignore[attr-defined]
        index_elements=list(_KEY)
    )
    for is_sqlite, insert in ((True, sqlite_insert), (False, postgresql_insert))
}
_THIS = tuple(col(getattr(InboundActivity, name)) == bindparam(f"key_{name}") for name in _KEY)
_REMEMBER = (
    update(InboundActivity)
    .where(*_THIS)
    .values(response=bindparam("response"))
    .execution_options(synchronize_session=False)  # no claim is loaded as an object
)
_EARLIER = select(InboundActivity.response).where(*_THIS)


def _these(tenant_id: str, conversation_id: str, activity_id: str) -> dict[str, str]:
    return {
        "key_tenant_id": tenant_id,
        "key_conversation_id": conversation_id,
        "key_activity_id": activity_id,
    }


async def release(
    *, sessions: SessionMaker, tenant_id: str, conversation_id: str, activity_id: str
) -> None:
    """Forget a claim whose turn failed (its changes rolled back), so Teams' retry of the same
    activity runs rather than being taken for a repeat."""
    async with sessions() as session:
        await session.exec(
            delete(InboundActivity).where(*_THIS),
            params=_these(tenant_id, conversation_id, activity_id),
        )
        await session.commit()


async def remember_response(
    *,
    session: AsyncSession,
    tenant_id: str,
    conversation_id: str,
    activity_id: str,
    response: dict[str, Any],
) -> None:
    await session.exec(
        _REMEMBER, params={**_these(tenant_id, conversation_id, activity_id), "response": response}
    )


async def earlier_response(
    *, session: AsyncSession, tenant_id: str, conversation_id: str, activity_id: str
) -> dict[str, Any] | None:
    result = await session.exec(_EARLIER, params=_these(tenant_id, conversation_id, activity_id))
    response = result.first()
    return dict(response) if response is not None else None


async def forget_before(*, session: AsyncSession, cutoff: datetime) -> None:
    """Drop old ids: Teams re-delivers within minutes, not days."""
    await session.exec(delete(InboundActivity).where(col(InboundActivity.received_at) < cutoff))
