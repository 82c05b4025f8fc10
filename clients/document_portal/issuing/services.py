"""Issuing (school staff): the school's documents, issuing one (an uploaded PDF or a
rendered transcript, signed with the school's certificate, then Passerelle told to invite
the learner), and withdrawing one. Every action is scoped by the staff member's own
organization: another school's document is "not found". No Flask.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from clients.document_portal.documents.models import ISSUED, KINDS, WITHDRAWN, Document
from clients.document_portal.errors import (
    AlreadyWithdrawn,
    DocumentNotFound,
    InvalidField,
    InvitationsApiError,
)
from clients.document_portal.invitations_api import DocumentInvitation, InvitationsApi
from clients.document_portal.signer import Signer
from clients.document_portal.signing.transcript import Course, TranscriptData

LOCALES = ("fr", "en")
# What no address we send mail to needs and what markup or a display name needs:
# "<b>x</b>@example.ca" and "Zoé <zoe@example.ca>" are refused, not escaped (Passerelle
# refuses them too).
_MARKUP = re.compile(r"[<>\"'()\[\]\\,;:`&]")
_ADDRESS = re.compile(r"[^@\s]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+")
_NAME_MARKUP = re.compile(r"[<>{}\[\]\\`]")
MAX_COURSES = 200
LIMITS = {"given_name": 100, "family_name": 100, "title_fr": 200, "title_en": 200, "program": 200, "learner_number": 40}


@dataclass(frozen=True)
class Staff:
    """Who acts: the staff member's sub and their school as the session holds them."""

    sub: str
    organization_id: str
    organization_number: str
    organization_name_fr: str
    organization_name_en: str


@dataclass(frozen=True)
class DocumentRequest:
    """One document to issue, as staff typed it (checked by `clean`)."""

    kind: str
    title_fr: str
    title_en: str
    given_name: str
    family_name: str
    email: str
    locale: str
    contact_email: str


def clean_email(field: str, value: str) -> str:
    """The address in lower case. Raises InvalidField: markup, spaces, control characters or
    not an address."""
    value = (value or "").strip()
    if not value:
        raise InvalidField(field, "missing")
    if _MARKUP.search(value) or any(unicodedata.category(char)[0] in "CZ" for char in value):
        raise InvalidField(field, "markup")
    if len(value) > 254 or not _ADDRESS.fullmatch(value):
        raise InvalidField(field, "email")
    return value.lower()


def clean_text(field: str, value: str) -> str:
    """A name or title: trimmed, no control or invisible characters, no markup, not too long."""
    value = unicodedata.normalize("NFC", (value or "").strip())
    if not value:
        raise InvalidField(field, "missing")
    if len(value) > LIMITS[field]:
        raise InvalidField(field, "too_long")
    if _NAME_MARKUP.search(value) or any(unicodedata.category(char) in ("Cc", "Cf", "Co", "Cn", "Zl", "Zp")
                                         for char in value):
        raise InvalidField(field, "characters")
    return value


def clean(request: DocumentRequest) -> DocumentRequest:
    """The request with every field checked. Raises InvalidField (the first wrong field)."""
    if request.kind not in KINDS:
        raise InvalidField("kind", "choice")
    if request.locale not in LOCALES:
        raise InvalidField("locale", "choice")
    return DocumentRequest(
        kind=request.kind,
        title_fr=clean_text("title_fr", request.title_fr),
        title_en=clean_text("title_en", request.title_en),
        given_name=clean_text("given_name", request.given_name),
        family_name=clean_text("family_name", request.family_name),
        email=clean_email("email", request.email),
        locale=request.locale,
        contact_email=clean_email("contact_email", request.contact_email),
    )


class IssuingService:
    def __init__(self, session: Session, signer: Signer, invitations: InvitationsApi, clock: Callable[[], datetime]):
        self.session = session
        self.signer = signer
        self.invitations = invitations
        self.clock = clock

    def list(self, staff: Staff) -> list[Document]:
        """The school's documents, newest first."""
        return list(self.session.scalars(
            select(Document).where(Document.issuer_organization_id == staff.organization_id)
            .order_by(Document.issued_at.desc(), Document.id.desc())))

    def get(self, staff: Staff, public_id: str) -> Document:
        """One of the school's documents. Raises DocumentNotFound (also for another school's)."""
        document = self.session.scalar(select(Document).where(
            Document.public_id == str(public_id)[:64], Document.issuer_organization_id == staff.organization_id))
        if document is None:
            raise DocumentNotFound(public_id)
        return document

    def last_contact_email(self, staff: Staff) -> str | None:
        """The contact address the school gave with its latest document (the form's default)."""
        return self.session.scalar(select(Document.contact_email)
                                   .where(Document.issuer_organization_id == staff.organization_id)
                                   .order_by(Document.issued_at.desc(), Document.id.desc()).limit(1))

    def render(self, transcript: TranscriptData, locale: str) -> bytes:
        return self.signer.render_transcript(transcript, locale)

    def prepare(self, staff: Staff, request: DocumentRequest, pdf: bytes) -> tuple[DocumentRequest, bytes]:
        """Check the fields and the PDF, then sign it. Raises InvalidField, PdfRefused or a
        SigningError (no signer for the school, timestamp authority down)."""
        request = clean(request)
        self.signer.check(pdf)
        signed = self.signer.sign(pdf, staff.organization_number,
                                  reason=f"{request.title_fr} / {request.title_en} — {staff.organization_name_fr}")
        return request, signed

    def issue(self, staff: Staff, request: DocumentRequest, pdf: bytes) -> Document:
        """Check, sign, record, and have Passerelle tell the learner. Nothing is recorded
        unless Passerelle took the invitation. Raises InvalidField, PdfRefused, SigningError
        or InvitationsApiError; the caller commits."""
        request, signed = self.prepare(staff, request, pdf)
        return self.record(staff, request, signed)

    def record(self, staff: Staff, request: DocumentRequest, signed: bytes) -> Document:
        """Record a signed document and invite the learner (Raises InvitationsApiError)."""
        invitation_id = self.invitations.invite(DocumentInvitation(
            email=request.email, given_name=request.given_name, family_name=request.family_name,
            locale=request.locale, kind=request.kind, title_fr=request.title_fr, title_en=request.title_en,
            issuer_name_fr=staff.organization_name_fr, issuer_name_en=staff.organization_name_en,
            contact_email=request.contact_email, organization_number=staff.organization_number,
        ))
        document = Document(
            issuer_organization_id=staff.organization_id, issuer_name_fr=staff.organization_name_fr,
            issuer_name_en=staff.organization_name_en, contact_email=request.contact_email, kind=request.kind,
            title_fr=request.title_fr, title_en=request.title_en, learner_given_name=request.given_name,
            learner_family_name=request.family_name, learner_email=request.email, learner_locale=request.locale,
            invitation_id=invitation_id, pdf=signed, sha256=hashlib.sha256(signed).hexdigest(),
            issued_at=self.clock(), issued_by_sub=staff.sub, state=ISSUED,
        )
        self.session.add(document)
        self.session.flush()
        return document

    def withdraw(self, staff: Staff, public_id: str, reason: str) -> Document:
        """Withdraw one of the school's documents: shares stop (they check the state),
        verification says withdrawn, an invitation not yet accepted is revoked. Raises
        DocumentNotFound, AlreadyWithdrawn or InvalidField (no reason); the caller commits."""
        reason = (reason or "").strip()
        if not reason:
            raise InvalidField("reason", "missing")
        if len(reason) > 1000:
            raise InvalidField("reason", "too_long")
        document = self.get(staff, public_id)
        now = self.clock()
        # Conditional: of two withdrawals at once, one wins and the other is told.
        changed = self.session.execute(
            update(Document).where(Document.id == document.id, Document.state == ISSUED)
            .values(state=WITHDRAWN, withdrawn_at=now, withdrawn_by_sub=staff.sub, withdrawal_reason=reason)
            .execution_options(synchronize_session=False)).rowcount
        if not changed:
            raise AlreadyWithdrawn(public_id)
        self.session.refresh(document)
        if document.learner_sub is None and document.invitation_id:
            try:
                self.invitations.revoke(document.invitation_id)
            except InvitationsApiError:
                pass  # the invitation then leads to a withdrawn document, which says so
        return document


def parse_courses(text: str) -> tuple[Course, ...]:
    """The transcript form's courses, one per line: code; title; grade; credits; term.
    Raises InvalidField("courses", …)."""
    courses = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        parts = [part.strip() for part in line.split(";")]
        if len(parts) not in (4, 5) or not all(parts[:4]) or len(courses) >= MAX_COURSES:
            raise InvalidField("courses", "course_line")
        if any(len(part) > 200 or _NAME_MARKUP.search(part) for part in parts):
            raise InvalidField("courses", "characters")
        try:
            credits = Decimal(parts[3].replace(",", "."))
        except InvalidOperation:
            raise InvalidField("courses", "course_line") from None
        if not credits.is_finite() or not 0 <= credits <= 100:
            raise InvalidField("courses", "course_line")
        courses.append(Course(code=parts[0], title=parts[1], grade=parts[2], credits=credits,
                              term=parts[4] if len(parts) == 5 else ""))
    if not courses:
        raise InvalidField("courses", "missing")
    return tuple(courses)
