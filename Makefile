# The shop. `make help` lists the targets; the README explains them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export PORT

.DEFAULT_GOAL := help

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  \033[1m%-14s\033[0m %s\n", $$1, $$2}'

$(VENV)/.installed: requirements.txt constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt -c constraints.txt
	@touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(PY) -m pip install --quiet -r requirements-dev.txt -c constraints.txt
	@touch $@

.PHONY: constraints
constraints: $(VENV)/.installed-dev ## Pin every installed package (what the requirements pull in) into constraints.txt
	@{ sed -n '1,3p' constraints.txt; $(PY) -m pip freeze --exclude-editable | grep -v '^-e'; } > constraints.txt.new
	@mv constraints.txt.new constraints.txt

.PHONY: install
install: $(VENV)/.installed ## Create .venv and install the pinned requirements

.PHONY: services
services: install ## Start embedded PostgreSQL and Redis when DATABASE_URL / REDIS_URL are unset
	@$(PY) -m shop.core.embedded up

.PHONY: migrate
migrate: services ## Apply database migrations
	$(PY) manage.py migrate --no-input

DEMO_PRODUCTS ?= 2000

.PHONY: demo
demo: migrate ## Load the demo data once: accounts, sellers, categories, $(DEMO_PRODUCTS) products
	$(PY) manage.py seed_demo --once --products $(DEMO_PRODUCTS)

.PHONY: run
run: demo ## Start web, worker and beat (honcho + Procfile) on http://127.0.0.1:$(PORT)
	@echo "The shop: http://127.0.0.1:$(PORT)/  (admin: /admin/, API docs: /api/v1/docs/; Ctrl-C stops it, 'make stop' stops the embedded services)"
	$(VENV)/bin/honcho start -f Procfile

.PHONY: stop
stop: ## Stop the embedded PostgreSQL and Redis
	@test -x $(PY) && $(PY) -m shop.core.embedded down || echo "nothing to stop (no .venv)"

# The browser tests (e2e/) drive Debian's Chromium with Playwright; without it they are skipped, and say why.
CHROMIUM := /usr/bin/chromium

.PHONY: test
test: $(VENV)/.installed-dev services ## The whole suite: pytest against real PostgreSQL and Redis (browser tests included), lint-imports, ruff
	@test -x $(CHROMIUM) || echo "e2e: Chromium not found at $(CHROMIUM): the browser tests will be skipped (make chromium installs it)"
	$(VENV)/bin/pytest
	$(MAKE) lint

.PHONY: test-browser
test-browser: $(VENV)/.installed-dev services ## Only the browser tests (e2e/); screenshots in var/e2e-screenshots/
	$(VENV)/bin/pytest e2e

.PHONY: chromium
chromium: ## Install Debian's Chromium for the browser tests (as root; Playwright downloads no browser)
	@test -x $(CHROMIUM) || apt-get install -y chromium || (apt-get update && apt-get install -y chromium)
	@$(CHROMIUM) --version

.PHONY: lint
lint: $(VENV)/.installed-dev ## ruff (lint and format check) and import-linter contracts
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

.PHONY: format
format: $(VENV)/.installed-dev ## Format and auto-fix with ruff
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

.PHONY: bench
bench: services ## Load benchmark of the storefront pages (BENCH_PRODUCTS=1000000); writes BENCHMARKS.md
	$(PY) bench/pages.py

.PHONY: shell
shell: services ## Django shell
	$(PY) manage.py shell

.PHONY: clean-data
clean-data: ## Stop the embedded services and delete var/ (database, Redis, media)
	@$(PY) -m shop.core.embedded destroy
