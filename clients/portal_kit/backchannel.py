"""Receiving OpenID Connect Back-Channel Logout 1.0 from Passerelle (issue 14), for every
portal and the demo relying party: verify the logout token fully (§2.6), refuse a replayed
`jti`, find the local sessions it ends (by `sid`, else by `sub`), and answer 200, or 400
with an error JSON (§2.8). No Flask here: each app's view passes the form in, ends the
sessions this returns and sends the answer.

The checks, in order: a compact JWS of at most MAX_TOKEN_LENGTH; `typ` logout+jwt; an
asymmetric alg (never none or HMAC); a signature by a key of Passerelle's JWKS (fetched again
once when the kid is unknown: keys rotate); iss; aud names this client; iat not in the
future nor older than MAX_AGE; exp not passed; events holds exactly the back-channel
logout event with an object; sub or sid; no nonce; a jti never seen before.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlalchemy import String, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from clients.portal_kit.db import UTCDateTime

BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
LOGOUT_TOKEN_TYPE = "logout+jwt"
ALLOWED_ALGS = ("ES256", "RS256", "PS256", "EdDSA")
MAX_TOKEN_LENGTH = 8192
LEEWAY = timedelta(seconds=60)  # clocks differ
MAX_AGE = timedelta(minutes=10)  # a logout token older than this is refused, whatever its exp


class LogoutTokenError(Exception):
    """The token is refused; str(error) says why (for the 400's error_description)."""


class KeysUnavailable(LogoutTokenError):
    """Passerelle's JWKS could not be fetched: nothing is known about the token yet, so the
    answer is 503 (Passerelle retries a 5xx), not a 400 (which it never retries)."""


@dataclass(frozen=True)
class LogoutClaims:
    sub: str | None
    sid: str | None
    jti: str
    expires_at: datetime


class SeenLogoutTokenColumns:
    """Mixin of a portal's model of logout tokens already used: `class SeenLogoutToken(
    SeenLogoutTokenColumns, Base)`. Kept until the token expires, then deleted."""

    __tablename__ = "seen_logout_tokens"

    jti_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


def verify_logout_token(token: Any, *, issuer: str, client_id: str, jwks: Callable[[bool], Mapping[str, Any]],
                        now: datetime) -> LogoutClaims:
    """The claims of a valid logout token, or LogoutTokenError. jwks(force) returns
    Passerelle's JWKS; force=True fetches it again (a key newer than the cached set)."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH or token.count(".") != 2:
        raise LogoutTokenError("logout_token is missing or is not a compact JWT")
    try:
        header = jws.extract_compact(token.encode()).protected
    except (JoseError, ValueError, TypeError):
        raise LogoutTokenError("logout_token cannot be parsed") from None
    if header.get("typ") != LOGOUT_TOKEN_TYPE:
        raise LogoutTokenError("the token's typ is not logout+jwt")
    alg = header.get("alg")
    if alg not in ALLOWED_ALGS:
        raise LogoutTokenError("the token's alg is not an accepted asymmetric algorithm")
    claims = _verified_claims(token, alg, header.get("kid"), jwks)
    _check_claims(claims, issuer=issuer, client_id=client_id, now=now)
    return LogoutClaims(sub=claims.get("sub"), sid=claims.get("sid"), jti=claims["jti"],
                        expires_at=datetime.fromtimestamp(claims["exp"], UTC))


def _verified_claims(token: str, alg: str, kid: Any, jwks: Callable[[bool], Mapping[str, Any]]) -> dict[str, Any]:
    for force in (False, True):
        try:
            keys = KeySet.import_key_set(dict(jwks(force)))
        except Exception as error:  # noqa: BLE001 (an unreachable or broken JWKS is a refusal, never a 500)
            raise KeysUnavailable(f"Passerelle's keys could not be read ({type(error).__name__})") from None
        if kid is not None and not any(key.kid == kid for key in keys):
            continue  # a key published after the cached set: fetch once more
        try:
            return dict(jwt.decode(token, keys, algorithms=[alg]).claims)
        except (JoseError, ValueError, TypeError):
            break  # a known key that does not verify: fetching again would change nothing
    raise LogoutTokenError("the token's signature does not verify with Passerelle's keys")


def _check_claims(claims: Mapping[str, Any], *, issuer: str, client_id: str, now: datetime) -> None:
    if claims.get("iss") != issuer:
        raise LogoutTokenError("iss is not Passerelle")
    audience = claims.get("aud")
    if not (audience == client_id or isinstance(audience, list) and client_id in audience):
        raise LogoutTokenError("aud does not name this client")
    iat, exp = claims.get("iat"), claims.get("exp")
    if not _is_number(iat) or not _is_number(exp):
        raise LogoutTokenError("iat and exp are required numbers")
    now_ts = now.timestamp()
    if iat > now_ts + LEEWAY.total_seconds():
        raise LogoutTokenError("iat is in the future")
    if iat < now_ts - MAX_AGE.total_seconds() or exp <= now_ts - LEEWAY.total_seconds():
        raise LogoutTokenError("the token has expired")
    events = claims.get("events")
    if (not isinstance(events, Mapping) or list(events) != [BACKCHANNEL_LOGOUT_EVENT]
            or not isinstance(events[BACKCHANNEL_LOGOUT_EVENT], Mapping)):
        raise LogoutTokenError("events must hold the back-channel logout event")
    sub, sid = claims.get("sub"), claims.get("sid")
    if not (isinstance(sub, str) and sub) and not (isinstance(sid, str) and sid):
        raise LogoutTokenError("sub or sid is required")
    for name in ("sub", "sid"):
        if name in claims and not isinstance(claims[name], str):
            raise LogoutTokenError(f"{name} must be a string")
    if "nonce" in claims:
        raise LogoutTokenError("a logout token must not carry a nonce")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti or len(jti) > 255:
        raise LogoutTokenError("jti is required")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def remember_jti(session: Session, model: type, claims: LogoutClaims, now: datetime) -> bool:
    """Record the token's jti; False if it was seen before (a replay). The caller commits.
    One INSERT against a primary key: of two concurrent deliveries exactly one wins."""
    session.execute(delete(model).where(model.expires_at <= now))
    jti_hash = hashlib.sha256(claims.jti.encode()).hexdigest()
    if session.get(model, jti_hash) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(model(jti_hash=jti_hash, expires_at=max(claims.expires_at, now) + LEEWAY))
    except IntegrityError:
        return False
    return True


def id_token_sid(id_token: str | None) -> str | None:
    """The sid of an ID token this portal verified at sign-in and kept (payload only: it was
    checked then)."""
    try:
        payload = id_token.split(".")[1]  # type: ignore[union-attr]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (AttributeError, IndexError, ValueError):
        return None
    sid = claims.get("sid") if isinstance(claims, dict) else None
    return sid if isinstance(sid, str) else None


def sessions_ended_by(session: Session, model: type, claims: LogoutClaims) -> list[Any]:
    """The portal sessions (a model with sub and id_token) this token ends: those whose ID
    token carries its sid (with its sub, when given), else every session of its sub (§2.7)."""
    query = select(model)
    if claims.sub:
        query = query.where(model.sub == claims.sub)
    found = list(session.scalars(query))
    if claims.sid:
        return [each for each in found if id_token_sid(each.id_token) == claims.sid]
    return found


def receive(form: Mapping[str, Any], *, issuer: str, client_id: str, jwks: Callable[[bool], Mapping[str, Any]],
            now: datetime, session: Session, seen_model: type, session_model: type) -> tuple[dict[str, str], int]:
    """The whole receiving end for a portal with server-side sessions: verify, refuse a
    replay, delete the sessions the token ends. Returns (JSON body, status: 200, 400, or 503
    when Passerelle's keys cannot be fetched, which Passerelle retries); the caller
    commits (also on 400: the expired jtis deleted) and sends it with Cache-Control: no-store."""
    try:
        claims = verify_logout_token(form.get("logout_token"), issuer=issuer, client_id=client_id, jwks=jwks, now=now)
    except KeysUnavailable as error:
        return {"error": "temporarily_unavailable", "error_description": str(error)}, 503
    except LogoutTokenError as error:
        return {"error": "invalid_request", "error_description": str(error)}, 400
    if not remember_jti(session, seen_model, claims, now):
        return {"error": "invalid_request", "error_description": "this logout token was already used"}, 400
    for ended in sessions_ended_by(session, session_model, claims):
        session.delete(ended)
    session.flush()
    return {}, 200
