"""The ID token's claims, checked after its signature (OIDC Core §3.1.3.7)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from idp.federation.errors import InvalidPartnerResponse
from idp.federation.partners import Partner
from idp.federation.upstream import LEEWAY, PartnerClient, PartnerMetadataCache

NOW = datetime(2026, 12, 3, 19, 0, tzinfo=UTC)
PARTNER = Partner(id="banque", names={"fr": "Banque", "en": "Bank"}, issuer="https://auth.banque.example",
                  client_id="passerelle", client_secret="s")


def claims(**changes):
    base = {"iss": PARTNER.issuer, "aud": "passerelle", "sub": "abc", "nonce": "n0nce",
            "iat": int(NOW.timestamp()), "exp": int(NOW.timestamp()) + 300}
    base.update(changes)
    return {key: value for key, value in base.items() if value is not None}


def check(values):
    PartnerClient(PARTNER, PartnerMetadataCache(60, 10), 1)._check_claims(values, nonce="n0nce", now=NOW)


def test_good_claims_pass():
    check(claims())
    check(claims(aud=["passerelle", "other"], azp="passerelle"))
    check(claims(exp=int(NOW.timestamp()) - LEEWAY + 1))  # within the clock leeway


@pytest.mark.parametrize(
    "bad",
    [
        {"iss": "https://other.example"},
        {"iss": None},
        {"aud": "other"},
        {"aud": ["other"]},
        {"aud": ["passerelle", "other"]},  # several audiences need azp
        {"azp": "other"},
        {"exp": int(NOW.timestamp()) - LEEWAY},
        {"exp": None},
        {"exp": "soon"},
        {"iat": int(NOW.timestamp()) + LEEWAY + 1},
        {"iat": True},
        {"nonce": "other"},
        {"nonce": None},
        {"sub": None},
        {"sub": ""},
        {"sub": "x" * 256},
    ],
)
def test_each_wrong_claim_is_refused(bad):
    with pytest.raises(InvalidPartnerResponse):
        check(claims(**bad))

