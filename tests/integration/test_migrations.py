"""Alembic: the migrations build exactly the schema the models describe, and unwind cleanly."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

import idp.models  # noqa: F401  (registers every table)
from idp.db import Base
from idp.migrations import alembic_config, current_revision, downgrade, upgrade


@pytest.fixture
def empty_engine(database_uri):
    """The test database with no table at all (PostgreSQL may hold the previous test's)."""
    engine = create_engine(database_uri)
    _drop_everything(engine)
    yield engine
    _drop_everything(engine)
    engine.dispose()


def _drop_everything(engine) -> None:
    Base.metadata.drop_all(engine)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))


def test_upgrade_head_matches_the_models(empty_engine):
    with empty_engine.begin() as connection:
        upgrade(connection)
    with empty_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == [], "models changed without a migration: run `idp db revision -m ...`"


def test_upgrade_reaches_the_single_head(empty_engine):
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert len(heads) == 1, f"several migration heads: {heads}"
    with empty_engine.begin() as connection:
        upgrade(connection)
        assert current_revision(connection) == heads[0]


def test_upgrade_is_idempotent_and_downgrade_removes_every_table(empty_engine):
    with empty_engine.begin() as connection:
        upgrade(connection)
        upgrade(connection)
    with empty_engine.begin() as connection:
        downgrade(connection, "base")
    assert set(inspect(empty_engine).get_table_names()) <= {"alembic_version"}



def test_accounts_that_existed_before_registration_stay_able_to_sign_in(empty_engine):
    """The accounts migration gives existing users an activation time (their creation)."""
    with empty_engine.begin() as connection:
        upgrade(connection, "7abfcc2cca24")
        connection.execute(text(
            "INSERT INTO users (subject, email, email_verified, given_name, family_name, "
            "phone_number_verified, created_at, updated_at) VALUES ('s', 'ana@example.ca', true, "
            "'Ana', 'Tremblay', false, '2026-01-02 03:04:05+00:00', '2026-01-02 03:04:05+00:00')"
        ))
    with empty_engine.begin() as connection:
        upgrade(connection)
        activated_at, created_at = connection.execute(text("SELECT activated_at, created_at FROM users")).one()
    assert activated_at is not None and activated_at == created_at
