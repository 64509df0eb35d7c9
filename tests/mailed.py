"""The codes the server mailed, read where a test can see them: the mails table of the node's
database (the outbox, when no SMTP server is set), or the test's own SMTP server.

Also a command for the JavaScript suites, which sign people up through real nodes:
``DATABASE_URL=... python -m tests.mailed <email> [<kind>]`` prints the newest code mailed to
that address.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys

import asyncpg

from tests.mailbox import Mailbox

# Three groups of four from the invites' alphabet (no 0/O, 1/I/L).
CODE = re.compile(r"\b([A-HJKMNP-Z2-9]{4})-([A-HJKMNP-Z2-9]{4})-([A-HJKMNP-Z2-9]{4})\b")
SIGN_UP = "sign_up_code"


def code_in(text: str) -> str:
    found = CODE.search(text)
    assert found is not None, text
    return "".join(found.groups())


async def newest_code(database_url: str, email: str, kind: str = SIGN_UP) -> str:
    """The code of the newest mail of ``kind`` to ``email`` still holding its text."""
    conn = await asyncpg.connect(database_url)
    try:
        text = await conn.fetchval(
            """SELECT text FROM mails WHERE recipient = $1 AND kind = $2 AND text IS NOT NULL
               ORDER BY created_at DESC, id DESC LIMIT 1""",
            email,
            kind,
        )
    finally:
        await conn.close()
    assert text is not None, f"no {kind} mail to {email} in the outbox"
    return code_in(text)


async def code_received(mailbox: Mailbox, email: str, subject: str) -> str:
    """The code of the first mail with ``subject`` to ``email`` the SMTP server received
    (waiting for it)."""
    for mail in await mailbox.wait_until(
        lambda m: m.recipients == [email] and m.message["Subject"] == subject
    ):
        return code_in(mail.text)
    raise AssertionError("unreachable")


def main(argv: list[str]) -> int:
    email, kind = argv[0], argv[1] if len(argv) > 1 else SIGN_UP
    print(asyncio.run(newest_code(os.environ["DATABASE_URL"], email, kind)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
