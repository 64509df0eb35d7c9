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
    check_not_blank,
    check_time_zone,
)
from schemas.devices import Device, InstallationId

Locale = Annotated[str, msgspec.Meta(max_length=35)]


class SignUp(Base):
    """Ask to make an account: a code goes to the email (or, when an account uses it already,
    a mail telling its owner). The account is made by ``SignUpConfirm``, from its fields."""

    email: Email
    password: Password
    display_name: Name
    timezone: TimeZone
    # The app's own id for this installation (the one devices use): a sign-up is its first
    # sign-in, so the installation is known to this account from then on.
    installation_id: InstallationId | None = None
    # The app's language for the mail ("de-AT" reads as German); else the request's
    # Accept-Language; else English.
    locale: Locale | None = None

    def __post_init__(self) -> None:
        check_not_blank(self.display_name, "display_name")
        check_time_zone(self.timezone, "timezone")


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

    def __post_init__(self) -> None:
        check_not_blank(self.display_name, "display_name")
        check_time_zone(self.timezone, "timezone")


class SignIn(Base):
    # Not checked against the sign-up rules: a wrong shape is just a failed sign-in.
    email: Annotated[str, msgspec.Meta(max_length=254)]
    password: Annotated[str, msgspec.Meta(max_length=1024)]
    # An installation that signed in to this account before is never locked out by failures
    # from elsewhere; without it, failures are counted by the client's address.
    installation_id: InstallationId | None = None


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


class Refreshed(Base):
    tokens: Tokens


class MePatch(Patch):
    display_name: Name | msgspec.UnsetType = msgspec.UNSET
    timezone: TimeZone | msgspec.UnsetType = msgspec.UNSET
    share_presence: bool | msgspec.UnsetType = msgspec.UNSET

    def __post_init__(self) -> None:
        if self.display_name is not msgspec.UNSET:
            check_not_blank(self.display_name, "display_name")
        if self.timezone is not msgspec.UNSET:
            check_time_zone(self.timezone, "timezone")


class DeleteMe(Base):
    password: Annotated[str, msgspec.Meta(max_length=1024)]


class PasswordChange(Base):
    current_password: Annotated[str, msgspec.Meta(max_length=1024)]
    new_password: Password


class Leave(Base):
    """The safety exit: one step out of the couple, every session and every device."""

    password: Annotated[str, msgspec.Meta(max_length=1024)]
    erase: bool = False


class SessionView(Base):
    """One signed-in session of the caller's, as the sessions list shows it."""

    id: uuid.UUID
    current: bool  # the session this request was made with
    created_at: datetime
    last_used_at: datetime
    device: Device | None  # the device this session registered for notifications


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


class EmailCodeRequest(Base):
    """Ask for a code by mail to sign in with (when the sign-in answered
    ``email_code_required``); answered the same whether or not the email has an account."""

    email: Email
    # As in ``PasswordReset``.
    locale: Locale | None = None
