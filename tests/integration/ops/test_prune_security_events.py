"""`idp worker` prunes security events older than SECURITY_EVENTS_RETENTION_DAYS (issue 10:
about four rows per sign-in, never deleted before), in batches; 0 keeps them forever."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from idp.audit import SecurityEvent
from idp.config import DEFAULTS, ConfigError
from idp.context import app_context
from idp.extensions import db
from idp.ops.services import PruneService
from idp.ops.worker import Worker
from idp.settings_checks import validate
from tests.unit.test_config import PRODUCTION


def add_events(app, clock, ages_in_days: list[float]) -> None:
    with app.app_context():
        for index, age in enumerate(ages_in_days):
            db.session.add(SecurityEvent(tag="account:login:failure", created_at=clock() - timedelta(days=age),
                                         details={"index": index}))
        db.session.commit()


def kept_ages(app, clock) -> list[float]:
    with app.app_context():
        return sorted(round((clock() - when).total_seconds() / 86400, 1)
                      for when in db.session.scalars(select(SecurityEvent.created_at)))


def test_the_default_keeps_a_year_and_a_bit():
    assert DEFAULTS["SECURITY_EVENTS_RETENTION_DAYS"] == 400


@pytest.mark.settings(MAIL_SEND_AFTER_RESPONSE=False)
def test_at_the_default_an_event_401_days_old_goes_and_one_399_days_old_stays(app, clock):
    add_events(app, clock, [401, 399])

    with app.app_context():
        deleted = Worker(app).prune()

    assert deleted["security_events"] == 1
    assert kept_ages(app, clock) == [399]


@pytest.mark.settings(MAIL_SEND_AFTER_RESPONSE=False, SECURITY_EVENTS_RETENTION_DAYS=30)
def test_one_statement_deletes_at_most_a_batch(app, clock):
    """The first pass after an upgrade may find years of events: each DELETE takes at most
    WORKER_PRUNE_BATCH of them, so no statement holds locks for long."""
    add_events(app, clock, [31, 32, 33, 34, 35, 1])

    with app.app_context():
        service = PruneService(db.session, app_context().settings, clock)
        rule = next(rule for rule in service.rules() if rule.name == "security_events")
        assert service.prune_batch(rule, 2) == 2
        db.session.commit()

    assert len(kept_ages(app, clock)) == 4


@pytest.mark.parametrize("value", [-1, 1.5, True, "400"])
def test_a_retention_that_is_not_a_whole_number_of_days_stops_startup(value):
    with pytest.raises(ConfigError, match="SECURITY_EVENTS_RETENTION_DAYS"):
        validate({**DEFAULTS, **PRODUCTION, "SECURITY_EVENTS_RETENTION_DAYS": value})


@pytest.mark.settings(MAIL_SEND_AFTER_RESPONSE=False, SECURITY_EVENTS_RETENTION_DAYS=30, WORKER_PRUNE_BATCH=2)
def test_events_older_than_the_retention_go_in_batches_and_newer_ones_stay(app, clock):
    add_events(app, clock, [400, 31, 30.1, 30.1, 29.9, 1])

    with app.app_context():
        deleted = Worker(app).prune()

    assert deleted["security_events"] == 4
    assert kept_ages(app, clock) == [1, 29.9]
    clock.advance(timedelta(days=2).total_seconds())
    with app.app_context():
        assert Worker(app).prune()["security_events"] == 1
    assert kept_ages(app, clock) == [3]


@pytest.mark.settings(MAIL_SEND_AFTER_RESPONSE=False, SECURITY_EVENTS_RETENTION_DAYS=0)
def test_zero_keeps_every_event(app, clock):
    add_events(app, clock, [4000, 400, 1])

    with app.app_context():
        deleted = Worker(app).prune()

    assert "security_events" not in deleted
    assert kept_ages(app, clock) == [1, 400, 4000]
