# The README's two commands: `make run` and `make test`.
VENV ?= .venv
BIN := $(VENV)/bin
BIND ?= 127.0.0.1:8000

.PHONY: run test lint schema clean

$(BIN)/python:
	"$$(scripts/find-python)" -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when the package definitions change. `make run` needs the server and appctl only;
# the test tools (schemathesis, moto, ...) come with `make test`.
$(VENV)/.installed: $(BIN)/python pyproject.toml client/pyproject.toml
	$(BIN)/python -m pip install --quiet -e . -e ./client
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

## run: start the server on the embedded default (SQLite, ./var) with demo data
run: $(VENV)/.installed
	$(BIN)/appcontrol migrate --no-input
	$(BIN)/appcontrol demo --url http://$(BIND)
	$(BIN)/appcontrol serve --bind $(BIND) --no-migrate

## test: lint, validate the OpenAPI schema and run the whole test suite
test: $(VENV)/.installed-test .venv-divio/bin/divio
	$(BIN)/ruff check src client tests bench
	$(BIN)/ruff format --check --quiet src client tests bench
	$(BIN)/mypy client/src/appctl
	DJANGO_SETTINGS_MODULE=tests.settings $(BIN)/python -m django spectacular --validate --fail-on-warn --file /dev/null
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .venv-divio var .pytest_cache

# The official divio-cli, in its own environment: the compatibility tests run it unchanged.
.venv-divio/bin/divio: $(BIN)/python
	"$$(scripts/find-python)" -m venv .venv-divio
	.venv-divio/bin/python -m pip install --quiet 'divio-cli==4.0.5'
