"""The document portal's templates as its views render them, for the every-template checks
(tests/unit/test_translations.py): each page through the portal's own `page()` in one
language, with a signed-in staff member or learner where the page needs one, and the
portal's emails through its mail module; learner_contexts() holds the learner side's pages."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from types import SimpleNamespace

PREFIX = "clients/document_portal/"
NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


@functools.cache
def document_portal_app():
    from clients.document_portal import create_app

    return create_app({
        "DOCUMENT_PORTAL_ENV": "development", "DOCUMENT_PORTAL_ISSUER": "http://127.0.0.1:5000",
        "DOCUMENT_PORTAL_CLIENT_ID": "document-portal", "DOCUMENT_PORTAL_CLIENT_SECRET": "test",
        "DOCUMENT_PORTAL_BASE_URL": "http://127.0.0.1:5004", "DOCUMENT_PORTAL_SECRET_KEY": "t" * 32,
        "DOCUMENT_PORTAL_DATABASE_URL": "sqlite://",
    }, environ={})


def staff_person():
    return SimpleNamespace(sub="staff-1", role="staff", is_staff=True, organization_id="org-1",
                           organization_name=lambda locale: "Imaginary School" if locale == "en" else "École Imaginaire")


def sample_document(**fields):
    from clients.document_portal.documents.models import Document

    values = {"public_id": "d0cUm3nt", "issuer_organization_id": "org-1", "issuer_name_fr": "École Imaginaire",
              "issuer_name_en": "Imaginary School", "contact_email": "info@ecole-imaginaire.ca", "kind": "transcript",
              "title_fr": "Relevé de notes", "title_en": "Transcript", "learner_given_name": "Zoé",
              "learner_family_name": "Citoyenne", "learner_email": "zoe@example.ca", "learner_locale": "fr",
              "invitation_id": "inv-1", "learner_sub": None, "pdf": b"%PDF-1.7", "sha256": "0" * 64, "issued_at": NOW,
              "issued_by_sub": "staff-1", "state": "issued", "withdrawal_reason": None}
    return Document(**{**values, **fields})


def app_contexts() -> dict:
    """dp-app's pages: (context factory, needs a staff member signed in)."""
    from clients.document_portal.issuing.forms import BulkForm, IssueForm, WithdrawForm

    return {
        f"{PREFIX}error.html": (lambda: {"kind": "not_found"}, False),
        f"{PREFIX}refused.html": (lambda: {"message": "", "code": "access_denied"}, False),
        f"{PREFIX}issuing/index.html": (lambda: {"documents": [sample_document()]}, True),
        f"{PREFIX}issuing/new.html": (lambda: {"form": IssueForm(), "trouble": None, "max_megabytes": 10}, True),
        f"{PREFIX}issuing/bulk.html": (lambda: {"form": BulkForm(), "problems": [(2, "Email", "Wrong")],
                                                "issued": [(2, sample_document())], "stopped_at": None,
                                                "trouble": None, "columns": ("email", "file"), "max_rows": 500}, True),
        f"{PREFIX}issuing/document.html": (lambda: {"document": sample_document(), "form": WithdrawForm(),
                                                    "issued": True, "withdrawn": None, "issued_at": "7 déc. 2026"},
                                           True),
    }


def sample_verdict(**document_fields):
    from clients.document_portal.signing.verification import VerificationResult, VerificationStatus
    from clients.document_portal.verify.services import Verdict

    check = VerificationResult(status=VerificationStatus.VALID, file_sha256="0" * 64, signed=True, intact=True,
                               covers_whole_file=True, trusted=True, signer_name="École Imaginaire",
                               signer_organization="École Imaginaire", signing_time=NOW,
                               chain=("École Imaginaire", "Autorité de démonstration"))
    return Verdict(document=sample_document(**document_fields), signature=check)


def sample_share():
    return SimpleNamespace(public_id="sh4r3", created_at=NOW, expires_at=NOW, locked_at=None, has_code=True,
                           open_count=2, last_opened_at=NOW)


def learner_contexts() -> dict:
    """The learner side's pages (dp-learner's): name -> (context factory, needs someone signed in)."""
    from clients.document_portal.shares.forms import AccessCodeForm, RevokeForm, ShareForm
    from clients.document_portal.verify.forms import VerifyForm

    return {
        f"{PREFIX}learner/index.html": (lambda: {"documents": [sample_document(learner_sub="zoe")]}, True),
        f"{PREFIX}learner/document.html": (lambda: {
            "document": sample_document(learner_sub="zoe"), "shares": [sample_share()], "verdict": sample_verdict(),
            "share_form": ShareForm(), "revoke_form": RevokeForm()}, True),
        f"{PREFIX}learner/_viewer.html": (lambda: {"document": sample_document(learner_sub="zoe")}, True),
        f"{PREFIX}verify/_panel.html": (lambda: {"verdict": sample_verdict()}, False),
        f"{PREFIX}verify/index.html": (lambda: {"form": VerifyForm(), "max_megabytes": 10}, False),
        f"{PREFIX}verify/result.html": (lambda: {"verdict": sample_verdict(state="withdrawn", withdrawn_at=NOW)}, False),
        f"{PREFIX}shares/created.html": (lambda: {"document": sample_document(), "share": sample_share(),
                                                  "link": "http://127.0.0.1:5004/s/t0k3n", "code": "ABCD-EFGH"}, True),
        f"{PREFIX}shares/shared.html": (lambda: {"document": sample_document(), "share": sample_share(),
                                                 "token": "t0k3n", "verdict": sample_verdict()}, False),
        f"{PREFIX}shares/code.html": (lambda: {"form": AccessCodeForm()}, False),
    }

EMAIL_CONTEXTS = {
    "document-withdrawn": lambda: {
        "given_name": "Zoé", "family_name": "Citoyenne", "title": {"fr": "Relevé de notes", "en": "Transcript"},
        "school": {"fr": "École Imaginaire", "en": "Imaginary School"}, "reason": "Émis par erreur",
        "contact_email": "info@ecole-imaginaire.ca", "portal_url": "http://127.0.0.1:5004/documents",
        "help_url": "http://127.0.0.1:5004/help"},
}


def contexts() -> dict:
    return {**app_contexts(), **learner_contexts()}


def render_document_portal(name: str, locale: str) -> str:
    """One template of templates/clients/document_portal/ in one language."""
    from flask import g

    from clients.document_portal.web import page

    if name.startswith(f"{PREFIX}email/"):
        return render_email(name.removeprefix(f"{PREFIX}email/"), locale)
    factory, signed_in = contexts().get(name, (dict, False))
    with document_portal_app().test_request_context("/", headers={"Accept-Language": locale}):
        g.portal_session = staff_person() if signed_in else None
        return page(name.removeprefix(PREFIX), **factory())[0]


def render_email(path: str, locale: str) -> str:
    from clients.document_portal.mail import EMAIL_FOLDER, FOOTER
    from clients.portal_kit.mail import render_email as render

    folder, _, file = path.partition("/")
    if folder.startswith("_"):
        return ""
    rendered = render(EMAIL_FOLDER, FOOTER, folder, (locale,), EMAIL_CONTEXTS[folder]())
    return {"subject.txt": rendered.subject, "body.txt": rendered.text, "body.html": rendered.html}[file]
