"""How a node is set up to serve: which origins it accepts, how it writes its logs, where the
web app comes from, and which file answers which path."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import pytest

from server.http.origins import own_origin, socket_may_open
from server.http.web_app import IMMUTABLE, NO_CACHE, Found, is_api, locate, unchanged
from server.plumbing.observability import (
    JsonFormatter,
    PlainFormatter,
    configure_logging,
    log_format,
)
from server.plumbing.settings import Settings, parse_allow_list, parse_origin

APP = "https://app.example.org"


def test_origins_are_written_as_browsers_send_them() -> None:
    """Case, default ports and IPv6 literals are written one way, so that a listed origin
    matches the Origin header a browser sends for it."""
    assert parse_origin("HTTPS://App.Example.org") == APP
    assert parse_origin("https://app.example.org:443") == APP
    assert parse_origin("http://localhost:80") == "http://localhost"
    assert parse_origin("http://localhost:5173") == "http://localhost:5173"
    assert parse_origin("http://[::1]:8000") == "http://[::1]:8000"
    assert parse_allow_list([" https://a.example ", "https://a.example:443"]) == (
        "https://a.example",
    )


@pytest.mark.parametrize(
    "written",
    [
        "*",
        "https://*.example.org",
        "null",
        "app.example.org",
        "ftp://app.example.org",
        "https://app.example.org/",
        "https://app.example.org/app",
        "https://app.example.org?x",
        "https://user@app.example.org",
        "https://app.example.org:99999",
        "https://bücher.example",
        "https://",
    ],
)
def test_anything_but_an_exact_origin_is_refused(written: str) -> None:
    with pytest.raises(ValueError, match=r".+"):
        parse_origin(written)


def test_a_socket_opens_for_no_origin_its_own_and_the_listed() -> None:
    """Phones send no Origin; the server's own page and the listed ones may open sockets."""
    own = own_origin("ws", "127.0.0.1:8000")
    assert own == "http://127.0.0.1:8000"
    assert own_origin("wss", "twofold.example:443") == "https://twofold.example"
    assert own_origin("ws", None) is None
    assert socket_may_open(None, own, ())
    assert socket_may_open("http://127.0.0.1:8000", own, ())
    assert socket_may_open("HTTPS://APP.example.org", own, (APP,))
    assert not socket_may_open("https://127.0.0.1:8000", own, ())  # another scheme
    assert not socket_may_open("http://127.0.0.1:8001", own, ())  # another port
    assert not socket_may_open("https://elsewhere.example", own, (APP,))
    assert not socket_may_open("null", own, (APP,))
    assert not socket_may_open("https://elsewhere.example", None, ())


def test_settings_read_the_origins_and_refuse_a_wildcard(tmp_path: Path) -> None:
    env = {"TWOFOLD_DATA_DIR": str(tmp_path), "TWOFOLD_CORS_ORIGINS": f"{APP}, http://x.test:3000"}
    assert Settings.from_env(env).cors_origins == (APP, "http://x.test:3000")
    assert Settings.from_env({"TWOFOLD_DATA_DIR": str(tmp_path)}).cors_origins == ()
    with pytest.raises(SystemExit, match="no wildcards"):
        Settings.from_env(env | {"TWOFOLD_CORS_ORIGINS": "*"})


def test_the_web_app_comes_from_where_it_is_said(tmp_path: Path) -> None:
    """TWOFOLD_WEB_DIR names a built app (a directory without index.html stops the start);
    `make run` may say why there is none; otherwise the checkout's web/dist, if built."""
    base = {"TWOFOLD_DATA_DIR": str(tmp_path / "data")}
    (tmp_path / "dist").mkdir()
    with pytest.raises(SystemExit, match="TWOFOLD_WEB_DIR must be a directory holding"):
        Settings.from_env(base | {"TWOFOLD_WEB_DIR": str(tmp_path / "dist")})
    (tmp_path / "dist" / "index.html").write_text("<!doctype html>")
    named = Settings.from_env(base | {"TWOFOLD_WEB_DIR": str(tmp_path / "dist")})
    assert named.web_dir == (tmp_path / "dist").resolve()
    assert named.web_note is None
    why = "web/dist not built: Node.js 20 or later not found"
    unbuilt = Settings.from_env(base | {"TWOFOLD_WEB_NOT_SERVED": why})
    assert (unbuilt.web_dir, unbuilt.web_note) == (None, why)
    default = Settings.from_env(base)
    assert (default.web_dir is None) == (default.web_note is not None)


def test_passwords_are_hashed_with_rfc_9106s_parameters_unless_told(tmp_path: Path) -> None:
    base = {"TWOFOLD_DATA_DIR": str(tmp_path)}
    assert Settings.from_env(base).password_hashing == "rfc9106"
    assert Settings.from_env(base | {"TWOFOLD_PASSWORD_HASHING": "owasp"}).password_hashing == (
        "owasp"
    )
    with pytest.raises(SystemExit, match="TWOFOLD_PASSWORD_HASHING must be one of rfc9106, owasp"):
        Settings.from_env(base | {"TWOFOLD_PASSWORD_HASHING": "md5"})


def test_logs_are_plain_on_a_terminal_and_json_lines_otherwise() -> None:
    assert log_format(None, terminal=True) == "plain"
    assert log_format(None, terminal=False) == "json"
    assert log_format("json", terminal=True) == "json"
    assert log_format("plain", terminal=False) == "plain"


def test_log_format_is_read_from_the_environment(tmp_path: Path) -> None:
    base = {"TWOFOLD_DATA_DIR": str(tmp_path)}
    assert Settings.from_env(base).log_format is None
    assert Settings.from_env(base | {"TWOFOLD_LOG_FORMAT": "JSON"}).log_format == "json"
    with pytest.raises(SystemExit, match="TWOFOLD_LOG_FORMAT must be json or plain"):
        Settings.from_env(base | {"TWOFOLD_LOG_FORMAT": "yaml"})


def test_configure_logging_installs_the_chosen_formatter() -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure_logging("INFO", "plain")
        assert isinstance(root.handlers[0].formatter, PlainFormatter)
        configure_logging("INFO", "json")
        assert isinstance(root.handlers[0].formatter, JsonFormatter)
        configure_logging("INFO", None)  # pytest captures stderr: not a terminal
        assert not sys.stderr.isatty()
        assert isinstance(root.handlers[0].formatter, JsonFormatter)
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)


def _record(msg: str, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("twofold.request", logging.INFO, __file__, 1, msg, (), None)
    record.__dict__.update(extra)
    return record


def test_a_request_reads_as_one_plain_line_or_one_json_object() -> None:
    record = _record("request", method="GET", route="/v1/couple/state", status=200, ms=3.1)
    plain = PlainFormatter().format(record)
    assert plain.endswith("INFO    twofold.request GET /v1/couple/state 200 3.1 ms"), plain
    assert "\n" not in plain
    line = json.loads(JsonFormatter().format(record))
    assert line["route"] == "/v1/couple/state" and line["status"] == 200
    other = PlainFormatter().format(_record("metrics on %s"))
    assert other.endswith("twofold.request metrics on %s"), other


def test_which_file_answers_which_path(tmp_path: Path) -> None:
    """Pages fall back to index.html, hashed assets are immutable, missing files and every
    way out of the directory answer nothing (the API's 404)."""
    root = tmp_path / "dist"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text("page")
    (root / "assets" / "app-1.js").write_text("js")
    (root / ".env").write_text("hidden")
    (tmp_path / "outside.txt").write_text("no")
    index = Found(root / "index.html", NO_CACHE)
    assert locate(root, "/") == index
    assert locate(root, "/assets/app-1.js") == Found(root / "assets" / "app-1.js", IMMUTABLE)
    assert locate(root, "/pause") == index
    assert locate(root, "/reading/2026-11-30/") == index
    assert locate(root, "/assets/app-2.js") is None
    assert locate(root, "/assets/") is None
    assert locate(root, "/robots.txt") is None
    for escape in ("/../outside.txt", "/assets/../../outside.txt", "/.env", "//etc/passwd"):
        assert locate(root, escape) is None, escape
    prefixes = ("/v1", "/schema", "/healthz")
    assert is_api("/v1", prefixes) and is_api("/v1/x", prefixes)
    assert not is_api("/v1x", prefixes) and not is_api("/", prefixes)


def test_an_unchanged_page_is_answered_not_modified() -> None:
    assert unchanged('"abc"', '"abc"')
    assert unchanged('W/"abc", "def"', '"abc"')
    assert unchanged("*", '"abc"')
    assert not unchanged('"abd"', '"abc"')
    assert not unchanged(None, '"abc"')
