"""Why the portal could not send a message (mail/smtp.py): portal_kit.mail's errors."""

from __future__ import annotations

from clients.portal_kit.mail import MailError, MailNotConfigured, MailNotSent

__all__ = ["MailError", "MailNotConfigured", "MailNotSent"]
