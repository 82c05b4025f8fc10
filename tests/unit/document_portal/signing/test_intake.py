"""Intake refuses, with a reason code, every upload the portal will not sign: empty, too
large, not a PDF, unparseable, encrypted, with JavaScript, embedded files or active content."""

from __future__ import annotations

from io import BytesIO

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from clients.document_portal.signing.errors import PdfRefused, RefusalReason
from clients.document_portal.signing.intake import check_pdf
from clients.document_portal.signing.pades import sign_pdf
from tests.unit.document_portal.signing.pdfs import build_pdf, encrypted_pdf


def refusal(data: bytes, **kwargs) -> RefusalReason:
    with pytest.raises(PdfRefused) as caught:
        check_pdf(data, **kwargs)
    return caught.value.reason


def test_a_plain_pdf_and_a_rendered_transcript_pass(transcript_pdf):
    check_pdf(build_pdf())
    check_pdf(transcript_pdf)


def test_a_signed_transcript_passes_again(transcript_pdf, credentials, clock):
    check_pdf(sign_pdf(transcript_pdf, credentials, reason="Relevé", clock=clock))


LINK = b"<< /Type /Annot /Subtype /Link /Rect [0 0 10 10] /A << /S /URI /URI (https://ecole-imaginaire.example) >> >>"


def test_links_and_page_navigation_are_not_active_content():
    check_pdf(build_pdf(catalog_extra=b"/OpenAction [3 0 R /Fit] ", page_extra=b"/Annots [4 0 R] ", objects=(LINK,)))


def test_an_empty_upload_is_refused():
    assert refusal(b"") is RefusalReason.EMPTY


def test_an_upload_over_the_limit_is_refused_before_parsing():
    assert refusal(build_pdf() + b"%" * 2048, max_bytes=1024) is RefusalReason.TOO_LARGE


def test_a_200_megabyte_upload_is_refused_under_the_default_limit():
    assert refusal(b"%PDF-1.7\n" + bytes(200 * 1024 * 1024)) is RefusalReason.TOO_LARGE


@pytest.mark.parametrize("data", [
    b"\x89PNG\r\n\x1a\n" + bytes(100),
    b"<html><body>%PDF-1.7</body></html>",
    b"PK\x03\x04" + bytes(100),
    b" %PDF-1.7\n",  # the header must open the file: no polyglot prefix
])
def test_what_is_not_a_pdf_is_refused(data):
    assert refusal(data) is RefusalReason.NOT_PDF


@pytest.mark.parametrize("data", [
    b"%PDF-1.7\n",
    b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n",
    build_pdf()[:-60],  # truncated: no trailer
    build_pdf().replace(b"/Count 1", b"/Count 0"),  # no page
])
def test_an_unparseable_pdf_is_refused(data):
    assert refusal(data) is RefusalReason.UNPARSEABLE


@pytest.mark.parametrize("user_password", ["learner-secret", ""])
def test_an_encrypted_pdf_is_refused_even_with_an_empty_user_password(user_password):
    assert refusal(encrypted_pdf(user_password)) is RefusalReason.ENCRYPTED


@pytest.mark.parametrize("pdf", [
    build_pdf(catalog_extra=b"/OpenAction << /S /JavaScript /JS (app.alert\\(1\\)) >> "),
    build_pdf(catalog_extra=b"/OpenAction 4 0 R ", objects=(b"<< /S /JavaScript /JS 5 0 R >>",
                                                            b"<< /Length 12 >>\nstream\napp.alert(1)\nendstream")),
    build_pdf(catalog_extra=b"/Names << /JavaScript << /Names [(a) 4 0 R] >> >> ",
              objects=(b"<< /S /JavaScript /JS (this.print\\(\\)) >>",)),
    # The name written with an escape (#61 is "a") is the same name to a reader.
    build_pdf(catalog_extra=b"/OpenAction << /S /J#61vaScript /J#53 (app.alert\\(1\\)) >> "),
], ids=["open-action", "indirect-stream", "names-tree", "escaped-name"])
def test_javascript_is_refused(pdf):
    assert refusal(pdf) is RefusalReason.JAVASCRIPT


def test_javascript_added_by_a_later_update_is_refused(transcript_pdf):
    writer = IncrementalPdfFileWriter(BytesIO(transcript_pdf))
    writer.root["/OpenAction"] = generic.DictionaryObject({
        generic.NameObject("/S"): generic.NameObject("/JavaScript"),
        generic.NameObject("/JS"): generic.TextStringObject("app.alert(1)"),
    })
    writer.update_root()
    output = BytesIO()
    writer.write(output)
    assert refusal(output.getvalue()) is RefusalReason.JAVASCRIPT


@pytest.mark.parametrize("pdf", [
    build_pdf(catalog_extra=b"/Names << /EmbeddedFiles << /Names [(a.exe) 4 0 R] >> >> ",
              objects=(b"<< /Type /Filespec /F (a.exe) /EF << /F 5 0 R >> >>",
                       b"<< /Type /EmbeddedFile /Length 2 >>\nstream\nMZ\nendstream")),
    build_pdf(page_extra=b"/Annots [4 0 R] ",
              objects=(b"<< /Type /Annot /Subtype /FileAttachment /Rect [0 0 10 10] /FS (a.txt) >>",)),
], ids=["embedded-files", "file-attachment"])
def test_embedded_files_are_refused(pdf):
    assert refusal(pdf) is RefusalReason.EMBEDDED_FILES


@pytest.mark.parametrize("pdf", [
    build_pdf(catalog_extra=b"/OpenAction << /S /Launch /F (cmd.exe) >> "),
    build_pdf(catalog_extra=b"/AA << /WC 4 0 R >> ", objects=(b"<< /S /GoTo /D [3 0 R /Fit] >>",)),
    build_pdf(catalog_extra=b"/AcroForm << /Fields [] /XFA 4 0 R >> ",
              objects=(b"<< /Length 5 >>\nstream\n<xdp>\nendstream",)),
    build_pdf(page_extra=b"/Annots [4 0 R] ",
              objects=(b"<< /Type /Annot /Subtype /Link /Rect [0 0 10 10] /A << /S /SubmitForm /F (https://x) >> >>",)),
    build_pdf(page_extra=b"/Annots [4 0 R] ",
              objects=(b"<< /Type /Annot /Subtype /RichMedia /Rect [0 0 10 10] >>",)),
    build_pdf(catalog_extra=b"/OpenAction << /S /GoToR /F (other.pdf) /D [0 /Fit] >> "),
], ids=["launch", "additional-actions", "xfa", "submit-form", "rich-media", "remote-go-to"])
def test_other_active_content_is_refused(pdf):
    assert refusal(pdf) is RefusalReason.ACTIVE_CONTENT


def test_the_most_serious_problem_is_the_one_named():
    pdf = build_pdf(catalog_extra=b"/OpenAction << /S /Launch /F (x) /Next << /S /JavaScript /JS (1) >> >> ")
    assert refusal(pdf) is RefusalReason.JAVASCRIPT
