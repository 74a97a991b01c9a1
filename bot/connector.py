"""Outbound HTTP to the Bot Connector: one shared aiohttp session, no hidden retries, host allow-list.

botbuilder 4.17.1 builds a new msrest client per turn whose requests-based sender retries almost
every status underneath us (urllib3 Retry) and spends most of a turn's CPU setting that up. We
replace the sender and cache one client per service URL.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from datetime import datetime
from enum import Enum
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp
import jwt
import orjson
from botbuilder.core import BotAdapter, TurnContext
from botbuilder.schema import Activity
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import (
    AuthenticateRequestResult,
    AuthenticationConstants,
    BotFrameworkAuthentication,
    ClaimsIdentity,
    ConnectorFactory,
    UserTokenClient,
)
from botframework.connector.bot_framework_sdk_client_async import (
    BotFrameworkConnectorConfiguration,
)
from botframework.connector.models import ErrorResponseException
from botframework.connector.skills import BotFrameworkClient
from msrest.pipeline import Request, Response
from msrest.pipeline.aiohttp import AioHTTPSender
from msrest.pipeline.async_abc import AsyncHTTPPolicy, AsyncPipeline
from msrest.pipeline.universal import RawDeserializer
from msrest.serialization import Model, Serializer
from msrest.universal_http import ClientRequest
from msrest.universal_http.aiohttp import AioHttpClientResponse
from msrest.universal_http.async_abc import AsyncClientResponse, AsyncHTTPSender

log = logging.getLogger(__name__)

# Statuses that say "not now" rather than "no": safe to send again within a turn.
RETRY_IN_TURN = frozenset({429, 503})


class ConnectorHostRefused(PermissionError):
    """The bot would have sent its token to a host outside the allow-list."""


class TokenUnavailable(ConnectionError):
    """The bot's own token could not be had (Entra unreachable, or refusing): the request never
    left, so nothing reached Teams."""


class ConnectorSender(AsyncHTTPSender):
    """Sends the connector's requests on one aiohttp session; retries 429/503 within a time budget."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        host_allowed: Callable[[str], bool],
        retry_budget_s: float = 8.0,
        max_tries: int = 4,
    ) -> None:
        self._session = session
        self._host_allowed = host_allowed
        self._retry_budget_s = retry_budget_s
        self._max_tries = max_tries
        self.retried = 0

    async def __aenter__(self) -> ConnectorSender:
        return self

    async def __aexit__(self, *exc_details: object) -> None:
        return None

    def check_host(self, url: str) -> None:
        """Refuse a connector host off the allow-list: our token must never go there."""
        host = urlsplit(url).hostname or ""
        if not self._host_allowed(host):
            raise ConnectorHostRefused(f"connector host {host!r} is not on the allow-list")

    async def send(self, request: ClientRequest, **config: Any) -> AsyncClientResponse:
        self.check_host(request.url)
        deadline = time.monotonic() + self._retry_budget_s
        for attempt in range(1, self._max_tries + 1):
            response = await self._session.request(
                request.method,
                request.url,
                headers=dict(request.headers),
                data=request.data,
                allow_redirects=False,
            )
            wait = _retry_after(response)
            if (
                response.status not in RETRY_IN_TURN
                or attempt == self._max_tries
                or time.monotonic() + wait > deadline
            ):
                wrapped = AioHttpClientResponse(request, response)
                await wrapped.load_body()
                return wrapped
            response.release()
            self.retried += 1
            log.warning("connector said %s; trying again in %.1f s", response.status, wait)
            await asyncio.sleep(wait)
        raise AssertionError("unreachable")


class _BearerToken(AsyncHTTPPolicy):  # type: ignore[type-arg]
    """Adds the bot's token; MSAL caches it, and its blocking refresh runs off the event loop.
    A host off the allow-list is refused first, before any token is asked for."""

    def __init__(self, credentials: Any, sender: ConnectorSender) -> None:
        super().__init__()
        self._credentials = credentials
        self._sender = sender

    async def send(self, request: Request, **kwargs: Any) -> Response:  # type: ignore[type-arg]
        self._sender.check_host(request.http_request.url)
        if self._credentials is not None and getattr(self._credentials, "microsoft_app_id", None):
            try:
                token = await asyncio.to_thread(self._credentials.get_access_token)
            except Exception as exc:  # MSAL and requests raise assorted errors; all mean "no token"
                raise TokenUnavailable(f"no token for the bot ({type(exc).__name__})") from exc
            request.http_request.headers["Authorization"] = f"Bearer {token}"
        assert self.next is not None
        return await self.next.send(request, **kwargs)


class ConnectorPipeline(AsyncPipeline):  # type: ignore[type-arg]
    """msrest's pipeline without its requests-based sender and session-bound credentials."""

    def __init__(self, config: BotFrameworkConnectorConfiguration) -> None:
        policies = [
            config.user_agent_policy,
            _BearerToken(config.credentials, config.driver),
            RawDeserializer(),
            config.http_logger_policy,
        ]
        super().__init__(policies, AioHTTPSender(driver=config.driver))


def _retry_after(response: aiohttp.ClientResponse) -> float:
    value = response.headers.get("Retry-After", "")
    try:
        return min(max(float(value), 0.0), 30.0)
    except ValueError:
        return 1.0


_JSON_LEAVES = frozenset({str, int, float, bool, type(None)})


class FrozenJson(dict[str, Any]):
    """JSON (a built card) that nobody changes once made: botbuilder's deepcopy of every outgoing
    activity shares it rather than copying it, and the serializer passes it through unchecked."""

    def __deepcopy__(self, memo: dict[int, Any]) -> FrozenJson:
        return self


def _plain_json(value: Any) -> bool:
    """Whether a value is already plain JSON: dicts with str keys, lists, str/int/float/bool/None."""
    if isinstance(value, dict):
        return all(type(k) is str and _plain_json(v) for k, v in value.items())
    if type(value) is list:
        return all(_plain_json(v) for v in value)
    return type(value) in _JSON_LEAVES


class PlainJsonSerializer(Serializer):
    """msrest's Serializer, except that an untyped ("object") value that is already plain JSON is
    passed through as it is: the result is the same value either way. msrest walks such values
    leaf by leaf (two caught exceptions per string, an `eval` per number), which for an Adaptive
    Card attachment took ~1.5 ms a reply, more than everything else in sending it."""

    def serialize_object(self, attr: Any, **kwargs: Any) -> Any:
        if type(attr) is FrozenJson or _plain_json(attr):
            return attr
        return super().serialize_object(attr, **kwargs)  # type: ignore[no-untyped-call]


_JSON_KEYS: dict[type[Model], tuple[tuple[str, str], ...]] = {}


def _json_keys(model: type[Model]) -> tuple[tuple[str, str], ...]:
    """(attribute, JSON key) of what msrest's Serializer writes for `model`: not read-only ones,
    and not flattened or catch-all ones, which botbuilder's schema has none of."""
    known = _JSON_KEYS.get(model)
    if known is not None:
        return known
    keys = []
    for attr, desc in model._attribute_map.items():
        if model._validation.get(attr, {}).get("readonly", False):
            continue
        if not desc["key"] or "." in desc["key"]:
            raise TypeError(f"{model.__name__}.{attr}: a JSON key model_json cannot write")
        keys.append((attr, desc["key"]))
    _JSON_KEYS[model] = tuple(keys)
    return _JSON_KEYS[model]


def model_json(value: Any) -> Any:
    """The JSON that msrest's `Serializer.body` makes of a botbuilder model (an Activity and what
    it holds), without its validation pass and type-by-type dispatch: each attribute that is set,
    under its JSON key; dates as msrest writes them; an enum as its value. A built card
    (FrozenJson) passes through as it is. tests/test_connector.py holds it to msrest's output."""
    if type(value) is FrozenJson:
        return value
    if isinstance(value, Model):
        return {
            key: model_json(item)
            for attr, key in _json_keys(type(value))
            if (item := getattr(value, attr, None)) is not None
        }
    if isinstance(value, dict):
        return {key: model_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [model_json(item) for item in value]
    if isinstance(value, datetime):
        return Serializer.serialize_iso(value)  # type: ignore[no-untyped-call]
    if isinstance(value, Enum):
        return value.value
    return value


def json_bytes(value: Any) -> bytes:
    """JSON as UTF-8 bytes, by orjson; text orjson refuses (a lone surrogate, which is not
    Unicode) written as the standard library writes it, escaped, as msrest did."""
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:
        return json.dumps(value).encode()


async def reply_json(turn_context: TurnContext, activity: Activity) -> str | None:
    """Send `activity` in answer to the turn's, as `turn_context.send_activity` does, its JSON
    written once (model_json and orjson) rather than by msrest's validating serializer and the
    standard library's encoder: ~1 ms for a 24 KB card (issue 15). The id the connector gave it.
    A refusal raises ErrorResponseException, as msrest's operations do."""
    incoming = turn_context.activity
    activity = TurnContext.apply_conversation_reference(
        activity, TurnContext.get_conversation_reference(incoming)
    )
    client: ConnectorClient = turn_context.turn_state[BotAdapter.BOT_CONNECTOR_CLIENT_KEY]
    operations = client.conversations
    conversation_id = activity.conversation.id
    if activity.reply_to_id:
        url = operations._client.format_url(
            operations.reply_to_activity.metadata["url"],
            conversationId=quote(conversation_id, safe=""),
            activityId=quote(activity.reply_to_id, safe=""),
        )
    else:
        url = operations._client.format_url(
            operations.send_to_conversation.metadata["url"],
            conversationId=quote(conversation_id, safe=""),
        )
    headers = {
        "Accept": "application/json",
        "Content-Type": "application/json; charset=utf-8",
        "x-ms-conversation-id": conversation_id,
    }
    # msrest sends bytes as they are (json.dumps refuses them).
    request = operations._client.post(url, {}, headers, json_bytes(model_json(activity)))
    response = await operations._client.async_send(request, stream=False)
    if response.status_code not in (200, 201, 202):
        raise ErrorResponseException(operations._deserialize, response)
    turn_context.responded = True
    body = response.body()
    answer = orjson.loads(body) if body else None
    posted = answer.get("id") if isinstance(answer, dict) else None
    return posted if isinstance(posted, str) and posted else None


def _use_plain_json_serializer(client: ConnectorClient) -> None:
    serializer = PlainJsonSerializer(client._serialize.dependencies)  # type: ignore[no-untyped-call]
    client._serialize = serializer
    client.conversations._serialize = serializer
    client.attachments._serialize = serializer


class CachedConnectorFactory(ConnectorFactory):  # type: ignore[misc]
    """One connector client per (service URL, audience), all on the shared sender."""

    def __init__(self, inner_credentials: Any, app_id: str | None, sender: ConnectorSender) -> None:
        self._credential_factory = inner_credentials
        self._app_id = app_id
        self._sender = sender
        self._clients: dict[tuple[str, str | None], ConnectorClient] = {}
        self._credentials: dict[tuple[str, str | None], Any] = {}

    async def create(self, service_url: str, audience: str | None = None) -> ConnectorClient:
        key = (service_url, audience)
        client = self._clients.get(key)
        if client is None:
            credentials = await self._credential_factory.create_credentials(
                self._app_id,
                audience or AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE,
                AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL_PREFIX,
                True,
            )
            config = BotFrameworkConnectorConfiguration(
                credentials, service_url, pipeline_type=ConnectorPipeline, driver=self._sender
            )
            client = ConnectorClient(credentials, base_url=service_url, custom_configuration=config)
            _use_plain_json_serializer(client)
            self._clients[key] = client
            self._credentials[key] = credentials
        return client

    async def forget_token(
        self, service_url: str, refused: str | None, audience: str | None = None
    ) -> bool:
        """A 401 said the token sent in `refused` (the Authorization header) is no good: drop the
        cached token, so the next request to `service_url` asks Entra for a fresh one. Not when a
        fresher token is in use already (another request's 401 dropped it first). Whether it was
        dropped."""
        credentials = self._credentials.get((service_url, audience))
        if credentials is None or not getattr(credentials, "microsoft_app_id", None):
            return False  # no credentials (the Agents Playground): there is no token to renew
        if refused is not None:
            try:
                current = await asyncio.to_thread(credentials.get_access_token)
            except Exception:  # MSAL and requests raise assorted errors; all mean "no token"
                return False
            if refused != f"Bearer {current}":
                return False
        # MicrosoftAppCredentials keeps its token in its MSAL application's cache: a new
        # application has an empty cache.
        credentials.app = None
        log.warning("the Bot Connector refused the bot's token; asking Entra for a new one")
        return True


class QaLoopAuthentication(BotFrameworkAuthentication):  # type: ignore[misc]
    """The SDK's authentication, narrowed to the Bot Framework issuer and our connector factory."""

    def __init__(
        self,
        inner: BotFrameworkAuthentication,
        *,
        credential_factory: Any,
        app_id: str | None,
        sender: ConnectorSender,
        issuer: str,
        auth_required: bool,
    ) -> None:
        self._inner = inner
        self._factory = CachedConnectorFactory(credential_factory, app_id, sender)
        self._issuer = issuer
        self._auth_required = auth_required
        self._user_token_clients: dict[str | None, UserTokenClient] = {}

    async def authenticate_request(
        self, activity: Activity, auth_header: str
    ) -> AuthenticateRequestResult:
        if self._auth_required:
            _require_issuer(auth_header, self._issuer)
        try:
            result: AuthenticateRequestResult = await self._inner.authenticate_request(
                activity, auth_header or None
            )
        except PermissionError:
            raise
        except Exception as exc:  # the SDK raises assorted errors for bad tokens
            raise PermissionError(f"token rejected: {type(exc).__name__}") from exc
        if self._auth_required and result.claims_identity.claims.get("iss") != self._issuer:
            raise PermissionError("token not issued by the Bot Framework")
        result.connector_factory = self._factory
        return result

    async def authenticate_streaming_request(
        self, auth_header: str, channel_id_header: str
    ) -> AuthenticateRequestResult:
        raise PermissionError("streaming connections are not accepted")

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        return self._factory

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> UserTokenClient:
        app_id = claims_identity.claims.get("aud") if claims_identity else None
        client = self._user_token_clients.get(app_id)
        if client is None:
            client = await self._inner.create_user_token_client(claims_identity)
            self._user_token_clients[app_id] = client
        return client

    def create_bot_framework_client(self) -> BotFrameworkClient:
        return self._inner.create_bot_framework_client()

    def get_originating_audience(self) -> str:
        return str(self._inner.get_originating_audience())

    async def authenticate_channel_request(self, auth_header: str) -> ClaimsIdentity:
        _require_issuer(auth_header, self._issuer)
        return await self._inner.authenticate_channel_request(auth_header)


def _require_issuer(auth_header: str, issuer: str) -> None:
    """Refuse emulator, skill and other tokens before the SDK's permissive paths see them."""
    scheme, _, token = (auth_header or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise PermissionError("missing bearer token")
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise PermissionError("malformed token") from exc
    if claims.get("iss") != issuer:
        raise PermissionError("token not issued by the Bot Framework")
