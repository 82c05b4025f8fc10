"""The demo bank is not Passerelle (issue 9 #14): a second Passerelle with the settings of
config/banque-imaginaire.toml shows its own name and colours in its pages and mail, and
none of Passerelle's registration or sign-in partner pages, even when given a partners file."""

from __future__ import annotations

from email.utils import parseaddr

import pytest

from idp.config import ConfigError
from idp.extensions import db
from idp.mail.devbox import html_body, text_body
from tests.conftest import build_app
from tests.federation_support import DEMO_BANK_BRANDING
from tests.integration.signin.support import SignIn, make_user

BANK = DEMO_BANK_BRANDING
NAME = BANK["SERVICE_NAME"]
THEME = "/static/" + BANK["THEME_STYLESHEET"]
OTHER_PARTNER = """
[partners.caisse]
names = { fr = "Caisse", en = "Credit union" }
issuer = "https://caisse.example"
client_id = "passerelle"
client_secret = "a-secret-that-is-long-enough-for-the-check"
"""
REGISTRATION_PATHS = ["/register/code", "/register/confirm", "/register/password", "/register/invitation/x"]
PARTNER_PATHS = ["/signin/partners", "/signin/partners/callback?state=x&code=y", "/account/partners"]


@pytest.fixture
def bank(tmp_path, database_uri, clock):
    """The bank's branding and switches, and a partners file it must not read."""
    partners = tmp_path / "partners.toml"
    partners.write_text(OTHER_PARTNER, encoding="utf-8")
    app = build_app(database_uri, clock, PARTNERS_FILE=str(partners), **BANK)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def signin_page(http, locale: str):
    start = http.get("/signin", headers={"Accept-Language": locale})
    assert start.status_code == 303
    return http.get(start.headers["Location"], headers={"Accept-Language": locale})


def test_the_bank_config_names_a_theme_that_exists():
    assert NAME == "Banque Imaginaire" and BANK["THEME_STYLESHEET"].startswith("css/themes/")
    assert BANK["REGISTRATION_ENABLED"] is False and BANK["PARTNERS_ENABLED"] is False


@pytest.mark.parametrize(("locale", "title"), [("fr", "Ouvrir une session – Banque Imaginaire"),
                                                ("en", "Sign in – Banque Imaginaire")])
def test_the_bank_pages_carry_its_name_and_colours(bank, locale, title):
    http = bank.test_client()
    page = signin_page(http, locale)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f"<title>{title}</title>" in html
    assert f">{NAME}</a>" in html  # the header
    assert f'<link rel="stylesheet" href="{THEME}">' in html
    assert "Passerelle" not in html
    assert 'style="' not in html  # the colours come from the stylesheet: the CSP allows no inline style
    theme = http.get(THEME)
    assert theme.status_code == 200 and "--heading:" in theme.get_data(as_text=True)
    help_page = http.get("/help", headers={"Accept-Language": locale}).get_data(as_text=True)
    assert NAME in help_page and "Passerelle" not in help_page


def test_the_bank_offers_neither_registration_nor_sign_in_partners(bank):
    http = bank.test_client()
    html = signin_page(http, "en").get_data(as_text=True)
    assert "/register" not in html and "/signin/partners" not in html
    help_page = http.get("/help").get_data(as_text=True)
    assert "/register" not in help_page and 'id="create-account"' not in help_page
    for path in REGISTRATION_PATHS + PARTNER_PATHS:
        assert http.get(path).status_code == 404, path
    assert bank.extensions["idp_partners"] == {}  # the partners file was not even read


def test_a_partner_hint_at_the_bank_is_the_ordinary_sign_in(bank):
    """login_hint=partner names no page when the partners are off (never a 500)."""
    http = bank.test_client()
    SignIn(http).start()
    assert http.get("/signin?login_hint=partner").status_code in (200, 303)


def test_the_bank_mail_carries_its_name_and_colour(bank, mailbox):
    make_user(bank, email="client@banque.example")
    http = bank.test_client()
    signin = SignIn(http)
    response = signin.submit_password("client@banque.example", page=signin.start())
    for _ in range(3):  # on to the code page, which sends the code
        if response.status_code != 303:
            break
        response = http.get(response.headers["Location"])
    message = mailbox.wait_for("client@banque.example")
    name, address = parseaddr(message["From"])
    assert name == NAME and address == BANK["MAIL_FROM"]
    assert message["Subject"] == f"Your {NAME} sign-in code"
    text, html = text_body(message), html_body(message)
    assert f"Your code to sign in to {NAME} is:" in text and f"{NAME} will never ask you for it" in text
    assert f">{NAME}</p>" in html and BANK["THEME_EMAIL_COLOUR"] in html
    assert "Passerelle" not in text + html + message["Subject"]


def test_passerelle_itself_keeps_its_name_registration_and_no_theme(app, client):
    html = signin_page(client, "en").get_data(as_text=True)
    assert "<title>Sign in – Passerelle</title>" in html and "/register/code" in html
    assert "/static/css/themes/" not in html


def test_a_partner_whose_issuer_is_this_server_is_refused_at_startup(tmp_path, database_uri, clock):
    partners = tmp_path / "partners.toml"
    partners.write_text(OTHER_PARTNER.replace("https://caisse.example", "http://127.0.0.1:5000"), encoding="utf-8")
    with pytest.raises(ConfigError, match="caisse.*own OIDC_ISSUER"):
        build_app(database_uri, clock, PARTNERS_FILE=str(partners))


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("THEME_STYLESHEET", "css/themes/missing.css"),
        ("THEME_STYLESHEET", "../../config/test.toml"),
        ("THEME_STYLESHEET", "css/../../../pyproject.toml"),
        ("THEME_EMAIL_COLOUR", "red; display:none"),
        ("SERVICE_NAME", ""),
        ("SERVICE_NAME", "<b>Bank</b>"),
        ("REGISTRATION_ENABLED", "no"),
    ],
)
def test_a_wrong_branding_setting_stops_startup(database_uri, clock, setting, value):
    with pytest.raises(ConfigError, match=setting):
        build_app(database_uri, clock, **{setting: value})

