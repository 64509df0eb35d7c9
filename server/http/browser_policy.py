"""What a browser may do with anything this server sends: the headers every HTTP answer
carries, and the Content-Security-Policy of its pages.

The web app keeps its tokens in localStorage, so a script injected into it could read them:
the policy lets a page run only the scripts and styles served from its own origin (no inline
script or style, no eval), talk only to its own origin (its socket too: CSP3's ``'self'``
matches ``ws:``/``wss:`` of the same host and port), load nothing from anywhere else, and be
framed by no one. A JSON answer, a problem or an unknown path carries the same policy: opened
as a page, it may do nothing at all.

The Swagger UI page (/schema/swagger) is the one page with a policy of its own: its
scripts are served by the node too, but its style sheet draws its icons as ``data:`` images.
"""

from __future__ import annotations

from collections.abc import Iterable

CSP = b"content-security-policy"


def _policy(**directives: str) -> bytes:
    written = (f"{name.replace('_', '-')} {value}" for name, value in directives.items())
    return "; ".join(written).encode()


APP_POLICY = _policy(
    default_src="'none'",
    script_src="'self'",
    style_src="'self'",
    img_src="'self'",
    connect_src="'self'",
    object_src="'none'",
    base_uri="'none'",
    frame_ancestors="'none'",
    form_action="'self'",
)

DOCS_POLICY = _policy(
    default_src="'none'",
    script_src="'self'",
    style_src="'self'",
    img_src="'self' data:",
    connect_src="'self'",
    object_src="'none'",
    base_uri="'none'",
    frame_ancestors="'none'",
    form_action="'self'",
)

# Powerful features no page of Twofold's uses: refused to the app, and to anything that
# gets into it.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "autoplay",
        "bluetooth",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "hid",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "publickey-credentials-get",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
).encode()

# On every HTTP answer: no content sniffing (a problem+json body is never run as a script),
# no referrer leaking a path, no framing (clickjacking the app or the API docs), a window of
# its own (no page that opened the app keeps a handle on it), and no page of another origin
# may embed an answer as an image or script (CORS reads by allowed origins are unaffected).
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"permissions-policy", PERMISSIONS_POLICY),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
)


# The pages whose policy is not the app's, by path (Litestar's OpenAPI pages cannot set
# headers of their own).
OWN_POLICIES = {"/schema/swagger": DOCS_POLICY}


def secured(path: str, headers: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """An answer's headers with ``SECURITY_HEADERS`` and the policy of the page at ``path``."""
    return [*headers, (CSP, OWN_POLICIES.get(path.rstrip("/"), APP_POLICY)), *SECURITY_HEADERS]
