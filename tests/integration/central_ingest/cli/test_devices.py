"""Device provisioning on the registry host: key pair, registration, revocation, listing."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from central_ingest.cli import app
from central_ingest.config import RegistryConfig
from central_ingest.ingest.service import Incoming, IngestService
from central_ingest.wiring import open_registry_store
from contract import DeviceKey, DeviceKind, DeviceStatus, MessageKind, encode_envelope, seal

runner = CliRunner()


def provision(
    data_dir: Path, device_id: str, kind: str, key_out: Path, language: str = "en"
) -> tuple[int, str]:
    result = runner.invoke(
        app,
        [
            "--language",
            language,
            "device",
            "provision",
            device_id,
            "--kind",
            kind,
            "--key-out",
            str(key_out),
            "--description",
            "pole 17, Kabanbay batyr",
            "--data-dir",
            str(data_dir),
        ],
    )
    return result.exit_code, result.output


def test_provisioned_key_signs_messages_the_registry_accepts_until_revoked(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "registry"
    key_path = tmp_path / "keys" / "cam-astana-0042.pem"

    code, output = provision(data_dir, "cam-astana-0042", "camera", key_path)

    assert code == 0, output
    assert key_path.stat().st_mode & 0o777 == 0o600
    config = RegistryConfig(data_dir=data_dir)
    store = open_registry_store(config)
    row = store.db.conn.execute(
        "SELECT kind, public_key, status FROM devices WHERE device_id = 'cam-astana-0042'"
    ).fetchone()
    key = DeviceKey.load(key_path)
    assert row == ("camera", key.public_key_b64, "active")
    ledger = store.db.conn.execute(
        "SELECT entity_type, action, actor, payload FROM ledger WHERE entity_id = 'cam-astana-0042'"
    ).fetchall()
    assert [(t, a, actor) for t, a, actor, _ in ledger] == [
        ("device", "registered", "officer:admin")
    ]
    assert json.loads(ledger[0][3])["public_key"] == key.public_key_b64

    service = IngestService(store, config)
    status = DeviceStatus(online=True, queue_depth=0)

    def send() -> str | None:
        envelope = seal(MessageKind.DEVICE_STATUS, "cam-astana-0042", status, key)
        return service.process(Incoming(encode_envelope(envelope), "http")).reason

    assert send() is None
    revoked = runner.invoke(
        app,
        [
            "device",
            "revoke",
            "cam-astana-0042",
            "--reason",
            "stolen from its pole",
            "--data-dir",
            str(data_dir),
        ],
    )
    assert revoked.exit_code == 0, revoked.output
    assert send() == "device_revoked"


def test_provisioning_refuses_duplicates_and_never_overwrites_a_key(tmp_path: Path) -> None:
    data_dir = tmp_path / "registry"
    first_key = tmp_path / "term.pem"
    assert provision(data_dir, "term-patrol-0007", "terminal", first_key)[0] == 0
    original = first_key.read_bytes()

    again_same_file = provision(data_dir, "term-patrol-0008", "terminal", first_key)
    again_same_id = provision(data_dir, "term-patrol-0007", "terminal", tmp_path / "other.pem")
    listing = runner.invoke(app, ["device", "list", "--data-dir", str(data_dir)])

    assert again_same_file[0] == 1 and "refusing to overwrite" in again_same_file[1]
    assert first_key.read_bytes() == original
    assert again_same_id[0] == 1
    assert "Device term-patrol-0007 is already registered." in again_same_id[1]
    in_kazakh = provision(data_dir, "term-patrol-0007", "terminal", tmp_path / "o.pem", "kk")
    assert in_kazakh[0] == 1
    assert "term-patrol-0007 құрылғысы бұрыннан тіркелген." in in_kazakh[1]
    assert not (tmp_path / "other.pem").exists()
    assert "term-patrol-0007" in listing.output and DeviceKind.TERMINAL.value in listing.output
    assert "term-patrol-0008" not in listing.output


def test_every_command_has_help() -> None:
    for command in (
        ["--help"],
        ["device", "provision", "--help"],
        ["serve", "--help"],
        ["ingest-worker", "--help"],
        ["audit", "verify", "--help"],
        ["run-jobs", "--help"],
        ["export-bailiffs", "--help"],
    ):
        result = runner.invoke(app, command)
        assert result.exit_code == 0, (command, result.output)
        assert "Usage" in result.output
