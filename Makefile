# One verb per target. `make run` and `make test` work on a fresh machine with Python 3.11.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
DEMO_DRIVE ?= .scout/drive
TRANSACTIONS ?= 60000
MONTHS ?= 12
STORES ?= 40
export DAGSTER_HOME ?= $(CURDIR)/.dagster
export SCOUT_DRIVE_DIR ?= $(DEMO_DRIVE)
export SCOUT_WAREHOUSE ?= .scout/warehouse.duckdb

.PHONY: install run demo-drive test ui status bench eval-brands clean

$(UV):
	python3 -m pip install --quiet --user uv

$(BIN)/scout: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --extra dev
	@touch $@

install: $(BIN)/scout ## create .venv with every dependency (pinned by uv.lock)

demo-drive: install ## generate the demo Drive folder (skipped if it exists)
	@test -d $(DEMO_DRIVE)/transactions || $(BIN)/scout generate $(DEMO_DRIVE) \
		--transactions $(TRANSACTIONS) --months $(MONTHS) --stores $(STORES)

run: demo-drive ## the main job: demo Drive -> DuckDB warehouse, then a summary
	$(BIN)/scout run

test: install ## the test suite (starts its own PostgreSQL where needed)
	$(BIN)/pytest

ui: install ## Dagster webserver + daemon on http://127.0.0.1:3000
	mkdir -p $(DAGSTER_HOME)
	test -f $(DAGSTER_HOME)/dagster.yaml || cp deploy/local/dagster.yaml $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

status: install ## what the warehouse holds, per table and month
	$(BIN)/scout status

eval-brands: install ## the labelled brand-detection evaluation (precision, recall, worst brands)
	$(BIN)/python -m scout_assets.silver.brand_eval

clean: ## remove the generated warehouse, Drive and Dagster home
	rm -rf .scout .dagster
