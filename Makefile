# Two entry points for a fresh Debian machine with Python 3.11: `make demo` and `make test`.
# Both create or reuse .venv in the project root and install what is missing (apt and pip).

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

.PHONY: demo test lint messages system-deps install clean

system-deps:
	@missing=""; \
	command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || missing="$$missing mosquitto"; \
	command -v sqlite3 >/dev/null 2>&1 || missing="$$missing sqlite3"; \
	command -v socat >/dev/null 2>&1 || missing="$$missing socat"; \
	command -v mosquitto_pub >/dev/null 2>&1 || missing="$$missing mosquitto-clients"; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	[ -x /usr/bin/chromedriver ] || missing="$$missing chromium-driver"; \
	command -v pcscd >/dev/null 2>&1 || [ -x /usr/sbin/pcscd ] || missing="$$missing pcscd"; \
	dpkg -s vsmartcard-vpcd >/dev/null 2>&1 || missing="$$missing vsmartcard-vpcd"; \
	[ -f /usr/lib/softhsm/libsofthsm2.so ] || missing="$$missing softhsm2"; \
	dpkg -s libpcsclite-dev >/dev/null 2>&1 || missing="$$missing libpcsclite-dev"; \
	command -v swig >/dev/null 2>&1 || missing="$$missing swig"; \
	command -v systemd-analyze >/dev/null 2>&1 || missing="$$missing systemd"; \
	[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing="$$missing fonts-dejavu-core"; \
	[ -x /usr/lib/postgresql/15/bin/initdb ] || missing="$$missing postgresql-15"; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[central,edge,terminal,synth,dev]"
	touch $(STAMP)

install: system-deps $(STAMP)

test: install
	$(PY) -m pytest -q

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# After adding or changing a person-facing message: extract (pybabel, babel.cfg), update the
# kk/ru/en catalogs of every domain and compile them; then translate and run it again.
messages: install
	$(PY) -m i18n update
	$(PY) -m i18n check

# make demo DEMO_STORE=postgresql: the same story on a PostgreSQL primary and synchronous standby.
demo: install
	DEMO_ONCE=$(DEMO_ONCE) DEMO_STORE=$(DEMO_STORE) $(PY) -m demo

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
