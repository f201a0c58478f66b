# One entry point for people and CI. `make demo` and `make test` work on a fresh clone:
# they create .venv and install what they need first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Both install from uv.lock, the one lock file (README, Development: why uv, how to upgrade).
UV := $(BIN)/uv
RUNTIME_STAMP := $(VENV)/.installed-runtime
DEV_STAMP := $(VENV)/.installed-dev
# sam build needs the Lambda runtime's Python (3.13) on PATH; pyenv provides it on our machines.
SAM_ENV := PYENV_VERSION=3.13.0

.PHONY: help venv lock demo test lint typecheck cfn-lint unit integration build browser validator bench bench-record clean

help:
	@echo "make demo    run the daily job against the in-repo simulator, report into ./demo-output"
	@echo "make test    every check: ruff, mypy, cfn-lint, unit + integration tests, sam build + smoke test"
	@echo "make build   sam build (arm64, python3.13)"
	@echo "make bench   benchmarks (not part of make test), results in bench/out/"
	@echo "make bench-record   the same, into the tracked bench/results/ the README quotes"
	@echo "make lock    after editing dependencies: refresh uv.lock and the layer's requirements.txt"

# uv itself, installed with pip at the version uv.lock pins (the dev set lists it, so it stays).
$(UV):
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check "uv==$$(sed -n '/^name = "uv"$$/{n;s/^version = "\(.*\)"$$/\1/p;}' uv.lock)"

# What `fwcost` needs to run, nothing more (--inexact: a dev set already there stays).
$(RUNTIME_STAMP): pyproject.toml uv.lock | $(UV)
	$(UV) sync --quiet --locked --no-dev --inexact
	touch $@

# Runtime and development sets, exactly as locked.
$(DEV_STAMP): pyproject.toml uv.lock | $(UV)
	$(UV) sync --quiet --locked
	touch $@

venv: $(DEV_STAMP)

# After editing dependencies: the lock, .venv and the layer's requirements.txt follow.
lock: | $(UV)
	$(UV) lock
	$(MAKE) --no-print-directory venv
	$(BIN)/python layers/fwcost/export_requirements.py

demo: $(RUNTIME_STAMP)
	$(BIN)/fwcost demo --out demo-output

test: lint typecheck cfn-lint build browser validator
	$(BIN)/pytest

# The HTML report is checked in headless Chromium (Debian's package). Installed when missing
# and we may (root, as on CI); otherwise the browser tests skip and say why.
browser:
	@command -v chromium >/dev/null || [ "$$(id -u)" != 0 ] || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

# Every HTML email is checked by the W3C Nu checker: vnu.jar from npm (pinned), installed into
# .tools/ without its download script, run by Debian's Java. Java and npm are installed when
# missing and we may (root, as on CI); otherwise the validator test skips and says why.
VNU_VERSION := 26.9.27
validator:
	@(command -v java && command -v npm) >/dev/null || [ "$$(id -u)" != 0 ] || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			$$(command -v java >/dev/null || echo default-jre-headless) \
			$$(command -v npm >/dev/null || echo nodejs npm) >/dev/null)
	@grep -qs '"version": "$(VNU_VERSION)"' .tools/node_modules/vnu-jar/package.json || \
		! command -v npm >/dev/null || \
		npm install --silent --no-audit --no-fund --ignore-scripts --prefix .tools vnu-jar@$(VNU_VERSION)

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(DEV_STAMP)
	$(BIN)/mypy

cfn-lint: $(DEV_STAMP)
	$(BIN)/cfn-lint template.yaml

unit: $(DEV_STAMP)
	$(BIN)/pytest tests/unit

integration: $(DEV_STAMP)
	$(BIN)/pytest tests/integration

build: $(DEV_STAMP)
	$(SAM_ENV) PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/sam build --template template.yaml

bench: build
	$(BIN)/python -m bench

# On purpose only: the figures the README states (then copy its targets table into README.md).
bench-record: build
	$(BIN)/python -m bench --out bench/results

clean:
	rm -rf .aws-sam demo-output .pytest_cache .mypy_cache .ruff_cache
