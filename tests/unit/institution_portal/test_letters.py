"""Letters of acceptance on a real database, without Flask: the operator's CSV import (all or
nothing, every problem with its line, the same file twice imports once) and the decisions
(confirm, or refuse with a reason; once; audited with who and when; one institution never
reaches another's letters)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

import clients.institution_portal.models  # noqa: F401  (registers every table)
from clients.institution_portal.letters.errors import (
    ImportRefused,
    LetterAlreadyDecided,
    LetterNotFound,
    ReasonRequired,
    ReasonTooLong,
    UnknownDecision,
)
from clients.institution_portal.letters.importing import COLUMNS, import_letters
from clients.institution_portal.letters.models import AcceptanceLetter, LetterEvent
from clients.institution_portal.letters.services import LetterService
from tests.institution_portal_periods_support import drop_portal_schema, portal_engine
from tests.support import FrozenClock

A, B = "O123456789012", "O999999999999"
HEADER = ",".join(COLUMNS)


def csv_bytes(*rows: str, header: str = HEADER, encoding: str = "utf-8") -> bytes:
    return "\n".join((header, *rows)).encode(encoding)


def row(dli=A, number="LOA-1", family="Tremblay", given="Marie Ève", birth="2004-05-14", program="Génie civil",
        start="2027-01-10", requested="2026-12-01T14:30:00Z") -> str:
    return f"{dli},{number},{family},{given},{birth},{program},{start},{requested}"


@pytest.fixture
def engine(request, tmp_path):
    """SQLite, or with --db-url PostgreSQL (tests/pg.sh), in a schema of the portal's own."""
    engine = portal_engine(request, tmp_path)
    yield engine
    drop_portal_schema(engine)


@pytest.fixture
def session(engine):
    with Session(engine) as session:
        yield session


@pytest.fixture
def clock():
    return FrozenClock()


@pytest.fixture
def service(session, clock):
    return LetterService(session, clock)


def imported(session, clock, *rows):
    result = import_letters(session, clock, csv_bytes(*rows))
    session.commit()
    return result


# Import


def test_the_import_adds_pending_letters_for_each_institution(session, clock, service):
    result = imported(session, clock, row(), row(number="LOA-2", given=""), row(dli=B.lower(), number="LOA-1"))
    assert (result.imported, result.skipped) == (3, 0)
    letters = service.pending(A)
    assert [(item.letter_number, item.given_names, item.birth_date, item.state) for item in letters] == [
        ("LOA-1", "Marie Ève", date(2004, 5, 14), "pending"), ("LOA-2", "", date(2004, 5, 14), "pending")]
    assert [item.letter_number for item in service.pending(B)] == ["LOA-1"]  # the number upper-cased
    assert letters[0].requested_at.isoformat() == "2026-12-01T14:30:00+00:00"
    assert len({item.public_id for item in letters}) == 2 and len(letters[0].public_id) >= 22
    events = session.scalars(select(LetterEvent)).all()
    assert [(event.action, event.actor_name) for event in events] == [("imported", "operator import")] * 3


def test_the_same_file_twice_imports_each_letter_once(session, clock, service):
    imported(session, clock, row(), row(number="LOA-2"))
    again = imported(session, clock, row(), row(number="LOA-2"), row(number="LOA-3"))
    assert (again.imported, again.skipped) == (1, 2)
    assert service.pending_count(A) == 3


def test_windows_1252_and_a_byte_order_mark_are_read(session, clock, service):
    import_letters(session, clock, csv_bytes(row(family="Lévesque"), encoding="cp1252"))
    import_letters(session, clock, "\ufeff".encode() + csv_bytes(row(number="LOA-9", family="Côté")))
    assert sorted(item.family_name for item in service.pending(A)) == ["Côté", "Lévesque"]


@pytest.mark.parametrize(("bad", "mentions"), [
    (row(birth="14/05/2004"), "date_of_birth must be a date written YYYY-MM-DD"),
    (row(birth="2030-01-01"), "date_of_birth is not in the past"),
    (row(start="2027-02-30"), "start_date must be a date"),
    (row(requested="2099-01-01"), "requested_at is in the future"),
    (row(requested="yesterday"), "requested_at must be a date"),
    (row(family=""), "family_name is empty"),
    (row(dli=""), "dli_number is empty"),
    (row(dli="O-123"), "dli_number must hold only letters and digits"),
    (row(number="=cmd|' /C calc'!A0"), "letter_number must start with a letter or digit"),
    (row(family="Trem\u202eblay"), "family_name holds control or invisible characters"),
    (row(program="x" * 301), "program is longer than 300 characters"),
    (row() + ",extra", "more values than columns"),
])
def test_a_file_with_a_bad_row_imports_nothing_and_names_the_line(session, clock, bad, mentions):
    with pytest.raises(ImportRefused) as refused:
        import_letters(session, clock, csv_bytes(row(number="LOA-0"), bad))
    assert next((line, problem) for line, problem in refused.value.problems if mentions in problem)[0] == 3
    assert session.scalars(select(AcceptanceLetter)).all() == []


def test_a_letter_twice_in_one_file_and_a_missing_column_are_refused(session, clock):
    with pytest.raises(ImportRefused) as twice:
        import_letters(session, clock, csv_bytes(row(), row()))
    assert twice.value.problems == [(3, f"letter LOA-1 of {A} appears twice in the file")]
    with pytest.raises(ImportRefused) as columns:
        import_letters(session, clock, csv_bytes(row(), header=HEADER.replace(",program", "")))
    assert columns.value.problems[0][0] == 1 and "program" in columns.value.problems[0][1]


def test_a_file_too_large_or_not_text_is_refused_at_once(session, clock, monkeypatch):
    from clients.institution_portal.letters import importing

    monkeypatch.setattr(importing, "MAX_BYTES", 100)
    with pytest.raises(ImportRefused) as large:
        import_letters(session, clock, csv_bytes(row(), row(number="LOA-2")))
    assert "larger than" in large.value.problems[0][1]
    monkeypatch.setattr(importing, "MAX_ROWS", 1)
    monkeypatch.setattr(importing, "MAX_BYTES", 10_000)
    with pytest.raises(ImportRefused) as many:
        import_letters(session, clock, csv_bytes(row(), row(number="LOA-2")))
    assert "more than 1 letters" in many.value.problems[0][1]


# Decisions


def test_a_user_confirms_a_letter_and_it_is_recorded_with_who_and_when(session, clock, service):
    imported(session, clock, row())
    letter = service.pending(A)[0]
    clock.advance(seconds=60)
    decided = service.decide(A, letter.public_id, decision="confirm", reason="", actor_sub="sub-sam",
                             actor_name="Sam Tremblay")
    session.commit()
    assert (decided.state, decided.decided_by_sub, decided.decided_by_name, decided.decided_at, decided.reason) == (
        "confirmed", "sub-sam", "Sam Tremblay", clock(), None)
    assert service.pending(A) == [] and [item.public_id for item in service.decided(A)] == [letter.public_id]
    events = service.events(decided)
    assert [(event.action, event.actor_sub, event.actor_name, event.at) for event in events][1:] == [
        ("confirmed", "sub-sam", "Sam Tremblay", clock())]


def test_a_refusal_needs_a_reason_and_keeps_it(session, clock, service):
    imported(session, clock, row())
    letter = service.pending(A)[0]
    for reason in (None, "", "   "):
        with pytest.raises(ReasonRequired):
            service.decide(A, letter.public_id, decision="refuse", reason=reason, actor_sub="s", actor_name="S")
    with pytest.raises(ReasonTooLong):
        service.decide(A, letter.public_id, decision="refuse", reason="x" * 1001, actor_sub="s", actor_name="S")
    with pytest.raises(UnknownDecision):
        service.decide(A, letter.public_id, decision="maybe", reason="x", actor_sub="s", actor_name="S")
    assert service.pending_count(A) == 1
    refused = service.decide(A, letter.public_id, decision="refuse", reason="  Aucune lettre de ce numéro.  ",
                             actor_sub="s", actor_name="S")
    assert (refused.state, refused.reason) == ("refused", "Aucune lettre de ce numéro.")


def test_a_letter_is_decided_once(session, clock, service):
    imported(session, clock, row())
    letter = service.pending(A)[0]
    service.decide(A, letter.public_id, decision="confirm", reason=None, actor_sub="a", actor_name="A")
    session.commit()
    with pytest.raises(LetterAlreadyDecided):
        service.decide(A, letter.public_id, decision="refuse", reason="Non.", actor_sub="b", actor_name="B")
    session.rollback()
    assert (service.get(A, letter.public_id).state, service.get(A, letter.public_id).decided_by_name) == (
        "confirmed", "A")


def test_two_people_deciding_at_once_leave_one_decision(engine, clock):
    """Each has read the letter pending; only the first UPDATE changes it (optimistic check)."""
    with Session(engine) as setup:
        imported(setup, clock, row())
        public_id = LetterService(setup, clock).pending(A)[0].public_id
    first, second = Session(engine), Session(engine)
    try:
        for session in (first, second):
            LetterService(session, clock).get(A, public_id)  # both read it pending
        LetterService(first, clock).decide(A, public_id, decision="confirm", reason=None, actor_sub="a", actor_name="A")
        first.commit()
        with pytest.raises(LetterAlreadyDecided):
            LetterService(second, clock).decide(A, public_id, decision="refuse", reason="Non.", actor_sub="b",
                                                actor_name="B")
        second.rollback()
    finally:
        first.close()
        second.close()
    with Session(engine) as check:
        events = check.scalars(select(LetterEvent.action)).all()
        assert events == ["imported", "confirmed"]


def test_one_institution_never_reaches_another_institutions_letters(session, clock, service):
    imported(session, clock, row(), row(dli=B, number="LOA-B"))
    theirs = service.pending(B)[0]
    with pytest.raises(LetterNotFound):
        service.get(A, theirs.public_id)
    with pytest.raises(LetterNotFound):
        service.decide(A, theirs.public_id, decision="confirm", reason=None, actor_sub="a", actor_name="A")
    with pytest.raises(LetterNotFound):
        service.get(A, "x" * 65)
    assert service.get(B, theirs.public_id).is_pending
    assert [item.letter_number for item in service.pending(A)] == ["LOA-1"] and service.decided(B) == []


def test_the_demo_imports_its_letters_once(session, clock, service):
    from types import SimpleNamespace

    from clients.institution_portal.letters.demo import demo_letters

    context = SimpleNamespace(session=session, clock=clock, institution=SimpleNamespace(number=A))
    assert demo_letters(context) == "letters of acceptance to verify: 3 imported, 0 already there"
    assert demo_letters(context) == "letters of acceptance to verify: 0 imported, 3 already there"
    letters = service.pending(A)
    assert [item.letter_number for item in letters] == ["LOA-DEMO-0001", "LOA-DEMO-0002", "LOA-DEMO-0003"]
    assert letters[0].program == "Génie civil / Civil Engineering" and letters[0].requested_at < clock()
