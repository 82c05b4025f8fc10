"""The service as people see it: its name and theme in every page and message (issue 9 #14).

One Passerelle can play another service (the demo bank "Banque Imaginaire"): SERVICE_NAME
replaces "Passerelle" wherever a page or a message names the service, in a translated
sentence's {service} placeholder (never by concatenation); THEME_STYLESHEET is a stylesheet
under idp/static that base.html loads after ours, to override its colours (CSS custom
properties: no inline style, which the CSP forbids); THEME_EMAIL_COLOUR colours mail, whose
clients ignore stylesheets. REGISTRATION_ENABLED and PARTNERS_ENABLED say whether pages may
link to registration and to the sign-in partners.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Make the name, theme and switches template globals: pages and mail both read them."""
    app.jinja_env.globals.update(
        service_name=app.config["SERVICE_NAME"],
        theme_stylesheet=app.config["THEME_STYLESHEET"],
        theme_email_colour=app.config["THEME_EMAIL_COLOUR"],
        registration_enabled=app.config["REGISTRATION_ENABLED"],
        # Each page learns has_partners from idp.federation.views; none when they are off.
        has_partners=False,
    )
