"""The person page's last sign-in once security events are pruned (SECURITY_EVENTS_RETENTION_DAYS):
with no sign-in on record, an account older than the retention says none in that many days,
since an older sign-in may have been pruned; "Never" only when the events cover the account's
whole life (a younger account, or retention 0 keeping every event)."""

from __future__ import annotations

import pytest

from idp.console.roles import SERVICE_DESK
from idp.extensions import db
from tests.console_support import create_person, find_person, make_agent, sign_in_as

pytestmark = pytest.mark.settings(MFA_REQUIRED=True)


def person_made_days_ago(app, clock, days: int) -> int:
    """zoe@example.ca, made `days` days ago by the injected clock, who never signed in."""
    with app.app_context():
        user = create_person("zoe@example.ca", locale="en")
        db.session.commit()
        person_id = user.id
    clock.advance(days=days)
    return person_id


def last_signin(app, client, person_id: int, lang: str) -> str:
    desk_id = make_agent(app, "desk@example.ca", SERVICE_DESK)
    sign_in_as(app, client, desk_id)
    assert find_person(client, "zoe@example.ca").status_code == 303
    client.set_cookie("passerelle_lang", lang)
    page = client.get(f"/admin/people/{person_id}")
    assert page.status_code == 200
    return page.text


@pytest.mark.settings(SECURITY_EVENTS_RETENTION_DAYS=400)
@pytest.mark.parametrize(("lang", "shown", "not_shown"), [
    ("en", "Not in the last 400 days", "Never"),
    ("fr", "Aucune depuis 400 jours", "Jamais"),
])
def test_an_account_older_than_the_retention_says_none_within_it(app, client, clock, lang, shown, not_shown):
    person_id = person_made_days_ago(app, clock, 500)
    text = last_signin(app, client, person_id, lang)
    assert shown in text and not_shown not in text


@pytest.mark.settings(SECURITY_EVENTS_RETENTION_DAYS=400)
@pytest.mark.parametrize(("lang", "never", "not_shown"), [("en", "Never", "Not in the last"), ("fr", "Jamais", "Aucune depuis")])
def test_an_account_younger_than_the_retention_never_signed_in(app, client, clock, lang, never, not_shown):
    person_id = person_made_days_ago(app, clock, 10)
    text = last_signin(app, client, person_id, lang)
    assert never in text and not_shown not in text


@pytest.mark.settings(SECURITY_EVENTS_RETENTION_DAYS=0)
def test_with_every_event_kept_an_old_account_never_signed_in(app, client, clock):
    person_id = person_made_days_ago(app, clock, 500)
    text = last_signin(app, client, person_id, "en")
    assert "Never" in text and "Not in the last" not in text
