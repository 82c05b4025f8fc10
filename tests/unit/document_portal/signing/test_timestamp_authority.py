"""PAdES-B-T through a real RFC 3161 exchange over HTTP on loopback: the client the portal
builds from DOCUMENT_PORTAL_TSA_URL, against a small authority that answers with the demo
TSA's tokens (or fails, as an authority that is down or misconfigured does)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from asn1crypto import tsp

from clients.document_portal.signing.errors import TimestampUnavailable
from clients.document_portal.signing.pades import make_timestamper, sign_pdf
from clients.document_portal.signing.verification import verify
from tests.support import LiveServer
from tests.unit.document_portal.signing.conftest import SIGNED_AT


@pytest.fixture(scope="module")
def authority(timestamp_authority):
    """/tsa answers RFC 3161 requests (application/timestamp-query → -reply); /down answers 503."""
    requests_seen = []

    def app(environ, start_response):
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        requests_seen.append(environ["PATH_INFO"])
        if environ["PATH_INFO"] != "/tsa" or environ.get("CONTENT_TYPE") != "application/timestamp-query":
            start_response("503 Service Unavailable", [("Content-Type", "text/html")])
            return [b"<h1>down</h1>"]
        reply = timestamp_authority.request_tsa_response(tsp.TimeStampReq.load(body)).dump()
        start_response("200 OK", [("Content-Type", "application/timestamp-reply"),
                                  ("Content-Length", str(len(reply)))])
        return [reply]

    server = LiveServer().start(app)
    server.requests_seen = requests_seen
    yield server
    server.stop()


def test_a_signature_timestamped_over_http_verifies(authority, transcript_pdf, credentials, trust_roots):
    timestamper = make_timestamper(f"{authority.url}/tsa", timeout=5)
    signed = sign_pdf(transcript_pdf, credentials, reason="Relevé de notes", timestamper=timestamper,
                      clock=lambda: SIGNED_AT)
    result = verify(signed, trust_roots, at=SIGNED_AT)
    assert result.is_valid and result.timestamp is not None and result.timestamp.trusted
    assert result.signed_at == SIGNED_AT + timedelta(seconds=2)
    seen = len(authority.requests_seen)
    sign_pdf(transcript_pdf, credentials, reason="Relevé de notes", timestamper=timestamper, clock=lambda: SIGNED_AT)
    assert len(authority.requests_seen) == seen + 1  # the size estimate reuses the first answer


def test_an_authority_that_fails_refuses_the_signature(authority, transcript_pdf, credentials):
    with pytest.raises(TimestampUnavailable):
        sign_pdf(transcript_pdf, credentials, reason="Relevé de notes", clock=lambda: SIGNED_AT,
                 timestamper=make_timestamper(f"{authority.url}/down", timeout=5))
