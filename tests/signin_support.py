"""Getting through the sign-in steps after the password, for every tier's helpers: the code
Passerelle emailed (read from the real SMTP server on loopback, tests/conftest.py) and the
terms step."""

from __future__ import annotations

import re
import time

from tests.mail_support import code_in

CODE_PATH = "/signin/code"
SECOND_FACTOR_PATH = "/signin/second-factor"
TERMS_PATH = "/signin/terms"
# The subject of the signin-code email in each language (templates/email/signin-code/),
# whatever the service's name (SERVICE_NAME: Passerelle, or the demo bank).
SIGNIN_CODE_SUBJECT = re.compile(r"^(Your .+ sign-in code|Votre code d'ouverture de session .+)$")


def _mailbox():
    from tests.conftest import smtp_server

    return smtp_server().mailbox


def signin_code_messages(address: str) -> list:
    return [message for message in _mailbox().to(address) if SIGNIN_CODE_SUBJECT.match(message["Subject"] or "")]


def signin_codes_sent(address: str) -> int:
    """How many sign-in codes were sent to this address so far (to wait for the next one)."""
    return len(signin_code_messages(address))


def wait_for_signin_code(address: str, previous: int, timeout: float = 10.0) -> str:
    """The code of the first sign-in code email after `previous` of them had arrived.

    The app sends mail once the response is closed (a live server does it on another
    thread), so this waits for it rather than reading at once.
    """
    deadline = time.monotonic() + timeout
    while True:
        messages = signin_code_messages(address)
        if len(messages) > previous:
            return code_in(messages[-1])
        if time.monotonic() > deadline:
            raise AssertionError(f"no sign-in code email #{previous + 1} to {address} within {timeout} s")
        time.sleep(0.02)


def latest_signin_code(address: str) -> str:
    messages = signin_code_messages(address)
    assert messages, f"no sign-in code email to {address}"
    return code_in(messages[-1])
