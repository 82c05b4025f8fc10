"""Shares through the Flask test client (issue 13, Share and Third parties): a learner makes a
link (1 to 90 days, optionally with an access code), sees how often it was opened, revokes it;
a third party without an account opens it (the document, the verification, a download; never
cached, indexed or leaked by Referer); every dead link is the same "not available" page; ten
wrong codes lock a share; guessing links is slowed down per address."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from clients.document_portal.db import db
from clients.document_portal.shares.models import Share
from tests.document_portal_learner_support import (
    OTHER,
    build_app,
    issue,
    sign_in,
    visitor,
)

FR, EN = {"Accept-Language": "fr"}, {"Accept-Language": "en"}
LINK = re.compile(r'<code id="share-link">http://127\.0\.0\.1:5004(/s/[A-Za-z0-9_-]{43})</code>')
CODE = re.compile(r'<code id="share-code">([A-Z0-9]{8})</code>')


def csrf(client, path: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


def share(client, document, days=7, with_code=False, headers=EN):
    """The learner creates a share on the document's page; returns (response, link path, code)."""
    data = {"csrf_token": csrf(client, f"/documents/{document.public_id}"), "days": str(days)}
    if with_code:
        data["with_code"] = "y"
    response = client.post(f"/documents/{document.public_id}/shares", data=data, headers=headers)
    page = response.get_data(as_text=True)
    link, code = LINK.search(page), CODE.search(page)
    return response, link and link.group(1), code and code.group(1)


def stored_shares(app):
    with app.app_context():
        return db.session.scalars(select(Share)).all()


@pytest.fixture
def learner(app, client):
    sign_in(app, client)
    return client


@pytest.fixture
def third_party(app):
    """Someone with the link and no account, from another address."""
    return visitor(app, "198.51.100.7")


def test_a_share_opens_for_a_third_party_with_the_document_its_verification_and_a_download(app, learner, third_party):
    document = issue(app)
    response, link, code = share(learner, document, days=30)
    assert response.status_code == 200 and link and code is None
    assert "Copy the link now" in response.get_data(as_text=True)
    opened = third_party.get(link, headers=EN)
    page = opened.get_data(as_text=True)
    assert opened.status_code == 200
    assert "Transcript" in page and "Zoé Citoyenne" in page and "Imaginary School" in page
    assert "Valid: this document was issued through this portal" in page
    assert f'src="{link}/pdf"' in page and f'href="{link}/download"' in page
    assert third_party.get(f"{link}/pdf").data == document.pdf
    download = third_party.get(f"{link}/download")
    assert download.data == document.pdf and download.headers["Content-Disposition"].startswith("attachment;")


def test_share_pages_are_never_cached_indexed_or_leaked_by_referer(app, learner, third_party):
    document = issue(app)
    _, link, _ = share(learner, document)
    for path in (link, f"{link}/pdf", f"{link}/download", "/s/" + "x" * 43):
        response = third_party.get(path)
        assert response.headers["Cache-Control"] == "no-store", path
        assert "noindex" in response.headers["X-Robots-Tag"], path
        assert response.headers["Referrer-Policy"] == "no-referrer", path
    for path in (link, "/s/" + "x" * 43):
        assert '<meta name="robots" content="noindex, nofollow">' in third_party.get(path).get_data(as_text=True)


def test_the_third_party_page_speaks_french(app, learner, third_party):
    document = issue(app)
    _, link, _ = share(learner, document)
    page = third_party.get(link, headers=FR).get_data(as_text=True)
    assert "Zoé Citoyenne vous a transmis ce document" in page and "Valide : ce document a été émis par ce portail" in page


def test_openings_are_counted_and_shown_to_the_learner(app, learner, third_party, clock):
    document = issue(app)
    _, link, _ = share(learner, document)
    for _ in range(3):
        clock.advance(minutes=10)
        third_party.get(link)
    third_party.get(f"{link}/pdf")  # the viewer's request is not another opening
    assert [s.open_count for s in stored_shares(app)] == [3]
    page = learner.get(f"/documents/{document.public_id}", headers=EN).get_data(as_text=True)
    assert '<td class="share-opens">3</td>' in page and "Times opened" in page and "Last opened" in page
    assert "Nombre d'ouvertures" in learner.get(f"/documents/{document.public_id}", headers=FR).get_data(as_text=True)


@pytest.mark.parametrize("days", ["0", "91", "-3", "trois", ""])
def test_an_expiry_outside_1_to_90_days_is_refused_with_a_translated_message(app, learner, days):
    document = issue(app)
    response, link, _ = share(learner, document, days=days, headers=EN)
    assert response.status_code == 422 and link is None
    assert "Enter a number of days from 1 to 90." in response.get_data(as_text=True)
    response, _, _ = share(learner, document, days=days, headers=FR)
    assert "Entrez un nombre de jours de 1 à 90." in response.get_data(as_text=True)
    assert stored_shares(app) == []


def test_a_revoked_link_is_dead_at_once(app, learner, third_party):
    document = issue(app)
    _, link, _ = share(learner, document)
    assert third_party.get(link).status_code == 200
    share_id = stored_shares(app)[0].public_id
    revoked = learner.post(f"/shares/{share_id}/revoke", data={"csrf_token": csrf(learner, f"/documents/{document.public_id}")},
                           headers=EN, follow_redirects=True)
    assert "The link is revoked" in revoked.get_data(as_text=True) and "No active share link." in revoked.get_data(as_text=True)
    for path in (link, f"{link}/pdf", f"{link}/download"):
        assert third_party.get(path).status_code == 404


def test_a_learner_cannot_revoke_or_share_what_is_not_theirs(app, client, learner):
    theirs = issue(app, learner_sub=OTHER)
    other = app.test_client()
    sign_in(app, other, OTHER)
    share(other, theirs)
    share_id = stored_shares(app)[0].public_id
    token = csrf(learner, "/documents")
    assert learner.post(f"/shares/{share_id}/revoke", data={"csrf_token": token}).status_code == 404
    assert learner.post(f"/documents/{theirs.public_id}/shares", data={"csrf_token": token, "days": "7"}).status_code == 404
    assert stored_shares(app)[0].revoked_at is None and len(stored_shares(app)) == 1


def test_expired_revoked_withdrawn_and_unknown_links_all_show_the_same_page(app, learner, clock):
    expired_doc, revoked_doc, withdrawn_doc = issue(app), issue(app), issue(app)
    _, expired, _ = share(learner, expired_doc, days=1)
    _, revoked, _ = share(learner, revoked_doc, days=30)
    _, withdrawn, _ = share(learner, withdrawn_doc, days=30)
    with app.app_context():
        shares = {s.document_id: s for s in db.session.scalars(select(Share))}
        from clients.document_portal.documents.models import Document

        db.session.get(Document, withdrawn_doc.id).state = "withdrawn"
        shares[revoked_doc.id].revoked_at = clock()
        db.session.commit()
    clock.advance(days=1)
    answers = []
    for number, path in enumerate((expired, revoked, withdrawn, "/s/" + "A" * 43, "/s/short")):
        response = visitor(app, f"192.0.2.{number + 1}").get(path, headers=FR)
        answers.append((response.status_code, response.get_data(as_text=True)))
    assert {status for status, _ in answers} == {404}
    assert len({body for _, body in answers}) == 1
    assert "Ce lien n'est pas disponible" in answers[0][1]


def test_an_access_code_is_asked_then_opens_the_share(app, learner, third_party):
    document = issue(app)
    _, link, code = share(learner, document, with_code=True)
    assert code
    asked = third_party.get(link, headers=EN)
    assert asked.status_code == 200 and "Enter the access code" in asked.get_data(as_text=True)
    assert document.pdf not in third_party.get(f"{link}/pdf").data  # no document before the code
    assert third_party.get(f"{link}/download").status_code == 404
    token = csrf(third_party, link)
    opened = third_party.post(link, data={"csrf_token": token, "code": code.lower()}, follow_redirects=True, headers=EN)
    assert "Valid: this document was issued through this portal" in opened.get_data(as_text=True)
    assert third_party.get(f"{link}/pdf").data == document.pdf
    # Another browser still has to give the code.
    assert "Enter the access code" in app.test_client().get(link, headers=EN).get_data(as_text=True)


def test_ten_wrong_access_codes_lock_the_share(app, learner, third_party):
    document = issue(app)
    _, link, code = share(learner, document, with_code=True)
    token = csrf(third_party, link)
    for attempt in range(1, 10):
        wrong = third_party.post(link, data={"csrf_token": token, "code": "WRONG123"}, headers=EN)
        assert wrong.status_code == 422
        assert f"This access code is not the right one. Tries left before the link locks: {10 - attempt}." in wrong.get_data(as_text=True)
    french = third_party.post(link, data={"csrf_token": token, "code": "WRONG123"}, headers=FR)
    assert french.status_code == 404 and "Ce lien n'est pas disponible" in french.get_data(as_text=True)
    # Locked: the right code no longer opens it, and the learner sees why.
    assert third_party.post(link, data={"csrf_token": token, "code": code}).status_code == 404
    assert app.test_client().get(link).status_code == 404
    assert stored_shares(app)[0].locked_at is not None
    assert "Locked after 10 wrong codes" in learner.get(f"/documents/{document.public_id}", headers=EN).get_data(as_text=True)


def test_wrong_access_codes_are_told_in_french(app, learner, third_party):
    document = issue(app)
    _, link, _ = share(learner, document, with_code=True)
    wrong = third_party.post(link, data={"csrf_token": csrf(third_party, link), "code": "NOPE"}, headers=FR)
    assert "Ce code d'accès n'est pas le bon. Essais restants avant le verrouillage du lien : 9." in html.unescape(
        wrong.get_data(as_text=True))


def test_guessing_links_is_rate_limited_per_address(tmp_path, demo_pki, clock):
    app = build_app(tmp_path / "limited.db", demo_pki, clock, DOCUMENT_PORTAL_SHARE_ATTEMPTS_LIMIT=5,
                    DOCUMENT_PORTAL_SHARE_ATTEMPTS_WINDOW=600)
    document = issue(app)
    learner = app.test_client()
    sign_in(app, learner)
    _, link, _ = share(learner, document)
    guesser = visitor(app, "203.0.113.50")
    for number in range(5):
        assert guesser.get(f"/s/guess{number:039d}").status_code == 404
    limited = guesser.get(f"/s/guess{99:039d}", headers=EN)
    assert limited.status_code == 429 and "Too many attempts" in limited.get_data(as_text=True)
    assert 0 < int(limited.headers["Retry-After"]) <= 600  # until the window ends
    assert "Trop de tentatives" in guesser.get(link, headers=FR).get_data(as_text=True)  # even a real link, meanwhile
    # Another address is not slowed down, and the window passes.
    assert visitor(app, "198.51.100.9").get(link).status_code == 200
    clock.advance(seconds=600)
    assert guesser.get(link).status_code == 200


@pytest.mark.parametrize("token", ["é" * 43, "x" * 500, "%00", "..%2F..%2Fetc"])
def test_odd_tokens_are_just_not_available(app, token):
    assert visitor(app, "192.0.2.77").get(f"/s/{token}").status_code == 404


def test_behind_a_proxy_each_visitor_is_counted_by_the_address_the_proxy_saw(tmp_path, demo_pki, clock):
    """DOCUMENT_PORTAL_PROXY_FIX_X_FOR: behind one proxy, every request comes from the proxy's
    address; the limit then counts the client's from X-Forwarded-For, so one guesser does not
    lock everyone out. Without the setting, the header is ignored (anyone could set it)."""
    proxied = build_app(tmp_path / "proxied.db", demo_pki, clock, DOCUMENT_PORTAL_SHARE_ATTEMPTS_LIMIT=3,
                        DOCUMENT_PORTAL_PROXY_FIX_X_FOR=1)
    proxy = proxied.test_client()
    guess = f"/s/guess{1:039d}"
    for _ in range(3):
        assert proxy.get(guess, environ_base={"REMOTE_ADDR": "10.0.0.2"},
                         headers={"X-Forwarded-For": "203.0.113.50"}).status_code == 404
    assert proxy.get(guess, environ_base={"REMOTE_ADDR": "10.0.0.2"},
                     headers={"X-Forwarded-For": "203.0.113.50"}).status_code == 429
    assert proxy.get(guess, environ_base={"REMOTE_ADDR": "10.0.0.2"},
                     headers={"X-Forwarded-For": "198.51.100.9"}).status_code == 404  # someone else

    direct = build_app(tmp_path / "direct.db", demo_pki, clock, DOCUMENT_PORTAL_SHARE_ATTEMPTS_LIMIT=3)
    client = direct.test_client()
    for forwarded in ("203.0.113.1", "203.0.113.2", "203.0.113.3"):
        client.get(guess, environ_base={"REMOTE_ADDR": "192.0.2.8"}, headers={"X-Forwarded-For": forwarded})
    assert client.get(guess, environ_base={"REMOTE_ADDR": "192.0.2.8"},
                      headers={"X-Forwarded-For": "203.0.113.4"}).status_code == 429
