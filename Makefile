# One verb per target. `make run` and `make test` work on a fresh machine with Python 3.11.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
# uv from PATH, else bootstrapped into .tools/ (a private venv: works where the system pip is
# externally managed).
UV := $(shell command -v uv 2>/dev/null)
ifeq ($(UV),)
UV := .tools/bin/uv
endif
DEMO_DRIVE ?= .scout/drive
TRANSACTIONS ?= 60000
MONTHS ?= 12
STORES ?= 40
export DAGSTER_HOME ?= $(CURDIR)/.dagster
export SCOUT_DRIVE_DIR ?= $(DEMO_DRIVE)
export SCOUT_WAREHOUSE ?= .scout/warehouse.duckdb
# The monthly partitions start at the demo's first month, which `scout generate` notes in the
# Drive folder (read when each command runs, so right after generating too); empty, and so
# 2024-01, for a Drive it did not generate. Set SCOUT_PARTITIONS_START to override it.
export SCOUT_PARTITIONS_START ?= $(shell cat $(SCOUT_DRIVE_DIR)/.partitions-start 2>/dev/null)

.PHONY: install run demo-drive lint test ui ui-screenshots status bench bench-lake bench-ingest serve-ingest eval-brands clean

.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/pip install --quiet uv

$(BIN)/scout: pyproject.toml uv.lock | $(filter .tools/bin/uv,$(UV))
	$(UV) sync --frozen --extra dev --python python3.11
	@touch $@

install: $(BIN)/scout ## create .venv with every dependency (pinned by uv.lock)

demo-drive: install ## generate the demo Drive folder (skipped if it exists)
	@test -d $(DEMO_DRIVE)/transactions || $(BIN)/scout generate $(DEMO_DRIVE) \
		--transactions $(TRANSACTIONS) --months $(MONTHS) --stores $(STORES)

run: demo-drive ## the main job: demo Drive -> DuckDB warehouse, then a summary
	$(BIN)/scout run

# The local instance's configuration, as `scout run` writes it (scout_assets/runner.py).
$(DAGSTER_HOME)/dagster.yaml:
	mkdir -p $(DAGSTER_HOME)
	cp scout_assets/deploy/local/dagster.yaml $@

lint: install $(DAGSTER_HOME)/dagster.yaml ## ruff: the lint rules and the formatting; mypy: the types (pyproject.toml); dg: the code location loads
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	VIRTUAL_ENV=$(CURDIR)/$(VENV) $(BIN)/dg check defs

test: install ## the test suite (installs its Debian packages when root: scripts/system_packages.sh; starts its own PostgreSQL)
	scripts/system_packages.sh
	$(BIN)/pytest

ui: install $(DAGSTER_HOME)/dagster.yaml ## Dagster webserver + daemon on http://127.0.0.1:3000, sensors on: drop files in the Drive folder
	mkdir -p $(SCOUT_DRIVE_DIR)/transactions $(SCOUT_DRIVE_DIR)/interactions $(SCOUT_DRIVE_DIR)/supplements
	@echo "Drive folder: $(SCOUT_DRIVE_DIR) (the drive_sensor checks it every 30 s)"
	$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

ui-screenshots: install ## docs/screenshots/*.png: headless Chromium walks the UI of a small demo (failing month, stale asset, alert)
	$(BIN)/python scripts/ui_screenshots.py --out docs/screenshots

status: install ## what the warehouse holds, per table and month
	$(BIN)/scout status

BENCH_TRANSACTIONS ?= 100000
BENCH_LAYOUT ?= both
BENCH_FLAGS ?=

bench: install ## speed and memory vs the pandas way; writes docs/PERFORMANCE.md (BENCH_TRANSACTIONS=1000000 BENCH_LAYOUT=ndjson for the 1M target), then bench-lake and bench-ingest
	$(BIN)/python -m bench.run --transactions $(BENCH_TRANSACTIONS) --layout $(BENCH_LAYOUT) \
		--out docs/PERFORMANCE.md $(BENCH_FLAGS)
	$(MAKE) bench-lake
	$(MAKE) bench-ingest

bench-lake: install ## the DuckDB file vs a DuckLake with 1, 2, 4 workers on one NDJSON Drive, and the N-machine backfill model; into docs/PERFORMANCE.md
	$(BIN)/python -m bench.run --lake --transactions $(BENCH_TRANSACTIONS) --out docs/PERFORMANCE.md

INGEST_BENCH_POSTS ?= 20000

bench-ingest: install ## the ingestion API under a bounded load on 127.0.0.1; writes docs/INGEST_LOAD.md
	$(BIN)/python -m bench.ingest_load --transactions $(INGEST_BENCH_POSTS) --out docs/INGEST_LOAD.md

INGEST_HOST ?= 127.0.0.1
INGEST_PORT ?= 8765

serve-ingest: install ## the device ingestion API on http://$(INGEST_HOST):$(INGEST_PORT), landing posts in the Drive folder
	mkdir -p $(SCOUT_DRIVE_DIR)
	@echo "Tokens: $(BIN)/scout device-token create DEVICE (see docs/INGEST_API.md)"
	$(BIN)/scout serve-ingest --host $(INGEST_HOST) --port $(INGEST_PORT)

eval-brands: install ## the labelled brand-detection evaluations: noisy names, then device transcriptions per damage kind and hint state
	$(BIN)/python -m scout_assets.silver.brand_eval

clean: ## remove the generated warehouse, Drive and Dagster home
	rm -rf .scout .dagster
