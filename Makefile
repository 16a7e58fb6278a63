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

.PHONY: install vendor chromium book test unit nbval lint lab clean

install: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

## make vendor: MathJax 3, RequireJS and the widgets HTML manager from npm (pinned by
## scripts/vendor/package-lock.json) into a gitignored static folder that the build copies
## to _build/html/_static/vendor/: the built pages never load anything from a CDN
VENDOR_STAMP := scripts/vendor/node_modules/_book_static/vendor/.installed
vendor: $(VENDOR_STAMP)

$(VENDOR_STAMP): scripts/vendor/package.json scripts/vendor/package-lock.json scripts/vendor/install.sh scripts/vendor/widgets-assets-path.js
	bash scripts/vendor/install.sh

## make chromium: the headless browser for the browser tests (Debian package; never `playwright install`)
chromium:
	@test -x /usr/bin/chromium || (apt-get update && apt-get install -y chromium)

## make book: execute every notebook (cached: only changed ones re-run) and build the HTML in _build/html
book: install vendor
	$(BIN)/jupyter-book build . -W --keep-going

lint: install
	$(BIN)/ruff check sertools tests benchmarks book

unit: install
	$(BIN)/python -m pytest tests -m "not browser" -n 2 --dist loadfile

nbval: install
	$(BIN)/python -m pytest --nbval-lax --nbval-current-env -n 2 --dist loadfile -p no:cacheprovider book

## make test: lint, unit tests, every notebook under nbval, the book build, then browser tests on the built book
test: lint unit nbval book chromium
	$(BIN)/python -m pytest tests -m browser

lab: install
	$(BIN)/jupyter lab --notebook-dir=book

clean:
	rm -rf _build .cache .pytest_cache
