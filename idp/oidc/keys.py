"""Signing keys: kept in the database (private parts encrypted), created on first use,
rotated by `idp keys rotate`, and published in the JWKS while any token they signed lives.

A rotation publishes the new key at once but signs with it only after
OIDC_KEY_PUBLISH_AHEAD seconds, so relying parties that cache the JWKS see the key before
the first token it signs (security-checklist R6). The previous key stays published until
every ID token it signed has expired.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from joserfc.jwk import ECKey, RSAKey
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from idp.clock import Clock
from idp.config import Settings
from idp.oidc.models import SigningKey
from idp.security.encryption import SecretBox

SUPPORTED_ALGS = ("ES256", "RS256")


def entity_tag(body: bytes) -> str:
    """A strong ETag for a document's bytes (RFC 9110 §8.8.3): the same bytes give the same
    tag on every worker and host, so a cache's If-None-Match holds wherever it lands."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def generate_key(alg: str) -> ECKey | RSAKey:
    if alg == "ES256":
        return ECKey.generate_key("P-256", private=True)
    if alg == "RS256":
        return RSAKey.generate_key(2048, private=True)
    raise ValueError(f"unsupported signing algorithm {alg!r}")


@dataclass(frozen=True)
class ActiveKeys:
    """What one worker needs to sign and publish, read from the database at once."""

    signing: dict[str, tuple[str, ECKey | RSAKey]]  # alg -> (kid, private key)
    published: dict[str, ECKey | RSAKey]  # kid -> public key
    jwks: dict
    loaded_at: float
    jwks_body: bytes = b""
    jwks_etag: str = ""  # entity_tag(jwks_body): changes with the published keys


class KeyService:
    def __init__(self, session, settings: Settings, clock: Clock, secret_box: SecretBox):
        self.session = session
        self.settings = settings
        self.clock = clock
        self.secret_box = secret_box

    def list(self) -> list[SigningKey]:
        return list(self.session.scalars(select(SigningKey).order_by(SigningKey.alg, SigningKey.created_at)))

    def ensure_keys(self) -> None:
        """Create the first key for each algorithm that has none (idempotent, race-safe)."""
        for alg in SUPPORTED_ALGS:
            if self.session.scalar(select(func.count()).select_from(SigningKey).where(SigningKey.alg == alg)):
                continue
            self._add(alg, activates_at=self.clock(), generation=1)

    def rotate(self, publish_ahead: int | None = None) -> list[SigningKey]:
        """Publish a new key per algorithm; it signs after publish_ahead seconds.

        The key it replaces stays published until every ID token it may sign has expired.
        """
        ahead = timedelta(seconds=self.settings.OIDC_KEY_PUBLISH_AHEAD if publish_ahead is None else publish_ahead)
        now = self.clock()
        activates_at = now + ahead
        retire_after = activates_at + timedelta(seconds=self.settings.OIDC_ID_TOKEN_TTL + 2 * self.settings.OIDC_KEY_CACHE_TTL)
        created = []
        for alg in SUPPORTED_ALGS:
            current = self.session.scalars(
                select(SigningKey).where(SigningKey.alg == alg, SigningKey.superseded_at.is_(None))
            ).all()
            generation = (self.session.scalar(select(func.max(SigningKey.generation)).where(SigningKey.alg == alg)) or 0) + 1
            for key in current:
                key.superseded_at = activates_at
                key.retire_after = retire_after
            created.append(self._add(alg, activates_at=activates_at, generation=generation))
        self.session.flush()
        return created

    def load_active(self, imported: dict[str, ECKey | RSAKey] | None = None) -> ActiveKeys:
        """The keys that sign now (newest active per algorithm) and every key still published.

        imported holds private keys already decrypted by kid: a kid's key never changes, so
        a reload only decrypts and imports new ones (an RSA import costs milliseconds).
        """
        imported = {} if imported is None else imported
        now = self.clock()
        # The kid breaks ties, so every host lists the same keys in the same order: the same
        # JWKS bytes and ETag everywhere.
        rows = self.session.scalars(select(SigningKey).order_by(SigningKey.activates_at, SigningKey.kid)).all()
        signing: dict[str, tuple[str, ECKey | RSAKey]] = {}
        published: dict[str, ECKey | RSAKey] = {}
        public_jwks = []
        for row in rows:
            if row.retire_after is not None and row.retire_after <= now:
                continue
            published[row.kid] = _import_public(row.public_jwk)
            public_jwks.append(row.public_jwk)
            if row.activates_at <= now:
                # Later rows win: ordered by activation, the newest active key signs.
                if row.kid not in imported:
                    imported[row.kid] = self._import_private(row)
                signing[row.alg] = (row.kid, imported[row.kid])
        body = json.dumps({"keys": public_jwks}).encode()
        return ActiveKeys(signing=signing, published=published, jwks={"keys": public_jwks}, loaded_at=time.monotonic(),
                          jwks_body=body, jwks_etag=entity_tag(body))

    def _add(self, alg: str, activates_at: datetime, generation: int) -> SigningKey:
        key = generate_key(alg)
        kid = key.thumbprint()
        public_jwk = {**key.as_dict(private=False), "kid": kid, "alg": alg, "use": "sig"}
        row = SigningKey(
            kid=kid,
            alg=alg,
            generation=generation,
            public_jwk=public_jwk,
            private_key_encrypted=self.secret_box.encrypt(key.as_pem(private=True)),
            created_at=self.clock(),
            activates_at=activates_at,
        )
        try:
            with self.session.begin_nested():
                self.session.add(row)
        except IntegrityError:
            # Another worker created this generation first: theirs is as good as ours.
            return self.session.scalars(
                select(SigningKey).where(SigningKey.alg == alg, SigningKey.generation == generation)
            ).one()
        return row

    def _import_private(self, row: SigningKey) -> ECKey | RSAKey:
        pem = self.secret_box.decrypt(row.private_key_encrypted)
        key_class = ECKey if row.alg == "ES256" else RSAKey
        return key_class.import_key(pem, {"kid": row.kid, "alg": row.alg, "use": "sig"})


def key_state(key: SigningKey, now: datetime) -> str:
    """Where a key is in its life: "published" (the next key: in the JWKS, not signing
    yet), "signing", "verifying" (superseded: still in the JWKS for the tokens it signed)
    or "retired" (out of the JWKS)."""
    if key.retire_after is not None and key.retire_after <= now:
        return "retired"
    if key.activates_at > now:
        return "published"
    if key.superseded_at is not None and key.superseded_at <= now:
        return "verifying"
    return "signing"


def _import_public(jwk: dict) -> ECKey | RSAKey:
    key_class = ECKey if jwk["kty"] == "EC" else RSAKey
    return key_class.import_key(jwk)
