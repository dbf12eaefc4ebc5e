# Extagram: `make run` serves the site on the embedded default; `make test` runs the tests.
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
RUN_THREADS ?= 8
PYTEST_ARGS ?=

.PHONY: run test install install-test admin demo lint format messages bench clean

$(BIN)/python:
	"$$(scripts/find-python)" -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python requirements/base.txt pyproject.toml
	$(BIN)/pip install --quiet -r requirements/base.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed requirements/test.txt
	$(BIN)/pip install --quiet -r requirements/test.txt
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

# WEB_CONCURRENCY and GUNICORN_THREADS tell the upload budget (extagram/uploads/budget.py)
# what serves it.
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	@echo "Extagram is starting on http://$(HOST):$(PORT)/ (Ctrl+C stops it)"
	WEB_CONCURRENCY=1 GUNICORN_THREADS=$(RUN_THREADS) $(BIN)/gunicorn extagram.wsgi \
		--bind $(HOST):$(PORT) --workers 1 --threads $(RUN_THREADS) \
		--access-logfile - --graceful-timeout 5 --control-socket data/gunicorn.ctl \
		--limit-request-line 8190

# axe-core for the browser tests' accessibility audit, from the npm registry (pinned in
# tests/browser/package-lock.json); without npm that one test skips (CI installs npm).
AXE := tests/browser/node_modules/axe-core/axe.min.js
$(AXE): tests/browser/package.json tests/browser/package-lock.json
	npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error
	touch $@

test: install-test
	@if command -v npm >/dev/null; then $(MAKE) --no-print-directory $(AXE); \
	else echo "npm not found: the accessibility audit will skip (apt-get install npm)"; fi
	$(BIN)/pytest $(PYTEST_ARGS)

admin: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py createsuperuser

demo: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_demo

# Benchmarks: builds and starts its own compose stack (needs Docker and wrk). The optional
# PHP comparison (case 9) runs only when EXTAGRAM_PHP_ANCHOR names its folder, else it is
# skipped with a note. BENCH_ARGS=--help; BENCH_ARGS=--quick for a short smoke run.
bench: install-test
	$(BIN)/python -m bench $(BENCH_ARGS)

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

messages: install
	$(BIN)/python manage.py makemessages -l es -l ca --ignore '$(VENV)/*' --ignore 'tests/*'
	$(BIN)/python manage.py compilemessages --ignore '$(VENV)/*'

clean:
	rm -rf $(VENV) staticfiles test-artifacts tests/browser/node_modules
