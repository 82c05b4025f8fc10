"""Seed Passerelle's database for bench/run.py: a bench user, and fresh codes or refresh tokens.

Runs inside the provider's own app (create_app(), same IDP_CONFIG / IDP_* environment as the
gunicorn under test) and writes rows with the provider's models and keyed hasher, exactly as the
authorization endpoint and the token endpoint would store them:

    python bench/passerelle_seed.py user --email bench@example.test
        -> {"user_id": 1}
    python bench/passerelle_seed.py mint --kind code --count 20000 --client-id C --user-id 1 \
        --redirect-uri http://127.0.0.1:9/cb --code-challenge X --ttl 60 --out codes.txt
    python bench/passerelle_seed.py mint --kind refresh --count 20000 --client-id C --user-id 1 \
        --out refresh.txt
    python bench/passerelle_seed.py people --count 2000 --password P --out people.txt
        -> the addresses, one a line, of people who sign in with password P (the sign-in row)
    python bench/passerelle_seed.py sizes
        -> rows, bytes and index bytes of the tables a token or a sign-in writes to

`mint` writes the plain values, one a line; the database only ever sees their keyed hashes.
Each code or refresh token gets its own grant_id, as one sign-in would.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SCOPE = "openid offline_access"
BATCH = 5000


def _app():
    from idp import create_app

    return create_app()


def _hasher(app):
    ctx = app.extensions.get("idp")
    if ctx is not None and getattr(ctx, "hasher", None) is not None:
        return ctx.hasher
    from idp.security.secrets import KeyedHasher

    return KeyedHasher(app.config["SECRETS_HASH_KEY"])


def cmd_user(args: argparse.Namespace) -> None:
    from sqlalchemy import select

    from idp.accounts.models import User
    from idp.extensions import db

    app = _app()
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == args.email))
        if user is None:
            user = User(
                subject=secrets.token_hex(16),
                email=args.email,
                email_verified=True,
                activated_at=datetime.now(UTC),  # not a pending registration: may sign in
                given_name="Bench",
                family_name="User",
                locale="en",
            )
            db.session.add(user)
            db.session.commit()
        print(json.dumps({"user_id": user.id, "subject": user.subject}))


def cmd_people(args: argparse.Namespace) -> None:
    """People for the sign-in row, all with the same password: it is hashed once, with the
    app's own argon2id at its configured cost (verifying it at sign-in costs what any
    person's does), rather than once per person."""
    from sqlalchemy import insert, select

    from idp.accounts.models import User
    from idp.extensions import db

    app = _app()
    now = datetime.now(UTC)
    emails = [f"signin-{index}@example.test" for index in range(args.count)]
    with app.app_context():
        password_hash = app.extensions["idp"].passwords.hash(args.password)
        existing = set(db.session.scalars(select(User.email).where(User.email.like("signin-%@example.test"))))
        rows = [{
            "subject": secrets.token_hex(16), "email": email, "email_verified": True, "activated_at": now,
            "given_name": "Bench", "family_name": str(index), "locale": "en", "password_hash": password_hash,
            "created_at": now, "updated_at": now,
        } for index, email in enumerate(emails) if email not in existing]
        for start in range(0, len(rows), BATCH):
            db.session.execute(insert(User), rows[start:start + BATCH])
        db.session.commit()
    Path(args.out).write_text("\n".join(emails) + "\n")
    print(json.dumps({"count": len(emails), "created": len(rows), "out": args.out}))


# The tables a token request or a sign-in writes to (docs/performance.md, Scale).
SIZED_TABLES = ("tokens", "authorization_codes", "sessions", "session_clients", "signin_transactions",
                "email_codes", "mail_outbox", "security_events")


def cmd_sizes(args: argparse.Namespace) -> None:  # noqa: ARG001
    """Rows per table, and on PostgreSQL the table's bytes with its indexes and TOAST
    (pg_total_relation_size) and its indexes' (pg_indexes_size); on SQLite from dbstat when
    the library has it."""
    from sqlalchemy import text

    from idp.extensions import db

    app = _app()
    sizes = {}
    with app.app_context():
        dialect = db.engine.dialect.name
        for table in SIZED_TABLES:
            rows = db.session.scalar(text(f'SELECT count(*) FROM "{table}"'))
            total = indexes = None
            if dialect == "postgresql":
                total, indexes = db.session.execute(
                    text("SELECT pg_total_relation_size(:t), pg_indexes_size(:t)"), {"t": table}).one()
            elif dialect == "sqlite":
                try:
                    total = db.session.scalar(text("SELECT sum(pgsize) FROM dbstat WHERE name = :t OR tbl_name = :t"),
                                              {"t": table})
                except Exception:  # noqa: BLE001  (dbstat is an optional SQLite module)
                    db.session.rollback()
            sizes[table] = {"rows": rows, "bytes": total, "index_bytes": indexes}
    print(json.dumps({"dialect": dialect, "tables": sizes}))


def cmd_mint(args: argparse.Namespace) -> None:
    from sqlalchemy import insert

    from idp.extensions import db
    from idp.oidc.models import AuthorizationCode, Token

    app = _app()
    now = datetime.now(UTC)
    values: list[str] = []
    with app.app_context():
        hasher = _hasher(app)
        refresh_ttl = int(app.config.get("OIDC_REFRESH_TOKEN_TTL", 14 * 24 * 3600))
        access_ttl = int(app.config.get("OIDC_ACCESS_TOKEN_TTL", 600))
        # A code is redeemed only while the session it was issued in is alive (docs/oidc.md,
        # How tokens end): the minted codes share one live session, as after a sign-in.
        session_id = _live_session(args.user_id, now) if args.kind == "code" else None
        for start in range(0, args.count, BATCH):
            rows = []
            for _ in range(start, min(args.count, start + BATCH)):
                plain = secrets.token_urlsafe(32)
                grant_id = secrets.token_urlsafe(16)
                values.append(plain)
                common = {
                    "grant_id": grant_id,
                    "client_id": args.client_id,
                    "user_id": args.user_id,
                    "session_id": session_id,
                    "scope": SCOPE,
                    "auth_time": now,
                    "acr": None,
                    "amr": ["pwd"],
                    "sid": secrets.token_urlsafe(16),
                    "requested_claims": None,
                }
                if args.kind == "code":
                    rows.append(
                        {
                            **common,
                            "code_hash": hasher.hash("authorization_code", plain),
                            "redirect_uri": args.redirect_uri,
                            "nonce": "bench-nonce",
                            "code_challenge": args.code_challenge,
                            "code_challenge_method": "S256",
                            "created_at": now,
                            "expires_at": now + timedelta(seconds=args.ttl),
                            "consumed_at": None,
                        }
                    )
                else:
                    rows.append(
                        {
                            **common,
                            # The access token issued alongside: never presented, but unique.
                            "access_token_hash": hasher.hash("access_token", secrets.token_urlsafe(32)),
                            "refresh_token_hash": hasher.hash("refresh_token", plain),
                            "issued_at": now,
                            "access_expires_at": now + timedelta(seconds=access_ttl),
                            "refresh_expires_at": now + timedelta(seconds=refresh_ttl),
                            "rotated_at": None,
                            "revoked_at": None,
                        }
                    )
            model = AuthorizationCode if args.kind == "code" else Token
            columns = set(model.__table__.columns.keys())
            if "grant_scope" in columns:  # the consented scope that bounds every refresh
                for row in rows:
                    row["grant_scope"] = SCOPE
            db.session.execute(insert(model), [{k: v for k, v in row.items() if k in columns} for row in rows])
            db.session.commit()
    Path(args.out).write_text("\n".join(values) + "\n")
    print(json.dumps({"kind": args.kind, "count": len(values), "out": args.out}))


def _live_session(user_id: int, now: datetime) -> int:
    """A new session of the bench user, alive for the whole run (not idle: a run of one
    endpoint is shorter than SESSION_IDLE_TIMEOUT). Returns its id."""
    from idp.extensions import db
    from idp.signin.models import UserSession

    user_session = UserSession(
        handle_hash=secrets.token_hex(32), sid=secrets.token_urlsafe(16), user_id=user_id, auth_time=now,
        amr=["pwd"], acr="urn:passerelle:acr:pwd", created_at=now, last_seen_at=now, expires_at=now + timedelta(hours=12),
    )
    db.session.add(user_session)
    db.session.commit()
    return user_session.id


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    user = sub.add_parser("user", help="create the bench user if missing; print its id")
    user.add_argument("--email", default="bench@example.test")
    user.set_defaults(func=cmd_user)
    people = sub.add_parser("people", help="people who sign in with one password; write their addresses")
    people.add_argument("--count", type=int, required=True)
    people.add_argument("--password", required=True)
    people.add_argument("--out", required=True)
    people.set_defaults(func=cmd_people)
    sized = sub.add_parser("sizes", help="rows and bytes of the tables tokens and sign-ins write to")
    sized.set_defaults(func=cmd_sizes)
    mint = sub.add_parser("mint", help="insert fresh codes or refresh tokens; write the plain values")
    mint.add_argument("--kind", choices=("code", "refresh"), required=True)
    mint.add_argument("--count", type=int, required=True)
    mint.add_argument("--client-id", required=True)
    mint.add_argument("--user-id", type=int, required=True)
    mint.add_argument("--redirect-uri", default="http://127.0.0.1:9/cb")
    mint.add_argument("--code-challenge", default="")
    mint.add_argument("--ttl", type=int, default=60, help="code lifetime in seconds")
    mint.add_argument("--out", required=True)
    mint.set_defaults(func=cmd_mint)
    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
