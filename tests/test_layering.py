"""The layering of design.md: a pure core, and no UI below the UI."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OURS = {"chain", "broker", "agents", "tui", "ketenwacht"}
ALLOWED = {
    "chain": {"chain"},
    "broker": {"chain", "broker"},
    "agents": {"chain", "broker", "agents"},
    "tui": {"chain", "broker", "tui"},
}
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


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_packages_import_only_the_layers_below(package: str) -> None:
    """chain ← broker ← agents; tui sees chain and broker; only ketenwacht sees all."""
    wrong = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path, name in imports(package)
        if name in OURS and name not in ALLOWED[package]
    ]
    assert not wrong


def test_domain_core_is_pure() -> None:
    """chain/ does no I/O and reads no clock: only the standard library's pure parts and msgspec."""
    wrong = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path, name in imports("chain")
        if name in IMPURE or (name not in sys.stdlib_module_names and name not in {"msgspec",
                                                                                    "chain"})
    ]
    assert not wrong


@pytest.mark.parametrize("package", ["chain", "broker", "agents"])
def test_headless_packages_never_import_textual(package: str) -> None:
    """The daemon and the recorder must run without a UI library."""
    assert not [p for p, name in imports(package) if name in {"textual", "rich"}]


def test_headless_commands_load_neither_ui_nor_embedded_broker() -> None:
    """Headless commands (`agent`, `status`, `record`) import neither textual nor the broker."""
    import subprocess

    probe = (
        "import sys\n"
        "from ketenwacht import cli, agent_commands, status, record\n"
        "loaded = sorted(m for m in ('textual', 'broker.embedded', 'tui.app')\n"
        "                if m in sys.modules)\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
