"""Have I Been Pwned's Pwned Passwords range API: is a new password known from a breach?

Pure: no Flask, no database. k-anonymity: only the first 5 hex digits of the password's
SHA-1 leave; the service answers every suffix it knows under that prefix, padded with
suffixes of count 0 (Add-Padding) so the answer's size says nothing either. The match is
made here. NIST SP 800-63B §3.1.1.2 (passwords "obtained from previous breach corpuses").

Optional (PASSWORD_PWNED_CHECK) and fail-open: a service that does not answer in time or
answers an error must not stop people from setting a password, so the check then says "not
breached" and logs a warning. Neither the password nor any part of its hash is logged.
"""

from __future__ import annotations

import hashlib
import logging

import requests

log = logging.getLogger(__name__)

# A padded range answer is about 40 kB; anything much larger is not the service.
MAX_RANGE_BYTES = 1_000_000


class PwnedPasswords:
    """One checker per service instance; each prefix's answer is kept for its lifetime, so
    the same password checked twice in one request (the form, then set_password) costs one
    request."""

    def __init__(self, url: str, timeout: float, http: requests.Session | None = None):
        self.url = url.rstrip("/") + "/"
        self.timeout = timeout
        self.http = http or requests.Session()
        self._ranges: dict[str, frozenset[str]] = {}

    def is_breached(self, plain_password: str) -> bool:
        """True when the service knows the password; False when it does not or could not say."""
        digest = hashlib.sha1(plain_password.encode("utf-8", "surrogatepass")).hexdigest().upper()
        return digest[5:] in self._suffixes(digest[:5])

    def _suffixes(self, prefix: str) -> frozenset[str]:
        """The suffixes with a count above 0 under this prefix; empty when the service failed."""
        if prefix not in self._ranges:
            try:
                self._ranges[prefix] = self._fetch(prefix)
            except (requests.RequestException, ValueError) as error:
                log.warning(
                    "Pwned Passwords range check failed (%s): the new password was accepted without it",
                    type(error).__name__,
                )
                return frozenset()
        return self._ranges[prefix]

    def _fetch(self, prefix: str) -> frozenset[str]:
        with self.http.get(
            self.url + prefix,
            headers={"Add-Padding": "true", "User-Agent": "Passerelle"},
            timeout=self.timeout,
            allow_redirects=False,
            stream=True,
        ) as response:
            response.raise_for_status()
            body = bytearray()
            for chunk in response.iter_content(64 * 1024):  # read errors arrive as requests' own
                body += chunk
                if len(body) > MAX_RANGE_BYTES:
                    raise ValueError("range answer too large")
        suffixes = set()
        for line in body.decode("ascii").splitlines():
            suffix, _, count = line.strip().partition(":")
            if count.strip().isdigit() and int(count) > 0:
                suffixes.add(suffix.upper())
        return frozenset(suffixes)
