"""The agent's session number: new for every start, kept on disk so it only ever grows."""

from __future__ import annotations

import os
from pathlib import Path

from chain.errors import ConfigError


def default_state_dir() -> Path:
    # systemd's StateDirectory= sets STATE_DIRECTORY; elsewhere follow XDG.
    if systemd := os.environ.get("STATE_DIRECTORY"):
        return Path(systemd.split(":")[0])
    base = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(base) / "ketenwacht"


def next_session(state_dir: Path, org: str) -> int:
    """Increment and return the session counter of `org`, written atomically."""
    path = state_dir / f"{org}.session"
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
        text = path.read_text().strip() if path.exists() else "0"
        try:
            session = int(text) + 1
        except ValueError:
            raise ConfigError(f"{path}: session counter is not a number: {text[:20]!r}") from None
        scratch = path.with_suffix(".tmp")
        scratch.write_text(f"{session}\n")
        scratch.replace(path)
    except OSError as error:
        raise ConfigError(f"{path}: cannot keep the session counter: {error.strerror}") from None
    return session
