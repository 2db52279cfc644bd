# Two commands on a fresh machine: `make run` and `make test`. See README.md.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
MANAGE := $(PY) manage.py
HOST ?= 127.0.0.1
PORT ?= 8000
# Development defaults for `make run`; production reads the real environment (`make serve`).
DEV_ENV := DJANGO_DEBUG=$${DJANGO_DEBUG:-1}

# Find a Python 3.12+ by itself: PYTHON if given, then versioned names on PATH, then pyenv's
# installed interpreters (the pyenv shims fail unless PYENV_VERSION is set, so look them up).
find_python = $(shell for c in $(PYTHON) python3.14 python3.13 python3.12 python3 \
	$$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -rV); do \
	p=$$(command -v $$c 2>/dev/null) || continue; \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { echo $$p; break; }; \
	done)

.PHONY: help run test serve install install-dev migrate catalog reset-catalog admin-user \
	lint check pytest browser clean bench

help:
	@echo "make run            install, migrate, load the catalog once, serve on http://$(HOST):$(PORT)/"
	@echo "make test           install the dev tools, then lint, check and run the whole test suite"
	@echo "make reset-catalog  throw away every catalog record and load the fixtures again"
	@echo "make serve          production server (gunicorn + whitenoise), settings from the environment"
	@echo "make bench          load test at 100,000 exercises against Datasette (docs/benchmarks.md)"

$(VENV)/bin/python:
	@py="$(find_python)"; \
	if [ -z "$$py" ]; then \
		echo "No Python 3.12 or newer found. Install one (e.g. 'apt-get install python3.12'," >&2; \
		echo "or 'pyenv install 3.13'), or name it: make PYTHON=/path/to/python3.13 ..." >&2; \
		exit 1; \
	fi; \
	echo "Creating $(VENV) with $$py"; \
	$$py -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(VENV)/bin/python
	$(PIP) install --quiet -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(PIP) install --quiet -r requirements-dev.txt
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

migrate: install
	$(DEV_ENV) $(MANAGE) migrate --no-input

# Loads fixtures/ only into an empty catalog, so editors' changes survive every later `make run`.
catalog: migrate
	$(DEV_ENV) $(MANAGE) load_catalog

reset-catalog: migrate
	$(DEV_ENV) $(MANAGE) load_catalog --replace

admin-user: migrate
	$(DEV_ENV) $(MANAGE) ensure_admin

run: catalog admin-user
	@echo "Serving on http://$(HOST):$(PORT)/ (admin at http://$(HOST):$(PORT)/admin/)"
	$(DEV_ENV) $(MANAGE) runserver $(HOST):$(PORT)

# Production: debug off whatever the environment says, settings (DJANGO_SECRET_KEY, DATABASE_URL,
# DJANGO_ALLOWED_HOSTS, DJANGO_HTTPS, ...) from the environment; see docs/deploying.md.
PROD_ENV := DJANGO_DEBUG=0

serve: install
	@if [ -z "$${DJANGO_SECRET_KEY:-}" ]; then \
		echo "make serve needs DJANGO_SECRET_KEY in the environment (see .env.example and docs/deploying.md)." >&2; \
		exit 1; \
	fi
	$(PROD_ENV) $(MANAGE) migrate --no-input
	$(PROD_ENV) $(MANAGE) collectstatic --no-input --verbosity 0
	$(PROD_ENV) $(VENV)/bin/gunicorn cstosite.wsgi:application --bind $(HOST):$(PORT) \
		--workers $${GUNICORN_WORKERS:-3} --access-logfile - --forwarded-allow-ips 127.0.0.1

# A Debian package where its program is missing, installed when we may (as root with apt-get);
# otherwise a clear error. $(call debian_package,program,package,what it is for)
define debian_package
	@if ! command -v $(1) >/dev/null; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "Installing $(2) for $(3)"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(2) >/dev/null; \
		else \
			echo "$(2) is missing: run 'sudo apt-get install $(2)' for $(3)." >&2; exit 1; \
		fi; \
	fi
endef

# Browser tests drive Debian's Chromium.
browser:
	$(call debian_package,/usr/bin/chromium,chromium,the browser tests)

# Load test against Datasette and a "hello" ceiling (docs/benchmarks.md); not part of `make test`.
bench: install
	$(call debian_package,wrk,wrk,the benchmark)
	$(PY) bench/run.py $(BENCH_ARGS)

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

check: install-dev
	DJANGO_SETTINGS_MODULE=cstosite.settings_test $(MANAGE) check
	DJANGO_SETTINGS_MODULE=cstosite.settings_test $(MANAGE) makemigrations --check --dry-run

pytest: install-dev browser
	$(VENV)/bin/pytest $(PYTEST_ARGS)

test: lint check pytest

clean:
	rm -rf $(VENV) staticfiles
