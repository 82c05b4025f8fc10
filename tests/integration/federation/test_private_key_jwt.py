"""Passerelle authenticates to a partner with private_key_jwt instead of a shared secret."""

from __future__ import annotations

import json

from joserfc.jwk import ECKey

from idp.extensions import db
from tests.conftest import build_app
from tests.federation_support import write_partners_file
from tests.integration.federation.test_broker import partner_signin
from tests.oidc_support import make_client


def test_sign_in_with_a_partner_that_knows_passerelle_by_its_public_key(tmp_path, database_uri, clock, partner):
    key = ECKey.generate_key("P-256", private=True)
    public = {**key.as_dict(private=False), "kid": key.thumbprint(), "alg": "ES256", "use": "sig"}
    registered = make_client(
        partner.app, name="Passerelle (clé)", redirect_uris=["http://127.0.0.1:5000/signin/partners/callback"],
        auth_method="private_key_jwt", jwks={"keys": [public]},
    )
    key_path = tmp_path / "passerelle.jwk"
    key_path.write_text(json.dumps(key.as_dict(private=True)))
    partner.client_id, partner.client_secret = registered.client_id, "unused"
    path = write_partners_file(tmp_path / "partners.toml", partner)
    path.write_text(path.read_text().replace('client_secret = "unused"', f'private_key_file = "{key_path}"'))
    broker = build_app(database_uri, clock, PARTNERS_FILE=str(path))
    try:
        rp = make_client(broker)
        _, _, _, done = partner_signin(broker.test_client(), partner, rp)
        assert done.status_code == 303 and done.headers["Location"].startswith(rp.redirect_uri)
    finally:
        with broker.app_context():
            db.session.remove()
            db.engine.dispose()
