# OpsAssure — everything a developer or CI needs. Only python3 (3.11+) and make are required:
# the pinned `uv` is installed into .tools/ and the locked dependencies into .venv/.
PYTHON ?= python3
# Two pytest workers: the machines have two cores.
PYTEST_ARGS ?= -n 2 --dist loadgroup
UV_VERSION := 0.13.8
UV := .tools/bin/uv
VENV := .venv
BIN := $(VENV)/bin
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)

.PHONY: run test lint bench setup clean messages fmt

setup: $(VENV)/.synced

$(UV):
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "OpsAssure needs Python 3.11+"'
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: pyproject.toml uv.lock $(UV)
	$(UV) sync --frozen --quiet --python $(PYTHON)
	@touch $@

run: setup  ## start the all-in-one system with demo data on http://127.0.0.1:8000
	$(BIN)/opsassure run

test: setup  ## the whole suite (SQLite; PostgreSQL + Redis when OPSASSURE_TEST_* are set)
	$(BIN)/pytest $(PYTEST_ARGS)

lint: setup  ## ruff, mypy, Django checks, migrations, OpenAPI schema, translations
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/mypy
	OPSASSURE_DATA_DIR=$$(mktemp -d) $(BIN)/opsassure check
	OPSASSURE_DATA_DIR=$$(mktemp -d) $(BIN)/opsassure manage makemigrations --check --dry-run
	OPSASSURE_DATA_DIR=$$(mktemp -d) $(BIN)/opsassure manage spectacular --validate --fail-on-warn --file /dev/null
	$(BIN)/python scripts/check_translations.py

bench: setup  ## benchmarks; they print their figures
	@for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

messages: setup  ## refresh the translation catalogs after changing strings
	cd src/opsassure && OPSASSURE_DATA_DIR=$$(mktemp -d) ../../$(BIN)/opsassure manage makemessages -l zh_Hans -l en -e html,txt,py,md --no-obsolete --no-location
	$(BIN)/python scripts/check_translations.py --compile

fmt: setup
	$(BIN)/ruff format src tests bench scripts
	$(BIN)/ruff check --fix src tests bench scripts

clean:
	rm -rf $(VENV) .tools .pytest_cache .mypy_cache .ruff_cache
