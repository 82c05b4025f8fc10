"""The relying-party pages' forms (shape only), and the translated message for each rule
of client_rules.py a registration can break: the rules raise InvalidClientMetadata with an
English sentence for the CLI and the rule's code (ClientRule); the console shows the
operator the same refusal in their language, chosen by the code, next to the field concerned."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length

from idp.console.forms import reason_field
from idp.oidc.client_rules import (
    API_SCOPES,
    DEFAULT_SCOPE,
    MAX_NAME_LENGTH,
    OPERATOR_SCOPES,
    SUPPORTED_SCOPES,
)
from idp.oidc.errors import ClientRule, InvalidClientMetadata

GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")
AUTH_METHOD_CHOICES = ("client_secret_basic", "client_secret_post", "private_key_jwt", "none")
OVERLAP_CHOICES = ("0", "3600", "86400", "604800", "2592000")  # seconds: none, 1 hour, 1 day, 7 days, 30 days
TOKEN_LIFETIMES = ("3600", "86400", "604800", "2592000")  # 1 hour, 1 day, 7 days, 30 days
BLANK_NAME = _l("Give the relying party a name of at most 200 characters.")


def lines(text: str | None) -> list[str]:
    """One URI a line; blank lines dropped, each line kept byte-exact but its line break."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def optional(text: str | None) -> str | None:
    return (text or "").strip() or None


class ClientForm(FlaskForm):
    """What both registering and editing change (the policies of `idp clients update`)."""

    name = StringField(_l("Name shown to people"),
                       validators=[InputRequired(message=BLANK_NAME), Length(max=MAX_NAME_LENGTH, message=BLANK_NAME)])
    redirect_uris = TextAreaField(_l("Redirect URIs, one a line"))
    post_logout_redirect_uris = TextAreaField(_l("Post-logout redirect URIs, one a line"))
    scope = StringField(_l("Scopes the client may ask for"), default=DEFAULT_SCOPE)
    require_consent = BooleanField(_l("Ask people to consent before sharing their data"))
    min_acr = StringField(_l("Lowest assurance level accepted"), default="")
    require_pkce = BooleanField(_l("Require PKCE on every authorization request"), default=True)
    require_pushed_authorization_requests = BooleanField(_l("Require pushed authorization requests (PAR)"))
    require_signed_request_object = BooleanField(_l("Require signed request objects"))
    allow_unsigned_request_objects = BooleanField(_l("Accept unsigned request objects"))
    dpop_bound_access_tokens = BooleanField(_l("Require DPoP: every token is bound to the client's key"))
    dpop_require_nonce = BooleanField(_l("Require a nonce from Passerelle in DPoP proofs"))
    fapi2 = BooleanField(_l("Apply the fapi2 profile"))
    jwks_uri = StringField(_l("Where the client publishes its public keys (jwks_uri)"))
    initiate_login_uri = StringField(_l("Where invited people go after registering (initiate_login_uri)"))
    backchannel_logout_uri = StringField(_l("Back-channel logout URI"))
    backchannel_logout_session_required = BooleanField(_l("The client needs sid in logout tokens"))
    frontchannel_logout_uri = StringField(_l("Front-channel logout URI"))
    frontchannel_logout_session_required = BooleanField(_l("Add iss and sid to the front-channel logout URI"))
    reason = reason_field()


class NewClientForm(ClientForm):
    """Registering also sets what cannot change afterwards (as `idp clients create`)."""

    grant_authorization_code = BooleanField(_l("Sign-ins (authorization code)"), default=True)
    grant_refresh_token = BooleanField(_l("Refresh tokens"), default=True)
    grant_client_credentials = BooleanField(_l("The client's own calls (client credentials)"))
    auth_method = StringField(_l("How the client authenticates at the token endpoint"), default="client_secret_basic")
    subject_type = StringField(_l("Subject identifiers"), default="pairwise")
    sector_identifier = StringField(_l("Sector identifier (host), when the redirect URIs span several hosts"))
    jwks = TextAreaField(_l("Public keys as a JSON Web Key Set (private_key_jwt, signed request objects)"))
    # The client ID this form registers, signed, made with the page: a replayed POST (a
    # reload, a double click) finds it taken and registers nothing (client_views.new_client).
    registration = HiddenField()

    def grant_types(self) -> list[str]:
        return [grant for grant in GRANT_TYPES if getattr(self, f"grant_{grant}").data]


class RotateSecretForm(FlaskForm):
    overlap = StringField(_l("How long may the current secret keep working?"), default="86400")
    reason = reason_field()
    # The form's one-time id, signed, made with the page: sent again (a reload, a double
    # click), it rotates nothing (client_views.rotate_client_secret, idp.console.shown_once).
    once = HiddenField()


class InitialTokenForm(FlaskForm):
    expires_in = StringField(_l("How long may it be used?"), default="86400")
    reason = reason_field()
    once = HiddenField()  # as RotateSecretForm's: one token per form (client_views.initial_tokens)


def _uri_message(what):
    return _l("Check the %(what)s: each must be an exact https address (http only on 127.0.0.1, localhost or "
              "[::1]), without wildcard, fragment, spaces, user information or dot segments, 2,048 characters "
              "at most.", what=what)


JWKS_MESSAGE = _l("Give the client's public keys: a JSON Web Key Set of public keys only (private_key_jwt needs "
                  "them, or a jwks_uri).")
NO_SECRET = _l("This client has no secret to rotate: it is public or authenticates with private_key_jwt.")
# Each rule's field and message, by the rule's code (never by its English sentence, which is
# the CLI's and dynamic registration's). Every ClientRule has one (tests/unit/console).
RULE_MESSAGES = {
    ClientRule.NAME: ("name", BLANK_NAME),
    ClientRule.REDIRECT_URI: ("redirect_uris", _uri_message(_l("redirect URIs"))),
    ClientRule.POST_LOGOUT_REDIRECT_URI: ("post_logout_redirect_uris", _uri_message(_l("post-logout redirect URIs"))),
    ClientRule.JWKS_URI: ("jwks_uri", _uri_message(_l("jwks_uri"))),
    ClientRule.INITIATE_LOGIN_URI: ("initiate_login_uri", _uri_message(_l("initiate_login_uri"))),
    ClientRule.BACKCHANNEL_LOGOUT_URI: ("backchannel_logout_uri", _uri_message(_l("back-channel logout URI"))),
    ClientRule.FRONTCHANNEL_LOGOUT_URI: ("frontchannel_logout_uri", _uri_message(_l("front-channel logout URI"))),
    ClientRule.GRANT_TYPE_MISSING: ("grant_authorization_code", _l("Choose at least one grant type.")),
    ClientRule.GRANT_TYPE_UNSUPPORTED: ("grant_authorization_code", _l("Choose among the grant types offered.")),
    ClientRule.REFRESH_WITHOUT_CODE: ("grant_refresh_token",
                                      _l("Refresh tokens come from sign-ins: choose sign-ins too.")),
    ClientRule.CODE_WITHOUT_REDIRECT_URI: ("redirect_uris", _l("Sign-ins need at least one redirect URI.")),
    ClientRule.AUTH_METHOD_UNSUPPORTED: ("auth_method", _l("Choose one of the authentication methods offered.")),
    ClientRule.AUTH_METHOD_PUBLIC: ("auth_method", _l("Public clients, and only they, authenticate with none.")),
    ClientRule.PUBLIC_CLIENT_CREDENTIALS: ("auth_method", _l(
        "A public client cannot make its own calls (client credentials): it cannot prove who it is.")),
    ClientRule.PUBLIC_PKCE: ("require_pkce", _l("Public clients always use PKCE.")),
    ClientRule.PROFILE_UNSUPPORTED: ("fapi2", _l("The only profile offered is fapi2.")),
    ClientRule.FAPI2: ("fapi2", _l(
        "The fapi2 profile needs private_key_jwt, PKCE, pushed and signed authorization requests, no unsigned "
        "request objects, and DPoP.")),
    ClientRule.KEYS_BOTH: ("jwks_uri", _l("Give the client's public keys as a JWKS or a jwks_uri, not both.")),
    ClientRule.JWKS_MISSING: ("jwks", JWKS_MESSAGE),
    ClientRule.JWKS_INVALID: ("jwks", JWKS_MESSAGE),
    ClientRule.JWKS_PRIVATE: ("jwks", _l(
        "The JSON Web Key Set must hold public keys only: remove every private or symmetric key.")),
    ClientRule.SIGNED_AND_UNSIGNED: ("allow_unsigned_request_objects",
                                     _l("A client that must sign its request objects cannot be allowed unsigned ones.")),
    ClientRule.SIGNED_WITHOUT_KEYS: ("require_signed_request_object",
                                     _l("Signed request objects need the client's public keys: a JWKS or a jwks_uri.")),
    ClientRule.SCOPE_WITHOUT_OPENID: ("scope", _l("The scopes must include openid.")),
    ClientRule.SCOPE_UNSUPPORTED: ("scope", _l("Use only these scopes: %(choices)s.",
                                               choices=" ".join(SUPPORTED_SCOPES + OPERATOR_SCOPES + API_SCOPES))),
    ClientRule.SECTOR_INVALID: ("sector_identifier",
                                _l("The sector identifier is a host name such as portal.example.ca.")),
    ClientRule.SECTOR_NEEDED: ("sector_identifier", _l("The redirect URIs are on several hosts: give a sector identifier.")),
    ClientRule.SECTOR_LOCKED: ("redirect_uris", _l(
        "The redirect URIs must stay on the client's sector host, so that the identifiers people have with it "
        "do not change. Register a new client for another host.")),
    ClientRule.SUBJECT_TYPE: ("subject_type", _l("Choose pairwise or public identifiers.")),
    ClientRule.ID_TOKEN_ALG: ("name", _l("ID tokens are signed with ES256 or RS256: check OIDC_DEFAULT_ID_TOKEN_ALG.")),
    ClientRule.MIN_ACR: ("min_acr", _l("Choose one of the assurance levels offered.")),
    ClientRule.NO_SECRET: ("overlap", NO_SECRET),
    ClientRule.SECRET_OVERLAP: ("overlap", _l("Choose one of the overlaps offered.")),
    ClientRule.CLIENT_ID_INVALID: ("name", _l("A client ID has 1 to 64 characters among A-Z a-z 0-9 - _.")),
    ClientRule.CLIENT_ID_TAKEN: ("name", _l("This client ID is already registered.")),
    ClientRule.INITIAL_TOKEN_LIFETIME: ("expires_in", _l("Choose one of the lifetimes offered.")),
    ClientRule.MALFORMED: ("name", _l("The relying party's metadata is not in the expected form.")),
    ClientRule.CLIENT_ID_MISMATCH: ("name", _l("The client ID sent does not name this relying party.")),
    ClientRule.UPDATE_FIELD: ("name", _l("This setting cannot change: register a new relying party.")),
    ClientRule.DYNAMIC_UNSUPPORTED: ("name", _l("Only an operator can register a relying party with this setting.")),
}
# Where a message goes when its field is not on the form (the edit form has no JWKS field).
FALLBACK_FIELDS = {"jwks": ("jwks_uri",)}


def rule_message(error: InvalidClientMetadata, fields) -> tuple[str, object]:
    """The form field a refused registration concerns, and the translated message; `fields`
    are the form's field names."""
    field, message = RULE_MESSAGES[error.rule]
    candidates = (field, *FALLBACK_FIELDS.get(field, ()), "name", "reason")
    return next(name for name in candidates if name in fields), message
