"""One error tree: each class knows its HTTP status and the contract's problem code.

Handlers raise; ``problem_response`` is the one place an error becomes problem+json, and the
exception handlers map every framework and database failure onto the same shape.
"""

from __future__ import annotations

import logging
import re
from typing import Any, ClassVar

import asyncpg
import msgspec
from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    MethodNotAllowedException,
    NotFoundException,
    ValidationException,
)
from litestar.types import ExceptionHandlersMap

from schemas.base import PATTERNS_SAY
from schemas.errors import FieldError, Problem

log = logging.getLogger("twofold.errors")

PROBLEM_JSON = "application/problem+json"


class TwofoldError(Exception):
    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal"
    title: ClassVar[str] = "Something went wrong on our side"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: list[FieldError] | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = errors
        self.retry_after = retry_after

    def problem(self) -> Problem:
        return Problem(
            status=self.status,
            title=self.title,
            detail=self.detail,
            code=self.code,
            errors=self.errors if self.errors is not None else msgspec.UNSET,
        )


class ValidationFailed(TwofoldError):
    status, code, title = 400, "validation_failed", "The request is not valid"

    @classmethod
    def of(cls, messages: list[str]) -> ValidationFailed:
        """From msgspec's messages, each field named in ``errors`` and in the detail."""
        errors = field_errors(messages)
        return cls("; ".join(f"{e.field}: {e.message}" for e in errors), errors=errors)


class ResetInvalid(TwofoldError):
    status, code, title = 400, "reset_invalid", "That reset code is wrong, expired or used"


class CodeInvalid(TwofoldError):
    status, code, title = 400, "code_invalid", "That code is wrong, expired or used"


class Unauthorized(TwofoldError):
    status, code, title = 401, "unauthorized", "Not signed in, or the credentials are wrong"


class Forbidden(TwofoldError):
    status, code, title = 403, "forbidden", "Not allowed"


class NotAllowed(TwofoldError):
    status, code, title = 403, "not_allowed", "This partner may not do that"


class NotFound(TwofoldError):
    status, code, title = 404, "not_found", "Not found"


class NotLinked(TwofoldError):
    status, code, title = 404, "not_linked", "You are not linked with a partner"


class InviteInvalid(TwofoldError):
    status, code, title = 404, "invite_invalid", "That invite code is not valid"


class MethodNotAllowed(TwofoldError):
    status, code, title = 405, "method_not_allowed", "That method is not allowed here"


class AlreadyLinked(TwofoldError):
    status, code, title = 409, "already_linked", "Already linked with a partner"


class OwnInvite(TwofoldError):
    status, code, title = 409, "own_invite", "That is your own invite"


class PauseActive(TwofoldError):
    status, code, title = 409, "pause_active", "A pause is already active"


class PauseNotActive(TwofoldError):
    status, code, title = 409, "pause_not_active", "That pause is not active"


class InviteExpired(TwofoldError):
    status, code, title = 410, "invite_expired", "That invite has expired"


class PayloadTooLarge(TwofoldError):
    status, code, title = 413, "payload_too_large", "The request body is too large"


class RateLimited(TwofoldError):
    status, code, title = 429, "rate_limited", "Too many attempts; try again later"


class EmailCodeRequired(TwofoldError):
    """A sign-in from a device the account does not trust, refused because its email or its
    address has had too many wrong passwords: a code mailed to the email proves it (v1.2)."""

    status, code, title = (
        429,
        "email_code_required",
        "Too many attempts; a code mailed to the email can prove it is yours",
    )


class Shed(Exception):
    """A refusal at the edge (a spent budget, a full hashing line): its client's next request
    on the same connection waits out the Retry-After it was given
    (``server.http.address_guards``)."""


class Unavailable(TwofoldError):
    status, code, title = 503, "unavailable", "Temporarily unavailable; try again shortly"


def problem_response(error: TwofoldError) -> Response[bytes]:
    headers = {}
    if error.retry_after is not None:
        headers["Retry-After"] = str(error.retry_after)
    return Response(
        content=msgspec.json.encode(error.problem()),
        status_code=error.status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


# msgspec says where a value failed as a JSON path suffix: "Expected `int`, got `str` - at `$.x`".
# A check in a nested Struct's __post_init__ names its field itself, and msgspec adds where
# that Struct is: "... - at `$.date` - at `$.body`" is body.date.
_AT_PATH = re.compile(r" - at `\$(?P<path>[^`]*)`$")


_MISSED_PATTERN = re.compile(r"^Expected `str` matching regex '(?P<pattern>.*)'$")
_MISSING = re.compile(r"missing required field `(?P<name>[^`]+)`")


def field_errors(messages: list[str]) -> list[FieldError]:
    out = []
    for text in messages:
        message, path = text, ""
        while m := _AT_PATH.search(message):
            message, path = message[: m.start()], path + m["path"]
        path = path.removeprefix(".").removeprefix("data").removeprefix(".")
        # A missing field is reported at the object holding it; name the field itself.
        if missing := _MISSING.search(message):
            path = f"{path}.{missing['name']}" if path else missing["name"]
        if missed := _MISSED_PATTERN.match(message):
            # msgspec writes each backslash of the pattern twice.
            message = PATTERNS_SAY.get(missed["pattern"].replace("\\\\", "\\"), message)
        out.append(FieldError(field=path or "body", message=message))
    return out


def _validation_messages(exc: ValidationException) -> list[str]:
    extra: Any = exc.extra
    messages = []
    if isinstance(extra, list):
        for item in extra:
            if isinstance(item, dict) and isinstance(item.get("message"), str):
                key = item.get("key")
                msg = item["message"]
                if key and key != "data" and "- at `$" not in msg:
                    msg = f"{msg} - at `$.{key}`"
                messages.append(msg)
    return messages or [str(exc.detail)]


def _on_twofold(_: Request[Any, Any, Any], exc: TwofoldError) -> Response[bytes]:
    return problem_response(exc)


def _on_validation(_: Request[Any, Any, Any], exc: ValidationException) -> Response[bytes]:
    return problem_response(ValidationFailed.of(_validation_messages(exc)))


def _on_http(_: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
    error: TwofoldError
    match exc:
        case NotFoundException():
            error = NotFound("No such resource")
        case MethodNotAllowedException():
            response = problem_response(MethodNotAllowed())
            # RFC 9110 15.5.6: a 405 lists the methods the resource does allow.
            if allow := (exc.headers or {}).get("allow"):
                response.headers["Allow"] = allow
            return response
        case _ if exc.status_code == 413:
            error = PayloadTooLarge()
        case _ if exc.status_code == 401:
            error = Unauthorized()
        case _ if exc.status_code == 403:
            error = Forbidden()
        case _ if exc.status_code == 429:
            error = RateLimited()
        case _ if 400 <= exc.status_code < 500:
            error = ValidationFailed(str(exc.detail))
        case _:
            log.error("unexpected HTTP error %s: %s", exc.status_code, exc.detail)
            error = TwofoldError()
    return problem_response(error)


def _on_bad_encoding(_: Request[Any, Any, Any], exc: UnicodeDecodeError) -> Response[bytes]:
    return problem_response(ValidationFailed("The request is not valid UTF-8"))


def _on_too_deep(_: Request[Any, Any, Any], exc: RecursionError) -> Response[bytes]:
    # Only decoding a hostile body recurses this deep.
    return problem_response(ValidationFailed("The request is nested too deeply"))


# A JSON string can carry U+0000 only as the escape \u0000 (preceded by an even number of
# backslashes); PostgreSQL text cannot hold it at all.
_NUL_ESCAPE = re.compile(rb"(?:^|[^\\])(?:\\\\)*\\u0000")
NUL_DETAIL = "Text may not contain the NUL character (\\u0000)"


def reject_nul(raw: bytes) -> None:
    """Refuse a JSON document (or query string) that carries a NUL character, before it is
    decoded: one such string would otherwise fail the whole batch of ops it joins."""
    # The regular expression is tried only where the escape is (a substring search is ~50
    # times cheaper than the search from every position, and this runs for every op).
    if b"\x00" in raw or (b"\\u0000" in raw and _NUL_ESCAPE.search(raw)):
        raise ValidationFailed(NUL_DETAIL)


def is_json(content_type: str) -> bool:
    """``application/json`` or a JSON-based type (``application/merge-patch+json``), any
    parameters (``; charset=utf-8``) aside."""
    media = content_type.partition(";")[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


JSON_ONLY_DETAIL = "A request body must be JSON, sent with content-type: application/json"


async def screen_body(request: Request[Any, Any, Any]) -> None:
    """Litestar's before-request hook: bodies and query strings with NUL are refused, and so
    is a body of any type but JSON. A browser sends a text/plain or form body from any web
    page without asking first (no CORS preflight); read as JSON, it would be a request any
    site could make in the visitor's name. A JSON body must match its schema's types exactly
    (a number is a number, a boolean a boolean), as on the socket."""
    if b"%00" in request.scope.get("query_string", b""):
        raise ValidationFailed(NUL_DETAIL)
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        body = await request.body()
        if body and not is_json(request.headers.get("content-type", "")):
            raise ValidationFailed(JSON_ONLY_DETAIL)
        reject_nul(body)
        data = request.route_handler.parsed_fn_signature.parameters.get("data")
        if body and data is not None:
            _check_types(body, data.annotation)


def _check_types(body: bytes, annotation: Any) -> None:
    """Litestar converts bodies leniently (``"5"`` for a number, ``0`` for ``false``), which
    the published schema does not allow and the socket never did: the body is first read as
    the schema says, where JSON Schema's integer is any number without a fraction (``3.0``)."""
    try:
        document = msgspec.json.decode(body)
        msgspec.convert(_integral(document), annotation, strict=True)
    except msgspec.ValidationError as exc:
        raise ValidationFailed.of([str(exc)]) from exc
    except (msgspec.DecodeError, RecursionError):
        pass  # not JSON, or nested past reason: Litestar's own parsing answers it


def _integral(value: Any) -> Any:
    """The document with every float that has no fraction as an int (``3.0`` is ``3``)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_integral(v) for v in value]
    if isinstance(value, dict):
        return {k: _integral(v) for k, v in value.items()}
    return value


def _on_unstorable_text(_: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    # The backstop, should text reach the database by a way that was not checked.
    return problem_response(ValidationFailed(NUL_DETAIL))


# The failures that mean "the database is away" (restarting, unreachable, refusing or out of
# connections), not "this request is wrong": the caller is told to try again shortly.
_DATABASE_AWAY = (
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.InterfaceError,
    OSError,  # ConnectionError and TimeoutError among them
)


def is_database_away(exc: BaseException) -> bool:
    """Whether a failure means the database is away rather than a fault of ours: the one
    answer to that question for HTTP, the socket, the hub and the node's heartbeat."""
    return isinstance(exc, _DATABASE_AWAY)


def log_failure(logger: logging.Logger, what: str, exc: BaseException) -> None:
    """A background turn failed and the next one tries again. The database being away is
    expected now and then, and said in a line; anything else is a fault of ours, logged with
    its traceback."""
    if is_database_away(exc):
        logger.warning("%s failed: the database is away (%s)", what, type(exc).__name__)
    else:
        logger.error("%s failed", what, exc_info=exc)


def _on_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    if is_database_away(exc):
        log.warning("database unavailable: %s", type(exc).__name__)
        return problem_response(Unavailable("The database cannot be reached", retry_after=5))
    log.exception("unhandled error on %s %s", request.method, request.scope.get("path_template"))
    return problem_response(TwofoldError())


exception_handlers: ExceptionHandlersMap = {
    TwofoldError: _on_twofold,
    ValidationException: _on_validation,
    HTTPException: _on_http,
    UnicodeDecodeError: _on_bad_encoding,
    RecursionError: _on_too_deep,
    asyncpg.CharacterNotInRepertoireError: _on_unstorable_text,
    asyncpg.UntranslatableCharacterError: _on_unstorable_text,
    # Every other failure, the database being away among them (``is_database_away``).
    Exception: _on_unexpected,
}


def error_codes() -> list[str]:
    """Every problem and error-frame ``code`` the server has, from its one error tree."""
    codes: set[str] = set()
    pending: list[type[TwofoldError]] = [TwofoldError]
    while pending:
        error = pending.pop()
        codes.add(error.code)
        # Only the one tree's own classes: a subclass defined elsewhere (a test's, say) would
        # make the document depend on what happened to be imported.
        pending.extend(e for e in error.__subclasses__() if e.__module__ == TwofoldError.__module__)
    return sorted(codes)
