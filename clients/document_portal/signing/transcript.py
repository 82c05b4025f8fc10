"""A transcript PDF rendered from the staff's form (reportlab), in French or English.

The labels live here, in both languages side by side, rather than in the message catalog:
they are part of a signed document, whose wording must not change under an issued file when
the catalog is edited. Dates and numbers follow the language (Babel). The output is
byte-for-byte the same for the same input (reportlab's invariant mode: fixed creation date
and document id), so tests can compare renderings. Every value from the form is escaped
before it reaches reportlab's paragraph markup (which can otherwise load images by path).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from io import BytesIO
from xml.sax.saxutils import escape

from babel.dates import format_date
from babel.numbers import format_decimal
from reportlab.lib import colors
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

LOCALES = ("fr", "en")
BABEL_LOCALES = {"fr": "fr_CA", "en": "en_CA"}

LABELS = {
    "fr": {
        "title": "Relevé de notes",
        "learner": "Nom",
        "learner_number": "Numéro de dossier",
        "date_of_birth": "Date de naissance",
        "program": "Programme",
        "started_on": "Début du programme",
        "completed_on": "Fin du programme",
        "code": "Sigle",
        "course": "Cours",
        "term": "Session",
        "grade": "Note",
        "credits": "Crédits",
        "total_credits": "Total des crédits",
        "issued_on": "Délivré le {date}",
        "signed": "Ce document est signé numériquement par {school}. Votre lecteur PDF en affiche la "
                  "signature ; la page « Vérifier un document » du portail confirme qu'il n'a pas été modifié.",
        "page": "Page {number}",
    },
    "en": {
        "title": "Transcript",
        "learner": "Name",
        "learner_number": "Student number",
        "date_of_birth": "Date of birth",
        "program": "Program",
        "started_on": "Program start",
        "completed_on": "Program completed",
        "code": "Code",
        "course": "Course",
        "term": "Term",
        "grade": "Grade",
        "credits": "Credits",
        "total_credits": "Total credits",
        "issued_on": "Issued on {date}",
        "signed": "This document is digitally signed by {school}. Your PDF reader shows the signature; "
                  "the portal's “Verify a document” page confirms that it has not been altered.",
        "page": "Page {number}",
    },
}


@dataclass(frozen=True)
class Course:
    """One line of the transcript."""

    code: str
    title: str
    grade: str
    credits: Decimal
    term: str = ""


@dataclass(frozen=True)
class TranscriptData:
    """What the staff's transcript form gives (already checked for shape by the form)."""

    school_name: str
    learner_name: str
    program: str
    courses: tuple[Course, ...]
    issued_on: date
    learner_number: str = ""
    date_of_birth: date | None = None
    started_on: date | None = None
    completed_on: date | None = None

    @property
    def total_credits(self) -> Decimal:
        return sum((Decimal(course.credits) for course in self.courses), Decimal(0))


def render_transcript(data: TranscriptData, locale: str = "fr") -> bytes:
    """The transcript as PDF bytes in `locale` ("fr" or "en"). Raises ValueError otherwise."""
    if locale not in LOCALES:
        raise ValueError(f"unsupported locale {locale!r}")
    labels = LABELS[locale]
    babel_locale = BABEL_LOCALES[locale]
    styles = _styles()
    output = BytesIO()
    document = SimpleDocTemplate(
        output, pagesize=LETTER, invariant=1, leftMargin=20 * mm, rightMargin=20 * mm, topMargin=18 * mm,
        bottomMargin=20 * mm, title=f"{labels['title']} — {data.learner_name}", author=data.school_name,
        subject=data.program, creator="Portail de documents", lang=BABEL_LOCALES[locale].replace("_", "-"),
    )

    def when(value: date) -> str:
        return format_date(value, format="long", locale=babel_locale)

    def number(value: Decimal) -> str:
        return format_decimal(value, format="#,##0.0#", locale=babel_locale)

    def text(value: str, style: str = "cell") -> Paragraph:
        return Paragraph(escape(value), styles[style])

    identity = [(labels["learner"], data.learner_name)]
    if data.learner_number:
        identity.append((labels["learner_number"], data.learner_number))
    if data.date_of_birth:
        identity.append((labels["date_of_birth"], when(data.date_of_birth)))
    identity.append((labels["program"], data.program))
    if data.started_on:
        identity.append((labels["started_on"], when(data.started_on)))
    if data.completed_on:
        identity.append((labels["completed_on"], when(data.completed_on)))

    rows = [[text(labels[key], "head") for key in ("code", "course", "term", "grade")]
            + [text(labels["credits"], "head_number")]]
    rows += [[text(c.code), text(c.title), text(c.term), text(c.grade), text(number(Decimal(c.credits)), "number")]
             for c in data.courses]
    rows.append(["", text(labels["total_credits"], "head"), "", "", text(number(data.total_credits), "head_number")])
    courses = Table(rows, colWidths=[24 * mm, 76 * mm, 26 * mm, 22 * mm, 22 * mm], repeatRows=1, hAlign="LEFT")
    courses.setStyle(TableStyle([
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
        ("LINEABOVE", (0, -1), (-1, -1), 0.8, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("ROWBACKGROUNDS", (0, 1), (-1, -2), [colors.white, colors.HexColor("#f2f2f2")]),
    ]))
    details = Table([[text(label, "head"), text(value)] for label, value in identity],
                    colWidths=[45 * mm, 125 * mm], hAlign="LEFT", style=[("LEFTPADDING", (0, 0), (0, -1), 0)])
    story = [
        text(data.school_name, "school"),
        text(labels["title"], "title"),
        details,
        Spacer(1, 8 * mm),
        courses,
        Spacer(1, 8 * mm),
        text(labels["issued_on"].format(date=when(data.issued_on))),
        Spacer(1, 4 * mm),
        text(labels["signed"].format(school=data.school_name), "note"),
    ]

    def footer(canvas, doc):
        canvas.saveState()
        canvas.setFont("Helvetica", 8)
        canvas.drawRightString(LETTER[0] - 20 * mm, 10 * mm, labels["page"].format(number=doc.page))
        canvas.restoreState()

    document.build(story, onFirstPage=footer, onLaterPages=footer)
    return output.getvalue()


def _styles() -> dict[str, ParagraphStyle]:
    base = getSampleStyleSheet()
    return {
        "school": ParagraphStyle("school", parent=base["Normal"], fontName="Helvetica-Bold", fontSize=14, leading=18),
        "title": ParagraphStyle("title", parent=base["Title"], alignment=0, fontSize=20, leading=26, spaceAfter=12),
        "head": ParagraphStyle("head", parent=base["Normal"], fontName="Helvetica-Bold", fontSize=9.5, leading=12),
        "head_number": ParagraphStyle("head_number", parent=base["Normal"], fontName="Helvetica-Bold", fontSize=9.5,
                                      leading=12, alignment=2),
        "cell": ParagraphStyle("cell", parent=base["Normal"], fontSize=9.5, leading=12),
        "number": ParagraphStyle("number", parent=base["Normal"], fontSize=9.5, leading=12, alignment=2),
        "note": ParagraphStyle("note", parent=base["Normal"], fontSize=8.5, leading=11, textColor=colors.HexColor("#333333")),
    }
