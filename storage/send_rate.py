"""The send rate shared by every replica (PostgreSQL): one token bucket row per (app, tenant),
refilled and drawn from in one atomic statement on the database's clock, so replicas whose clocks
differ still agree. SQLite runs one replica, whose sender keeps its bucket in memory."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

_CREATE = sa.text(
    "INSERT INTO sendrate (app_id, tenant_id, tokens, at) "
    "VALUES (:app_id, :tenant_id, :burst, clock_timestamp()) "
    "ON CONFLICT (app_id, tenant_id) DO NOTHING"
).bindparams(sa.bindparam("burst", type_=sa.Float))

# Refill by the time since the row last changed (capped at the burst), add what refused attempts
# gave back, grant whole tokens up to `want`, and keep the rest: all under the row's lock.
_DRAW = sa.text(
    """
    WITH clock AS (SELECT clock_timestamp() AS now),
    bucket AS (
        SELECT LEAST(
            :burst,
            tokens + :given_back
            + GREATEST(EXTRACT(EPOCH FROM (clock.now - at)), 0) * :rate
        ) AS available
        FROM sendrate, clock
        WHERE app_id = :app_id AND tenant_id = :tenant_id
        FOR UPDATE OF sendrate
    )
    UPDATE sendrate
    SET tokens = bucket.available - LEAST(:want, FLOOR(bucket.available)), at = clock.now
    FROM bucket, clock
    WHERE app_id = :app_id AND tenant_id = :tenant_id
    RETURNING LEAST(:want, FLOOR(bucket.available)) AS granted, bucket.available AS available
    """
).bindparams(
    sa.bindparam("burst", type_=sa.Float),
    sa.bindparam("given_back", type_=sa.Float),
    sa.bindparam("rate", type_=sa.Float),
    sa.bindparam("want", type_=sa.Float),
)


@dataclass(frozen=True, slots=True)
class Drawn:
    granted: int
    # Seconds until the next whole token, when none was granted (0 otherwise).
    wait_s: float


async def ensure(*, session: AsyncSession, app_id: str, tenant_id: str, burst: float) -> None:
    """The (app, tenant) bucket, full, unless it is there already."""
    connection = await session.connection()
    await connection.execute(_CREATE.bindparams(app_id=app_id, tenant_id=tenant_id, burst=burst))


async def draw(
    *,
    session: AsyncSession,
    app_id: str,
    tenant_id: str,
    rate: float,
    burst: float,
    want: int,
    given_back: int = 0,
) -> Drawn:
    """Take up to `want` tokens from the (app, tenant) bucket, returning `given_back` first (tokens
    spent on attempts Teams refused, which do not count against its rate)."""
    statement = _DRAW.bindparams(
        app_id=app_id,
        tenant_id=tenant_id,
        burst=burst,
        rate=rate,
        want=float(want),
        given_back=float(given_back),
    )
    row = (await (await session.connection()).execute(statement)).one()
    granted, available = int(row[0]), float(row[1])
    return Drawn(granted, 0.0 if granted else max(1.0 - available, 0.0) / rate)
