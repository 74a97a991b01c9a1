"""A fake Bot Connector that behaves like Teams': records what the bot sends, can throttle."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Sent:
    method: str
    path: str
    conversation_id: str
    body: dict[str, Any]
    authorization: str | None

    @property
    def cards(self) -> list[dict[str, Any]]:
        return [
            a["content"]
            for a in self.body.get("attachments") or []
            if a.get("contentType") == "application/vnd.microsoft.card.adaptive"
        ]


@dataclass
class FakeConnector:
    """Start with `await connector.start()`; `service_url` goes into the activities we post."""

    members: dict[str, dict[str, Any]] = field(default_factory=dict)
    sent: list[Sent] = field(default_factory=list)
    # Statuses to answer before accepting, e.g. [(429, "1")] answers one 429 with Retry-After: 1.
    faults: list[tuple[int, str | None]] = field(default_factory=list)
    refused: list[int] = field(default_factory=list)
    created_conversations: list[dict[str, Any]] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _runner: web.AppRunner | None = None
    service_url: str = ""
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v3/conversations", self._create)
        app.router.add_post("/v3/conversations/{cid}/activities", self._activity)
        app.router.add_post("/v3/conversations/{cid}/activities/{aid}", self._activity)
        app.router.add_put("/v3/conversations/{cid}/activities/{aid}", self._activity)
        app.router.add_get("/v3/conversations/{cid}/members/{mid}", self._member)
        self._runner = web.AppRunner(app)
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
        return web.json_response(
            {"error": {"code": "Throttled", "message": "slow down"}}, status=status, headers=headers
        )

    async def _activity(self, request: web.Request) -> web.Response:
        fault = self._fault()
        if fault is not None:
            return fault
        body = await request.json()
        self.sent.append(
            Sent(
                request.method,
                request.path,
                request.match_info["cid"],
                body,
                request.headers.get("Authorization"),
            )
        )
        self.arrived.set()
        return web.json_response({"id": f"activity-{next(self._ids)}"}, status=200)

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
