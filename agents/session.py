"""The agent's session number: new for every start, and larger than every earlier one even
when the counter on disk is lost (a reinstalled host): it is the counter plus one or the
Unix time in milliseconds, whichever is larger (two starts a millisecond apart are not
made by hand; the number stays below 2**53, exact in every JSON reader). So a lost state
directory costs nothing while the clock is right, and a clock set back costs nothing while
the counter is kept."""

from __future__ import annotations

import os
import time
from pathlib import Path

from chain.errors import ConfigError


def default_state_dir() -> Path:
    # systemd's StateDirectory= sets STATE_DIRECTORY; elsewhere follow XDG.
    if systemd := os.environ.get("STATE_DIRECTORY"):
        return Path(systemd.split(":")[0])
    base = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(base) / "ketenwacht"


def next_session(state_dir: Path, org: str, *, now: float | None = None) -> int:
    """The next session of `org`: max(counter + 1, Unix time in ms), written atomically."""
    path = state_dir / f"{org}.session"
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
        text = path.read_text().strip() if path.exists() else "0"
        try:
            session = max(int(text) + 1, int((time.time() if now is None else now) * 1000))
        except ValueError:
            raise ConfigError(f"{path}: session counter is not a number: {text[:20]!r}") from None
        scratch = path.with_suffix(".tmp")
        scratch.write_text(f"{session}\n")
        scratch.replace(path)
    except OSError as error:
        raise ConfigError(f"{path}: cannot keep the session counter: {error.strerror}") from None
    return session
