"""The production role's daily report from a tiny hand-made warehouse: figures, order, the inline process
model, the JSON twin, and what is missing said so."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest

from orchestration.factory_calendar import FactoryCalendar
from orchestration.reporting import render_daily_reports

DAY = date(2026, 1, 7)
MODEL_SVG = """<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">
<svg xmlns="http://www.w3.org/2000/svg" width="120pt" height="40pt" viewBox="0 0 120 40">
<title>hand-made-process-model</title><rect x="1" y="1" width="118" height="38" fill="none" stroke="black"/>
</svg>
"""

# Factory day: A 0.90 x E 0.80 x Q 0.95 = 0.684 -> "68.4%"; the day before 0.70, two days before 0.60.
FACTORY_SQL = """
create table marts.fct_oee_factory_day as select * from (values
    ('2026-01-07'::date, 0.90, 0.80, 0.95, 0.684, 1000, 950, 50, 12, 900, 0.88, 3, 4),
    ('2026-01-06'::date, 0.90, 0.80, 0.9722222222, 0.70, 900, 870, 30, 5, 850, 0.90, 1, 4),
    ('2026-01-05'::date, 0.80, 0.75, 1.0, 0.60, 800, 800, 0, 0, 790, 0.95, 0, 4),
    ('2025-12-30'::date, 0.10, 0.10, 0.10, 0.001, 1, 1, 0, 0, 1, 0.10, 0, 4)
) as t(production_date, availability, effectiveness, quality_ratio, oee, produced_qty, good_qty, scrap_qty,
       rework_qty, cells_completed, first_pass_yield, breakdown_count, machine_count)
"""

# OEE: M-DRY-01 0.4 < M-COAT-01 0.5 < M-MIX-01 0.72; M-AGE-01 has no OEE (no planned time) -> last.
MACHINE_SQL = """
create table marts.fct_oee_machine_day as select * from (values
    ('2026-01-07'::date, 'M-MIX-01', 'L1', 'Mixing', 80000.0, 72000.0, 1000.0, 500.0, 100.0,
     0, 300, 297, 3, 1, 0.9, 0.8, 1.0, 0.72, NULL, NULL),
    ('2026-01-07'::date, 'M-COAT-01', 'L1', 'Coating', 80000.0, 60000.0, 1000.0, 500.0, 100.0,
     2, 300, 280, 20, 5, 0.75, 0.8, 0.8333333333, 0.5, 30000.0, 900.0),
    ('2026-01-07'::date, 'M-DRY-01', 'L1', 'Drying', 80000.0, 50000.0, 1000.0, 500.0, 100.0,
     1, 300, 290, 10, 0, 0.625, 0.64, 1.0, 0.4, 50000.0, 1800.0),
    ('2026-01-07'::date, 'M-AGE-01', 'L1', 'Aging', 0.0, 0.0, 0.0, 0.0, 0.0, 0, 0, 0, 0, 0,
     NULL, NULL, NULL, NULL, NULL, NULL),
    ('2026-01-06'::date, 'M-OLD-99', 'L1', 'Mixing', 80000.0, 1.0, 0.0, 0.0, 0.0, 0, 1, 1, 0, 0,
     0.01, 0.01, 0.01, 0.000001, NULL, NULL)
) as t(production_date, machine_id, line_id, activity, planned_busy_time_s, actual_production_time_s,
       setup_time_s, delay_time_s, idle_time_s, breakdown_count, produced_qty, good_qty, scrap_qty,
       rework_qty, availability, effectiveness, quality_ratio, oee, mtbf_s, mttr_s)
"""


def build_warehouse(path: Path, picture: Path | None) -> None:
    conn = duckdb.connect(str(path))
    try:
        conn.execute("set TimeZone = 'UTC'")
        conn.execute("create schema marts")
        conn.execute(FACTORY_SQL)
        conn.execute(MACHINE_SQL)
        if picture is not None:
            conn.execute("create schema process_mining")
            conn.execute(
                """
                create table process_mining.discovered_models as select
                    '2026-01-07'::date as production_date, 'inductive_miner' as algorithm,
                    0.2 as noise_threshold, 14 as places, 15 as transitions, 4 as silent_transitions,
                    34 as arcs, ? as picture_svg_path, null::varchar as picture_png_path,
                    'graphviz-pure' as renderer, 'discovered from 40 cases' as note
                """,
                [str(picture)],
            )
            conn.execute(
                """
                create table process_mining.conformance as select
                    '2026-01-07'::date as production_date,
                    'inductive_miner(noise_threshold=0.2)' as model_name,
                    40 as cases, 460 as events, 3 as variants, 3 as variants_used, 0.9876 as log_fitness,
                    0.95 as fitting_traces_share, 0.912 as precision, 'token-based replay' as note
                """
            )
    finally:
        conn.close()


def render(tmp_path: Path, with_mining: bool) -> tuple[str, dict]:
    picture = tmp_path / "model.svg"
    picture.write_text(MODEL_SVG, encoding="utf-8")
    warehouse = tmp_path / "warehouse.duckdb"
    build_warehouse(warehouse, picture if with_mining else None)
    reports = tmp_path / "reports"
    with duckdb.connect(str(warehouse), read_only=True) as conn:  # the report only reads
        rendered = render_daily_reports(
            conn,
            DAY,
            reports,
            ["production"],
            calendar=FactoryCalendar("Europe/Berlin", day_start_hour=6),
            generated_at=datetime(2026, 1, 8, 5, 30, tzinfo=UTC),
        )["production"]
    assert rendered.html == reports / DAY.isoformat() / "daily" / "production.html"
    assert not list(rendered.html.parent.glob("*.tmp"))
    return rendered.html.read_text(encoding="utf-8"), json.loads(rendered.json.read_text())


def section(figures: dict, key: str) -> dict:
    return next(s for s in figures["sections"] if s["key"] == key)


def test_daily_report_with_everything(tmp_path):
    html, figures = render(tmp_path, with_mining=True)

    assert "2026-01-07" in html and "2026-01-08 05:30:00 UTC" in html
    board = {kpi["kpi"]: kpi["value"] for kpi in figures["kpis"]}
    assert board["oee"] == pytest.approx(0.684)
    assert ">68.4%<" in html  # 0.90 x 0.80 x 0.95, one decimal

    machines = section(figures, "machines")
    assert [m["machine_id"] for m in machines["rows"]] == ["M-DRY-01", "M-COAT-01", "M-MIX-01", "M-AGE-01"]
    assert machines["rows"][0]["oee"] == pytest.approx(0.4) and machines["rows"][3]["oee"] is None
    order = [html.index(m) for m in ("M-DRY-01", "M-COAT-01", "M-MIX-01", "M-AGE-01")]
    assert order == sorted(order)  # worst first, no OEE last
    assert "M-OLD-99" not in html

    assert "hand-made-process-model" in html and "<?xml" not in html and "<!DOCTYPE svg" not in html
    mining = section(figures, "process_model")
    assert {row["figure"]: row["value"] for row in mining["rows"]} == {
        "Cases": 40,
        "Variants": 3,
        "Fitness": "98.8%",
        "Precision": "91.2%",
    }
    assert not any(item.startswith(("process model", "conformance")) for item in figures["missing"])


def test_daily_report_without_process_mining(tmp_path):
    html, figures = render(tmp_path, with_mining=False)

    assert "Process mining is not available for this day" in html
    assert any("process_mining.discovered_models not found" in item for item in figures["missing"])
    assert not figures["complete"] and "INCOMPLETE" in html
    assert "hand-made-process-model" not in html
    assert {kpi["kpi"]: kpi["value"] for kpi in figures["kpis"]}["oee"] == pytest.approx(0.684)
