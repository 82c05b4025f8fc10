"""`idp demo`: the development demo client, user and organization that `make run` prints."""

from __future__ import annotations

import secrets

import click

from idp.cli.base import in_app, json_option, print_json, services
from idp.cli.clients import client_service
from idp.cli.users import account_service

DEMO_CLIENT_ID = "demo-rp"
DEMO_RP_URL = "http://127.0.0.1:5001"
DEMO_USER_EMAIL = "demo@passerelle.test"
# The demo designated learning institution (issue 11), whose primary user is the demo user.
DEMO_DLI = {"kind": "dli", "number": "O123456789012", "name_fr": "Collège Imaginaire", "name_en": "Imaginary College"}
DEMO_OPERATOR = "idp demo"
# The institution portal (issue 12, clients/institution_portal), a relying party that asks for
# the organization scope and two-factor.
PORTAL_CLIENT_ID = "institution-portal"
PORTAL_URL = "http://127.0.0.1:5003"
# organizations: its client_credentials token reads the demo DLI's members and invites for
# its primary user (clients/institution_portal/organizations_api.py).
PORTAL_SCOPE = "openid profile email organization organizations"
PORTAL_GRANT_TYPES = ["authorization_code", "refresh_token", "client_credentials"]
# The document portal (issue 13, clients/document_portal): learners and the staff of issuing
# organizations sign in there; its client_credentials token calls the invitations API.
DOCUMENT_PORTAL_CLIENT_ID = "document-portal"
DOCUMENT_PORTAL_URL = "http://127.0.0.1:5004"
DOCUMENT_PORTAL_SCOPE = "openid profile email organization invitations"
# The demo issuing organization. Organization accounts are dedicated (an account belongs to
# at most one organization, and the demo user is the demo DLI's primary), so its primary
# user is a demo staff account of its own; the demo user receives its document as a learner.
DEMO_ISSUER = {"kind": "issuer", "number": "E000000000001", "name_fr": "École Imaginaire",
               "name_en": "Imaginary School"}
DEMO_STAFF_EMAIL = "registraire@ecole-imaginaire.test"


def ensure_demo_person(context, email: str, given_name: str, family_name: str) -> str:
    """Create the demo person, or give them a fresh password, so the printed one is always
    the one that works. Returns that password; the caller commits."""
    password = secrets.token_urlsafe(12)
    accounts = account_service()
    person = accounts.find_by_email(email)
    if person is None:
        accounts.create_user(email, given_name, family_name, password)
    else:
        person.password_hash = context.passwords.hash(password)
        person.updated_at = context.clock()
    return password


def ensure_demo_organization(email: str):
    """The demo DLI, created if missing, with the demo person as its primary user (made a
    member directly: OrganizationService.seed_member, for demo data only). Returns the
    organization and what became of the demo person there, in words; the caller commits."""
    from idp.cli.orgs import organization_service
    from idp.orgs.errors import OrganizationNotFound, OrgError

    service = organization_service()
    try:
        organization = service.get_by_number(DEMO_DLI["kind"], DEMO_DLI["number"])
    except OrganizationNotFound:
        organization = service.create(**DEMO_DLI, by_operator=DEMO_OPERATOR)
    person = account_service().find_by_email(email)
    try:
        service.seed_member(organization.id, person.id, "primary", by_operator=DEMO_OPERATOR)
    except OrgError as error:
        # Someone else became its primary in this development database: leave it as it is.
        return organization, f"the demo user is not its primary user: {type(error).__name__}"
    return organization, "primary user: the demo user"


def ensure_portal_client(clients_service) -> str:
    """The institution portal's client, created if missing, its scope set again; returns a
    fresh secret. The caller commits."""
    return ensure_client(clients_service, PORTAL_CLIENT_ID, "Portail pour les EED", PORTAL_URL, PORTAL_SCOPE)


def ensure_document_portal_client(clients_service) -> str:
    """The document portal's client (issue 13); returns a fresh secret. The caller commits."""
    return ensure_client(clients_service, DOCUMENT_PORTAL_CLIENT_ID, "Portail de documents", DOCUMENT_PORTAL_URL,
                         DOCUMENT_PORTAL_SCOPE)


def ensure_client(clients_service, client_id: str, name: str, url: str, scope: str) -> str:
    """A portal's client, created if missing (redirect URI {url}/callback, post-logout
    {url}/signed-out, client_credentials for its API token), its scope and grant types set
    again; returns a fresh secret. The caller commits."""
    from idp.oidc.errors import ClientNotFound

    try:
        clients_service.get(client_id)
    except ClientNotFound:
        clients_service.create(name=name, client_id=client_id, scope=scope, redirect_uris=[f"{url}/callback"],
                               grant_types=PORTAL_GRANT_TYPES, post_logout_redirect_uris=[f"{url}/signed-out"])
    else:
        clients_service.update(client_id, scope=scope)
        # A client registered by an earlier `idp demo` lacks client_credentials (demo data only).
        clients_service.get(client_id).grant_types = PORTAL_GRANT_TYPES
    register_backchannel_logout(clients_service, client_id, url)
    return clients_service.rotate_secret(client_id)


def register_backchannel_logout(clients_service, client_id: str, url: str) -> None:
    """Single sign-out (issue 14): the app's POST /backchannel-logout hears when a session
    it signed into ends (`idp worker` sends the logout tokens)."""
    clients_service.update(client_id, backchannel_logout_uri=f"{url}/backchannel-logout",
                           backchannel_logout_session_required=True)


def ensure_demo_issuer(context) -> tuple[object, str]:
    """École Imaginaire (kind issuer) with its demo staff account as primary user; returns the
    organization and the staff account's fresh password. The caller commits."""
    from idp.cli.orgs import organization_service
    from idp.orgs.errors import OrganizationNotFound, OrgError

    password = ensure_demo_person(context, DEMO_STAFF_EMAIL, "Camille", "Registraire")
    service = organization_service()
    try:
        organization = service.get_by_number(DEMO_ISSUER["kind"], DEMO_ISSUER["number"])
    except OrganizationNotFound:
        organization = service.create(**DEMO_ISSUER, by_operator=DEMO_OPERATOR)
    try:
        service.seed_member(organization.id, account_service().find_by_email(DEMO_STAFF_EMAIL).id, "primary",
                            by_operator=DEMO_OPERATOR)
    except OrgError:
        pass  # someone else became its primary in this development database: leave it
    return organization, password


def attach_portal(organization) -> None:
    """Let the institution portal's organizations API reach the demo DLI (`idp orgs attach`)."""
    from idp.orgs.attachments import AttachmentService

    session, context = services()
    AttachmentService(session, context.clock).attach(organization, PORTAL_CLIENT_ID, by_operator=DEMO_OPERATOR)


@click.command("demo")
@json_option
@in_app
def demo(as_json: bool) -> None:
    """Development only: ensure the demo client, user and DLI, with fresh credentials each run."""
    from idp.extensions import db as database
    from idp.oidc.errors import ClientNotFound

    _, context = services()
    if context.settings.ENV == "production":
        raise click.ClickException("`idp demo` refuses to run in production: it creates known accounts")
    clients_service = client_service()
    try:
        clients_service.get(DEMO_CLIENT_ID)
    except ClientNotFound:
        clients_service.create(
            name="Demo relying party",
            redirect_uris=[f"{DEMO_RP_URL}/callback"],
            post_logout_redirect_uris=[f"{DEMO_RP_URL}/"],
            client_id=DEMO_CLIENT_ID,
        )
    scope = clients_service.get(DEMO_CLIENT_ID).scope.split()
    if "organization" not in scope:  # the operator's to grant: the demo RP shows the claim
        scope.append("organization")
        clients_service.update(DEMO_CLIENT_ID, scope=" ".join(scope))
    register_backchannel_logout(clients_service, DEMO_CLIENT_ID, DEMO_RP_URL)
    client_secret = clients_service.rotate_secret(DEMO_CLIENT_ID)
    portal_secret = ensure_portal_client(clients_service)
    password = ensure_demo_person(context, DEMO_USER_EMAIL, "Dominique", "Demo")
    organization, note = ensure_demo_organization(DEMO_USER_EMAIL)
    attach_portal(organization)
    document_portal_secret = ensure_document_portal_client(clients_service)
    issuer, staff_password = ensure_demo_issuer(context)
    database.session.commit()
    data = {
        "issuer": context.settings.OIDC_ISSUER,
        "client_id": DEMO_CLIENT_ID,
        "client_secret": client_secret,
        "redirect_uri": f"{DEMO_RP_URL}/callback",
        "scope": " ".join(scope),  # what the demo RP asks for (make run: DEMO_RP_SCOPE)
        "email": DEMO_USER_EMAIL,
        "password": password,
        "organization_id": organization.public_id,
        "organization_number": organization.number,
        "organization_name": organization.name_fr,
        "organization_name_en": organization.name_en,
        "institution_portal_url": PORTAL_URL,
        "institution_portal_client_id": PORTAL_CLIENT_ID,
        "institution_portal_client_secret": portal_secret,
        "document_portal_url": DOCUMENT_PORTAL_URL,
        "document_portal_client_id": DOCUMENT_PORTAL_CLIENT_ID,
        "document_portal_client_secret": document_portal_secret,
        "issuer_organization_id": issuer.public_id,
        "issuer_organization_number": issuer.number,
        "issuer_organization_name": issuer.name_fr,
        "issuer_organization_name_en": issuer.name_en,
        "staff_email": DEMO_STAFF_EMAIL,
        "staff_password": staff_password,
    }
    if as_json:
        print_json(data)
        return
    click.echo(f"Issuer         {data['issuer']}")
    click.echo(f"Demo client    {DEMO_CLIENT_ID} / {client_secret}  (relying party at {DEMO_RP_URL})")
    click.echo(f"Demo user      {DEMO_USER_EMAIL} / {password}")
    click.echo(f"Demo DLI       {organization.name_fr} {organization.number}  ({note})")
    click.echo(f"Portal client  {PORTAL_CLIENT_ID} / {portal_secret}  (institution portal at {PORTAL_URL})")
    click.echo(f"Documents      {DOCUMENT_PORTAL_CLIENT_ID} / {document_portal_secret}  (document portal at "
               f"{DOCUMENT_PORTAL_URL})")
    click.echo(f"Demo school    {issuer.name_fr} {issuer.number}  (staff {DEMO_STAFF_EMAIL} / {staff_password})")
