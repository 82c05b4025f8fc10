"""Bytes that are not UTF-8 in the query string, the path or a form body are a 400 with the
usual page (JSON on machine endpoints) and every security header, never a 500 (issue 9,
item 8). WSGI hands the raw bytes over as latin-1 text, hence "\\xff" below."""

from __future__ import annotations

import pytest

from tests.integration.test_headers import assert_baseline
from tests.integration.web.served import parse, raw_request

PAGES = ["/help", "/signin", "/authorize", "/account", "/no/such/page"]
MACHINE_ENDPOINTS = ["/token", "/userinfo", "/introspect", "/revoke", "/jwks", "/.well-known/openid-configuration"]


def assert_html_400(response):
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert_baseline(response)
    assert "Content-Security-Policy" in response.headers
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", PAGES)
def test_a_raw_byte_in_the_query_string_of_a_page_is_a_translated_400(client, path):
    client.set_cookie("passerelle_lang", "en")
    response = client.get(path, environ_overrides={"QUERY_STRING": "ui_locales=\xff&a=b"})
    assert_html_400(response)
    assert "The request could not be understood" in response.text


def test_the_400_page_is_in_french_too(client):
    client.set_cookie("passerelle_lang", "fr")
    response = client.get("/help", environ_overrides={"QUERY_STRING": "\xff"})
    assert_html_400(response)
    assert '<html lang="fr">' in response.text


@pytest.mark.parametrize("path", MACHINE_ENDPOINTS)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_raw_byte_in_the_query_string_of_a_machine_endpoint_is_an_oauth_invalid_request(client, path, method):
    response = client.open(path, method=method, environ_overrides={"QUERY_STRING": "a=\xff\xfe"})
    assert response.status_code == 400
    assert response.get_json() == {"error": "invalid_request"}
    assert_baseline(response)


def test_a_raw_byte_in_the_path_is_a_400(client):
    response = client.get("/help", environ_overrides={"PATH_INFO": "/help\xff"})
    assert_html_400(response)
    response = client.post("/token", environ_overrides={"PATH_INFO": "/token/\xc3("})
    assert response.status_code == 400
    assert response.get_json() == {"error": "invalid_request"}


@pytest.mark.parametrize("path", ["/token", "/revoke", "/introspect"])
def test_a_raw_byte_in_a_form_body_of_a_machine_endpoint_is_an_oauth_invalid_request(client, path):
    response = client.post(path, data=b"grant_type=client_credentials&scope=\xff",
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert response.get_json() == {"error": "invalid_request"}
    assert_baseline(response)


def test_a_raw_byte_in_a_form_body_of_a_page_is_a_400_page(client):
    client.set_cookie("passerelle_lang", "en")
    response = client.post("/signin", data=b"email=\xff@example.ca", content_type="application/x-www-form-urlencoded")
    assert_html_400(response)
    assert "The request could not be understood" in response.text


def test_percent_encoded_bytes_are_not_refused(client):
    # %FF is valid ASCII on the wire: the views see a replacement character, as before.
    assert client.get("/help?x=%FF").status_code == 200


def assert_raw_400_with_headers(answer: bytes, json: bool) -> None:
    status, headers, body = parse(answer)
    assert status == 400, answer[:300]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    if json:
        assert b'"invalid_request"' in body
    else:
        assert "content-security-policy" in headers
        assert b"<!doctype html>" in body


@pytest.mark.slow
def test_raw_bytes_over_a_real_socket_are_a_400_with_headers(served):
    server, port = served
    for request_line, is_json in ((b"GET /help?\xff HTTP/1.1", False), (b"GET /jwks?a=\xc3( HTTP/1.1", True)):
        answer = raw_request(port, request_line)
        if server == "granian":
            # granian's HTTP parser refuses a request target that is not ASCII before the app
            # sees it: an empty 400, with nothing in it to sniff, frame or cache.
            status, headers, body = parse(answer)
            assert (status, headers["content-length"], body) == (400, "0", b"")
        else:
            assert_raw_400_with_headers(answer, json=is_json)
    body = b"grant_type=client_credentials&scope=\xff"
    answer = raw_request(port, b"POST /token HTTP/1.1", body,
                         b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n" % len(body))
    assert_raw_400_with_headers(answer, json=True)
