"""Agent footprint: RSS and CPU of a real agent at default intervals, against a bare client.

Both run side by side against the same Mosquitto for the same minutes:
  - the agent: `ketenwacht agent --config` with six probes (SMTP, HTTP status, Prometheus,
    HTTP JSON, a file, a manual value) on local servers this script starts, 5 s heartbeat;
  - the baseline: a bare aiomqtt client that only publishes a heartbeat every 5 s.
Targets (issue 3): agent under 40 MB RSS and under 1 % of one core.

Run: .venv/bin/python bench/agent_footprint.py [--minutes 3]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psutil

from broker.embedded import free_port

BASELINE = """
import asyncio, json, sys, time
import aiomqtt

async def main(port):
    async with aiomqtt.Client("127.0.0.1", port, identifier="bare") as client:
        while True:
            body = {"kind": "heartbeat", "org": "bare", "session": 1, "seq": 1,
                    "ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "interval": 5}
            await client.publish("keten/v1/bare/heartbeat", json.dumps(body))
            await asyncio.sleep(5)

asyncio.run(main(int(sys.argv[1])))
"""

METRICS = b"# TYPE out_total counter\nout_total{dest=\"jds\"} 4821.0\n"


@contextlib.contextmanager
def http_server() -> Iterator[int]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = {"/metrics": METRICS, "/stats": b'{"pending": 12}'}.get(self.path, b"ok")
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()


@contextlib.contextmanager
def smtp_server() -> Iterator[int]:
    from aiosmtpd.controller import Controller

    port = free_port()
    controller = Controller(object(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def wait_port(port: int) -> None:
    for _ in range(100):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise SystemExit(f"nothing listens on {port}")


def sample(processes: dict[str, psutil.Process], minutes: float) -> dict[str, dict[str, float]]:
    start_cpu = {name: p.cpu_times() for name, p in processes.items()}
    started = time.monotonic()
    rss: dict[str, list[float]] = {name: [] for name in processes}
    deadline = started + minutes * 60
    while time.monotonic() < deadline:
        for name, process in processes.items():
            rss[name].append(process.memory_info().rss / 2**20)
        time.sleep(5)
    wall = time.monotonic() - started
    figures = {}
    for name, process in processes.items():
        end, begin = process.cpu_times(), start_cpu[name]
        cpu = (end.user - begin.user) + (end.system - begin.system)
        figures[name] = {
            "rss_median_mb": statistics.median(rss[name]),
            "rss_max_mb": max(rss[name]),
            "cpu_percent": 100 * cpu / wall,
        }
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=3.0)
    args = parser.parse_args()
    mosquitto = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    with tempfile.TemporaryDirectory() as scratch, http_server() as http, smtp_server() as smtp:
        work = Path(scratch)
        port = free_port()
        (work / "mosquitto.conf").write_text(
            f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest none\n"
        )
        (work / "count.txt").write_text("317\n")
        (work / "agent.toml").write_text(f"""
org = "om"
state_dir = "{work / 'state'}"
[broker]
url = "mqtt://127.0.0.1:{port}"
[[probe]]
type = "smtp"
host = "127.0.0.1"
port = {smtp}
[[probe]]
type = "http-status"
url = "http://127.0.0.1:{http}/health"
[[probe]]
type = "prometheus"
url = "http://127.0.0.1:{http}/metrics"
metric = "out_total"
flow = "om-justid"
direction = "sent"
[[probe]]
type = "http-json"
url = "http://127.0.0.1:{http}/stats"
field = "pending"
backlog = "jds_pending"
[[probe]]
type = "file"
path = "count.txt"
backlog = "paper_intake"
[[probe]]
type = "manual"
backlog = "held"
""")
        broker = subprocess.Popen([mosquitto, "-c", str(work / "mosquitto.conf")])
        wait_port(port)
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        agent = subprocess.Popen(
            [sys.executable, "-m", "ketenwacht", "agent", "--config", str(work / "agent.toml")],
            stderr=subprocess.DEVNULL, env=env,
        )
        bare = subprocess.Popen([sys.executable, "-c", BASELINE, str(port)], env=env)
        try:
            time.sleep(5)  # both connected and past their imports
            figures = sample(
                {"agent": psutil.Process(agent.pid), "bare aiomqtt": psutil.Process(bare.pid)},
                args.minutes,
            )
        finally:
            for process in (agent, bare, broker):
                process.terminate()
                process.wait(timeout=10)
    a, b = figures["agent"], figures["bare aiomqtt"]
    print(f"agent footprint over {args.minutes:g} min (heartbeat 5 s, 6 probes)")
    print(f"{'':14} {'RSS median':>11} {'RSS max':>9} {'CPU':>8}")
    for name, f in figures.items():
        print(f"{name:14} {f['rss_median_mb']:9.1f}MB {f['rss_max_mb']:7.1f}MB "
              f"{f['cpu_percent']:7.3f}%")
    print(f"ratio agent/bare: RSS {a['rss_median_mb'] / b['rss_median_mb']:.2f}x, "
          f"CPU {a['cpu_percent'] / max(b['cpu_percent'], 1e-9):.1f}x")
    print(f"targets: RSS < 40 MB {'met' if a['rss_max_mb'] < 40 else 'MISSED'}, "
          f"CPU < 1 % {'met' if a['cpu_percent'] < 1 else 'MISSED'}")


if __name__ == "__main__":
    main()
