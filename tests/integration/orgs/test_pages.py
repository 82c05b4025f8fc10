"""The primary and secondary users' pages (issue 11, phase 2b) through the Flask test client:
the organization on the account home, « Créer un compte pour un utilisateur d'un EED »,
members and invitations (resend, withdraw), requests; each behind a fresh second factor;
every refusal translated, never another organization's data, never a 500."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from idp.audit import EventTag, SecurityEvent
from idp.extensions import db
from idp.invitations.models import Invitation
from idp.orgs.models import ChangeRequest, Membership, Organization
from tests.integration.signin.support import SignIn, csrf_token
from tests.orgs_support import OPERATOR, join, make_dli, make_user, org_service, org_with_members

PASSWORD = "a password"  # tests/orgs_support.make_user's
PRIMARY, SECONDARY = "pat@example.ca", "sam@example.ca"


@pytest.fixture
def org(app):
    """A DLI with primary pat@example.ca and secondary sam@example.ca; returns its public id."""
    with app.app_context():
        organization, _primary, _members = org_with_members(org_service())
        db.session.commit()
        return organization.public_id


def sign_in(client, email: str, locale: str = "en") -> SignIn:
    browser = SignIn(client, locale)
    browser.sign_in(email, PASSWORD)
    return browser


def area(org: str, path: str = "") -> str:
    return f"/account/organization/{org}{path}"


def page(client, path: str):
    response = client.get(path)
    assert response.status_code == 200, (response.status_code, response.headers.get("Location"))
    return response


def post(client, path: str, form_page=None, **data):
    token = csrf_token((form_page or page(client, path)).text)
    return client.post(path, data={"csrf_token": token, **data})


def notices(client, response) -> str:
    assert response.status_code == 303, response.text
    return client.get(response.headers["Location"]).text


def invitations(app, email: str) -> list[Invitation]:
    with app.app_context():
        return list(db.session.scalars(select(Invitation).where(Invitation.email == email).order_by(Invitation.id)))


def tags(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(SecurityEvent.tag)))


def requests_of(app) -> list[ChangeRequest]:
    with app.app_context():
        return list(db.session.scalars(select(ChangeRequest).order_by(ChangeRequest.id)))


# The account home


def test_a_person_without_a_membership_sees_nothing_new(app, client):
    with app.app_context():
        make_user("ana@example.ca")
        db.session.commit()
    sign_in(client, "ana@example.ca")
    home = page(client, "/account")
    assert "Your organization" not in home.text and "/account/organization/" not in home.text


def test_a_secondary_sees_the_organization_and_role_in_their_language_and_nothing_to_manage(client, org):
    sign_in(client, SECONDARY)
    home = page(client, "/account").text
    assert "Imaginary College" in home and "O123456789012" in home
    assert "Designated learning institution (DLI)" in home and "Secondary user" in home
    assert "/account/organization/" not in home
    assert "Your organization's primary user manages its users." in home
    client.set_cookie("passerelle_lang", "fr")
    home = page(client, "/account").text
    assert "Collège Imaginaire" in home and "Utilisateur secondaire" in home
    assert "Établissement d&#39;enseignement désigné (EED)" in home or "Établissement d'enseignement désigné (EED)" in home


def test_the_primary_sees_their_role_and_the_way_to_the_organization_area(client, org):
    sign_in(client, PRIMARY)
    home = page(client, "/account").text
    assert "Primary user" in home and f'href="{area(org)}"' in home
    overview = page(client, area(org)).text
    assert "Manage your organization" in overview
    assert PRIMARY in overview and SECONDARY in overview
    assert f'href="{area(org, "/invite")}"' in overview


def test_a_disabled_organization_is_shown_without_the_way_to_manage_it(app, client, org):
    with app.app_context():
        service = org_service()
        service.disable(service.get(org).id, by_operator="ana")
        db.session.commit()
    sign_in(client, PRIMARY)
    home = page(client, "/account").text
    assert "This organization is disabled" in home and f'href="{area(org)}"' not in home


# A fresh second factor


def test_every_page_asks_for_a_fresh_sign_in_after_the_freshness_window(app, client, clock, org):
    sign_in(client, PRIMARY)
    form_page = page(client, area(org, "/invite"))
    clock.advance(seconds=301)
    for path in ("", "/invite", "/requests", "/requests/change-primary", "/requests/remove-secondary"):
        response = client.get(area(org, path))
        assert response.status_code == 303 and response.headers["Location"].startswith("/signin"), path
    sent = client.post(area(org, "/invite"), data={"csrf_token": csrf_token(form_page.text),
                                                   "email": "new@example.ca", "locale": "en"})
    assert sent.status_code == 303 and sent.headers["Location"].startswith("/signin")
    assert invitations(app, "new@example.ca") == []


def test_signing_in_again_comes_back_to_the_organization_page(client, clock, org):
    browser = sign_in(client, PRIMARY)
    clock.advance(seconds=301)
    response = client.get(area(org, "/requests"))
    signin_page = client.get(response.headers["Location"])
    assert PRIMARY in signin_page.text  # the address is filled in
    done = browser.finish_steps(browser.submit_password(PRIMARY, PASSWORD, page=signin_page), PRIMARY)
    assert done.headers["Location"] == area(org, "/requests")
    page(client, area(org, "/requests"))


def test_without_a_session_the_pages_lead_to_the_sign_in(client, org):
    response = client.get(area(org))
    assert response.status_code == 303 and response.headers["Location"].startswith("/signin")


# « Créer un compte pour un utilisateur d'un EED »


def test_the_primary_invites_a_secondary_with_a_code_invitation(app, client, org, mailbox):
    sign_in(client, PRIMARY)
    form_page = page(client, area(org, "/invite"))
    assert "Create an account for a user of the institution" in form_page.text and "New request" in form_page.text
    text = notices(client, post(client, area(org, "/invite"), form_page, email="Lou@Example.ca", locale="fr"))
    assert "We sent an invitation code to lou@example.ca" in text
    assert "lou@example.ca" in text.split("Invitations not yet used")[1]
    (invitation,) = invitations(app, "lou@example.ca")
    assert (invitation.kind, invitation.organization_role, invitation.locale) == ("code", "secondary", "fr")
    assert invitation.created_by_id.endswith("/user:" + invitation.created_by_id.rsplit(":", 1)[1])
    assert mailbox.wait_for("lou@example.ca")["Subject"]
    assert EventTag.ORGANIZATION_MEMBER_INVITED.value in tags(app)


def test_the_page_speaks_french_with_the_seed_words(client, org):
    sign_in(client, PRIMARY, locale="fr")
    form_page = page(client, area(org, "/invite")).text
    assert "Créer un compte pour un utilisateur d&#39;un EED" in form_page or \
        "Créer un compte pour un utilisateur d'un EED" in form_page
    assert "Nouvelle requête" in form_page


def test_inviting_an_address_with_an_account_says_exactly_the_same(app, client, org):
    with app.app_context():
        make_user("taken@example.ca")
        db.session.commit()
    sign_in(client, PRIMARY)
    taken = notices(client, post(client, area(org, "/invite"), email="taken@example.ca", locale="en"))
    fresh = notices(client, post(client, area(org, "/invite"), email="free@example.ca", locale="en"))
    say = re.compile(r"We sent an invitation code to (\S+)\. The invitation stays pending until they register with it\.")
    assert say.search(taken).group(1) == "taken@example.ca" and say.search(fresh).group(1) == "free@example.ca"
    assert len(invitations(app, "taken@example.ca")) == 1


@pytest.mark.parametrize(("email", "message"), [
    ("", "Enter an email address, like name@example.ca."),
    ("not an address", "Enter an email address, like name@example.ca."),
    ("<b>lou</b>@example.ca", "Remove the characters &lt; and &gt;."),
    ("lou\u202e@example.ca", "Remove the invisible or text-direction characters"),
    ("l" * 330 + "@example.ca", "An email address has at most 320 characters."),
    (SECONDARY, "This address already belongs to a member of your organization."),
])
def test_a_bad_address_is_refused_on_the_form(app, client, org, email, message):
    sign_in(client, PRIMARY)
    response = post(client, area(org, "/invite"), email=email, locale="en")
    assert response.status_code == 422
    assert message in response.text and 'class="error-summary"' in response.text
    assert "<b>lou" not in response.text
    with app.app_context():
        assert db.session.scalar(select(Invitation).where(Invitation.email != PRIMARY, Invitation.email != SECONDARY)) is None


def test_a_bad_address_is_refused_in_french(client, org):
    sign_in(client, PRIMARY, locale="fr")
    response = post(client, area(org, "/invite"), email="pas une adresse", locale="fr")
    assert response.status_code == 422 and "Entrez une adresse courriel" in response.text


@pytest.mark.settings(ORGANIZATION_INVITE_RATE_LIMIT="2 per minute")
def test_inviting_is_rate_limited_per_address(client, org):
    sign_in(client, PRIMARY)
    form_page = page(client, area(org, "/invite"))
    for number in range(2):
        assert post(client, area(org, "/invite"), form_page, email=f"p{number}@example.ca", locale="en").status_code == 303
    refused = post(client, area(org, "/invite"), form_page, email="p9@example.ca", locale="en")
    assert refused.status_code == 429 and "Too many attempts" in refused.text


def test_a_form_without_its_csrf_token_is_refused(app, client, org):
    sign_in(client, PRIMARY)
    response = client.post(area(org, "/invite"), data={"email": "lou@example.ca", "locale": "en"})
    assert response.status_code == 400 and "This form has expired" in response.text
    assert invitations(app, "lou@example.ca") == []


# Invitations: resend, withdraw


def test_resend_gives_a_new_code_and_withdraw_ends_the_invitation(app, client, org, mailbox):
    sign_in(client, PRIMARY)
    post(client, area(org, "/invite"), email="lou@example.ca", locale="en")
    (invitation,) = invitations(app, "lou@example.ca")
    first_hash = invitation.secret_hash
    overview = page(client, area(org))
    assert "Pending until" in overview.text
    text = notices(client, post(client, area(org, f"/invitations/{invitation.id}/resend"), overview))
    assert "was sent again with a new code" in text
    (invitation,) = invitations(app, "lou@example.ca")
    assert invitation.secret_hash != first_hash and invitation.send_count == 2
    assert len(mailbox.wait_for("lou@example.ca", count=2) and mailbox.to("lou@example.ca")) == 2
    text = notices(client, post(client, area(org, f"/invitations/{invitation.id}/withdraw"), page(client, area(org))))
    assert "was withdrawn" in text and "lou@example.ca" not in text.split("Invitations not yet used")[1]
    (invitation,) = invitations(app, "lou@example.ca")
    assert invitation.revoked_at is not None
    assert EventTag.ORGANIZATION_INVITATION_WITHDRAWN.value in tags(app)
    # Withdrawn: it can be neither resent nor withdrawn again.
    text = notices(client, post(client, area(org, f"/invitations/{invitation.id}/resend"), page(client, area(org, "/invite"))))
    assert "This invitation can no longer be changed" in text


def test_an_expired_invitation_is_shown_expired_and_can_be_sent_again(app, client, clock, org):
    sign_in(client, PRIMARY)
    post(client, area(org, "/invite"), email="lou@example.ca", locale="en")
    clock.advance(days=15)
    SignIn(client).sign_in(PRIMARY, PASSWORD)
    overview = page(client, area(org))
    assert "Expired" in overview.text
    (invitation,) = invitations(app, "lou@example.ca")
    assert notices(client, post(client, area(org, f"/invitations/{invitation.id}/resend"), overview))
    (invitation,) = invitations(app, "lou@example.ca")
    assert invitation.expires_at > clock()


# Refusals


@pytest.fixture
def other_org(app):
    """A second DLI, primary bo@example.ca, with a pending invitation to zed@example.ca."""
    with app.app_context():
        service = org_service()
        other = make_dli(service, number="O999999999999", name_fr="Cégep Secret", name_en="Secret College")
        join(service, other, "bo@example.ca", "primary")
        service.invite(other.id, email="zed@example.ca", role="secondary", inviter=OPERATOR)
        db.session.commit()
        return other.public_id


PAGES = ("", "/invite", "/requests", "/requests/change-primary", "/requests/remove-secondary")


@pytest.mark.parametrize("path", PAGES)
def test_a_secondary_is_refused_every_page(client, org, path):
    sign_in(client, SECONDARY)
    response = client.get(area(org, path))
    assert response.status_code == 403 and "Only the primary user can do this" in response.text
    assert "sam@example.ca" not in response.text.replace("sam@example.ca</", "")  # no member list


@pytest.mark.parametrize("path", PAGES)
def test_a_stranger_is_refused_in_their_language(app, client, org, path):
    with app.app_context():
        make_user("ana@example.ca")
        db.session.commit()
    sign_in(client, "ana@example.ca", locale="fr")
    response = client.get(area(org, path))
    assert response.status_code == 403 and "Seul l&#39;utilisateur principal" in response.text.replace("'", "&#39;")
    assert PRIMARY not in response.text and "Collège Imaginaire" not in response.text


def test_the_primary_of_another_organization_sees_none_of_its_data(app, client, org, other_org):
    sign_in(client, "bo@example.ca")
    for path in PAGES:
        response = client.get(area(org, path))
        assert response.status_code == 403, path
        assert PRIMARY not in response.text and SECONDARY not in response.text and "Imaginary" not in response.text
    response = client.post(area(org, "/invite"), data={
        "csrf_token": csrf_token(page(client, area(other_org, "/invite")).text), "email": "x@example.ca", "locale": "en",
    })
    assert response.status_code == 403 and invitations(app, "x@example.ca") == []


def test_the_primary_cannot_resend_or_withdraw_another_organizations_invitation(app, client, org, other_org):
    (theirs,) = invitations(app, "zed@example.ca")
    sign_in(client, PRIMARY)
    overview = page(client, area(org, "/invite"))  # no invitation of its own: no button, the form's token
    for action in ("resend", "withdraw"):
        text = notices(client, post(client, area(org, f"/invitations/{theirs.id}/{action}"), overview))
        assert "This invitation can no longer be changed" in text and "zed@example.ca" not in text
    (theirs_after,) = invitations(app, "zed@example.ca")
    assert theirs_after.revoked_at is None and theirs_after.secret_hash == theirs.secret_hash


def test_the_primary_cannot_ask_to_remove_another_organizations_member(app, client, org, other_org):
    with app.app_context():
        bo = db.session.scalar(select(Membership).join(Organization).where(Organization.public_id == other_org))
        bo_id = bo.id
    sign_in(client, PRIMARY)
    response = post(client, area(org, "/requests/remove-secondary"), member=str(bo_id), reason="Gone.")
    assert response.status_code == 422 and "no longer a member of your organization" in response.text
    assert "bo@example.ca" not in response.text and requests_of(app) == []


def test_a_disabled_organization_refuses_its_primary(app, client, org):
    sign_in(client, PRIMARY)
    with app.app_context():
        service = org_service()
        service.disable(service.get(org).id, by_operator="ana")
        db.session.commit()
    # Disabling ended the members' sessions (idp.oidc.revocation.end_organization_access).
    assert client.get(area(org)).headers["Location"].startswith("/signin")
    sign_in(client, PRIMARY)
    response = client.get(area(org))
    assert response.status_code == 403 and "This organization is disabled" in response.text
    assert SECONDARY not in response.text
    response = client.post(area(org, "/invite"), data={"csrf_token": csrf_token(page(client, "/account/password").text),
                                                       "email": "lou@example.ca", "locale": "en"})
    assert response.status_code == 403 and invitations(app, "lou@example.ca") == []


def test_an_organization_disabled_while_the_form_is_open_refuses_the_post(app, client, org):
    """The session survives here only if disabling had not ended it: the page's own check
    still refuses (two checks, not one)."""
    sign_in(client, PRIMARY)
    form_page = page(client, area(org, "/invite"))
    with app.app_context():
        db.session.execute(
            Organization.__table__.update().where(Organization.public_id == org).values(state="disabled")
        )
        db.session.commit()
    response = client.post(area(org, "/invite"), data={"csrf_token": csrf_token(form_page.text),
                                                       "email": "lou@example.ca", "locale": "en"})
    assert response.status_code == 403 and "This organization is disabled" in response.text
    assert invitations(app, "lou@example.ca") == []


@pytest.mark.parametrize("reference", ["nope", "O000000000000", "x" * 40, "%00", "a'b"])
def test_an_unknown_organization_is_not_found(client, org, reference):
    sign_in(client, PRIMARY)
    response = client.get(area(org).rsplit("/", 1)[0] + "/" + reference)
    assert response.status_code == 404 and "Organization not found" in response.text


# Requests


def secondary_membership_id(app) -> int:
    with app.app_context():
        return db.session.scalar(select(Membership.id).where(Membership.role == "secondary"))


def test_the_primary_asks_to_remove_a_secondary_and_sees_the_request_pending(app, client, org, mailbox):
    sign_in(client, PRIMARY)
    member = secondary_membership_id(app)
    overview = page(client, area(org)).text
    assert f'href="{area(org, "/requests/remove-secondary")}?member={member}"' in overview
    form_page = page(client, area(org, f"/requests/remove-secondary?member={member}"))
    assert f'value="{member}" checked' in form_page.text
    text = notices(client, post(client, area(org, "/requests/remove-secondary"), form_page, member=str(member),
                                reason="Left the college in June."))
    assert "Your request was sent" in text
    assert "Remove a secondary user" in text and "Waiting for a decision" in text and "Left the college in June." in text
    (request,) = requests_of(app)
    assert (request.kind, request.state, request.target_membership_id) == ("remove_secondary", "pending", member)
    again = post(client, area(org, "/requests/remove-secondary"), member=str(member), reason="Again.")
    assert again.status_code == 422 and "already waiting for a decision" in again.text


def test_the_requests_page_shows_each_decision(app, client, org):
    sign_in(client, PRIMARY)
    post(client, area(org, "/requests/remove-secondary"), member=str(secondary_membership_id(app)), reason="Left.")
    with app.app_context():
        org_service().reject(requests_of(app)[0].id, by_operator="ana", reason="Still on staff.")
        db.session.commit()
    text = page(client, area(org, "/requests")).text
    assert "Rejected" in text and "Note: Still on staff." in text


def test_the_primary_asks_to_change_the_primary_to_a_secondary(app, client, org):
    sign_in(client, PRIMARY)
    member = secondary_membership_id(app)
    response = post(client, area(org, "/requests/change-primary"), target=str(member), former_primary_becomes="leave",
                    reason="I am retiring.")
    assert "Change the primary user" in notices(client, response)
    (request,) = requests_of(app)
    assert (request.kind, request.target_membership_id, request.former_primary_becomes) == ("change_primary", member, "leave")


def test_the_primary_asks_to_change_the_primary_to_a_new_address(app, client, org):
    sign_in(client, PRIMARY)
    response = post(client, area(org, "/requests/change-primary"), target="new", new_email="Nia@Example.ca",
                    new_locale="fr", former_primary_becomes="secondary", reason="Nia takes over.")
    assert "nia@example.ca" in notices(client, response)
    (request,) = requests_of(app)
    assert (request.new_email, request.new_locale, request.target_membership_id) == ("nia@example.ca", "fr", None)
    assert invitations(app, "nia@example.ca") == []  # only once an operator approves


@pytest.mark.parametrize(("data", "message"), [
    ({"target": "new", "new_email": "", "former_primary_becomes": "leave", "reason": "R."},
     "Enter an email address, like name@example.ca."),
    ({"target": "new", "new_email": "nope", "former_primary_becomes": "leave", "reason": "R."},
     "Enter an email address, like name@example.ca."),
    ({"target": "new", "new_email": SECONDARY, "former_primary_becomes": "leave", "reason": "R."},
     "This address already belongs to a member of your organization."),
    ({"target": "", "former_primary_becomes": "leave", "reason": "R."}, "Choose who becomes the primary user."),
    ({"target": "new", "new_email": "nia@example.ca", "reason": "R."},
     "Choose whether you stay as a secondary user or leave the organization."),
    ({"target": "new", "new_email": "nia@example.ca", "former_primary_becomes": "leave", "reason": ""},
     "Explain why you make this request."),
    ({"target": "new", "new_email": "nia@example.ca", "former_primary_becomes": "leave", "reason": "<script>x</script>"},
     "Remove the characters &lt; and &gt;."),
    ({"target": "new", "new_email": "nia@example.ca", "former_primary_becomes": "leave", "reason": "abc\u202edef"},
     "Remove the invisible or text-direction characters"),
    ({"target": "new", "new_email": "nia@example.ca", "former_primary_becomes": "leave", "reason": "r" * 1001},
     "Write at most 1,000 characters."),
    ({"target": "99999", "former_primary_becomes": "leave", "reason": "R."},
     "This person is no longer a member of your organization."),
])
def test_a_bad_change_request_is_refused_on_the_form(app, client, org, data, message):
    sign_in(client, PRIMARY)
    response = post(client, area(org, "/requests/change-primary"), **data)
    assert response.status_code == 422, response.text
    assert message in response.text and 'class="error-summary"' in response.text
    assert "<script>x" not in response.text
    assert requests_of(app) == []


def test_the_primary_cannot_ask_to_remove_themselves(app, client, org):
    with app.app_context():
        primary_id = db.session.scalar(select(Membership.id).where(Membership.role == "primary"))
    sign_in(client, PRIMARY)
    response = post(client, area(org, "/requests/remove-secondary"), member=str(primary_id), reason="Me.")
    assert response.status_code == 422 and "The primary user cannot be removed" in response.text


def test_a_bad_reason_is_refused_in_french(client, org):
    sign_in(client, PRIMARY, locale="fr")
    response = post(client, area(org, "/requests/change-primary"), target="new", new_email="nia@example.ca",
                    former_primary_becomes="leave", reason="<b>")
    assert response.status_code == 422 and "Retirez les caractères &lt; et &gt;." in response.text


def test_a_secondary_cannot_act_through_a_post_either(app, client, org):
    with app.app_context():
        service = org_service()
        invitation, _code = service.invite(service.get(org).id, email="lou@example.ca", role="secondary",
                                           inviter=OPERATOR)
        db.session.commit()
        invitation_id = invitation.id
    sign_in(client, SECONDARY)
    token = csrf_token(page(client, "/account/password").text)
    for path, data in (
        ("/invite", {"email": "x@example.ca", "locale": "en"}),
        (f"/invitations/{invitation_id}/resend", {}),
        (f"/invitations/{invitation_id}/withdraw", {}),
        ("/requests/remove-secondary", {"member": "1", "reason": "Me."}),
        ("/requests/change-primary", {"target": "new", "new_email": "x@example.ca", "former_primary_becomes": "leave",
                                      "reason": "Me."}),
    ):
        response = client.post(area(org, path), data={"csrf_token": token, **data})
        assert response.status_code == 403, path
    (invitation,) = invitations(app, "lou@example.ca")
    assert invitation.revoked_at is None and invitation.send_count == 1
    assert invitations(app, "x@example.ca") == [] and requests_of(app) == []


def test_an_impossible_invitation_id_is_a_message_not_an_error(client, org):
    sign_in(client, PRIMARY)
    form_page = page(client, area(org, "/invite"))
    for action in ("resend", "withdraw"):
        response = post(client, area(org, f"/invitations/0/{action}"), form_page)
        assert "This invitation can no longer be changed" in notices(client, response)


def test_an_invitation_id_past_the_database_s_integers_is_page_not_found(client, org):
    """Every `<int:...>` route stops matching past 2**31 - 1 (idp/web/input_guard.py)."""
    sign_in(client, PRIMARY)
    form_page = page(client, area(org, "/invite"))
    for action in ("resend", "withdraw"):
        response = post(client, area(org, f"/invitations/99999999999999999999999/{action}"), form_page)
        assert response.status_code == 404 and "Page not found" in response.text
