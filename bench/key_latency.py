"""Key press to a settled screen with 200 organisations live, next to a bare Textual app.

In one run, on the same keys (tabs 1-4, arrows, Enter into a drill-down and Esc out):
  - baseline: a bare Textual app, four tabs of 200-row DataTables, no traffic;
  - Ketenwacht idle: the real app on the synthetic chain (bench/soak_topology.py), no traffic;
  - Ketenwacht live: the same while a paho generator publishes the agents' traffic for
    --orgs organisations at --rate msg/s through the embedded broker (bench/tui_live.py's).
A key's time runs from the pilot's press until the app has handled it and is idle again
(`pilot.press` then `pilot.pause()`): the key's handler, the redraw it causes and the
screen's refresh. Target (issue 19): p99 under 200 ms live.

Run: PYTHONPATH=.:bench .venv/bin/python bench/key_latency.py [--orgs 200] [--presses 200]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from itertools import cycle
from typing import ClassVar

from soak_topology import topology_toml
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.pilot import Pilot
from textual.widgets import DataTable, TabbedContent, TabPane
from tui_live import GENERATOR

from broker.embedded import free_port
from chain.engine import ChainEngine
from chain.inbox import MonitorSink
from chain.topics import Topics
from chain.topology import parse_topology
from mqtt.address import BrokerAddress
from mqtt.monitor import Monitor
from tui.app import KetenwachtApp

KEYS = ("2", "down", "down", "3", "down", "4", "1", "down", "enter", "escape", "up")
SIZE = (160, 60)


class BareApp(App[None]):
    """What Textual itself costs for the same screens: four tabs of 200-row tables."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(str(n), f"tab('t{n}')", show=False) for n in range(1, 5)]

    def __init__(self, rows: int) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        with TabbedContent():
            for n in range(1, 5):
                with TabPane(f"Tab {n}", id=f"t{n}"):
                    yield DataTable(id=f"table{n}")

    def on_mount(self) -> None:
        for table in self.query(DataTable):
            table.add_columns("id", "name", "state", "since", "heartbeat", "email", "phone",
                              "cause")
            table.add_rows([(f"org-{i:03d}", f"Organisation {i}", "ONLINE", "09:00", "1s",
                             "✓", "✓", "") for i in range(self.rows)])

    def action_tab(self, pane: str) -> None:
        self.query_one(TabbedContent).active = pane
        self.query_one(f"#table{pane[1:]}", DataTable).focus()


async def press_all(pilot: Pilot[None], presses: int) -> list[float]:
    keys: Iterator[str] = cycle(KEYS)
    times = []
    for _ in range(presses):
        key = next(keys)
        started = time.perf_counter()
        await pilot.press(key)
        await pilot.pause()
        times.append(time.perf_counter() - started)
    return times


async def bare(rows: int, presses: int) -> list[float]:
    app = BareApp(rows)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.5)
        return await press_all(pilot, presses)


async def ketenwacht(port: int, orgs: int, rate: float, presses: int, *, live: bool
                     ) -> list[float]:
    monitor = Monitor(BrokerAddress("127.0.0.1", port), Topics())

    async def feed(sink: MonitorSink) -> None:
        await monitor.run(sink)

    topology = parse_topology(topology_toml(orgs), origin="soak topology")
    app = KetenwachtApp(ChainEngine(topology), feed, broker_url=f"mqtt://127.0.0.1:{port}")
    async with app.run_test(size=SIZE) as pilot:
        generator = None
        if live:
            generator = await asyncio.create_subprocess_exec(
                sys.executable, "-c", GENERATOR, str(port), str(orgs), str(rate), "3600",
                stdout=asyncio.subprocess.DEVNULL)
        await pilot.pause(3.0)  # every organisation on screen, traffic flowing
        try:
            return await press_all(pilot, presses)
        finally:
            if generator is not None:
                generator.kill()
                await generator.wait()


def figures(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    return (statistics.median(ordered) * 1000,
            ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orgs", type=int, default=200)
    parser.add_argument("--rate", type=float, default=2000)
    parser.add_argument("--presses", type=int, default=200)
    args = parser.parse_args()
    port = free_port()
    broker = subprocess.Popen([sys.executable, "-m", "ketenwacht", "broker", "--port",
                               str(port)], stdout=subprocess.DEVNULL)
    time.sleep(2)
    try:
        runs = {
            "bare Textual (baseline)": asyncio.run(bare(args.orgs, args.presses)),
            "Ketenwacht, idle": asyncio.run(
                ketenwacht(port, args.orgs, args.rate, args.presses, live=False)),
            f"Ketenwacht, {args.rate:g} msg/s live": asyncio.run(
                ketenwacht(port, args.orgs, args.rate, args.presses, live=True)),
        }
    finally:
        broker.terminate()
        broker.wait()
    print(f"key press to settled screen, {args.orgs} organisations, {args.presses} presses "
          f"of {' '.join(KEYS)}")
    print(f"{'':32} {'median ms':>10} {'p99 ms':>8}")
    base_median, _ = figures(runs["bare Textual (baseline)"])
    for name, times in runs.items():
        median, p99 = figures(times)
        print(f"{name:32} {median:10.1f} {p99:8.1f}   {median / base_median:5.2f}x median")
    _, live_p99 = figures(list(runs.values())[-1])
    print(f"target p99 < 200 ms live: {'met' if live_p99 < 200 else 'MISSED'}")


if __name__ == "__main__":
    main()
