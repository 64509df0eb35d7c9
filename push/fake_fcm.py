"""A local FCM-compatible server, for tests and benchmarks: the real firebase-admin client is
pointed at it (``TWOFOLD_FCM_ENDPOINT``) and at its token endpoint (the ``token_uri`` of the
service-account file ``service_account()`` writes), so everything but Google's machines is
exercised: OAuth's JWT-bearer grant, bearer tokens, FCM HTTP v1 messages and error bodies.

It speaks what FCM speaks: HTTP/2 over TLS, chosen by ALPN (``h2_url``, with a certificate of
its own that the client is told to trust through ``TWOFOLD_FCM_CA_FILE``; ``fake_fcm_h2``),
and HTTP/1.1 over plain HTTP (``url``: the send endpoint too, the token endpoint, which
google-auth reaches with ``requests``, and the controls), both from one event loop.

It records what it receives (with the HTTP version and the connection each request came on)
and can be told to answer with any FCM error, a Retry-After and a latency. Run it in a thread
(``FakeFcm().start()``) or as ``python -m push.fake_fcm``; the same controls are on
``/control/...`` for a process.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import ipaddress
import itertools
import json
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

import msgspec
import uvicorn
from litestar import Litestar, MediaType, Request, get, post
from litestar.params import JSONBody

from push.fake_fcm_h2 import Answer, FcmH2, tls

# ASGI as the fast path handles it (plain dicts).
Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# FCM's error code -> (HTTP status, canonical status, message), as FCM answers them.
ERRORS: dict[str, tuple[int, str, str]] = {
    "UNREGISTERED": (404, "NOT_FOUND", "Requested entity was not found."),
    "SENDER_ID_MISMATCH": (403, "PERMISSION_DENIED", "SenderId mismatch"),
    "INVALID_ARGUMENT": (400, "INVALID_ARGUMENT", "Request contains an invalid argument."),
    "QUOTA_EXCEEDED": (429, "RESOURCE_EXHAUSTED", "Quota exceeded for sending messages."),
    "UNAVAILABLE": (503, "UNAVAILABLE", "The service is currently unavailable."),
    "INTERNAL": (500, "INTERNAL", "Internal error encountered."),
    "THIRD_PARTY_AUTH_ERROR": (401, "UNAUTHENTICATED", "Auth error from APNS or Web Push."),
    "APNS_AUTH_ERROR": (401, "UNAUTHENTICATED", "APNs certificate or auth key was invalid."),
}


class Rule(msgspec.Struct, kw_only=True):
    """Answer the next ``times`` sends (to ``token``, or any) with ``error``."""

    error: str
    times: int = 1
    token: str | None = None
    retry_after: str | None = None
    # INVALID_ARGUMENT about the registration token (FCM then names the field), or not.
    about_token: bool = True


class Received(msgspec.Struct):
    project: str
    token: str
    message: dict[str, Any]
    answered: str  # "ok" or the error code
    at: float  # when it arrived (epoch seconds)
    protocol: str = ""  # the HTTP version it came over: "2" or "1.1"
    connection: str = ""  # the client's address and port: one per connection


class FakeFcm:
    def __init__(self, *, project: str = "twofold-test", certs: Path | None = None) -> None:
        self.project = project
        self.received: list[Received] = []
        self.rules: list[Rule] = []
        self.latency = 0.0
        self.tokens_issued = 0
        self._issued: set[str] = set()
        self._ids = itertools.count(1)
        self._changed = threading.Condition()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._own_certs = certs is None
        self.certs = Path(tempfile.mkdtemp(prefix="fake-fcm-")) if certs is None else certs
        self.ca_file, self._cert, self._key = certificates(self.certs)
        self.port = 0
        self.tls_port = 0

    # -- what tests and benchmarks call -------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def h2_url(self) -> str:
        """FCM's own way: TLS, HTTP/2 by ALPN (trust ``ca_file``)."""
        return f"https://127.0.0.1:{self.tls_port}"

    def answer(self, rule: Rule) -> None:
        with self._changed:
            self.rules.append(rule)

    def reset(self) -> None:
        with self._changed:
            self.received.clear()
            self.rules.clear()
            self.latency = 0.0

    def wait_for(self, done: Callable[[list[Received]], bool], timeout: float = 30.0) -> None:
        """Block until ``done(received)`` holds (call through ``asyncio.to_thread``)."""
        with self._changed:
            if not self._changed.wait_for(lambda: done(self.received), timeout):
                raise TimeoutError(f"the FCM server saw {len(self.received)} messages")

    def sent_to(self, token: str) -> list[Received]:
        with self._changed:
            return [r for r in self.received if r.token == token and r.answered == "ok"]

    # -- the server ----------------------------------------------------------------------
    def app(self) -> ASGIApp:
        """FCM's send endpoint answered straight in ASGI (the benchmarks' hot path: a
        framework's routing and response objects would cost more than the rest of a request
        here), everything else by Litestar."""
        rest = self.controls()
        fake = self
        prefix, suffix = "/v1/projects/", "/messages:send"

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            path = scope.get("path", "")
            if (
                scope["type"] != "http"
                or scope["method"] != "POST"
                or not path.startswith(prefix)
                or not path.endswith(suffix)
            ):
                await rest(scope, receive, send)  # type: ignore[arg-type]
                return
            chunks: list[bytes] = []
            while True:
                event = await receive()
                chunks.append(event.get("body", b""))
                if not event.get("more_body"):
                    break
            auth = b""
            for name, value in scope["headers"]:
                if name == b"authorization":
                    auth = value
            client = scope.get("client")
            status, body, headers = fake.accept(
                path[len(prefix) : -len(suffix)],
                auth.decode("latin-1"),
                b"".join(chunks),
                str(scope.get("http_version", "")),
                f"{client[0]}:{client[1]}" if client else "",
            )
            # Received first, answered later: a sender can die between the two.
            if fake.latency:
                await asyncio.sleep(fake.latency)
            await send(
                {
                    "type": "http.response.start",
                    "status": status,
                    "headers": [(b"content-type", b"application/json"), *headers],
                }
            )
            await send({"type": "http.response.body", "body": msgspec.json.encode(body)})

        return app

    def accept(self, project: str, auth: str, raw: bytes, version: str, connection: str) -> Answer:
        """One FCM send received and recorded: (status, body, extra headers) to answer."""
        if not auth.startswith("Bearer ") or auth[7:] not in self._issued:
            return _error(401, "UNAUTHENTICATED", "Request had invalid credentials.", None)
        body = msgspec.json.decode(raw)
        message = body.get("message") or {}
        target = str(message.get("token", ""))
        with self._changed:
            rule = self._take_rule(target)
            answered = rule.error if rule else "ok"
            self.received.append(
                Received(project, target, message, answered, time.time(), version, connection)
            )
            self._changed.notify_all()
        if rule is not None:
            return self._rule_error(rule)
        return 200, {"name": f"projects/{project}/messages/{next(self._ids)}"}, []

    def controls(self) -> Litestar:
        fake = self

        @post("/token", media_type=MediaType.JSON, status_code=200)
        async def token(request: Request[Any, Any, Any]) -> dict[str, Any]:
            form = await request.form()
            if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
                return {"error": "unsupported_grant_type"}
            issued = f"fake-access-{next(fake._ids)}"
            with fake._changed:
                fake._issued.add(issued)
                fake.tokens_issued += 1
            return {"access_token": issued, "expires_in": 3600, "token_type": "Bearer"}

        @post("/control/answers")
        async def control_answer(data: JSONBody[Rule]) -> None:
            fake.answer(data)

        @post("/control/reset")
        async def control_reset() -> None:
            fake.reset()

        @post("/control/latency")
        async def control_latency(data: JSONBody[dict[str, float]]) -> None:
            fake.latency = float(data.get("seconds", 0.0))

        @get("/control/received")
        async def control_received() -> list[Received]:
            with fake._changed:
                return list(fake.received)

        @get("/control/protocols")
        async def control_protocols() -> dict[str, int]:
            """How many messages came over each HTTP version, and on how many connections."""
            with fake._changed:
                counts: dict[str, int] = {}
                for r in fake.received:
                    counts[r.protocol] = counts.get(r.protocol, 0) + 1
                counts["connections"] = len({r.connection for r in fake.received})
                return counts

        @get("/control/arrivals")
        async def control_arrivals() -> list[float]:
            """When each message arrived (a benchmark's 100,000 messages are too many to
            fetch whole)."""
            with fake._changed:
                return [r.at for r in fake.received]

        return Litestar(
            [
                token,
                control_answer,
                control_reset,
                control_latency,
                control_received,
                control_protocols,
                control_arrivals,
            ]
        )

    def _take_rule(self, token: str) -> Rule | None:
        for rule in self.rules:
            if rule.times != 0 and rule.token in (None, token):
                if rule.times > 0:
                    rule.times -= 1
                return rule
        return None

    def _rule_error(self, rule: Rule) -> tuple[int, dict[str, Any], list[tuple[bytes, bytes]]]:
        status, canonical, text = ERRORS[rule.error]
        violations = None
        if rule.error == "INVALID_ARGUMENT":
            if rule.about_token:
                text = "The registration token is not a valid FCM registration token"
                violations = "message.token"
            else:
                text = "Invalid value at 'message.android.ttl'"
                violations = "message.android.ttl"
        status, body, headers = _error(status, canonical, text, rule.error, violations)
        if rule.retry_after is not None:
            headers.append((b"retry-after", rule.retry_after.encode()))
        return status, body, headers

    async def serve(self, plain: socket.socket, secure: socket.socket) -> None:
        """Serve until ``stop``: plain HTTP/1.1 (uvicorn) on one socket, FCM's HTTP/2 over
        TLS on the other."""
        loop = asyncio.get_running_loop()
        h2 = await loop.create_server(
            lambda: FcmH2(
                lambda *a: self.accept(a[0], a[1], a[2], "2", a[3]), lambda: self.latency
            ),
            sock=secure,
            ssl=tls(self._cert, self._key),
        )
        config = uvicorn.Config(
            self.app(), log_config=None, lifespan="off", access_log=False, log_level="warning"
        )
        self._server = uvicorn.Server(config)
        try:
            await self._server.serve(sockets=[plain])
        finally:
            h2.close()

    def start(self) -> FakeFcm:
        """Serve on free loopback ports from a thread of its own (google-auth fetches tokens
        synchronously, so it must not share the caller's event loop)."""
        plain, secure = listening(0), listening(0)
        self.port, self.tls_port = plain.getsockname()[1], secure.getsockname()[1]
        self._thread = threading.Thread(
            target=lambda: fast_loop(self.serve(plain, secure)), daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 30
        while self._server is None or not self._server.started:  # no event to wait on
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the fake FCM server did not start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(30)
        if self._own_certs:
            shutil.rmtree(self.certs, ignore_errors=True)


def fast_loop(main: Coroutine[Any, Any, None]) -> None:
    """Run on libuv's loop where uvloop is installed, as the nodes do."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
    else:
        uvloop.run(main)


def listening(port: int) -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(1024)
    return sock


def certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A throwaway certificate authority and the server's certificate for 127.0.0.1 and
    localhost signed by it: (the authority's certificate, to trust; the server's certificate;
    its key)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.UTC)

    def name(common: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("Fake FCM test authority"))
        .issuer_name(name("Fake FCM test authority"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name("127.0.0.1"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    paths = directory / "ca.pem", directory / "server.pem", directory / "server-key.pem"
    paths[0].write_bytes(ca.public_bytes(pem))
    paths[1].write_bytes(cert.public_bytes(pem))
    paths[2].write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return paths


def _error(
    status: int,
    canonical: str,
    message: str,
    fcm_code: str | None,
    field: str | None = None,
) -> tuple[int, dict[str, Any], list[tuple[bytes, bytes]]]:
    details: list[dict[str, Any]] = []
    if field is not None:
        details.append(
            {
                "@type": "type.googleapis.com/google.rpc.BadRequest",
                "fieldViolations": [{"field": field, "description": message}],
            }
        )
    if fcm_code is not None:
        details.append(
            {"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": fcm_code}
        )
    body = {"error": {"code": status, "message": message, "status": canonical, "details": details}}
    return status, body, []


def service_account(path: Path, token_uri: str, project: str = "twofold-test") -> Path:
    """A service-account file whose token endpoint is ``token_uri``, with a fresh key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": project,
                "private_key_id": "fake-key",
                "private_key": pem,
                "client_email": f"twofold@{project}.iam.gserviceaccount.com",
                "client_id": "1",
                "token_uri": token_uri,
            }
        )
    )
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8765, help="plain HTTP/1.1 (and controls)")
    parser.add_argument("--tls-port", type=int, default=8766, help="TLS, HTTP/2 by ALPN")
    parser.add_argument(
        "--certs", type=Path, required=True, help="directory for ca.pem and the server's pair"
    )
    args = parser.parse_args()
    args.certs.mkdir(parents=True, exist_ok=True)
    fake = FakeFcm(certs=args.certs)
    fast_loop(fake.serve(listening(args.port), listening(args.tls_port)))


if __name__ == "__main__":
    main()
