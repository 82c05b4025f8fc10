"""Reading what Passerelle sent: links and codes out of real messages (the mailbox fixture)."""

from __future__ import annotations

import re
import socket
import threading
from email.message import EmailMessage
from urllib.parse import urlsplit

from idp.mail.devbox import Mailbox, _parse, html_body, text_body

__all__ = ["html_body", "text_body", "links_in", "path_of_link", "code_in", "ScriptedMailbox", "SilentRelay"]

_LINK = re.compile(r"https?://[^\s<>\"']+")
_CODE = re.compile(r"(?<![\w-])(\d{6})(?![\w-])")


def links_in(message: EmailMessage) -> list[str]:
    """Every absolute link in the text body, in order."""
    return _LINK.findall(text_body(message))


def path_of_link(message: EmailMessage, contains: str) -> str:
    """The path and query of the first link containing `contains`, for the test client."""
    for link in links_in(message):
        if contains in link:
            parts = urlsplit(link)
            return parts.path + (f"?{parts.query}" if parts.query else "")
    raise AssertionError(f"no link containing {contains!r} in {links_in(message)}")


def code_in(message: EmailMessage) -> str:
    """The first 6-digit code in the text body."""
    match = _CODE.search(text_body(message))
    assert match, f"no 6-digit code in: {text_body(message)!r}"
    return match.group(1)


class ScriptedMailbox(Mailbox):
    """A mailbox whose SMTP server first answers RCPT TO and DATA from a script: each scripted
    reply is used once, in order ("550 5.1.1 ...", "451 4.3.0 ..."), then it accepts as
    usual. `refused` keeps each message the server turned down at DATA."""

    def __init__(self, *, rcpt: list[str] | None = None, data: list[str] | None = None):
        super().__init__()
        self.rcpt_replies = list(rcpt or [])
        self.data_replies = list(data or [])
        self.refused: list[EmailMessage] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        if self.rcpt_replies:
            return self.rcpt_replies.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.data_replies:
            self.refused.append(_parse(envelope.content))
            return self.data_replies.pop(0)
        return await super().handle_DATA(server, session, envelope)


class SilentRelay:
    """A TCP server on 127.0.0.1 that accepts SMTP connections and then stops answering.

    stall_at "greeting": says nothing at all; "ehlo": greets, then ignores EHLO; "data":
    plays along until the message is sent, then never answers the final dot.
    """

    def __init__(self, port: int, stall_at: str = "greeting"):
        self.port = port
        self.stall_at = stall_at
        self._listener = socket.create_server(("127.0.0.1", port))
        self._connections: list[socket.socket] = []
        self._closed = threading.Event()

    def start(self) -> SilentRelay:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def stop(self) -> None:
        self._closed.set()
        try:
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        except OSError:
            pass
        self._listener.close()
        for connection in self._connections:
            connection.close()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            self._connections.append(connection)
            threading.Thread(target=self._converse, args=(connection,), daemon=True).start()

    def _converse(self, connection: socket.socket) -> None:
        try:
            if self.stall_at == "greeting":
                return  # the connection stays open, silent, until stop()
            connection.sendall(b"220 relay ready\r\n")
            lines = connection.makefile("rb")
            in_data = False
            for line in lines:
                if in_data:
                    if line == b".\r\n":
                        return  # never answers the end of the message
                    continue
                if self.stall_at == "ehlo":
                    return
                verb = line[:4].upper()
                if verb == b"DATA":
                    in_data = True
                    connection.sendall(b"354 go ahead\r\n")
                else:
                    connection.sendall(b"250 ok\r\n")
        except OSError:
            return
