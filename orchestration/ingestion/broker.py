"""A local MQTT broker (amqtt, pure Python) for development, tests and ``make ingest``.

On loopback, clients must send a user name (any name, no password): amqtt keeps the session and the queued
QoS 1 messages of a disconnected client with ``clean_session=False`` only for non-anonymous clients. Beyond
loopback the broker asks for a password file (``user:argon2-hash`` lines, written by ``python -m
orchestration.ingestion passwd USER``) and refuses to start without one; TLS is an option (certificate and
key in PEM). A plant runs its own broker (Mosquitto, EMQX, ...) instead; the service and the feed speak MQTT
3.1.1.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path

from orchestration.ingestion.service import is_loopback


def broker_config(
    host: str,
    port: int,
    password_file: Path | None = None,
    tls_cert: Path | None = None,
    tls_key: Path | None = None,
) -> dict:
    if password_file is None and not is_loopback(host):
        raise SystemExit(
            f"the broker would listen on {host}, beyond loopback, without passwords: give --password-file "
            "(write one with `python -m orchestration.ingestion passwd USER`)"
        )
    listener = {"type": "tcp", "bind": f"{host}:{port}"}
    if tls_cert is not None:
        listener |= {"ssl": True, "certfile": str(tls_cert), "keyfile": str(tls_key)}
    if password_file is None:
        plugins = {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": False}}
    else:
        plugins = {"amqtt.plugins.authentication.FileAuthPlugin": {"password_file": str(password_file)}}
    return {"listeners": {"default": listener}, "plugins": plugins}


def password_line(user: str, password: str) -> str:
    """A line of the broker's password file: the user and an Argon2 hash of the password (amqtt's format)."""
    from pwdlib import PasswordHash
    from pwdlib.hashers.argon2 import Argon2Hasher

    if not user or ":" in user or not password:
        raise ValueError("a user name without ':' and a non-empty password are required")
    return f"{user}:{PasswordHash((Argon2Hasher(),)).hash(password)}"


async def serve_broker(host: str, port: int, ready: asyncio.Event | None = None, **security) -> None:
    from amqtt.broker import Broker

    broker = Broker(broker_config(host, port, **security))
    await broker.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # not the main thread
            pass
    print(f"broker ready on {host}:{port}", flush=True)
    if ready is not None:
        ready.set()
    try:
        await stop.wait()
    finally:
        await broker.shutdown()


def run_broker(host: str = "127.0.0.1", port: int = 1883, **security) -> None:
    logging.getLogger("amqtt").setLevel(logging.CRITICAL)  # it logs every client drop as an error
    logging.getLogger("transitions").setLevel(logging.WARNING)
    asyncio.run(serve_broker(host, port, **security))
