""""Almost there" records consent to the terms version it showed: one published while the
person was on the page is refused, the page shows the new one, and they consent again."""

from __future__ import annotations

import re
import shutil
from html import unescape

import pytest
from sqlalchemy import select

from idp.accounts.models import User
from idp.context import app_context
from idp.extensions import db
from idp.terms.documents import TERMS_ROOT
from idp.terms.models import TermsAcceptance
from idp.terms.services import TermsService
from tests.conftest import build_app
from tests.integration.registration.support import EMAIL, PASSWORD, csrf, reach_almost_there
from tests.robot_support import solve_robot_check

SHOWN = "2026-11"
NEW_VERSION = "2099-01"
SHOWN_VERSION = re.compile(r'name="terms_version" type="hidden" value="([^"]*)"')
CHANGED = {
    "en": "A new version of the terms of use and the privacy policy was published while you were on this page. "
          "Read it, then check the box again to consent.",
    "fr": "Une nouvelle version des conditions d’utilisation et de la politique de confidentialité a été publiée "
          "pendant que vous étiez sur cette page. Lisez-la, puis cochez de nouveau la case pour donner votre "
          "consentement.",
}


@pytest.fixture
def app(database_uri, clock, tmp_path):
    """An operator's own documents (TERMS_DIRECTORY): the bundled version and a newer one."""
    root = tmp_path / "terms"
    shutil.copytree(TERMS_ROOT / SHOWN, root / SHOWN)
    (root / NEW_VERSION).mkdir()
    for kind in ("terms", "privacy"):
        for locale in ("fr", "en"):
            (root / NEW_VERSION / f"{kind}.{locale}.html").write_text(
                '{% extends "terms/_embedded.html" if embedded else "terms/_document.html" %}\n'
                f'{{% set document_kind = "{kind}" %}}{{% set document_locale = "{locale}" %}}\n'
                f"{{% block document %}}<p>{kind} {locale} {NEW_VERSION}: new rules.</p>{{% endblock %}}\n"
            )
    app = build_app(database_uri, clock, TERMS_DIRECTORY=str(root), RATELIMIT_ENABLED=False)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def publish(app, version: str) -> None:
    with app.app_context():
        ctx = app_context()
        TermsService(db.session, ctx.settings, ctx.clock).publish(version)
        db.session.commit()


def acceptances(app) -> list[tuple[str, str]]:
    with app.app_context():
        return [(row.version, row.locale) for row in db.session.scalars(select(TermsAcceptance))]


def submit(client, page, **overrides):
    data = {"csrf_token": csrf(page.text), "password": PASSWORD, "confirm_password": PASSWORD,
            "accept_terms": "y", "altcha": solve_robot_check(client)}
    shown = SHOWN_VERSION.search(page.text)
    if shown:
        data["terms_version"] = shown.group(1)
    data.update(overrides)
    return client.post("/register/password", data=data)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_version_published_while_on_almost_there_must_be_consented_to_again(app, client, mailbox, clock, language):
    client.set_cookie("passerelle_lang", language)
    publish(app, SHOWN)
    reach_almost_there(app, client, mailbox, locale=language)
    page = client.get("/register/password")
    assert f'name="terms_version" type="hidden" value="{SHOWN}"' in page.text
    clock.advance(60)
    publish(app, NEW_VERSION)

    refused = submit(client, page)
    assert refused.status_code == 422
    text = " ".join(unescape(refused.text).split())
    assert CHANGED[language] in text
    assert f'<a href="#accept_terms">{CHANGED[language]}</a>' in text  # in the error summary
    assert f'value="{NEW_VERSION}"' in refused.text  # the page now carries the new version
    checkbox = re.search(r'<input[^>]*name="accept_terms"[^>]*>', refused.text).group(0)
    assert " checked" not in checkbox and 'aria-invalid="true"' in checkbox  # consent again
    with app.app_context():
        assert db.session.scalar(select(User.activated_at).where(User.email == EMAIL)) is None
    assert acceptances(app) == []

    done = submit(client, refused)
    assert done.status_code == 303, done.text[:500]
    assert acceptances(app) == [(NEW_VERSION, language)]


def test_the_version_shown_is_the_one_recorded(app, client, mailbox):
    client.set_cookie("passerelle_lang", "en")
    publish(app, SHOWN)
    reach_almost_there(app, client, mailbox)
    page = client.get("/register/password")
    assert f'name="terms_version" type="hidden" value="{SHOWN}"' in page.text
    assert submit(client, page).status_code == 303
    assert acceptances(app) == [(SHOWN, "en")]


def test_on_the_code_form_consent_to_a_version_replaced_meanwhile_is_asked_again_at_sign_in(app, client, mailbox, clock):
    """The code form records the version it showed; a newer one published before the person
    submitted is not accepted on their behalf (the first sign-in asks for it)."""
    from tests.integration.registration.support import invitation_code, invite
    from tests.mail_support import code_in

    client.set_cookie("passerelle_lang", "en")
    publish(app, SHOWN)
    invite(app, kind="code", locale="en")
    code = invitation_code(mailbox.wait_for(EMAIL))
    page = client.get("/register/code")
    assert f'name="terms_version" type="hidden" value="{SHOWN}"' in page.text
    clock.advance(60)
    publish(app, NEW_VERSION)
    response = client.post("/register/code", data={
        "csrf_token": csrf(page.text), "code": code, "email": EMAIL, "given_name": "Zoé",
        "family_name": "Citoyenne", "phone_number": "514 555-0123", "password": PASSWORD,
        "confirm_password": PASSWORD, "accept_terms": "y", "terms_version": SHOWN,
        "altcha": solve_robot_check(client)})
    assert response.status_code == 303
    confirm = client.get("/register/confirm")
    done = client.post("/register/confirm", data={"csrf_token": csrf(confirm.text), "email": EMAIL,
                                                  "verification_code": code_in(mailbox.wait_for(EMAIL, count=2))})
    assert done.status_code == 303
    with app.app_context():
        assert db.session.scalar(select(User.activated_at).where(User.email == EMAIL)) is not None
    assert acceptances(app) == []
