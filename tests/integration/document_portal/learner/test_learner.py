"""« Mes documents » through the Flask test client (issue 13, The learner): the list (school,
type, date), the document in the browser and as a download (the signed PDF, with the right
headers), the verification panel in the page's language, and a learner who guesses another
learner's document id gets a 404, never the document."""

from __future__ import annotations

import pytest

from tests.document_portal_learner_support import (
    OTHER,
    ZOE,
    issue,
    sign_in,
)

FR, EN = {"Accept-Language": "fr"}, {"Accept-Language": "en"}


def test_the_list_shows_the_learners_documents_with_school_type_and_date(app, client):
    issue(app)
    issue(app, learner_sub=OTHER, title_fr="Diplôme d'autrui", title_en="Someone else's diploma", kind="diploma")
    sign_in(app, client)
    french = client.get("/documents", headers=FR).get_data(as_text=True)
    assert "Mes documents" in french and "Relevé de notes" in french and "École Imaginaire" in french
    assert "autrui" not in french
    english = client.get("/documents", headers=EN).get_data(as_text=True)
    assert "My documents" in english and "Transcript" in english and "Imaginary School" in english
    assert "Someone else" not in english
    assert 'href="http://127.0.0.1:5004/help" id="faq"' in english  # DOCUMENT_PORTAL_FAQ_URL, the help page by default


def test_the_list_says_when_there_is_no_document(app, client):
    sign_in(app, client)
    assert "No document has been issued to you yet" in client.get("/documents", headers=EN).get_data(as_text=True)
    assert "Aucun document ne vous a encore été remis" in client.get("/documents", headers=FR).get_data(as_text=True)


def test_signing_in_is_required(app, client):
    document = issue(app)
    for path in ("/documents", f"/documents/{document.public_id}", f"/documents/{document.public_id}/pdf",
                 f"/documents/{document.public_id}/download"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].endswith("/login"), path


def test_the_document_page_shows_the_viewer_and_a_valid_verification_in_french(app, client):
    document = issue(app)
    sign_in(app, client)
    response = client.get(f"/documents/{document.public_id}", headers=FR)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'src="/documents/{document.public_id}/pdf"' in page
    assert "Valide : ce document a été émis par ce portail" in page
    assert "Signé par" in page and "École Imaginaire" in page
    assert "Autorité de démonstration du portail de documents" in page  # the chain up to the school's authority
    # Only this page may frame the PDF: its policy adds frame-src 'self', nothing else.
    policy = response.headers["Content-Security-Policy"]
    assert "frame-src 'self'" in policy and "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert "frame-src" not in client.get("/documents").headers["Content-Security-Policy"]


def test_the_verification_panel_speaks_english(app, client):
    document = issue(app)
    sign_in(app, client)
    page = client.get(f"/documents/{document.public_id}", headers=EN).get_data(as_text=True)
    assert "Valid: this document was issued through this portal" in page
    assert "Signed by" in page and "Unaltered since signing" in page and "Certificate chain" in page


def test_the_pdf_is_served_inline_for_the_viewer_and_as_a_download(app, client):
    document = issue(app)
    sign_in(app, client)
    inline = client.get(f"/documents/{document.public_id}/pdf", headers=EN)
    assert inline.status_code == 200 and inline.data == document.pdf
    assert inline.headers["Content-Type"] == "application/pdf"
    assert inline.headers["Content-Disposition"].startswith("inline;")
    assert inline.headers["Content-Security-Policy"] == "frame-ancestors 'self'"
    assert inline.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert inline.headers["X-Content-Type-Options"] == "nosniff"
    assert inline.headers["Cache-Control"] == "no-store"
    download = client.get(f"/documents/{document.public_id}/download", headers=EN)
    assert download.data == document.pdf
    assert download.headers["Content-Disposition"].startswith('attachment; filename="Transcript-')
    assert download.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("suffix", ["", "/pdf", "/download"])
def test_guessing_another_learners_document_id_is_a_404(app, client, suffix):
    theirs = issue(app, learner_sub=OTHER)
    issue(app)
    sign_in(app, client, ZOE)
    response = client.get(f"/documents/{theirs.public_id}{suffix}")
    assert response.status_code == 404 and theirs.pdf not in response.data
    assert client.get(f"/documents/not-a-real-id{suffix}").status_code == 404


def test_a_document_not_yet_bound_is_nobodys(app, client):
    unbound = issue(app, learner_sub=None)
    sign_in(app, client)
    assert client.get(f"/documents/{unbound.public_id}").status_code == 404


def test_a_withdrawn_document_says_so_and_cannot_be_shared(app, client, clock):
    document = issue(app, state="withdrawn", withdrawn_at=clock(), withdrawal_reason="Erreur de note")
    sign_in(app, client)
    page = client.get(f"/documents/{document.public_id}", headers=FR).get_data(as_text=True)
    assert "Non valide : l'établissement a retiré ce document." in page and "Erreur de note" in page
    assert "Créer un lien de partage" not in page
    assert "Retiré par l'établissement" in client.get("/documents", headers=FR).get_data(as_text=True)
