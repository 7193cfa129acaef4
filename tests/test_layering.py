"""The layering of design.md: a pure core, and no UI below the UI."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("chain", "mqtt", "broker", "recording", "playback", "report", "agents", "tui",
            "ketenwacht")
IMPURE = {"asyncio", "socket", "sqlite3", "aiosqlite", "aiomqtt", "paho", "textual",
          "subprocess", "threading", "os", "time"}


def imports(package: str) -> list[tuple[Path, str]]:
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found += [(path, alias.name.split(".")[0]) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.append((path, node.module.split(".")[0]))
    return found


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    """import-linter's contracts from pyproject.toml, over the packages found first in `tree`."""
    return subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"], cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)}, capture_output=True, text=True,
        check=False,
    )


def test_the_layering_contracts_hold() -> None:
    """Every import-linter contract of pyproject.toml is kept by the code as it is."""
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout[-3000:]


def test_one_wrong_import_breaks_the_contracts(tmp_path: Path) -> None:
    """A copy of the tree with one import the layering forbids (the TUI reaching for the MQTT
    client) fails the contracts and names the import."""
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, symlinks=True,
                        ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    app = tmp_path / "tui" / "app.py"
    app.write_text(app.read_text() + "\nimport mqtt.monitor  # noqa\n")
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    assert "tui.app -> mqtt.monitor" in result.stdout


def test_domain_core_is_pure() -> None:
    """chain/ does no I/O and reads no clock: only the standard library's pure parts and msgspec."""
    wrong = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path, name in imports("chain")
        if name in IMPURE or (name not in sys.stdlib_module_names and name not in {"msgspec",
                                                                                    "chain"})
    ]
    assert not wrong


@pytest.mark.parametrize("package", ["chain", "mqtt", "broker", "recording", "playback",
                                     "report", "agents"])
def test_headless_packages_never_import_textual(package: str) -> None:
    """The daemon and the recorder must run without a UI library."""
    assert not [p for p, name in imports(package) if name in {"textual", "rich"}]


def loaded_by(imports: str, modules: tuple[str, ...]) -> list[str]:
    """Which of `modules` a fresh interpreter has loaded after `imports`."""
    probe = f"import sys\n{imports}\nprint(','.join(m for m in {modules!r} if m in sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    return [name for name in result.stdout.strip().split(",") if name]


def test_headless_commands_load_neither_ui_nor_embedded_broker() -> None:
    """Headless commands (`agent`, `status`, `record`) import neither textual nor the broker."""
    assert loaded_by("from ketenwacht import cli, agent_commands, status, record",
                     ("textual", "broker.embedded", "tui.app")) == []


def test_the_report_command_never_loads_the_mqtt_client() -> None:
    """`ketenwacht report` folds a file: neither aiomqtt nor paho is loaded for it."""
    assert loaded_by("from ketenwacht import cli, report\nfrom report import fold, markdown, html",
                     ("aiomqtt", "paho", "textual", "mqtt.connection")) == []
