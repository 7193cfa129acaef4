"""`./scripts/demo` installs only when it must: no install yet, pyproject.toml changed since,
or the package does not import; a warm start goes straight to `ketenwacht demo`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

FAKE = """#!/usr/bin/env bash
echo "$(basename "$0") $*" >> "{log}"
{body}
"""


def _fake(path: Path, log: Path, body: str = "") -> None:
    path.write_text(FAKE.format(log=log, body=body))
    path.chmod(0o755)


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """The real scripts in a copy of the checkout whose venv is fakes that log their calls:
    python answers the import check by whether `importable` exists; pip installs."""
    (tmp_path / "scripts").mkdir()
    for script in ("demo", "setup.sh"):
        shutil.copy2(ROOT / "scripts" / script, tmp_path / "scripts" / script)
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    log = tmp_path / "calls.log"
    _fake(bin_dir / "python", log, f'[ -e "{tmp_path}/importable" ]')
    _fake(bin_dir / "pip", log)
    _fake(bin_dir / "ketenwacht", log)
    (tmp_path / "importable").touch()
    return tmp_path


def _run_demo(checkout: Path) -> list[str]:
    log = checkout / "calls.log"
    log.unlink(missing_ok=True)
    # setup.sh checks the Python version with $PYTHON: the interpreter running the tests.
    env = {**os.environ, "PYTHON": sys.executable}
    result = subprocess.run([str(checkout / "scripts" / "demo"), "--calm"], env=env,
                            capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stderr
    return [line.split()[0] for line in log.read_text().splitlines()]


def test_the_first_start_installs_and_a_warm_one_does_not(checkout: Path) -> None:
    """No marker: pip runs, then the demo; the second start runs the demo only."""
    assert _run_demo(checkout) == ["pip", "ketenwacht"]
    assert _run_demo(checkout) == ["python", "ketenwacht"]
    assert "ketenwacht demo --calm" in (checkout / "calls.log").read_text()


def test_a_changed_pyproject_installs_again(checkout: Path) -> None:
    """pyproject.toml newer than the install: pip runs once more."""
    _run_demo(checkout)
    marker = checkout / ".venv" / ".ketenwacht-demo-installed"
    os.utime(marker, (1_000_000_000, 1_000_000_000))
    assert _run_demo(checkout) == ["pip", "ketenwacht"]
    assert _run_demo(checkout) == ["python", "ketenwacht"]


def test_a_package_that_does_not_import_installs_again(checkout: Path) -> None:
    """The import check fails (a broken or removed install): pip runs."""
    _run_demo(checkout)
    (checkout / "importable").unlink()
    assert _run_demo(checkout) == ["python", "pip", "ketenwacht"]
