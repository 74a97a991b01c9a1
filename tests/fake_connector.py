"""A fake Bot Connector that behaves like Teams': records what the bot sends, can throttle, enforce
Teams' per-conversation limits, inject faults at random (seeded) and refuse chosen conversations."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import math
import random
import time
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.card_rules import card_problems

# Teams' per-conversation limits for a bot: (messages, seconds).
TEAMS_LIMITS: tuple[tuple[int, float], ...] = ((7, 1.0), (8, 2.0), (60, 30.0), (1800, 3600.0))


@dataclass
class Sent:
    method: str
    path: str
    conversation_id: str
    body: dict[str, Any]
    authorization: str | None
    at: float = 0.0
    key: str = ""

    @property
    def cards(self) -> list[dict[str, Any]]:
        return [
            a["content"]
            for a in self.body.get("attachments") or []
            if a.get("contentType") == "application/vnd.microsoft.card.adaptive"
        ]


@dataclass(frozen=True)
class Seen:
    """One request for an activity, whatever the answer. `key` names the message (the same
    request body to the same URL), so a retry of it has the same key."""

    at: float
    method: str
    conversation_id: str
    key: str
    status: int
    # accepted | fault | token_refused | unreachable | limit | chaos | accepted_then_504 |
    # accepted_then_dropped
    why: str
    retry_after: float | None = None
    # The bearer token it carried ("" without one).
    token: str = ""

    @property
    def delivered(self) -> bool:
        return self.why.startswith("accepted")


@dataclass
class Chaos:
    """Faults injected at random, from a seeded generator so a failing run can be replayed."""

    seed: int = 0
    throttle: float = 0.0  # 429 with a whole-second Retry-After from `retry_after`
    retry_after: tuple[int, int] = (1, 2)
    bad_gateway: float = 0.0  # 502, not delivered
    unavailable: float = 0.0  # 503, not delivered
    gateway_timeout: float = 0.0  # 504, not delivered
    accepted_then_timeout: float = 0.0  # delivered, then 504: the sender cannot know
    accepted_then_dropped: float = 0.0  # delivered, then the connection is cut
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def pick(self) -> str | None:
        roll = self.rng.random()
        for why, p in (
            ("throttle", self.throttle),
            ("bad_gateway", self.bad_gateway),
            ("unavailable", self.unavailable),
            ("gateway_timeout", self.gateway_timeout),
            ("accepted_then_timeout", self.accepted_then_timeout),
            ("accepted_then_dropped", self.accepted_then_dropped),
        ):
            if roll < p:
                return why
            roll -= p
        return None


@dataclass
class FakeConnector:
    """Start with `await connector.start()`; `service_url` goes into the activities we post."""

    members: dict[str, dict[str, Any]] = field(default_factory=dict)
    sent: list[Sent] = field(default_factory=list)
    # Inputs on cards it was sent (or a card action answered with) that could block a button
    # without a word (tests.card_rules); the `connector` fixture fails a test that leaves any.
    card_problems: list[str] = field(default_factory=list)
    # Whether to look for them: the benchmarks turn it off, so the fake Teams's own CPU (it
    # shares the machine) stays what Teams would cost the bot, nothing.
    checks_cards: bool = True
    # Statuses to answer before accepting, e.g. [(429, "1")] answers one 429 with Retry-After: 1.
    faults: list[tuple[int, str | None]] = field(default_factory=list)
    refused: list[int] = field(default_factory=list)
    # Statuses to answer after accepting a message, in turn: 504, or 0 to cut the connection.
    after_accepting: list[int] = field(default_factory=list)
    created_conversations: list[dict[str, Any]] = field(default_factory=list)
    # Teams' per-conversation limits, answered with 429 and a Retry-After; None: no limits.
    limits: tuple[tuple[int, float], ...] | None = None
    chaos: Chaos | None = None
    # Conversations the bot can no longer reach, and the status Teams answers (403 or 404).
    unreachable: dict[str, int] = field(default_factory=dict)
    # Bearer tokens Teams no longer accepts (revoked, or from a rotated secret): answered 401.
    revoked_tokens: set[str] = field(default_factory=set)
    # Every activity request (faults included), with when and how it was answered.
    requests: list[Seen] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _runner: web.AppRunner | None = None
    _accepted: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))
    service_url: str = ""
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def check_cards(self, body: Any) -> None:
        """Note what is wrong with any card in an activity or an invoke's answer."""
        if not self.checks_cards or not isinstance(body, dict):
            return
        contents = [a.get("content") for a in body.get("attachments") or [] if isinstance(a, dict)]
        if body.get("type") == "application/vnd.microsoft.card.adaptive":
            contents.append(body.get("value"))
        for content in contents:
            if isinstance(content, dict):
                self.card_problems += card_problems(content)

    async def start(self) -> None:
        app = web.Application(client_max_size=1024 * 1024)
        app.router.add_post("/v3/conversations", self._create)
        app.router.add_post("/v3/conversations/{cid}/activities", self._activity)
        app.router.add_post("/v3/conversations/{cid}/activities/{aid}", self._activity)
        app.router.add_put("/v3/conversations/{cid}/activities/{aid}", self._activity)
        app.router.add_get("/v3/conversations/{cid}/members/{mid}", self._member)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.service_url = f"http://127.0.0.1:{port}/"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def _fault(self) -> web.Response | None:
        if not self.faults:
            return None
        status, retry_after = self.faults.pop(0)
        self.refused.append(status)
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        return _error(status, "Throttled" if status == 429 else "Fault", headers)

    def _over_limit(self, conversation_id: str, now: float) -> float | None:
        """Seconds until this conversation may get another message, if it is at a limit now."""
        if not self.limits:
            return None
        times = self._accepted[conversation_id]
        wait = 0.0
        for n, seconds in self.limits:
            if len(times) >= n and times[-n] > now - seconds:
                wait = max(wait, times[-n] + seconds - now)
        return wait or None

    async def _activity(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        now = time.monotonic()
        cid = request.match_info["cid"]
        key = hashlib.sha1(request.method.encode() + request.path.encode() + raw).hexdigest()
        token = (request.headers.get("Authorization") or "").removeprefix("Bearer ")

        def seen(status: int, why: str, retry_after: float | None = None) -> None:
            self.requests.append(
                Seen(now, request.method, cid, key, status, why, retry_after, token)
            )

        fault = self._fault()
        if fault is not None:
            seen(fault.status, "fault")
            return fault
        if token in self.revoked_tokens:
            seen(401, "token_refused")
            return _error(401, "Unauthorized")
        if cid in self.unreachable:
            status = self.unreachable[cid]
            seen(status, "unreachable")
            return _error(status, "BotNotInConversationRoster" if status == 403 else "NotFound")
        wait = self._over_limit(cid, now)
        if wait is not None:
            retry_after = max(1, math.ceil(wait))
            seen(429, "limit", retry_after)
            return _error(429, "Throttled", {"Retry-After": str(retry_after)})
        injected = self.chaos.pick() if self.chaos is not None else None
        if self.after_accepting:
            injected = {504: "accepted_then_timeout", 0: "accepted_then_dropped"}[
                self.after_accepting.pop(0)
            ]
        if injected == "throttle":
            assert self.chaos is not None
            retry_after = self.chaos.rng.randint(*self.chaos.retry_after)
            seen(429, "chaos", retry_after)
            return _error(429, "Throttled", {"Retry-After": str(retry_after)})
        if injected in ("bad_gateway", "unavailable", "gateway_timeout"):
            status = {"bad_gateway": 502, "unavailable": 503, "gateway_timeout": 504}[injected]
            seen(status, "chaos")
            return _error(status, "ServiceError")

        body = _json(raw)
        self._accepted[cid].append(now)
        if len(self._accepted[cid]) > 2000:
            self._accepted[cid].popleft()
        activity_id = (
            request.match_info["aid"] if request.method == "PUT" else f"activity-{next(self._ids)}"
        )
        self.check_cards(body)
        self.sent.append(
            Sent(
                request.method,
                request.path,
                cid,
                body,
                request.headers.get("Authorization"),
                now,
                key,
            )
        )
        self.arrived.set()
        if injected == "accepted_then_timeout":
            seen(504, injected)
            return _error(504, "GatewayTimeout")
        if injected == "accepted_then_dropped":
            seen(0, injected)
            assert request.transport is not None
            request.transport.close()
            return web.Response(status=200)
        seen(200, "accepted")
        return web.json_response({"id": activity_id}, status=200)

    async def _create(self, request: web.Request) -> web.Response:
        fault = self._fault()
        if fault is not None:
            return fault
        body = await request.json()
        self.created_conversations.append(body)
        return web.json_response({"id": f"a:personal-{next(self._ids)}"}, status=201)

    async def _member(self, request: web.Request) -> web.Response:
        member = self.members.get(request.match_info["mid"])
        if member is None:
            return web.json_response({"error": {"code": "NotFound"}}, status=404)
        return web.json_response(member)

    async def wait_for(self, count: int, within: float = 5.0) -> list[Sent]:
        """Wait until at least `count` messages have arrived in total."""
        async with asyncio.timeout(within):
            while len(self.sent) < count:
                self.arrived.clear()
                await self.arrived.wait()
        return self.sent


def _error(status: int, code: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(
        {"error": {"code": code, "message": "fake connector"}}, status=status, headers=headers
    )


def _json(raw: bytes) -> dict[str, Any]:
    value = json.loads(raw) if raw else {}
    return value if isinstance(value, dict) else {}


# --- reading a run back ---------------------------------------------------------------------------


def deliveries(requests: list[Seen]) -> Counter[str]:
    """How many times each message (by key) reached the conversation, POSTs only."""
    return Counter(r.key for r in requests if r.delivered and r.method == "POST")


def early_retries(requests: list[Seen]) -> list[tuple[Seen, Seen]]:
    """(429, next request for the same message) pairs where the retry came before Retry-After."""
    waiting: dict[str, Seen] = {}
    early = []
    for r in sorted(requests, key=lambda r: r.at):
        before = waiting.pop(r.key, None)
        if before and before.retry_after is not None and r.at < before.at + before.retry_after:
            early.append((before, r))
        if r.status == 429:
            waiting[r.key] = r
    return early


def most_in_window(times: list[float], seconds: float) -> int:
    """The most timestamps in any window of `seconds` (half-open, as Teams counts)."""
    ordered = sorted(times)
    most, start = 0, 0
    for end, t in enumerate(ordered):
        while ordered[start] <= t - seconds:
            start += 1
        most = max(most, end - start + 1)
    return most


def conversation_overruns(
    requests: list[Seen], limits: tuple[tuple[int, float], ...] = TEAMS_LIMITS
) -> dict[str, list[tuple[int, float, int]]]:
    """Conversations whose requests went over a limit: [(limit, seconds, most seen)]."""
    times: dict[str, list[float]] = defaultdict(list)
    for r in requests:
        times[r.conversation_id].append(r.at)
    overruns: dict[str, list[tuple[int, float, int]]] = {}
    for cid, ts in times.items():
        over = [(n, s, m) for n, s in limits if (m := most_in_window(ts, s)) > n]
        if over:
            overruns[cid] = over
    return overruns


def summary(requests: list[Seen]) -> dict[str, Any]:
    """A run in figures (JSON-ready), for a benchmark in another process."""
    arrived = deliveries(requests)
    twice = {key for key, n in arrived.items() if n > 1}
    delivered = [r.at for r in requests if r.delivered]
    return {
        "requests": len(requests),
        "messages": len(arrived),
        "why": dict(Counter(r.why for r in requests)),
        "statuses": dict(Counter(str(r.status) for r in requests)),
        # Conversations that got a message more than once (a fan-out sends one per conversation).
        "twice": sorted({r.conversation_id for r in requests if r.key in twice}),
        "early_retries": len(early_retries(requests)),
        "conversation_overruns": len(conversation_overruns(requests)),
        "most_delivered_in_1s": most_in_window(delivered, 1.0),
        "most_requests_in_1s": most_in_window([r.at for r in requests], 1.0),
        "first_request_at": min((r.at for r in requests), default=0.0),
        "last_delivered_at": max(delivered, default=0.0),
    }
