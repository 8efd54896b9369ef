"""A local MQTT broker (amqtt, pure Python) for development, tests and ``make ingest``.

Clients must send a user name (any name, no password): amqtt keeps the session and the queued QoS 1
messages of a disconnected client with ``clean_session=False`` only for non-anonymous clients. A plant runs
its own broker (Mosquitto, EMQX, ...) instead; the service and the feed speak plain MQTT 3.1.1 over TCP.
"""

from __future__ import annotations

import asyncio
import logging
import signal


def broker_config(host: str, port: int) -> dict:
    return {
        "listeners": {"default": {"type": "tcp", "bind": f"{host}:{port}"}},
        "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": False}},
    }


async def serve_broker(host: str, port: int, ready: asyncio.Event | None = None) -> None:
    from amqtt.broker import Broker

    broker = Broker(broker_config(host, port))
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


def run_broker(host: str = "127.0.0.1", port: int = 1883) -> None:
    logging.getLogger("amqtt").setLevel(logging.CRITICAL)  # it logs every client drop as an error
    logging.getLogger("transitions").setLevel(logging.WARNING)
    asyncio.run(serve_broker(host, port))
