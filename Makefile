# leadcore: `make run` starts the app with demo data, `make test` runs every test (on DuckDB, then
# on PostgreSQL), `make cluster` tries a dealer group (several servers over PostgreSQL).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
DEMO_LEADS ?= 20000
PORT   ?= 8501
# Only this machine by default; ADDRESS=0.0.0.0 serves the dealership's network.
ADDRESS ?= 127.0.0.1

# A dealer group on this machine: PostgreSQL in data/postgres/, SERVERS app servers, HAProxy on CLUSTER_PORT.
SERVERS ?= 3
CLUSTER_PORT ?= 8500

.PHONY: run test test-unit test-app test-e2e test-postgres bench demo init browser group-packages cluster messages clean-db

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

init: $(VENV)/.installed
	$(PY) -m leadcore init

demo: init
	$(PY) -m leadcore demo --if-empty --leads $(DEMO_LEADS)

run: demo
	$(PY) -m streamlit run app.py --server.port $(PORT) --server.address $(ADDRESS)

# The browser tests drive Debian's Chromium (and its screenshots want the colour emoji of the
# traffic lights); install both once when either is missing.
EMOJI_FONT := /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf
browser:
	@{ command -v chromium >/dev/null 2>&1 && [ -f $(EMOJI_FONT) ]; } || { \
	  echo "Installing Debian's chromium and emoji font for the browser tests..."; \
	  SUDO=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium fonts-noto-color-emoji >/dev/null; }

# PostgreSQL (the second backend's tests, the local cluster) and HAProxy (the cluster and its
# browser test) are Debian's packages; install them once when either is missing.
group-packages:
	@{ ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && { [ -x /usr/sbin/haproxy ] || command -v haproxy >/dev/null 2>&1; }; } || { \
	  echo "Installing Debian's postgresql and haproxy for a dealer group..."; \
	  SUDO=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq postgresql haproxy >/dev/null; }

# Every test on DuckDB (browser journeys included), then every unit and AppTest test that touches
# a database once more on a PostgreSQL the tests start (tests/conftest.py).
test: $(VENV)/.installed browser group-packages
	$(PY) -m pytest
	LEADCORE_TEST_ENGINE=postgres $(PY) -m pytest tests/unit tests/app

test-postgres: $(VENV)/.installed group-packages
	LEADCORE_TEST_ENGINE=postgres $(PY) -m pytest tests/unit tests/app

cluster: $(VENV)/.installed group-packages
	$(PY) -m leadcore cluster --servers $(SERVERS) --port $(CLUSTER_PORT) --leads $(DEMO_LEADS)

test-unit: $(VENV)/.installed
	$(PY) -m pytest tests/unit

test-app: $(VENV)/.installed
	$(PY) -m pytest tests/app

test-e2e: $(VENV)/.installed browser group-packages
	$(PY) -m pytest tests/e2e

bench: $(VENV)/.installed
	$(PY) -m leadcore bench

# Extract every UI text into the gettext template and merge it into each language's catalogue
# (new texts arrive empty, changed ones fuzzy: translate them; tests/unit/test_catalogue.py
# fails until every one is done). No .mo is built: leadcore.i18n compiles the .po when it starts.
MESSAGES_KEYWORDS := -k _ -k N_ -k ngettext:1,2 -k pgettext:1c,2
messages: $(VENV)/.installed
	$(VENV)/bin/pybabel extract -F babel.cfg $(MESSAGES_KEYWORDS) --no-wrap -o leadcore/locale/leadcore.pot .
	$(VENV)/bin/pybabel update -D leadcore -i leadcore/locale/leadcore.pot -d leadcore/locale --no-wrap --ignore-obsolete

clean-db:
	rm -f data/leadcore.duckdb data/leadcore.duckdb.wal
