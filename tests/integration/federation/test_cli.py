"""`idp partners list|check` (issue 5, Partners)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from idp.cli import main


def run(app, *args):
    return CliRunner().invoke(main, list(args), obj=app, catch_exceptions=False)


def test_list_shows_the_partners_without_their_secrets(broker, partner):
    result = run(broker, "partners", "list")
    assert result.exit_code == 0
    assert "banque\tenabled\t" + partner.issuer in result.output
    listed = json.loads(run(broker, "partners", "list", "--json").output)
    assert listed[0]["client_id"] == partner.client_id and listed[0]["names"]["en"] == "Imaginary Bank"
    assert partner.client_secret not in run(broker, "partners", "list", "--json").output


def test_check_fetches_discovery_and_keys(broker, partner):
    result = run(broker, "partners", "check")
    assert result.exit_code == 0, result.output
    assert "banque\tok\t" in result.output and "PKCE S256 announced" in result.output
    report = json.loads(run(broker, "partners", "check", "--json").output)
    assert report[0]["ok"] and report[0]["keys"] >= 1 and report[0]["iss_parameter"]


def test_check_reports_a_partner_that_is_down_and_exits_1(broker, partner):
    partner.server.stop()
    result = run(broker, "partners", "check")
    assert result.exit_code == 1
    assert "banque\tFAILED\tPartnerUnavailable" in result.output


def test_demo_bank_makes_the_client_and_customer_with_fresh_secrets(partner):
    first = json.loads(run(partner.app, "partners", "demo-bank", "--json", "--broker", "http://localhost:5000").output)
    second = json.loads(run(partner.app, "partners", "demo-bank", "--json").output)
    assert first["client_id"] == "passerelle" and first["email"] == "client@banque-imaginaire.test"
    assert first["client_secret"] != second["client_secret"] and first["password"] != second["password"]
