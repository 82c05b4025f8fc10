"""gunicorn settings: `gunicorn 'idp:create_app()' -c config/gunicorn.conf.py`.

Every value can be changed from the environment (GUNICORN_*), so one file serves `make run`,
the benchmark and production behind a TLS proxy.
"""

import os

import gunicorn.http.wsgi

# No version banner (HDR-07): gunicorn names itself in every response's Server header.
gunicorn.http.wsgi.SERVER = "Passerelle"

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:5000")
# Workers share nothing but the database, so any number behaves as one (design.md).
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
# Sync workers by default: on 2 CPUs the bench measured threads (gthread, keep-alive) slower
# on every endpoint (docs/performance.md). GUNICORN_THREADS=4 switches to gthread.
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
worker_class = "gthread" if threads > 1 else "sync"
# The app opens database connections lazily, but building it in each worker keeps forked
# processes from ever sharing a connection pool.
preload_app = False
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5

# Only the TLS proxy in front may set X-Forwarded-*: list its address in production.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")

# Bounded request lines and headers: requests to an identity provider are small, and tight
# limits shrink the room for smuggling and header floods (gunicorn CVE-2024-1135, VAL-07).
limit_request_line = 8190
limit_request_fields = 64
limit_request_field_size = 8190

accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-")
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
# Query strings may carry codes and tokens; the access log keeps the path only.
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)ss'
