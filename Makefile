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

.PHONY: install demo test test-e2e lint checks docs screenshots chromium java spark-env spark-check dev sql ingest clean

# uv (from PyPI) resolves and downloads in parallel: ~15 s where pip took ~2 minutes. Bytecode is compiled
# for what the platform imports, by importing it once (~25 s), not for every installed module (uv's
# --compile-bytecode: ~45 s more); a PYTHONDONTWRITEBYTECODE set in the shell must not reach the commands.
unexport PYTHONDONTWRITEBYTECODE
$(BIN)/.installed: pyproject.toml
	@start=$$(date +%s); echo "install: creating $(VENV) and installing the platform (a minute or two, once)"; \
	$(PYTHON) -m venv $(VENV) && \
	$(BIN)/python -m pip install -qq --disable-pip-version-check uv && \
	$(BIN)/uv pip install -q --python $(BIN)/python -e '.[dev]' && \
	$(BIN)/python -W ignore -c "import orchestration.definitions, orchestration.checks, dbt.cli.main, \
		great_expectations, pm4py, pytest, sqlfluff" && \
	touch $@ && echo "install: done in $$(( $$(date +%s) - start )) s"

install: $(BIN)/.installed

# The whole asset graph for the window as one run, one line per stage; a day the quality gate blocks is
# isolated, the others go on.
demo: install
	@$(BIN)/python -m orchestration.backfill --from $(DEMO_START) --to $(DEMO_END)
	@$(BIN)/python -m orchestration.reporting.where

# The fast tier: unit, dbt and in-process integration tests, with line coverage and a JSON report
# (pytest_results.json). Two workers, a test file each at a time (module fixtures build their warehouse once).
# The dbt manifest is parsed first, once, so that the workers do not both write it.
test: install
	@$(BIN)/python -c "from orchestration.dbt_runner import parse_project; parse_project()"
	$(BIN)/python -m pytest -n 2 --dist loadfile -m "not e2e" --cov --cov-report=term:skip-covered \
		--json-report --json-report-file=pytest_results.json --json-report-omit=log -p no:cacheprovider

# The end-to-end tier: tests that start processes (webserver and daemon, broker and ingestion service, CLIs,
# a distribution killed at every step) or run the whole graph of a day again and again. E2E chooses a part of
# it by marker (.ci/run runs the tests that wait on the daemon apart, beside the demo).
E2E ?= e2e
E2E_WORKERS ?= 2
test-e2e: install
	@$(BIN)/python -c "from orchestration.dbt_runner import parse_project; parse_project()"
	$(BIN)/python -m pytest -n $(E2E_WORKERS) --dist loadfile -m "$(E2E)" --durations=8

# Every asset check of the demo window against the current lake and warehouse, and its reports read as their
# readers get them (after `make demo`), as CI runs it.
checks: install
	$(BIN)/python -m orchestration.checks --from $(DEMO_START) --to $(DEMO_END)

# The warehouse's documentation site (dbt docs: every model and column, lineage, catalog), after `make demo`.
docs: install
	$(BIN)/python -m orchestration.warehouse_docs

# Screenshots of the director and quality reports of the last demo day (Debian's headless Chromium), after `make demo`.
screenshots: install chromium
	$(BIN)/python -m orchestration.reporting.screenshots --day $(DEMO_END) --out docs/screenshots --pdf

# Debian's headless Chromium (~60 s, once): the browser layout test of the reports (end-to-end tier) and the
# screenshots. CI installs it while the linters and the fast tier run.
chromium:
	@command -v chromium >/dev/null 2>&1 || { SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

# The warehouse and the mining statistics of two demo days on local Apache Spark against DuckDB's, table by table
# (orchestration/engines/spark_check.py; docs/scale-out.md). What it needs is installed once: Java 17 from
# Debian, and the platform with the optional extra `spark` (dbt-spark, pyspark) in a venv of its own,
# .venv-spark: with pyspark installed, Great Expectations imports pyspark's Connect client, which exits the
# process when its gRPC packages are missing (pytest's workers, the checks), so pyspark never enters .venv.
SPARK_VENV := .venv-spark
java:
	@command -v java >/dev/null 2>&1 || { SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless; }

$(SPARK_VENV)/.installed: pyproject.toml $(BIN)/.installed
	@start=$$(date +%s); echo "spark: installing the platform with pyspark and dbt-spark in $(SPARK_VENV) (once)"; \
	$(BIN)/uv venv -q --python $(BIN)/python $(SPARK_VENV) && \
	$(BIN)/uv pip install -q --python $(SPARK_VENV)/bin/python -e '.[dev,spark]' && \
	touch $@ && echo "spark: installed in $$(( $$(date +%s) - start )) s"

spark-env: $(SPARK_VENV)/.installed

# SPARK_CHECK_ARGS=--with-tests: dbt's data and unit tests on Spark too (about three times as long).
# Beside it, a daily run end to end with the engine Spark (every asset and check of a tiny plant's day) against
# the same day on DuckDB (tests/test_spark_daily_run.py, marker spark; the other test tiers leave it to this):
# its output follows the table comparison's. Both on local Spark with Spark's defaults for small data
# (orchestration/engines/local_spark_conf): side by side 3 min 1 s on 2 cores, nothing else running.
SPARK_CHECK_ARGS ?=
spark-check: java spark-env
	@export PATH=$(CURDIR)/$(SPARK_VENV)/bin:$$PATH SPARK_CONF_DIR=$(CURDIR)/orchestration/engines/local_spark_conf; daily_log=$$(mktemp); \
	$(SPARK_VENV)/bin/python -m pytest -m spark -p no:cacheprovider -q --durations=3 \
		tests/test_spark_daily_run.py >"$$daily_log" 2>&1 & daily=$$!; \
	$(SPARK_VENV)/bin/python -m orchestration.engines.spark_check $(SPARK_CHECK_ARGS); check=$$?; \
	wait $$daily; tested=$$?; \
	echo "--- the daily run on Spark against DuckDB (tests/test_spark_daily_run.py), run beside it"; \
	tail -n 40 "$$daily_log"; rm -f "$$daily_log"; \
	echo "spark-check: table comparison exit $$check, daily run's test exit $$tested"; \
	[ $$check -eq 0 ] && [ $$tested -eq 0 ]

# Python (ruff) and the dbt SQL (sqlfluff with the dbt templater, ~40 s on two cores: its own parser, not dbt, is the slow
# part). The templater connects to the profile's database: an in-memory one, so that linting never creates nor
# locks the warehouse.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	GIGAFACTORY_WAREHOUSE=:memory: $(BIN)/sqlfluff lint dbt_project

# Live sensor ingestion: MQTT broker, ingestion service and the simulated factory's telemetry, live (Ctrl-C stops all).
ingest: install
	$(BIN)/python -m orchestration.ingestion all --live

dev: install
	@if $(BIN)/python -c "import socket, sys; s = socket.socket(); sys.exit(s.connect_ex(('127.0.0.1', $(DAGSTER_PORT))) != 0)"; then \
		echo "make dev: port $(DAGSTER_PORT) is taken (another dagster dev?); choose another: make dev DAGSTER_PORT=3001"; \
		exit 1; fi
	$(BIN)/dagster dev -w workspace.yaml --port $(DAGSTER_PORT)

# The analysts' SQL shell on the analysts' copy of the demo warehouse (published by every run), read-only: an
# open session never keeps a run from writing (orchestration/analysts_copy.py).
# Harlequin (PyPI) on the project's own DuckDB; the duckdb-cli wheel (1.5) cannot read this DuckDB's files (2.0).
sql: install
	@test -f data/warehouse.analysts.duckdb || { echo "make sql: no data/warehouse.analysts.duckdb yet: run make demo first"; exit 1; }
	$(BIN)/harlequin -r data/warehouse.analysts.duckdb

clean:
	rm -rf data/warehouse.duckdb data/warehouse.duckdb.wal data/lake data/reports \
		dbt_project/target dbt_project/logs .pytest_cache
	find dagster_home -mindepth 1 ! -name dagster.yaml -exec rm -rf {} +
