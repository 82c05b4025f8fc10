"""Which SMTP failures are permanent (a dead letter) and which are retried, and what the
reason says (issue 9, item 11). RFC 5321 §4.2.1: 5yz permanent, 4yz transient."""

from __future__ import annotations

import smtplib
import socket

import pytest

from idp.mail.services import mask_addresses
from idp.mail.smtp import _transport_error


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (smtplib.SMTPRecipientsRefused({"ghost@example.ca": (550, b"5.1.1 <ghost@example.ca> unknown")}), 550),
        (smtplib.SMTPSenderRefused(553, b"5.7.1 sender not allowed", "no-reply@passerelle.invalid"), 553),
        (smtplib.SMTPDataError(554, b"5.7.1 message refused as spam"), 554),
    ],
)
def test_a_5xx_about_the_message_is_permanent(error, code):
    failure = _transport_error(error, about_message=True)
    assert failure.permanent and failure.smtp_code == code and not failure.relay_down
    assert "ghost@" not in str(failure) and "no-reply@" not in str(failure)


@pytest.mark.parametrize(
    "error",
    [
        smtplib.SMTPRecipientsRefused({"ana@example.ca": (450, b"4.2.1 mailbox busy")}),
        smtplib.SMTPRecipientsRefused({"a@example.ca": (550, b"no"), "b@example.ca": (451, b"later")}),
        smtplib.SMTPDataError(451, b"4.3.0 try again later"),
        smtplib.SMTPServerDisconnected("Connection unexpectedly closed"),
        socket.timeout("timed out"),
    ],
)
def test_a_4xx_or_a_network_failure_is_retried(error):
    assert not _transport_error(error, about_message=True).permanent


@pytest.mark.parametrize(
    "error",
    [
        smtplib.SMTPAuthenticationError(535, b"5.7.8 authentication failed"),
        smtplib.SMTPHeloError(554, b"go away"),
        smtplib.SMTPNotSupportedError("STARTTLS extension not supported by server."),
        ConnectionRefusedError(111, "Connection refused"),
    ],
)
def test_a_failure_before_the_message_is_the_relays_and_retried(error):
    """Wrong credentials or a relay refusing us would otherwise turn every message into a
    dead letter: fixing the settings should send what waited."""
    failure = _transport_error(error, about_message=False)
    assert failure.relay_down and not failure.permanent


def test_addresses_in_replies_are_masked():
    assert mask_addresses("550 5.1.1 <ghost@example.ca>: unknown; also bob.smith@mail.example.org") == (
        "550 5.1.1 <g***@example.ca>: unknown; also b***@mail.example.org"
    )
