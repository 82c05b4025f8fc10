"""A development mailbox: an SMTP server on loopback that keeps what it receives, and a page
that lists it. `make run` starts it (`idp mail devbox`); the test suite's `mailbox` fixture
is the same server without the page.

Never for production: it accepts mail from anyone who can reach it and keeps it in clear.
"""

from __future__ import annotations

import email
import email.policy
import html
import threading
import time
from email.message import EmailMessage
from pathlib import Path
from wsgiref.simple_server import make_server

from aiosmtpd.controller import Controller


class Mailbox:
    """Messages received, in memory, and also as .eml files when given a directory."""

    def __init__(self, directory: Path | None = None):
        self.directory = directory
        self._messages: list[EmailMessage] = []
        self._lock = threading.Condition()
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
            for path in sorted(directory.glob("*.eml")):
                self._messages.append(_parse(path.read_bytes()))

    # aiosmtpd handler hook
    async def handle_DATA(self, server, session, envelope) -> str:
        self.add(envelope.content)
        return "250 Message accepted for delivery"

    def add(self, raw: bytes) -> None:
        message = _parse(raw)
        with self._lock:
            if self.directory is not None:
                (self.directory / f"{time.time_ns()}.eml").write_bytes(raw)
            self._messages.append(message)
            self._lock.notify_all()

    @property
    def messages(self) -> list[EmailMessage]:
        with self._lock:
            return list(self._messages)

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()

    def to(self, address: str) -> list[EmailMessage]:
        return [message for message in self.messages if address.lower() in message["To"].lower()]

    def last_to(self, address: str) -> EmailMessage | None:
        received = self.to(address)
        return received[-1] if received else None

    def wait_for(self, address: str, count: int = 1, timeout: float = 10.0,
                 sender: str | None = None) -> EmailMessage:
        """The latest message to this address once at least `count` have arrived; with
        `sender`, only messages whose From contains it count (another app's mail sent by a
        background thread may land at any moment)."""
        deadline = time.monotonic() + timeout

        def received() -> list[EmailMessage]:
            return [message for message in self.to(address)
                    if sender is None or sender.lower() in str(message["From"]).lower()]

        with self._lock:
            while len(received()) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"no message #{count} to {address} within {timeout} s")
                self._lock.wait(remaining)
        return received()[-1]


def _parse(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]


def text_body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""


def html_body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    return part.get_content() if part is not None else ""


class SmtpServer:
    """aiosmtpd on 127.0.0.1 delivering into a Mailbox."""

    def __init__(self, mailbox: Mailbox, port: int):
        self.mailbox = mailbox
        self.port = port
        self._controller = Controller(mailbox, hostname="127.0.0.1", port=port)

    def start(self) -> SmtpServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()


PAGE = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>Boîte de développement / Development mailbox</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}}
article{{border-top:1px solid #999;padding:1rem 0}}pre{{white-space:pre-wrap}}</style></head>
<body><h1>Boîte de développement / Development mailbox</h1>
<p>{count} message(s). Newest first. / Plus récent en premier.</p>{items}</body></html>"""

ITEM = """<article><h2>{subject}</h2><p>{date} · {to}</p><pre>{body}</pre></article>"""


def mailbox_page(mailbox: Mailbox):
    """A WSGI app listing every message, newest first, with its text body."""

    def app(environ, start_response):
        items = "".join(
            ITEM.format(
                subject=html.escape(str(message["Subject"])),
                date=html.escape(str(message["Date"])),
                to=html.escape(str(message["To"])),
                body=html.escape(text_body(message)),
            )
            for message in reversed(mailbox.messages)
        )
        body = PAGE.format(count=len(mailbox.messages), items=items).encode()
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))])
        return [body]

    return app


def serve(directory: Path, smtp_port: int, http_port: int) -> None:
    """Run the SMTP server and the page until interrupted."""
    mailbox = Mailbox(directory)
    smtp = SmtpServer(mailbox, smtp_port).start()
    try:
        with make_server("127.0.0.1", http_port, mailbox_page(mailbox)) as httpd:
            httpd.serve_forever()
    finally:
        smtp.stop()
