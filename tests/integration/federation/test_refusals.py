"""Every way a partner's answer can fail ends on a clear page with a way back to the
choices: never a 500, never a partial sign-in (issue 5, The broker and Tests)."""

from __future__ import annotations

import pytest

from idp.extensions import db
from idp.federation.models import PartnerLink
from idp.signin.models import UserSession
from tests.federation_support import (
    TamperingSession,
    back_at_broker,
    callback_with,
    leave_for_partner,
    resign,
    sign_in_at_partner,
)
from tests.oidc_support import authorization_params, make_client, query_of


def start(broker, http):
    rp = make_client(broker)
    assert http.get("/authorize", query_string=authorization_params(rp)).status_code == 303
    response = leave_for_partner(http)
    assert response.status_code == 303
    return response.headers["Location"]


def assert_nobody_signed_in(broker, response, status=400):
    html = response.get_data(as_text=True)
    assert response.status_code == status, html[:300]
    assert 'href="/signin"' in html and 'href="/signin/partners"' in html  # the way back to the choices
    assert "passerelle_session" not in (response.headers.get("Set-Cookie") or "")
    with broker.app_context():
        assert db.session.query(UserSession).count() == 0
        assert db.session.query(PartnerLink).count() == 0
    return html


def test_partner_error_response_ends_on_a_page_offering_the_choices(broker, http, partner):
    to_partner = start(broker, http)
    state = query_of(to_partner)["state"]
    response = callback_with(http, state=state, error="access_denied", iss=partner.issuer)
    html = assert_nobody_signed_in(broker, response)
    assert "did not sign you in" in html or "pas ouvert votre session" in html


@pytest.mark.parametrize(
    "tampering",
    [
        pytest.param(lambda p, token, now: token[:-6] + ("AAAAAA" if not token.endswith("AAAAAA") else "BBBBBB"), id="bad-signature"),
        pytest.param(lambda p, token, now: resign(p, token, aud="another-client"), id="wrong-aud"),
        pytest.param(lambda p, token, now: resign(p, token, nonce="not-the-nonce"), id="wrong-nonce"),
        pytest.param(lambda p, token, now: resign(p, token, exp=int(now.timestamp()) - 3600), id="expired"),
        pytest.param(lambda p, token, now: resign(p, token, iss="http://127.0.0.1:9"), id="other-issuer"),
        pytest.param(lambda p, token, now: resign(p, token, aud=[p.client_id, "another"], azp="another"), id="wrong-azp"),
    ],
)
def test_an_id_token_failing_a_check_signs_nobody_in(broker, http, partner, clock, tampering):
    def tamper(body):
        return {**body, "id_token": tampering(partner, body["id_token"], clock())}

    broker.extensions["idp_partner_http"] = TamperingSession(tamper)
    location = sign_in_at_partner(partner, start(broker, http))
    response = back_at_broker(http, location)
    html = assert_nobody_signed_in(broker, response)
    assert "could not be trusted" in html or "pas fiable" in html


def test_iss_parameter_of_another_issuer_is_refused_before_the_code_is_used(broker, http, partner):
    location = sign_in_at_partner(partner, start(broker, http))
    answer = query_of(location)
    response = callback_with(http, code=answer["code"], state=answer["state"], iss="http://127.0.0.1:9")
    assert_nobody_signed_in(broker, response)


def test_missing_iss_parameter_is_refused_when_the_partner_announces_it(broker, http, partner):
    location = sign_in_at_partner(partner, start(broker, http))
    answer = query_of(location)
    response = callback_with(http, code=answer["code"], state=answer["state"])
    assert_nobody_signed_in(broker, response)


def test_a_replayed_state_is_refused(broker, http, partner):
    location = sign_in_at_partner(partner, start(broker, http))
    first = back_at_broker(http, location)
    assert first.status_code == 303
    replay = back_at_broker(http, location)
    assert replay.status_code == 400
    assert "already used" in replay.get_data(as_text=True) or "déjà servi" in replay.get_data(as_text=True)


def test_a_state_from_another_browser_is_refused(broker, partner, http):
    location = sign_in_at_partner(partner, start(broker, http))
    other_browser = broker.test_client()
    rp = make_client(broker, name="Autre")
    other_browser.get("/authorize", query_string=authorization_params(rp))
    response = back_at_broker(other_browser, location)
    assert_nobody_signed_in(broker, response)


def test_an_expired_state_is_refused(broker, http, partner, clock):
    location = sign_in_at_partner(partner, start(broker, http))
    clock.advance(broker.config["PARTNER_STATE_TTL"] + 1)
    response = back_at_broker(http, location)
    assert response.status_code == 400


def test_a_partner_that_is_down_gets_a_page_offering_the_passerelle_credential(broker, http, partner):
    rp = make_client(broker)
    http.get("/authorize", query_string=authorization_params(rp))
    partner.server.stop()
    page = http.get("/signin/partners")
    assert page.status_code == 200
    from tests.oidc_support import csrf_token

    response = http.post("/signin/partners/banque", data={"csrf_token": csrf_token(page.get_data(as_text=True))})
    html = assert_nobody_signed_in(broker, response, status=503)
    assert "not responding" in html or "ne répond pas" in html


def test_a_partner_down_at_the_token_request_gets_the_same_page(broker, http, partner):
    location = sign_in_at_partner(partner, start(broker, http))
    partner.server.stop()
    response = back_at_broker(http, location)
    assert_nobody_signed_in(broker, response, status=503)
