"""Values an admin sets by hand (`ketenwacht agent set`), for what no system reports."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import msgspec

from chain.errors import ConfigError


class ManualValue(msgspec.Struct, frozen=True):
    value: int
    set_at: float


_decoder = msgspec.json.Decoder(dict[str, ManualValue])


def manual_file(state_dir: Path, org: str) -> Path:
    return state_dir / f"{org}.manual.json"


def read_manual(path: Path) -> dict[str, ManualValue]:
    try:
        return _decoder.decode(path.read_bytes())
    except FileNotFoundError:
        return {}
    except OSError as error:
        raise ConfigError(f"{path}: cannot read manual values: {error.strerror}") from None
    except (msgspec.ValidationError, msgspec.DecodeError) as error:
        raise ConfigError(f"{path}: damaged manual values file: {error}") from None


def write_manual(path: Path, target: str, value: int) -> None:
    """Set one value, replacing the file atomically so the agent never reads half of it."""
    values = read_manual(path)
    values[target] = ManualValue(value=value, set_at=time.time())
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, delete=False, suffix=".tmp") as scratch:
        scratch.write(msgspec.json.encode(values))
    os.replace(scratch.name, path)
