"""Issue 12's browser journey for compliance reports, in real Chromium, in French and
English, axe-core on every portal page: the DLI's primary user signs in through Passerelle
with two-factor, accepts the portal's terms, files the report of the open period from a CSV
file (a first file with a wrong line is refused with its line and reason, nothing saved),
reviews and submits it (a receipt), then corrects it (a new version with its own receipt;
the first is kept in the history)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

import pytest
from playwright.sync_api import Page, expect

from clients.institution_portal.db import db as portal_db
from tests.browser.conftest import TIMEOUT_MS
from tests.browser.test_institution_portal_users import sign_in_to_the_portal
from tests.institution_portal_reports_support import (
    RecordingNotifier,
    add_institution_with_period,
    csv_bytes,
    student,
)
from tests.institution_portal_support import (
    add_authenticator_app,
    build_portal,
    register_portal,
)
from tests.orgs_access_support import PRIMARY_EMAIL, dli_with_members
from tests.support import LiveServer

pytestmark = pytest.mark.browser

TEXT = {
    "fr": {
        "reports_link": "Préparer, soumettre et corriger vos rapports de conformité, et consulter leur historique",
        "reports": "Rapports de conformité",
        "prepare": "Préparer le rapport",
        "report": "Préparer le rapport de conformité",
        "file": "Fichier CSV",
        "upload": "Téléverser le fichier",
        "not_saved": "Le fichier n'a pas été enregistré",
        "line_error": "Ligne 3 : La date de naissance ne peut pas être dans l'avenir.",
        "read": "Le fichier a été lu : le rapport contient maintenant 3 étudiants.",
        "review": "Vérifier le rapport",
        "review_heading": "Vérifier le rapport avant de le soumettre",
        "submit": "Soumettre le rapport",
        "submitted": "Rapport soumis",
        "correct": "Corriger le rapport",
        "edit_s2": "Modifier l'étudiant S00002",
        "edit_heading": "Modifier un étudiant",
        "status": "Statut",
        "status_date": "Date du statut",
        "completed": "A terminé le programme",
        "save": "Enregistrer l'étudiant",
        "correction": "correction en cours (version 2)",
        "all_reports": "Tous les rapports",
        "version_1": "Version 1",
        "version_2": "Version 2",
    },
    "en": {
        "reports_link": "Prepare, submit and correct your compliance reports, and see their history",
        "reports": "Compliance reports",
        "prepare": "Prepare the report",
        "report": "Prepare the compliance report",
        "file": "CSV file",
        "upload": "Upload the file",
        "not_saved": "The file was not saved",
        "line_error": "Line 3: The date of birth cannot be in the future.",
        "read": "The file was read: the report now lists 3 students.",
        "review": "Review the report",
        "review_heading": "Review the report before submitting it",
        "submit": "Submit the report",
        "submitted": "Report submitted",
        "correct": "Correct the report",
        "edit_s2": "Edit student S00002",
        "edit_heading": "Edit a student",
        "status": "Status",
        "status_date": "Date of the status",
        "completed": "Completed the program",
        "save": "Save the student",
        "correction": "correction in progress (version 2)",
        "all_reports": "All reports",
        "version_1": "Version 1",
        "version_2": "Version 2",
    },
}
RECEIPT = re.compile(r"EED-[0-9A-Z]{4}-[0-9A-Z]{4}")


@pytest.fixture
def world(live_server, tmp_path) -> Iterator[tuple[LiveServer, object, RecordingNotifier]]:
    """Passerelle with the DLI and its primary user; the portal with that institution and a
    period open today (as `periods run` makes it)."""
    dli = dli_with_members(live_server.app, people=((PRIMARY_EMAIL, "primary"),))
    server = LiveServer()
    app = build_portal(live_server.url, register_portal(live_server.app, origin=server.url), tmp_path / "portal.db",
                       origin=server.url)
    notifier = app.extensions["institution_portal_report_notifier"] = RecordingNotifier()
    with app.app_context():
        add_institution_with_period(portal_db.session, dli.public_id, "O123456789012", today=date.today())
        portal_db.session.commit()
    server.start(app)
    yield server, dli, notifier
    server.stop()


def heading(page: Page, text: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(text)


def choose_file(page: Page, text: dict, data: bytes) -> None:
    page.get_by_label(text["file"], exact=True).set_input_files(
        files=[{"name": "etudiants.csv", "mimeType": "text/csv", "buffer": data}])
    page.get_by_role("button", name=text["upload"], exact=True).click()


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_file_a_report_from_a_csv_then_correct_it(browser, live_server, world, clock, axe, locale):
    portal, dli, notifier = world
    text = TEXT[locale]
    secret = add_authenticator_app(live_server.app, dli.members[PRIMARY_EMAIL], clock)
    context = browser.new_context(locale=f"{locale}-CA")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        sign_in_to_the_portal(page, portal, live_server, locale, secret, clock, email=PRIMARY_EMAIL)
        page.get_by_role("link", name=text["reports_link"], exact=True).click()
        heading(page, text["reports"])
        axe.assert_accessible(page, f"reports ({locale})")
        page.get_by_role("button", name=text["prepare"], exact=True).click()
        heading(page, text["report"])
        axe.assert_accessible(page, f"empty draft ({locale})")

        # A file with a date of birth in the future: refused, its line named, nothing saved.
        choose_file(page, text, csv_bytes([student(1), student(2, date_of_birth="2099-01-01"), student(3)],
                                          language=locale, encoding="cp1252"))
        expect(page.locator("#upload-errors")).to_contain_text(text["not_saved"])
        expect(page.locator("#upload-errors")).to_contain_text(text["line_error"])
        expect(page.locator("#students-table")).to_have_count(0)
        axe.assert_accessible(page, f"draft with upload errors ({locale})")

        # The corrected file, with a byte order mark as Excel saves UTF-8.
        choose_file(page, text, csv_bytes([student(1), student(2), student(3)], language=locale, bom=True))
        expect(page.locator("#upload-result")).to_have_text(text["read"])
        expect(page.locator("#students-table tbody tr")).to_have_count(3)
        axe.assert_accessible(page, f"draft with students ({locale})")

        page.get_by_role("link", name=text["review"], exact=True).click()
        heading(page, text["review_heading"])
        axe.assert_accessible(page, f"review ({locale})")
        page.get_by_role("button", name=text["submit"], exact=True).click()
        heading(page, text["submitted"])
        first = RECEIPT.search(page.locator("#receipt").inner_text()).group(0)
        axe.assert_accessible(page, f"receipt ({locale})")

        # The correction: a new version from the submitted one; one student completed.
        page.get_by_role("button", name=text["correct"], exact=True).click()
        expect(page.locator("#report-state")).to_contain_text(text["correction"])
        axe.assert_accessible(page, f"correction draft ({locale})")
        page.get_by_role("link", name=text["edit_s2"], exact=True).click()
        heading(page, text["edit_heading"])
        axe.assert_accessible(page, f"edit a student ({locale})")
        page.get_by_label(text["status"], exact=True).select_option(label=text["completed"])
        page.get_by_label(text["status_date"], exact=True).fill(date.today().isoformat())
        page.get_by_role("button", name=text["save"], exact=True).click()
        heading(page, text["report"])
        page.get_by_role("link", name=text["review"], exact=True).click()
        page.get_by_role("button", name=text["submit"], exact=True).click()
        heading(page, text["submitted"])
        second = RECEIPT.search(page.locator("#receipt").inner_text()).group(0)
        assert second != first
        axe.assert_accessible(page, f"second receipt ({locale})")

        page.get_by_role("link", name=text["all_reports"], exact=True).click()
        history = page.locator("#history")
        expect(history).to_contain_text(first)
        expect(history).to_contain_text(second)
        expect(history.get_by_role("link", name=text["version_1"], exact=True)).to_be_visible()
        expect(history.get_by_role("link", name=text["version_2"], exact=True)).to_be_visible()
        axe.assert_accessible(page, f"history ({locale})")
        assert [(receipt, number) for _org, receipt, number in notifier.sent] == [(first, 1), (second, 2)]
    finally:
        context.close()
