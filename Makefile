# Parley: `make run` to chat on http://127.0.0.1:8000, `make test` for the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
HOST ?= 127.0.0.1
STAMP := $(VENV)/.installed

.PHONY: run test install demo superuser lint bench screenshots clean lock

$(STAMP): requirements.lock requirements-dev.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements-dev.lock
	touch $(STAMP)

install: $(STAMP)

# --no-proxy-headers: nothing stands in front of `make run`, and uvicorn would otherwise take
# a loopback client's X-Forwarded-For as its address (docs/deployment.md, "Client addresses").
# The job worker (mail) runs beside the server: uvicorn takes the shell's place (exec), so
# the worker's parent is the server, and --exit-with-parent stops it when the server stops,
# however it stops (docs/jobs.md, "The worker").
run: $(STAMP)
	$(BIN)/python manage.py migrate --noinput -v0
	$(BIN)/python manage.py parley_welcome
	$(BIN)/python manage.py parley_worker --no-reload --exit-with-parent & \
	exec $(BIN)/uvicorn parley.asgi:application --host $(HOST) --port $(PORT) --loop uvloop --http httptools --ws websockets-sansio --ws-max-size 65536 --no-proxy-headers --no-access-log

demo: $(STAMP)
	$(BIN)/python manage.py migrate --noinput -v0
	$(BIN)/python manage.py parley_demo

superuser: $(STAMP)
	$(BIN)/python manage.py createsuperuser

test: $(STAMP)
	$(BIN)/python -m tests.run

lint: $(STAMP)
	$(BIN)/ruff check parley tests bench
	$(BIN)/ruff format --check parley tests bench

bench: $(STAMP)
	$(BIN)/python -m bench

# PNGs of the main screens in docs/screenshots/, taken in headless Chromium.
screenshots: $(STAMP)
	$(BIN)/python manage.py parley_screenshots

# Both locks from requirements*.in, with every transitive package and its hashes (uv pip
# compile; docs/dependencies.md). The dev lock is constrained by the runtime one, so the two
# never disagree. Pins already in a lock are kept: `make lock LOCK_FLAGS=--upgrade` moves
# the transitive packages to their newest releases too.
LOCK := $(BIN)/uv pip compile --quiet --python $(BIN)/python --generate-hashes \
	--custom-compile-command "make lock" $(LOCK_FLAGS)

lock: $(STAMP)
	$(LOCK) requirements.in -o requirements.lock
	$(LOCK) requirements.in requirements-dev.in -c requirements.lock -o requirements-dev.lock

clean:
	rm -rf $(VENV) staticfiles .pytest_cache
