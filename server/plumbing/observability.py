"""Logs (one line per request: JSON lines for machines, plain lines on a terminal) and
Prometheus metrics on their own address. The request line itself is written, and counted, by
the app's outermost layer (``server.http.observed``).

Logs carry the route's template, never its concrete path or any body, so no password, token,
invite code or anything a partner wrote can reach them. Metrics labels come from small fixed
sets (route templates, the standard methods, statuses), so no request can add a series.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import sys
import threading
import time
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

import msgspec
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, make_wsgi_app
from prometheus_client.exposition import ThreadingWSGIServer

_LOG_FIELDS = ("method", "route", "status", "ms", "node")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "at": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for name in _LOG_FIELDS:
            if hasattr(record, name):
                line[name] = getattr(record, name)
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return msgspec.json.encode(line).decode()


class PlainFormatter(logging.Formatter):
    """One readable line: local time, level, logger, message, and a request's fields
    (``12:03:07.412 INFO  twofold.request GET /v1/couple/state 200 3.1 ms``)."""

    def format(self, record: logging.LogRecord) -> str:
        at = time.strftime("%H:%M:%S", time.localtime(record.created))
        message = record.getMessage()
        if hasattr(record, "route"):
            fields = (getattr(record, "method", ""), record.route, getattr(record, "status", ""))
            message = " ".join(str(f) for f in fields) + f" {getattr(record, 'ms', '?')} ms"
        line = f"{at}.{int(record.msecs):03d} {record.levelname:<7} {record.name} {message}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def log_format(asked: str | None, terminal: bool) -> str:
    """``json`` or ``plain``: as asked (TWOFOLD_LOG_FORMAT), else plain for a person at a
    terminal and JSON lines for whatever collects the logs."""
    if asked is not None:
        return asked
    return "plain" if terminal else "json"


def configure_logging(level: str, asked_format: str | None = None) -> None:
    handler = logging.StreamHandler(sys.stderr)
    plain = log_format(asked_format, sys.stderr.isatty()) == "plain"
    handler.setFormatter(PlainFormatter() if plain else JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # uvicorn's own access log would print concrete paths; ours prints route templates.
    logging.getLogger("uvicorn.access").disabled = True
    # pgserver narrates every step of starting the embedded server at INFO.
    logging.getLogger("pgserver").setLevel(logging.WARNING)


class Metrics:
    """One registry per app, so that several apps in one process (tests) do not collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "twofold_http_requests",
            "HTTP requests answered, by route template and status.",
            ("method", "route", "status"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "twofold_http_request_duration_seconds",
            "Time from request to the start of the response.",
            ("method", "route"),
            registry=self.registry,
            buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        self.sockets_open = Gauge(
            "twofold_sockets_open",
            "Authenticated /v1/sync sockets on this node.",
            registry=self.registry,
        )
        self.ops = Counter(
            "twofold_ops",
            "Ops handled, by kind and outcome (applied, repeated, or the problem code).",
            ("kind", "outcome"),
            registry=self.registry,
        )
        self.events_fanned_out = Counter(
            "twofold_events_fanned_out",
            "Event frames queued to sockets on this node.",
            registry=self.registry,
        )
        # Due work is counted for the node as a whole: its own scheduler's batches and those
        # its sending processes report (see count_due).
        self.due_items = Counter(
            "twofold_due_items",
            "Due rows taken by this node's scheduler and its sending processes: handled, late "
            "(skipped, recorded), or left for the next tick (their couple was busy).",
            ("result",),
            registry=self.registry,
        )
        self.couple_erasures = Counter(
            "twofold_couple_erasures",
            "Former couples erased by this node and its sending processes, 30 days after their "
            "unlinking.",
            registry=self.registry,
        )
        self.records_swept = Counter(
            "twofold_records_swept",
            "Records deleted by this node's sweeps because they were kept long enough, by kind.",
            ("kind",),
            registry=self.registry,
        )
        self.notifications = Counter(
            "twofold_notifications",
            "Notifications decided on by this node and its sending processes, by kind and outcome.",
            ("kind", "outcome"),
            registry=self.registry,
        )
        self.mails = Counter(
            "twofold_mails",
            "Mails tried by this node, by kind and outcome (sent, recorded, retrying, failed, "
            "expired).",
            ("kind", "outcome"),
            registry=self.registry,
        )
        self.fanout_lag = Histogram(
            "twofold_fanout_lag_seconds",
            "From an event's commit to its frame being written to a socket.",
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )

    def count_due(self, counts: DueCounts) -> None:
        """A batch of due work done here or by one of this node's sending processes."""
        self.due_items.labels("handled").inc(counts.handled)
        self.due_items.labels("late").inc(counts.late)
        self.due_items.labels("left").inc(counts.left)
        self.couple_erasures.inc(counts.erased)
        for kind, outcome, n in counts.notifications:
            self.notifications.labels(kind, outcome).inc(n)


class DueCounts(msgspec.Struct, frozen=True, kw_only=True):
    """What a batch of due rows came to on ``/metrics``; also what a sending process tells
    its node, a JSON line a batch (server/due/senders.py)."""

    handled: int  # done on time
    late: int  # found past their grace: skipped, recorded as missed
    left: int  # their couple was busy: due again next tick
    erased: int  # former couples
    notifications: list[tuple[str, str, int]]  # (kind, outcome, how many)


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes are not requests to log."""


class MetricsServer:
    """A node's registry served as Prometheus text on its own address, in a thread of its own
    (prometheus_client's server), so nothing public reaches it and a slow scrape never holds
    the event loop."""

    def __init__(self, registry: CollectorRegistry, host: str, port: int) -> None:
        class Server(ThreadingWSGIServer):
            address_family = socket.AF_INET6 if ":" in host else socket.AF_INET

        try:
            self._httpd = make_server(host, port, make_wsgi_app(registry), Server, _Quiet)
        except OSError as exc:
            raise RuntimeError(f"Cannot serve metrics on {host}:{port} ({exc.strerror})") from exc
        bound = self._httpd.server_address[1]
        shown = f"[{host}]" if ":" in host else host
        self.url = f"http://{shown}:{bound}/metrics"
        # A short poll, so that a node (a test's, many times a run) stops at once.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    async def close(self) -> None:
        await asyncio.to_thread(self._httpd.shutdown)
        self._httpd.server_close()
        # Gone when this returns: a node that stops leaves no thread behind it.
        await asyncio.to_thread(self._thread.join)
