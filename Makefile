# The targets README and CI name. `make demo` and `make check` are the two set-up commands.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
QUESTION ?= Wat werkt voor mbo-2 jongeren?

.PHONY: demo install install-test lint test check bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# The web app is part of the main install: `watwerkt ui` works right after `make demo`.
install: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[ui]'

# Install, index the bundled corpus, answer a first question and search the reports.
demo: install
	$(BIN)/watwerkt ingest
	$(BIN)/watwerkt ask "$(QUESTION)"
	$(BIN)/watwerkt search "$(QUESTION)" -k 3

# torch first, pinned: an unpinned torch pulls a multi-GB CUDA build. Debian's chromium for the
# browser tests is installed with apt when missing and we are root; otherwise a note, no failure.
install-test: $(BIN)/python
	command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; } || \
	  echo "chromium not installed: browser tests will be skipped (or fail under CI=true)"
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev,st]'

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# pytest's exit code 5 (no tests collected) is a failure here, not a pass.
test:
	$(BIN)/pytest; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing" >&2; exit 1; fi; \
	exit $$rc

check: install-test lint test

bench: install-test
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
