"""How fast a planted critical fault reaches its team: the simulated factory's telemetry replayed through the
real broker, the real ingestion service and the real alerting process (three processes), alerts posted to a
webhook receiver on loopback in this process. The three factory days before are landed in the lake first, as
the daily extraction lands them: the live scoring's reference (orchestration/alerting/reference.py).

For each planted critical fault of the day (the simulator's truth table), the latency is the plant-clock time
from the fault's start to the alert's arrival at the receiver, twice: as replayed (the replay position, the
newest reading published, when it arrived, minus the fault's start: every wall second of processing counts
``--speed`` plant seconds), and at the plant's own pace (the plant time the scoring needed to be sure, the
alert's ``decided_at``, plus the wall lag). The wall lag is the wall-clock time from the publication of the
reading the alert was decided on to the alert's arrival. Critical, as the detection's alarm rules say
(orchestration/anomalies/sensor_alarms.AlarmRules): a level shift held ``sustained_readings`` or longer (8
sigmas: beyond ``critical_factor`` times any limit) and a machine's telemetry lost ``critical_gap_s`` or
longer. Other planted faults (drifts, stuck sensors, short shifts, spikes) are counted beside; every alert
matching no planted fault is a false alert.

    .venv/bin/python benchmarks/alert_latency.py [--scenario data/scenarios/default.yaml] [--day 2026-11-10]
        [--speed 120] [--healthy]

``--healthy`` replays the healthy plant (nothing planted) and counts the alerts per team and shift instead.
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from orchestration.alerting.store import connect  # noqa: E402
from orchestration.anomalies.plant import HISTORY_DAYS  # noqa: E402
from orchestration.anomalies.sensor_alarms import AlarmRules  # noqa: E402
from orchestration.ingestion.feed import BufferedPublisher, replay, simulated_telemetry  # noqa: E402
from orchestration.lake.writer import write_partition  # noqa: E402
from orchestration.simulator.config import load_scenario  # noqa: E402
from orchestration.simulator.engine import run_factory_day  # noqa: E402
from orchestration.simulator.shifts import scenario_calendar  # noqa: E402
from tests.live_helpers import free_port, wait_for  # noqa: E402


class Receiver:
    def __init__(self):
        self.arrivals: list[tuple[float, dict]] = []
        arrivals = self.arrivals

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                arrivals.append((time.time(), body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/bench"


class Timeline:
    """What the feed published when: plant time (µs) -> wall time (s), in order."""

    def __init__(self):
        self.plant: list[int] = []
        self.wall: list[float] = []

    def wrap(self, instants):
        for ts_us, by_group in instants:
            yield ts_us, by_group
            self.plant.append(ts_us)
            self.wall.append(time.time())

    def plant_at(self, wall: float) -> int:
        k = bisect.bisect_right(self.wall, wall) - 1
        return self.plant[max(k, 0)]

    def wall_at(self, plant_us: int) -> float:
        k = min(bisect.bisect_left(self.plant, plant_us), len(self.plant) - 1)
        return self.wall[k]


def spawn(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, *args], cwd=REPO, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT
    )


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", default=str(REPO / "data" / "scenarios" / "default.yaml"))
    parser.add_argument("--day", default="2026-11-10")
    parser.add_argument("--speed", type=float, default=120.0, help="plant seconds per wall second")
    parser.add_argument("--healthy", action="store_true", help="the healthy plant: alerts per team and shift")
    parser.add_argument("--analyse", type=Path, help="analyse a finished run's folder again (no replay)")
    args = parser.parse_args()
    if args.analyse:
        observed = json.loads((args.analyse / "observed.json").read_text())
        timeline = Timeline()
        timeline.plant, timeline.wall = observed["plant"], observed["wall"]
        arrivals = [tuple(a) for a in observed["arrivals"]]
        return analyse(args, args.analyse, args.analyse / "state.duckdb", arrivals, timeline, 0, 0.0)
    scenario = Path(REPO / "data" / "scenarios" / "healthy.yaml" if args.healthy else args.scenario)
    day = date.fromisoformat(args.day)
    config = load_scenario(scenario)
    interval_s = config.sensor_interval_s

    work = Path(tempfile.mkdtemp(prefix="alert-latency-"))
    for back in range(1, HISTORY_DAYS + 1):  # the days before, as extraction lands them: the live reference
        raw = run_factory_day(config, day - timedelta(days=back)).raw_tables()
        for table in ("sensor_readings", "machine_states"):
            write_partition(work / "lake", table, (day - timedelta(days=back)).isoformat(), raw[table])
    receiver = Receiver()
    env = {
        **os.environ,
        "GIGAFACTORY_ALERT_WEBHOOK_MAINTENANCE": receiver.url,
        "GIGAFACTORY_ALERT_WEBHOOK_PRODUCTION": receiver.url,
        "GIGAFACTORY_ALERT_WEBHOOK_QUALITY": receiver.url,
        "GIGAFACTORY_SCENARIO": str(scenario),
        "GIGAFACTORY_LAKE": str(work / "lake"),
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("GIGAFACTORY_SMTP_HOST", None)
    mqtt_port, http_port = free_port(), free_port()
    env["GIGAFACTORY_ALERT_MQTT_PORT"] = str(mqtt_port)  # the HMI topic: alerts published on the same broker
    state = work / "state.duckdb"
    calendar = scenario_calendar(config)
    processes = [
        spawn(["-m", "orchestration.ingestion", "broker", "--port", str(mqtt_port)], env, work / "broker.log")
    ]
    try:
        time.sleep(2.0)
        processes.append(
            spawn(
                [
                    "-m",
                    "orchestration.ingestion",
                    "service",
                    "--lake",
                    str(work / "lake"),
                    "--mqtt-port",
                    str(mqtt_port),
                    "--http-port",
                    str(http_port),
                    "--tz",
                    calendar.timezone,
                    "--day-start-hour",
                    str(calendar.day_start_hour),
                    "--default-interval",
                    str(interval_s),
                ],
                env,
                work / "service.log",
            )  # fmt: skip
        )
        processes.append(
            spawn(
                [
                    "-m",
                    "orchestration.alerting",
                    "--state",
                    str(state),
                    "serve",
                    "--broker-port",
                    str(mqtt_port),
                    "--http-port",
                    "0",
                    "--replay",
                ],
                env,
                work / "alerting.log",
            )  # fmt: skip
        )
        wait_for(lambda: "ready" in (work / "alerting.log").read_text(), "the alerting process", timeout=60)
        wait_for(lambda: "ready" in (work / "service.log").read_text(), "the ingestion service", timeout=60)
        time.sleep(1.0)
        publisher = BufferedPublisher("127.0.0.1", mqtt_port, source="bench")
        timeline = Timeline()
        started = time.time()
        readings = replay(publisher, timeline.wrap(simulated_telemetry(scenario, day)), speed=args.speed)
        fed = time.time() - started
        publisher.flush(120)
        publisher.close()
        time.sleep(3.0)  # the last alerts on their way
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=120)  # the service lands and checkpoints what it holds
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    (work / "observed.json").write_text(  # what was seen, to analyse again: --analyse <dir>
        json.dumps({"arrivals": receiver.arrivals, "plant": timeline.plant, "wall": timeline.wall})
    )
    return analyse(args, work, state, receiver.arrivals, timeline, readings, fed)


def analyse(args, work, state, arrivals, timeline, readings, fed) -> int:
    scenario = Path(REPO / "data" / "scenarios" / "healthy.yaml" if args.healthy else args.scenario)
    day = date.fromisoformat(args.day)
    config = load_scenario(scenario)
    truth = run_factory_day(config, day).truth["sensor_anomalies"].to_pylist()
    interval_s = config.sensor_interval_s
    alarm_rules = AlarmRules()
    calendar = scenario_calendar(config)
    raises = [
        (wall, body)
        for wall, body in arrivals
        if body.get("kind") == "raise" and body.get("team") == "maintenance"
    ]
    print(f"{scenario.name} {day}: {readings:,} readings replayed at {args.speed:g}x in {fed:.0f} s wall")
    if args.healthy:
        return healthy_report(state, calendar, day)

    sustained = timedelta(seconds=alarm_rules.sustained_readings * interval_s)
    critical_gap = timedelta(seconds=alarm_rules.critical_gap_s)
    faults: dict[str, dict] = {}
    for row in truth:  # one gap fault covers every sensor of its machine: one fault per id
        fault = faults.setdefault(row["anomaly_id"], {**row, "sensors": []})
        fault["sensors"].append(row["sensor_id"])
    used: set[int] = set()
    latencies, paced_latencies, lags, missed, others = [], [], [], [], Counter()
    for fault in sorted(faults.values(), key=lambda f: f["start_ts"]):
        length = fault["end_ts"] - fault["start_ts"]
        critical = (fault["kind"] == "level_shift" and length >= sustained) or (
            fault["kind"] == "gap" and length >= critical_gap
        )
        hits = [
            (wall, body)
            for wall, body in raises
            if body["machine_id"] == fault["machine_id"]
            and fault["start_ts"] - timedelta(minutes=2)
            <= datetime.fromisoformat(body["raised_at"])
            <= fault["end_ts"] + timedelta(minutes=5)
        ]
        used.update(id(body) for _, body in hits)
        if not critical:
            others[(fault["kind"], bool(hits))] += 1
            continue
        if not hits:
            missed.append(fault)
            continue
        wall, body = min(hits, key=lambda hit: hit[0])
        plant_latency = (timeline.plant_at(wall) - int(fault["start_ts"].timestamp() * 1e6)) / 6e7
        decided = datetime.fromisoformat(body["decided_at"])
        lag = wall - timeline.wall_at(int(decided.timestamp() * 1e6))
        # at the plant's own pace: the plant time the scoring needed to be sure, then the wall time to deliver
        paced = (decided - fault["start_ts"]).total_seconds() / 60 + lag / 60
        latencies.append(plant_latency)
        paced_latencies.append(paced)
        lags.append(lag)
        print(
            f"  {fault['kind']:<11} {fault['sensors'][0]:<30} {fault['start_ts']:%H:%M} for "
            f"{length.total_seconds() / 60:.0f} min: alerted after {plant_latency:.1f} min of replay, "
            f"{paced:.1f} min at the plant's pace, {lag:.1f} s wall lag [{body['priority']}] "
            f"{body['sentence'][:80]}"
        )
    for fault in missed:
        print(f"  MISSED {fault['kind']} {fault['sensors'][0]} {fault['start_ts']:%H:%M}")
    critical_total = len(latencies) + len(missed)
    print(f"critical planted faults alerted: {len(latencies)} of {critical_total}")
    if latencies:
        print(
            f"latency, plant time as replayed at {args.speed:g}x (min): "
            f"p50 {statistics.median(latencies):.1f}  p95 {percentile(latencies, 0.95):.1f}  "
            f"max {max(latencies):.1f}"
        )
        print(
            f"latency at the plant's own pace (min): p50 {statistics.median(paced_latencies):.1f}  "
            f"p95 {percentile(paced_latencies, 0.95):.1f}  max {max(paced_latencies):.1f}"
        )
        print(f"wall lag behind the feed (s): p50 {statistics.median(lags):.2f}  max {max(lags):.2f}")
    print(
        "other planted faults alerted: "
        + ", ".join(
            f"{kind} {others[(kind, True)]}/{others[(kind, True)] + others[(kind, False)]}"
            for kind in sorted({k for k, _ in others})
        )  # fmt: skip
    )
    false = [body for _, body in raises if id(body) not in used]
    print(f"alerts matching no planted fault: {len(false)} (maintenance raises: {len(raises)})")
    goal = not missed and latencies and percentile(paced_latencies, 0.95) < 5 and max(lags) < 60
    verdict = "met" if goal else "NOT met"
    print(f"goal (every critical fault alerted, p95 < 5 min at the plant's pace, < 60 s wall lag): {verdict}")
    print(f"(logs and state in {work})")
    return 0


def healthy_report(state: Path, calendar, day: date) -> int:
    with connect(state) as conn:
        alerts = conn.execute(
            "select team, raised_at, sentence from alerts.alerts order by raised_at"
        ).fetchall()
    per_shift: Counter = Counter()
    for team, raised_at, _ in alerts:
        for slot in calendar.shifts:
            start, end = calendar.shift_window(day, slot.name)
            if start <= raised_at.astimezone(UTC) < end:
                per_shift[(team, slot.name)] += 1
    for team, raised_at, sentence in alerts:
        print(f"  {raised_at.astimezone(UTC):%H:%M} {team:<12} {sentence[:110]}")
    print(f"alerts on the healthy plant: {len(alerts)}")
    for slot in calendar.shifts:
        teams = {team: n for (team, name), n in per_shift.items() if name == slot.name}
        print(f"  {slot.name:<6} {teams or 'none'}")
    worst = max(per_shift.values(), default=0)
    verdict = "met" if worst <= 1 else "NOT met"
    print(f"most alerts to one team in one shift: {worst} (goal: at most 1): {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
