"""WebAuthn ceremonies (security keys and passkeys), wrapping py_webauthn.

Pure: no database, no Flask (design.md, Where code goes). The relying party (its id, name
and origin) comes from configuration only, never from the request, so a page served under
another host name cannot mint credentials for Passerelle. The caller makes and stores the
challenge (single use) and the credentials; this module builds the options the browser
needs and checks what the authenticator answered. Every refusal is WebAuthnRejected.

Choices: user verification "preferred" (a PIN or fingerprint when the key has one; a key
without one still works as a second factor after the password); resident keys "preferred"
(so phones and password managers make passkeys); attestation "none" (Passerelle does not
restrict makes and models, so it asks for no attestation and keeps no certificates).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    base64url_to_bytes,
    options_to_json_dict,
    parse_client_data_json,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    CredentialDeviceType,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

# How long the browser should wait for the person (a hint, in ms); the stored challenge's
# own expiry (idp.mfa.security_key) is what the server enforces.
TIMEOUT_MS = 120_000
CHALLENGE_BYTES = 32
MAX_RESPONSE_CHARS = 16_000  # a response is a few hundred bytes; anything far larger is not one


class WebAuthnRejected(Exception):
    """The response is malformed, or does not verify (challenge, origin, RP id, signature)."""


class SignCountRejected(WebAuthnRejected):
    """The authenticator's signature counter did not move forward: a cloned key, or a replay
    (WebAuthn Level 2 §6.1.1). Refused whenever either counter is non-zero."""


@dataclass(frozen=True)
class RelyingParty:
    id: str
    name: str
    origin: str  # scheme://host[:port] of OIDC_ISSUER

    @classmethod
    def from_settings(cls, settings: Any) -> RelyingParty:
        from idp.config import webauthn_rp_id

        parts = urlsplit(settings["OIDC_ISSUER"])
        return cls(
            id=webauthn_rp_id(settings), name=str(settings["WEBAUTHN_RP_NAME"]),
            origin=f"{parts.scheme}://{parts.netloc}",
        )


@dataclass(frozen=True)
class KnownCredential:
    """A registered credential, as the options name it (to exclude or to allow)."""

    credential_id: bytes
    transports: tuple[str, ...] = ()


@dataclass(frozen=True)
class NewCredential:
    """What a verified registration gives to store."""

    credential_id: bytes
    public_key: bytes  # COSE_Key
    sign_count: int
    aaguid: str
    backup_eligible: bool  # a synced passkey (multi-device): amr "swk", not "hwk"
    backup_state: bool
    transports: tuple[str, ...]


@dataclass(frozen=True)
class Assertion:
    """What a verified authentication gives to store."""

    credential_id: bytes
    sign_count: int
    backup_eligible: bool
    backup_state: bool
    user_verified: bool


def new_challenge() -> bytes:
    import secrets

    return secrets.token_bytes(CHALLENGE_BYTES)


def _descriptors(credentials: list[KnownCredential]) -> list[PublicKeyCredentialDescriptor]:
    descriptors = []
    for credential in credentials:
        transports = []
        for value in credential.transports:
            try:
                transports.append(AuthenticatorTransport(value))
            except ValueError:
                continue  # a transport this library does not know: the browser decides
        descriptors.append(PublicKeyCredentialDescriptor(id=credential.credential_id, transports=transports or None))
    return descriptors


def registration_options(
    rp: RelyingParty, *, handle: bytes, user_name: str, display_name: str, challenge: bytes,
    exclude: list[KnownCredential],
) -> dict[str, Any]:
    """PublicKeyCredentialCreationOptions as JSON (base64url for bytes), for
    navigator.credentials.create() after the page decodes them. exclude: the person's keys
    already registered, so an authenticator refuses to register twice."""
    options = generate_registration_options(
        rp_id=rp.id, rp_name=rp.name, user_id=handle, user_name=user_name, user_display_name=display_name,
        challenge=challenge, timeout=TIMEOUT_MS, attestation=AttestationConveyancePreference.NONE,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED, user_verification=UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=_descriptors(exclude),
    )
    return options_to_json_dict(options)


def authentication_options(rp: RelyingParty, *, challenge: bytes, allow: list[KnownCredential]) -> dict[str, Any]:
    """PublicKeyCredentialRequestOptions as JSON, for navigator.credentials.get()."""
    options = generate_authentication_options(
        rp_id=rp.id, challenge=challenge, timeout=TIMEOUT_MS, allow_credentials=_descriptors(allow),
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    return options_to_json_dict(options)


def parse(response: Any) -> dict[str, Any]:
    """The browser's PublicKeyCredential as a dict (a JSON string or an already parsed
    object). Raises WebAuthnRejected when it is not one."""
    if isinstance(response, str):
        if len(response) > MAX_RESPONSE_CHARS:
            raise WebAuthnRejected("response too large")
        try:
            response = json.loads(response)
        except ValueError:
            raise WebAuthnRejected("response is not JSON") from None
    if not isinstance(response, dict) or not isinstance(response.get("response"), dict):
        raise WebAuthnRejected("response is not a PublicKeyCredential")
    return response


def challenge_of(response: dict[str, Any]) -> bytes:
    """The challenge the browser signed (clientDataJSON), to find the stored one. Not
    checked here: verify_* compares it with the challenge the caller stored."""
    try:
        client_data = parse_client_data_json(base64url_to_bytes(response["response"]["clientDataJSON"]))
    except Exception:  # noqa: BLE001 - any malformed input is one refusal
        raise WebAuthnRejected("clientDataJSON is malformed") from None
    return client_data.challenge


def credential_id_of(response: dict[str, Any]) -> bytes:
    """The credential id the browser used (rawId), to find the stored key."""
    try:
        raw_id = response["rawId"]
        if not isinstance(raw_id, str) or not raw_id:
            raise ValueError
        return base64url_to_bytes(raw_id)
    except Exception:  # noqa: BLE001
        raise WebAuthnRejected("rawId is malformed") from None


def verify_registration(rp: RelyingParty, response: dict[str, Any], challenge: bytes) -> NewCredential:
    """Check an attestation (navigator.credentials.create()) against the stored challenge,
    the configured origin and RP id. Raises WebAuthnRejected."""
    try:
        verified = verify_registration_response(
            credential=response, expected_challenge=challenge, expected_rp_id=rp.id, expected_origin=rp.origin,
            require_user_presence=True, require_user_verification=False,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError) as error:
        raise WebAuthnRejected(str(error)) from None
    transports = response["response"].get("transports")
    return NewCredential(
        credential_id=verified.credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        aaguid=verified.aaguid,
        backup_eligible=verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE,
        backup_state=bool(verified.credential_backed_up),
        transports=tuple(str(t)[:16] for t in transports[:8]) if isinstance(transports, list) else (),
    )


def verify_authentication(
    rp: RelyingParty, response: dict[str, Any], challenge: bytes, *, public_key: bytes, stored_sign_count: int,
) -> Assertion:
    """Check an assertion (navigator.credentials.get()) with the stored public key. The
    counter is compared after the signature, so only the key's holder can make a counter
    error. Raises WebAuthnRejected or SignCountRejected."""
    try:
        verified = verify_authentication_response(
            credential=response, expected_challenge=challenge, expected_rp_id=rp.id, expected_origin=rp.origin,
            credential_public_key=public_key, credential_current_sign_count=0, require_user_verification=False,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError) as error:
        raise WebAuthnRejected(str(error)) from None
    new_count = verified.new_sign_count
    if (new_count > 0 or stored_sign_count > 0) and new_count <= stored_sign_count:
        raise SignCountRejected(f"sign count {new_count} is not above {stored_sign_count}")
    return Assertion(
        credential_id=verified.credential_id,
        sign_count=new_count,
        backup_eligible=verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE,
        backup_state=bool(verified.credential_backed_up),
        user_verified=bool(verified.user_verified),
    )

