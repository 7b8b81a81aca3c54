# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RELEASE ?= 1.0.0
STAMP := $(VENV)/.installed
# pytest-xdist workers: most slow tests wait on real processes (emulator, app, load), so more
# workers than the two cores still shortens the run.
PYTEST_WORKERS ?= 4

# --no-compile: byte-compiling all of pulumi_aws took most of the install; Python compiles the
# modules a command really imports, once, on first use.
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check --no-compile -c constraints.txt -e '.[dev]'
	touch $@

.PHONY: demo test lint ruff imports mypy pytest bench constraints
demo: $(STAMP)
	$(BIN)/perfenv run --release $(RELEASE) --target local --suite suites/smoke.yaml --out out/$(RELEASE)
	@echo "report: out/$(RELEASE)/report.html (summary: out/$(RELEASE)/summary.md)"

# The checks run side by side: ruff, the layer contract, mypy (strict) and the tests. Each says
# what it found; any failure fails `make test`.
test: $(STAMP)
	$(MAKE) --no-print-directory -j4 ruff imports mypy pytest

lint: ruff imports mypy

ruff: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

imports: $(STAMP)
	$(BIN)/lint-imports

# narrow.py: mypy reads only the provider subpackages the code uses (docs/adr/0012).
mypy: $(STAMP)
	$(BIN)/python .typecheck/narrow.py
	$(BIN)/mypy

# Tests that judge a latency or a rate (marker `timing`) run alone, once the others are done.
pytest: $(STAMP)
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadgroup -m "not cloud and not timing"
	$(BIN)/pytest -m "timing and not cloud"

bench: $(STAMP)
	for b in benchmarks/bench_*.py; do PYTHONPATH=. $(BIN)/python -m benchmarks.$$(basename $$b .py) || exit $$?; done

constraints: $(STAMP)
	$(BIN)/pip freeze --exclude-editable --exclude perfenv > constraints.txt
