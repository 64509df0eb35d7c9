"""The built web app (``web/dist``, or ``TWOFOLD_WEB_DIR``) served at ``/``, in front of the API.

Vite writes ``index.html`` and, under ``assets/``, files whose names carry a hash of their
content: an asset never changes under its name, so browsers keep it for a year without
asking; ``index.html`` (and anything else) is asked about every time (``no-cache``, answered
304 when unchanged), so a new build is picked up at the next load. A path that is no file and
looks like a page (no extension, outside ``assets/``) is one of the app's own routes
(``/reading/2026-11-30``): it gets ``index.html``, so a reload there works. Everything under
the API's paths (``/v1``, ``/schema``, ``/healthz``...) and every other miss is the API's to
answer (a problem+json 404), and so is any path that tries to leave the directory.
"""

from __future__ import annotations

import asyncio
import mimetypes
import os
from collections.abc import Awaitable
from dataclasses import dataclass
from pathlib import Path

from litestar import Litestar
from litestar.enums import ScopeType
from litestar.types import ASGIApp, HTTPScope, Receive, Scope, Send

from server.http import raw_headers

INDEX = "index.html"
ASSETS = "assets"
IMMUTABLE = "public, max-age=31536000, immutable"
NO_CACHE = "no-cache"
# Answers carry X-Content-Type-Options: nosniff, under which a browser runs a script or applies
# a style sheet only when its type says so: the app's own types are fixed here, not left to
# whatever mime.types the machine has.
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".webmanifest": "application/manifest+json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".txt": "text/plain; charset=utf-8",
    ".wasm": "application/wasm",
}
# Paths the web app never answers, whatever its routes: /metrics is not served on this port
# but must not look like a page either.
ALWAYS_API = ("/metrics",)


@dataclass(frozen=True)
class Found:
    path: Path
    cache_control: str


def api_prefixes(app: Litestar) -> tuple[str, ...]:
    """The first segment of every route the API has (``/v1``, ``/schema``, ``/healthz``...):
    every path under one of them is the API's, found or not."""
    firsts = {"/" + route.path.lstrip("/").split("/", 1)[0] for route in app.routes}
    return tuple(sorted(firsts - {"/"})) + ALWAYS_API


def is_api(path: str, prefixes: tuple[str, ...]) -> bool:
    return any(path == p or path.startswith(p + "/") for p in prefixes)


def locate(root: Path, path: str) -> Found | None:
    """The file answering ``path`` under ``root`` (resolved), with its caching, or None when
    the web app has nothing to say (the API answers: 404). Reads the file system (stat)."""
    segments = path.split("/")[1:]
    # A last segment with an extension names a file; anything else may be one of the app's pages.
    page = "." not in segments[-1]
    if segments[-1] == "":
        segments[-1] = INDEX  # a directory: its index
    for segment in segments:
        # "", "." and ".." (also sent percent-encoded), hidden files, and what Windows reads
        # as a separator: nothing a built app needs, and every way out of the directory.
        if not segment or segment.startswith(".") or "\\" in segment or "\x00" in segment:
            return None
    under_assets = len(segments) > 1 and segments[0] == ASSETS
    candidate = root.joinpath(*segments)
    if candidate.is_dir():
        candidate = candidate / INDEX
    resolved = candidate.resolve()
    # A link inside the directory may point anywhere: only files within it are served.
    if resolved.is_relative_to(root) and resolved.is_file():
        return Found(resolved, IMMUTABLE if under_assets else NO_CACHE)
    if under_assets or not page:
        return None  # a missing file, not a page: HTML in its place would only confuse
    return Found(root / INDEX, NO_CACHE)


def content_type(path: Path) -> str:
    known = TYPES.get(path.suffix.lower())
    if known is not None:
        return known
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or "application/octet-stream"


def etag_of(stat: os.stat_result) -> str:
    return f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'


def unchanged(if_none_match: str | None, etag: str) -> bool:
    """Whether ``If-None-Match`` names this version (weak or strong, RFC 9110 13.1.2)."""
    if if_none_match is None:
        return False
    tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in tags or etag in tags


class WebApp:
    """``root`` served at ``/`` for GET and HEAD; the API (``app``) answers everything else."""

    def __init__(self, app: ASGIApp, root: Path, api: tuple[str, ...]) -> None:
        self.app = app
        self.root = root.resolve()
        self.api = api

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        if (
            scope["type"] != ScopeType.HTTP
            or scope["method"] not in ("GET", "HEAD")
            or is_api(scope["path"], self.api)
        ):
            return self.app(scope, receive, send)  # no frame of ours kept for a socket's life
        return self._serve(scope, receive, send)

    async def _serve(self, scope: HTTPScope, receive: Receive, send: Send) -> None:
        found = await asyncio.to_thread(locate, self.root, scope["path"])
        if found is None:
            await self.app(scope, receive, send)
            return
        try:
            stat, body = await asyncio.to_thread(_read, found.path, scope["method"] == "HEAD")
        except FileNotFoundError:  # a build replaced it between the two looks
            await self.app(scope, receive, send)
            return
        scope["path_template"] = "web_app"  # its label in the logs and metrics
        etag = etag_of(stat)
        headers = [
            (b"cache-control", found.cache_control.encode()),
            (b"etag", etag.encode()),
        ]
        if unchanged(raw_headers.first(scope, b"if-none-match"), etag):
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        headers += [
            (b"content-type", content_type(found.path).encode()),
            (b"content-length", str(stat.st_size).encode()),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})


def _read(path: Path, head: bool) -> tuple[os.stat_result, bytes]:
    with path.open("rb") as f:
        stat = os.fstat(f.fileno())
        return stat, b"" if head else f.read()
