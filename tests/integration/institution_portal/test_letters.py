"""Letters of acceptance through the portal's pages (issue 12, seed 001): the operator imports
the ministry's requests with `python -m clients.institution_portal letters import FILE.csv`;
any user of the institution (primary or secondary) sees its pending queue on home and in
/letters, confirms or refuses each with a reason, once, recorded with who and when; the
history lists decided letters; institution A never sees nor decides B's letters."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from clients.institution_portal.db import db as portal_db
from clients.institution_portal.letters.importing import COLUMNS, import_letters
from clients.institution_portal.letters.models import AcceptanceLetter, LetterEvent
from tests.institution_portal_api_support import register_api_portal, signed_in
from tests.institution_portal_support import build_portal
from tests.orgs_access_support import PRIMARY_EMAIL, SECONDARY_EMAIL, dli_with_members

A, B = "O123456789012", "O999999999999"
EN = {"Accept-Language": "en"}
FR = {"Accept-Language": "fr"}
ROWS = [
    f"{A},LOA-0001,Tremblay,Marie Ève,2004-05-14,Génie civil,2027-01-10,2026-12-01T14:30:00Z",
    f"{A},LOA-0002,Nguyen,Van,2003-02-01,Soins infirmiers,2027-01-10,2026-12-02",
    f"{B},LOA-B001,Singh,Aman,2002-09-30,Commerce,2027-01-10,2026-12-01",
]


def text(response) -> str:
    return response.get_data(as_text=True).replace("&#39;", "'")


@pytest.fixture
def world(live_server):
    dli = dli_with_members(live_server.app)
    other = dli_with_members(live_server.app, people=(("bo@example.ca", "primary"),), number=B,
                             name_fr="Autre collège", name_en="Other College")
    return dli, other, register_api_portal(live_server.app)


@pytest.fixture
def portal(live_server, world, tmp_path):
    app = build_portal(live_server.url, world[2], tmp_path / "portal.db", WTF_CSRF_ENABLED=False, TESTING=True)
    with app.app_context():
        import_letters(portal_db.session, app.extensions["institution_portal"].clock,
                       "\n".join((",".join(COLUMNS), *ROWS)).encode())
        portal_db.session.commit()
    return app


def browser_for(portal, live_server, world, email, role="secondary"):
    dli, other, registration = world
    organization = other if email == "bo@example.ca" else dli
    number = B if email == "bo@example.ca" else A
    return signed_in(portal, live_server.app, registration.client_id, email, role, organization.public_id,
                     number=number)


def letter_id(portal, number: str) -> str:
    with portal.app_context():
        return portal_db.session.scalar(select(AcceptanceLetter.public_id)
                                        .where(AcceptanceLetter.letter_number == number))


def test_home_shows_the_pending_count_and_the_queue_lists_only_the_institutions_letters(portal, live_server, world):
    browser = browser_for(portal, live_server, world, SECONDARY_EMAIL)
    home = text(browser.get("/", headers=EN))
    assert "Letters of acceptance waiting for verification: 2." in home
    assert "Lettres d'acceptation en attente de validation : 2." in text(browser.get("/", headers=FR))
    queue = text(browser.get("/letters", headers=EN))
    assert "LOA-0001" in queue and "LOA-0002" in queue and "Tremblay, Marie Ève" in queue
    assert "LOA-B001" not in queue and "Singh" not in queue
    assert "No letter has been verified yet." in queue


def test_a_secondary_user_confirms_a_letter_and_it_moves_to_the_history(portal, live_server, world):
    browser = browser_for(portal, live_server, world, SECONDARY_EMAIL)
    public_id = letter_id(portal, "LOA-0001")
    page = text(browser.get(f"/letters/{public_id}", headers=EN))
    assert "Génie civil" in page and "2004-05-14" in page and "2027-01-10" in page and "2026-12-01" in page
    done = browser.post(f"/letters/{public_id}", data={"decision": "confirm", "reason": ""}, headers=EN)
    assert done.status_code == 302 and done.headers["Location"] == "/letters"
    queue = text(browser.get("/letters", headers=EN))
    assert "The letter LOA-0001 is confirmed." in queue
    history = queue.split('id="decided-letters"')[1]
    assert "LOA-0001" in history and "Confirmed" in history and "Zoé Citoyenne" in history
    assert "Letters of acceptance waiting for verification: 1." in text(browser.get("/", headers=EN))
    with portal.app_context():
        letter = portal_db.session.scalar(select(AcceptanceLetter).where(AcceptanceLetter.public_id == public_id))
        event = portal_db.session.scalars(select(LetterEvent).where(LetterEvent.letter_id == letter.id)
                                          .order_by(LetterEvent.id)).all()[-1]
        from tests.institution_portal_api_support import subject_of

        sub = subject_of(live_server.app, world[2].client_id, SECONDARY_EMAIL)
        assert (letter.state, letter.decided_by_sub, letter.decided_by_name) == ("confirmed", sub, "Zoé Citoyenne")
        assert (event.action, event.actor_sub, event.actor_name) == ("confirmed", sub, "Zoé Citoyenne")


def test_refusing_needs_a_reason_in_the_page_language(portal, live_server, world):
    browser = browser_for(portal, live_server, world, PRIMARY_EMAIL, "primary")
    public_id = letter_id(portal, "LOA-0002")
    for headers, message in ((EN, "Give the reason why you refuse the letter."),
                             (FR, "Indiquez pourquoi vous refusez la lettre.")):
        page = browser.post(f"/letters/{public_id}", data={"decision": "refuse", "reason": "  "}, headers=headers)
        assert page.status_code == 422 and message in text(page) and 'class="error-summary"' in text(page)
    nothing = browser.post(f"/letters/{public_id}", data={"reason": "x"}, headers=EN)
    assert nothing.status_code == 422 and "Choose whether you confirm or refuse the letter." in text(nothing)
    done = browser.post(f"/letters/{public_id}", data={"decision": "refuse", "reason": "Aucune lettre à ce nom."})
    assert done.status_code == 302
    shown = text(browser.get(f"/letters/{public_id}", headers=EN))
    assert "Refused" in shown and "Aucune lettre à ce nom." in shown and 'name="decision"' not in shown


def test_a_letter_decided_once_cannot_be_decided_again(portal, live_server, world):
    first = browser_for(portal, live_server, world, SECONDARY_EMAIL)
    second = browser_for(portal, live_server, world, PRIMARY_EMAIL, "primary")
    public_id = letter_id(portal, "LOA-0001")
    assert 'name="decision"' in text(second.get(f"/letters/{public_id}"))  # the form is open in both
    assert first.post(f"/letters/{public_id}", data={"decision": "confirm"}).status_code == 302
    for headers, message in ((EN, "Someone in your institution decided this letter already."),
                             (FR, "Une autre personne de votre établissement a déjà rendu une décision")):
        stale = second.post(f"/letters/{public_id}", data={"decision": "refuse", "reason": "Non."}, headers=headers)
        assert stale.status_code == 409 and message in text(stale)
    with portal.app_context():
        letter = portal_db.session.scalar(select(AcceptanceLetter).where(AcceptanceLetter.public_id == public_id))
        assert (letter.state, letter.reason) == ("confirmed", None)


def test_institution_a_never_sees_nor_decides_bs_letters(portal, live_server, world):
    browser = browser_for(portal, live_server, world, PRIMARY_EMAIL, "primary")
    theirs = letter_id(portal, "LOA-B001")
    assert browser.get(f"/letters/{theirs}", headers=EN).status_code == 404
    assert browser.post(f"/letters/{theirs}", data={"decision": "confirm"}).status_code == 404
    assert browser.get("/letters/not-a-letter").status_code == 404
    with portal.app_context():
        assert portal_db.session.scalar(select(AcceptanceLetter.state)
                                        .where(AcceptanceLetter.public_id == theirs)) == "pending"
    owner = browser_for(portal, live_server, world, "bo@example.ca", "primary")
    assert "LOA-B001" in text(owner.get("/letters")) and "LOA-0001" not in text(owner.get("/letters"))


def test_letters_need_a_signed_in_person_who_accepted_the_terms(portal, live_server, world):
    assert portal.test_client().get("/letters").headers["Location"] == "/login"
    dli, _other, registration = world
    fresh = signed_in(portal, live_server.app, registration.client_id, SECONDARY_EMAIL, "secondary", dli.public_id,
                      accept_terms=False)
    assert fresh.get("/letters").headers["Location"] == "/terms"


def test_the_operator_imports_a_file_with_the_command(tmp_path, capsys):
    from clients.institution_portal.__main__ import main

    database = tmp_path / "cli.db"
    good, bad = tmp_path / "letters.csv", tmp_path / "bad.csv"
    good.write_text("\n".join((",".join(COLUMNS), *ROWS)), encoding="utf-8")
    bad.write_text("\n".join((",".join(COLUMNS), ROWS[0], ROWS[1].replace("2003-02-01", "01/02/2003"))),
                   encoding="utf-8")
    environ = {"PORTAL_ISSUER": "http://127.0.0.1:5000", "PORTAL_CLIENT_ID": "institution-portal",
               "PORTAL_CLIENT_SECRET": "s", "PORTAL_BASE_URL": "http://127.0.0.1:5003",
               "PORTAL_SECRET_KEY": "k" * 40, "PORTAL_DATABASE_URL": f"sqlite:///{database}"}
    saved = dict(os.environ)
    os.environ.update(environ)
    try:
        assert main(["db", "upgrade"]) == 0
        capsys.readouterr()
        assert main(["letters", "import", str(bad)]) == 1
        assert f"{bad}:3: date_of_birth must be a date written YYYY-MM-DD" in capsys.readouterr().err
        assert main(["letters", "import", str(good)]) == 0
        assert "3 letter(s) imported, 0 already there" in capsys.readouterr().out
        assert main(["letters", "import", str(good)]) == 0
        assert "0 letter(s) imported, 3 already there" in capsys.readouterr().out
        assert main(["letters", "import", str(tmp_path / "missing.csv")]) == 1
        assert main(["letters"]) == 2
    finally:
        os.environ.clear()
        os.environ.update(saved)
    engine = create_engine(f"sqlite:///{database}")
    with Session(engine) as session:
        assert len(session.scalars(select(AcceptanceLetter)).all()) == 3
    engine.dispose()


def test_without_names_in_the_id_token_the_name_comes_from_passerelles_member_list(live_server, world, tmp_path):
    """Passerelle's ID tokens carry no profile claims (they are UserInfo's): the decision's
    name comes from the organizations API; with Passerelle out of reach, the sub stands."""
    from tests.institution_portal_api_support import attach, subject_of
    from tests.support import free_port

    dli, _other, registration = world
    attach(live_server.app, dli.id, registration.client_id)
    sub = subject_of(live_server.app, registration.client_id, SECONDARY_EMAIL)
    for issuer, expected in ((live_server.url, "Zoé Citoyenne"), (f"http://127.0.0.1:{free_port()}", sub)):
        app = build_portal(issuer, registration, tmp_path / f"{len(expected)}.db", WTF_CSRF_ENABLED=False,
                           TESTING=True)
        with app.app_context():
            import_letters(portal_db.session, app.extensions["institution_portal"].clock,
                           "\n".join((",".join(COLUMNS), ROWS[0])).encode())
            portal_db.session.commit()
        browser = signed_in(app, live_server.app, registration.client_id, SECONDARY_EMAIL, "secondary",
                            dli.public_id, person_names=False)
        public_id = letter_id(app, "LOA-0001")
        assert browser.post(f"/letters/{public_id}", data={"decision": "confirm"}).status_code == 302
        with app.app_context():
            assert portal_db.session.scalar(select(AcceptanceLetter.decided_by_name)) == expected
