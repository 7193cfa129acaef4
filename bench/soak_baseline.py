"""The soak's baseline: a bare aiomqtt subscriber under the same load, with the same probe.

It receives everything under the root and does nothing with it, while the same 50 ms
loop-lag probe as the TUI's runs beside it: what lag a Python process on this machine shows
when it only takes the messages in. Prints "ready" once subscribed; on SIGTERM writes the
message count and the lags it measured (from "ready" on) to RESULTS.

Run: python bench/soak_baseline.py PORT RESULTS
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
from pathlib import Path

import aiomqtt

PROBE_EVERY = 0.05


async def probe_lag(lags: list[float]) -> None:
    """Every PROBE_EVERY s, how late the loop woke us up."""
    loop = asyncio.get_running_loop()
    while True:
        before = loop.time()
        await asyncio.sleep(PROBE_EVERY)
        lags.append(loop.time() - before - PROBE_EVERY)


async def run(port: int) -> dict[str, object]:
    received = 0
    lags: list[float] = []
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with aiomqtt.Client("127.0.0.1", port, identifier="soak-baseline") as client:
        await client.subscribe("keten/v1/#", qos=1)
        print("ready", flush=True)

        async def take() -> None:
            nonlocal received
            async for _ in client.messages:
                received += 1

        tasks = [asyncio.create_task(take()), asyncio.create_task(probe_lag(lags))]
        await stop.wait()
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    return {"received": received, "lags": lags}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("port", type=int)
    parser.add_argument("results", type=Path)
    args = parser.parse_args()
    args.results.write_text(json.dumps(asyncio.run(run(args.port))))


if __name__ == "__main__":
    main()
