"""Health and readiness as an orchestrator sees them."""

from __future__ import annotations

from tests.chat import Chat


async def test_healthz_and_readyz_report_up_and_ready(chat: Chat) -> None:
    base = chat.url.removesuffix("/api/messages")
    async with chat.http.get(base + "/healthz") as response:
        assert response.status == 200
    async with chat.http.get(base + "/readyz") as response:
        body = await response.json()
        assert response.status == 200
        assert body == {
            "ready": True,
            "database": True,
            "schema": True,
            "scheduler": True,
            "sender": True,
        }
