# LakeGuard: `make demo` runs the platform on embedded defaults; `make test` runs the tests.
# Both create .venv and install what they need; nothing else has to be set up first.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
WEB    := src/lakeguard/web

.PHONY: demo test lint bench clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "LakeGuard needs Python 3.11 or newer, found " + sys.version.split()[0]'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# One stamp per set of extras, redone whenever pyproject.toml changes.
$(VENV)/.installed-%: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[$*]'
	@touch $@

$(VENV)/.installed-base: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

# The dashboard's front-end libraries (Leaflet, uPlot), from npm at the versions locked.
$(WEB)/node_modules/.installed: $(WEB)/package.json $(WEB)/package-lock.json
	@command -v npm >/dev/null || { echo "The dashboard needs Node.js and npm to install its libraries; on Debian: apt-get install nodejs npm" >&2; exit 1; }
	cd $(WEB) && npm ci --no-audit --no-fund
	@touch $@

demo: $(VENV)/.installed-base $(WEB)/node_modules/.installed
	$(BIN)/lakeguard demo

test: $(VENV)/.installed-test $(WEB)/node_modules/.installed
	$(BIN)/python -m pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

bench: $(VENV)/.installed-bench
	$(BIN)/python -m bench.travel
	$(BIN)/python -m bench.recommend
	$(BIN)/python -m bench.forecast
	$(BIN)/python -m bench.ingest
	$(BIN)/python -m bench.twin
	$(BIN)/python -m bench.estimate

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache $(WEB)/node_modules
