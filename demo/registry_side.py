"""The registry's side of the demo: provisioning, the server process, and the scripted
officers (reviewer, supervisor, prosecutor) working through the HTTP API as the console does."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from central_ingest.cases import CaseService
from central_ingest.config import RegistryConfig
from central_ingest.jobs import RegistryJobs
from central_ingest.notice_senders import make_sender
from central_ingest.operators import Operators, Role
from central_ingest.store.db import Store
from central_ingest.store.devices import register_device
from central_ingest.store.postgres.db import PostgresStore
from central_ingest.vehicles import DEMO_SEED, SqliteVehicleRegister
from central_ingest.wiring import open_registry_store
from contract import DeviceKey, DeviceKind, now_utc
from demo.story import say
from i18n.formatting import money
from tests.support.broker import wait_for_port

ROOT = Path(__file__).resolve().parent.parent

OPERATORS = (
    ("aidana", Role.REVIEWER, "Aidana Reviewer"),
    ("serik", Role.SUPERVISOR, "Serik Supervisor"),
    ("prosecutor", Role.PROSECUTOR, "Office of the Prosecutor"),
)


def provision(
    config: RegistryConfig, devices: dict[str, DeviceKind], keys_dir: Path, password: str
) -> dict[str, Path]:
    """Register each device's fresh key (written 0600 under ``keys_dir``), the operators and
    the vehicle register; returns the key files by device id."""
    store = open_registry_store(config)
    keys_dir.mkdir(parents=True, exist_ok=True)
    key_files = {}
    for device_id, kind in devices.items():
        key = DeviceKey.generate()
        key_files[device_id] = keys_dir / f"{device_id}.pem"
        key.save(key_files[device_id])
        register_device(
            store,
            device_id=device_id,
            kind=kind,
            public_key_b64=key.public_key_b64,
            description="demo",
            actor="system:demo",
            now=now_utc(),
        )
        say(f"provisioned {kind.value} {device_id}")
    operators = Operators(store, session_hours=config.session_hours)
    for username, role, name in OPERATORS:
        operators.create(
            username, display_name=name, role=role, password=password, actor="system:demo"
        )
        say(f"operator {username} ({role.value})")
    seeded = SqliteVehicleRegister(store).load_seed(DEMO_SEED)
    say(f"vehicle register seeded with {seeded} vehicles")
    store.close()
    return key_files


def start_registry(
    config: RegistryConfig, http_port: int, mqtt_port: int, config_file: Path | None = None
) -> subprocess.Popen[bytes]:
    """``erap-registry serve``; ``config_file``: the settings ``config`` holds beyond its data
    directory and database (the SMSC, the banks: demo/driver_side.py writes them)."""
    log_path = config.data_dir / "registry.log"
    settings = [] if config_file is None else ["--config", str(config_file)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "central_ingest",
                "serve",
                "--data-dir",
                str(config.data_dir),
                "--port",
                str(http_port),
                "--mqtt-port",
                str(mqtt_port),
                *settings,
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    wait_for_port(http_port, timeout_s=30)
    deadline = time.monotonic() + 30
    while "ingest subscribed" not in log_path.read_text(encoding="utf-8", errors="replace"):
        if time.monotonic() > deadline or process.poll() is not None:
            raise RuntimeError(f"the registry did not start its ingest; see {log_path}")
        time.sleep(0.1)
    return process


class Officers:
    """The scripted officers, signed in through the API with the demo's password."""

    def __init__(self, api: httpx.Client, password: str) -> None:
        self.api = api
        self._password = password
        self._tokens: dict[str, dict[str, str]] = {}

    def auth(self, username: str) -> dict[str, str]:
        if username not in self._tokens:
            answer = self.api.post(
                "/v1/auth/token", data={"username": username, "password": self._password}
            )
            answer.raise_for_status()
            self._tokens[username] = {"Authorization": f"Bearer {answer.json()['access_token']}"}
        return self._tokens[username]

    def awaiting_review(self) -> int:
        answer = self.api.get("/v1/review/queue", headers=self.auth("aidana"))
        answer.raise_for_status()
        return int(answer.json()["awaiting_review"])

    def review_all(self, reject: dict[str, tuple[str, str]]) -> dict[str, str]:
        """Decide every waiting fixation: reject the plates in ``reject`` (reason code, note),
        confirm the others. Returns the case number per confirmed plate."""
        auth = self.auth("aidana")
        cases: dict[str, str] = {}
        while True:
            started = time.monotonic()
            answer = self.api.get("/v1/review/next", headers=auth)
            if answer.status_code == 204:
                return cases
            answer.raise_for_status()
            fixation = answer.json()
            plate = fixation["plate_text"]
            seconds = round(time.monotonic() - started + 4.0, 1)  # looking at the photos
            if plate in reject:
                reason, note = reject[plate]
                self.api.post(
                    f"/v1/fixations/{fixation['fixation_id']}/reject",
                    headers=auth,
                    json={"reason": reason, "note": note, "seconds_spent": seconds},
                ).raise_for_status()
                say(f"officer aidana rejected {plate}: {reason} ({note})")
                continue
            confirmed = self.api.post(
                f"/v1/fixations/{fixation['fixation_id']}/confirm",
                headers=auth,
                json={"seconds_spent": seconds},
            )
            confirmed.raise_for_status()
            case = confirmed.json()
            cases[plate] = case["case_number"]
            say(
                f"officer aidana confirmed {plate} at {fixation.get('speed_kmh')} km/h: case "
                f"{case['case_number']}, art. {case['article']} p.{case['part']}, "
                f"{money(case['full_minor'], 'en')} ({money(case['amount_due_now_minor'], 'en')}"
                " within 7 days)"
            )

    def case(self, case_number: str) -> dict[str, object]:
        answer = self.api.get(f"/v1/cases/{case_number}", headers=self.auth("aidana"))
        answer.raise_for_status()
        return dict(answer.json())

    def cancel_with_two_officers(self, case_number: str, reason: str) -> tuple[int, int]:
        """The reviewer asks, tries to approve her own request (refused), the supervisor
        approves. Returns both answers' status codes."""
        request = self.api.post(
            f"/v1/cases/{case_number}/cancellation-requests",
            headers=self.auth("aidana"),
            json={"reason": reason},
        )
        request.raise_for_status()
        request_id = request.json()["request_id"]
        own = self.api.post(
            f"/v1/cancellation-requests/{request_id}/decision",
            headers=self.auth("aidana"),
            json={"decision": "approve"},
        )
        decided = self.api.post(
            f"/v1/cancellation-requests/{request_id}/decision",
            headers=self.auth("serik"),
            json={"decision": "approve", "note": "documents checked"},
        )
        return own.status_code, decided.status_code

    def audit_verdict(self) -> dict[str, object]:
        answer = self.api.get("/v1/audit/verify", headers=self.auth("prosecutor"))
        answer.raise_for_status()
        return dict(answer.json())


def run_jobs_as_of(config: RegistryConfig, moment: datetime) -> list[str]:
    """The registry's daily jobs as they will run at ``moment`` (the demo cannot wait two
    months for a deadline): cases unpaid past their voluntary deadline go to the bailiffs."""
    store = open_registry_store(config)
    # The SMSC where [notices.sms] says, as the serving registry sends; unbound at the end, so
    # that the simulator's receipts go back to the serving registry's session.
    sender = make_sender(config)
    try:
        registry = CaseService(store, config, SqliteVehicleRegister(store), clock=lambda: moment)
        return RegistryJobs(store, config, registry, sender).run_once().handed_over
    finally:
        close = getattr(sender, "close", None)
        if close is not None:
            close()
        store.close()


def cli(config: RegistryConfig, *args: str) -> subprocess.CompletedProcess[str]:
    """``erap-registry ARGS --data-dir ...`` as its own process."""
    return subprocess.run(
        [sys.executable, "-m", "central_ingest", *args, "--data-dir", str(config.data_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def wait_for(condition: Callable[[], bool], timeout_s: float, poll_s: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(poll_s)
    return True


def in_days(days: int) -> datetime:
    return now_utc() + timedelta(days=days)


def delivered_notices(config: RegistryConfig) -> list[dict[str, Any]]:
    """The SMS the operator's SMSC confirmed delivered (its receipts, as the registry
    recorded them), in the order they were queued, then the e-mails the registry's sender
    wrote to its file (it stands in for the mail relay)."""
    store = open_registry_store(config)
    try:
        sms = [
            {**row, "channel": "sms"}
            for row in store.db.query(
                "SELECT case_number, language, body, created_at FROM notifications"
                " WHERE channel = 'sms' AND delivered_at IS NOT NULL ORDER BY notification_id"
            )
        ]
    finally:
        close_store(store)
    path = config.notification_outbox_path
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    return sms + [json.loads(line) for line in lines if line.strip()]


def close_store(store: Store) -> None:
    if isinstance(store, PostgresStore):
        store.shutdown()
    else:
        store.close()


def sms_languages(notices: list[dict[str, Any]], case_number: str) -> list[str]:
    """The languages of the SMS queued when the case opened, in the order they went out (the
    later ones tell of its changes of status)."""
    sms = [n for n in notices if n["case_number"] == case_number and n["channel"] == "sms"]
    return [n["language"] for n in sms if n["created_at"] == sms[0]["created_at"]]
