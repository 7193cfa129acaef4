"""`broker init --rotate USER`: the old credentials stop working, everyone else's keep working,
and nobody else's files change by a byte; on Mosquitto and on a NATS node."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from pathlib import Path

import aiomqtt
import pytest

from broker.setup_dir import Layout
from tests.e2e.secured import ADMIN, SecuredBroker, connects

pytestmark = pytest.mark.asyncio(loop_scope="module")

ROTATED = {"mosquitto": "om", "nats": "justid"}

def snapshot(layout: Layout) -> dict[str, bytes]:
    """Every file of the setup (not a node's JetStream store, which the running node keeps)."""
    return {str(path.relative_to(layout.out)): path.read_bytes()
            for path in sorted(layout.out.rglob("*"))
            if path.is_file() and "jetstream" not in path.relative_to(layout.out).parts}


def password_lines(layout: Layout) -> dict[str, str]:
    lines = (layout.broker / "passwords").read_text().splitlines()
    return dict(line.split(":", 1) for line in lines if line)


def rotate(layout: Layout, user: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ketenwacht", "broker", "init", "--out", str(layout.out),
         "--rotate", user],
        capture_output=True, text=True, check=False,
    )


def keep_old_certificate(folder: Path, into: Path) -> tuple[Path, Path]:
    into.mkdir()
    return (Path(shutil.copy(folder / "client.crt", into)),
            Path(shutil.copy(folder / "client.key", into)))


async def test_a_rotated_credential_stops_working_and_no_other_does(
    mosquitto_secured: SecuredBroker, tmp_path: Path
) -> None:
    """Mosquitto, after --rotate and a reload: the old password and the old certificate
    refused; the new ones accepted; every other user still connects with what it had, and
    only the rotated user's lines changed."""
    secured = mosquitto_secured
    user, layout = ROTATED[secured.name], secured.setup.layout
    folder = secured.setup.folder(user)
    old_password = secured.setup.password(user)
    old_cert, old_key = keep_old_certificate(folder, tmp_path / "old")
    assert await connects(secured.client(user, old_password))
    before, hashes_before = snapshot(layout), password_lines(layout)

    result = await asyncio.to_thread(rotate, layout, user)
    assert result.returncode == 0, result.stderr
    new_password = secured.setup.password(user)
    assert new_password != old_password
    assert new_password not in result.stdout + result.stderr
    secured.reload()

    refused = False
    for _ in range(50):  # Mosquitto rereads its files a moment after SIGHUP
        if refused := not await connects(secured.client(user, old_password)):
            break
    assert refused, "the old password still works"
    assert await connects(secured.client(user, new_password))
    assert secured.cert_port is not None
    assert not await connects(secured.certificate_client(user, old_cert, old_key))
    assert await connects(secured.certificate_client(
        user, folder / "client.crt", folder / "client.key"))
    other = secured.setup.folder("cjib")
    assert await connects(secured.certificate_client(
        "cjib", other / "client.crt", other / "client.key"))
    for other_user in [u.name for u in secured.setup.manifest.users if u.name != user]:
        assert await connects(secured.client(other_user)), other_user
    assert await connects(secured.client(ADMIN))

    after, hashes_after = snapshot(layout), password_lines(layout)
    changed = {name for name in before.keys() | after.keys()
               if before.get(name) != after.get(name)}
    mine = str(folder.relative_to(layout.out)) + "/"
    assert {name for name in changed if not name.startswith(mine)} == {
        "broker/passwords", "broker/crl.pem"}
    assert {name for name, h in hashes_after.items() if hashes_before.get(name) != h} == {user}


async def test_a_rotated_certificate_maps_to_no_one_and_its_open_connection_ends(
    nats_secured: SecuredBroker, tmp_path: Path
) -> None:
    """NATS, after --rotate and a reload: the old certificate refused, and a connection open
    with it ended (NATS checks every connection again on reload); the new one accepted; every
    other user still connects; of the setup's files only the user's folder and the node's
    nats.conf changed."""
    secured = nats_secured
    user, layout = ROTATED[secured.name], secured.setup.layout
    folder = secured.setup.folder(user)
    old_cert, old_key = keep_old_certificate(folder, tmp_path / "old")
    before = snapshot(layout)
    async with secured.certificate_client(user, old_cert, old_key) as still_open:
        result = await asyncio.to_thread(rotate, layout, user)
        assert result.returncode == 0, result.stderr
        secured.setup.write_node_configs()  # the test's admin, beside the setup's users
        secured.reload()
        try:
            async with asyncio.timeout(5):
                async for _ in still_open.messages:
                    pass
        except aiomqtt.MqttError:
            pass  # dropped, as it should be
        except TimeoutError:
            raise AssertionError("the connection with the old certificate stayed open") from None

    assert not await connects(secured.certificate_client(user, old_cert, old_key))
    assert await connects(secured.certificate_client(
        user, folder / "client.crt", folder / "client.key"))
    for other_user in [u.name for u in secured.setup.manifest.users if u.name != user]:
        assert await connects(secured.client(other_user)), other_user
    assert await connects(secured.client(ADMIN))

    after = snapshot(layout)
    changed = {name for name in before.keys() | after.keys()
               if before.get(name) != after.get(name)}
    mine = str(folder.relative_to(layout.out)) + "/"
    assert {name for name in changed if not name.startswith(mine)} == {"nodes/n1/nats.conf"}
