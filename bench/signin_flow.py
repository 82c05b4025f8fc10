"""A browser-free authorization-code sign-in against Passerelle, over HTTP only (stdlib).

    walk = SignInWalk("http://127.0.0.1:5000", client_id, client_secret, redirect_uri)
    tokens = walk.run(email, password, read_code=lambda email: "123456")

It does what a browser does and nothing more: GET /authorize (PKCE S256), then follows the
redirects through the sign-in pages, POSTing each form with its CSRF token: the password,
the code emailed to the person (`read_code(email)` fetches it: bench/run.py's loopback SMTP
sink, or the test suite's), the terms and the consent if they are asked, until the redirect to
the client's redirect URI; then it exchanges the code at /token with HTTP Basic. One
keep-alive connection, cookies kept by hand (the session cookie is `Secure` in production and
the bench talks plain HTTP on loopback, which http.cookiejar would refuse to send back).

bench/run.py times this for its sign-in row; tests/integration/web/test_servers.py walks it
through granian and gunicorn.
"""

from __future__ import annotations

import base64
import email
import hashlib
import http.client
import json
import re
import secrets
import socketserver
import threading
import urllib.parse
from collections.abc import Callable

LOOPBACK = "127.0.0.1"
CSRF = (re.compile(r'name="csrf_token"[^>]*value="([^"]+)"'), re.compile(r'value="([^"]+)"[^>]*name="csrf_token"'))
# Sign-in page -> the form it POSTs (besides csrf_token). The code's field is filled in later.
FORMS = {
    "/signin": ("email", "password"),
    "/signin/code": ("code",),
    "/signin/terms": ("decision",),
    "/signin/consent": ("decision",),
}
MAX_STEPS = 16


class SignInError(RuntimeError):
    pass


def csrf_token(html: str) -> str:
    for pattern in CSRF:
        match = pattern.search(html)
        if match:
            return match.group(1)
    raise SignInError("no CSRF token in the page")


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def cookies_from(set_cookie_headers: list[str]) -> dict[str, str | None]:
    """name -> value (None: the server deleted it) from Set-Cookie headers; attributes ignored."""
    found: dict[str, str | None] = {}
    for header in set_cookie_headers:
        pair, _, attributes = header.partition(";")
        name, _, value = pair.strip().partition("=")
        lowered = attributes.lower().replace(" ", "")
        deleted = "max-age=0" in lowered or "expires=thu,01jan1970" in lowered.replace("-", "")
        found[name] = None if deleted else value
    return found


class SignInWalk:
    def __init__(self, base: str, client_id: str, client_secret: str, redirect_uri: str, *,
                 scope: str = "openid", timeout: float = 30):
        parts = urllib.parse.urlsplit(base)
        if parts.hostname != LOOPBACK:
            raise SignInError(f"loopback only, not {parts.hostname}")
        self.base, self.port = base.rstrip("/"), parts.port or 80
        self.client_id, self.client_secret, self.redirect_uri, self.scope = client_id, client_secret, redirect_uri, scope
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self.requests = 0
        self._connection: http.client.HTTPConnection | None = None

    # --- HTTP ---------------------------------------------------------------------------

    def request(self, method: str, target: str, form: dict[str, str] | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
        """One request on the kept-alive connection (reopened once if the server closed it)."""
        if target.startswith("http"):
            parts = urllib.parse.urlsplit(target)
            if f"{parts.scheme}://{parts.netloc}" != self.base:
                raise SignInError(f"redirected off the IdP: {target}")
            target = parts.path + ("?" + parts.query if parts.query else "")
        all_headers = dict(headers or {})
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (1, 2):
            if self._connection is None:
                self._connection = http.client.HTTPConnection(LOOPBACK, self.port, timeout=self.timeout)
            try:
                self._connection.request(method, target, body=body, headers=all_headers)
                response = self._connection.getresponse()
                text = response.read().decode("utf-8", errors="replace")
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if attempt == 2:
                    raise
        self.requests += 1
        for name, value in cookies_from(response.msg.get_all("Set-Cookie") or []).items():
            if value is None:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        if response.getheader("Connection", "").lower() == "close":
            self.close()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, text

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    # --- the walk -----------------------------------------------------------------------

    def authorization_code(self, email: str, password: str, read_code: Callable[[str], str]) -> tuple[str, str]:
        """(code, verifier): from GET /authorize to the redirect back to the client."""
        verifier = secrets.token_urlsafe(48)
        state = secrets.token_urlsafe(8)
        query = urllib.parse.urlencode({
            "response_type": "code", "client_id": self.client_id, "redirect_uri": self.redirect_uri,
            "scope": self.scope, "state": state, "nonce": secrets.token_urlsafe(8),
            "code_challenge": s256(verifier), "code_challenge_method": "S256",
        })
        status, headers, text = self.request("GET", "/authorize?" + query)
        for _ in range(MAX_STEPS):
            location = headers.get("location", "")
            if status in (301, 302, 303) and location.startswith(self.redirect_uri):
                params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))
                if params.get("state") != state or "code" not in params:
                    raise SignInError(f"back at the client without a code: {location}")
                return params["code"], verifier
            if status not in (301, 302, 303):
                raise SignInError(f"stopped at {status}: {text[:300]!r}")
            path = urllib.parse.urlsplit(location).path
            status, headers, text = self.request("GET", location)
            if status != 200 or path not in FORMS:
                continue  # another redirect (or the error ends the walk at the next turn)
            form = {"csrf_token": csrf_token(text)}
            if path == "/signin":
                form.update(email=email, password=password)
            elif path == "/signin/code":
                form["code"] = read_code(email)
            elif path == "/signin/terms":
                form["decision"] = "accept"
            else:
                form["decision"] = "allow"
            status, headers, text = self.request("POST", path, form)
        raise SignInError("too many steps")

    def exchange(self, code: str, verifier: str) -> dict:
        basic = base64.b64encode(f"{urllib.parse.quote(self.client_id, safe='')}:"
                                 f"{urllib.parse.quote(self.client_secret, safe='')}".encode()).decode()
        status, _, text = self.request("POST", "/token", {
            "grant_type": "authorization_code", "code": code, "redirect_uri": self.redirect_uri,
            "code_verifier": verifier,
        }, headers={"Authorization": "Basic " + basic})
        if status != 200:
            raise SignInError(f"token endpoint answered {status}: {text[:300]!r}")
        return json.loads(text)

    def run(self, email: str, password: str, read_code: Callable[[str], str]) -> dict:
        """A whole sign-in; returns the token response. Leaves no connection open."""
        try:
            code, verifier = self.authorization_code(email, password, read_code)
            return self.exchange(code, verifier)
        finally:
            self.close()


class SmtpSink:
    """A loopback SMTP server that keeps the last 6-digit code sent to each address: where
    Passerelle's sign-in codes go during bench/run.py's sign-in row. Only what the walk
    needs of SMTP."""

    CODE = re.compile(rb"(?<!\d)(\d{6})(?!\d)")

    def __init__(self) -> None:
        self.codes: dict[str, str] = {}
        self.changed = threading.Condition()
        sink = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                self.wfile.write(b"220 bench sink\r\n")
                recipients: list[str] = []
                while line := self.rfile.readline():
                    verb = line[:4].upper()
                    if verb in (b"EHLO", b"HELO"):
                        self.wfile.write(b"250 bench\r\n")
                    elif verb == b"RCPT":
                        recipients.append(line.split(b":", 1)[1].strip().strip(b"<>").decode().lower())
                        self.wfile.write(b"250 ok\r\n")
                    elif verb == b"DATA":
                        self.wfile.write(b"354 go on\r\n")
                        data = b""
                        while (chunk := self.rfile.readline()) and chunk not in (b".\r\n", b".\n"):
                            data += chunk
                        sink.deliver(recipients, data)
                        recipients = []
                        self.wfile.write(b"250 queued\r\n")
                    elif verb == b"QUIT":
                        self.wfile.write(b"221 bye\r\n")
                        return
                    else:  # MAIL, RSET, NOOP
                        self.wfile.write(b"250 ok\r\n")

        socketserver.ThreadingTCPServer.daemon_threads = True
        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self.server = socketserver.ThreadingTCPServer((LOOPBACK, 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> SmtpSink:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def deliver(self, recipients: list[str], data: bytes) -> None:
        message = email.message_from_bytes(data)
        text = b""
        for part in message.walk():
            if part.get_content_type() == "text/plain":
                text += part.get_payload(decode=True) or b""
        match = self.CODE.search(text)
        if match:
            with self.changed:
                for address in recipients:
                    self.codes[address] = match.group(1).decode()
                self.changed.notify_all()

    def forget(self, address: str) -> None:
        with self.changed:
            self.codes.pop(address, None)

    def wait_code(self, address: str, timeout: float = 30) -> str:
        with self.changed:
            if not self.changed.wait_for(lambda: address in self.codes, timeout=timeout):
                raise SignInError(f"no sign-in code emailed to {address} within {timeout:.0f} s")
            return self.codes.pop(address)
