# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RELEASE ?= 1.0.0
STAMP := $(VENV)/.installed

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $@

.PHONY: demo test lint bench constraints
demo: $(STAMP)
	$(BIN)/perfenv run --release $(RELEASE) --target local --suite suites/smoke.yaml --out out/$(RELEASE)
	@echo "report: out/$(RELEASE)/report.html (summary: out/$(RELEASE)/summary.md)"


lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

bench: $(STAMP)
	for b in benchmarks/bench_*.py; do PYTHONPATH=. $(BIN)/python -m benchmarks.$$(basename $$b .py) || exit $$?; done

constraints: $(STAMP)
	$(BIN)/pip freeze --exclude-editable --exclude perfenv > constraints.txt
