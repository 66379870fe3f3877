# Two commands: `make run` and `make test`. Everything else is set up by them.
PYTHON ?= $(shell bin/find-python)
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
export HOST PORT

.PHONY: run test conformance bench install install-test browser lint clean

$(PY):
	@test -n "$(PYTHON)" || { echo "Python 3.12+ not found; set PYTHON=..."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $@

install: $(VENV)/.installed

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py run

# Debian's chromium drives the browser tests (Playwright's own download is not
# reachable here); installed when missing.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

test: $(VENV)/.installed-test browser
	$(VENV)/bin/lint-imports
	$(PY) -m pytest $(PYTEST_ARGS)

# Tempest's tempest.api.volume (Tempest from PyPI, in .venv-tempest) against a stack
# started as `make run` starts it, on a private var/ and port; see docs/CONFORMANCE.md.
conformance: install
	PYTHON=$(PYTHON) $(PY) conformance/run.py

bench: $(VENV)/.installed-test
	$(PY) bench/run.py

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check . && $(VENV)/bin/lint-imports

clean:
	rm -rf $(VENV) .venv-tempest var
