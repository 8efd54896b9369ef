"""Process mining on hand-made logs with known ground truth (and the pm4py running example)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from orchestration.mining import (
    CONFORMANCE_TABLE,
    MODELS_TABLE,
    check_conformance,
    discover_process_model,
    load_event_log,
    mine_event_log,
    model_picture,
    render_model_picture,
    to_rows,
    variant_counts,
    write_results,
)
from orchestration.mining.event_log import ACTIVITY, CASE, EVENT_LOG_COLUMNS, TIMESTAMP, empty_event_log

DAY = date(2026, 1, 5)
BASE = pd.Timestamp("2026-01-05T06:00:00Z")
RUNNING_EXAMPLE = Path(__file__).resolve().parents[2] / "shared" / "data" / "real" / "running-example.xes"


def make_log(compliant: int = 20, skipping: int = 2) -> pd.DataFrame:
    """``compliant`` cases A->B->C, then ``skipping`` cases A->C."""
    rows = []
    for number in range(compliant + skipping):
        route = ["A", "B", "C"] if number < compliant else ["A", "C"]
        for step, activity in enumerate(route):
            end = BASE + pd.Timedelta(minutes=10 * number + step)
            rows.append({CASE: f"case-{number:02d}", ACTIVITY: activity, TIMESTAMP: end})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def compliant_log() -> pd.DataFrame:
    return make_log(compliant=20, skipping=0)


@pytest.fixture(scope="module")
def deviating_log() -> pd.DataFrame:
    return make_log(compliant=20, skipping=2)


@pytest.fixture(scope="module")
def compliant_model(compliant_log):
    return discover_process_model(compliant_log, noise_threshold=0.2)


def test_discovery_finds_the_sequence(compliant_model):
    assert compliant_model.net is not None
    assert compliant_model.cases == 20 and compliant_model.events == 60
    labels = sorted(t.label for t in compliant_model.net.transitions if t.label is not None)
    assert labels == ["A", "B", "C"]
    assert compliant_model.visible_transitions == 3
    assert compliant_model.places >= 2 and compliant_model.arcs >= 6


def test_perfect_log_fits_its_own_model(compliant_log, compliant_model):
    result = check_conformance(compliant_log, compliant_model)
    assert result.log_fitness == pytest.approx(1.0)
    assert result.fitting_traces_share == pytest.approx(1.0)
    assert result.precision is not None and 0.0 <= result.precision <= 1.0
    assert (result.cases, result.events, result.variants, result.variants_used) == (20, 60, 1, 1)


def test_deviating_cases_lower_fitness(deviating_log, compliant_model):
    result = check_conformance(deviating_log, compliant_model)
    assert result.log_fitness is not None and result.log_fitness < 1.0
    assert result.fitting_traces_share == pytest.approx(20 / 22)
    assert (result.cases, result.variants, result.variants_used) == (22, 2, 2)


def test_conformance_is_bounded_to_the_top_variants(deviating_log, compliant_model):
    assert variant_counts(deviating_log) == [(("A", "B", "C"), 20), (("A", "C"), 2)]
    result = check_conformance(deviating_log, compliant_model, max_variants=1)
    assert (result.variants, result.variants_used, result.cases, result.cases_used) == (2, 1, 22, 20)
    assert result.log_fitness == pytest.approx(1.0)  # the deviating variant was not replayed
    assert "top 1 of 2 variants" in result.note


def test_empty_log_gives_reasons_not_errors(tmp_path):
    empty = empty_event_log()
    model = discover_process_model(empty)
    assert model.net is None and model.transitions == 0
    result = check_conformance(empty, model)
    assert result.log_fitness is None and result.precision is None and result.fitting_traces_share is None
    assert "no complete case" in result.note
    picture = render_model_picture(model, tmp_path, "empty")
    assert picture.svg_path is None and picture.png_path is None and "no model" in picture.note


def test_picture_renders_with_available_graphviz(compliant_model, tmp_path):
    if not model_picture.find_renderers():
        pytest.skip("no Graphviz renderer (dot or graphviz-pure) installed")
    picture = render_model_picture(compliant_model, tmp_path / "pictures", "model")
    assert picture.renderer is not None
    assert picture.svg_path == tmp_path / "pictures" / "model.svg"
    svg = picture.svg_path.read_text(encoding="utf-8")
    assert svg.startswith("<?xml") or "<svg" in svg
    assert picture.png_path is not None and picture.png_path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list((tmp_path / "pictures").glob("*.tmp"))


def test_picture_without_renderer_is_a_note(compliant_model, tmp_path, monkeypatch):
    monkeypatch.setattr(model_picture, "find_renderers", lambda: [])
    picture = render_model_picture(compliant_model, tmp_path, "model")
    assert (picture.svg_path, picture.png_path, picture.renderer) == (None, None, None)
    assert "no Graphviz renderer" in picture.note

    monkeypatch.setattr(model_picture, "find_renderers", lambda: ["/bin/false"])
    picture = render_model_picture(compliant_model, tmp_path, "model")
    assert picture.svg_path is None and "every renderer failed" in picture.note
    assert not list(tmp_path.iterdir())  # no stray temporary files


def test_write_results_is_idempotent(compliant_log, compliant_model, tmp_path, monkeypatch):
    monkeypatch.setattr(model_picture, "find_renderers", lambda: [])  # pictures are tested above
    conformance = check_conformance(compliant_log, compliant_model)
    picture = render_model_picture(compliant_model, tmp_path, "model")
    conn = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    try:
        other_day = to_rows(date(2026, 1, 4), compliant_model, conformance, picture)
        write_results(conn, date(2026, 1, 4), other_day)
        for _ in range(2):
            written = write_results(conn, DAY, to_rows(DAY, compliant_model, conformance, picture))
            assert written == {MODELS_TABLE: 1, CONFORMANCE_TABLE: 1}
        for table in (MODELS_TABLE, CONFORMANCE_TABLE):
            per_day = conn.execute(
                f"select production_date, count(*) from {table} group by 1 order by 1"
            ).fetchall()
            assert per_day == [(date(2026, 1, 4), 1), (DAY, 1)]
        fitness, model_name = conn.execute(
            f"select log_fitness, model_name from {CONFORMANCE_TABLE} where production_date = ?", [DAY]
        ).fetchone()
        assert fitness == pytest.approx(1.0) and model_name == "inductive_miner(noise_threshold=0.2)"
        with pytest.raises(ValueError):  # rows of another day are refused
            write_results(conn, DAY, other_day)
    finally:
        conn.close()


def test_load_event_log_keeps_utc_instants(tmp_path):
    conn = duckdb.connect(str(tmp_path / "events.duckdb"))
    try:
        conn.execute("set TimeZone = 'America/New_York'")  # a caller's session zone must not leak in
        conn.execute("create schema marts")
        conn.execute(
            """
            create table marts.fct_process_events as
            select * from (values
                ('e2', 'b1', 'p', 'Coating', 'L1', 'M2', 'op', '2026-01-05 07:00:00+00'::timestamptz,
                 '2026-01-05 08:00:00+00'::timestamptz, 3600.0, 10, 10, 0, false, '2026-01-05'::date, 'S1'),
                ('e1', 'b1', 'p', 'Mixing', 'L1', 'M1', 'op', '2026-01-05 06:00:00+00'::timestamptz,
                 '2026-01-05 07:00:00+00'::timestamptz, 3600.0, 10, 10, 0, false, '2026-01-05'::date, 'S1'),
                ('e3', 'b2', 'p', 'Mixing', 'L1', 'M1', 'op', '2026-01-04 06:00:00+00'::timestamptz,
                 '2026-01-04 07:00:00+00'::timestamptz, 3600.0, 10, 10, 0, false, '2026-01-04'::date, 'S1')
            ) as t(event_id, case_id, product_id, activity, line_id, machine_id, resource, start_ts, end_ts,
                   duration_s, produced_qty, good_qty, scrap_qty, is_rework, production_date, shift_id)
            """
        )
        log = load_event_log(conn, "2026-01-05")
        assert list(log.columns) == EVENT_LOG_COLUMNS
        assert list(log[ACTIVITY]) == ["Mixing", "Coating"]
        assert str(log[TIMESTAMP].dt.tz) == "UTC" and str(log["start_timestamp"].dt.tz) == "UTC"
        assert log[TIMESTAMP].iloc[0] == pd.Timestamp("2026-01-05T07:00:00Z")
        assert load_event_log(conn, date(2026, 1, 6)).empty
    finally:
        conn.close()


def test_mine_event_log_end_to_end(deviating_log, tmp_path, monkeypatch):
    monkeypatch.setattr(model_picture, "find_renderers", lambda: [])
    run = mine_event_log(deviating_log, DAY, tmp_path, noise_threshold=0.0)
    assert run.conformance.log_fitness == pytest.approx(1.0)  # no noise filtering: the skip is modelled
    assert run.model.silent_transitions >= 1
    assert run.rows[MODELS_TABLE].loc[0, "renderer"] is None
    assert run.rows[CONFORMANCE_TABLE].loc[0, "variants"] == 2


def test_cases_cut_by_the_day_boundaries_are_not_mined(tmp_path, monkeypatch):
    monkeypatch.setattr(model_picture, "find_renderers", lambda: [])
    whole = make_log(compliant=40, skipping=0)
    started_yesterday = whole[whole[CASE].isin(["case-00", "case-01"]) & (whole[ACTIVITY] != "A")]
    still_in_line = whole[whole[CASE].isin(["case-38", "case-39"]) & (whole[ACTIVITY] != "C")]
    day_log = pd.concat(
        [
            whole[~whole[CASE].isin(["case-00", "case-01", "case-38", "case-39"])],
            started_yesterday,
            still_in_line,
        ]
    )

    run = mine_event_log(day_log, DAY, tmp_path, noise_threshold=0.0)

    assert run.conformance.cases == 36
    assert run.conformance.log_fitness == pytest.approx(1.0)
    assert run.conformance.precision == pytest.approx(1.0)  # fragments would have made every step skippable
    assert run.model.silent_transitions == 0
    assert "36 of 40 cases" in run.rows[MODELS_TABLE].loc[0, "note"]


@pytest.mark.skipif(not RUNNING_EXAMPLE.exists(), reason="running-example.xes not available")
def test_running_example():
    import pm4py

    log = pm4py.read_xes(str(RUNNING_EXAMPLE))
    model = discover_process_model(log, noise_threshold=0.2)
    result = check_conformance(log, model)
    assert model.net is not None and model.cases == 6
    assert result.cases == 6
    assert 0.0 <= result.log_fitness <= 1.0
    assert 0.0 <= result.precision <= 1.0


def test_a_window_table_first_written_with_empty_columns_takes_values_later():
    """Columns created from rows that were all None get their type from the first real values."""
    from orchestration.mining.window_results import write_window

    with duckdb.connect() as conn:
        empty = pd.DataFrame({"role": ["inductive"], "pnml_path": [None], "alignment_fitness": [None]})
        filled = pd.DataFrame({"role": ["inductive"], "pnml_path": ["/m.pnml"], "alignment_fitness": [0.75]})
        write_window(conn, "2026-11-09", 1, {"models": empty})
        write_window(conn, "2026-11-10", 1, {"models": filled})
        write_window(conn, "2026-11-11", 1, {"models": empty})
        rows = conn.execute(
            "select window_end::varchar, pnml_path, alignment_fitness from process_mining.models order by 1"
        ).fetchall()
    assert rows == [("2026-11-09", None, None), ("2026-11-10", "/m.pnml", 0.75), ("2026-11-11", None, None)]


def test_a_report_says_conformance_was_not_computed_rather_than_zero():
    """No complete case: the day's conformance row holds no fitness and no precision, and the report says so
    with the reason (it showed "Fitness 0.0 %" before)."""

    from orchestration.reporting.section import DaySource
    from orchestration.reporting.sections_production import process_model

    conn = duckdb.connect()
    conn.execute("create schema process_mining")
    conn.execute(
        """create table process_mining.conformance as select '2026-01-07'::date as production_date,
           'inductive_miner(noise_threshold=0.2)' as model_name, 4 as cases, 9 as events, 2 as variants,
           0 as variants_used, null::double as log_fitness, null::double as fitting_traces_share,
           null::double as precision, 'no complete case in the log: conformance not computed' as note"""
    )
    section = process_model(DaySource(conn, date(2026, 1, 7)))
    figures = {row["figure"]: row["value"] for row in section.rows}
    assert figures["Fitness"].startswith("not computed (no complete case")
    assert figures["Precision"].startswith("not computed") and "0.0%" not in str(figures)
    assert section.headline.startswith("4 cases followed 2 variants")  # no factory word for any source
