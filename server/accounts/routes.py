"""Accounts and sessions: signing up, in, refreshing and out."""

from __future__ import annotations

from typing import Any

from litestar import Controller, MediaType, Request, delete, post
from litestar.datastructures import State
from litestar.params import JSONBody

from schemas.accounts import (
    EmailCodeRequest,
    PasswordReset,
    PasswordResetConfirm,
    Refreshed,
    RefreshRequest,
    SignedIn,
    SignIn,
    SignUp,
    SignUpConfirm,
)
from server.accounts import account, resets, sign_in_codes, sign_ups
from server.accounts.auth import CallerDep
from server.accounts.passwords import PasswordsDep
from server.http.address_budgets import PASSWORD_RESET, REFRESH, SIGN_IN, SIGN_IN_CODE, SIGN_UP
from server.http.address_guards import per_address
from server.http.deps import AddressDep, ClockDep, Conn, PoolDep, SettingsDep
from server.http.problems import BEARER, problems
from server.mail.sender import MailerDep
from server.plumbing.errors import CodeInvalid, EmailCodeRequired, RateLimited, ResetInvalid


class AccountRoutes(Controller):
    path = "/v1"
    tags = ["accounts and sessions"]

    @post(
        "/accounts",
        status_code=202,
        guards=[per_address(SIGN_UP)],
        media_type=MediaType.TEXT,  # and an empty body: there is nothing to say
        response_description="Accepted: a mail goes to the address",
        responses=problems(RateLimited, auth=False),
    )
    async def sign_up(
        self,
        data: JSONBody[SignUp],
        pool: PoolDep,
        passwords: PasswordsDep,
        settings: SettingsDep,
        clock: ClockDep,
        address: AddressDep,
        mailer: MailerDep,
        request: Request[Any, Any, State],
    ) -> str:
        """Ask to make an account: a single-use code (valid 30 minutes) goes to the email,
        to be sent with the account's fields to ``/v1/accounts/confirm``. Answered 202, in the
        same time, whether or not an account uses the email (its owner is told by mail, with
        no code). The mail's language is ``locale``, else Accept-Language, else English.
        Limited per email and per client (``rate_limited``); ``unavailable`` when this server
        is hashing all the passwords it can at once."""
        accept_language = request.headers.get("accept-language")
        await sign_ups.ask(pool, passwords, settings, clock, data, address, accept_language)
        mailer.wake()  # committed: send it now rather than at the next round
        return ""

    @post(
        "/accounts/confirm",
        status_code=201,
        guards=[per_address(SIGN_UP)],
        responses=problems(CodeInvalid, RateLimited, auth=False),
    )
    async def confirm_sign_up(
        self,
        data: JSONBody[SignUpConfirm],
        pool: PoolDep,
        passwords: PasswordsDep,
        settings: SettingsDep,
        clock: ClockDep,
        address: AddressDep,
    ) -> SignedIn:
        """Make the account with the mailed code, from the fields sent here (not those of the
        request that asked for the code), and sign in on this device. A wrong, expired or used
        code, or an email that has an account by now, is ``code_invalid``. Limited per client
        (``rate_limited``)."""
        return await sign_ups.confirm(pool, passwords, settings, clock, data, address)

    @post(
        "/sessions",
        status_code=200,
        guards=[per_address(SIGN_IN)],
        responses=problems(RateLimited, EmailCodeRequired),
    )
    async def sign_in(
        self,
        data: JSONBody[SignIn],
        pool: PoolDep,
        passwords: PasswordsDep,
        settings: SettingsDep,
        clock: ClockDep,
        address: AddressDep,
    ) -> SignedIn:
        """Sign in. A wrong email and a wrong password get the same answer. The answer's
        ``device_secret`` makes this device trusted by the account: send it with the next
        sign-in. A trusted device's wrong passwords are limited apart (10 an hour, then
        ``rate_limited``), never by anyone else's. Any other client's are limited per
        address (10 an hour) and per email (20 an hour, from every untrusted client): past
        either it is answered ``email_code_required``. ``installation_id`` is accepted and
        grants nothing (v1.2). Sign-ins are also limited per client address
        (``rate_limited``), and answered ``unavailable`` when this server is checking all the
        passwords it can at once."""
        return await account.sign_in(pool, passwords, settings, clock, data, address)

    @post(
        "/sessions/email-code",
        status_code=202,
        guards=[per_address(SIGN_IN_CODE)],
        media_type=MediaType.TEXT,  # and an empty body: there is nothing to say
        response_description="Accepted: a mail goes to the address",
        responses=problems(RateLimited, auth=False),
    )
    async def ask_sign_in_code(
        self,
        data: JSONBody[EmailCodeRequest],
        conn: Conn,
        settings: SettingsDep,
        clock: ClockDep,
        address: AddressDep,
        mailer: MailerDep,
        request: Request[Any, Any, State],
    ) -> str:
        """Mail a single-use code (valid 30 minutes) to sign in with, for when a sign-in was
        answered ``email_code_required``. Answered 202, in the same time, whether or not the
        email has an account (an address without one is told so by mail). The mail's language
        is ``locale``, else Accept-Language, else English. Limited per email and per client."""
        accept_language = request.headers.get("accept-language")
        await sign_in_codes.request(conn, settings, clock, data, address, accept_language)
        mailer.wake()  # committed: send it now rather than at the next round
        return ""

    @post(
        "/sessions/refresh",
        status_code=200,
        guards=[per_address(REFRESH)],
        responses=problems(RateLimited),
    )
    async def refresh(
        self, data: JSONBody[RefreshRequest], conn: Conn, settings: SettingsDep, clock: ClockDep
    ) -> Refreshed:
        """Trade a refresh token for new tokens. Each refresh token works once; presenting a
        spent one revokes the whole session, since only a thief would hold it. Limited per
        client address (``rate_limited``)."""
        return Refreshed(tokens=await account.refresh(conn, settings, clock, data.refresh_token))

    @delete("/sessions/current", status_code=204, responses=problems(), security=BEARER)
    async def sign_out(self, caller: CallerDep, conn: Conn, clock: ClockDep) -> None:
        """Sign out this device: its refresh token stops working, its sockets close and the
        device it registered gets no more notifications."""
        await account.sign_out(conn, clock, caller.session_id)

    @post(
        "/password-resets",
        status_code=202,
        guards=[per_address(PASSWORD_RESET)],
        media_type=MediaType.TEXT,  # and an empty body: there is nothing to say
        response_description="Accepted: a mail goes to the address",
        responses=problems(RateLimited, auth=False),
    )
    async def ask_reset(
        self,
        data: JSONBody[PasswordReset],
        conn: Conn,
        settings: SettingsDep,
        clock: ClockDep,
        address: AddressDep,
        mailer: MailerDep,
        request: Request[Any, Any, State],
    ) -> str:
        """Mail a single-use code (valid 30 minutes) to this address. Answered 202, in the
        same time, whether or not the email has an account (an address without one is told
        so by mail). The mail's language is ``locale``, else Accept-Language, else English.
        Limited per email and per client."""
        accept_language = request.headers.get("accept-language")
        await resets.request(conn, settings, clock, data, address, accept_language)
        mailer.wake()  # committed: send it now rather than at the next round
        return ""

    @post(
        "/password-resets/confirm",
        status_code=204,
        guards=[per_address(PASSWORD_RESET)],
        responses=problems(ResetInvalid, RateLimited, auth=False),
    )
    async def confirm_reset(
        self,
        data: JSONBody[PasswordResetConfirm],
        pool: PoolDep,
        passwords: PasswordsDep,
        settings: SettingsDep,
        clock: ClockDep,
        address: AddressDep,
    ) -> None:
        """Set a new password with the mailed code. Every session of the account ends (its
        tokens get 401, its sockets close with 4401, its devices are forgotten), and every
        trusted device but the one whose ``device_secret`` is sent. A wrong, expired or used
        code is ``reset_invalid``."""
        await resets.confirm(pool, passwords, settings, clock, data, address)
