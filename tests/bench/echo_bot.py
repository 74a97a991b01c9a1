"""Bare botbuilder echo bots, the yardsticks for the HTTP throughput budget (DESIGN §11).

- `echo_app(settings)`: the same SDK set-up as QA Loop (bot.app.build_adapter: the CloudAdapter with
  our authentication and connector sender on one shared aiohttp session) and a minimal handler.
- `echo_app(settings, with_database=True)`: the fixed echo bot that also touches QA Loop's database as little as a
  turn can: a message reads the sender's staff row; a card press claims its activity id in a
  transaction of its own (the durable write that makes a press take effect once). For
  information: the floor of a turn that reads or writes, beside the floor of one that does not.
- `stock_echo_app()`: the SDK's default way, CloudAdapter(ConfigurationBotFrameworkAuthentication(
  config)) with nothing customised, so msrest's per-turn client and retry set-up (DESIGN §13) shows.

Both serve POST /api/messages with `adapter.process(request, bot)`, as the SDK samples do.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web
from botbuilder.core import ActivityHandler, InvokeResponse, MessageFactory, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import AdaptiveCardInvokeResponse

from bot.app import MAX_BODY, build_adapter
from bot.settings import Settings
from storage import inbound, staff
from storage.db import SessionMaker, make_engine, make_sessions, transaction


class EchoBot(ActivityHandler):  # type: ignore[misc]
    async def on_message_activity(self, turn_context: TurnContext) -> None:
        await turn_context.send_activity(MessageFactory.text(f"Echo: {turn_context.activity.text}"))

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        """A card press answered with a one-line card naming the verb (the SDK's model, not a
        dict: DESIGN §13)."""
        verb = (turn_context.activity.value or {}).get("action", {}).get("verb")
        card = {
            "type": "AdaptiveCard",
            "version": "1.5",
            "body": [{"type": "TextBlock", "text": f"Echo: {verb}"}],
        }
        return InvokeResponse(
            status=200,
            body=AdaptiveCardInvokeResponse(
                status_code=200, type="application/vnd.microsoft.card.adaptive", value=card
            ),
        )


class DatabaseEchoBot(EchoBot):
    def __init__(self, sessions: SessionMaker) -> None:
        self.sessions = sessions

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        async with self.sessions() as session:
            await staff.by_aad_object_id(
                session=session,
                tenant_id=activity.channel_data["tenant"]["id"],
                aad_object_id=activity.from_property.aad_object_id,
            )
        await super().on_message_activity(turn_context)

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        activity = turn_context.activity
        async with transaction(self.sessions) as session:
            await inbound.claim_in(
                session,
                tenant_id=activity.channel_data["tenant"]["id"],
                conversation_id=activity.conversation.id,
                activity_id=activity.id,
            )
        return await super().on_invoke_activity(turn_context)


def _serve(
    app: web.Application, adapter_key: web.AppKey[CloudAdapter], bot: EchoBot | None = None
) -> None:
    bot = bot or EchoBot()

    async def messages(request: web.Request) -> web.StreamResponse:
        response = await request.app[adapter_key].process(request, bot)
        return response if response is not None else web.Response(status=201)

    app.router.add_post("/api/messages", messages)


ADAPTER = web.AppKey("adapter", CloudAdapter)


def echo_app(settings: Settings, *, with_database: bool = False) -> web.Application:
    """Echo with QA Loop's adapter, authentication and connector sender; `with_database`, touching
    the database as little as a turn can (DatabaseEchoBot)."""
    app = web.Application(client_max_size=MAX_BODY)
    engine = make_engine(settings.database_url) if with_database else None
    bot = DatabaseEchoBot(make_sessions(engine)) if engine is not None else EchoBot()

    async def lifetime(app: web.Application) -> AsyncIterator[None]:
        http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20))
        adapter, _auth, _sender = build_adapter(settings, http)
        app[ADAPTER] = adapter
        try:
            yield
        finally:
            await http.close()
            if engine is not None:
                await engine.dispose()

    app.cleanup_ctx.append(lifetime)
    _serve(app, ADAPTER, bot)
    return app


class DefaultConfig:
    """The SDK samples' config.py, without credentials (the Agents Playground / emulator case)."""

    PORT = 3978
    APP_ID = ""
    APP_PASSWORD = ""
    APP_TYPE = "MultiTenant"
    APP_TENANTID = ""


def stock_echo_app() -> web.Application:
    """Echo exactly as the SDK's samples build it."""
    app = web.Application(client_max_size=MAX_BODY)
    app[ADAPTER] = CloudAdapter(ConfigurationBotFrameworkAuthentication(DefaultConfig()))
    _serve(app, ADAPTER)
    return app
