"""Issuing and checking "not a robot" challenges (ALTCHA proof of work). No Flask here.

The browser fetches a challenge, finds the number whose SHA-256 with the salt gives the
challenge (ROBOT_CHECK_MAX_NUMBER tries at most), and posts the base64 JSON payload with
the form. The challenge is signed with an HMAC key of its own, carries its expiry in the
signed salt, and is spent on first use. This is the protocol of the altcha library's v1
API, which the vendored widget (2.x) speaks; see docs/dependencies.md.

The library's own verify_solution compares signatures with `==` and reads the expiry from
time.time(); we use its hashing helpers but compare in constant time (ASVS 11.2.4) and read
the time from the injected clock.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import altcha
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from idp.clock import Clock
from idp.config import Settings
from idp.robot.errors import RobotCheckFailed
from idp.robot.models import SpentRobotChallenge
from idp.security.secrets import KeyedHasher, equal

ALGORITHM = "SHA-256"
# A genuine payload is about 300 characters; refuse anything far larger before decoding it.
MAX_PAYLOAD_LENGTH = 2048
MAX_SALT_LENGTH = 256
MAX_NUMBER = 2**53  # what a browser's number can hold exactly
_HEX_SHA256 = re.compile(r"[0-9a-f]{64}")
# Purpose labels of the two keys derived from SECRETS_HASH_KEY.
SIGNING_PURPOSE = "robot-check signing key"
SPENT_PURPOSE = "robot-check spent challenge"
PRUNE_BATCH = 100


class RobotCheckService:
    """Challenges for the widget, and the check of the payload a form posts back."""

    def __init__(self, session: Session, settings: Settings, clock: Clock):
        self.session = session
        self.settings = settings
        self.clock = clock
        self._hasher = KeyedHasher(settings.SECRETS_HASH_KEY)
        # Derived with a purpose label: the configured secret never signs anything directly,
        # and a challenge signature can never stand in for another keyed hash.
        self._signing_key = self._hasher.hash(SIGNING_PURPOSE, "")

    @property
    def is_enabled(self) -> bool:
        return bool(self.settings.ROBOT_CHECK_ENABLED)

    def new_challenge(self) -> dict[str, Any]:
        """A fresh signed challenge, as the widget reads it; expires ROBOT_CHECK_TTL from now."""
        expires_at = self.clock() + timedelta(seconds=self.settings.ROBOT_CHECK_TTL)
        challenge = altcha.create_challenge_v1(
            algorithm=ALGORITHM,
            max_number=self.settings.ROBOT_CHECK_MAX_NUMBER,
            hmac_key=self._signing_key,
            expires=expires_at,
        )
        return {
            "algorithm": challenge.algorithm,
            "challenge": challenge.challenge,
            "maxnumber": challenge.max_number,
            "salt": challenge.salt,
            "signature": challenge.signature,
        }

    def verify(self, payload: str | None) -> None:
        """Accept a solved challenge once. Raises RobotCheckFailed, never anything else.

        The challenge is marked spent in the caller's transaction, and a concurrent second
        use fails on the unique constraint. The caller commits that mark at once, before the
        rest of its form (idp.robot.views.check_robot): a rollback must not give it back.
        """
        if not self.is_enabled:
            return
        fields = _parse_payload(payload)
        challenge = self._check_signature(fields)
        expires_at = _expires_at(fields["salt"])
        if expires_at is None or expires_at <= self.clock():
            raise RobotCheckFailed("expired")
        self.prune_spent()
        self._spend(challenge, expires_at)

    def _check_signature(self, fields: dict[str, Any]) -> str:
        salt = fields["salt"] if fields["salt"].endswith("&") else fields["salt"] + "&"
        expected_challenge = altcha.hash_hex(ALGORITHM, f"{salt}{fields['number']}".encode())
        expected_signature = altcha.hmac_hex(ALGORITHM, expected_challenge.encode(), self._signing_key)
        # Both compared, in constant time, whatever the first says.
        challenge_ok = equal(expected_challenge, fields["challenge"])
        signature_ok = equal(expected_signature, fields["signature"])
        if not (challenge_ok and signature_ok):
            raise RobotCheckFailed("forged")
        return expected_challenge

    def _spend(self, challenge: str, expires_at: datetime) -> None:
        try:
            with self.session.begin_nested():
                self.session.add(
                    SpentRobotChallenge(
                        challenge_hash=self._hasher.hash(SPENT_PURPOSE, challenge), expires_at=expires_at
                    )
                )
        except IntegrityError:
            raise RobotCheckFailed("spent") from None

    def prune_spent(self, limit: int = PRUNE_BATCH) -> int:
        """Forget up to `limit` spent challenges that have expired (they fail on expiry now).

        SKIP LOCKED on PostgreSQL: two requests pruning at once take different rows instead
        of waiting on each other. Returns how many rows went.
        """
        expired = (
            select(SpentRobotChallenge.id)
            .where(SpentRobotChallenge.expires_at < self.clock())
            .order_by(SpentRobotChallenge.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        result = self.session.execute(
            delete(SpentRobotChallenge).where(SpentRobotChallenge.id.in_(expired)),
            execution_options={"synchronize_session": False},
        )
        return result.rowcount or 0


def _parse_payload(payload: object) -> dict[str, Any]:
    """The payload's fields, each of the expected type and shape, or RobotCheckFailed."""
    if payload is None or payload == "":
        raise RobotCheckFailed("missing")
    if not isinstance(payload, str) or len(payload) > MAX_PAYLOAD_LENGTH:
        raise RobotCheckFailed("malformed")
    try:
        data = json.loads(base64.b64decode(payload, validate=True))
    except (ValueError, binascii.Error, RecursionError):
        raise RobotCheckFailed("malformed") from None
    if not isinstance(data, dict):
        raise RobotCheckFailed("malformed")
    number, salt = data.get("number"), data.get("salt")
    challenge, signature = data.get("challenge"), data.get("signature")
    if (
        data.get("algorithm") != ALGORITHM
        or not isinstance(number, int)
        or isinstance(number, bool)
        or not 0 <= number <= MAX_NUMBER
        or not isinstance(salt, str)
        or not 10 <= len(salt) <= MAX_SALT_LENGTH
        or not salt.isascii()
        or not isinstance(challenge, str)
        or not _HEX_SHA256.fullmatch(challenge)
        or not isinstance(signature, str)
        or not _HEX_SHA256.fullmatch(signature)
    ):
        raise RobotCheckFailed("malformed")
    return {"number": number, "salt": salt, "challenge": challenge, "signature": signature}


def _expires_at(salt: str) -> datetime | None:
    """The expiry written in the (signed) salt's parameters, "…?expires=1767225600&"."""
    values = parse_qs(salt.partition("?")[2]).get("expires", [])
    if len(values) != 1 or not values[0].isascii() or not values[0].isdigit():
        return None
    try:
        return datetime.fromtimestamp(int(values[0]), UTC)
    except (OverflowError, OSError, ValueError):
        return None
