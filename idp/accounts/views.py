"""The person's own pages: their account, the language toggle and help."""

from __future__ import annotations

from flask import Blueprint, abort, has_request_context, redirect, render_template, request, url_for
from flask_babel import get_locale

from idp.accounts.services import AccountService
from idp.context import app_context
from idp.extensions import db
from idp.i18n import LOCALES
from idp.security.redirects import safe_local_path
from idp.signin.current import ACCOUNT_PATH, begin_local_signin, current_session
from idp.signin.forms import SignoutForm
from idp.web import cookies
from idp.web.text import FORM_TEXT

bp = Blueprint("accounts", __name__)

# Each language named in itself, so a person who reads only that one can find it.
LANGUAGE_NAMES = {"fr": "Français", "en": "English"}


def get_account_service() -> AccountService:
    ctx = app_context()
    return AccountService(db.session, ctx.settings, ctx.clock, ctx.passwords)


# A global, not a context variable: macros imported without context still see it.
bp.record_once(lambda state: state.app.jinja_env.globals.update(form_text=FORM_TEXT))


@bp.app_context_processor
def language_toggle() -> dict:
    """Every page links to the other language at the same address (design.md, Pages)."""
    if not has_request_context():  # mail and commands render without a page around them
        return {}
    locale = str(get_locale())
    other = next(code for code in LOCALES if code != locale)
    here = request.full_path.rstrip("?")
    return {
        "current_locale": locale,
        "other_locale": other,
        "other_language_name": LANGUAGE_NAMES[other],
        "language_toggle_url": url_for("accounts.language", code=other, next=here),
    }


@bp.route("/")
def home():
    return redirect(url_for("accounts.account"), code=303)


@bp.route("/account")
def account():
    user_session = current_session()
    if user_session is None:
        return begin_local_signin(ACCOUNT_PATH)
    user = get_account_service().get(user_session.user_id)
    return render_template("accounts/account.html", user=user, form=SignoutForm())


@bp.route("/language/<code>")
def language(code: str):
    """Switch language and return to the same page; only local paths (no open redirect)."""
    if code not in LOCALES:
        abort(404)
    response = redirect(safe_local_path(request.args.get("next"), ACCOUNT_PATH), code=303)
    cookies.set_language_cookie(response, code)
    return response


@bp.route("/help")
def help_page():
    return render_template("accounts/help.html")
