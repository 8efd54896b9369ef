# The two commands of the quick start: `make demo` and `make test`. Both set up .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The demo window: one week (Monday to Sunday) of the simulated gigafactory.
DEMO_START ?= 2026-11-09
DEMO_END ?= 2026-11-15
DAGSTER_PORT ?= 3000

export DAGSTER_HOME := $(CURDIR)/dagster_home
export PATH := $(CURDIR)/$(BIN):$(PATH)
export GX_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1

.PHONY: install demo test lint checks docs screenshots dev ingest clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/.installed

# The whole asset graph for the window as one run; a day the quality gate blocks is isolated, the others go on.
demo: install
	$(BIN)/python -m orchestration.backfill --from $(DEMO_START) --to $(DEMO_END)
	@$(BIN)/python -m orchestration.reporting.where

# Two workers, a test file each at a time (module fixtures build their warehouse once). The dbt manifest is
# parsed first, once, so that the workers do not both write it.
test: install lint
	$(BIN)/python -c "import orchestration.defs.warehouse"
	$(BIN)/python -m pytest -n 2 --dist loadfile

# Every asset check of the demo window against the current lake and warehouse (after `make demo`), as CI runs it.
checks: install
	$(BIN)/python -m orchestration.checks --from $(DEMO_START) --to $(DEMO_END)

# The warehouse's documentation site (dbt docs: every model and column, lineage, catalog), after `make demo`.
docs: install
	$(BIN)/python -m orchestration.warehouse_docs

# Screenshots of the director and quality reports of the last demo day (Debian's headless Chromium), after `make demo`.
screenshots: install
	@command -v chromium >/dev/null 2>&1 || { SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update && $$SUDO apt-get install -y chromium; }
	$(BIN)/python -m orchestration.reporting.screenshots --day $(DEMO_END) --out docs/screenshots --pdf

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Live sensor ingestion: MQTT broker, ingestion service and the simulated factory's telemetry, live (Ctrl-C stops all).
ingest: install
	$(BIN)/python -m orchestration.ingestion all --live

dev: install
	$(BIN)/dagster dev -w workspace.yaml --port $(DAGSTER_PORT)

clean:
	rm -rf data/warehouse.duckdb data/warehouse.duckdb.wal data/lake data/reports \
		dbt_project/target dbt_project/logs .pytest_cache
	find dagster_home -mindepth 1 ! -name dagster.yaml -exec rm -rf {} +
