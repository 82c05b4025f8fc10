"""Every IdP setting and its default, each with a comment saying what it does.

idp.config loads these first, then the TOML file, the environment and create_app's
overrides; docs/operators.md and config/production.example.toml list the same names.
"""

from __future__ import annotations

from typing import Any

DEFAULTS: dict[str, Any] = {
    # "development", "test" or "production": production turns on every startup check.
    "ENV": "production",
    "SECRET_KEY": None,  # Flask session and CSRF signing
    "SECRETS_HASH_KEY": None,  # HMAC key for codes, tokens and client secrets at rest
    "KEYS_ENCRYPTION_KEY": None,  # encrypts the private parts of signing keys in the database
    "OIDC_PAIRWISE_SALT": None,  # derives pairwise subjects; never rotate it
    "SQLALCHEMY_DATABASE_URI": None,
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    # Milliseconds a statement waits for a lock another connection holds (SQLite's busy
    # timeout, PostgreSQL's lock_timeout) before the request is answered 503 "try again".
    "DATABASE_LOCK_TIMEOUT_MS": 250,
    # Machine requests (token, UserInfo, introspection, revocation) one worker process answers
    # at once; the others wait their turn. "auto": one on SQLite, four on PostgreSQL; or a whole
    # number, at most half the connection pool. docs/performance.md, "One machine request at a time".
    "MACHINE_REQUESTS_AT_ONCE": "auto",
    "OIDC_ISSUER": None,
    "OIDC_DEFAULT_ID_TOKEN_ALG": "ES256",
    "OIDC_ID_TOKEN_TTL": 300,  # seconds
    "OIDC_ACCESS_TOKEN_TTL": 600,
    "OIDC_REFRESH_TOKEN_TTL": 14 * 24 * 3600,  # absolute lifetime of a grant's refresh tokens
    "OIDC_AUTHORIZATION_CODE_TTL": 60,
    "OIDC_CLIENT_CACHE_TTL": 5,  # seconds a worker may reuse a client record
    # Seconds a rotated-in key is published before it signs: longer than relying parties
    # cache the JWKS. `idp keys rotate --now` skips it for an emergency rotation.
    "OIDC_KEY_PUBLISH_AHEAD": 3600,
    "OIDC_KEY_CACHE_TTL": 10,  # seconds a worker reuses the keys it read from the database
    # Failed client authentications (invalid_client) per client address at /token,
    # /introspect and /revoke, then 429 until the window ends (Flask-Limiter syntax, counted
    # in RATELIMIT_STORAGE_URI; "" turns it off).
    "OIDC_CLIENT_AUTH_RATE_LIMIT": "30 per minute; 300 per hour",
    # Longest life of a private_key_jwt assertion (exp - iat, and its age when used), seconds.
    "OIDC_CLIENT_ASSERTION_MAX_AGE": 300,
    # DPoP proofs (RFC 9449 §11.1): accepted up to this many seconds after their `iat`, and
    # at most OIDC_DPOP_CLOCK_SKEW seconds before it (the client's clock may run ahead).
    "OIDC_DPOP_PROOF_MAX_AGE": 60,
    "OIDC_DPOP_CLOCK_SKEW": 10,
    # Every DPoP proof must carry a nonce from Passerelle (RFC 9449 §8, the DPoP-Nonce
    # header); False leaves it to the clients registered with dpop_require_nonce. A nonce is
    # good for one to two OIDC_DPOP_NONCE_LIFETIME periods, on every host (no state).
    "OIDC_DPOP_REQUIRE_NONCE": False,
    "OIDC_DPOP_NONCE_LIFETIME": 300,
    # Dynamic client registration (RFC 7591/7592) at /register: off by default; when on, a
    # client registers with a single-use initial access token (`idp clients initial-token`).
    "OIDC_DYNAMIC_REGISTRATION": False,
    "SIGNIN_TRANSACTION_TTL": 1800,
    "SESSION_IDLE_TIMEOUT": 1800,  # NIST SP 800-63B §4.2.3 (AAL2): 30 minutes idle
    "SESSION_MAX_AGE": 12 * 3600,  # and 12 hours absolute
    "SESSION_COOKIE_NAME": "passerelle_session",
    "SESSION_COOKIE_SECURE": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "LANGUAGE_COOKIE_NAME": "passerelle_lang",
    "BABEL_DEFAULT_LOCALE": "fr",
    "HELP_URL": "/help",
    # The service as people see it (idp/web/branding.py; issue 9 #14): its name in page
    # titles, the header, the footer and mail (sender name and text); a stylesheet under
    # idp/static loaded after ours, that overrides its colours (CSS custom properties); the
    # colour of mail's header, codes and buttons ("#rrggbb": mail clients ignore stylesheets).
    "SERVICE_NAME": "Passerelle",
    "THEME_STYLESHEET": "",
    "THEME_EMAIL_COLOUR": "#26374a",
    # Registration by invitation (idp/registration): false removes its pages and every link
    # to them (an identity provider whose accounts come from elsewhere, e.g. the demo bank).
    "REGISTRATION_ENABLED": True,
    # Mail (idp/mail): the outbox is sent over SMTP right after the response, then retried.
    # Without a display name, mail is sent as SERVICE_NAME.
    "MAIL_FROM": "no-reply@passerelle.invalid",
    "SMTP_HOST": "127.0.0.1",
    "SMTP_PORT": 25,
    "SMTP_SECURITY": "starttls",  # "starttls", "tls" (implicit, port 465) or "none" (loopback only)
    "SMTP_USERNAME": "",
    "SMTP_PASSWORD": "",
    # Seconds each SMTP step may take (connect, greeting, EHLO, STARTTLS, AUTH, each command
    # and DATA); past it the attempt fails and the message waits for its retry.
    "SMTP_TIMEOUT": 10,
    # true: each worker process hands what a request queued to its own sender thread once the
    # response is sent. false: only `idp mail send-pending [--watch]` sends (production).
    "MAIL_SEND_AFTER_RESPONSE": True,
    "MAIL_RETRY_DELAY": 60,  # seconds before the first retry; doubles each time, up to an hour
    "MAIL_MAX_ATTEMPTS": 12,
    # Nobody can use Passerelle to flood an inbox: messages beyond these are dropped.
    "MAIL_MAX_PER_ADDRESS_PER_HOUR": 10,
    "MAIL_MAX_PER_ACCOUNT_PER_DAY": 40,
    # Per-address rate limits (Flask-Limiter). memory:// counts per process; use redis://
    # when several workers or hosts serve Passerelle.
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_STORAGE_URI": "memory://",
    # How many reverse proxies in front of Passerelle set X-Forwarded-For (0: none). The
    # client address behind them is what rate limits and security events use.
    "PROXY_FIX_X_FOR": 0,
    "WTF_CSRF_TIME_LIMIT": None,  # tied to the session instead of a clock
    "MAX_CONTENT_LENGTH": 64 * 1024,
    "MAX_FORM_MEMORY_SIZE": 64 * 1024,
    "INSTANCES": 1,  # hosts sharing the database; more than one requires PostgreSQL
    # Invitations (idp/invitations; issue 3): how long an invitation (link or code) stays
    # valid, in seconds, and how many a relying party may create through the API.
    "INVITATION_TTL": 14 * 24 * 3600,
    "INVITATION_API_RATE_LIMIT": "120 per hour",  # per client (Flask-Limiter syntax)
    # Per client: invitations and requests created through /api/organizations (idp/orgs/api.py).
    "ORGANIZATION_API_RATE_LIMIT": "120 per hour",
    "INVITATION_DEFAULT_INVITER": "Passerelle",  # "who invites" in emails from `idp invitations create`
    # Registration (idp/registration; issue 3, seeds 000 and 001). Durations in seconds.
    "REGISTRATION_ACTIVATION_TTL": 24 * 3600,  # the activation link's life (single use)
    # The emailed 6-digit verification code of the code journey: long enough for slow mail
    # (greylisting holds first messages 5 to 15 minutes), short enough that five guesses per
    # code stay a one-in-200,000 chance; "Request a new code" replaces it.
    "REGISTRATION_CODE_TTL": 30 * 60,
    "REGISTRATION_CODE_MAX_ATTEMPTS": 5,  # wrong guesses that burn a verification code
    "REGISTRATION_CODE_RESEND_COOLDOWN": 30,  # seconds between two "Request a new code"
    # How long the browser that sent a registration form (or confirmed an activation link) can
    # carry on with the next page: "Confirm your registration", or "Almost there".
    "REGISTRATION_PAGE_TTL": 3600,
    "REGISTRATION_PHONE_REGION": "CA",  # phone numbers without a +country code are read as this
    # Per-address limits on the registration forms' POSTs (Flask-Limiter syntax).
    "REGISTRATION_RATE_LIMIT": "20 per minute; 200 per hour",
    "REGISTRATION_CODE_RATE_LIMIT": "30 per minute; 300 per hour",  # the verification code form
    # New passwords (idp/security/password_policy.py; issue 3). NIST SP 800-63B §5.1.1.2:
    # the minimum may not go below 8; lengths count characters after NFKC normalisation.
    "PASSWORD_MIN_LENGTH": 14,
    "PASSWORD_MAX_LENGTH": 128,  # at most 1024, the cap every form applies
    "PASSWORD_REQUIRE_SPECIAL": True,  # a character that is neither a letter nor a digit
    "PASSWORD_REQUIRE_DIGIT": True,
    "PASSWORD_REQUIRE_UPPER": True,
    "PASSWORD_REQUIRE_LOWER": True,
    "PASSWORD_REJECT_COMMON": True,  # the offline list in idp/data/common-passwords.txt
    "PASSWORD_CONTEXT_WORDS": ["passerelle"],  # words of this service no password may contain
    # Lowest zxcvbn guessability score a new password needs, 0 (off) to 4; 3 is about 10^8
    # guesses. Fed the person's names and address and PASSWORD_CONTEXT_WORDS (issue 9).
    "PASSWORD_MIN_STRENGTH": 3,
    # Also ask Have I Been Pwned's Pwned Passwords range API about each new password (issue
    # 9). Only the first 5 hex digits of its SHA-1 leave (k-anonymity, padded answers). Off by
    # default: it sends traffic to a third party. Fails open: if the service does not answer
    # within PASSWORD_PWNED_TIMEOUT seconds (per connection and per read), or answers an error,
    # the password is judged by the other rules alone and a warning is logged.
    "PASSWORD_PWNED_CHECK": False,
    "PASSWORD_PWNED_URL": "https://api.pwnedpasswords.com/range/",  # the 5 hex digits are appended
    "PASSWORD_PWNED_TIMEOUT": 2.0,
    # "Not a robot" proof of work (ALTCHA, idp/robot). Turn it off only with another check in front.
    "ROBOT_CHECK_ENABLED": True,
    "ROBOT_CHECK_MAX_NUMBER": 100_000,  # work asked of the browser: about a second on a phone
    "ROBOT_CHECK_TTL": 600,  # seconds a challenge can be solved and submitted in
    "ROBOT_CHECK_RATE_LIMIT": "60 per minute",  # challenges per address (Flask-Limiter syntax)
    # "Can't sign in?" and password reset links (idp/recovery; issue 3).
    "PASSWORD_RESET_TTL": 3600,  # seconds a reset link works; single use, a newer one replaces it
    "RECOVERY_RATE_LIMIT": "10 per minute; 100 per hour",  # per address: "can't sign in?" and reset POSTs
    # Seconds after a reset or activation email during which "can't sign in?" sends that
    # account nothing more (the page is the same): a stranger cannot fill its mail caps.
    # 1 to 86400.
    "RECOVERY_EMAIL_COOLDOWN": 900,
    "PASSWORD_CHANGE_RATE_LIMIT": "10 per minute; 50 per hour",  # per address: /account/password POSTs
    # Per address: a primary user's invitations (« Nouvelle requête ») and resends (idp/orgs/views.py).
    "ORGANIZATION_INVITE_RATE_LIMIT": "10 per minute; 100 per hour",
    # Sign-in abuse resistance (idp/accounts/throttle.py; issue 3). Failures (wrong passwords
    # and emailed codes) are counted per account: from SIGNIN_DELAY_AFTER failures on, each
    # attempt waits 2^(n - SIGNIN_DELAY_AFTER) s (at most SIGNIN_MAX_DELAY) after the last
    # failure; at SIGNIN_LOCK_THRESHOLD the account is locked SIGNIN_LOCK_DURATION seconds and
    # its owner emailed. A complete sign-in clears the count.
    "SIGNIN_DELAY_AFTER": 3,
    "SIGNIN_MAX_DELAY": 60,
    "SIGNIN_LOCK_THRESHOLD": 10,
    "SIGNIN_LOCK_DURATION": 900,
    # Temporary locks in a row (no complete sign-in between) before the next lock lasts until
    # the person follows the unlock link emailed with it, or an operator runs `idp users
    # unlock` (issue 9): each further failure after a lock locks again, so without this an
    # attacker keeps about 96 guesses a day forever. A password reset also unlocks.
    "SIGNIN_TEMPORARY_LOCKS": 3,
    "SIGNIN_UNLOCK_LINK_TTL": 7 * 24 * 3600,  # seconds the unlock link works; single use
    # Per address (Flask-Limiter syntax), each of: the password POST, the code POST, "Request a
    # new code". Generous: a school's whole class may sign in from one address.
    "SIGNIN_RATE_LIMIT": "60 per minute; 600 per hour",
    # The emailed sign-in code (idp/mfa/email_code.py; issue 3, seed 001).
    "MFA_EMAIL_CODE_TTL": 180,  # seconds
    "MFA_EMAIL_CODE_MAX_ATTEMPTS": 5,  # wrong guesses that burn a code
    "MFA_EMAIL_CODE_RESEND_COOLDOWN": 30,  # seconds between two codes for one account
    "MFA_EMAIL_CODE_DAILY_CAP": 10,  # codes per account in any 24 hours
    # Two-factor (issue 4): people without a set-up method are sent to the set-up page at
    # sign-in. Off only where an operator deliberately accepts the emailed code alone.
    "MFA_REQUIRED": True,
    # Shown on the help page ("I lost my second method"); empty: not shown.
    "SUPPORT_EMAIL": "",
    "SUPPORT_PHONE": "",
    "MFA_TOTP_ISSUER_NAME": "Passerelle",  # the name authenticator apps show
    "MFA_RECOVERY_CODE_COUNT": 10,
    "MFA_RECOVERY_CODES_LOW": 3,  # the account home warns at this many codes left
    # Managing two-factor needs a sign-in with a second factor this recent (seconds).
    "MFA_MANAGE_FRESHNESS": 300,
    # The operators' console (/admin, idp/console, issue 16). Entering it needs a security
    # key or passkey (acr mfa-phr) used this recently (seconds); the console's own session
    # then lasts at most CONSOLE_SESSION_MAX_AGE and ends after CONSOLE_SESSION_IDLE_TIMEOUT
    # without a console page; a destructive action (end sessions, disable, reset two-factor)
    # asks for the key again unless it was used less than CONSOLE_CONFIRM_MAX_AGE ago and
    # no other action spent that use.
    "CONSOLE_KEY_MAX_AGE": 900,
    "CONSOLE_SESSION_MAX_AGE": 3600,
    "CONSOLE_SESSION_IDLE_TIMEOUT": 600,
    "CONSOLE_CONFIRM_MAX_AGE": 300,
    # Security keys and passkeys (WebAuthn, idp/mfa/security_key.py). The relying-party id
    # the keys are bound to: empty means the host of OIDC_ISSUER; otherwise that host or a
    # registrable suffix of it (auth.example.ca may use example.ca). Changing it later makes
    # every registered key stop working. The name is what the browser's prompt shows.
    "WEBAUTHN_RP_ID": "",
    "WEBAUTHN_RP_NAME": "Passerelle",
    # Terms of use and privacy policy (idp/terms): who operates this service and how to reach
    # them, as the documents in templates/terms/ name them. Empty: the documents point to
    # the help page instead.
    "TERMS_OPERATOR_NAME": "",
    "TERMS_CONTACT_EMAIL": "",
    # A folder of your own versions (<version>/terms.fr.html ...) instead of the bundled ones.
    "TERMS_DIRECTORY": "",
    # Sign-in partners (idp/federation; issue 5): the TOML file listing upstream OpenID
    # Connect providers (config/partners.example.toml documents it). Empty: no partners.
    "PARTNERS_FILE": "",
    # false: no sign-in partner pages at all (404) and PARTNERS_FILE is not read.
    "PARTNERS_ENABLED": True,
    "PARTNER_HTTP_TIMEOUT": 5,  # seconds for each back-channel call to a partner
    "PARTNER_STATE_TTL": 600,  # seconds a person has to sign in at the partner and come back
    # Seconds a worker reuses a partner's discovery document and public keys; an unknown
    # key id refreshes them at once, at most once per PARTNER_KEYS_MIN_REFRESH seconds.
    "PARTNER_METADATA_CACHE_TTL": 300,
    "PARTNER_KEYS_MIN_REFRESH": 10,
    # Observability (idp/ops; issue 15). Logs: "text" leaves logging to the server; "json"
    # writes every record as one JSON line on standard error, with the request id.
    "LOG_FORMAT": "text",
    "LOG_LEVEL": "INFO",  # with LOG_FORMAT = "json"
    # /metrics (Prometheus): on the management port when MANAGEMENT_PORT is set, else on the
    # main port; only for these addresses or networks ("10.0.0.0/8"), 404 for any other.
    "METRICS_ENABLED": True,
    "METRICS_ALLOWED_ADDRESSES": [],
    "METRICS_CLIENT_LABELS": False,  # token counters per client_id (bounded by your clients)
    # `idp serve-management`: probes and metrics on a port of their own (0: none).
    "MANAGEMENT_HOST": "127.0.0.1",
    "MANAGEMENT_PORT": 0,
    # `idp worker`: seconds between two looks at the outbox, between two prunings, rows
    # deleted per statement, and how long after expiring a row is deleted.
    "WORKER_INTERVAL": 2,
    "WORKER_PRUNE_INTERVAL": 300,
    "WORKER_PRUNE_BATCH": 1000,
    "PRUNE_AFTER": 24 * 3600,
    # Days `idp worker` keeps security events (the audit log: account home activity, the
    # console, `idp audit export`), about four per sign-in; 0 keeps them forever. 400: a
    # year of audit trail plus time to investigate (docs/operators.md, `idp worker`).
    "SECURITY_EVENTS_RETENTION_DAYS": 400,
    # Back-channel logout (issue 14; `idp worker` sends): seconds each POST to a relying
    # party may take (connect and answer), attempts per logout token (network errors and 5xx
    # are retried, 4xx never), seconds before the first retry (doubling, at most an hour),
    # and how long a logout token is valid after it is signed.
    "LOGOUT_TIMEOUT": 5,
    "LOGOUT_MAX_ATTEMPTS": 6,
    "LOGOUT_RETRY_DELAY": 30,
    "LOGOUT_TOKEN_TTL": 120,
}
