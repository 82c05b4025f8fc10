"""`python -m clients.demo_rp`: serve the demo relying party on http://127.0.0.1:5001.

Reads DEMO_RP_ISSUER, DEMO_RP_CLIENT_ID and DEMO_RP_CLIENT_SECRET (printed by `idp demo`),
and DEMO_RP_SCOPE if set (the scopes to ask for; `idp demo` prints the demo client's, which
include organization); `make run` sets them. DEMO_RP_DATABASE_URL names the database where
the back-channel logouts are kept (default: var/demo-rp.sqlite3, created on start).
"""

from __future__ import annotations

import os
import sys

from clients.demo_rp import DEFAULT_SCOPE, PROJECT_ROOT, create_app

HOST, PORT = "127.0.0.1", 5001
DEFAULT_DATABASE_URL = f"sqlite:///{PROJECT_ROOT / 'var' / 'demo-rp.sqlite3'}"


def main() -> None:
    missing = [name for name in ("DEMO_RP_ISSUER", "DEMO_RP_CLIENT_ID", "DEMO_RP_CLIENT_SECRET") if not os.environ.get(name)]
    if missing:
        sys.exit(f"set {', '.join(missing)} (run `idp demo` for the values)")
    app = create_app(
        issuer=os.environ["DEMO_RP_ISSUER"],
        client_id=os.environ["DEMO_RP_CLIENT_ID"],
        client_secret=os.environ["DEMO_RP_CLIENT_SECRET"],
        redirect_uri=f"http://{HOST}:{PORT}/callback",
        scope=os.environ.get("DEMO_RP_SCOPE") or DEFAULT_SCOPE,
        database_url=os.environ.get("DEMO_RP_DATABASE_URL") or DEFAULT_DATABASE_URL,
    )
    app.run(host=HOST, port=PORT, debug=False, use_reloader=False)


if __name__ == "__main__":
    main()
