# Set-up is part of every target: a fresh machine needs only python3, pip and make.
SHELL := /bin/bash
PY_TOOLS := .tools
UV := $(PY_TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.synced-stamp

# Never let a library phone home, and never let uv fetch a Python interpreter.
export DBT_SEND_ANONYMOUS_USAGE_STATS := False
export DO_NOT_TRACK := 1
export GX_ANALYTICS_ENABLED := False
export AIRFLOW__USAGE_DATA_COLLECTION__ENABLED := False
export STREAMLIT_BROWSER_GATHER_USAGE_STATS := false
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := python3
# Installed libraries compiled once: where PYTHONDONTWRITEBYTECODE is set, every process
# would otherwise compile what it imports (GX's import 6.0 s -> 2.8 s, dbt's 2.8 -> 1.5).
export UV_COMPILE_BYTECODE := 1

.PHONY: demo test test-fast lint bench mutation airflow help spark-test

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(UV):
	python3 -m venv $(PY_TOOLS)
	$(PY_TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==0.13.8

$(STAMP): pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen
	touch $@

# The dashboard's browser test drives Debian's Chromium: Playwright's own browser
# download is not reachable from here.
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

$(CHROMIUM):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium

# A browser test counts what Chromium sends past loopback from its system calls.
STRACE := /usr/bin/strace

$(STRACE):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq strace

# Every process a test starts runs with tests/loopback_only.c preloaded (tests/preload.py),
# which the suite builds with Debian's C compiler.
CC_BIN := /usr/bin/cc

$(CC_BIN):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq gcc libc6-dev

# The Celery test's broker (tests/airflow/test_celery.py).
REDIS := /usr/bin/redis-server

$(REDIS):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq redis-server

# The suite runs on pytest-xdist workers, one per core by default (TEST_WORKERS=1 for
# serial), a test file to a worker so its module fixtures are made once.
TEST_WORKERS ?= $(shell nproc)
PARALLEL := $(if $(filter 1,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile)

# The Spark target (ingest.warehouse.spark) runs on Debian's Java 17.
JAVA := /usr/bin/java

$(JAVA):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq openjdk-17-jre-headless

demo: $(STAMP)  ## simulate agencies and run the pipeline on them
	$(BIN)/python -m ingest.lab.demo

test: $(STAMP) $(CHROMIUM) $(STRACE) $(CC_BIN) $(REDIS)  ## lint and the whole test suite, slow end-to-end tests included (CI)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/sqlfluff lint dbt_project/models
	$(BIN)/pytest $(PARALLEL)

test-fast: $(STAMP) $(CC_BIN)  ## the suite without the slow end-to-end tests
	$(BIN)/pytest $(PARALLEL) -m "not slow"

spark-test: $(STAMP) $(CC_BIN) $(JAVA)  ## the Spark target's tests: the extra `spark`, Java 17, pytest -m spark
	rm -f $(STAMP)  # the extra stays in the venv until the next target syncs it away
	$(UV) sync --frozen --extra spark
	$(BIN)/pytest -m spark

lint: $(STAMP)  ## ruff, mypy (pyproject's [tool.mypy]) and sqlfluff
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/sqlfluff lint dbt_project/models

bench: $(STAMP)  ## benchmarks: ratios against DuckDB's own floor
	$(BIN)/python -m bench

mutation: $(STAMP) $(CC_BIN)  ## mutation score: curated bugs in the core rules, each run against its tests
	$(BIN)/python -m bench.mutation

airflow: $(STAMP)  ## Airflow on localhost:8080 (AIRFLOW_HOME=data/airflow) with the simulated feeds
	scripts/airflow.sh

.PHONY: dashboard
dashboard: $(STAMP)  ## the dashboard on localhost:8501 over data/published (PORT=8501)
	$(BIN)/peaceops dashboard --port $(or $(PORT),8501)
