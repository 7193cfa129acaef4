"""A state directory Ketenwacht cannot write in (here a file stands where it should be):
every command that keeps state there says so in one line naming the file, exit 78."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

NO_BROKER = "mqtt://127.0.0.1:1"
SCENARIO = str(Path(__file__).parents[1] / "seeds" / "scenarios" / "om-offline-2025.toml")
COMMANDS = {
    "demo": (["demo"], "demo.log: cannot write the log"),
    "tui": (["tui", "--broker", NO_BROKER], "history.sqlite: cannot open the recording"),
    "record": (["record", "--broker", NO_BROKER], "recording.sqlite: cannot open the recording"),
    "exercise": (["exercise", SCENARIO, "--broker", NO_BROKER], "exercise.log: cannot write"),
    "exercise-headless": (["exercise", SCENARIO, "--headless", "--broker", NO_BROKER],
                          "exercise-om-offline-2025.sqlite: cannot open the recording"),
}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_an_unusable_state_directory_is_one_line(tmp_path: Path, command: str) -> None:
    """demo and the leader's screen failed in setting up their log file with a traceback;
    each now names the file it could not keep, as the recording commands do."""
    blocked = tmp_path / "state"
    blocked.write_text("not a directory\n")
    args, message = COMMANDS[command]
    result = subprocess.run(
        [sys.executable, "-m", "ketenwacht", *args], capture_output=True, text=True,
        timeout=30, check=False, env={**os.environ, "XDG_STATE_HOME": str(blocked)})
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 78, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"ketenwacht: {blocked}/ketenwacht/")
    assert message in lines[0]
    assert lines[0].endswith(": Not a directory")
