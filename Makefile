# The two commands a newcomer needs: `make run` and `make test`. Only Python 3.11+, git and make.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app wsgi
HOST   ?= 127.0.0.1
PORT   ?= 5000
DEMO_COUNT ?= 500

.PHONY: run test setup migrate demo serve lint clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11 or newer is needed")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when the dependencies change.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

setup: $(VENV)/.installed

migrate: setup
	$(FLASK) db upgrade

demo: migrate
	$(FLASK) directory demo --count $(DEMO_COUNT) --if-empty
	$(FLASK) directory reindex --if-missing

serve: setup
	$(FLASK) run --host $(HOST) --port $(PORT)

## Set everything up, load demo data and serve on http://127.0.0.1:5000
run: demo serve

# One test worker per core (pytest-xdist), each on a database of its own (tests/conftest.py). A module's
# tests stay on one worker (some add up a figure together), but for those tests/conftest.py's SPREAD lists. TEST_WORKERS=0 runs
# them all in this process.
TEST_WORKERS ?= auto

## Set everything up, run the static checks (lint), then the whole test suite
test: lint
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

## Static checks, also run first by `make test`: ruff (lint, format), mypy (types) and bandit (security)
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	@# bandit logs a warning for every nosec line it passes over; show that log only when it fails.
	$(BIN)/bandit -c pyproject.toml -q -r directory 2>$(VENV)/bandit.log || { cat $(VENV)/bandit.log; exit 1; }

clean:
	rm -rf $(VENV) instance .pytest_cache
