"""The institution portal's own mail (no Flask): templates rendered in the person's language
(or French and English together) and sent over SMTP with the PORTAL_SMTP_* settings.

    from clients.institution_portal.mail import Mailer, locales_for, render_email

    rendered = render_email("report-receipt", locales_for(None), {"portal_url": ..., ...})
    mailer = Mailer(settings, clock)
    mailer.send(mailer.build("primary@college.example.ca", rendered))   # raises MailError

Templates: templates/clients/institution_portal/email/<name>/{subject.txt,body.txt,body.html},
each holding only its message (the layout adds the language sections and the footer, which
needs `help_url` in the context).
"""

from clients.institution_portal.mail.errors import MailError, MailNotConfigured, MailNotSent
from clients.institution_portal.mail.render import RenderedEmail, locales_for, long_date, render_email
from clients.institution_portal.mail.smtp import Mailer

__all__ = ["MailError", "MailNotConfigured", "MailNotSent", "Mailer", "RenderedEmail", "locales_for", "long_date",
           "render_email"]
