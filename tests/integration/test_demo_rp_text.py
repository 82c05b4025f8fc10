"""The demo relying party shows claims with their real characters (issue 9, item 19):
"Zoé", not "Zo\\u00e9", still escaped for HTML."""

from __future__ import annotations

from flask import render_template

from clients.demo_rp import create_app


def test_claims_are_shown_with_their_real_characters():
    app = create_app("http://127.0.0.1:5000", "demo", "secret", "http://127.0.0.1:5001/callback", secret_key="test")

    with app.test_request_context("/", headers={"Accept-Language": "fr"}):
        page = render_template(
            "clients/demo_rp/claims.html", locale="fr", other_locale="en",
            claims={"sub": "abc", "given_name": "Zoé", "family_name": "L'Écuyer <b>"}, userinfo={"sub": "abc"},
            expires_in=600, scope="openid profile", has_refresh_token=False,
        )

    assert "&#34;Zoé&#34;" in page or '"Zoé"' in page
    assert "\\u00e9" not in page and "\\u00c9" not in page
    assert "<b>" not in page  # still escaped for HTML
