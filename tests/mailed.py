"""The codes the server mailed, read where a test can see them: the mails table of the node's
database (the outbox, when no SMTP server is set), or the test's own SMTP server.

Also a command for the JavaScript suites, which sign people up through real nodes:
``DATABASE_URL=... python -m tests.mailed <email> [<kind>]`` prints the newest code mailed to
that address.
"""

from __future__ import annotations

import asyncio
import os
import sys

# One way to read a mailed code, the benchmarks' own: tests import it from here.
from bench.common import CODE as CODE
from bench.common import code_in as code_in
from bench.common import newest_code as newest_code
from tests.mailbox import Mailbox

SIGN_UP = "sign_up_code"


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
