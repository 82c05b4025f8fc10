"""Issuing through a live Passerelle: staff of a school sign in with two-factor (stepped up
from a weaker sign-in), issue a signed document from an upload or a transcript form, the
invitations API tells the learner and binds the document to them at their sign-in; the
abuse cases of issue 13 that touch issuing (another school's documents, an address with
markup, CSV formula injection, a 200 MB upload) are refused clearly, never with a 500."""

from __future__ import annotations

import csv
import hashlib
import io

import pytest
from sqlalchemy import select

from clients.document_portal.db import db as portal_db
from clients.document_portal.documents.models import Document
from clients.document_portal.signing.demo_pki import make_demo_pki
from tests.conftest import smtp_server
from tests.document_portal_support import (
    OTHER_SCHOOL_NUMBER,
    build_document_portal,
    path_of,
    plain_pdf,
    register_document_portal,
    school_with_staff,
    sign_in,
    with_two_factor,
    zip_of,
)
from tests.mail_support import text_body
from tests.oidc_support import make_user
from tests.support import free_port
from tests.unit.document_portal.signing.pdfs import build_pdf, encrypted_pdf

STAFF, OTHER_STAFF = "registraire@ecole.example", "registraire@autre.example"
LEARNER = "zoe@example.ca"


def mail_settings(port: int | None = None) -> dict:
    """DOCUMENT_PORTAL_SMTP_* to the suite's mailbox (or to `port`, e.g. a closed one)."""
    return {"DOCUMENT_PORTAL_MAIL_FROM": "no-reply@documents.example.ca", "DOCUMENT_PORTAL_SMTP_HOST": "127.0.0.1",
            "DOCUMENT_PORTAL_SMTP_PORT": port or smtp_server().port, "DOCUMENT_PORTAL_SMTP_SECURITY": "none",
            "DOCUMENT_PORTAL_SMTP_TIMEOUT": 5}


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_demo_pki(tmp_path_factory.mktemp("dp-app-pki"))


@pytest.fixture
def registration(live_server):
    return register_document_portal(live_server.app)


@pytest.fixture
def portal(live_server, registration, tmp_path, pki):
    return build_document_portal(live_server.url, registration, tmp_path / "portal.db", pki,
                                 WTF_CSRF_ENABLED=False, TESTING=True)


@pytest.fixture
def school(live_server):
    return school_with_staff(live_server.app, (STAFF,))


def staff_browser(portal, live_server, school, clock, email=STAFF):
    secret = with_two_factor(live_server.app, school.staff[email], clock)
    browser = portal.test_client()
    done = sign_in(browser, email, clock, secret)
    assert done.status_code == 302 and done.headers["Location"] == "/", done.get_data(as_text=True)[:400]
    assert browser.get("/").headers["Location"] == "/issuing"
    return browser


def issue_form(**fields):
    data = {"kind": "transcript", "title_fr": "Relevé de notes", "title_en": "Transcript", "given_name": "Zoé",
            "family_name": "Citoyenne", "email": LEARNER, "locale": "fr", "contact_email": "info@ecole.example",
            "source": "upload", "pdf": (io.BytesIO(plain_pdf()), "releve.pdf")}
    data.update(fields)
    return data


def documents(portal):
    with portal.app_context():
        found = portal_db.session.scalars(select(Document).order_by(Document.id)).all()
        portal_db.session.expunge_all()
        return found


def test_staff_are_stepped_up_to_two_factor_then_issue_and_the_learner_receives_it(portal, live_server, school,
                                                                                   clock, mailbox):
    learner_id = make_user(live_server.app, LEARNER)
    browser = staff_browser(portal, live_server, school, clock)
    home = browser.get("/issuing", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Documents issued by Imaginary School." in home and 'id="no-documents"' in home

    issued = browser.post("/issuing/new", data=issue_form(), content_type="multipart/form-data")
    assert issued.status_code == 302, issued.get_data(as_text=True)[:2000]
    [document] = documents(portal)
    assert issued.headers["Location"] == f"/issuing/{document.public_id}?issued=1"
    assert document.issuer_organization_id == school.public_id and document.issuer_name_fr == "École Imaginaire"
    assert document.invitation_id and document.learner_sub is None and document.state == "issued"
    assert document.sha256 == hashlib.sha256(document.pdf).hexdigest() and len(document.public_id) >= 32
    assert b"/ByteRange" in document.pdf  # signed (PAdES), dp-signing's verification says more
    with portal.app_context():
        assert portal.extensions["document_portal"].signing.verify(document.pdf).is_valid
    page = browser.get(f"/issuing/{document.public_id}?issued=1").get_data(as_text=True)
    assert 'id="issued"' in page and "Zoé Citoyenne" in page

    # The learner (an existing account) signs in: the document Passerelle's invitation
    # carries is theirs, whatever address they now have.
    learner = portal.test_client()
    assert sign_in(learner, LEARNER, clock).headers["Location"] == "/"
    assert learner.get("/").headers["Location"] == "/documents"
    [bound] = documents(portal)
    assert bound.learner_sub and bound.bound_at is not None
    assert learner.get("/issuing").status_code == 403  # a learner is not staff
    assert learner_id


def test_a_transcript_form_is_rendered_signed_and_issued_in_english(portal, live_server, school, clock):
    browser = staff_browser(portal, live_server, school, clock)
    form = issue_form(source="transcript", locale="en", pdf=(io.BytesIO(b""), ""), program="Bachelor of Arts",
                      courses="MAT101; Calculus I; A; 3; Fall 2026\nHIS110; History of Canada; B+; 3")
    issued = browser.post("/issuing/new", data=form, content_type="multipart/form-data")
    assert issued.status_code == 302, issued.get_data(as_text=True)[:2000]
    [document] = documents(portal)
    assert document.learner_locale == "en" and document.pdf.startswith(b"%PDF-")
    bad = browser.post("/issuing/new", data=issue_form(source="transcript", program="BA", courses="just words",
                                                       pdf=(io.BytesIO(b""), "")),
                       content_type="multipart/form-data", headers={"Accept-Language": "en"})
    assert bad.status_code == 400 and "code; title; grade; credits; term" in bad.get_data(as_text=True)


@pytest.mark.parametrize("address", ["<b>zoe</b>@example.ca", "Zoé <zoe@example.ca>", "zoe@example.ca\r\nBcc: x@y.z",
                                     "javascript:alert(1)@example.ca", "not-an-address"])
def test_an_address_with_markup_is_refused_and_nothing_is_issued(portal, live_server, school, clock, address):
    browser = staff_browser(portal, live_server, school, clock)
    refused = browser.post("/issuing/new", data=issue_form(email=address), content_type="multipart/form-data",
                           headers={"Accept-Language": "en"})
    text = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "error-summary" in text
    assert "<b>zoe</b>" not in text and documents(portal) == []


def test_a_non_pdf_an_encrypted_pdf_and_a_pdf_with_javascript_are_refused(portal, live_server, school, clock):
    browser = staff_browser(portal, live_server, school, clock)
    for content, words in ((b"MZ\x90\x00 not a pdf", "This file is not a PDF."),
                           (build_pdf(catalog_extra=b"/OpenAction << /S /JavaScript /JS (app.alert\\(1\\)) >> "),
                            "contains JavaScript"),
                           (encrypted_pdf("secret"), "encrypted or password-protected")):
        refused = browser.post("/issuing/new", data=issue_form(pdf=(io.BytesIO(content), "x.pdf")),
                               content_type="multipart/form-data", headers={"Accept-Language": "en"})
        assert refused.status_code == 400 and words in refused.get_data(as_text=True)
    assert documents(portal) == []


def test_a_200_megabyte_upload_is_refused_before_it_is_read(portal, live_server, school, clock):
    browser = staff_browser(portal, live_server, school, clock)
    huge = str(200 * 1024 * 1024)  # announced; the body is never read, so it need not be sent
    for path in ("/issuing/new", "/issuing/bulk"):
        refused = browser.post(path, data=b"--x--\r\n", content_type="multipart/form-data; boundary=x",
                               environ_overrides={"CONTENT_LENGTH": huge}, headers={"Accept-Language": "en"})
        assert refused.status_code == 413, path
        assert "too large" in refused.get_data(as_text=True).lower()


def test_staff_of_one_school_never_see_issue_for_or_withdraw_another_schools_documents(portal, live_server, school,
                                                                                         clock):
    other = school_with_staff(live_server.app, (OTHER_STAFF,), number=OTHER_SCHOOL_NUMBER, name_fr="Autre école",
                              name_en="Other School")
    browser = staff_browser(portal, live_server, school, clock)
    assert browser.post("/issuing/new", data=issue_form(), content_type="multipart/form-data").status_code == 302
    [document] = documents(portal)

    intruder = staff_browser(portal, live_server, other, clock, email=OTHER_STAFF)
    assert document.public_id not in intruder.get("/issuing").get_data(as_text=True)
    assert intruder.get(f"/issuing/{document.public_id}").status_code == 404
    withdrawal = intruder.post(f"/issuing/{document.public_id}/withdraw", data={"reason": "mine now"})
    assert withdrawal.status_code == 404
    assert "Zoé" not in intruder.get("/issuing/export.csv").get_data(as_text=True)
    # What the other school issues is its own, whatever the form says.
    assert intruder.post("/issuing/new", data=issue_form(issuer_organization_id=school.public_id),
                         content_type="multipart/form-data").status_code == 302
    ours, theirs = documents(portal)
    assert ours.state == "issued" and theirs.issuer_organization_id == other.public_id
    assert theirs.issuer_name_fr == "Autre école"


def test_withdrawal_needs_a_reason_happens_once_and_the_learner_is_told(live_server, registration, tmp_path, pki,
                                                                         school, clock, mailbox):
    portal = build_document_portal(live_server.url, registration, tmp_path / "mail.db", pki, WTF_CSRF_ENABLED=False,
                                   TESTING=True, **mail_settings())
    browser = staff_browser(portal, live_server, school, clock)
    browser.post("/issuing/new", data=issue_form(locale="en"), content_type="multipart/form-data")
    [document] = documents(portal)
    empty = browser.post(f"/issuing/{document.public_id}/withdraw", data={"reason": "  "},
                         headers={"Accept-Language": "en"})
    assert empty.status_code == 400 and "Say why the document is withdrawn." in empty.get_data(as_text=True)
    done = browser.post(f"/issuing/{document.public_id}/withdraw", data={"reason": "Issued to the wrong learner"})
    assert done.status_code == 302 and done.headers["Location"].endswith("?withdrawn=told")
    [withdrawn] = documents(portal)
    assert withdrawn.state == "withdrawn" and withdrawn.withdrawal_reason == "Issued to the wrong learner"
    assert withdrawn.withdrawn_at is not None and withdrawn.withdrawn_by_sub
    message = mailbox.wait_for(LEARNER)
    assert "Imaginary School withdrew your document" in message["Subject"] and message["Content-Language"] == "en"
    assert "Issued to the wrong learner" in text_body(message) and "info@ecole.example" in text_body(message)
    page = browser.get(f"/issuing/{document.public_id}?withdrawn=told", headers={"Accept-Language": "en"})
    assert 'id="withdrawn"' in page.get_data(as_text=True) and "Withdraw the document" not in page.get_data(as_text=True)
    again = browser.post(f"/issuing/{document.public_id}/withdraw", data={"reason": "again"})
    assert again.status_code == 302 and documents(portal)[0].withdrawal_reason == "Issued to the wrong learner"


def test_a_withdrawal_stands_when_the_mail_relay_is_down(live_server, registration, tmp_path, pki, school, clock):
    portal = build_document_portal(live_server.url, registration, tmp_path / "down.db", pki, WTF_CSRF_ENABLED=False,
                                   TESTING=True, **mail_settings(free_port()))
    browser = staff_browser(portal, live_server, school, clock)
    browser.post("/issuing/new", data=issue_form(), content_type="multipart/form-data")
    [document] = documents(portal)
    done = browser.post(f"/issuing/{document.public_id}/withdraw", data={"reason": "Erreur"})
    assert done.headers["Location"].endswith("?withdrawn=untold") and documents(portal)[0].state == "withdrawn"


def test_a_bulk_issue_checks_every_line_first_and_the_csv_given_back_cannot_run_formulas(portal, live_server,
                                                                                         school, clock):
    browser = staff_browser(portal, live_server, school, clock)
    header = "email,given_name,family_name,locale,kind,title_fr,title_en,file\n"
    lines = [
        "ana@example.ca,=HYPERLINK(\"http://evil.example\"),Tremblay,fr,diploma,Diplôme,Diploma,ana.pdf",
        "<b>x</b>@example.ca,Bob,Roy,en,transcript,Relevé,Transcript,bob.pdf",
        "cleo@example.ca,Cléo,Roy,fr,attestation,Attestation,Attestation,missing.pdf",
    ]
    files = {"ana.pdf": plain_pdf("Ana"), "bob.pdf": plain_pdf("Bob")}
    refused = browser.post("/issuing/bulk", data={
        "contact_email": "info@ecole.example", "csv_file": (io.BytesIO((header + "\n".join(lines)).encode()), "d.csv"),
        "zip_file": (io.BytesIO(zip_of(files)), "d.zip")}, content_type="multipart/form-data",
        headers={"Accept-Language": "en"})
    text = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "Nothing was issued" in text
    assert "Line 3" in text and "Line 4" in text and "The ZIP file has no PDF of that name." in text
    assert documents(portal) == []

    good = browser.post("/issuing/bulk", data={
        "contact_email": "info@ecole.example", "csv_file": (io.BytesIO((header + lines[0]).encode()), "d.csv"),
        "zip_file": (io.BytesIO(zip_of(files)), "d.zip")}, content_type="multipart/form-data")
    assert good.status_code == 200 and 'id="bulk-issued"' in good.get_data(as_text=True)
    [document] = documents(portal)
    assert document.learner_given_name.startswith("=HYPERLINK") and document.kind == "diploma"
    exported = browser.get("/issuing/export.csv")
    assert exported.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[1][4] == "'=HYPERLINK(\"http://evil.example\")"  # a spreadsheet shows text, runs nothing
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_a_learner_cannot_reach_issuing_and_a_visitor_is_sent_to_sign_in(portal, live_server, clock):
    make_user(live_server.app, LEARNER)
    learner = portal.test_client()
    sign_in(learner, LEARNER, clock)
    assert learner.get("/issuing").status_code == 403
    assert learner.post("/issuing/new", data=issue_form(), content_type="multipart/form-data").status_code == 403
    assert path_of(portal.test_client().get("/issuing").headers["Location"]) == "/login"


def change_address(idp_app, user_id: int, email: str) -> None:
    """The person changes their address at Passerelle (as the account page does)."""
    from idp.accounts.models import User
    from idp.extensions import db

    with idp_app.app_context():
        db.session.get(User, user_id).email = email
        db.session.commit()


def invitation_state(idp_app, public_id: str) -> str:
    from idp.extensions import db
    from idp.invitations.models import Invitation

    with idp_app.app_context():
        invitation = db.session.scalars(select(Invitation).where(Invitation.public_id == public_id)).one()
        return invitation.state_at(live_clock(idp_app)).value


def live_clock(idp_app):
    from idp.context import app_context

    with idp_app.app_context():
        return app_context().clock()


def test_the_document_follows_the_person_not_the_address(portal, live_server, school, clock):
    zoe = make_user(live_server.app, LEARNER)
    browser = staff_browser(portal, live_server, school, clock)
    assert browser.post("/issuing/new", data=issue_form(), content_type="multipart/form-data").status_code == 302
    # Zoé moves to another address; someone else then takes her old one.
    change_address(live_server.app, zoe, "zoe.nouvelle@example.ca")
    make_user(live_server.app, LEARNER)
    newcomer = portal.test_client()
    assert sign_in(newcomer, LEARNER, clock).headers["Location"] == "/"
    assert documents(portal)[0].learner_sub is None  # not the newcomer's
    assert 'id="no-documents"' in newcomer.get("/documents").get_data(as_text=True)
    owner = portal.test_client()
    sign_in(owner, "zoe.nouvelle@example.ca", clock)
    [document] = documents(portal)
    assert document.learner_sub and document.public_id in owner.get("/documents").get_data(as_text=True)


def test_whoever_registers_the_address_after_the_issue_does_not_capture_the_document(portal, live_server, school,
                                                                                     clock):
    browser = staff_browser(portal, live_server, school, clock)
    assert browser.post("/issuing/new", data=issue_form(), content_type="multipart/form-data").status_code == 302
    make_user(live_server.app, LEARNER)  # registers the address by another route than the invitation's link
    someone = portal.test_client()
    sign_in(someone, LEARNER, clock)
    assert documents(portal)[0].learner_sub is None


def test_withdrawing_a_document_nobody_received_revokes_its_invitation(portal, live_server, school, clock):
    browser = staff_browser(portal, live_server, school, clock)
    browser.post("/issuing/new", data=issue_form(), content_type="multipart/form-data")
    [document] = documents(portal)
    assert invitation_state(live_server.app, document.invitation_id) == "pending"
    browser.post(f"/issuing/{document.public_id}/withdraw", data={"reason": "Erreur de destinataire"})
    assert invitation_state(live_server.app, document.invitation_id) == "revoked"


def test_a_school_without_a_signing_certificate_is_told_and_nothing_is_issued(live_server, registration, tmp_path, pki,
                                                                            school, clock):
    portal = build_document_portal(live_server.url, registration, tmp_path / "unsigned.db", pki,
                                   signers=(OTHER_SCHOOL_NUMBER,), WTF_CSRF_ENABLED=False, TESTING=True)
    browser = staff_browser(portal, live_server, school, clock)
    refused = browser.post("/issuing/new", data=issue_form(), content_type="multipart/form-data",
                           headers={"Accept-Language": "en"})
    assert refused.status_code == 400 and "No signing certificate is set up for your school" in refused.get_data(
        as_text=True)
    assert documents(portal) == []


def test_without_the_invitations_scope_nothing_is_issued_and_staff_are_told_why(live_server, tmp_path, pki, school,
                                                                              clock):
    registration = register_document_portal(live_server.app, scope="openid profile email organization")
    portal = build_document_portal(live_server.url, registration, tmp_path / "noscope.db", pki,
                                   WTF_CSRF_ENABLED=False, TESTING=True)
    browser = staff_browser(portal, live_server, school, clock)
    refused = browser.post("/issuing/new", data=issue_form(), content_type="multipart/form-data",
                           headers={"Accept-Language": "fr"})
    assert refused.status_code == 400 and 'id="trouble"' in refused.get_data(as_text=True)
    assert documents(portal) == []


def test_passerelle_out_of_reach_is_a_clear_503_never_a_500(tmp_path, pki):
    from tests.document_portal_support import ORIGIN
    from tests.oidc_support import RegisteredClient

    closed = f"http://127.0.0.1:{free_port()}"
    portal = build_document_portal(closed, RegisteredClient("document-portal", "secret", ORIGIN + "/callback"),
                                   tmp_path / "down.db", pki)
    page = portal.test_client().get("/login", headers={"Accept-Language": "en"})
    assert page.status_code == 503 and "Passerelle cannot be reached right now." in page.get_data(as_text=True)


def test_a_transcript_form_with_markup_or_control_characters_is_refused_before_rendering(portal, live_server, school,
                                                                                        clock):
    browser = staff_browser(portal, live_server, school, clock)
    for fields in ({"program": "<font size=90>BA</font>"}, {"program": "BA\x00"}, {"learner_number": "12\u202e34"},
                   {"given_name": "<b>Zoé</b>"}):
        form = issue_form(source="transcript", pdf=(io.BytesIO(b""), ""), program="Bachelor of Arts",
                          courses="MAT101; Calculus I; A; 3")
        form.update(fields)
        refused = browser.post("/issuing/new", data=form, content_type="multipart/form-data",
                               headers={"Accept-Language": "en"})
        assert refused.status_code == 400, fields
        assert "Remove the markup, control or invisible characters." in refused.get_data(as_text=True)
    assert documents(portal) == []


def test_a_school_certificate_outside_the_trust_roots_stops_the_first_issue(live_server, registration, tmp_path, pki,
                                                                           school, clock):
    portal = build_document_portal(live_server.url, registration, tmp_path / "untrusted.db", pki,
                                   WTF_CSRF_ENABLED=False, TESTING=True,
                                   DOCUMENT_PORTAL_TRUST_ROOTS=[str(make_demo_pki(tmp_path / "other").ca_certificate)])
    browser = staff_browser(portal, live_server, school, clock)
    refused = browser.post("/issuing/new", data=issue_form(), content_type="multipart/form-data",
                           headers={"Accept-Language": "en"})
    assert refused.status_code == 400
    assert "Your school's signing certificate is not trusted by the portal" in refused.get_data(as_text=True)
    assert documents(portal) == []
