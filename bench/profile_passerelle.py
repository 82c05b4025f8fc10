#!/usr/bin/env python3
"""Where does one Passerelle endpoint spend its time? cProfile over N in-process requests.

    python bench/profile_passerelle.py --endpoint code_exchange --requests 2000
    python bench/profile_passerelle.py --endpoint client_credentials --sort cumulative --top 50

Same set-up as bench/run.py (fresh SQLite database, ENV=production, `idp db upgrade`,
`idp clients create`, values minted by bench/passerelle_seed.py), then the app is built in this
process and driven through Flask's test client: no gunicorn, no network, one request at a time,
so the profile shows the application's own cost. Prints the top functions by own time and by
cumulative time, and the per-request time; --out writes the raw pstats file (snakeviz, etc.).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run  # noqa: E402  (bench/run.py: the same set-up as the load benchmark)


def access_token(server, client, tmp: Path) -> str:
    """One access token for the UserInfo and introspection rows, as bench/run.py gets it: a
    minted code redeemed at the token endpoint."""
    out = tmp / "code.txt"
    server.mint("code", 1, out)
    prefix, suffix = run.token_body("code_exchange")
    response = client.post("/token", data=prefix + out.read_text().split()[0] + suffix,
                           headers={"Authorization": "Basic " + server.auth},
                           content_type="application/x-www-form-urlencoded")
    if response.status_code != 200:
        raise SystemExit(f"code exchange for an access token: {response.status_code} {response.get_data(as_text=True)[:300]}")
    return response.get_json()["access_token"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--endpoint", choices=run.ENDPOINTS, default="code_exchange")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--sort", choices=("tottime", "cumulative", "both"), default="both")
    parser.add_argument("--top", type=int, default=35)
    parser.add_argument("--out", help="write the pstats file here")
    parser.add_argument("--database-url", help="default: a fresh SQLite file in a temporary directory")
    parser.add_argument("--idp-env", default="production", choices=("production", "development"))
    parser.add_argument("--raw", action="store_true",
                        help="call the WSGI app with a bare environ, as a server would, instead of Flask's test client "
                             "(whose own environ and response building cost as much as a lean request)")
    args = parser.parse_args(argv)

    python = run.pick_python()
    if Path(python).resolve() != Path(sys.executable).resolve():
        os.execv(python, [python, __file__, *(argv if argv is not None else sys.argv[1:])])

    tmp = Path(tempfile.mkdtemp(prefix="passerelle-profile-"))
    try:
        server = run.PasserelleServer("granian", python, [], 1, 3600, tmp, dict(os.environ), args.database_url, args.idp_env,
                                     smtp_port=run.free_port(), people=0)  # in-process: no server, no sign-ins
        server.secrets = run.instance_secrets()
        server.prepare(run.free_port())
        os.environ.update(server.env)
        for key in [k for k in os.environ if k.startswith("IDP_") and k not in server.env]:
            del os.environ[key]
        from idp import create_app

        app = create_app()
        client = app.test_client()
        timed = min(args.requests, 1000)
        total = args.warmup + timed + args.requests
        values: list[str] = []
        if args.endpoint in run.MINTED:
            out = tmp / "values.txt"
            server.mint(run.MINTED[args.endpoint], total, out)
            values = out.read_text().split()
        metadata = json.loads(app.extensions["oidc_metadata"])
        path = {"discovery": "/.well-known/openid-configuration", "jwks": "/jwks",
                "userinfo": urlsplit(metadata["userinfo_endpoint"]).path,
                "introspection": urlsplit(metadata["introspection_endpoint"]).path}.get(args.endpoint, "/token")
        basic = "Basic " + server.auth
        bearer = access_token(server, client, tmp) if args.endpoint in run.BEARER else ""
        posted = args.endpoint in (*run.TOKEN_POSTS, "introspection")
        prefix, suffix = run.token_body(args.endpoint, bearer) if posted else ("", "")
        method = "POST" if posted else "GET"
        authorization = f"Bearer {bearer}" if args.endpoint == "userinfo" else basic if posted else None

        def body_of(i: int) -> bytes:
            return (prefix + (values[i] if values else "") + suffix).encode()

        def raw(i: int) -> None:
            environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1",
                       "SERVER_PORT": "5000", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
                       "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr, "wsgi.version": (1, 0),
                       "wsgi.multithread": True, "wsgi.multiprocess": True, "wsgi.run_once": False,
                       "HTTP_HOST": "127.0.0.1:5000", "wsgi.input": io.BytesIO(b"")}
            if authorization:
                environ["HTTP_AUTHORIZATION"] = authorization
            if method == "POST":
                body = body_of(i)
                environ.update(CONTENT_TYPE="application/x-www-form-urlencoded", CONTENT_LENGTH=str(len(body)))
                environ["wsgi.input"] = io.BytesIO(body)
            seen = []
            chunks = app(environ, lambda status, response_headers, exc_info=None: seen.append(status))
            b"".join(chunks)
            getattr(chunks, "close", lambda: None)()
            if not seen[0].startswith("200"):
                raise SystemExit(f"request {i}: {seen[0]}")

        def one(i: int) -> None:
            if args.raw:
                return raw(i)
            headers = {"Authorization": authorization} if authorization else {}
            if method == "POST":
                resp = client.post(path, data=body_of(i), headers=headers, content_type="application/x-www-form-urlencoded")
            else:
                resp = client.get(path, headers=headers)
            if resp.status_code != 200:
                raise SystemExit(f"request {i}: {resp.status_code} {resp.get_data(as_text=True)[:300]}")

        for i in range(args.warmup):
            one(i)
        started, cpu_started = time.perf_counter(), time.process_time()
        for i in range(args.warmup, args.warmup + timed):
            one(i)
        plain = (time.perf_counter() - started) / timed
        cpu = (time.process_time() - cpu_started) / timed
        profiler = cProfile.Profile()
        started = time.perf_counter()
        profiler.enable()
        for i in range(args.warmup + timed, total):
            one(i)
        profiler.disable()
        elapsed = time.perf_counter() - started
        print(f"{args.endpoint}: {1000 * plain:.2f} ms per request without the profiler, {1000 * cpu:.2f} ms of CPU "
              f"({timed} requests, {'bare WSGI calls' if args.raw else 'Flask test client'}, one at a time); {1000 * elapsed / args.requests:.2f} ms under cProfile "
              f"({args.requests} requests): compare shares, not absolutes\n")
        sorts = ("tottime", "cumulative") if args.sort == "both" else (args.sort,)
        for key in sorts:
            stream = io.StringIO()
            stats = pstats.Stats(profiler, stream=stream)
            stats.strip_dirs().sort_stats(key).print_stats(args.top)
            text = stream.getvalue()
            print(f"==== by {key} ====")
            print(text[text.index("   ncalls"):] if "   ncalls" in text else text)
        if args.out:
            profiler.dump_stats(args.out)
            print(f"pstats written to {args.out}")
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
