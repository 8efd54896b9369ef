"""The Great Expectations suites catch what would corrupt the marts, and say where."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pandas as pd
import pytest

from orchestration.factory_calendar import FactoryCalendar
from orchestration.quality.raw_suites import validate_raw_table

DAY = "2026-11-09"
BERLIN = FactoryCalendar("Europe/Berlin", 6)
START, END = BERLIN.day_window(date(2026, 11, 9))


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def events(**overrides) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "event_id": ["2026-11-09-E000001", "2026-11-09-E000002"],
            "case_id": ["B20261109-0001", "B20261109-0001"],
            "product_id": ["NMC811-60Ah"] * 2,
            "activity": ["Mixing", "Coating"],
            "line_id": ["ELEC-1"] * 2,
            "machine_id": ["MIX-01", "COAT-01"],
            "crew_id": ["A"] * 2,
            "start_ts": [utc("2026-11-09T05:10Z"), utc("2026-11-09T06:00Z")],
            "end_ts": [utc("2026-11-09T05:50Z"), utc("2026-11-09T07:00Z")],
            "produced_qty": [200, 200],
            "good_qty": [200, 198],
            "scrap_qty": [0, 2],
            "is_rework": [False, False],
        }
    )
    for column, values in overrides.items():
        frame[column] = values
    return frame


def failed_expectations(frame: pd.DataFrame) -> list[str]:
    return [f.expectation for f in validate_raw_table("production_events", DAY, frame, START, END).failed]


def test_factory_day_runs_from_first_shift_to_first_shift_in_utc():
    assert START == datetime(2026, 11, 9, 5, 0, tzinfo=UTC)  # 06:00 CET
    assert END == datetime(2026, 11, 10, 5, 0, tzinfo=UTC)
    assert BERLIN.day_of(datetime(2026, 11, 10, 4, 59, tzinfo=UTC)) == date(2026, 11, 9)
    summer_start, summer_end = BERLIN.day_window(date(2026, 3, 29))
    assert (summer_end - summer_start).total_seconds() == 24 * 3600 and summer_start.hour == 4  # CEST


def test_clean_day_passes():
    outcome = validate_raw_table("production_events", DAY, events(), START, END)
    assert outcome.success, outcome.summary()
    assert outcome.evaluated >= 8


@pytest.mark.parametrize(
    ("corruption", "expectation", "bad_rows"),
    [
        ({"event_id": [None, "2026-11-09-E000002"]}, "expect_column_values_to_not_be_null", 1),
        ({"event_id": ["2026-11-09-E000001"] * 2}, "expect_column_values_to_be_unique", 2),
        (
            {"end_ts": [utc("2026-11-09T05:00Z"), utc("2026-11-09T07:00Z")]},
            "expect_column_pair_values_a_to_be_greater_than_b",
            1,
        ),
        (
            {"start_ts": [utc("2026-11-08T05:10Z"), utc("2026-11-09T06:00Z")]},
            "expect_column_values_to_be_between",
            1,
        ),
        ({"scrap_qty": [0, -2]}, "expect_column_values_to_be_between", 1),
    ],
)
def test_corruption_is_detected_and_explained(corruption, expectation, bad_rows):
    outcome = validate_raw_table("production_events", DAY, events(**corruption), START, END)
    assert expectation in [f.expectation for f in outcome.failed]
    failure = next(f for f in outcome.failed if f.expectation == expectation)
    assert failure.unexpected_count == bad_rows
    assert expectation in outcome.summary()


def test_missing_column_is_detected():
    assert "expect_table_columns_to_match_set" in failed_expectations(events().drop(columns=["machine_id"]))
