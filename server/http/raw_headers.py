"""Request headers read straight from the ASGI scope.

Litestar's ``connection.headers`` builds (and keeps in the scope for the connection's life) a
multidict of every header: ~1.5 KiB per open socket, for the two or three a socket's upgrade
reads once. These read the scope's list as it is and keep nothing.
"""

from __future__ import annotations

from litestar.types import Scope


def first(scope: Scope, name: bytes) -> str | None:
    """The first value of the header ``name`` (lower case), or None."""
    for key, value in scope["headers"]:
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def every(scope: Scope, name: bytes) -> list[str]:
    """Every value of the header ``name`` (lower case), in the order sent."""
    return [bytes(v).decode("latin-1") for k, v in scope["headers"] if k.lower() == name]
