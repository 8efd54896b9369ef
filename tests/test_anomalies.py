"""Sensor anomaly detection: planted faults of each kind found in their window, context left alone."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from orchestration.anomalies.detectors import SensorGrid
from orchestration.anomalies.evaluation import match_events
from orchestration.anomalies.plant import detect_day, write_sensor_anomalies
from orchestration.anomalies.scoring import detect, fit_detectors
from orchestration.factory_calendar import FactoryCalendar
from orchestration.settings import DATA_DIR

MINUTE_US = 60_000_000


def _grid(values, regime=None, machines=None):
    return SensorGrid(
        sensor_ids=[f"S{n}" for n in range(len(values))],
        machine_ids=machines or ["M1"] * len(values),
        start_us=0,
        interval_us=MINUTE_US,
        values=np.asarray(values, dtype=float),
        regime=regime,
        regime_names=("producing", "idle"),
    )


@pytest.fixture(scope="module")
def planted():
    """Six sensors on 1-minute readings, one fault each, in known windows; a clean day as the reference."""
    rng = np.random.default_rng(11)
    n = 1440
    reference = _grid(50 + rng.standard_normal((6, n)))
    day = 50 + rng.standard_normal((6, n))
    day[0, 300] += 9  # spike
    day[1, 400:460] += 8  # level shift
    day[2, 500:620] += np.linspace(0, 8, 120)  # drift: a ramp to 8 sigmas
    day[3, 700:740] = day[3, 700]  # stuck
    day[4, 800:830] = np.nan  # gap
    # Sensor 5 and 0 move together at the machine; at 1000..1030 sensor 5 breaks the relation within 3 sigma.
    events = detect(_grid(day), fit_detectors(reference)).events
    return events


@pytest.mark.parametrize(
    "sensor, kind, start, stop",
    [
        ("S0", "spike", 300, 301),
        ("S1", "level_shift", 400, 460),
        ("S2", "drift", 500, 620),
        ("S3", "stuck", 700, 740),
        ("S4", "gap", 800, 830),
    ],
)
def test_each_kind_is_found_in_its_window(planted, sensor, kind, start, stop):
    found = [e for e in planted if e.sensor_id == sensor and e.kind == kind]
    assert len(found) == 1, [(e.sensor_id, e.kind, e.start_us // MINUTE_US) for e in planted]
    event = found[0]
    # A ramp from zero shows only once it clears the noise: its onset must fall in its first half.
    assert abs(event.start_us // MINUTE_US - start) <= ((stop - start) // 2 if kind == "drift" else 2)
    assert abs(event.end_us // MINUTE_US - stop) <= 3
    assert event.evidence["detector"]


def test_a_drift_is_found_before_it_crosses_the_limit(planted):
    drift = next(e for e in planted if e.sensor_id == "S2" and e.kind == "drift")
    # The ramp rises 8 sigmas over 120 readings: a limit 6 sigmas off the baseline is crossed at reading 590.
    assert drift.evidence["alarm_ts_us"] // MINUTE_US < 590


def test_no_false_alarm_on_clean_readings(planted):
    assert {e.sensor_id for e in planted} <= {"S0", "S1", "S2", "S3", "S4"}
    assert all(e.kind != "multivariate" or e.sensor_id in {"S1", "S2", "S3"} for e in planted)


def test_excluded_context_and_regime_changes_are_not_anomalies():
    rng = np.random.default_rng(5)
    n = 600
    regime = np.zeros((2, n), dtype=np.int8)
    regime[:, 200:260] = -1  # planned maintenance: the readings fall to anything
    regime[:, 400:] = 1  # a legitimate regime change (idle), with its own baseline
    levels = np.where(regime == 1, 5.0, 50.0)
    reference_values = levels + rng.standard_normal((2, n))
    values = levels + rng.standard_normal((2, n))
    values[:, 200:260] = rng.uniform(-100, 100, (2, 60))
    reference = _grid(reference_values, regime=regime)
    events = detect(_grid(values, regime=regime), fit_detectors(reference)).events
    assert events == []


def test_a_machine_without_history_gets_explicit_wider_warm_up():
    rng = np.random.default_rng(8)
    values = 20 + rng.standard_normal((2, 600))
    values[0, 100:140] += 5  # 5 sigma: judged on its own data the event must be strong to show
    warm = fit_detectors(_grid(values), from_judged_data=True)
    events = detect(_grid(values), warm).events
    assert all(e.evidence.get("warm_up", True) for e in events if e.kind in ("level_shift", "drift"))


# --- the simulated plant --------------------------------------------------------------------------------


JUDGED_DAY = date(2026, 11, 12)  # at 60 s sampling its plant has a planted fault of every kind


@pytest.fixture(scope="module")
def simulated_plant():
    """The small plant at 60 s sampling: the judged day and the day before it as the baseline."""
    from orchestration.simulator import load_scenario

    config = load_scenario(DATA_DIR / "scenarios" / "test_small.yaml").model_copy(
        update={"sensor_interval_s": 60.0}
    )
    conn, simulated = _landed(config, [JUDGED_DAY - timedelta(days=1), JUDGED_DAY])
    truth = [
        {
            **t,
            "start_us": int(t["start_ts"].timestamp() * 1e6),
            "end_us": int(t["end_ts"].timestamp() * 1e6),
        }
        for t in simulated.truth["sensor_anomalies"].to_pylist()
    ]
    events = detect_day(conn, JUDGED_DAY.isoformat(), FactoryCalendar(config.timezone, config.day_start_hour))
    yield conn, truth, events
    conn.close()


def _landed(config, days: list[date]):
    """The simulated days' raw tables in an in-memory warehouse, and the last day's simulation."""
    from orchestration.simulator.engine import run_factory_day

    conn = duckdb.connect()
    conn.execute("SET TimeZone = 'UTC'")
    conn.execute("create schema raw")
    for n, day in enumerate(days):
        simulated = run_factory_day(config, day)
        for name, table in simulated.raw_tables().items():
            table = table.append_column("date", pa.array([day] * table.num_rows, pa.date32()))
            conn.register("landed", table)
            verb = f"create table raw.{name} as" if n == 0 else f"insert into raw.{name}"
            conn.execute(f"{verb} select * from landed")
            conn.unregister("landed")
    return conn, simulated


@pytest.mark.parametrize("dst_day", [date(2026, 3, 28), date(2026, 10, 24)])
def test_a_daylight_saving_day_raises_no_room_event(dst_day):
    """The factory days holding Berlin's clock change (23 and 25 hours): the rooms' daily swing follows the
    local clock on both sides of the change, and so does the detectors' hour-of-day baseline, fitted on the
    day before. On the healthy plant nothing is planted, so any room event would be false."""
    from orchestration.simulator import load_scenario

    healthy = load_scenario(DATA_DIR / "scenarios" / "test_small_healthy.yaml")
    # The plant starts two days before: the day before is the detectors' reference.
    config = healthy.model_copy(
        update={"release": healthy.release.model_copy(update={"first_day": dst_day - timedelta(days=2)})}
    )
    calendar = FactoryCalendar(config.timezone, config.day_start_hour)
    start, end = calendar.day_window(dst_day)
    assert (end - start).total_seconds() / 3600 in (23, 25)
    conn, _ = _landed(config, [dst_day - timedelta(days=1), dst_day])
    with conn:
        events = detect_day(conn, dst_day.isoformat(), calendar)
    rooms = [(e.sensor_id, e.kind, e.severity) for e in events if e.machine_id.startswith("ROOM-")]
    assert rooms == []


def test_every_planted_kind_is_found_with_its_window(simulated_plant):
    _, truth, events = simulated_plant
    assert {t["kind"] for t in truth} == {"spike", "drift", "level_shift", "stuck", "gap"}
    for planted in truth:
        hits = [e for e in events if e.sensor_id == planted["sensor_id"] and e.kind == planted["kind"]]
        # A ramp shows only once it clears the noise: its onset within its first third; other kinds at once.
        onset_slack = (
            (planted["end_us"] - planted["start_us"]) / 3 if planted["kind"] == "drift" else 2 * MINUTE_US
        )
        assert any(
            -2 * MINUTE_US <= e.start_us - planted["start_us"] <= onset_slack
            and abs(e.end_us - planted["end_us"]) <= 2 * MINUTE_US
            for e in hits
        ), (planted, [(e.kind, e.start_us, e.end_us) for e in events if e.sensor_id == planted["sensor_id"]])


def test_plant_drifts_are_found_before_half_their_rise(simulated_plant):
    _, truth, events = simulated_plant
    for planted in [t for t in truth if t["kind"] == "drift"]:
        drift = next(e for e in events if e.sensor_id == planted["sensor_id"] and e.kind == "drift")
        # The ramp reaches 6 of the sensor's 8 sigmas three quarters through its window. The baseline adapts
        # to slow legitimate change until an event opens, which costs a ramp some delay: found well before
        # its end all the same.
        rise = planted["end_us"] - planted["start_us"]
        assert drift.evidence["alarm_ts_us"] < planted["start_us"] + 0.75 * rise


def test_few_events_beyond_the_planted_faults(simulated_plant):
    _, truth, events = simulated_plant
    matches, unexplained = match_events(truth, events, slack_us=2 * MINUTE_US)
    assert all(m.found for m in matches)
    # The wearing calender's vibration deviates for real (the planted degradation); little else may.
    false = [e for e in unexplained if e.sensor_id != "CAL-01.vibration"]
    assert len(false) <= 0.25 * len(events), [(e.sensor_id, e.kind) for e in false]


def test_changeovers_and_planned_maintenance_raise_no_anomaly(simulated_plant):
    conn, _, events = simulated_plant
    excluded = conn.execute(
        f"""select machine_id, epoch_us(start_ts), epoch_us(end_ts) from raw.machine_states
           where "date" = '{JUDGED_DAY}' and state in ('setup', 'planned_maintenance')"""
    ).fetchall()
    assert excluded
    for event in events:
        if event.kind == "gap":
            continue  # a silent sensor is reported whatever the machine does
        inside = [
            (a, b)
            for m, a, b in excluded
            if m == event.machine_id and a <= event.start_us and event.end_us <= b
        ]
        assert inside == [], event


def test_the_day_is_written_idempotently(simulated_plant):
    conn, _, events = simulated_plant
    write_sensor_anomalies(conn, JUDGED_DAY.isoformat(), events)
    write_sensor_anomalies(conn, JUDGED_DAY.isoformat(), events)
    rows = conn.execute(
        "select count(*), count(distinct kind) from analytics.sensor_anomalies "
        f"where production_date = '{JUDGED_DAY}'"
    ).fetchone()
    assert rows[0] == len(events) and rows[1] >= 5


# --- the `detect` command line --------------------------------------------------------------------------


def _export(n=600, gap_after=200):
    """10 s readings of two sensors with a 2-hour hole after row ``gap_after`` and a labelled 15-sigma level
    shift of pressure on rows 300-359."""
    import pandas as pd

    rng = np.random.default_rng(4)
    stamps = pd.date_range("2026-01-05", periods=n, freq="10s", tz="UTC")
    stamps = stamps.where(np.arange(n) <= gap_after, stamps + pd.Timedelta("2h"))
    frame = pd.DataFrame(
        {
            "ts": stamps.astype(str),
            "pressure": 5 + 0.1 * rng.standard_normal(n),
            "flow": 40 + rng.standard_normal(n),
            "anomaly": 0,
        }
    )
    frame.loc[300:359, "pressure"] += 1.5
    frame.loc[300:359, "anomaly"] = 1
    return frame


def test_detect_cli_scores_a_csv_and_writes_rows_and_alarms(tmp_path, capsys):
    import pandas as pd

    from orchestration.anomalies.cli import main

    frame = _export()
    frame.iloc[::-1].to_csv(tmp_path / "export.csv", sep=";", index=False)  # out of order on purpose
    out = tmp_path / "scored"
    args = [str(tmp_path / "export.csv"), "--time-col", "ts", "--value-cols", "pressure, flow"]
    args += ["--label-col", "anomaly", "--sep", ";", "--out", str(out)]
    assert main([*args, "--train-rows", "150"]) == 0
    scored = pd.read_csv(out / "scored_rows.csv")
    alarms = pd.read_csv(out / "events.csv")
    assert len(scored) == len(frame) and {"pressure__z", "flow__z", "anomaly_flag", "judged"} <= set(scored)
    assert scored["ts"].is_monotonic_increasing
    assert set(scored["anomaly_flag"]) <= {0, 1}
    assert {"start", "end", "sensors", "priority", "sentence"} <= set(alarms.columns)
    shift = alarms[alarms["sensors"].str.contains("pressure")]
    assert len(shift) == 1
    # Times are the rows' own: row 300 is stamped two hours after a regular grid would put it.
    onset = pd.Timestamp(shift["start"].iloc[0]) - pd.Timestamp(frame["ts"].iloc[300])
    # Within one detector window (10 readings) of the planted start: the machine model's onset is the
    # least sharp of the members the alarm starts with.
    assert abs(onset) <= pd.Timedelta("100s")
    assert "pressure" in shift["sentence"].iloc[0] and "level shift" in shift["sentence"].iloc[0]
    printed = capsys.readouterr().out
    # The 150 training rows are not judged, nor counted in the metrics: 450 rows, 60 of them labelled.
    assert "450 rows judged" in printed and "F1" in printed and "MAR" in printed
    assert scored["anomaly_flag"][300:360].all() and scored["anomaly_flag"].sum() <= 80
    assert main([*args, "--train-rows", "150", "--protocol", "nab"]) == 0
    assert "NAB standard profile: score" in capsys.readouterr().out


def test_a_long_file_is_judged_day_by_day_against_its_recent_normal():
    """A room sensor read hourly for two months: a noisy first month (the training span), then a calm one
    in which a +4 degree fault holds for a day. Against the first month's spread the fault is ordinary
    weather; against the weeks just before it (the rolling reference) it is a clear level shift."""
    import pandas as pd

    from orchestration.anomalies.cli import score_export

    rng = np.random.default_rng(7)
    hours = 24 * 60
    noisy = np.arange(hours) < 24 * 30
    temperature = 70 + np.where(noisy, rng.normal(0, 3, hours), rng.normal(0, 0.4, hours))
    fault = (np.arange(hours) >= 24 * 45) & (np.arange(hours) < 24 * 46)
    temperature[fault] += 4.0
    frame = pd.DataFrame(
        {"ts": pd.date_range("2026-01-01", periods=hours, freq="h", tz="UTC"), "room": temperature}
    )
    scored = score_export(frame, "ts", ["room"], train_rows=24 * 30)
    fault_start, fault_end = frame["ts"][fault].iloc[[0, -1]]
    starts = [pd.Timestamp(a.start_us, unit="us", tz="UTC") for a in scored.alarms]
    assert starts and all(fault_start - pd.Timedelta("12h") <= s <= fault_end for s in starts)
    assert scored.rows["anomaly_flag"][fault].mean() >= 0.8
    assert scored.rows["room__z"][~noisy].notna().all()


def test_detect_cli_says_which_row_holds_a_bad_time(tmp_path, capsys):
    from orchestration.anomalies.cli import main

    frame = _export(n=50)
    frame.loc[7, "ts"] = "yesterday-ish"
    frame.to_csv(tmp_path / "export.csv", index=False)
    with pytest.raises(SystemExit):
        main([str(tmp_path / "export.csv"), "--time-col", "ts", "--value-cols", "pressure"])
    assert "row 9: ts='yesterday-ish' is not a time" in capsys.readouterr().err
