"""Configuration, read from the environment once, when the app is created.

What a value is checked against is declared here too, so that every part may read its
settings and none is read by them: what an origin is (``parse_origin``), the password hashings
by name (``HASHING``) and how many frames a socket may have waiting (``QUEUE_FRAMES``).
"""

from __future__ import annotations

import ipaddress
import logging
import os
import secrets
from collections.abc import Callable, Iterable, Mapping
from email.utils import parseaddr
from pathlib import Path
from typing import TypeVar
from urllib.parse import unquote, urlsplit

import argon2
import msgspec
from argon2.profiles import RFC_9106_LOW_MEMORY

from push.transport import credentials_path

log = logging.getLogger("twofold.settings")
T = TypeVar("T", int, float)
DEFAULT_MAIL_FROM = "Twofold <no-reply@localhost>"

# The web app as `make run` builds it (cd web && npm run build), served at / when present.
REPO_WEB_DIST = Path(__file__).resolve().parents[2] / "web" / "dist"
LOG_FORMATS = ("json", "plain")

# RFC 7518 3.2: an HS256 key is at least as long as its hash; a shorter one can be guessed
# offline from any single token, and whoever guesses it signs tokens for anyone.
MIN_SECRET_BYTES = 32

# Frames a socket may have waiting. A live couple makes a few events a minute; a socket this far
# behind is not reading, and holding more for it would only grow our memory.
QUEUE_FRAMES = 256

# How passwords are hashed, by the name TWOFOLD_PASSWORD_HASHING gives: argon2id either way.
# Stored hashes carry their own parameters, so changing this keeps every account signing in;
# a sign-in makes an outdated hash again (server/accounts/account.py).
HASHING = {
    # RFC 9106 4, the second recommended option (the first needs 2 GiB per password).
    "rfc9106": RFC_9106_LOW_MEMORY,
    # OWASP's password storage cheat sheet, its first listed minimum (the test suite's).
    "owasp": argon2.Parameters(
        type=argon2.Type.ID,
        version=19,
        salt_len=16,
        hash_len=32,
        time_cost=2,
        memory_cost=19 * 1024,
        parallelism=1,
    ),
}


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    database_url: str | None = None
    # Where the node LISTENs for other nodes' commits, when not at database_url: LISTEN needs
    # a session of its own, which a pooler in transaction mode (PgBouncer) does not keep.
    listen_url: str | None = None
    # A node whose listener has not connected within this long does not start (serving
    # without it would miss other nodes' commits); tests shorten it.
    listener_wait_seconds: float = 30.0
    host: str = "127.0.0.1"
    port: int = 8000
    # Prometheus' own address, never the API's port: the balancer exposes the API to anyone.
    # Port 0 takes a free one (tests; the bound URL is the services' metrics_url).
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 9108
    secret_key: str
    log_level: str = "INFO"
    # "json" or "plain" lines; None: plain on a terminal, JSON otherwise.
    log_format: str | None = None
    data_dir: Path = Path(".twofold")
    access_token_seconds: int = 15 * 60
    pool_max_size: int = 20
    # The socket protocol's clocks and bounds; tests shorten them.
    hello_seconds: float = 10.0
    socket_queue_frames: int = QUEUE_FRAMES
    ws_ping_seconds: float = 20.0
    # Ops per person and node: a burst, then a steady rate.
    op_burst: int = 40
    op_rate: float = 2.0
    # The edges anyone may knock on without a token, per client address and node: sign-up,
    # sign-in, sign-in codes and password resets (each its own budget) a burst, then so many
    # a minute; refreshes likewise; sockets that have not said hello yet, at most so many at once.
    # Flood limits, set well above what a household or a carrier's shared address sends:
    # guessing is held back by the per-client and per-email counts of failed passwords.
    auth_burst: int = 120
    auth_per_minute: float = 60.0
    refresh_burst: int = 300
    refresh_per_minute: float = 300.0
    unauthenticated_sockets: int = 50
    # Peers whose X-Forwarded-For is believed (addresses or networks): the balancers.
    trusted_proxies: tuple[str, ...] = ()
    # Passwords hashed or checked at once on this node, and how many more may wait for a
    # turn; beyond that a sign-in is answered `unavailable` at once.
    hashing_slots: int = 2
    hashing_queue: int = 4
    # argon2id's parameters by name (HASHING): RFC 9106's or OWASP's minimum.
    password_hashing: str = "rfc9106"
    # Due work: how often each node looks for it (an alert wakes it at once anyway).
    due_tick_seconds: float = 1.0
    # Processes doing due work on this node, itself included: the others share the due rows
    # with it through SKIP LOCKED (server/due/senders.py). from_env's default is every usable
    # core when FCM is configured (sending is CPU-bound), else 1 (the outbox is a table).
    send_workers: int = 1
    # FCM: a service-account file; without one, notifications go to the outbox.
    firebase_credentials: str | None = None
    # Where FCM is (tests and benchmarks point it at the local FCM-compatible server).
    fcm_endpoint: str | None = None
    # An authority trusted for FCM's endpoint beside the usual ones (the local server's own).
    fcm_ca_file: str | None = None
    # Mail (password resets): an SMTP server as smtp://user:pass@host:587 (or smtps:// for TLS
    # from the start); without one, mail is recorded for `python -m server outbox`.
    smtp_url: str | None = None
    mail_from: str = DEFAULT_MAIL_FROM
    # The built web app, served at / (None: the API alone), and why it is not, if it is not.
    web_dir: Path | None = None
    web_note: str | None = None
    # The exact origins (scheme://host[:port]) of web pages elsewhere that may use the API
    # and open sockets: CORS, and the socket's Origin check (server/http/origins.py). Never "*".
    cors_origins: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        data_dir = Path(env.get("TWOFOLD_DATA_DIR") or ".twofold")
        port = env.get("TWOFOLD_PORT") or "8000"
        if not port.isdigit() or not 0 <= int(port) <= 65535:
            raise SystemExit(f"TWOFOLD_PORT must be a port number, not {port!r}")
        level = (env.get("TWOFOLD_LOG_LEVEL") or "INFO").upper()
        if level not in logging.getLevelNamesMapping():
            raise SystemExit(f"TWOFOLD_LOG_LEVEL must be a logging level, not {level!r}")
        metrics_host, metrics_port = address(
            "TWOFOLD_METRICS_ADDR", env.get("TWOFOLD_METRICS_ADDR") or "127.0.0.1:9108"
        )
        log_format = (env.get("TWOFOLD_LOG_FORMAT") or "").lower() or None
        if log_format is not None and log_format not in LOG_FORMATS:
            raise SystemExit(f"TWOFOLD_LOG_FORMAT must be json or plain, not {log_format!r}")
        web_dir, web_note = _web_dir(env)
        configured = env.get("TWOFOLD_SECRET_KEY")
        secret_key = configured or development_secret(data_dir)
        if problem := weak_secret(secret_key):
            where = "TWOFOLD_SECRET_KEY" if configured else f"The key in {data_dir / 'secret_key'}"
            raise SystemExit(f"{where} {problem}")
        return cls(
            database_url=env.get("DATABASE_URL") or None,
            listen_url=env.get("TWOFOLD_LISTEN_URL") or None,
            host=env.get("TWOFOLD_HOST") or "127.0.0.1",
            port=int(port),
            metrics_host=metrics_host,
            metrics_port=metrics_port,
            secret_key=secret_key,
            log_level=level,
            log_format=log_format,
            data_dir=data_dir,
            op_burst=_number(env, "TWOFOLD_OP_BURST", 40, int),
            op_rate=_number(env, "TWOFOLD_OP_RATE", 2.0, float),
            auth_burst=_number(env, "TWOFOLD_AUTH_BURST", 120, int),
            auth_per_minute=_number(env, "TWOFOLD_AUTH_PER_MINUTE", 60.0, float),
            refresh_burst=_number(env, "TWOFOLD_REFRESH_BURST", 300, int),
            refresh_per_minute=_number(env, "TWOFOLD_REFRESH_PER_MINUTE", 300.0, float),
            unauthenticated_sockets=_number(env, "TWOFOLD_UNAUTHENTICATED_SOCKETS", 50, int),
            trusted_proxies=_networks(env, "TWOFOLD_TRUSTED_PROXIES"),
            hashing_slots=_number(env, "TWOFOLD_HASHING_SLOTS", 2, int),
            hashing_queue=_number(env, "TWOFOLD_HASHING_QUEUE", 4, int),
            password_hashing=_password_hashing(env),
            firebase_credentials=credentials_path(env),
            fcm_endpoint=env.get("TWOFOLD_FCM_ENDPOINT") or None,
            fcm_ca_file=env.get("TWOFOLD_FCM_CA_FILE") or None,
            send_workers=_number(
                env, "TWOFOLD_SEND_WORKERS", usable_cores() if credentials_path(env) else 1, int
            ),
            smtp_url=_smtp_url(env),
            mail_from=_mail_from(env),
            web_dir=web_dir,
            web_note=web_note,
            cors_origins=_origins(env),
        )


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _number(env: Mapping[str, str], name: str, default: T, kind: Callable[[str], T]) -> T:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a number, not {raw!r}") from None
    if not value > 0:
        raise SystemExit(f"{name} must be above zero, not {raw!r}")
    return value


def _password_hashing(env: Mapping[str, str]) -> str:
    raw = env.get("TWOFOLD_PASSWORD_HASHING") or "rfc9106"
    if raw not in HASHING:
        raise SystemExit(
            f"TWOFOLD_PASSWORD_HASHING must be one of {', '.join(HASHING)}, not {raw!r}"
        )
    return raw


def _web_dir(env: Mapping[str, str]) -> tuple[Path | None, str | None]:
    """Where the built web app is (None: not served) and, if nowhere, why. TWOFOLD_WEB_DIR
    names it; else `make run` may say why it could not build one (TWOFOLD_WEB_NOT_SERVED);
    else it is this checkout's web/dist when that was built."""
    if raw := env.get("TWOFOLD_WEB_DIR"):
        path = Path(raw).resolve()
        if not (path / "index.html").is_file():
            raise SystemExit(
                f"TWOFOLD_WEB_DIR must be a directory holding a built web app (its index.html), "
                f"not {raw!r}"
            )
        return path, None
    if reason := env.get("TWOFOLD_WEB_NOT_SERVED"):
        return None, reason
    if (REPO_WEB_DIST / "index.html").is_file():
        return REPO_WEB_DIST, None
    if not REPO_WEB_DIST.parent.is_dir():
        return None, "no web/ in this checkout"
    return None, "web/dist not built: run `npm ci && npm run build` in web/, or `make run`"


def _origins(env: Mapping[str, str]) -> tuple[str, ...]:
    raw = env.get("TWOFOLD_CORS_ORIGINS") or ""
    try:
        return parse_allow_list(item for item in raw.split(",") if item.strip())
    except ValueError as exc:
        raise SystemExit(
            f"TWOFOLD_CORS_ORIGINS lists the exact origins allowed, comma-separated "
            f"(https://app.example.org,http://localhost:5173): {exc}"
        ) from None


# The web's schemes, each with the port an origin leaves unwritten.
DEFAULT_PORTS = {"http": 80, "https": 443}


def parse_origin(text: str) -> str:
    """An origin as browsers send it in ``Origin`` (``https://app.example.org``,
    ``http://localhost:5173``): lower-case scheme and host, the default port left out.
    Raises ``ValueError`` saying what is wrong with anything else."""
    raw = text.strip()
    if "*" in raw:
        raise ValueError("no wildcards (`*` would let any web page use the API); list each origin")
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        raise ValueError("its port is not a number from 0 to 65535") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise ValueError("an origin is http:// or https:// followed by a host")
    host = parts.hostname
    if not host or parts.username is not None or parts.password is not None:
        raise ValueError("an origin is scheme://host[:port], with a host and nothing else")
    if parts.path or parts.query or parts.fragment or raw.endswith(("?", "#")):
        raise ValueError("an origin has no path, not even a trailing /")
    if not host.isascii():
        raise ValueError("write an internationalised host name as browsers send it (xn--...)")
    if ":" in host:  # an IPv6 literal: keep its brackets
        host = f"[{ipaddress.ip_address(host).compressed}]"
    if port is None or port == DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def parse_allow_list(items: Iterable[str]) -> tuple[str, ...]:
    """The allowed origins, each checked and written as ``parse_origin`` does; raises
    ``ValueError`` naming the first one that is not an origin."""
    origins = []
    for item in items:
        try:
            origins.append(parse_origin(item))
        except ValueError as exc:
            raise ValueError(f"{item.strip()!r} is not an origin: {exc}") from None
    return tuple(dict.fromkeys(origins))


# Where mail goes (TWOFOLD_SMTP_URL), as the mail sender connects to it.
class SmtpServer(msgspec.Struct, frozen=True):
    hostname: str
    port: int
    username: str | None
    password: str | None
    tls: bool  # TLS from the first byte (smtps://); otherwise STARTTLS when offered

    @classmethod
    def parse(cls, url: str) -> SmtpServer:
        """``smtp://user:pass@host:587`` (user and password percent-encoded) or ``smtps://``."""
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise ValueError("write it as smtp://user:pass@host:587 (or smtps://...)")
        if not parts.hostname:
            raise ValueError("it names no host")
        try:
            port = parts.port
        except ValueError:
            raise ValueError("its port is not a port number") from None
        tls = parts.scheme == "smtps"
        return cls(
            hostname=parts.hostname,
            port=port or (465 if tls else 587),
            username=None if parts.username is None else unquote(parts.username),
            password=None if parts.password is None else unquote(parts.password),
            tls=tls,
        )


def _smtp_url(env: Mapping[str, str]) -> str | None:
    raw = env.get("TWOFOLD_SMTP_URL") or None
    if raw is not None:
        try:
            SmtpServer.parse(raw)
        except ValueError as exc:
            raise SystemExit(f"TWOFOLD_SMTP_URL: {exc}") from None
    return raw


def _mail_from(env: Mapping[str, str]) -> str:
    raw = env.get("TWOFOLD_MAIL_FROM") or DEFAULT_MAIL_FROM
    if "@" not in parseaddr(raw)[1]:
        raise SystemExit(f"TWOFOLD_MAIL_FROM must be an address, not {raw!r}")
    return raw


def address(name: str, raw: str) -> tuple[str, int]:
    """``host:port`` (``[::1]:9108`` for IPv6) as a host and a port number."""
    host, sep, port = raw.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise SystemExit(f"{name} must be host:port (e.g. 127.0.0.1:9108), not {raw!r}")
    return host, int(port)


def weak_secret(key: str) -> str | None:
    """Why ``key`` cannot sign tokens, or None if it can."""
    size = len(key.encode())
    if size < MIN_SECRET_BYTES:
        return (
            f"is {size} bytes; it must be at least {MIN_SECRET_BYTES} (make one with "
            "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`)"
        )
    return None


def _networks(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """A comma-separated list of addresses or networks (``127.0.0.1,10.0.0.0/8``)."""
    items = tuple(item.strip() for item in (env.get(name) or "").split(",") if item.strip())
    for item in items:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise SystemExit(f"{name} must list addresses or networks, not {item!r}") from None
    return items


def development_secret(data_dir: Path) -> str:
    """The signing key when none is configured: made once per data directory and kept there,
    so tokens survive a restart and no two checkouts share a key."""
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key)
    log.warning("TWOFOLD_SECRET_KEY is unset; generated a development key in %s", path)
    return key
