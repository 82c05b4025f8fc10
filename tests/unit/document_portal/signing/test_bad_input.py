"""Damaged and hostile files never crash intake or verification (the pages would show a 500),
and a VALID verdict always means every signed byte is the one the school signed."""

from __future__ import annotations

from datetime import UTC, datetime
from io import BytesIO

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyhanko.pdf_utils.reader import PdfFileReader

from clients.document_portal.signing.errors import PdfRefused
from clients.document_portal.signing.intake import check_pdf
from clients.document_portal.signing.pades import sign_pdf
from clients.document_portal.signing.verification import VerificationStatus, verify
from tests.unit.document_portal.signing.conftest import SIGNED_AT

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def signed(transcript_pdf, credentials):
    return sign_pdf(transcript_pdf, credentials, reason="Relevé de notes", clock=lambda: SIGNED_AT)


@pytest.fixture(scope="module")
def signed_ranges(signed):
    start1, length1, start2, length2 = PdfFileReader(BytesIO(signed)).embedded_signatures[0].byte_range
    return range(start1, start1 + length1), range(start2, start2 + length2)


edits = st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), min_size=1, max_size=4)


def mutate(data: bytes, changes) -> tuple[bytes, list[int]]:
    out = bytearray(data)
    positions = []
    for where, value in changes:
        position = int(where * len(out))
        out[position] = value
        positions.append(position)
    return bytes(out), positions


@FUZZ
@given(changes=edits)
def test_a_changed_file_is_never_valid_where_the_signature_covers_it(signed, signed_ranges, trust_roots, changes):
    data, positions = mutate(signed, changes)
    result = verify(data, trust_roots, at=SIGNED_AT)
    if data == signed:
        return
    changed_signed_bytes = any(position in covered for position in positions for covered in signed_ranges
                               if data[position] != signed[position])
    if changed_signed_bytes:
        assert result.status is not VerificationStatus.VALID


@FUZZ
@given(changes=edits, cut=st.floats(0, 1))
def test_intake_refuses_or_accepts_but_never_crashes(signed, changes, cut):
    data, _ = mutate(signed, changes)
    data = data[: max(1, int(len(data) * cut))] if cut < 1 else data
    try:
        check_pdf(data)
    except PdfRefused:
        pass


@FUZZ
@given(data=st.binary(max_size=2048))
def test_arbitrary_bytes_after_a_pdf_header_never_crash(data, trust_roots):
    pdf = b"%PDF-1.7\n" + data
    with pytest.raises(PdfRefused):
        check_pdf(pdf)
    assert verify(pdf, trust_roots, at=datetime.now(UTC)).status in (VerificationStatus.UNREADABLE,
                                                                     VerificationStatus.UNSIGNED)
