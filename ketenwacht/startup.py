"""Shared set-up for the commands: topology, logging, signals."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from chain.errors import ConfigError
from chain.printable import visible
from chain.topology import Topology, parse_topology

DEFAULT_TOPOLOGY = Path(__file__).parent / "seeds" / "chain.toml"


@dataclass(frozen=True)
class Alerts:
    """Whether a screen rings the terminal's bell and shows a notification for each new
    problem (`--no-bell`, `--no-notify`)."""

    bell: bool = True
    notify: bool = True


ALERTS: Final = Alerts()
"""Both on: what a screen does unless told otherwise."""


def warn(line: str) -> None:
    """One line a user should read, the command going on: as `main` prints an error."""
    print(f"ketenwacht: warning: {visible(line)}", file=sys.stderr, flush=True)


def load_topology(path: Path | None) -> Topology:
    path = path or DEFAULT_TOPOLOGY
    try:
        text = path.read_bytes()
    except OSError as error:
        raise ConfigError(f"{path}: cannot read topology: {error.strerror}") from None
    return parse_topology(text, origin=str(path))


class _JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.created)),
            "level": record.levelname.lower(),
            "logger": record.name,
            "org": getattr(record, "org", None),
            "msg": record.getMessage(),
        }
        return json.dumps({k: v for k, v in entry.items() if v is not None})


class _NameTheOrg(logging.Filter):
    """Every line an agent logs names its organisation, whichever library logged it."""

    def __init__(self, org: str) -> None:
        super().__init__()
        self.org = org

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "org"):
            record.org = self.org
        return True


def configure_logging(*, verbose: bool, file: Path | None = None, org: str | None = None) -> None:
    """Plain lines on a terminal, JSON lines otherwise (journald, log shippers)."""
    handler: logging.Handler
    if file is not None:
        try:
            file.parent.mkdir(parents=True, exist_ok=True)
            handler = logging.FileHandler(file)
        except OSError as error:  # the state directory is a file, or not ours to write
            raise ConfigError(f"{file}: cannot write the log: {error.strerror}") from None
    else:
        handler = logging.StreamHandler(sys.stderr)
    if org is not None:
        handler.addFilter(_NameTheOrg(org))
    if file is None and sys.stderr.isatty():
        prefix = f"{org} " if org else ""
        handler.setFormatter(
            logging.Formatter(f"%(asctime)s %(levelname)s {prefix}%(name)s: %(message)s")
        )
    else:
        handler.setFormatter(_JsonLines())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for noisy in ("ketenwacht.mqtt", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def cancel_on_signals(task: asyncio.Task[object]) -> None:
    """SIGTERM and SIGINT cancel `task`, which then makes its planned stop."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)


async def until_signalled() -> None:
    """Wait until SIGTERM or SIGINT."""
    forever = asyncio.create_task(asyncio.Event().wait())
    cancel_on_signals(forever)
    with contextlib.suppress(asyncio.CancelledError):
        await forever
