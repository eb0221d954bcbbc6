# Two commands on a fresh machine: `make up` runs the embedded stack, `make test` the whole suite.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: up up-monitoring test lint generate bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

up: $(STAMP)
	$(VENV)/bin/edcs up $(ARGS)

up-monitoring: $(STAMP)  # needs Debian's prometheus (apt-get install prometheus)
	$(VENV)/bin/edcs up --monitoring

# docs/metrics.md, deploy/prometheus/alerts*.yml and the Grafana dashboards, from the code
generate: $(STAMP)
	$(PY) scripts/generate-deploy

test: $(STAMP)
	./scripts/install-system-deps
	$(PY) -m ruff check .
	$(PY) -m mypy
	$(VENV)/bin/lint-imports
	$(PY) -m pytest -n 2 --dist loadfile  # two processes; a test file's stack stays in one

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m mypy
	$(VENV)/bin/lint-imports

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
