"""One-shot secrets under concurrency: parallel requests over real HTTP, exactly one wins
(security-checklist §0.3, OIDC-06, OIDC-09)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import requests

from tests.oidc_support import PKCE_VERIFIER, SignIn, authorization_params, basic_auth, make_client, make_user

PARALLEL = 8


def fire_together(url: str, data: dict, headers: dict) -> list[requests.Response]:
    barrier = threading.Barrier(PARALLEL)

    def send(_):
        barrier.wait()
        return requests.post(url, data=data, headers=headers, timeout=30)

    with ThreadPoolExecutor(PARALLEL) as pool:
        return list(pool.map(send, range(PARALLEL)))


def signed_in_code(server) -> tuple[object, str]:
    make_user(server.app)
    rp = make_client(server.app)
    code = SignIn(server.app.test_client()).code_for(authorization_params(rp, scope="openid offline_access"))["code"]
    return rp, code


def test_parallel_code_redemptions_get_exactly_one_success(live_server):
    rp, code = signed_in_code(live_server)
    responses = fire_together(live_server.url + "/token",
                              {"grant_type": "authorization_code", "code": code, "redirect_uri": rp.redirect_uri,
                               "code_verifier": PKCE_VERIFIER},
                              basic_auth(rp))
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] + [400] * (PARALLEL - 1), [r.text for r in responses]
    assert all(r.json()["error"] == "invalid_grant" for r in responses if r.status_code == 400)


def test_parallel_refreshes_get_exactly_one_success(live_server):
    rp, code = signed_in_code(live_server)
    tokens = requests.post(live_server.url + "/token", data={"grant_type": "authorization_code", "code": code,
                                                              "redirect_uri": rp.redirect_uri, "code_verifier": PKCE_VERIFIER},
                           headers=basic_auth(rp), timeout=30).json()
    responses = fire_together(live_server.url + "/token",
                              {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}, basic_auth(rp))
    winners = [response for response in responses if response.status_code == 200]
    assert len(winners) == 1, [r.text for r in responses]
    assert all(r.status_code == 400 for r in responses if r is not winners[0])
    # The losers presented a rotated token: reuse revokes the whole grant, winner included.
    again = requests.post(live_server.url + "/token", data={"grant_type": "refresh_token",
                          "refresh_token": winners[0].json()["refresh_token"]}, headers=basic_auth(rp), timeout=30)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
