# The two commands a reader needs: `make book` and `make test` (see README.md).
# Both start from a bare Python 3.11: they create .venv and install everything first.

PYTHON ?= python3.11
VENV   := .venv
BIN    := $(CURDIR)/$(VENV)/bin
STAMP  := $(VENV)/.installed

# Tools from the venv first; one shared cache for the synthetic corpus presets and features.
export PATH := $(BIN):$(PATH)
export SERTOOLS_CACHE ?= $(CURDIR)/.cache/sertools
export PYTHONHASHSEED := 0
export TF_CPP_MIN_LOG_LEVEL := 2
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: install book test unit nbval lint lab clean

install: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

## make book: execute every notebook (cached: only changed ones re-run) and build the HTML in _build/html
book: install
	$(BIN)/jupyter-book build . -W --keep-going

lint: install
	$(BIN)/ruff check sertools tests benchmarks book

unit: install
	$(BIN)/python -m pytest tests -m "not browser" -n 2 --dist loadfile

nbval: install
	$(BIN)/python -m pytest --nbval-lax --nbval-current-env -n 2 --dist loadfile -p no:cacheprovider book

## make test: lint, unit tests, every notebook under nbval, the book build, then browser tests on the built book
test: lint unit nbval book
	$(BIN)/python -m pytest tests -m browser

lab: install
	$(BIN)/jupyter lab --notebook-dir=book

clean:
	rm -rf _build .cache .pytest_cache
