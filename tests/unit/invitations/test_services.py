"""InvitationService on a real database: secrets hashed, expiry by the clock, single use,
revoke, resend, code normalisation."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from idp.accounts.services import AccountService
from idp.context import app_context
from idp.extensions import db
from idp.invitations.errors import (
    InvalidInvitation,
    InvitationAlreadyUsed,
    InvitationEmailMismatch,
    InvitationExpired,
    InvitationNotFound,
    InvitationRevoked,
)
from idp.invitations.models import Invitation, InvitationState
from idp.invitations.codes import CODE_ALPHABET, format_code, new_invitation_code, normalise_code
from idp.invitations.mailing import email_context, invitation_link, third_party_login_url
from idp.invitations.services import InvitationService
from idp.mail.models import OutboxMessage
from idp.mail.services import MailService

DAY = 24 * 3600


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield app_context()


@pytest.fixture
def invitations(ctx):
    return InvitationService(db.session, ctx.settings, ctx.clock, ctx.hasher)


@pytest.fixture
def make_user(ctx):
    def make(email="zoe@example.ca"):
        return AccountService(db.session, ctx.settings, ctx.clock, ctx.passwords).create_user(
            email, "Zoé", "Citoyenne", "a password"
        )

    return make


def invite(invitations, kind="link", email="Zoe.Citoyenne@Example.ca", **extra):
    values = {
        "email": email,
        "kind": kind,
        "inviter_name": "École Imaginaire",
        "created_by_kind": "operator",
        "created_by_id": "ops",
        **extra,
    }
    return invitations.create(**values)


def test_create_stores_the_canonical_address_and_only_a_hash_of_the_link_token(invitations, ctx):
    invitation, plain_token = invite(invitations, given_name=" Zoé ", purpose="A transcript was sent to you.")
    assert invitation.email == "zoe.citoyenne@example.ca"
    assert invitation.given_name == "Zoé"
    assert invitation.family_name is None
    assert invitation.locale == "fr"  # BABEL_DEFAULT_LOCALE
    assert len(plain_token) >= 43  # 32 random bytes
    assert invitation.secret_hash == ctx.hasher.hash("invitation-link", plain_token)
    assert plain_token not in invitation.secret_hash
    assert invitation.state_at(ctx.clock()) == InvitationState.PENDING
    assert invitation.send_count == 0


def test_expiry_defaults_to_fourteen_days_by_the_clock(invitations, clock):
    invitation, plain_token = invite(invitations)
    assert (invitation.expires_at - invitation.created_at).total_seconds() == 14 * DAY
    clock.advance(seconds=14 * DAY - 1)
    assert invitations.find_by_link_token(plain_token).id == invitation.id
    clock.advance(seconds=1)
    assert invitation.state_at(clock()) == InvitationState.EXPIRED
    with pytest.raises(InvitationExpired):
        invitations.find_by_link_token(plain_token)


@pytest.mark.settings(INVITATION_TTL=3600)
def test_expiry_follows_the_setting(invitations):
    invitation, _ = invite(invitations)
    assert (invitation.expires_at - invitation.created_at).total_seconds() == 3600


def test_code_invitation_gives_a_grouped_human_typable_code_hashed_normalised(invitations, ctx):
    invitation, plain_code = invite(invitations, kind="code")
    groups = plain_code.split("-")
    assert [len(group) for group in groups] == [4, 4, 4, 4]
    assert set("".join(groups)) <= set(CODE_ALPHABET)
    assert invitation.secret_hash == ctx.hasher.hash("invitation-code", "".join(groups))


def test_codes_have_at_least_sixty_bits_and_no_look_alikes():
    import math

    assert len(CODE_ALPHABET) == len(set(CODE_ALPHABET))
    assert not set("01OIL") & set(CODE_ALPHABET)
    assert 16 * math.log2(len(CODE_ALPHABET)) >= 60
    assert len({new_invitation_code() for _ in range(200)}) == 200


@pytest.mark.parametrize(
    "typed",
    ["abcd-efgh-jkmn-pqrs", " ABCD EFGH JKMN PQRS ", "ABCDEFGHJKMNPQRS", "abcd\u2013efgh\u2014jkmn pqrs",
     "ＡＢＣＤ-ＥＦＧＨ-ＪＫＭＮ-ＰＱＲＳ"],
)
def test_code_normalisation_ignores_case_spaces_and_separators(typed):
    assert normalise_code(typed) == "ABCDEFGHJKMNPQRS"
    assert format_code(typed) == "ABCD-EFGH-JKMN-PQRS"


@pytest.mark.parametrize("typed", ["", "ABCD-EFGH-JKMN", "ABCD-EFGH-JKMN-PQR0", "ABCD-EFGH-JKMN-PQRSX", "x" * 500, None])
def test_malformed_codes_normalise_to_nothing(typed):
    assert normalise_code(typed) is None


def test_find_by_code_needs_the_code_and_the_invited_address(invitations):
    invitation, plain_code = invite(invitations, kind="code")
    typed = plain_code.lower().replace("-", " ")
    assert invitations.find_by_code(typed, " ZOE.citoyenne@example.ca").id == invitation.id
    # The right code with another address answers exactly like a wrong code.
    with pytest.raises(InvitationNotFound):
        invitations.find_by_code(plain_code, "someone.else@example.ca")
    with pytest.raises(InvitationNotFound):
        invitations.find_by_code("AAAA-AAAA-AAAA-AAAA", "zoe.citoyenne@example.ca")
    with pytest.raises(InvitationNotFound):
        invitations.find_by_code("nonsense", "not an address")


def test_a_link_token_is_not_a_code_and_a_code_is_not_a_link_token(invitations):
    _, plain_token = invite(invitations, kind="link")
    _, plain_code = invite(invitations, kind="code", email="other@example.ca")
    with pytest.raises(InvitationNotFound):
        invitations.find_by_code(plain_token, "zoe.citoyenne@example.ca")
    with pytest.raises(InvitationNotFound):
        invitations.find_by_link_token(plain_code)


@pytest.mark.parametrize("token", ["", "x", "y" * 5000, None])
def test_unknown_or_malformed_link_tokens_are_not_found(invitations, token):
    invite(invitations)
    with pytest.raises(InvitationNotFound):
        invitations.find_by_link_token(token)


def test_ensure_email_matches_is_for_the_link_form(invitations):
    invitation, _ = invite(invitations)
    invitations.ensure_email_matches(invitation, "ZOE.CITOYENNE@example.ca ")
    for other in ("zoe@example.ca", "not an address", ""):
        with pytest.raises(InvitationEmailMismatch):
            invitations.ensure_email_matches(invitation, other)


def test_accept_consumes_the_invitation_once(invitations, make_user, clock):
    invitation, plain_token = invite(invitations)
    user = make_user("zoe.citoyenne@example.ca")
    accepted = invitations.accept(invitation.id, user.id)
    assert accepted.accepted_at == clock()
    assert accepted.accepted_user_id == user.id
    assert accepted.state_at(clock()) == InvitationState.ACCEPTED
    with pytest.raises(InvitationAlreadyUsed):
        invitations.accept(invitation.id, user.id)
    with pytest.raises(InvitationAlreadyUsed):
        invitations.find_by_link_token(plain_token)


def test_accept_refuses_expired_revoked_and_unknown_invitations(invitations, make_user, clock):
    user = make_user()
    expired, _ = invite(invitations, email="a@example.ca")
    revoked, _ = invite(invitations, email="b@example.ca")
    invitations.revoke(revoked.id)
    clock.advance(seconds=14 * DAY)
    with pytest.raises(InvitationExpired):
        invitations.accept(expired.id, user.id)
    with pytest.raises(InvitationRevoked):
        invitations.accept(revoked.id, user.id)
    with pytest.raises(InvitationNotFound):
        invitations.accept(99999, user.id)


def test_two_racing_accepts_get_exactly_one_success(app, ctx, make_user):
    """Two sessions (two workers) accept one invitation at once: the conditional UPDATE lets
    exactly one through."""
    invitations = InvitationService(db.session, ctx.settings, ctx.clock, ctx.hasher)
    invitation, _ = invite(invitations)
    first = make_user("one@example.ca")
    second = make_user("two@example.ca")
    db.session.commit()
    ids = {"invitation": invitation.id, "users": [first.id, second.id]}
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def register(user_id: int) -> None:
        with app.app_context():
            service = InvitationService(db.session, ctx.settings, ctx.clock, ctx.hasher)
            service.get(ids["invitation"])  # each worker read it as pending first
            barrier.wait()
            try:
                service.accept(ids["invitation"], user_id)
                db.session.commit()
                outcomes.append("accepted")
            except InvitationAlreadyUsed:
                db.session.rollback()
                outcomes.append("already used")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=register, args=(user_id,)) for user_id in ids["users"]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["accepted", "already used"]
    db.session.expire_all()
    stored = db.session.get(Invitation, ids["invitation"])
    assert stored.accepted_user_id in ids["users"]


def test_revoke_stops_the_link_and_is_idempotent(invitations, clock):
    invitation, plain_token = invite(invitations)
    revoked = invitations.revoke(invitation.id)
    assert revoked.revoked_at == clock()
    assert revoked.state_at(clock()) == InvitationState.REVOKED
    with pytest.raises(InvitationRevoked):
        invitations.find_by_link_token(plain_token)
    clock.advance(seconds=60)
    assert invitations.revoke(invitation.id).revoked_at == revoked.revoked_at


def test_an_accepted_invitation_cannot_be_revoked(invitations, make_user):
    invitation, _ = invite(invitations)
    invitations.accept(invitation.id, make_user().id)
    with pytest.raises(InvitationAlreadyUsed):
        invitations.revoke(invitation.id)


def test_revoked_code_answers_revoked_only_with_the_right_address(invitations):
    invitation, plain_code = invite(invitations, kind="code")
    invitations.revoke(invitation.id)
    with pytest.raises(InvitationRevoked):
        invitations.find_by_code(plain_code, "zoe.citoyenne@example.ca")
    with pytest.raises(InvitationNotFound):
        invitations.find_by_code(plain_code, "other@example.ca")


@pytest.mark.parametrize("kind", ["link", "code"])
def test_resend_replaces_the_secret_and_restarts_the_period(invitations, clock, kind):
    invitation, old_secret = invite(invitations, kind=kind)
    clock.advance(seconds=20 * DAY)  # expired
    resent, new_secret = invitations.resend(invitation.id)
    assert new_secret != old_secret
    assert (resent.expires_at - clock()).total_seconds() == 14 * DAY
    assert resent.state_at(clock()) == InvitationState.PENDING
    find = (
        invitations.find_by_link_token
        if kind == "link"
        else (lambda secret: invitations.find_by_code(secret, "zoe.citoyenne@example.ca"))
    )
    assert find(new_secret).id == invitation.id
    with pytest.raises(InvitationNotFound):
        find(old_secret)


def test_resend_refuses_accepted_and_revoked_invitations(invitations, make_user):
    accepted, _ = invite(invitations, email="a@example.ca")
    invitations.accept(accepted.id, make_user().id)
    revoked, _ = invite(invitations, email="b@example.ca")
    invitations.revoke(revoked.id)
    with pytest.raises(InvitationAlreadyUsed):
        invitations.resend(accepted.id)
    with pytest.raises(InvitationRevoked):
        invitations.resend(revoked.id)
    with pytest.raises(InvitationNotFound):
        invitations.resend(12345)


def test_a_new_invitation_from_the_same_creator_revokes_the_pending_one(invitations, clock):
    first, first_token = invite(invitations)
    second, second_token = invite(invitations, email="ZOE.CITOYENNE@example.ca")
    db.session.expire_all()
    assert first.state_at(clock()) == InvitationState.REVOKED
    assert invitations.find_by_link_token(second_token).id == second.id
    with pytest.raises(InvitationRevoked):
        invitations.find_by_link_token(first_token)


def test_invitations_from_different_creators_stay_independent(invitations, clock):
    school, _ = invite(invitations, created_by_kind="client", created_by_id="school", client_id="school")
    other, _ = invite(invitations, created_by_kind="client", created_by_id="college", client_id="college")
    db.session.expire_all()
    assert school.state_at(clock()) == InvitationState.PENDING
    assert other.state_at(clock()) == InvitationState.PENDING


def test_an_address_with_an_account_is_still_invited(invitations, make_user):
    """Refusing would tell the calling relying party that the address is registered."""
    make_user("zoe.citoyenne@example.ca")
    invitation, plain_token = invite(invitations)
    context = email_context(db.session, invitations.settings, invitation, plain_token)
    assert context["has_account"] is True
    assert plain_token not in str(context)
    assert context["signin_url"].endswith("/account")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("email", "not an address"),
        ("email", "a@b.c\r\nBcc: x@y.z"),
        ("email", None),
        ("kind", "carrier pigeon"),
        ("locale", "de"),
        ("given_name", "x" * 201),
        ("family_name", "Citoyenne\r\nBcc: x@y.z"),
        ("inviter_name", "   "),
        ("inviter_name", "x" * 201),
        ("purpose", "y" * 501),
        # Shown in the email: a bidi override, a zero-width character or a line separator
        # could disguise the name or the purpose (issue 9, item 7).
        ("inviter_name", "\u202eeriaanigamI elocÉ"),
        ("given_name", "Zo\u200bé"),
        ("purpose", "Inscription\u2028Bcc"),
        ("family_name", "Citoyenne\u2066"),
        ("created_by_kind", "robot"),
        ("created_by_id", ""),
    ],
)
def test_malformed_values_are_refused_naming_the_field(invitations, field, value):
    values = {
        "email": "zoe@example.ca",
        "kind": "link",
        "inviter_name": "École Imaginaire",
        "created_by_kind": "operator",
        "created_by_id": "ops",
        field: value,
    }
    with pytest.raises(InvalidInvitation) as raised:
        invitations.create(**values)
    assert raised.value.field == field
    assert db.session.scalar(select(Invitation)) is None


def test_list_filters_by_state_address_and_creator(invitations, make_user, clock):
    pending, _ = invite(invitations, email="p@example.ca")
    accepted, _ = invite(invitations, email="a@example.ca")
    invitations.accept(accepted.id, make_user().id)
    revoked, _ = invite(invitations, email="r@example.ca")
    invitations.revoke(revoked.id)
    clock.advance(seconds=DAY)
    expired, _ = invite(invitations, email="e@example.ca", created_by_kind="client", created_by_id="rp")
    clock.advance(seconds=13 * DAY + 1)  # the first three are past 14 days; "expired" is not yet
    later, _ = invite(invitations, email="l@example.ca")
    clock.advance(seconds=DAY)

    def ids(**filters):
        return [invitation.id for invitation in invitations.list(**filters)]

    assert ids() == [later.id, expired.id, revoked.id, accepted.id, pending.id]
    assert ids(state="pending") == [later.id]
    assert ids(state="expired") == [expired.id, pending.id]
    assert ids(state="accepted") == [accepted.id]
    assert ids(state="revoked") == [revoked.id]
    assert ids(email="P@Example.ca") == [pending.id]
    assert ids(email="not an address") == []
    assert ids(created_by_kind="client", created_by_id="rp") == [expired.id]
    assert ids(limit=2) == [later.id, expired.id]
    with pytest.raises(InvalidInvitation):
        invitations.list(state="lost")


def test_get_for_client_hides_other_creators_invitations(invitations):
    mine, _ = invite(invitations, created_by_kind="client", created_by_id="rp-1", client_id="rp-1")
    operator, _ = invite(invitations, email="o@example.ca")
    assert invitations.get_for_client(mine.public_id, "rp-1").id == mine.id
    for public_id in (mine.public_id, operator.public_id, "nope", "", "x" * 5000, str(mine.id), "\x00", "a b"):
        with pytest.raises(InvitationNotFound):
            invitations.get_for_client(public_id, "rp-2")
    with pytest.raises(InvitationNotFound):
        invitations.get_for_client(operator.public_id, "operator")


def test_public_ids_are_random_and_distinct(invitations):
    first, _ = invite(invitations, email="a@example.ca")
    second, _ = invite(invitations, email="b@example.ca")
    assert first.public_id != second.public_id
    assert len(first.public_id) == 16


def test_third_party_login_url_follows_the_inviting_client(invitations, app, ctx):
    from tests.oidc_support import make_client

    rp = make_client(app, initiate_login_uri="https://rp.example/login?from=invite")
    db.session.expire_all()
    operator, _ = invite(invitations)
    invited, _ = invite(invitations, created_by_kind="client", created_by_id=rp.client_id, client_id=rp.client_id)
    assert third_party_login_url(db.session, invitations.settings, operator) is None
    url = third_party_login_url(db.session, invitations.settings, invited)
    assert url.startswith("https://rp.example/login?from=invite&iss=")
    assert "login_hint=zoe.citoyenne%40example.ca" in url
    assert "iss=http%3A%2F%2F127.0.0.1%3A5000" in url


def test_send_queues_the_link_email_and_counts_it(invitations, ctx, clock):
    invitation, plain_token = invite(invitations, locale="en")
    mail = MailService(db.session, ctx.settings, ctx.clock, ctx.secret_box)
    message = invitations.send(invitation, plain_token, mail)
    assert message.template == "invitation-link"
    assert message.locale == "en"
    assert message.user_id is None
    context = mail.context_of(message)
    assert context["signup_url"] == invitation_link(ctx.settings, plain_token)
    assert context["signup_url"] == ctx.settings.OIDC_ISSUER + "/register/invitation/" + plain_token
    assert context["has_account"] is False
    assert invitation.send_count == 1
    assert invitation.last_sent_at == clock()
    # The secret waits in the outbox only encrypted.
    stored = db.session.scalar(select(OutboxMessage.context_encrypted))
    assert plain_token.encode() not in stored


def test_send_of_a_code_invitation_shows_the_code_and_where_to_type_it(invitations, ctx):
    invitation, plain_code = invite(invitations, kind="code")
    mail = MailService(db.session, ctx.settings, ctx.clock, ctx.secret_box)
    context = mail.context_of(invitations.send(invitation, plain_code, mail))
    assert context["code"] == plain_code
    assert context["code_url"] == ctx.settings.OIDC_ISSUER + "/register/code"
    assert "signup_url" not in context
