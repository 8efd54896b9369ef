"""Sustained live ingestion: readings/s and source-to-landed latency through a real MQTT broker on loopback.

Starts the broker (amqtt) and the ingestion service as processes, publishes a synthetic plant of
``--sensors`` sensors at ``--rate`` readings/s in real time (every sensor every sensors/rate seconds, one MQTT
message per sensor group and instant), and reports what the service measured: for every landed reading,
the time from its source timestamp (= its publish time here, same clock) until its Parquet file was visible.

    .venv/bin/python benchmarks/ingest_throughput.py                       # 1,000 sensors, 1,000 readings/s
    .venv/bin/python benchmarks/ingest_throughput.py --rate 20000          # the goal: 20,000 readings/s
    .venv/bin/python benchmarks/ingest_throughput.py --groups 1000         # one MQTT message per reading
"""

from __future__ import annotations

import argparse
import json
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from orchestration.ingestion.feed import BufferedPublisher, replay, synthetic_plant  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http(port: int, path: str, post: bool = False):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=b"{}" if post else None)
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def wait_until(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit("timed out starting the broker or the service")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sensors", type=int, default=1000)
    parser.add_argument(
        "--rate", type=float, default=1000.0, help="readings per second, all sensors together"
    )
    parser.add_argument("--groups", type=int, default=20, help="sensor groups = MQTT messages per instant")
    parser.add_argument("--duration", type=float, default=30.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=3.0)
    args = parser.parse_args()

    mqtt_port, http_port = free_port(), free_port()
    lake = Path(tempfile.mkdtemp(prefix="ingest-bench-"))
    me = [sys.executable, "-m", "orchestration.ingestion"]
    quiet = {"cwd": REPO, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    broker = subprocess.Popen([*me, "broker", "--port", str(mqtt_port)], **quiet)
    service = None
    try:
        wait_until(lambda: socket.create_connection(("127.0.0.1", mqtt_port), 0.2).close() is None)
        service = subprocess.Popen(
            [
                *me,
                "service",
                "--lake",
                str(lake),
                "--mqtt-port",
                str(mqtt_port),
                "--http-port",
                str(http_port),
            ],
            **quiet,
        )
        wait_until(lambda: http(http_port, "/health")["status"] == "ok")
        publisher = BufferedPublisher("127.0.0.1", mqtt_port, source="bench", receipt_timeout_s=10.0)
        wait_until(lambda: publisher._connected)
        interval = args.sensors / args.rate
        plant = synthetic_plant(args.sensors, interval, start_us=time.time_ns() // 1000, groups=args.groups)
        warm = replay(publisher, plant, speed=1.0, limit=int(args.rate * args.warmup))
        publisher.flush(timeout_s=30)
        http(http_port, "/stats/reset", post=True)
        before = http(http_port, "/stats")["landed"]
        started = time.monotonic()
        plant = synthetic_plant(
            args.sensors, interval, start_us=time.time_ns() // 1000 + 1000, groups=args.groups
        )
        sent = replay(publisher, plant, speed=1.0, limit=int(args.rate * args.duration))
        offered_s = time.monotonic() - started
        drained = publisher.flush(timeout_s=60)
        elapsed = time.monotonic() - started
        time.sleep(0.5)
        stats = http(http_port, "/stats")
        publisher.close()
        service.send_signal(signal.SIGTERM)
        service.wait(timeout=60)
        files = list((lake / "raw" / "sensor_readings").glob("date=*/live-*.parquet"))
        on_disk = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
    finally:
        for proc in (service, broker):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
    latency = stats["latency_source_to_landed"]
    landed = stats["landed"] - before
    print(
        f"plant: {args.sensors} sensors, {args.groups} groups, offered {args.rate:,.0f} readings/s "
        f"for {args.duration:.0f} s ({sent:,} readings, offered in {offered_s:.1f} s)"
    )
    print(
        f"throughput: {landed / elapsed:,.0f} readings/s landed (all receipted: {drained}; "
        f"{on_disk:,} rows on disk = {warm + sent:,} published: {on_disk == warm + sent})"
    )
    print(
        f"latency source-to-landed: p50 {latency['p50_ms']:.0f} ms, p99 {latency['p99_ms']:.0f} ms, "
        f"max {latency['max_ms']:.0f} ms over {latency['count']:,} readings"
    )
    print(
        f"service: {stats['commits']:,} WAL commits, {stats['parts']:,} part files, "
        f"{stats['compactions']:,} minute compactions, duplicates dropped {stats['duplicates']:,}"
    )
    return 0 if drained and on_disk == warm + sent else 1


if __name__ == "__main__":
    sys.exit(main())
