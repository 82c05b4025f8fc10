# Passerelle. Two commands do everything on a fresh machine:
#   make run    virtual environment, install, database, demo client and user, IdP + demo RP
#               + the institution portal + the document portal
#   make test   what the tests need (Chromium, PostgreSQL, Redis, HAProxy, axe-core), then the
#               whole suite on SQLite (the cluster test included) and the non-browser suite
#               again on PostgreSQL
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
IDP := $(VENV)/bin/idp
STAMP := $(VENV)/.installed
# System packages: as root directly, otherwise through sudo.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PYTEST_ARGS ?=

.PHONY: help run portal-periods test test-sqlite test-postgres system-deps browser-deps translations compile-translations bench bench-postgres screenshots lint clean

help:
	@echo "make run           start the IdP on http://localhost:5000, the demo RP on http://127.0.0.1:5001"
	@echo "                   the institution portal on http://127.0.0.1:5003 and the document portal on"
	@echo "                   http://127.0.0.1:5004"
	@echo "make test          install test dependencies, run the suite on SQLite and on PostgreSQL"
	@echo "make translations  extract strings, update and compile the fr and en catalogs"
	@echo "make bench         load benchmark against node oidc-provider (bench/; BENCH_ARGS=--quick)"
	@echo "make bench-postgres  the same on a throwaway PostgreSQL, 1, 2 and 4 workers (docs/performance.md)"
	@echo "make screenshots   the console's images in docs/screenshots/ (docs/operators.md)"
	@echo "make lint          ruff, if installed"

# --- environment -----------------------------------------------------------------------

$(PY):
	$(PYTHON) -m venv $(VENV)

# Reinstall only when pyproject.toml changed since the last install.
$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test,postgres,demo,redis]"
	touch $(STAMP)

# Debian's Chromium for the browser tests, PostgreSQL's server for the second database run,
# redis-server for the tests of rate limits shared across hosts (tests/redis_support.py), and
# HAProxy for the cluster test (tests/cluster/: two hosts behind it, PostgreSQL and Redis).
system-deps:
	@missing=""; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	{ ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && id postgres >/dev/null 2>&1; } || missing="$$missing postgresql"; \
	command -v redis-server >/dev/null 2>&1 || missing="$$missing redis-server"; \
	{ command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ]; } || missing="$$missing haproxy"; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  $(SUDO) apt-get update -q; \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends $$missing; \
	fi

# Whatever else the browser tests need: axe-core from npm (tests/browser/package.json).
browser-deps:
	cd tests/browser && npm ci --no-audit --no-fund --loglevel=error

compile-translations: $(STAMP)
	$(VENV)/bin/pybabel compile -d translations

# --- run -------------------------------------------------------------------------------

# Reads one field of var/demo.json, which `idp demo --json` writes.
DEMO_FIELD := $(PY) -c 'import json, sys; print(json.load(open("var/demo.json"))[sys.argv[1]])'
# The demo sign-in partner "Banque Imaginaire" (issue 5): a second Passerelle on port 5002
# with its own settings and database; `idp partners demo-bank --json` writes var/bank.json.
BANK := IDP_CONFIG=config/banque-imaginaire.toml $(IDP)
BANK_FIELD := $(PY) -c 'import json, sys; print(json.load(open("var/bank.json"))[sys.argv[1]])'
# Passerelle's commands read the partners file, whose secret is the bank's latest one.
WITH_PARTNERS := IDP_PARTNERS_FILE=config/partners.demo.toml PASSERELLE_DEMO_BANK_SECRET="$$($(BANK_FIELD) client_secret)"
# The institution portal (issue 12, clients/institution_portal) on port 5003: its own database
# and secret key under var/, its client registered by `idp demo` (docs/institution-portal.md).
PORTAL := PORTAL_ENV=development PORTAL_ISSUER="$$($(DEMO_FIELD) issuer)" PORTAL_BASE_URL=http://127.0.0.1:5003 \
  PORTAL_MAIL_FROM="Portail pour les EED <no-reply@eed.passerelle.test>" PORTAL_SMTP_HOST=127.0.0.1 \
  PORTAL_SMTP_PORT=8025 PORTAL_SMTP_SECURITY=none \
  PORTAL_CLIENT_ID="$$($(DEMO_FIELD) institution_portal_client_id)" \
  PORTAL_CLIENT_SECRET="$$($(DEMO_FIELD) institution_portal_client_secret)" \
  PORTAL_SECRET_KEY="$$(cat var/institution-portal.key)" \
  PORTAL_DATABASE_URL="sqlite:///$(CURDIR)/var/institution-portal.sqlite3" $(PY) -m clients.institution_portal
# The document portal (issue 13, clients/document_portal) on port 5004: its own database, secret
# key and demo certificates under var/ (its settings file names the demo school's signer), its
# client registered by `idp demo` (docs/document-portal.md).
DOCS := DOCUMENT_PORTAL_ENV=development DOCUMENT_PORTAL_CONFIG=var/document-portal.toml \
  DOCUMENT_PORTAL_ISSUER="$$($(DEMO_FIELD) issuer)" DOCUMENT_PORTAL_BASE_URL=http://127.0.0.1:5004 \
  DOCUMENT_PORTAL_MAIL_FROM="Portail de documents <no-reply@documents.passerelle.test>" \
  DOCUMENT_PORTAL_SMTP_HOST=127.0.0.1 DOCUMENT_PORTAL_SMTP_PORT=8025 DOCUMENT_PORTAL_SMTP_SECURITY=none \
  DOCUMENT_PORTAL_CLIENT_ID="$$($(DEMO_FIELD) document_portal_client_id)" \
  DOCUMENT_PORTAL_CLIENT_SECRET="$$($(DEMO_FIELD) document_portal_client_secret)" \
  DOCUMENT_PORTAL_SECRET_KEY="$$(cat var/document-portal.key)" \
  DOCUMENT_PORTAL_DATABASE_URL="sqlite:///$(CURDIR)/var/document-portal.sqlite3" $(PY) -m clients.document_portal
# The demo transcript for the demo user, once Passerelle answers (it sends the email).
DOCS_DEMO_ISSUE := demo issue --email "$$($(DEMO_FIELD) email)" --wait 60 \
  --organization-id "$$($(DEMO_FIELD) issuer_organization_id)" \
  --organization-number "$$($(DEMO_FIELD) issuer_organization_number)" \
  --organization-name-fr "$$($(DEMO_FIELD) issuer_organization_name)" \
  --organization-name-en "$$($(DEMO_FIELD) issuer_organization_name_en)"

run: $(STAMP) compile-translations
	@mkdir -p var
	$(BANK) db upgrade
	@$(BANK) partners demo-bank --json > var/bank.json
	$(WITH_PARTNERS) $(IDP) db upgrade
	@$(WITH_PARTNERS) $(IDP) demo --json > var/demo.json
	@[ -s var/institution-portal.key ] || $(PY) -c 'import secrets; print(secrets.token_urlsafe(48))' > var/institution-portal.key
	@$(PORTAL) db upgrade
	@$(PORTAL) demo var/demo.json
	@[ -s var/document-portal.key ] || $(PY) -c 'import secrets; print(secrets.token_urlsafe(48))' > var/document-portal.key
	@$(DOCS) demo pki --directory var/document-portal-pki --config var/document-portal.toml \
	  --organization-number "$$($(DEMO_FIELD) issuer_organization_number)"
	@$(DOCS) db upgrade
	@echo
	@echo "  Passerelle     $$($(DEMO_FIELD) issuer)"
	@echo "  Demo RP        http://127.0.0.1:5001"
	@echo "  Demo bank      $$($(BANK_FIELD) issuer)  (the sign-in partner \"Banque Imaginaire\")"
	@echo "  Mailbox        http://127.0.0.1:8026  (every email Passerelle and the bank send, development only)"
	@echo "  Probes         $$($(DEMO_FIELD) issuer)/health/ready  and metrics  $$($(DEMO_FIELD) issuer)/metrics"
	@echo "  Demo client    $$($(DEMO_FIELD) client_id) / $$($(DEMO_FIELD) client_secret)"
	@echo "  Demo user      $$($(DEMO_FIELD) email) / $$($(DEMO_FIELD) password)"
	@echo "  Demo DLI       $$($(DEMO_FIELD) organization_name) $$($(DEMO_FIELD) organization_number)  (its primary user is the demo user)"
	@echo "  Portal (EED)   http://127.0.0.1:5003  (the institution portal: sign in as the demo user, two-factor required)"
	@echo "  Documents      http://127.0.0.1:5004  (the document portal: the demo user's transcript; school staff $$($(DEMO_FIELD) staff_email) / $$($(DEMO_FIELD) staff_password))"
	@echo "  Bank customer  $$($(BANK_FIELD) email) / $$($(BANK_FIELD) password)"
	@echo "  Ctrl-C stops them all."
	@echo
	@export DEMO_RP_ISSUER="$$($(DEMO_FIELD) issuer)" DEMO_RP_CLIENT_ID="$$($(DEMO_FIELD) client_id)" \
	  DEMO_RP_CLIENT_SECRET="$$($(DEMO_FIELD) client_secret)" DEMO_RP_SCOPE="$$($(DEMO_FIELD) scope)" $(WITH_PARTNERS); \
	$(IDP) mail devbox --directory var/mailbox & mail_pid=$$!; \
	set -a; . config/granian.env; set +a; export GRANIAN_LOG_ACCESS_ENABLED=true; \
	rm -rf var/prometheus var/prometheus-bank; mkdir -p var/prometheus var/prometheus-bank; \
	env -u IDP_PARTNERS_FILE -u PASSERELLE_DEMO_BANK_SECRET IDP_CONFIG=config/banque-imaginaire.toml GRANIAN_PORT=5002 \
	  PROMETHEUS_MULTIPROC_DIR=var/prometheus-bank $(VENV)/bin/granian idp:create_app & bank_pid=$$!; \
	export IDP_MAIL_SEND_AFTER_RESPONSE=false; \
	$(VENV)/bin/granian idp:create_app & idp_pid=$$!; \
	$(IDP) worker --interval 1 & worker_pid=$$!; \
	$(PY) -m clients.demo_rp & rp_pid=$$!; \
	$(PORTAL) run & portal_pid=$$!; \
	$(DOCS) run & docs_pid=$$!; \
	$(DOCS) $(DOCS_DEMO_ISSUE) & \
	pids="$$mail_pid $$bank_pid $$idp_pid $$worker_pid $$rp_pid $$portal_pid $$docs_pid"; \
	trap 'kill $$pids 2>/dev/null; wait $$pids 2>/dev/null; exit 0' INT TERM; \
	wait -n $$pids; status=$$?; \
	kill $$pids 2>/dev/null || true; wait 2>/dev/null || true; exit $$status

# The institution portal's reporting notices (docs/institution-portal.md, Notices), by hand
# while `make run` runs: production runs it from cron or a systemd timer.
portal-periods:
	@$(PORTAL) periods run

# --- test ------------------------------------------------------------------------------

# pytest exits 5 when it ran no test: make stops on any non-zero exit, so an empty run
# fails loudly instead of passing.
# Both runs always happen, so one report shows SQLite and PostgreSQL failures together.
test: $(STAMP) system-deps browser-deps
	@status=0; \
	$(MAKE) --no-print-directory test-sqlite || status=1; \
	$(MAKE) --no-print-directory test-postgres || status=1; \
	exit $$status

test-sqlite: $(STAMP)
	$(PY) -m pytest -q $(PYTEST_ARGS)

test-postgres: $(STAMP)
	bash tests/pg.sh $(PY) -m pytest -q -m "not browser and not cluster" $(PYTEST_ARGS)

# --- the rest --------------------------------------------------------------------------

translations: $(STAMP)
	$(PY) translations/update.py --compile

bench: $(STAMP)
	$(PY) bench/run.py $(BENCH_ARGS)

bench-postgres: $(STAMP)
	bash tests/pg.sh $(PY) bench/run.py --servers granian --skip-hello --workers 1,2,4 $(BENCH_ARGS)

screenshots: $(STAMP) browser-deps
	$(PY) docs/screenshots/console.py

lint: $(STAMP)
	@if [ -x $(VENV)/bin/ruff ]; then $(VENV)/bin/ruff check idp clients tests; \
	else echo "ruff is not installed: $(PY) -m pip install ruff"; fi

clean:
	rm -rf var instance .pytest_cache tests/browser/node_modules
	find . -name __pycache__ -not -path "./$(VENV)/*" -prune -exec rm -rf {} +
