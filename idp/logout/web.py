"""The Flask side of single sign-out on Passerelle's own pages: the signed-out page with its
front-channel logout iframes (Front-Channel Logout 1.0 §3), whose policy lets it frame only
those relying parties' origins."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Response, render_template

from idp.context import app_context
from idp.extensions import db
from idp.logout.services import LogoutService
from idp.signin.models import UserSession
from idp.web.headers import content_security_policy


def get_logout_service() -> LogoutService:
    ctx = app_context()
    return LogoutService(db.session, ctx.settings, ctx.clock)


def frontchannel_urls(user_session: UserSession | None) -> list[str]:
    """The front-channel logout URLs of the relying parties this session signed into; read
    before the session ends (the page that says so loads them)."""
    if user_session is None:
        return []
    return get_logout_service().frontchannel_logout_urls(user_session.id, app_context().settings.OIDC_ISSUER)


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def signed_out_page(template: str, frames: list[str], *, continue_to: str | None = None, status: int = 200,
                    **context) -> Response:
    """Render a signed-out page that loads each front-channel logout URL in a hidden iframe
    (the page says everything without them, and without JavaScript); continue_to is the
    relying party's post-logout redirect, offered as a link that a script follows once the
    iframes have loaded."""
    response = Response(render_template(template, frontchannel_frames=frames, continue_to=continue_to, **context),
                        status=status, mimetype="text/html")
    if frames:
        origins = tuple(dict.fromkeys(origin_of(url) for url in frames))
        response.headers["Content-Security-Policy"] = content_security_policy(frame_origins=origins)
    return response
