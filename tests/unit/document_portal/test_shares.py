"""Share services on a real database, without Flask (issue 13, Share): link tokens are 256
random bits stored only as keyed hashes, shares expire on the injected clock, are counted,
lock after ten wrong access codes, and end at once when revoked; a learner reaches only their
own documents and shares."""

from __future__ import annotations

import hashlib
import hmac
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

import clients.document_portal.models  # noqa: F401  (registers every table)
from clients.document_portal.db import Base
from clients.document_portal.documents.models import WITHDRAWN, Document
from clients.document_portal.learner.errors import DocumentNotFound
from clients.document_portal.learner.services import LearnerDocuments
from clients.document_portal.shares.errors import (
    DocumentWithdrawn,
    InvalidExpiry,
    ShareNotAvailable,
    ShareNotFound,
    TooManyAttempts,
    WrongAccessCode,
)
from clients.document_portal.shares.models import Share, ShareAttempt
from clients.document_portal.shares.services import (
    MAX_CODE_ATTEMPTS,
    AttemptLimiter,
    ShareService,
    keyed_hash,
)
from tests.support import FrozenClock

SECRET = "s" * 40
LEARNER, OTHER = "sub-zoe", "sub-other"


@pytest.fixture
def engine(database_uri):
    """The portal's tables on a fresh SQLite file, or on PostgreSQL with --db-url (tests/pg.sh)."""
    engine = create_engine(database_uri)
    Base.metadata.create_all(engine)
    yield engine
    Base.metadata.drop_all(engine)
    engine.dispose()


@pytest.fixture
def session(engine):
    with Session(engine) as session:
        yield session


@pytest.fixture
def clock():
    return FrozenClock()


@pytest.fixture
def service(session, clock):
    return ShareService(session, SECRET, clock)


def add_document(session, clock, learner_sub=LEARNER, **fields) -> Document:
    """A document issued to the learner by École Imaginaire (as dp-app's issuing stores it)."""
    values = {
        "issuer_organization_id": "org-ecole", "issuer_name_fr": "École Imaginaire",
        "issuer_name_en": "Imaginary School", "kind": "transcript", "title_fr": "Relevé de notes",
        "title_en": "Transcript", "learner_given_name": "Zoé", "learner_family_name": "Citoyenne",
        "learner_email": "zoe@example.ca", "learner_locale": "fr", "learner_sub": learner_sub,
        "contact_email": "info@ecole-imaginaire.ca", "pdf": b"%PDF-1.7 signed",
        "sha256": hashlib.sha256(b"%PDF-1.7 signed").hexdigest(), "issued_at": clock(),
        "issued_by_sub": "staff-1", "state": "issued", **fields,
    }
    columns = Document.__table__.columns.keys()
    document = Document(**{name: value for name, value in values.items() if name in columns})
    session.add(document)
    session.flush()
    return document


def test_a_link_token_is_256_random_bits_and_only_its_keyed_hash_is_stored(session, clock, service):
    document = add_document(session, clock)
    new = service.create(LEARNER, document.public_id, days=7)
    stored = session.scalar(select(Share))
    assert len(new.plain_token) == 43  # 32 bytes, URL-safe base64
    assert stored.token_hash == hmac.new(SECRET.encode(), f"share-link:{new.plain_token}".encode(), hashlib.sha256).hexdigest()
    assert new.plain_token not in stored.token_hash and stored.code_hash is None and new.plain_code is None
    assert service.find_open(new.plain_token).id == stored.id
    # The same token under another secret is another hash: a stolen table alone finds nothing.
    assert keyed_hash("t" * 40, "share-link", new.plain_token) != stored.token_hash


def test_two_shares_never_share_a_token(session, clock, service):
    document = add_document(session, clock)
    tokens = {service.create(LEARNER, document.public_id, days=1).plain_token for _ in range(20)}
    assert len(tokens) == 20


@pytest.mark.parametrize("days", [0, 91, -1, "7", None])
def test_an_expiry_outside_1_to_90_days_is_refused(session, clock, service, days):
    document = add_document(session, clock)
    with pytest.raises(InvalidExpiry):
        service.create(LEARNER, document.public_id, days=days)


def test_a_share_ends_when_its_expiry_comes(session, clock, service):
    document = add_document(session, clock)
    new = service.create(LEARNER, document.public_id, days=1)
    clock.advance(days=1, seconds=-1)
    assert service.find_open(new.plain_token)
    assert [share.id for share in service.active(LEARNER)] == [new.share.id]
    clock.advance(seconds=1)
    with pytest.raises(ShareNotAvailable):
        service.find_open(new.plain_token)
    assert service.active(LEARNER) == []


def test_ninety_days_is_the_longest_share(session, clock, service):
    document = add_document(session, clock)
    new = service.create(LEARNER, document.public_id, days=90)
    assert new.share.expires_at == clock() + timedelta(days=90)


def test_a_revoked_share_ends_at_once(session, clock, service):
    document = add_document(session, clock)
    new = service.create(LEARNER, document.public_id, days=30)
    service.revoke(LEARNER, new.share.public_id)
    with pytest.raises(ShareNotAvailable):
        service.find_open(new.plain_token)
    assert service.active(LEARNER) == []


def test_a_learner_cannot_revoke_or_see_another_learners_share(session, clock, service):
    document = add_document(session, clock)
    new = service.create(LEARNER, document.public_id, days=30)
    with pytest.raises(ShareNotFound):
        service.revoke(OTHER, new.share.public_id)
    assert service.active(OTHER) == [] and service.find_open(new.plain_token)


def test_a_learner_cannot_share_another_learners_document(session, clock, service):
    document = add_document(session, clock, learner_sub=OTHER)
    with pytest.raises(DocumentNotFound):
        service.create(LEARNER, document.public_id, days=7)
    with pytest.raises(DocumentNotFound):
        LearnerDocuments(session).get(LEARNER, document.public_id)
    assert LearnerDocuments(session).list(LEARNER) == []


def test_a_document_not_yet_bound_to_anyone_is_nobodys(session, clock, service):
    document = add_document(session, clock, learner_sub=None)
    with pytest.raises(DocumentNotFound):
        LearnerDocuments(session).get(LEARNER, document.public_id)


def test_a_withdrawn_document_cannot_be_shared_and_its_links_die(session, clock, service):
    document = add_document(session, clock)
    new = service.create(LEARNER, document.public_id, days=30)
    document.state, document.withdrawn_at = WITHDRAWN, clock()
    session.flush()
    with pytest.raises(ShareNotAvailable):
        service.find_open(new.plain_token)
    with pytest.raises(DocumentWithdrawn):
        service.create(LEARNER, document.public_id, days=30)


@pytest.mark.parametrize("token", ["", None, "x" * 43, "x" * 5000])
def test_an_unknown_link_is_not_available(session, clock, service, token):
    add_document(session, clock)
    with pytest.raises(ShareNotAvailable):
        service.find_open(token)


def test_openings_are_counted_with_the_time_of_the_last(session, clock, service):
    document = add_document(session, clock)
    new = service.create(LEARNER, document.public_id, days=7)
    assert (new.share.open_count, new.share.last_opened_at) == (0, None)
    for _ in range(3):
        clock.advance(minutes=5)
        service.record_open(service.find_open(new.plain_token))
    share = service.active(LEARNER)[0]
    assert (share.open_count, share.last_opened_at) == (3, clock())


def test_the_access_code_is_accepted_in_any_case_and_spacing(session, clock, service):
    document = add_document(session, clock)
    new = service.create(LEARNER, document.public_id, days=7, with_code=True)
    assert len(new.plain_code) == 8 and new.share.code_hash != new.plain_code
    share = service.find_open(new.plain_token)
    spaced = f" {new.plain_code[:4].lower()}-{new.plain_code[4:]} "
    service.check_code(share, spaced)
    assert share.failed_code_count == 0


def test_ten_wrong_access_codes_lock_the_share(session, clock, service):
    document = add_document(session, clock)
    new = service.create(LEARNER, document.public_id, days=7, with_code=True)
    share = service.find_open(new.plain_token)
    for attempt in range(1, MAX_CODE_ATTEMPTS):
        with pytest.raises(WrongAccessCode) as wrong:
            service.check_code(share, "WRONGONE")
        assert wrong.value.remaining == MAX_CODE_ATTEMPTS - attempt
    with pytest.raises(WrongAccessCode):
        service.check_code(share, "WRONGONE")
    assert share.locked_at == clock()
    # Locked: even the right code no longer opens it, and the link is dead.
    with pytest.raises(ShareNotAvailable):
        service.check_code(share, new.plain_code)
    with pytest.raises(ShareNotAvailable):
        service.find_open(new.plain_token)
    assert [s.locked_at for s in service.active(LEARNER)] == [clock()]


def test_a_right_code_does_not_use_up_a_try(session, clock, service):
    document = add_document(session, clock)
    new = service.create(LEARNER, document.public_id, days=7, with_code=True)
    share = service.find_open(new.plain_token)
    for _ in range(MAX_CODE_ATTEMPTS * 2):
        service.check_code(share, new.plain_code)
    with pytest.raises(WrongAccessCode) as wrong:
        service.check_code(share, "WRONGONE")
    assert wrong.value.remaining == MAX_CODE_ATTEMPTS - 1


def test_parallel_wrong_codes_cannot_exceed_the_limit(engine, clock):
    with Session(engine) as session:
        document = add_document(session, clock)
        new = ShareService(session, SECRET, clock).create(LEARNER, document.public_id, days=7, with_code=True)
        session.commit()
        share_id = new.share.id

    def guess(_):
        with Session(engine) as session:
            service = ShareService(session, SECRET, clock)
            try:
                service.check_code(session.get(Share, share_id), "WRONGONE")
            except WrongAccessCode:
                session.commit()
                return "wrong"
            except ShareNotAvailable:
                session.commit()
                return "locked"
            return "accepted"

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(guess, range(25)))
    assert outcomes.count("wrong") == MAX_CODE_ATTEMPTS and "accepted" not in outcomes
    with Session(engine) as session:
        share = session.get(Share, share_id)
        assert share.failed_code_count == MAX_CODE_ATTEMPTS and share.locked_at is not None


def test_failed_lookups_are_limited_per_address_and_window(session, clock):
    limiter = AttemptLimiter(session, SECRET, clock, limit=3, window=timedelta(minutes=15))
    clock.now = clock.now.replace(minute=0, second=0)
    for _ in range(3):
        limiter.check("203.0.113.9")
        limiter.record_failure("203.0.113.9")
    clock.advance(minutes=5)
    with pytest.raises(TooManyAttempts) as limited:
        limiter.check("203.0.113.9")
    assert limited.value.retry_after == 600  # the rest of the window
    limiter.check("198.51.100.4")  # another address is not slowed down
    assert "203.0.113.9" not in {row.address_hash for row in session.scalars(select(ShareAttempt))}
    clock.advance(minutes=10)
    limiter.check("203.0.113.9")  # a new window
