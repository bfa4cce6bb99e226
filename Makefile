# Two commands: `make lab` starts the labs, `make test` runs every test.
# Both set up everything first: system packages (system-deps), a venv, the project.
# `make lite` builds the static JupyterLite site (build/lite/: the labs in the browser alone).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LAB_STAMP := $(VENV)/.installed-lab
LITE_STAMP := $(VENV)/.installed-lite
NPM_STAMP := deploy/lite/node_modules/.installed
# Debian packages the tests need: Chromium for the browser tests,
# docker-registry (distribution v2) and skopeo for the wire tests; bubblewrap isolates
# notebooks that `labkit grade --execute` runs.
SYSTEM_PACKAGES := chromium docker-registry skopeo bubblewrap nodejs
PORT ?= 8888

.PHONY: lab lite serve-lite test test-fast lint typecheck format system-deps venv node-deps nbgrader-lib bench bench-compare clean

lab: $(LAB_STAMP)
	@$(MAKE) --no-print-directory system-deps SYSTEM_DEPS_OPTIONAL=1
	@root=""; [ "$$(id -u)" = 0 ] && root="--allow-root"; \
	$(BIN)/jupyter lab --notebook-dir=notebooks --port=$(PORT) $$root --LabApp.default_url=/lab/tree/00-start-here.ipynb

# Every suite (unit, notebook, slow, browser, lite, hub) in one pytest session: each phase of
# the make prints its time, and pytest prints each suite's wall and CPU time at the end.
test: system-deps venv node-deps nbgrader-lib lint typecheck $(NPM_STAMP)
	@.ci/phase "tests (every suite)" .ci/suites $(BIN)/python $(PYTEST_ARGS)

# For quick local iteration (at most 90 s on 2 cores): everything but the browser, slow
# (notebooks included), lite and hub suites.
FAST_MARKS := not browser and not slow and not lite and not hub
test-fast: venv lint typecheck
	@.ci/phase "tests ($(FAST_MARKS))" $(BIN)/python -m pytest -m "$(FAST_MARKS)" $(PYTEST_ARGS)

# The JupyterLite site: JupyterLite from PyPI, Pyodide from npm (deploy/lite/package.json),
# the browser's wheels from PyPI (deploy/lite/requirements.txt). See deploy/lite/build.py.
lite: $(LITE_STAMP) $(NPM_STAMP)
	@.ci/phase "lite site" $(BIN)/python deploy/lite/build.py

serve-lite: lite
	$(BIN)/python -m http.server --bind 127.0.0.1 --directory build/lite $(PORT)

lint: venv
	@.ci/phase "ruff" sh -c '$(BIN)/ruff check . && $(BIN)/ruff format --check labkit tests bench'

# mypy on labkit/ (settings in pyproject.toml: untyped bodies checked too).
typecheck: venv
	@.ci/phase "mypy" $(BIN)/mypy

format: venv
	$(BIN)/ruff format labkit tests bench && $(BIN)/ruff check --fix .

venv: $(STAMP)

# npm packages the tests use (package.json, locked): configurable-http-proxy, JupyterHub's proxy,
# for tests/hub; they land in node_modules/.bin, which the hub test puts on the hub's PATH.
NODE_STAMP := node_modules/.installed
node-deps: $(NODE_STAMP)

# nbgrader for the hub test's exchange (release, fetch, submit, collect), in a folder of its own:
# installed into the venv its JupyterLab and server extensions would load in every test's lab.
NBGRADER_LIB := build/nbgrader-lib
nbgrader-lib: $(NBGRADER_LIB)/.installed

$(NBGRADER_LIB)/.installed: Makefile | $(STAMP)
	@.ci/phase "nbgrader (build/nbgrader-lib)" $(BIN)/python -m pip install --quiet --no-deps \
	  --upgrade --target $(NBGRADER_LIB) "nbgrader==0.9.6" "rapidfuzz==3.14.6"
	@touch $@

$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { echo "node-deps: npm is missing (apt-get install nodejs npm)"; exit 1; }
	@.ci/phase "npm packages" npm ci --no-audit --no-fund --silent
	@touch $(NODE_STAMP)

$(STAMP): pyproject.toml
	@.ci/phase "venv and Python packages" sh -c '\
	  [ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV) && \
	  $(BIN)/python -m pip install --quiet --upgrade pip && \
	  $(BIN)/python -m pip install --quiet -e ".[test]"'
	@touch $(STAMP)

# `make lab` needs the labs' runtime, JupyterLab and the served registry (extras lab, server);
# `make lite` the site's build tools (extra lite). A full test venv has both already.
$(LAB_STAMP): pyproject.toml
	@[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	@.ci/phase "JupyterLab and the labs' packages" $(BIN)/python -m pip install --quiet -e ".[lab,server]"
	@touch $@

$(LITE_STAMP): pyproject.toml
	@[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	@.ci/phase "JupyterLite build tools" $(BIN)/python -m pip install --quiet -e ".[lite]"
	@touch $@

$(NPM_STAMP): deploy/lite/package.json deploy/lite/package-lock.json
	@command -v npm >/dev/null || { echo "npm is missing: sudo apt-get install -y npm"; exit 1; }
	@.ci/phase "npm ci (Pyodide)" npm ci --prefix deploy/lite --no-audit --no-fund --silent
	@touch $@

# Installs the Debian packages above with apt when run as root; otherwise prints the
# exact apt line and fails. `make lab` runs it with SYSTEM_DEPS_OPTIONAL=1: the labs
# themselves need no system package, so there a missing one is only a warning.
system-deps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then echo "system-deps: all present ($(SYSTEM_PACKAGES))"; exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  .ci/phase "apt-get install$$missing" sh -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends$$missing >/dev/null"; \
	elif [ -n "$(SYSTEM_DEPS_OPTIONAL)" ]; then \
	  echo "system-deps: missing$$missing (only the browser and wire tests need them):"; \
	  echo "  sudo apt-get install -y --no-install-recommends$$missing"; \
	else \
	  echo "system-deps: missing$$missing. Install them with:"; \
	  echo "  sudo apt-get install -y --no-install-recommends$$missing"; \
	  exit 1; \
	fi

bench: venv node-deps nbgrader-lib
	@for b in bench/*_bench.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

# each quick bench at BASE and at this checkout, alternating, in one run (bench/compare.py)
bench-compare: venv
	@test -n "$(BASE)" || { echo "usage: make bench-compare BASE=<rev> [REPS=3] [ONLY=client,world]"; exit 2; }
	$(BIN)/python bench/compare.py $(BASE) --reps $(or $(REPS),3) $(if $(ONLY),--only $(ONLY))

clean:
	rm -rf $(VENV) node_modules deploy/lite/node_modules .pytest_cache .ruff_cache .hypothesis build *.egg-info
