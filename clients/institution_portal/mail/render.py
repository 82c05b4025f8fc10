"""Email bodies from templates/clients/institution_portal/email/<name>/ (subject.txt,
body.txt, body.html), in one language or in French and English together. No Flask: the
`periods run` command and the views render the same way, with the shared catalog.

Each template holds only its message; the layout (portal_kit.mail's) puts
one section per language around it, with the footer, so a bilingual message is one email
with the French first, then the English (the ministry's practice), each marked with its lang.
"""

from __future__ import annotations

from clients.portal_kit import mail
from clients.portal_kit.mail import RenderedEmail, locales_for, long_date

__all__ = ["FOOTER", "RenderedEmail", "locales_for", "long_date", "render_email"]

EMAIL_FOLDER = "clients/institution_portal/email"


def N_(message: str) -> str:
    """Marks a string for extraction (Babel's default keywords); translated when rendered."""
    return message


# Here rather than in templates/.../_base/: Babel does not extract from "_" folders.
FOOTER = N_("This message was sent by the Portal for designated learning institutions. Help: %(url)s")


def render_email(name: str, locales: tuple[str, ...], context: dict) -> RenderedEmail:
    """The message `name` in these languages (one, or fr then en), portal_kit.mail.render_email
    with the portal's folder and footer (which needs `help_url` in the context)."""
    return mail.render_email(EMAIL_FOLDER, FOOTER, name, locales, context)
