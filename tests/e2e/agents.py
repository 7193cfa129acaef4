"""Agent subprocesses, run through the real `ketenwacht agent` command."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mqtt.address import BrokerAddress


def spawn_agent(
    org: str, address: BrokerAddress, state_dir: Path, *, interval: float = 0.5
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable, "-m", "ketenwacht", "agent", "--simulate",
            "--org", org,
            "--broker", address.url,
            "--interval", str(interval),
            "--state-dir", str(state_dir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


@contextmanager
def agents(
    orgs: list[str], address: BrokerAddress, state_dir: Path, *, interval: float = 0.5
) -> Iterator[dict[str, subprocess.Popen[bytes]]]:
    """Start one agent process per org; kill whatever is left at the end."""
    running = {org: spawn_agent(org, address, state_dir, interval=interval) for org in orgs}
    try:
        yield running
    finally:
        for process in running.values():
            if process.poll() is None:
                process.send_signal(signal.SIGCONT)
                process.kill()
            process.wait(timeout=10)
            if process.stderr:
                process.stderr.close()
