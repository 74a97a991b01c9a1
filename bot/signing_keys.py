"""The Bot Framework's token-signing keys, fetched without stalling the event loop.

botframework-connector 4.17.1 fetches them with a blocking `requests.get` (no timeout) on the
event loop, drops every cached key when one refresh fails, and raises on a key id it has not
seen instead of refreshing. This replaces its cache entry for our metadata URL.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import aiohttp
from botframework.connector.auth.jwt_token_extractor import (
    JwtTokenExtractor,
    _OpenIdConfig,
    _OpenIdMetadata,
)
from jwt.algorithms import RSAAlgorithm

log = logging.getLogger(__name__)

REFRESH_EVERY_S = 24 * 3600
# An unknown key id may mean Microsoft rotated keys: look again, but not more than this often.
UNKNOWN_KEY_REFRESH_S = 3600
# After a failed fetch, try again after 1 s, then 2, 4 … up to a minute: one failed fetch at
# start-up must not turn away valid tokens for a minute once the endpoint is back.
RETRY_FIRST_S = 1.0
RETRY_AT_MOST_S = 60.0
FETCH_TIMEOUT = aiohttp.ClientTimeout(total=10)


class SigningKeys(_OpenIdMetadata):  # type: ignore[misc]
    def __init__(self, url: str, http: aiohttp.ClientSession) -> None:
        super().__init__(url)
        self._http = http
        # Monotonic seconds of the last good fetch and the last attempt; None before the first.
        self._fetched_at: float | None = None
        self._tried_at: float | None = None
        # Failed fetches since the last good one, for the backoff.
        self._failures = 0

    async def get(self, key_id: str) -> _OpenIdConfig | None:
        now = time.monotonic()
        if self._fetched_at is None or now - self._fetched_at > REFRESH_EVERY_S:
            await self._refresh_keeping_old(now)
        key = self._find(key_id)
        if key is None and (
            self._fetched_at is None or now - self._fetched_at > UNKNOWN_KEY_REFRESH_S
        ):
            await self._refresh_keeping_old(now)
            key = self._find(key_id)
        return key

    async def _refresh_keeping_old(self, now: float) -> None:
        if self._tried_at is not None and now - self._tried_at < self.retry_after_s:
            return
        self._tried_at = now
        try:
            metadata = await self._fetch_json(self.url)
            keys = (await self._fetch_json(str(metadata["jwks_uri"])))["keys"]
        except (aiohttp.ClientError, TimeoutError, KeyError, ValueError) as exc:
            self._failures += 1
            log.warning(
                "could not refresh the Bot Framework signing keys (%d in a row): %s; "
                "keeping %d keys we had",
                self._failures,
                type(exc).__name__,
                self.key_count,
            )
            return
        self.keys = keys
        self._fetched_at = now
        self._failures = 0

    @property
    def retry_after_s(self) -> float:
        """Seconds between fetches while they fail: 0 after a good one, then 1, 2, 4 … 60."""
        if not self._failures:
            return 0.0
        backoff: float = RETRY_FIRST_S * 2 ** (self._failures - 1)
        return min(backoff, RETRY_AT_MOST_S)

    @property
    def key_count(self) -> int:
        keys: list[dict[str, Any]] = self.keys
        return len(keys)

    async def _fetch_json(self, url: str) -> dict[str, Any]:
        async with self._http.get(url, timeout=FETCH_TIMEOUT) as response:
            response.raise_for_status()
            return dict(await response.json(content_type=None))

    def _find(self, key_id: str) -> _OpenIdConfig | None:
        for key in self.keys:
            if key.get("kid") == key_id:
                public_key = RSAAlgorithm.from_jwk(json.dumps(key))
                return _OpenIdConfig(public_key, key.get("endorsements", []))
        return None


def install(url: str, http: aiohttp.ClientSession) -> SigningKeys:
    """Put our key cache where the SDK's token extractor looks for it (a process-wide dict)."""
    keys = SigningKeys(url, http)
    JwtTokenExtractor.metadataCache[url] = keys
    return keys


def uninstall(keys: SigningKeys) -> None:
    if JwtTokenExtractor.metadataCache.get(keys.url) is keys:
        del JwtTokenExtractor.metadataCache[keys.url]
