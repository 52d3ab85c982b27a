"""``erap-registry ops deliver-notifications`` with ``[notices.sms]`` in the configuration: SMS
to the SMSC simulator process, e-mail (no relay configured) to the outbox file, the password
from the environment; and the worker listening for receipts between rounds."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
import tomllib
from pathlib import Path

from central_ingest.config import RegistryConfig, SmppSettings
from central_ingest.notify.smpp import SmppSender
from central_ingest.notify.worker import run_worker
from central_ingest.store.notifications import notices_of_case
from tests.support.notices import RESOLUTION_AT, delivered, open_case, outbox_store
from tests.support.paths import DEPLOY
from tests.support.wire_servers import running

PASSWORD = "smsc-pw1"


def _command(tmp_path: Path, config: Path) -> list[str]:
    return [
        sys.executable,
        "-c",
        "from central_ingest.cli.ops import ops_app; ops_app()",
        "deliver-notifications",
        "--once",
        "--config",
        str(config),
        "--data-dir",
        str(tmp_path),
        "--outbox-file",
        str(tmp_path / "outbox.jsonl"),
    ]


def _config(tmp_path: Path, port: int) -> Path:
    path = tmp_path / "registry.toml"
    path.write_text(
        "[notices.sms]\n"
        f'host = "127.0.0.1"\nport = {port}\nsystem_id = "erap"\nsource_addr = "ERAP"\n'
        'password_env = "TEST_SMPP_PASSWORD"\n',
        encoding="utf-8",
    )
    return path


def test_the_command_sends_sms_to_the_smsc_and_email_to_the_file(tmp_path: Path) -> None:
    store = outbox_store(tmp_path)
    open_case(store, 1)  # one SMS, one e-mail
    with running("tests.support.smsc", tmp_path / "smsc.jsonl", "--password", PASSWORD) as smsc:
        config = _config(tmp_path, smsc.port)
        english = {**os.environ, "ERAP_LANGUAGE": "en"}
        missing = subprocess.run(
            _command(tmp_path, config),
            capture_output=True,
            text=True,
            timeout=60,
            env={k: v for k, v in english.items() if k != "TEST_SMPP_PASSWORD"},
        )
        assert missing.returncode != 0
        assert (
            "The SMSC password is not set: put it in the environment variable"
            " TEST_SMPP_PASSWORD" in missing.stderr
        )
        assert smsc.entries() == []

        done = subprocess.run(
            _command(tmp_path, config),
            capture_output=True,
            text=True,
            timeout=60,
            env={**english, "TEST_SMPP_PASSWORD": PASSWORD},
        )
        assert done.returncode == 0, done.stderr
        assert "Notices sent: 2, to retry: 0, failed: 0" in done.stdout
        parts = [entry for entry in smsc.entries() if entry.get("accepted")]
        assert len(parts) == 2 and {p["destination"] for p in parts} == {"77011234567"}
    (email,) = delivered(tmp_path / "outbox.jsonl")
    assert email["channel"] == "email"


def test_the_worker_records_receipts_while_it_waits(tmp_path: Path) -> None:
    store = outbox_store(tmp_path)
    case = open_case(store, 1, email=None)
    with running(
        "tests.support.smsc",
        tmp_path / "smsc.jsonl",
        "--password",
        PASSWORD,
        "--receipt-delay",
        "0.3",
    ) as smsc:
        sender = SmppSender(
            SmppSettings(host="127.0.0.1", port=smsc.port, system_id="erap", source_addr="ERAP"),
            PASSWORD,
        )
        stop = threading.Event()
        worker = threading.Thread(
            target=run_worker,
            args=(store, sender, stop, 0.2),
            kwargs={"clock": lambda: RESOLUTION_AT},
        )
        worker.start()
        try:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                (notice,) = notices_of_case(store.db, case["case_number"])
                if notice.state == "delivered":
                    break
                time.sleep(0.05)
        finally:
            stop.set()
            worker.join(5)
            sender.close()
    assert not worker.is_alive()
    assert notice.state == "delivered" and notice.parts == 2


def test_the_commented_notices_sections_of_the_example_configuration_are_valid() -> None:
    example = DEPLOY / "registry.example.toml"
    text = example.read_text(encoding="utf-8")
    block = text[text.index("# [notices.sms]") :]
    uncommented = "\n".join(
        re.sub(r"\s+#.*$", "", line.removeprefix("# ")) for line in block.splitlines()
    )
    config = RegistryConfig(**tomllib.loads(uncommented))
    assert config.notices.sms is not None and config.notices.email is not None
    assert (config.notices.sms.port, config.notices.email.port) == (2775, 587)
    assert "password" not in uncommented.replace("password_env", "")
