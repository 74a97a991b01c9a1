"""create_app(settings): the aiohttp application with the bot, its storage and its scheduler."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import orjson
from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from botbuilder.core import CardFactory, MessageFactory, TurnContext, serializer_helper
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
    ConfigurationServiceClientCredentialFactory,
)
from botbuilder.schema import Activity, ActivityTypes
from botframework.connector.auth import AuthenticationConstants
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import signing_keys
from bot.connector import CachedConnectorFactory, ConnectorSender, QaLoopAuthentication
from bot.delivery import Sender, sole_sender_lock
from bot.feature import Catalogue, Feature
from bot.features import FEATURES
from bot.handler import ClaimBy, Deps, QaLoopBot, tenant_of
from bot.repeats import Recent
from bot.settings import Settings
from cards.common import card_json
from cards.notices import error_card
from jobs.scheduler import create_scheduler
from storage import inbound, tenants
from storage.db import SessionMaker, is_sqlite, make_engine, make_sessions
from storage.migrate import schema_is_current

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Runtime:
    """What lives as long as the app: built in its cleanup context, never at import."""

    engine: AsyncEngine
    sessions: SessionMaker
    adapter: CloudAdapter
    auth: QaLoopAuthentication
    sender: ConnectorSender
    bot: QaLoopBot
    scheduler: AsyncIOScheduler
    outbox: Sender
    # Activity ids taken in this process (bot.repeats).
    recent: Recent


RUNTIME = web.AppKey("runtime", Runtime)
SETTINGS = web.AppKey("settings", Settings)
KNOWN_TENANTS = web.AppKey("known_tenants", set[str])

MAX_BODY = 256 * 1024


def _sdk_config(settings: Settings) -> SimpleNamespace:
    """What botbuilder's configuration readers expect, with the secret as a plain string."""
    return SimpleNamespace(
        APP_ID=settings.APP_ID,
        APP_PASSWORD=settings.APP_PASSWORD.get_secret_value(),
        APP_TENANTID=settings.APP_TENANTID,
        # Without credentials the SDK's SingleTenant factory refuses to start; auth is off anyway.
        APP_TYPE=settings.APP_TYPE if settings.has_credentials else "MultiTenant",
        TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL=settings.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL,
        TO_BOT_FROM_CHANNEL_TOKEN_ISSUER=settings.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER,
        TO_CHANNEL_FROM_BOT_OAUTH_SCOPE=AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE,
        TO_CHANNEL_FROM_BOT_LOGIN_URL=(
            AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL_PREFIX
            + (settings.APP_TENANTID or "botframework.com")
        ),
    )


def connector_credentials(settings: Settings) -> ConfigurationServiceClientCredentialFactory:
    return ConfigurationServiceClientCredentialFactory(_sdk_config(settings))


def build_adapter(
    settings: Settings,
    session: aiohttp.ClientSession,
    credentials: ConfigurationServiceClientCredentialFactory | None = None,
) -> tuple[CloudAdapter, QaLoopAuthentication, ConnectorSender]:
    """The CloudAdapter with our authentication narrowing and connector sender (shared with benches)."""
    config = _sdk_config(settings)
    credentials = credentials or ConfigurationServiceClientCredentialFactory(config)
    sender = ConnectorSender(session, host_allowed=settings.connector_host_allowed)
    auth = QaLoopAuthentication(
        ConfigurationBotFrameworkAuthentication(config, credentials_factory=credentials),
        credential_factory=credentials,
        app_id=settings.APP_ID or None,
        sender=sender,
        issuer=settings.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER,
        auth_required=settings.has_credentials,
    )
    adapter = CloudAdapter(auth)

    async def on_turn_error(turn_context: TurnContext, error: Exception) -> None:
        # Answer with a card rather than a 500: a 500 makes Teams send the message again.
        log.error("turn failed: %s", type(error).__name__, exc_info=error)
        if turn_context.activity.type == ActivityTypes.message:
            card = error_card("Sorry, something went wrong on my side. Please try again shortly.")
            await turn_context.send_activity(
                MessageFactory.attachment(CardFactory.adaptive_card(card_json(card)))
            )

    adapter.on_turn_error = on_turn_error
    return adapter, auth, sender


def outbox_connectors(
    settings: Settings,
    session: aiohttp.ClientSession,
    credentials: ConfigurationServiceClientCredentialFactory | None = None,
) -> CachedConnectorFactory:
    """Connector clients for the outbox: the adapter's set-up and host allow-list, but exactly one
    HTTP request per attempt, because the outbox sender does its own retrying and bookkeeping."""
    sender = ConnectorSender(session, host_allowed=settings.connector_host_allowed, max_tries=1)
    return CachedConnectorFactory(
        credentials or connector_credentials(settings), settings.APP_ID or None, sender
    )


def create_app(
    settings: Settings,
    *,
    clock: Callable[[], datetime] | None = None,
    features: Iterable[Feature] = FEATURES,
) -> web.Application:
    """The app, made of `features` (bot.features.FEATURES): their commands, card verbs, card
    rebuilders and jobs."""
    now = clock or (lambda: datetime.now(UTC))
    catalogue = Catalogue.of(features)
    app = web.Application(client_max_size=MAX_BODY)
    app[SETTINGS] = settings
    app[KNOWN_TENANTS] = set()

    async def lifetime(app: web.Application) -> AsyncIterator[None]:
        # First, so a second replica on one SQLite file stops before it touches anything.
        with sole_sender_lock(settings.database_url):
            engine = make_engine(settings.database_url)
            if not await schema_is_current(engine):
                await engine.dispose()
                raise RuntimeError("the database schema is not current: run `qaloop db upgrade`")
            sessions = make_sessions(engine)
            for tenant_id, zone in await tenants.other_zones(
                sessions=sessions, timezone=settings.timezone
            ):
                # Jobs fire in QALOOP_TIMEZONE; cards show the tenant's zone: say they differ.
                log.warning(
                    "tenant %s shows times in %s but jobs run in QALOOP_TIMEZONE %s",
                    tenant_id,
                    zone,
                    settings.timezone,
                )
            http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20))
            credentials = connector_credentials(settings)
            adapter, auth, sender = build_adapter(settings, http, credentials)
            keys = signing_keys.install(settings.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL, http)
            scheduler = create_scheduler(
                catalogue.jobs.values(), sessions=sessions, settings=settings, clock=now
            )
            bot = QaLoopBot(
                Deps(sessions=sessions, settings=settings, clock=now, catalogue=catalogue)
            )
            delivery = Sender(
                sessions=sessions,
                connectors=outbox_connectors(settings, http, credentials),
                rate=settings.send_rate,
                sole=is_sqlite(settings.database_url),
                # Teams' limit is per app and tenant: replicas share it through the database.
                shared_rate_app=(
                    None if is_sqlite(settings.database_url) else settings.APP_ID or "unregistered"
                ),
            )
            scheduler.start()
            delivery.start()
            app[RUNTIME] = Runtime(
                engine, sessions, adapter, auth, sender, bot, scheduler, delivery, Recent()
            )
            try:
                yield
            finally:
                await delivery.stop()
                scheduler.shutdown(wait=False)
                signing_keys.uninstall(keys)
                await http.close()
                await engine.dispose()

    app.cleanup_ctx.append(lifetime)
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    return app


async def messages(request: web.Request) -> web.StreamResponse:
    app = request.app
    settings = app[SETTINGS]
    runtime = app[RUNTIME]
    if "application/json" not in request.headers.get("Content-Type", ""):
        return web.json_response({"error": "expected application/json"}, status=415)
    try:
        body = await request.json()
        activity = Activity().deserialize(body)
    except web.HTTPRequestEntityTooLarge:  # over MAX_BODY: say so, rather than "not an activity"
        return web.json_response({"error": "body too large"}, status=413)
    except Exception:  # any unparseable body is the sender's fault, never a 500
        return web.json_response({"error": "body is not a Bot Framework activity"}, status=400)
    if not isinstance(body, dict) or not activity.type:
        return web.json_response({"error": "body is not a Bot Framework activity"}, status=400)

    try:
        auth_result = await runtime.auth.authenticate_request(
            activity, request.headers.get("Authorization", "")
        )
    except PermissionError as exc:
        log.warning("refused an activity: %s", exc)
        return web.json_response({"error": "unauthorized"}, status=401)

    tenant_id = tenant_of(activity)
    allowed = settings.tenants_allowed
    if not tenant_id or (allowed and tenant_id not in allowed):
        log.warning("refused an activity from tenant %s", tenant_id or "(none)")
        if settings.APP_TENANTID:  # without credentials (development) there is no home tenant
            await tenants.record_refused(
                sessions=runtime.sessions,
                home_tenant_id=settings.APP_TENANTID,
                refused_tenant_id=tenant_id,
                timezone=settings.timezone,
            )
        return web.json_response({"error": "tenant not allowed"}, status=403)
    host = urlsplit(activity.service_url or "").hostname or ""
    if not settings.connector_host_allowed(host):
        log.warning("refused an activity whose serviceUrl host %s is not allowed", host)
        return web.json_response({"error": "service URL not allowed"}, status=403)

    conversation_id = activity.conversation.id if activity.conversation else None
    if not isinstance(conversation_id, str) or not conversation_id:
        return web.json_response({"error": "activity has no conversation"}, status=400)

    sessions = runtime.sessions
    if tenant_id not in app[KNOWN_TENANTS]:
        await tenants.ensure(sessions=sessions, tenant_id=tenant_id, timezone=settings.timezone)
        app[KNOWN_TENANTS].add(tenant_id)
    is_invoke = activity.type == ActivityTypes.invoke
    key = {"tenant_id": tenant_id, "conversation_id": conversation_id, "activity_id": activity.id}
    # How a re-delivery of this activity is recognised (bot.handler.ClaimBy).
    claim_by = runtime.bot.claim_by(activity) if activity.id else None
    if claim_by is ClaimBy.PROCESS and not runtime.recent.claim(_recent_key(key)):
        log.info("repeat of activity already handled")
        return web.Response(status=200)
    if claim_by is ClaimBy.DATABASE and not await inbound.claim(sessions=sessions, **key):
        log.info("repeat of activity already handled")
        return web.Response(status=200)

    async def forget_claim() -> None:
        """Its changes were rolled back: Teams' retry of this activity must run, not be
        skipped. (A turn that claims in its own transaction lost its claim with them.)"""
        if claim_by is ClaimBy.PROCESS:
            runtime.recent.release(_recent_key(key))
        elif claim_by is ClaimBy.DATABASE:
            await inbound.release(sessions=sessions, **key)

    failed = False

    async def turn(turn_context: TurnContext) -> None:
        nonlocal failed
        try:
            await runtime.bot.on_turn(turn_context)
        except Exception:
            failed = True  # the adapter's on_turn_error answers it and logs it
            raise

    try:
        invoke_response = await runtime.adapter.process_activity(auth_result, activity, turn)
    except Exception:  # on_turn_error could not answer either (Teams unreachable, say)
        log.exception("turn failed and could not be answered")
        invoke_response, failed = None, True
        if not is_invoke:
            # Nothing took effect and nobody was told: Teams will send the message again.
            await forget_claim()
            return _json({"error": "the message could not be handled"}, status=500)
    if failed:
        await forget_claim()
        if is_invoke:
            # 200, so Teams shows the message and does not retry into a duplicate.
            return _json(TURN_FAILED, status=200)
    if invoke_response is None:
        return web.Response(status=201)
    body = invoke_response.body
    # The bot answers card presses with plain JSON, written once (bot.handler.card_answer).
    payload = body if isinstance(body, dict) else serializer_helper(body) if body else {}
    return _json(payload, status=invoke_response.status)


def _json(payload: Any, *, status: int) -> web.Response:
    return web.Response(body=orjson.dumps(payload), status=status, content_type="application/json")


def _recent_key(key: dict[str, Any]) -> tuple[str, str, str]:
    return (key["tenant_id"], key["conversation_id"], key["activity_id"])


TURN_FAILED = {
    "statusCode": 500,
    "type": "application/vnd.microsoft.error",
    "value": {
        "code": "InternalError",
        "message": "Sorry, something went wrong on my side and nothing was changed. "
        "Please try again shortly.",
    },
}


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "up"})


async def readyz(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    checks: dict[str, bool] = {}
    try:
        async with runtime.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        checks["database"] = True
        checks["schema"] = await schema_is_current(runtime.engine)
    except Exception:  # readiness reports, it does not raise
        log.warning("database not reachable for readiness")
        checks["database"] = checks.get("database", False)
        checks["schema"] = False
    checks["scheduler"] = bool(runtime.scheduler.running)
    checks["sender"] = runtime.outbox.running
    ready = all(checks.values())
    return web.json_response({"ready": ready, **checks}, status=200 if ready else 503)
