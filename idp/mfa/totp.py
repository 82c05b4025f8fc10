"""Time-based one-time passwords (RFC 6238) for authenticator apps, wrapping pyotp.

Pure: no database, no Flask. 30-second steps, 6 digits, SHA-1 (what every authenticator
app supports, RFC 6238 §1.2), one step of drift either way (RFC 6238 §5.2). The caller
stores the last accepted step so a code is never accepted twice (RFC 6238 §5.2, NIST SP
800-63B §5.1.4.2).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pyotp
import segno

DIGITS = 6
STEP_SECONDS = 30
DRIFT_STEPS = 1
# How long a code an app just showed may still be on its screen (its step and the drift).
JUST_USED = timedelta(seconds=STEP_SECONDS * (DRIFT_STEPS + 1))
SECRET_BYTES = 20  # 160 bits, RFC 4226 §4's recommended shared-secret length


class TotpRejected(Exception):
    """The code matches no step in the accepted window, or only steps already used."""


def new_secret() -> str:
    """A random base32 secret, 160 bits."""
    return pyotp.random_base32(length=SECRET_BYTES * 8 // 5)


def grouped(secret: str) -> str:
    """The secret in groups of four, easier to type into an app by hand."""
    return " ".join(secret[index:index + 4] for index in range(0, len(secret), 4))


def provisioning_uri(secret: str, account_name: str, issuer_name: str) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=account_name, issuer_name=issuer_name
    )


def qr_svg(uri: str, title: str) -> str:
    """The URI as an inline SVG QR code (no image request, no third party)."""
    return segno.make(uri, error="m").svg_inline(scale=5, title=title, dark="#000", light="#fff")


def step_at(moment: datetime) -> int:
    return int(moment.timestamp()) // STEP_SECONDS


def accepted_step(secret: str, plain_code: str, moment: datetime, last_used_step: int | None) -> int:
    """The time step the code belongs to, if it is within the drift window and later than
    last_used_step. Raises TotpRejected otherwise."""
    code = "".join(character for character in (plain_code or "") if character.isdigit())
    if len(code) != DIGITS:
        raise TotpRejected
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    current = step_at(moment)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        # pyotp.utils.strings_equal compares in constant time.
        if pyotp.utils.strings_equal(totp.generate_otp(step), code):
            if last_used_step is not None and step <= last_used_step:
                raise TotpRejected  # replay, or an older code after a newer one
            return step
    raise TotpRejected
