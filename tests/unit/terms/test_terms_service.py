"""TermsService: which version is in force, publishing, accepting, and the bundled documents."""

from __future__ import annotations


import pytest

from idp.accounts.services import AccountService
from idp.context import app_context
from idp.extensions import db
from idp.terms import documents
from idp.terms.errors import InvalidTermsVersion, NoTermsAvailable, TermsDocumentsMissing, TermsVersionAlreadyPublished
from idp.terms.services import TermsService

BUNDLED = "2026-11"


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield app_context()


def write_version(root, version: str, kinds=documents.KINDS, locales=documents.LOCALES) -> None:
    folder = root / version
    folder.mkdir(parents=True)
    for kind in kinds:
        for locale in locales:
            (folder / f"{kind}.{locale}.html").write_text(f"{kind} {locale} {version}")


@pytest.fixture
def root(tmp_path):
    root = tmp_path / "terms"
    write_version(root, "2026-11")
    write_version(root, "2027-03")
    write_version(root, "2027-09", locales=("fr",))  # the English documents are missing
    return root


@pytest.fixture
def terms(ctx, root):
    return TermsService(db.session, ctx.settings, ctx.clock, documents_root=root)


@pytest.fixture
def user_id(ctx):
    user = AccountService(db.session, ctx.settings, ctx.clock, ctx.passwords).create_user(
        "ana@example.ca", "Ana", "Tremblay", "correct horse battery staple"
    )
    return user.id


def test_passerelle_ships_a_complete_first_version():
    assert BUNDLED in documents.bundled_versions()
    assert documents.has_all_documents(BUNDLED)


def test_with_nothing_published_the_newest_complete_bundled_version_is_in_force(terms):
    current = terms.current()
    assert current.version == "2027-03" and current.published_at is None and current.is_current


def test_publishing_puts_a_version_in_force_even_an_older_one(terms, clock):
    published = terms.publish("2026-11")
    assert published.published_at == clock()
    assert terms.current_version() == "2026-11"  # publishing is the operator's decision
    clock.advance(60)
    terms.publish("2027-03")
    assert terms.current_version() == "2027-03"


def test_a_version_is_published_only_with_its_four_documents(terms):
    with pytest.raises(TermsDocumentsMissing):
        terms.publish("2027-09")
    with pytest.raises(TermsDocumentsMissing):
        terms.publish("2099-01")


@pytest.mark.parametrize("name", ["", "../2026-11", "..", ".hidden", "a/b", "x" * 33, "2026 11"])
def test_a_version_name_must_be_one_safe_path_segment(terms, name):
    with pytest.raises(InvalidTermsVersion):
        terms.publish(name)
    assert terms.find(name) is None


def test_a_version_is_published_once(terms):
    terms.publish("2026-11")
    with pytest.raises(TermsVersionAlreadyPublished):
        terms.publish("2026-11")


def test_acceptance_records_version_language_and_time(terms, user_id, clock):
    assert not terms.has_accepted_current(user_id)
    acceptance = terms.accept(user_id, "fr")
    assert (acceptance.version, acceptance.locale, acceptance.accepted_at) == ("2027-03", "fr", clock())
    assert terms.has_accepted_current(user_id)
    assert terms.last_acceptance(user_id) is acceptance


def test_an_unknown_language_is_recorded_as_the_default(terms, user_id, ctx):
    assert terms.accept(user_id, "de").locale == ctx.settings.BABEL_DEFAULT_LOCALE


def test_publishing_a_new_version_asks_everyone_again(terms, user_id, clock):
    terms.publish("2026-11")
    terms.accept(user_id, "en")
    clock.advance(days=30)
    terms.publish("2027-03")
    assert not terms.has_accepted_current(user_id)
    terms.accept(user_id, "en")
    assert terms.has_accepted_current(user_id)


def test_readable_versions_are_the_one_in_force_and_those_published(terms, clock):
    assert terms.find("2026-11") is None  # bundled, never published: a draft
    terms.publish("2026-11")
    clock.advance(60)
    terms.publish("2027-03")
    earlier = terms.find("2026-11")
    assert earlier is not None and not earlier.is_current
    assert terms.find("2027-03").is_current
    assert [info.version for info in terms.earlier_versions()] == ["2026-11"]


def test_the_list_shows_published_versions_newest_first_then_drafts(terms, clock):
    terms.publish("2026-11")
    listed = terms.list_versions()
    assert [(info.version, info.is_current, info.published_at is not None) for info in listed] == [
        ("2026-11", True, True),
        ("2027-03", False, False),
    ]


def test_no_documents_at_all_is_an_error_not_a_guess(ctx, tmp_path):
    empty = TermsService(db.session, ctx.settings, ctx.clock, documents_root=tmp_path / "none")
    with pytest.raises(NoTermsAvailable):
        empty.current_version()
    assert empty.list_versions() == []


def test_accepting_the_version_shown_fails_when_another_was_published_meanwhile(terms, user_id, clock):
    from idp.terms.errors import TermsVersionChanged

    terms.publish("2026-11")
    clock.advance(60)
    terms.publish("2027-03")
    with pytest.raises(TermsVersionChanged):
        terms.accept(user_id, "en", version="2026-11")
    assert terms.last_acceptance(user_id) is None
    assert terms.accept(user_id, "en", version="2027-03").version == "2027-03"
