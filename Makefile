# SafeSphere developer commands. `make run` and `make test` are all a new machine needs.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=
CODE := src tests migrations $(wildcard bench)

.PHONY: install run test test-sqlite test-postgres lint fmt bench clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: install  ## Migrate the SQLite default and serve on http://127.0.0.1:8000
	$(BIN)/safesphere serve

test: install  ## The whole suite: on SQLite, then on a real PostgreSQL server the tests start
	bash scripts/ensure-system-deps.sh
	$(MAKE) --no-print-directory test-sqlite test-postgres

test-sqlite: install
	$(BIN)/pytest $(PYTEST_ARGS)

test-postgres: install
	SAFESPHERE_TEST_BACKEND=postgres $(BIN)/pytest -m "not sqlite_only" $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check $(CODE)
	$(BIN)/ruff format --check $(CODE)
	$(BIN)/mypy src tests

fmt: install
	$(BIN)/ruff format $(CODE)
	$(BIN)/ruff check --fix $(CODE)

bench: install  ## Run the benchmarks (about 20 minutes on 2 cores: the last full run took 18.5) and rewrite docs/BENCHMARKS.md and its plots
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,bench]'
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
