"""The broker service for a request, for the partner pages and for the other features that
end or undo a partner sign-in (terms: a declined first sign-in keeps no account). Kept out
of federation/views.py so that other features' views never import a views module.
"""

from __future__ import annotations

from flask import current_app

from idp.context import app_context
from idp.extensions import db
from idp.federation.services import BrokerService
from idp.mail.services import MailService


def get_broker_service() -> BrokerService:
    ctx = app_context()
    return BrokerService(
        db.session, ctx.settings, ctx.clock, ctx.hasher,
        current_app.extensions["idp_partners"], current_app.extensions["idp_partner_cache"],
        # Tests put a requests.Session here that tampers with the partner's answers.
        http=current_app.extensions.get("idp_partner_http"),
        mail=MailService(db.session, ctx.settings, ctx.clock, ctx.secret_box),
    )
