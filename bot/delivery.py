"""The outbox sender: drains due deliveries at Teams' pace, retries what may succeed later, and
marks people the bot can no longer reach."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import heapq
import logging
import math
import os
import random
import socket
import time
import uuid
from collections import Counter, deque
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Protocol

import aiohttp
from botbuilder.core import CardFactory
from botbuilder.schema import Activity, ActivityTypes, ConversationAccount, ConversationReference
from botframework.connector.aio import ConnectorClient
from botframework.connector.models import ErrorResponseException
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.connector import ConnectorHostRefused, FrozenJson, TokenUnavailable
from storage import outbox, send_rate
from storage.db import SessionMaker, is_sqlite
from storage.models import ConversationRef, Delivery

log = logging.getLogger(__name__)

# Teams' per-conversation limits (messages, seconds) for a bot.
TEAMS_CONVERSATION_LIMITS: tuple[tuple[int, float], ...] = (
    (7, 1.0),
    (8, 2.0),
    (60, 30.0),
    (1800, 3600.0),
)
# "Not now" answers, worth another try later.
RETRYABLE = frozenset({412, 429, 502, 503, 504})
# The connector may have accepted the message before answering this.
AMBIGUOUS = frozenset({504})
# The bot was removed, blocked or disabled for this person.
UNREACHABLE = frozenset({403, 404})
# The connector refused the bot's token: renewed once, then the send stops.
TOKEN_REFUSED = 401
# The send rate counts messages Teams accepts; attempts it refused give their token back, but all
# attempts together stay under this multiple of it, so a failing connector is not hammered.
REQUEST_HEADROOM = 1.2


# Outcomes are recorded this long after they come, with any others that come meanwhile.
OUTCOME_LINGER_S = 0.05

# Below this many seconds a wait is float rounding, not a wait.
_EPSILON = 1e-6


class ConnectorClients(Protocol):
    """bot.connector.CachedConnectorFactory, as the sender uses it."""

    async def create(self, service_url: str, audience: str | None = None) -> ConnectorClient: ...

    async def forget_token(
        self, service_url: str, refused: str | None, audience: str | None = None
    ) -> bool: ...


class SecondSender(RuntimeError):
    """Another process already sends from this SQLite database."""


@contextlib.contextmanager
def sole_sender_lock(database_url: str) -> Iterator[None]:
    """On SQLite only one process may drain the outbox: hold an exclusive lock on
    `<database file>.sender.lock` for as long as the sender may run (the OS drops it if we die)."""
    database = make_url(database_url).database if is_sqlite(database_url) else None
    if not database or database == ":memory:":
        yield
        return
    path = Path(database).resolve()
    lock_path = path.with_name(path.name + ".sender.lock")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise SecondSender(
            f"another QA Loop process is already running on the SQLite database {path}. "
            "SQLite allows one replica; stop the other one, or use PostgreSQL to run several."
        ) from None
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


class TokenBucket:
    """`rate` tokens a second, at most `burst` saved up; times are time.monotonic() seconds."""

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate = rate
        self.burst = max(1.0, burst)
        self._tokens = self.burst
        self._at = now

    def _refill(self, now: float) -> None:
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now

    def wait(self, now: float) -> float:
        """Seconds until a token is available (0: now)."""
        self._refill(now)
        return 0.0 if self._tokens >= 1.0 - _EPSILON else (1.0 - self._tokens) / self.rate

    def take(self, now: float) -> None:
        self._refill(now)
        self._tokens -= 1.0

    def give_back(self) -> None:
        self._tokens = min(self.burst, self._tokens + 1.0)


class SendRate(Protocol):
    """The send rate (messages Teams accepts per second) the sender paces its messages by."""

    def wait(self, tenant_id: str, now: float) -> float:
        """Seconds until a message to this tenant may go (0: now)."""
        ...

    def take(self, tenant_id: str, now: float) -> None: ...

    def give_back(self, tenant_id: str) -> None:
        """Teams refused the attempt: it does not count against the rate."""
        ...

    def start(self, wake: Callable[[], None]) -> None:
        """Begin; `wake` is called when tokens a wait was for have come."""
        ...

    async def stop(self) -> None: ...


class LocalRate:
    """The rate in memory: the only sender on the database (SQLite)."""

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self._bucket = TokenBucket(rate, burst, now)

    def wait(self, tenant_id: str, now: float) -> float:
        return self._bucket.wait(now)

    def take(self, tenant_id: str, now: float) -> None:
        self._bucket.take(now)

    def give_back(self, tenant_id: str) -> None:
        self._bucket.give_back()

    def start(self, wake: Callable[[], None]) -> None:
        return None

    async def stop(self) -> None:
        return None


class SharedRate:
    """The rate shared by every replica (PostgreSQL): the (app, tenant) row of `sendrate` is a
    token bucket that every sender draws from, so N replicas together send at the configured
    rate rather than N times it.

    A keeper task draws a few tokens ahead while messages wait for them, every 1/rate seconds:
    the row holds at most a small burst, so a sender that drew only between its own database
    work (claims, commits) would let the row fill up and lose what it could have sent."""

    # A tenant that has waited for tokens within this many seconds is kept topped up.
    DEMAND_S = 1.0

    def __init__(self, sessions: SessionMaker, *, app_id: str, rate: float, burst: float) -> None:
        self._sessions = sessions
        self._app_id = app_id
        self.rate = rate
        self._burst = max(1.0, burst)
        self._held: Counter[str] = Counter()
        self._given_back: Counter[str] = Counter()
        self._wanted_at: dict[str, float] = {}
        self._known: set[str] = set()
        self._demand = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wait(self, tenant_id: str, now: float) -> float:
        if self._held[tenant_id] >= 1:
            return 0.0
        self._wanted_at[tenant_id] = now
        self._demand.set()
        return 1.0 / self.rate  # the keeper wakes the sender sooner when tokens come

    def take(self, tenant_id: str, now: float) -> None:
        self._held[tenant_id] -= 1

    def give_back(self, tenant_id: str) -> None:
        self._given_back[tenant_id] += 1

    def start(self, wake: Callable[[], None]) -> None:
        self._task = asyncio.create_task(self._keep(wake), name="outbox-send-rate")
        self._task.add_done_callback(_report_crash)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _keep(self, wake: Callable[[], None]) -> None:
        while True:
            now = time.monotonic()
            wanted = [t for t, at in self._wanted_at.items() if at > now - self.DEMAND_S]
            if not wanted:
                self._wanted_at.clear()
                self._demand.clear()
                await self._demand.wait()
                continue
            try:
                pause = await self._draw(wanted)
            except (SQLAlchemyError, OSError) as exc:
                log.warning("send rate query failed (%s); trying again", type(exc).__name__)
                pause = 1.0
            if pause == 0.0:
                wake()
            await asyncio.sleep(max(pause, 1.0 / self.rate))

    async def _draw(self, tenants: list[str]) -> float:
        """Top each tenant's tokens up to the burst; 0 if any came, else the seconds to the next."""
        waits = []
        async with self._sessions() as session:
            for tenant_id in tenants:
                want = math.floor(self._burst) - self._held[tenant_id]
                if want <= 0:
                    continue
                if tenant_id not in self._known:
                    await send_rate.ensure(
                        session=session, app_id=self._app_id, tenant_id=tenant_id, burst=self._burst
                    )
                    self._known.add(tenant_id)
                drawn = await send_rate.draw(
                    session=session,
                    app_id=self._app_id,
                    tenant_id=tenant_id,
                    rate=self.rate,
                    burst=self._burst,
                    want=want,
                    given_back=self._given_back.pop(tenant_id, 0),
                )
                self._held[tenant_id] += drawn.granted
                waits.append(drawn.wait_s)
            await session.commit()
        return min(waits, default=1.0 / self.rate)


class ConversationPacer:
    """Sliding windows per conversation, widened by `margin` seconds because the connector
    counts arrivals, which network and database jitter can bunch up."""

    def __init__(
        self,
        limits: tuple[tuple[int, float], ...] = TEAMS_CONVERSATION_LIMITS,
        margin: float = 0.5,
    ) -> None:
        self._limits = tuple((n, seconds + margin) for n, seconds in limits)
        self._horizon = max(seconds for _, seconds in self._limits)
        self._sent: dict[int, deque[float]] = {}
        self._blocked: dict[int, float] = {}

    def wait(self, conversation: int, now: float) -> float:
        """Seconds until this conversation may get another message (0: now)."""
        wait = self._blocked.get(conversation, 0.0) - now
        times = self._sent.get(conversation)
        if times:
            for n, seconds in self._limits:
                if len(times) >= n:
                    wait = max(wait, times[-n] + seconds - now)
        return wait if wait > _EPSILON else 0.0

    def record(self, conversation: int, now: float) -> None:
        times = self._sent.setdefault(conversation, deque())
        times.append(now)
        while times[0] <= now - self._horizon:
            times.popleft()

    def restamp(self, conversation: int, count: int, now: float) -> None:
        """The last `count` messages recorded for this conversation really go out now."""
        times = self._sent.get(conversation)
        if times:
            for _ in range(min(count, len(times))):
                times.pop()
            times.extend([now] * count)

    def block(self, conversation: int, until: float) -> None:
        """Teams said 429 for this conversation: nothing more to it before `until`."""
        self._blocked[conversation] = max(self._blocked.get(conversation, 0.0), until)

    def blocked(self, now: float, longer_than: float) -> list[int]:
        return [
            c for c in self._sent.keys() | self._blocked.keys() if self.wait(c, now) > longer_than
        ]

    def forget_idle(self, now: float) -> None:
        """Drop conversations with nothing in any window (keeps memory flat over days)."""
        for conversation in [c for c, t in self._sent.items() if t[-1] <= now - self._horizon]:
            del self._sent[conversation]
        for conversation in [c for c, until in self._blocked.items() if until <= now]:
            del self._blocked[conversation]


def retry_after_seconds(headers: Mapping[str, str], now: datetime) -> float | None:
    """Retry-After as seconds (delta-seconds or an HTTP date); None when absent or unreadable."""
    value = headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - now).total_seconds(), 0.0)


@dataclass(slots=True)
class SenderStats:
    """What this sender did since it started (the database has the full delivery log)."""

    requests: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    ambiguous: int = 0
    unreachable: int = 0
    token_refused: int = 0
    skipped: int = 0
    released: int = 0


@dataclass(slots=True)
class _Outcome:
    due: outbox.Due
    result: str  # "sent", "retry" or "failed"
    status: int | None = None
    error: str | None = None
    activity_id: str | None = None
    ambiguous: bool = False
    unreachable: bool = False
    # Refused with a fresh token too: the bot's credentials need attention.
    token_refused: bool = False
    at: datetime = field(default_factory=lambda: datetime.now(UTC))
    retry_at: datetime | None = None
    retry_at_monotonic: float = 0.0


class Sender:
    """Drains the outbox: claims due deliveries under a lease, paces them (a global token bucket
    and Teams' per-conversation windows), commits each attempt before and after its one HTTP
    request, and retries, gives up or marks the person unreachable by the answer.

    `start()` in the app's lifetime, `await stop()` at shutdown; `storage.outbox.notify()` (which
    `outbox.enqueue` calls on commit) wakes it, and it polls for other processes' rows anyway.
    """

    def __init__(
        self,
        *,
        sessions: SessionMaker,
        connectors: ConnectorClients,
        rate: float,
        sole: bool = False,
        limits: tuple[tuple[int, float], ...] = TEAMS_CONVERSATION_LIMITS,
        max_tries: int = 5,
        backoff_s: float = 1.0,
        max_backoff_s: float = 300.0,
        lease_s: float = 60.0,
        poll_s: float = 1.0,
        request_timeout_s: float = 20.0,
        max_in_flight: int = 64,
        owner: str | None = None,
        rng: random.Random | None = None,
        shared_rate_app: str | None = None,
    ) -> None:
        """`sole`: this is the only sender on the database (SQLite, under sole_sender_lock), so
        leases left by an earlier process are stale and are dropped at start-up.
        `shared_rate_app`: share `rate` with every other sender of this app id (PostgreSQL) through
        the `sendrate` table, per tenant; None keeps it in memory (one process).
        `max_tries`: attempts before a delivery that keeps failing waits for `qaloop outbox
        retry`."""
        self._sessions = sessions
        self._connectors = connectors
        self.rate = rate
        self._sole = sole
        self._max_tries = max_tries
        self._backoff_s = backoff_s
        self._max_backoff_s = max_backoff_s
        self._lease = timedelta(seconds=lease_s)
        self._poll_s = poll_s
        self._request_timeout_s = request_timeout_s
        self._max_in_flight = max_in_flight
        self.owner = owner or f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._rng = rng or random.Random()
        now = time.monotonic()
        self._messages: SendRate = (
            LocalRate(rate, burst=rate / 10, now=now)
            if shared_rate_app is None
            else SharedRate(sessions, app_id=shared_rate_app, rate=rate, burst=rate / 10)
        )
        self._requests = TokenBucket(rate * REQUEST_HEADROOM, burst=rate / 10, now=now)
        self._pacer = ConversationPacer(limits)
        # About a second of work claimed ahead: the buckets never wait on the database, and a
        # retry that falls due is not long behind what was claimed before it.
        self._max_held = max(20, math.ceil(rate))
        self._per_conversation_held = min(n for n, _ in limits) + 1
        self._queues: dict[int, deque[outbox.Due]] = {}
        self._held = 0
        self._in_flight: set[asyncio.Task[None]] = set()
        self._outcomes: list[_Outcome] = []
        self._due_at: list[float] = []  # monotonic times when rows we put back fall due
        self._db_lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._new_work = False
        self._outcome_ready = asyncio.Event()
        self._stopping = False
        self._loop_task: asyncio.Task[None] | None = None
        self._writer_task: asyncio.Task[None] | None = None
        self._unlisten: Callable[[], None] | None = None
        self.stats = SenderStats()

    # --- lifetime -------------------------------------------------------------------------------

    def start(self) -> None:
        self._unlisten = outbox.on_notify(self._queued)
        self._messages.start(self._wake.set)
        self._loop_task = asyncio.create_task(self._run(), name="outbox-sender")
        self._writer_task = asyncio.create_task(self._write_outcomes(), name="outbox-writer")
        for task in (self._loop_task, self._writer_task):
            task.add_done_callback(_report_crash)

    def _queued(self) -> None:
        """Deliveries were committed in this process: claim them now, not at the next poll."""
        self._new_work = True
        self._wake.set()

    @property
    def running(self) -> bool:
        """Both its tasks are alive (readiness reports this)."""
        return (
            not self._stopping
            and self._loop_task is not None
            and not self._loop_task.done()
            and self._writer_task is not None
            and not self._writer_task.done()
        )

    async def stop(self, grace_s: float = 5.0) -> None:
        """Stop claiming; let requests in flight finish (for up to `grace_s`), record them, and
        hand back what was claimed but not sent."""
        if self._loop_task is None or self._stopping:
            return
        self._stopping = True
        if self._unlisten is not None:
            self._unlisten()
        self._wake.set()
        await asyncio.gather(self._loop_task, return_exceptions=True)
        await self._messages.stop()
        if self._in_flight:
            _done, pending = await asyncio.wait(self._in_flight, timeout=grace_s)
            for task in pending:  # left "sending": the next sender retries them as ambiguous
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        self._outcome_ready.set()
        assert self._writer_task is not None
        _done, pending = await asyncio.wait({self._writer_task}, timeout=grace_s)
        for task in pending:  # the database is away: those rows are retried as ambiguous
            task.cancel()
        await asyncio.gather(self._writer_task, return_exceptions=True)
        held = [due.delivery.id for q in self._queues.values() for due in q]
        self._queues.clear()
        with contextlib.suppress(SQLAlchemyError, OSError):
            async with self._transaction() as session:
                await outbox.release(session=session, owner=self.owner, ids=_ids(held))

    @contextlib.asynccontextmanager
    async def _transaction(self) -> AsyncIterator[AsyncSession]:
        # One transaction of ours at a time: on SQLite concurrent writers only queue for the lock.
        async with self._db_lock, self._sessions() as session:
            yield session
            await session.commit()

    # --- the loop -------------------------------------------------------------------------------

    async def _run(self) -> None:
        taken_over = not self._sole
        next_poll = 0.0
        more_due = True
        while not self._stopping:
            now = time.monotonic()
            try:
                if not taken_over:
                    async with self._transaction() as session:
                        released = await outbox.release_leases(session=session)
                    taken_over = True
                    if released:
                        log.info("took over %d deliveries leased by an earlier process", released)
                # Woken for new work, not merely because a request finished: a claim per outcome
                # cost PostgreSQL three queries a card.
                woken, self._new_work = self._new_work, False
                self._wake.clear()
                while self._due_at and self._due_at[0] <= now:
                    heapq.heappop(self._due_at)
                    woken = True
                room = self._max_held - self._held - len(self._in_flight)
                low = self._held < self._max_held // 2
                if room > 0 and (woken or now >= next_poll or (more_due and low)):
                    # Rows over a conversation's share are skipped, so any catch may mean more.
                    more_due = await self._claim(room) > 0
                    next_poll = time.monotonic() + self._poll_s
                wait = await self._dispatch()
            except (SQLAlchemyError, OSError) as exc:
                # Rows this left leased in the database come back when their lease runs out.
                log.warning("outbox query failed (%s); trying again shortly", type(exc).__name__)
                wait = self._poll_s
                next_poll = time.monotonic() + self._poll_s
            timeout = min(wait, max(next_poll - time.monotonic(), 0.0))
            if self._due_at:
                timeout = min(timeout, self._due_at[0] - time.monotonic())
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(timeout, 0.0)):
                    await self._wake.wait()

    async def _claim(self, room: int) -> int:
        now = time.monotonic()
        self._pacer.forget_idle(now)
        busy = [c for c, q in self._queues.items() if len(q) >= self._per_conversation_held]
        busy += self._pacer.blocked(now, longer_than=1.0)
        utcnow = datetime.now(UTC)
        async with self._transaction() as session:
            claimed = await outbox.claim_due(
                session=session,
                owner=self.owner,
                now=utcnow,
                lease_until=utcnow + self._lease,
                limit=room,
                per_conversation=self._per_conversation_held,
                exclude_conversations=busy[:500],
            )
            for due in claimed:
                if due.conversation is None:
                    await self._give_up_unsent(session, due, "no conversation reference")
                elif not due.reachable:
                    await self._give_up_unsent(session, due, "recipient unreachable; not sent")
        for due in claimed:
            if due.recovered:
                self.stats.ambiguous += 1
                log.warning("delivery %s was mid-send when a sender stopped", due.delivery.id)
            if due.conversation is not None and due.reachable:
                self._queues.setdefault(due.delivery.conversation_ref_id, deque()).append(due)
                self._held += 1
        return len(claimed)

    async def _give_up_unsent(self, session: AsyncSession, due: outbox.Due, why: str) -> None:
        await outbox.mark_failed(
            session=session,
            owner=self.owner,
            delivery=due.delivery,
            status=None,
            error=why,
            at=datetime.now(UTC),
            ambiguous=due.recovered,
        )
        self.stats.skipped += 1
        log.info("delivery %s not sent: %s", due.delivery.id, why)

    async def _dispatch(self) -> float:
        """Start every held delivery that the buckets and its conversation allow now; returns
        the seconds until the next one could go."""
        now = time.monotonic()
        wait = math.inf
        ready: list[outbox.Due] = []
        put_back: list[tuple[outbox.Due, float]] = []
        full = False
        for conversation in list(self._queues):
            queue = self._queues[conversation]
            while queue:
                if len(self._in_flight) + len(ready) >= self._max_in_flight:
                    full = True  # woken again as requests finish
                    break
                paced = self._pacer.wait(conversation, now)
                if paced > 0:
                    if paced > self._lease.total_seconds() / 4:
                        put_back += [(due, paced) for due in queue]
                        queue.clear()
                    else:
                        wait = min(wait, paced)
                    break
                tenant_id = queue[0].delivery.tenant_id
                throttled = max(self._messages.wait(tenant_id, now), self._requests.wait(now))
                if throttled > 0:
                    wait = min(wait, throttled)
                    full = True
                    break
                self._pacer.record(conversation, now)
                self._messages.take(tenant_id, now)
                self._requests.take(now)
                ready.append(queue.popleft())
            if not queue:
                del self._queues[conversation]
            if full:
                break
        if put_back:
            await self._put_back(put_back)
        if ready:
            await self._launch(ready)
        return wait

    async def _put_back(self, rows: list[tuple[outbox.Due, float]]) -> None:
        """A conversation that must wait long: hand its rows back, due when it may send again."""
        self._held -= len(rows)
        self.stats.released += len(rows)
        by_time: dict[float, list[int | None]] = {}
        for due, paced in rows:
            by_time.setdefault(round(paced, 1), []).append(due.delivery.id)
        async with self._transaction() as session:
            for paced, ids in by_time.items():
                await outbox.release(
                    session=session,
                    owner=self.owner,
                    ids=_ids(ids),
                    not_before=datetime.now(UTC) + timedelta(seconds=paced),
                )
        for paced in by_time:
            heapq.heappush(self._due_at, time.monotonic() + paced)

    async def _launch(self, ready: list[outbox.Due]) -> None:
        self._held -= len(ready)
        async with self._transaction() as session:
            ours = await outbox.mark_sending(
                session=session,
                owner=self.owner,
                ids=_ids([due.delivery.id for due in ready]),
                lease_until=datetime.now(UTC) + self._lease,
            )
        # The commit may have queued behind another: count the messages from when they leave.
        now = time.monotonic()
        for conversation, count in Counter(d.delivery.conversation_ref_id for d in ready).items():
            self._pacer.restamp(conversation, count, now)
        for due in ready:
            if due.delivery.id not in ours:  # the lease ran out and another replica has it
                self._messages.give_back(due.delivery.tenant_id)
                continue
            due.delivery.attempts += 1
            task = asyncio.create_task(self._attempt(due))
            self._in_flight.add(task)
            task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        self._wake.set()

    # --- one attempt ----------------------------------------------------------------------------

    async def _attempt(self, due: outbox.Due) -> None:
        self.stats.requests += 1
        try:
            outcome = await self._try(due)
        except Exception as exc:  # keep the sender alive; the type name says what, nothing more
            log.error("delivery %s: unexpected %s", due.delivery.id, type(exc).__name__)
            outcome = self._retry(due, None, f"unexpected {type(exc).__name__}", ambiguous=True)
        if outcome.result != "sent" and not outcome.ambiguous:
            self._messages.give_back(due.delivery.tenant_id)  # Teams did not take it
        self._outcomes.append(outcome)
        self._outcome_ready.set()

    async def _try(self, due: outbox.Due) -> _Outcome:
        """One HTTP request, and what its answer means for the delivery."""
        assert due.conversation is not None
        try:
            async with asyncio.timeout(self._request_timeout_s):
                activity_id, status = await self._post(due.delivery, due.conversation)
        except ConnectorHostRefused as exc:
            return _Outcome(due, "failed", error=str(exc))
        except TokenUnavailable as exc:
            # Before the request left: Teams cannot have it, so it is not ambiguous.
            return self._retry(due, None, str(exc))
        except ErrorResponseException as exc:
            if _status(exc.response) == TOKEN_REFUSED:
                return await self._token_refused(due, exc)
            return self._answered(due, exc)
        except aiohttp.ClientConnectorError as exc:
            # Never connected, so nothing reached Teams.
            return self._retry(due, None, f"could not connect ({type(exc).__name__})")
        except (aiohttp.ClientError, TimeoutError) as exc:
            return self._retry(
                due, None, f"connection lost mid-request ({type(exc).__name__})", ambiguous=True
            )
        return _Outcome(due, "sent", status=status, activity_id=activity_id)

    async def _post(self, delivery: Delivery, conversation: ConversationRef) -> tuple[str, int]:
        """Send (or update) the card; the activity id and HTTP status Teams answered with."""
        client = await self._connectors.create(conversation.service_url)
        reference = ConversationReference.deserialize(conversation.reference)
        message = Activity(
            type=ActivityTypes.message,
            attachments=[CardFactory.adaptive_card(FrozenJson(delivery.card))],
            summary=delivery.summary,
            from_property=reference.bot,
            recipient=reference.user,
            conversation=ConversationAccount(id=conversation.conversation_id),
            channel_id=reference.channel_id,
        )
        if delivery.replaces_activity_id is not None:
            message.id = delivery.replaces_activity_id
            raw = await client.conversations.update_activity(
                conversation.conversation_id, delivery.replaces_activity_id, message, raw=True
            )
        else:
            raw = await client.conversations.send_to_conversation(
                conversation.conversation_id, message, raw=True
            )
        activity_id = getattr(raw.output, "id", None) or delivery.replaces_activity_id
        return str(activity_id), _status(raw.response)

    async def _token_refused(self, due: outbox.Due, exc: ErrorResponseException) -> _Outcome:
        """401: the token may have been revoked or rotated before it expired. Drop it and try
        once more at once with a fresh one; refused again, the credentials themselves are wrong,
        and nothing the sender does will change that. Never ambiguous: the request was refused."""
        if due.delivery.last_status == TOKEN_REFUSED:
            return _Outcome(
                due,
                "failed",
                status=TOKEN_REFUSED,
                error="HTTP 401 again with a fresh token: the bot's credentials are refused",
                token_refused=True,
            )
        assert due.conversation is not None
        request = getattr(exc.response, "request", None)
        refused = getattr(request, "headers", {}).get("Authorization")
        await self._connectors.forget_token(due.conversation.service_url, refused)
        return self._retry(
            due, TOKEN_REFUSED, "HTTP 401: trying once more with a fresh token", delay=0.0
        )

    def _answered(self, due: outbox.Due, exc: ErrorResponseException) -> _Outcome:
        response = exc.response
        status = _status(response)
        if status == 429:
            wait = retry_after_seconds(response.headers, datetime.now(UTC))
            if wait is not None:
                # Honour it exactly (never sooner), and hold the whole conversation back too.
                self._pacer.block(due.delivery.conversation_ref_id, time.monotonic() + wait)
                return self._retry(due, 429, f"HTTP 429, Retry-After {wait:g} s", at_least=wait)
        if status in RETRYABLE:
            return self._retry(due, status, f"HTTP {status}", ambiguous=status in AMBIGUOUS)
        is_update = due.delivery.replaces_activity_id is not None
        # An update's 404 may only mean the old message was deleted, not that the person is gone.
        if status in UNREACHABLE and not (is_update and status == 404):
            return _Outcome(
                due,
                "failed",
                status=status,
                error=f"HTTP {status}: the bot cannot reach this conversation",
                unreachable=True,
            )
        return _Outcome(due, "failed", status=status, error=f"HTTP {status}; not retried")

    def _retry(
        self,
        due: outbox.Due,
        status: int | None,
        error: str,
        *,
        ambiguous: bool = False,
        at_least: float = 0.0,
        delay: float | None = None,
    ) -> _Outcome:
        """Try again later (after `delay` seconds if given, else backing off with jitter), unless
        it may arrive a third time or has had its `max_tries`."""
        tries = due.delivery.attempts
        if ambiguous and (due.delivery.ambiguous or due.recovered):
            # It may have arrived twice already: a third try could make it three copies.
            return _Outcome(
                due,
                "failed",
                status=status,
                error=f"{error}, the second time it may have arrived: not sent again",
                ambiguous=True,
            )
        if tries >= self._max_tries:
            return _Outcome(
                due,
                "failed",
                status=status,
                error=f"gave up after {tries} tries: {error}",
                ambiguous=ambiguous,
            )
        if delay is not None:
            pass
        elif at_least:
            delay = at_least + self._rng.uniform(0.0, 0.1 * at_least + 0.05)
        else:
            ceiling = min(self._max_backoff_s, self._backoff_s * 2 ** (tries - 1))
            delay = ceiling / 2 + self._rng.uniform(0.0, ceiling / 2)
        outcome = _Outcome(due, "retry", status=status, error=error, ambiguous=ambiguous)
        outcome.retry_at = outcome.at + timedelta(seconds=delay)
        outcome.retry_at_monotonic = time.monotonic() + delay
        return outcome

    # --- recording outcomes ---------------------------------------------------------------------

    async def _write_outcomes(self) -> None:
        """Commit outcomes as they come, gathered for a moment so that a transaction records
        several (a round trip per statement is most of what a send costs on PostgreSQL)."""
        while True:
            await self._outcome_ready.wait()
            if not self._stopping:
                await asyncio.sleep(OUTCOME_LINGER_S)
            self._outcome_ready.clear()
            while self._outcomes:
                batch = self._outcomes[:200]
                try:
                    async with self._transaction() as session:
                        await outbox.mark_sent(
                            session=session,
                            sent=[
                                outbox.Sent(
                                    o.due.delivery,
                                    o.status or 200,
                                    o.activity_id or "",
                                    o.at,
                                    o.ambiguous or o.due.recovered,
                                )
                                for o in batch
                                if o.result == "sent"
                            ],
                        )
                        for outcome in batch:
                            if outcome.result != "sent":
                                await self._record(session, outcome)
                except (SQLAlchemyError, OSError) as exc:
                    log.warning("could not record outcomes (%s); retrying", type(exc).__name__)
                    await asyncio.sleep(self._poll_s)
                    continue
                del self._outcomes[: len(batch)]
                for outcome in batch:
                    self._count(outcome)
                self._wake.set()
            if self._stopping and not self._in_flight:
                return

    async def _record(self, session: AsyncSession, outcome: _Outcome) -> None:
        """A retry or a failure (sent deliveries are recorded together, by outbox.mark_sent)."""
        delivery = outcome.due.delivery
        ambiguous = outcome.ambiguous or outcome.due.recovered
        outbox.record_attempt(
            session, delivery=delivery, status=outcome.status, error=outcome.error
        )
        assert outcome.error is not None
        if outcome.result == "retry":
            assert outcome.retry_at is not None
            await outbox.mark_retry(
                session=session,
                owner=self.owner,
                delivery=delivery,
                status=outcome.status,
                error=outcome.error,
                next_attempt_at=outcome.retry_at,
                ambiguous=ambiguous,
            )
            return
        await outbox.mark_failed(
            session=session,
            owner=self.owner,
            delivery=delivery,
            status=outcome.status,
            error=outcome.error,
            at=outcome.at,
            ambiguous=ambiguous,
        )
        if outcome.unreachable and delivery.recipient_staff_id is not None:
            await outbox.mark_unreachable(
                session=session,
                tenant_id=delivery.tenant_id,
                staff_id=delivery.recipient_staff_id,
                at=outcome.at,
                status=outcome.status or 0,
            )

    def _count(self, outcome: _Outcome) -> None:
        delivery_id = outcome.due.delivery.id
        if outcome.ambiguous:
            self.stats.ambiguous += 1
        if outcome.result == "sent":
            self.stats.sent += 1
            log.debug("delivery %s sent", delivery_id)
        elif outcome.result == "retry":
            self.stats.retried += 1
            heapq.heappush(self._due_at, outcome.retry_at_monotonic)
            log.info("delivery %s: %s; will retry", delivery_id, outcome.error)
        else:
            self.stats.failed += 1
            if outcome.unreachable:
                self.stats.unreachable += 1
            if outcome.token_refused:
                self.stats.token_refused += 1
                log.error("delivery %s failed: %s", delivery_id, outcome.error)
            else:
                log.warning("delivery %s failed: %s", delivery_id, outcome.error)


def _status(response: Any) -> int:
    # msrest hands back the aiohttp response (status), or its own wrapper (status_code).
    return int(getattr(response, "status_code", None) or response.status)


def _report_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and (exc := task.exception()) is not None:
        log.error("%s stopped: %s", task.get_name(), type(exc).__name__, exc_info=exc)


def _ids(ids: list[int | None]) -> list[int]:
    return [i for i in ids if i is not None]
