# One-command set-up: `make app` and `make test` create .venv when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export MUJOCO_GL ?= egl

# apt-get needs root: through sudo where we are not root and sudo exists.
SUDO := $(shell [ "$$(id -u)" = 0 ] || command -v sudo)

.PHONY: venv app test bench clean-venv browser-deps

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	# torch first, alone: the pinned CPU build is taken before anything can pull a CUDA build.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

app: venv
	$(BIN)/streamlit run app.py --server.headless true --browser.gatherUsageStats false

# The browser test (tests/test_app_browser.py) drives Debian's chromium through chromedriver;
# installed only where /usr/bin/chromium or /usr/bin/chromedriver is missing.
browser-deps:
	@test -x /usr/bin/chromium -a -x /usr/bin/chromedriver || { \
		$(SUDO) apt-get update && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium chromium-driver; }

test: venv browser-deps
	$(BIN)/python -m pytest -q tests

bench: venv
	$(BIN)/python benchmarks/env_throughput.py

clean-venv:
	rm -rf $(VENV)
