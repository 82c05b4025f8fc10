"""The public « Vérifier un document » page through the Flask test client (issue 13): anyone
uploads a PDF and learns whether this portal issued it, whether it is unaltered and whether it
was withdrawn; a tampered file says altered, another authority's is not trusted; a non-PDF, an
empty file and a file over the limit get a translated refusal, never a 500."""

from __future__ import annotations

import html
import io
import re

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from tests.document_portal_learner_support import (
    build_app,
    issue,
    plain_pdf,
    signed_by,
)

FR, EN = {"Accept-Language": "fr"}, {"Accept-Language": "en"}


def upload(client, data: bytes | None, headers=EN, filename="document.pdf"):
    page = client.get("/verify", headers=headers).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    form = {"csrf_token": token}
    if data is not None:
        form["pdf"] = (io.BytesIO(data), filename)
    return client.post("/verify", data=form, headers=headers, content_type="multipart/form-data")


def test_the_page_is_open_to_everyone_in_both_languages(client):
    assert "Vérifier un document" in client.get("/verify", headers=FR).get_data(as_text=True)
    assert "Verify a document" in client.get("/verify", headers=EN).get_data(as_text=True)


def test_a_document_the_portal_issued_is_valid(app, client):
    document = issue(app)
    response = upload(client, document.pdf)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Valid: this document was issued through this portal" in page and "Transcript" in page
    french = upload(client, document.pdf, headers=FR).get_data(as_text=True)
    assert "Valide : ce document a été émis par ce portail" in french and "Relevé de notes" in french


def test_a_tampered_pdf_is_altered(app, client):
    document = issue(app)
    tampered = document.pdf.replace(b"/MediaBox [ 0 0 595.2756", b"/MediaBox [ 0 0 595.2757", 1)
    assert tampered != document.pdf
    page = upload(client, tampered).get_data(as_text=True)
    assert "Not valid: this document was altered after it was signed." in page
    assert "Non valide : ce document a été modifié après sa signature." in upload(client, tampered, headers=FR).get_data(as_text=True)


def test_an_issued_pdf_with_an_update_appended_is_recognised_but_altered(app, client):
    document = issue(app)
    writer = IncrementalPdfFileWriter(io.BytesIO(document.pdf))  # a reader's later revision (here: a language)
    writer.root["/Lang"] = generic.TextStringObject("fr")
    writer.update_root()
    output = io.BytesIO()
    writer.write(output)
    appended = output.getvalue()
    page = upload(client, appended).get_data(as_text=True)
    assert "Not valid: this document was altered after it was signed." in page
    assert 'id="check-issued">Yes' in page


def test_a_pdf_signed_by_another_authority_is_not_trusted_nor_issued(app, client, foreign_pki):
    issue(app)
    page = upload(client, signed_by(foreign_pki)).get_data(as_text=True)
    assert "Not valid: it was signed with a certificate from an authority this portal does not trust." in page
    assert "No: no document issued here matches this file." in page
    assert "Identity not confirmed" in page  # the look-alike's « École Imaginaire » is not taken at its word


def test_a_pdf_signed_by_the_schools_authority_but_not_issued_here_is_not_valid(app, client, demo_pki):
    page = upload(client, signed_by(demo_pki, plain_pdf("Fabriqué ailleurs"))).get_data(as_text=True)
    assert "Not valid: this portal did not issue this document." in page


def test_a_withdrawn_document_is_reported_withdrawn(app, client, clock):
    document = issue(app, state="withdrawn", withdrawn_at=clock(), withdrawal_reason="Erreur")
    page = upload(client, document.pdf).get_data(as_text=True)
    assert "Not valid: the school withdrew this document." in page


def test_an_unsigned_pdf_is_not_valid(client):
    page = upload(client, plain_pdf()).get_data(as_text=True)
    assert "No digital signature found" in page and "Not valid: this portal did not issue this document." in page


@pytest.mark.parametrize(("data", "english", "french"), [
    (b"PK\x03\x04 a zip file", "This file is not a PDF.", "Ce fichier n'est pas un PDF."),
    (b"<html><script>alert(1)</script></html>", "This file is not a PDF.", "Ce fichier n'est pas un PDF."),
    (b"", "Choose a PDF file to verify.", "Choisissez un fichier PDF à vérifier."),
    (None, "Choose a PDF file to verify.", "Choisissez un fichier PDF à vérifier."),
    (b"%PDF-1.7\nnothing readable", "This PDF cannot be read", "Ce PDF ne peut pas être lu"),
])
def test_files_that_cannot_be_checked_get_a_translated_refusal(client, data, english, french):
    response = upload(client, data)
    assert response.status_code == 422 and english in html.unescape(response.get_data(as_text=True))
    assert french in html.unescape(upload(client, data, headers=FR).get_data(as_text=True))


def test_a_file_over_the_limit_is_refused_before_it_is_read(tmp_path, demo_pki, clock):
    app = build_app(tmp_path / "small.db", demo_pki, clock, DOCUMENT_PORTAL_MAX_PDF_BYTES=64 * 1024)
    client = app.test_client()
    response = upload(client, b"%PDF-1.7\n" + b"0" * (200 * 1024))
    assert response.status_code == 413
    assert "The file is too large" in response.get_data(as_text=True)
    assert "Le fichier est trop volumineux" in upload(client, b"%PDF-" + b"0" * (200 * 1024), headers=FR).get_data(as_text=True)


@pytest.mark.parametrize("form", [{"pdf": "not a file, a text field"}, {}])
def test_a_form_without_a_file_is_a_clear_refusal(client, form):
    page = client.get("/verify").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/verify", data={"csrf_token": token, **form}, headers=EN)
    assert response.status_code == 422 and "Choose a PDF file to verify." in response.get_data(as_text=True)


def test_a_post_without_its_csrf_token_is_refused(client):
    response = client.post("/verify", data={"pdf": (io.BytesIO(b"%PDF-1.7"), "a.pdf")}, content_type="multipart/form-data")
    assert response.status_code == 400
