"""Mail failures."""


class MailError(Exception):
    """Base class of mail failures."""


class MailTransportError(MailError):
    """The SMTP server refused the message or could not be reached; it stays queued."""
