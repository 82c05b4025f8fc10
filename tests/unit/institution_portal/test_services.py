"""The portal's services on a real database, without Flask: sessions (found by a token the
browser holds, only its hash stored, ending on time or at sign-out), sign-in states, and the
terms acceptances (once per person and version)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from clients.institution_portal.auth.services import SessionService, token_hash
from clients.institution_portal.claims import Identity
from clients.institution_portal.config import load, validate
from clients.institution_portal.db import Base
from clients.institution_portal.models import PortalSession, TermsAcceptance
from clients.institution_portal.passerelle import StateStore
from clients.institution_portal.terms.services import TermsService
from tests.support import FrozenClock

IDENTITY = Identity(sub="pairwise-1", acr="urn:passerelle:acr:mfa", organization_id="Jd2k", organization_number="O123456789012",
                    organization_name_fr="Collège Imaginaire", organization_name_en="Imaginary College", role="secondary")


@pytest.fixture
def session(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'portal.db'}")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        yield session
    engine.dispose()


@pytest.fixture
def settings():
    return validate(load({"PORTAL_ISSUER": "https://passerelle.example.ca", "PORTAL_CLIENT_ID": "c",
                          "PORTAL_CLIENT_SECRET": "s", "PORTAL_BASE_URL": "https://eed.example.ca",
                          "PORTAL_SECRET_KEY": "k" * 32, "PORTAL_DATABASE_URL": "sqlite://",
                          "PORTAL_SESSION_MAX_AGE": 3600}, environ={}))


def test_a_session_is_found_by_its_token_and_only_the_hash_is_stored(session, settings):
    service = SessionService(session, settings, FrozenClock())
    token = service.open(IDENTITY, "header.payload.signature")
    stored = session.scalar(select(PortalSession))
    assert stored.token_hash == token_hash(token) and token not in stored.token_hash
    found = service.find(token)
    assert (found.sub, found.role, found.organization_name_fr) == ("pairwise-1", "secondary", "Collège Imaginaire")
    assert service.find("another-token") is None and service.find(None) is None


def test_a_session_ends_after_its_maximum_age(session, settings):
    clock = FrozenClock()
    service = SessionService(session, settings, clock)
    token = service.open(IDENTITY, "id-token")
    clock.advance(seconds=3599)
    assert service.find(token) is not None
    clock.advance(seconds=1)
    assert service.find(token) is None
    service.open(IDENTITY, "id-token")  # opening another sweeps the expired one
    assert len(session.scalars(select(PortalSession)).all()) == 1


def test_closing_a_session_returns_its_id_token_once(session, settings):
    service = SessionService(session, settings, FrozenClock())
    token = service.open(IDENTITY, "id-token")
    assert service.close(token) == "id-token"
    assert service.close(token) is None and service.find(token) is None


def test_terms_are_accepted_once_per_version(session, settings):
    clock = FrozenClock()
    service = TermsService(session, settings, clock)
    assert not service.has_accepted("pairwise-1")
    service.accept("pairwise-1")
    service.accept("pairwise-1")
    assert service.has_accepted("pairwise-1") and not service.has_accepted("pairwise-2")
    newer = TermsService(session, replace(settings, PORTAL_TERMS_VERSION="2027-04"), clock)
    assert not newer.has_accepted("pairwise-1")
    newer.accept("pairwise-1")
    assert [row.version for row in session.scalars(select(TermsAcceptance).order_by(TermsAcceptance.id))] == [
        "2026-12", "2027-04"]


def test_sign_in_states_expire_and_are_spent_once(session):
    clock = FrozenClock()
    store = StateStore(lambda: session, clock)
    store.set("_state_passerelle_abc", '{"data": {"nonce": "n"}}', 3600)
    assert store.get("_state_passerelle_abc") == '{"data": {"nonce": "n"}}'
    store.delete("_state_passerelle_abc")
    assert store.get("_state_passerelle_abc") is None
    store.set("_state_passerelle_def", "{}", 60)
    clock.advance(seconds=60)
    assert store.get("_state_passerelle_def") is None
    store.set("_state_passerelle_ghi", "{}", 60)  # setting another sweeps the expired one
    assert store.count() == 1
