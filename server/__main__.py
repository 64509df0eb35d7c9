"""``python -m server`` (or ``twofold``): serve the API, apply migrations, or list the
notifications and mails recorded (the outbox)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from typing import Any

import msgspec

from server.plumbing.settings import Settings

log = logging.getLogger("twofold")


def _database(settings: Settings) -> tuple[Settings, Any, str]:
    """Settings with a database URL: the configured one, or the embedded server's."""
    from server.plumbing.embedded import describe, start_embedded

    if settings.database_url:
        return settings, None, f"DATABASE_URL {describe(settings.database_url)}"
    url, handle = start_embedded(settings.data_dir)
    where = f"embedded PostgreSQL in {settings.data_dir / 'pgdata'} ({describe(url)})"
    return msgspec.structs.replace(settings, database_url=url), handle, where


def migrate(settings: Settings) -> int:
    from server.plumbing import db

    settings, _handle, where = _database(settings)
    assert settings.database_url is not None
    url = settings.database_url

    async def run() -> list[str]:
        pool = await db.create_pool(url, max_size=1)
        try:
            async with pool.acquire() as conn:
                return await db.migrate(conn)
        finally:
            await pool.close()

    ran = asyncio.run(run())
    print(f"database: {where}")
    print(f"applied: {', '.join(ran) if ran else 'nothing, already current'}")
    return 0


def outbox(settings: Settings) -> int:
    """Every notification recorded (sent through FCM, or kept by the outbox), oldest first,
    then every mail (``to``, ``subject``, ``text``: null once an SMTP server took it), one
    JSON object per line."""
    from server.due_rows import store as due_q
    from server.mail import mails_sql as mails_q
    from server.plumbing import db

    settings, _handle, _where = _database(settings)
    assert settings.database_url is not None
    url = settings.database_url

    async def run() -> None:
        pool = await db.create_pool(url, max_size=1)
        try:
            async with pool.acquire() as conn:
                await db.migrate(conn)
                for row in await due_q.outbox(conn):
                    line = dict(row)
                    line["data"] = msgspec.json.decode(row["data"])
                    sys.stdout.write(msgspec.json.encode(line).decode() + "\n")
                for row in await mails_q.outbox(conn):
                    sys.stdout.write(msgspec.json.encode(dict(row)).decode() + "\n")
        finally:
            await pool.close()

    asyncio.run(run())
    return 0


def serve(settings: Settings) -> int:
    import uvicorn

    from server.plumbing import collector
    from server.serving import engines, uvicorn_config

    # uvicorn re-raises SIGTERM after its graceful shutdown; as SystemExit it unwinds normally,
    # so the embedded PostgreSQL is stopped at exit instead of outliving us.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    settings, _handle, where = _database(settings)
    base = f"http://{settings.host}:{settings.port}"
    print(f"Twofold listening on {base}", flush=True)
    print(f"database: {where}", flush=True)
    print(f"API docs: {base}/schema/swagger (OpenAPI JSON at {base}/schema)", flush=True)
    host = settings.metrics_host
    shown = f"[{host}]" if ":" in host else host
    if settings.metrics_port:
        metrics = f"http://{shown}:{settings.metrics_port}/metrics"
    else:  # a free port, known once bound: the "metrics on" log line names it
        metrics = f"a free port on {shown}, logged once bound"
    print(f"metrics: {metrics} (Prometheus; never on the API's port)", flush=True)
    print(_app_line(settings), flush=True)
    if settings.cors_origins:
        print(f"CORS and sockets also for: {', '.join(settings.cors_origins)}", flush=True)
    loop, http = engines()
    print(f"loop: {loop}, http: {http}", flush=True)
    config = uvicorn_config(settings)  # the app is built: every module is imported
    collector.settle()
    uvicorn.Server(config).run()
    return 0


def _app_line(settings: Settings) -> str:
    """Where to open the web app, or why it is not served."""
    if settings.web_dir is None:
        return f"app: not served ({settings.web_note or 'no TWOFOLD_WEB_DIR'})"
    # Listening on every address: the browser on this machine reaches it on loopback.
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(settings.host, settings.host)
    shown = f"[{host}]" if ":" in host else host
    return f"app: http://{shown}:{settings.port}/ (from {settings.web_dir})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="twofold",
        description="The Twofold server. Configured by environment variables (see README).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "serve", help="apply migrations and serve the API (embedded PostgreSQL if no DATABASE_URL)"
    )
    commands.add_parser("migrate", help="apply pending database migrations and exit")
    commands.add_parser(
        "outbox", help="list every notification and mail recorded, one JSON object per line"
    )
    args = parser.parse_args(argv)

    from server.plumbing.observability import configure_logging

    settings = Settings.from_env()
    configure_logging(settings.log_level, settings.log_format)
    match args.command:
        case "serve":
            return serve(settings)
        case "migrate":
            return migrate(settings)
        case "outbox":
            return outbox(settings)
    return 2


if __name__ == "__main__":
    sys.exit(main())
