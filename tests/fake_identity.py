"""A fake Bot Framework identity service: OpenID metadata and signing keys, and tokens signed with them.

botframework-connector 4.17.1 fetches the metadata and keys with blocking `requests.get` calls made
on the event loop (`_OpenIdMetadata._refresh`), so a server on the test's own loop could never
answer. This one runs in a thread of its own (the standard library's threading HTTP server).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from botframework.connector.auth import JwtTokenExtractor
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

ISSUER = "https://api.botframework.com"
# The issuer of the Bot Framework Emulator's (and skills') v1 tokens: never acceptable here.
EMULATOR_ISSUER = "https://sts.windows.net/d6d49420-f39b-4df7-a1dc-d59a935871db/"
KID = "qaloop-test-signing-key"

# Generated once per test run: 2048-bit keys take a noticeable moment each.
SIGNING_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


class FakeIdentity:
    """Serves `/<unique>/v1/.well-known/openidconfiguration` and its JWKS on 127.0.0.1."""

    def __init__(self, *, endorsements: tuple[str, ...] = ("msteams",)) -> None:
        self.endorsements = list(endorsements)
        self.fetched: list[str] = []
        self.delay_s = 0.0  # how long each answer takes, to model a slow identity service
        self.failing = False  # answer 503 to everything, to model an outage
        self._prefix = f"/{uuid.uuid4().hex[:8]}"
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    @property
    def metadata_url(self) -> str:
        return f"{self.base_url}{self._prefix}/v1/.well-known/openidconfiguration"

    @property
    def keys_url(self) -> str:
        return f"{self.base_url}{self._prefix}/v1/.well-known/keys"

    def jwks(self) -> dict[str, Any]:
        key = RSAAlgorithm.to_jwk(SIGNING_KEY.public_key(), as_dict=True)
        key.update(kid=KID, use="sig", endorsements=self.endorsements)
        return {"keys": [key]}

    def metadata(self) -> dict[str, Any]:
        return {
            "issuer": ISSUER,
            "authorization_endpoint": "https://invalid.botframework.com",
            "jwks_uri": self.keys_url,
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        }

    def start(self) -> None:
        identity = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                identity.fetched.append(self.path)
                time.sleep(identity.delay_s)
                if identity.failing:
                    self.send_error(503)
                    return
                if self.path == identity.metadata_url.removeprefix(identity.base_url):
                    self._json(identity.metadata())
                elif self.path == identity.keys_url.removeprefix(identity.base_url):
                    self._json(identity.jwks())
                else:
                    self.send_error(404)

            def _json(self, document: dict[str, Any]) -> None:
                body = json.dumps(document).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-identity",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        # The SDK caches metadata per URL for the life of the process; leave nothing behind.
        JwtTokenExtractor.metadataCache.pop(self.metadata_url, None)

    def token(
        self,
        *,
        app_id: str,
        service_url: str | None,
        issuer: str = ISSUER,
        lifetime_s: int = 3600,
        key: rsa.RSAPrivateKey = SIGNING_KEY,
        kid: str | None = KID,
        extra: dict[str, Any] | None = None,
        drop: tuple[str, ...] = (),
    ) -> str:
        """A Bot Framework channel token, as Teams sends it; adjust one thing to make it bad."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": issuer,
            "aud": app_id,
            "serviceurl": service_url,
            "nbf": now - 60,
            "iat": now - 60,
            "exp": now + lifetime_s,
        }
        claims.update(extra or {})
        for name in drop:
            claims.pop(name, None)
        headers = {"kid": kid} if kid is not None else {}
        return jwt.encode(claims, key, algorithm="RS256", headers=headers)
