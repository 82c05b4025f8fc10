"""Reporting periods as institutions see them and as the ministry runs them: home shows the
province, the current period and its deadline in French and English (or why there is no
period), and the commands against a live Passerelle's organizations API and a real SMTP
server on loopback: `institutions sync`, `institutions import FILE.csv`, `periods run`,
whose reminder emails reach the primary contact once each, however often it runs."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from clients.institution_portal.auth.services import SessionService
from clients.institution_portal.claims import Identity
from clients.institution_portal.db import db as portal_db
from clients.institution_portal.institutions.services import InstitutionService
from clients.institution_portal.periods.commands import run_command
from clients.institution_portal.terms.services import TermsService
from clients.institution_portal.web import SESSION_TOKEN_KEY
from tests.institution_portal_api_support import attach, register_api_portal
from tests.institution_portal_mail_support import mail_overrides
from tests.institution_portal_periods_support import Org, build_portal_with_clock
from tests.mail_support import text_body
from tests.orgs_access_support import PRIMARY_EMAIL, SECONDARY_EMAIL, dli_with_members
from tests.support import FrozenClock

EN = {"Accept-Language": "en"}
FR = {"Accept-Language": "fr"}
NOVEMBER = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    return FrozenClock(NOVEMBER)


@pytest.fixture
def portal(tmp_path, clock):
    return build_portal_with_clock("http://127.0.0.1:5000", SimpleNamespace(client_id="institution-portal",
                                                                            client_secret="s"),
                                   tmp_path / "portal.db", clock, **mail_overrides())


def institution(portal, province: str | None, number: str = "O123456789012", public_id: str = "dli-1"):
    with portal.app_context():
        service = InstitutionService(portal_db.session, portal.extensions["institution_portal"].clock)
        service.sync([Org(public_id, number)])
        if province:
            service.set_province(number, province)
        portal_db.session.commit()


def home(portal, headers, public_id: str = "dli-1") -> str:
    """Home for a primary user of the institution who accepted the terms."""
    identity = Identity(sub="pairwise-1", acr="urn:passerelle:acr:mfa", organization_id=public_id,
                        organization_number="O123456789012", organization_name_fr="Collège Imaginaire",
                        organization_name_en="Imaginary College", role="primary")
    ctx = portal.extensions["institution_portal"]
    with portal.app_context():
        token = SessionService(portal_db.session, ctx.settings, ctx.clock).open(identity, "id-token")
        TermsService(portal_db.session, ctx.settings, ctx.clock).accept("pairwise-1")
        portal_db.session.commit()
    browser = portal.test_client()
    with browser.session_transaction() as session:
        session[SESSION_TOKEN_KEY] = token
    response = browser.get("/", headers=headers)
    assert response.status_code == 200
    return response.get_data(as_text=True).replace("&#39;", "'").replace("&#x27;", "'")


def open_period(portal):
    with portal.app_context():
        ctx = portal.extensions["institution_portal"]
        from clients.institution_portal.periods.services import PeriodService

        PeriodService(portal_db.session, ctx.settings, ctx.clock).open_due_periods()
        portal_db.session.commit()


@pytest.mark.parametrize(("headers", "words"), [
    (EN, ["Ontario", "opened on November 1, 2026", "due by December 31, 2026", "April and November"]),
    (FR, ["Ontario", "a commencé le 1 novembre 2026", "au plus tard le 31 décembre 2026", "avril et novembre"]),
])
def test_home_shows_the_province_the_open_period_and_its_deadline(portal, headers, words):
    institution(portal, "ON")
    open_period(portal)
    page = home(portal, headers)
    for word in words:
        assert word in page, word
    assert 'id="province"' in page and "No reporting period is open" not in page


@pytest.mark.parametrize(("headers", "words"), [
    (EN, ["Quebec", "Institutions in Quebec do not report through this portal"]),
    (FR, ["Québec", "ne produisent pas leurs rapports dans ce portail (Québec)"]),
])
def test_home_says_an_institution_in_quebec_has_no_period(portal, headers, words):
    institution(portal, "QC")
    open_period(portal)
    page = home(portal, headers)
    for word in words:
        assert word in page, word
    assert "April and November" not in page and "avril et novembre" not in page


@pytest.mark.parametrize(("headers", "words"), [
    (EN, ["Not recorded yet", "No reporting period is open.", "province is not recorded in the portal yet"]),
    (FR, ["Pas encore inscrite", "La province de votre établissement n’est pas encore inscrite"]),
])
def test_home_says_no_period_comes_before_the_province_is_known(portal, headers, words):
    institution(portal, None)
    open_period(portal)
    page = home(portal, headers)
    for word in words:
        assert word in page, word


def test_between_two_periods_home_gives_the_next_opening(portal, clock):
    institution(portal, "ON")
    clock.now = datetime(2027, 1, 10, tzinfo=UTC)
    assert "The next one opens on April 1, 2027." in home(portal, EN)
    assert "La prochaine commencera le 1 avril 2027." in home(portal, FR)


# The commands, against a live Passerelle and the suite's SMTP server.


@pytest.fixture
def passerelle_portal(live_server, tmp_path, clock):
    dli = dli_with_members(live_server.app)
    registration = register_api_portal(live_server.app)
    attach(live_server.app, dli.id, registration.client_id)
    app = build_portal_with_clock(live_server.url, registration, tmp_path / "portal.db", clock, **mail_overrides())
    return SimpleNamespace(app=app, dli=dli)


def test_the_commands_sync_import_provinces_and_send_each_reminder_once(passerelle_portal, tmp_path, clock,
                                                                        mailbox, capsys):
    app, dli = passerelle_portal.app, passerelle_portal.dli
    assert run_command(app, ["institutions", "sync"]) == 0
    provinces = tmp_path / "provinces.csv"
    provinces.write_text("number,province\nO123456789012,Ontarion\n")
    assert run_command(app, ["institutions", "import", str(provinces)]) == 1
    assert ":2: unknown province" in capsys.readouterr().err
    provinces.write_text("number,province\nO123456789012,on\n")
    assert run_command(app, ["institutions", "import", str(provinces)]) == 0
    assert run_command(app, ["institutions", "list"]) == 0
    assert f"O123456789012\tON\tactive\t{dli.public_id}" in capsys.readouterr().out

    clock.now = datetime(2026, 11, 1, 6, tzinfo=UTC)
    mailbox.clear()

    def notices(address: str = PRIMARY_EMAIL) -> list:
        # The portal's own mail only: Passerelle's invitations to the DLI's members, sent by
        # its sender thread, may still arrive after the clear.
        return [message for message in mailbox.to(address) if "eed.example.ca" in message["From"]]

    sent = []
    for _ in range(62):  # cron twice a day, through the whole period
        for _ in range(2):
            assert run_command(app, ["periods", "run"]) == 0
        sent += [message["Subject"] for message in notices()[len(sent):]]
        clock.advance(days=1)
    assert len(sent) == 4, sent
    assert sent[0] == "Votre rapport de conformité est attendu / Your compliance report is due"
    assert all("Rappel" in subject and "Reminder" in subject for subject in sent[1:])
    assert notices(SECONDARY_EMAIL) == []  # the primary contact only
    first = notices()[0]
    assert "O123456789012" in text_body(first) and "http://127.0.0.1:5003/" in text_body(first)
    assert "31 décembre 2026" in text_body(first) and "December 31, 2026" in text_body(first)


def test_periods_run_without_a_sender_address_says_so(portal, capsys):
    from clients.institution_portal import create_app

    app = create_app({**portal.config, **{key: value for key, value in vars(
        portal.extensions["institution_portal"].settings).items()}, "PORTAL_MAIL_FROM": None}, environ={})
    assert run_command(app, ["periods", "run"]) == 2
    assert "PORTAL_MAIL_FROM" in capsys.readouterr().err
