"""The development mailbox keeps what it receives and lists it, newest first."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from werkzeug.test import Client

from idp.mail.devbox import Mailbox, SmtpServer, mailbox_page
from tests.support import free_port


def test_devbox_stores_messages_on_disk_and_lists_them(tmp_path):
    server = SmtpServer(Mailbox(tmp_path), free_port()).start()
    try:
        for subject in ("first", "<second>"):
            message = EmailMessage()
            message["From"], message["To"], message["Subject"] = "p@example.ca", "ana@example.ca", subject
            message.set_content("Code: 123456")
            with smtplib.SMTP("127.0.0.1", server.port) as smtp:
                smtp.send_message(message)
        server.mailbox.wait_for("ana@example.ca", count=2)
    finally:
        server.stop()
    assert len(list(tmp_path.glob("*.eml"))) == 2
    reloaded = Mailbox(tmp_path)  # a restarted devbox still shows them
    page = Client(mailbox_page(reloaded)).get("/").get_data(as_text=True)
    assert page.index("<h2>&lt;second&gt;</h2>") < page.index("<h2>first</h2>")
    assert "Code: 123456" in page
