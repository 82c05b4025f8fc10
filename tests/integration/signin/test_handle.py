"""The sign-in handle (the passerelle_signin cookie): a new one after each completed factor,
so a handle planted or captured before a factor cannot finish the sign-in (fixation), and
none left once the sign-in ends, so the sign-in page afterwards is an ordinary one."""

from __future__ import annotations

from urllib.parse import urlsplit

from tests import oidc_support
from tests.federation_support import back_at_broker, leave_for_partner, sign_in_at_partner
from tests.integration.federation.conftest import broker, http, partner  # noqa: F401  (fixtures)
from tests.integration.signin.support import SignIn, cookie_value, make_user
from tests.signin_support import CODE_PATH, TERMS_PATH, signin_codes_sent, wait_for_signin_code

SIGNIN_COOKIE = "passerelle_signin"


def test_the_handle_changes_at_the_password_and_again_at_the_code(client, app, mailbox):
    make_user(app)
    browser = SignIn(client)
    browser.start()
    first = cookie_value(client, SIGNIN_COOKIE)
    sent = signin_codes_sent("ana@example.ca")
    response = browser.submit_password()
    assert response.status_code == 303
    second = cookie_value(client, SIGNIN_COOKIE)
    assert second and second != first
    # The handle from before the password no longer names the sign-in.
    client.set_cookie(SIGNIN_COOKIE, first)
    assert client.get(CODE_PATH).status_code == 400
    client.set_cookie(SIGNIN_COOKIE, second)
    page = client.get(CODE_PATH)
    assert page.status_code == 200
    response = browser.finish_steps(response, codes_before=sent)
    assert response.headers["Location"] == "/account"


def test_a_handle_captured_before_the_password_cannot_finish_the_sign_in(app, mailbox):
    """Fixation: a handle planted in the browser (over http, on a shared computer) or read off
    it before the password is worth nothing once the person typed their password and code:
    its holder can neither answer the consent step in their place nor collect the code."""
    oidc_support.make_user(app)
    params = relying_party_request(app, require_consent=True)
    victim = app.test_client()
    victim.set_cookie("passerelle_lang", "en")
    victim.get("/authorize", query_string=params)
    planted = cookie_value(victim, SIGNIN_COOKIE)
    sent = signin_codes_sent("zoe@example.ca")
    page = victim.get("/signin")
    response = victim.post("/signin", data={"email": "zoe@example.ca", "password": oidc_support.PASSWORD,
                                            "csrf_token": oidc_support.csrf_token(page.text)})
    after_password = cookie_value(victim, SIGNIN_COOKIE)
    assert after_password != planted
    code_page = victim.get(CODE_PATH)
    code = wait_for_signin_code("zoe@example.ca", sent)
    response = victim.post(CODE_PATH, data={"code": code, "csrf_token": oidc_support.csrf_token(code_page.text)})
    next_step = response.headers["Location"]
    assert next_step in (TERMS_PATH, "/signin/consent")
    assert cookie_value(victim, SIGNIN_COOKIE) not in (planted, after_password)

    for stale in (planted, after_password):
        attacker = app.test_client()
        attacker.set_cookie(SIGNIN_COOKIE, stale)
        for path in (next_step, "/signin", CODE_PATH, "/signin/consent"):
            assert attacker.get(path).status_code == 400, path
        assert "code=" not in attacker.get("/authorize/resume").headers.get("Location", "")

    # The person, with the handle they now hold, finishes as usual.
    response = walk(victim, response)
    assert "code" in oidc_support.query_of(response.headers["Location"])


def test_after_a_relying_party_sign_in_the_cookie_is_gone_and_signin_is_a_normal_page(app, mailbox):
    oidc_support.make_user(app)
    params = relying_party_request(app)
    browser = app.test_client()
    browser.set_cookie("passerelle_lang", "en")
    response = walk(browser, browser.get("/authorize", query_string=params))
    assert "code" in oidc_support.query_of(response.headers["Location"])
    assert cookie_value(browser, SIGNIN_COOKIE) is None
    # Signed in: /signin goes straight on; signed out: a fresh sign-in page, never "expired".
    assert browser.get("/signin").status_code == 303
    SignIn(browser).sign_out()
    fresh = browser.get("/signin")
    assert fresh.status_code == 303
    page = browser.get(fresh.headers["Location"])
    assert page.status_code == 200 and 'name="password"' in page.text


def test_a_cookie_naming_a_finished_sign_in_gets_a_fresh_page_not_expired(app, mailbox):
    """Even if the browser missed the deletion (a lost response), the spent handle of a
    sign-in that completed leads to a fresh sign-in page."""
    oidc_support.make_user(app)
    params = relying_party_request(app)
    browser = app.test_client()
    browser.set_cookie("passerelle_lang", "en")
    handles = []
    response = walk(browser, browser.get("/authorize", query_string=params), on_resume=handles.append)
    assert "code" in oidc_support.query_of(response.headers["Location"])
    [spent] = handles
    SignIn(browser).sign_out()
    browser.set_cookie(SIGNIN_COOKIE, spent)
    fresh = browser.get("/signin")
    assert fresh.status_code == 303
    assert browser.get(fresh.headers["Location"]).status_code == 200


def relying_party_request(app, **options) -> dict[str, str]:
    relying_party = oidc_support.make_client(app, scope="openid", **options)
    return oidc_support.authorization_params(relying_party, code_challenge_method="S256",
                                             code_challenge=oidc_support.pkce_pair()[1])


def walk(browser, response, on_resume=None):
    """Carry on with the sign-in this response is part of, as the browser that holds its
    cookie; returns the answer that leaves the IdP. on_resume(handle) sees the sign-in handle
    the browser holds when it is sent to /authorize/resume."""
    email = "zoe@example.ca"
    sent = signin_codes_sent(email)
    for _ in range(12):
        location = response.headers.get("Location", "")
        if response.status_code not in (302, 303) or location.startswith("https://"):
            return response
        path = urlsplit(location).path
        if path == "/authorize/resume" and on_resume is not None:
            on_resume(cookie_value(browser, SIGNIN_COOKIE))
        page = browser.get(location)
        if path == "/signin" and page.status_code == 200:
            sent = signin_codes_sent(email)
            response = browser.post("/signin", data={"email": email, "password": oidc_support.PASSWORD,
                                                     "csrf_token": oidc_support.csrf_token(page.text)})
        elif path == CODE_PATH and page.status_code == 200:
            code = wait_for_signin_code(email, sent)
            response = browser.post(CODE_PATH, data={"code": code, "csrf_token": oidc_support.csrf_token(page.text)})
        elif page.status_code == 200 and 'name="decision"' in page.text:
            decision = "accept" if path.endswith("terms") else "allow"
            response = browser.post(path, data={"decision": decision, "csrf_token": oidc_support.csrf_token(page.text)})
        else:
            response = page
    raise AssertionError("too many steps")


def test_a_partner_sign_in_gets_a_new_handle_when_the_partner_answers(broker, http, partner):
    """The partner's answer is a factor like the password: the handle from before it is dead."""
    params = relying_party_request(broker)
    http.get("/authorize", query_string=params)
    before = cookie_value(http, SIGNIN_COOKIE)
    to_partner = leave_for_partner(http)
    back = back_at_broker(http, sign_in_at_partner(partner, to_partner.headers["Location"]))
    assert back.status_code == 303
    after = cookie_value(http, SIGNIN_COOKIE)
    assert after and after != before
    attacker = broker.test_client()
    attacker.set_cookie(SIGNIN_COOKIE, before)
    assert attacker.get(urlsplit(back.headers["Location"]).path).status_code == 400
    assert http.get(urlsplit(back.headers["Location"]).path).status_code == 200
