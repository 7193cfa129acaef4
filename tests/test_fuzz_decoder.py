"""A short run of bench/fuzz_decoder.py: seconds of mutated payloads through the monitor's
three decoders, and nothing but PayloadError comes out."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

FUZZER = Path(__file__).resolve().parent.parent / "bench" / "fuzz_decoder.py"


def test_a_short_fuzz_run_finds_nothing_but_payload_errors() -> None:
    """Three seconds, a fixed seed: exit 0, thousands of executions, no other exception."""
    result = subprocess.run(
        [sys.executable, str(FUZZER), "--seconds", "3", "--seed", "7"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    summary = re.search(r"(\d+) executions .* (\d+) other exceptions", result.stdout)
    assert summary is not None, result.stdout
    assert int(summary.group(1)) > 5_000 and summary.group(2) == "0"
