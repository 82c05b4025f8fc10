"""RP-Initiated Logout 1.0: end the session, then return to a registered URI or say so.

Ending it tells the other relying parties too (issue 14): back-channel logout tokens are
queued for `idp worker`, and the page this answers with loads each front-channel logout URL
in an iframe before going back to the relying party (Front-Channel Logout 1.0 §3)."""

from __future__ import annotations

from authlib.common.urls import add_params_to_uri
from flask import Response, redirect, render_template
from flask_babel import gettext as _

from idp.extensions import db
from idp.logout.web import frontchannel_urls, signed_out_page
from idp.oidc.authorization import oidc_server, verified_id_token_claims
from idp.oidc.responses import error_page
from idp.signin import current as signin


def end_session(params: dict[str, str]) -> Response:
    """Redirect only with a valid id_token_hint and an exactly registered URI; otherwise
    never redirect (conformance RP-Initiated Logout #3-#11)."""
    server = oidc_server()
    hint, target = params.get("id_token_hint"), params.get("post_logout_redirect_uri")
    claims = verified_id_token_claims(server, hint) if hint else None
    if hint and claims is None:
        return error_page("invalid_request", _("This sign-out request is not valid. You are still signed in."))
    client = None
    if claims is not None:
        audience = claims.get("aud")
        client_id = audience[0] if isinstance(audience, list) and audience else audience
        if params.get("client_id") and params["client_id"] != client_id:
            return error_page("invalid_request", _("This sign-out request is not valid. You are still signed in."))
        client = server.clients.get(db.session, client_id)
    if target and (client is None or target not in client.post_logout_redirect_uris):
        return error_page("invalid_request", _("The application asked to return to an address it has not registered."))
    session = signin.current_session()
    if claims is None or client is None or not _session_matches(server, session, client, claims):
        if session is None:
            return Response(render_template("oidc/signed_out.html"))
        return Response(render_template("oidc/logout_confirm.html"))
    continue_to = None
    if target:
        state = params.get("state")
        continue_to = add_params_to_uri(target, [("state", state)]) if state else target
    return _sign_out(server, session, continue_to)


def confirm() -> Response:
    """The person confirmed on our own page (CSRF-protected form)."""
    return _sign_out(oidc_server(), signin.current_session(), None)


def _session_matches(server, session, client, claims) -> bool:
    """The hint names the person signed in here (or nobody is signed in any more)."""
    if session is None:
        return True
    if claims.get("sid") and claims["sid"] == session.sid:
        return True
    user = server.active_user(session.user_id)
    return user is not None and server.subject(client, user) == claims.get("sub")


def _sign_out(server, session, continue_to: str | None) -> Response:
    """End the session; answer with a redirect to continue_to, or with the signed-out page
    when there is nowhere to go or front-channel logout iframes to load first."""
    frames = frontchannel_urls(session)
    if continue_to and not frames:
        response = redirect(continue_to, 303)
    else:
        response = signed_out_page("oidc/signed_out.html", frames, continue_to=continue_to)
    if session is not None:
        server.tokens().revoke_for_session(session.id)
    signin.end_current_session(response)
    db.session.commit()
    return response
