"""The transcript PDF from the staff's form: labels in the requested language, dates and
numbers in its conventions, the same bytes for the same input, form values kept as text."""

from __future__ import annotations

import dataclasses
import re
from io import BytesIO

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from clients.document_portal.signing.intake import check_pdf
from clients.document_portal.signing.transcript import render_transcript


def page_text(pdf: bytes) -> str:
    """The text drawn on the first page (reportlab writes Helvetica text as cp1252 literals)."""
    page = PdfFileReader(BytesIO(pdf)).root["/Pages"]["/Kids"][0]
    contents = page["/Contents"]
    streams = contents if isinstance(contents, list) else [contents]
    raw = b"".join(stream.data for stream in streams)
    unescaped = re.sub(rb"\\([0-7]{1,3}|.)",
                       lambda m: bytes([int(m[1], 8)]) if m[1][:1].isdigit() else m[1], raw)
    return unescaped.decode("cp1252").replace(") Tj (", "")  # fragments of one line joined


def test_french_labels_dates_and_numbers(transcript_pdf):
    text = page_text(transcript_pdf)
    for expected in ("Relevé de notes", "Numéro de dossier", "Programme", "Sigle", "Crédits",
                     "Total des crédits", "Délivré le 7 décembre 2026", "14 mai 2006", "Calcul différentiel",
                     "2,66", "7,65"):
        assert expected in text, expected
    assert "Transcript" not in text


def test_english_labels_dates_and_numbers(transcript_data):
    text = page_text(render_transcript(transcript_data, "en"))
    for expected in ("Transcript", "Student number", "Program", "Credits", "Total credits",
                     "Issued on December 7, 2026", "May 14, 2006", "2.66", "7.65"):
        assert expected in text, expected
    assert "Relevé" not in text


def test_the_same_form_renders_the_same_bytes(transcript_data, transcript_pdf):
    assert render_transcript(transcript_data, "fr") == transcript_pdf


def test_a_rendered_transcript_passes_intake(transcript_pdf):
    check_pdf(transcript_pdf)


def test_form_values_are_text_never_markup(transcript_data):
    hostile = dataclasses.replace(transcript_data, learner_name="<img src='/etc/passwd'/> <b>Zoé</b> & Cie")
    text = page_text(render_transcript(hostile, "fr"))
    assert "<img src='/etc/passwd'/> <b>Zoé</b> & Cie" in text


def test_a_long_course_list_runs_onto_more_pages(transcript_data):
    courses = transcript_data.courses * 30
    pdf = render_transcript(dataclasses.replace(transcript_data, courses=courses), "en")
    assert int(PdfFileReader(BytesIO(pdf)).root["/Pages"]["/Count"]) >= 2


def test_an_unknown_language_is_refused(transcript_data):
    with pytest.raises(ValueError):
        render_transcript(transcript_data, "de")
