"""``python -m orchestration.ingestion {broker,service,feed,all,passwd}``: the live ingestion processes.

Secrets come from the environment, never from the command line (which other users of the machine can read):
``GIGAFACTORY_INGEST_TOKEN`` (the HTTP bearer token) and ``GIGAFACTORY_MQTT_PASSWORD`` (the MQTT password of
the service, the feed, and of ``passwd``).
"""

from __future__ import annotations

import argparse
import dataclasses
import getpass
import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from orchestration.command_line import Parser, factory_day, timezone_name
from orchestration.factory_calendar import FactoryCalendar
from orchestration.plant import resolve_plant
from orchestration.settings import load_settings


def service_calendar(timezone: str | None, day_start_hour: int | None) -> FactoryCalendar:
    """The plant's factory calendar (orchestration.plant), with the zone or day start given on the command
    line instead where one is."""
    calendar = resolve_plant().calendar
    return dataclasses.replace(
        calendar,
        timezone=timezone or calendar.timezone,
        day_start_hour=calendar.day_start_hour if day_start_hour is None else day_start_hour,
    )


def _service(args: argparse.Namespace) -> int:
    from orchestration.ingestion.service import IngestionService, ServiceConfig

    config = ServiceConfig(
        lake_dir=Path(args.lake).resolve(),
        mqtt_host=args.mqtt_host,
        mqtt_port=args.mqtt_port,
        username=args.mqtt_user,
        mqtt_password=os.environ.get("GIGAFACTORY_MQTT_PASSWORD") or None,
        http_host=args.http_host,
        http_port=args.http_port,
        http_token=os.environ.get("GIGAFACTORY_INGEST_TOKEN") or None,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        mqtt_tls_ca=args.mqtt_tls_ca,
        first_day=args.first_day,
        max_body_bytes=args.max_body_bytes,
        calendar=service_calendar(args.tz, args.day_start_hour),
        flush_interval_s=args.flush_interval,
        lateness_s=args.lateness,
        idle_close_s=args.idle_close,
        max_future_skew_s=args.max_future_skew,
        default_interval_s=args.default_interval,
        gap_factor=args.gap_factor,
    )
    IngestionService(config).serve_forever()
    return 0


def _feed(args: argparse.Namespace) -> int:
    from orchestration.ingestion.feed import BufferedPublisher, replay, simulated_telemetry, synthetic_plant

    if args.synthetic:
        instants = synthetic_plant(args.synthetic, args.interval)
    else:
        day = args.day or date.today()
        instants = simulated_telemetry(Path(args.scenario), day)
    password = os.environ.get("GIGAFACTORY_MQTT_PASSWORD") or None
    tls_ca = str(args.mqtt_tls_ca) if args.mqtt_tls_ca else None
    publisher = BufferedPublisher(
        args.mqtt_host, args.mqtt_port, source=args.source, password=password, tls_ca=tls_ca
    )
    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))

    def bounded():
        deadline = time.monotonic() + args.duration if args.duration else None
        for item in instants:
            if stop["now"] or (deadline and time.monotonic() > deadline):
                return
            yield item

    try:
        submitted = replay(publisher, bounded(), speed=args.speed, live=args.live, limit=args.limit)
        publisher.flush(timeout_s=60)
    except KeyboardInterrupt:
        submitted = -1
    finally:
        publisher.close()
    print(f"feed done: {submitted} readings submitted, {publisher.stats}", flush=True)
    return 0


def _broker(args: argparse.Namespace) -> int:
    from orchestration.ingestion.broker import run_broker

    security = {"password_file": args.password_file, "tls_cert": args.tls_cert, "tls_key": args.tls_key}
    run_broker(args.host, args.port, **security)
    return 0


def _passwd(args: argparse.Namespace) -> int:
    """Append a user to the broker's password file (the password from the environment, or asked for)."""
    from orchestration.ingestion.broker import password_line

    password = os.environ.get("GIGAFACTORY_MQTT_PASSWORD") or getpass.getpass(f"password for {args.user}: ")
    line = password_line(args.user, password)
    descriptor = os.open(args.file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)  # hashes: owner only
    with os.fdopen(descriptor, "a") as handle:
        handle.write(line + "\n")
    print(f"{args.user} added to {args.file}")
    return 0


def tls_args(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--tls-cert", type=Path, help="serve TLS with this certificate chain (PEM)")
    sub.add_argument("--tls-key", type=Path, help="the certificate's private key (PEM)")


def _all(args: argparse.Namespace, passthrough: list[str]) -> int:
    """Broker, service and feed as child processes; Ctrl-C (or SIGTERM) stops all three."""
    me = [sys.executable, "-m", "orchestration.ingestion"]
    mqtt = ["--mqtt-host", "127.0.0.1", "--mqtt-port", str(args.mqtt_port)]
    children = [subprocess.Popen([*me, "broker", "--port", str(args.mqtt_port)])]
    time.sleep(1.0)
    children.append(
        subprocess.Popen([*me, "service", *mqtt, "--lake", args.lake, "--http-port", str(args.http_port)])
    )
    time.sleep(1.0)
    children.append(subprocess.Popen([*me, "feed", *mqtt, *passthrough]))
    stopping = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stopping.update(now=True))
    try:
        while not stopping["now"] and all(child.poll() is None for child in children[:2]):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    for child in reversed(children):  # feed first, broker last
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
    return 0


def main(argv: list[str] | None = None) -> int:
    settings = load_settings()
    parser = Parser(prog="python -m orchestration.ingestion", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    broker = commands.add_parser("broker", help="a local MQTT broker (amqtt)")
    broker.add_argument("--host", default="127.0.0.1")
    broker.add_argument("--port", type=int, default=1883)
    broker.add_argument("--password-file", type=Path, help="user:hash lines (required beyond loopback)")
    tls_args(broker)

    passwd = commands.add_parser("passwd", help="add a user to the broker's password file")
    passwd.add_argument("user")
    passwd.add_argument("--file", type=Path, required=True, help="the password file")

    def mqtt_args(sub):
        sub.add_argument("--mqtt-host", default="127.0.0.1")
        sub.add_argument("--mqtt-port", type=int, default=1883)
        sub.add_argument("--mqtt-tls-ca", type=Path, help="MQTT over TLS, trusting this CA certificate (PEM)")

    service = commands.add_parser("service", help="the ingestion service (MQTT subscriber + HTTP)")
    mqtt_args(service)
    service.add_argument("--lake", default=str(settings.lake_dir))
    service.add_argument("--http-host", default="127.0.0.1")
    service.add_argument("--http-port", type=int, default=8787)
    service.add_argument("--mqtt-user", default="ingest", help="the service's MQTT user name")
    tls_args(service)
    service.add_argument(
        "--first-day",
        type=factory_day,
        default=settings.partitions_start,
        help="the plant's first factory day: older stamps are quarantined (default: the plant's)",
    )
    service.add_argument("--max-body-bytes", type=int, default=4 << 20, help="largest message accepted")
    service.add_argument("--tz", type=timezone_name, help="the factory's zone (default: the plant's)")
    service.add_argument("--day-start-hour", type=int, help="local hour a factory day starts (the plant's)")
    service.add_argument("--flush-interval", type=float, default=0.2, help="seconds between part-file writes")
    service.add_argument("--lateness", type=float, default=5.0, help="seconds a minute waits for stragglers")
    service.add_argument("--idle-close", type=float, default=10.0, help="close a minute after this idle time")
    service.add_argument(
        "--max-future-skew", type=float, default=300.0, help="quarantine stamps this far ahead"
    )
    service.add_argument("--default-interval", type=float, default=1.0, help="expected sampling interval, s")
    service.add_argument("--gap-factor", type=float, default=3.0, help="a gap: silence > factor x interval")

    feed = commands.add_parser(
        "feed", help="publish telemetry (simulated factory or synthetic) with buffering"
    )
    mqtt_args(feed)
    feed.add_argument("--source", default="simulator")
    feed.add_argument("--scenario", default=str(settings.scenario_path))
    feed.add_argument("--day", type=factory_day, help="factory day to replay, YYYY-MM-DD (default: today)")
    feed.add_argument("--speed", type=float, default=1.0, help="x real time; 0: as fast as possible")
    feed.add_argument("--live", action="store_true", help="re-stamp readings to now (a live plant)")
    feed.add_argument("--synthetic", type=int, default=0, help="N synthetic sensors instead of the simulator")
    feed.add_argument("--interval", type=float, default=1.0, help="synthetic sampling interval, s")
    feed.add_argument("--limit", type=int, help="stop after this many readings")
    feed.add_argument("--duration", type=float, help="stop after this many seconds")

    everything = commands.add_parser("all", help="broker + service + feed; extra arguments go to the feed")
    everything.add_argument("--mqtt-port", type=int, default=1883)
    everything.add_argument("--http-port", type=int, default=8787)
    everything.add_argument("--lake", default=str(settings.lake_dir))

    args, rest = parser.parse_known_args(argv)
    if args.command == "all":
        return _all(args, rest)
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    return {"broker": _broker, "service": _service, "feed": _feed, "passwd": _passwd}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
