"""Accounts and sessions."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec

from schemas.base import (
    Base,
    Email,
    Name,
    Password,
    Patch,
    TimeZone,
)
from schemas.devices import InstallationId, Platform

# What a trusted device was given at its last sign-in (32 random bytes, URL-safe base64).
DeviceSecret = Annotated[
    str,
    msgspec.Meta(
        max_length=64,
        description="The device_secret this device's last sign-in to the account answered.",
    ),
]
# A code mailed to the email to prove it (v1.2: POST /v1/sessions/email-code).
EmailCode = Annotated[
    str,
    msgspec.Meta(
        max_length=64, description="A code mailed to the email, after email_code_required."
    ),
]

Locale = Annotated[str, msgspec.Meta(max_length=35)]


class SignUp(Base):
    """Ask to make an account: a code goes to the email (or, when an account uses it already,
    a mail telling its owner). The account is made by ``SignUpConfirm``, from its fields."""

    email: Email
    password: Password
    display_name: Name
    timezone: TimeZone
    # Accepted from apps that send it; since v1.2 it grants nothing and keys nothing (anyone
    # can name anyone's installation). Trust comes from ``SignedIn.device_secret``.
    installation_id: InstallationId | None = None
    # What the trusted devices list shows for this one (v1.2).
    platform: Platform | None = None
    # The app's language for the mail ("de-AT" reads as German); else the request's
    # Accept-Language; else English.
    locale: Locale | None = None


class SignUpConfirm(Base):
    """Make the account with the mailed code. The account is made from these fields, never
    from the request that asked for the code: a code is only as good as the inbox it went to.
    """

    email: Email
    code: Annotated[
        str, msgspec.Meta(max_length=64, description="As mailed; case, spaces, dashes ignored.")
    ]
    password: Password
    display_name: Name
    timezone: TimeZone
    installation_id: InstallationId | None = None
    # What the trusted devices list shows for this one (v1.2).
    platform: Platform | None = None


class SignIn(Base):
    # Not checked against the sign-up rules: a wrong shape is just a failed sign-in.
    email: Annotated[str, msgspec.Meta(max_length=254)]
    password: Annotated[str, msgspec.Meta(max_length=1024)]
    # Accepted from apps that send it; since v1.2 it grants nothing and keys nothing (anyone
    # can name anyone's installation).
    installation_id: InstallationId | None = None
    # The secret this device was given at its last sign-in to this account (v1.2): a trusted
    # device is counted apart, never refused because of anyone else's wrong passwords.
    device_secret: DeviceSecret | None = None
    platform: Platform | None = None
    # Proves the email when its window of wrong passwords is full (``email_code_required``).
    email_code: EmailCode | None = None


class RefreshRequest(Base):
    refresh_token: Annotated[str, msgspec.Meta(max_length=256)]


class Tokens(Base):
    access_token: str
    refresh_token: str
    expires_in: int


class User(Base):
    id: uuid.UUID
    email: str
    display_name: str
    timezone: str
    couple_id: uuid.UUID | None
    created_at: datetime
    # False: the partner sees this person as offline, whatever their sockets.
    share_presence: bool = True


class SignedIn(Base):
    user: User
    tokens: Tokens
    # Keep it, and send it with this account's next sign-in (and password reset) from this
    # device: it makes the device a trusted one (v1.2). A new one comes with every sign-in.
    device_secret: str


class Refreshed(Base):
    tokens: Tokens


class MePatch(Patch):
    display_name: Name | msgspec.UnsetType = msgspec.UNSET
    timezone: TimeZone | msgspec.UnsetType = msgspec.UNSET
    share_presence: bool | msgspec.UnsetType = msgspec.UNSET


class DeleteMe(Base):
    password: Annotated[str, msgspec.Meta(max_length=1024)]


class PasswordCheck(Base):
    """The password asked again before a private screen opens (the web app's screen lock)."""

    password: Annotated[str, msgspec.Meta(max_length=1024)]


class PasswordChange(Base):
    current_password: Annotated[str, msgspec.Meta(max_length=1024)]
    new_password: Password


class Leave(Base):
    """The safety exit: one step out of the couple, every session and every device."""

    password: Annotated[str, msgspec.Meta(max_length=1024)]
    erase: bool = False


class SessionDevice(Base):
    """The device a session registered for notifications (its installation id is not shown:
    v1.2)."""

    platform: Platform
    locale: str | None
    app_version: str | None
    registered_at: datetime


class SessionView(Base):
    """One signed-in session of the caller's, as the sessions list shows it."""

    id: uuid.UUID
    current: bool  # the session this request was made with
    created_at: datetime
    last_used_at: datetime
    device: SessionDevice | None  # the device this session registered for notifications


class TrustedDeviceView(Base):
    """A device trusted by the caller's account (v1.2): it holds a secret from a sign-in."""

    id: uuid.UUID
    current: bool  # the device this request was made from
    platform: Platform | None
    created_at: datetime
    # Its last sign-in, or its session's last use, whichever is later; 90 days after it the
    # trust ends.
    last_used_at: datetime


class PasswordReset(Base):
    """Ask for a reset code by email; answered the same whether or not the email has an
    account."""

    email: Email
    # The app's language for the mail ("de-AT" reads as German); else the request's
    # Accept-Language; else English.
    locale: Locale | None = None


class PasswordResetConfirm(Base):
    # Not checked against the sign-up rules: a wrong shape is just a code that does not match.
    email: Annotated[str, msgspec.Meta(max_length=254)]
    code: Annotated[
        str, msgspec.Meta(max_length=64, description="As mailed; case, spaces, dashes ignored.")
    ]
    new_password: Password
    # The device's secret (v1.2): that trusted device stays trusted after the reset, every
    # other one does not.
    device_secret: DeviceSecret | None = None


class EmailCodeRequest(Base):
    """Ask for a code by mail to sign in with (when the sign-in answered
    ``email_code_required``); answered the same whether or not the email has an account."""

    email: Email
    # As in ``PasswordReset``.
    locale: Locale | None = None
