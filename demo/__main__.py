"""``make demo``: the registry end to end on one machine, every part a real process or protocol.

A Mosquitto broker with our config, the registry (`erap-registry serve`: HTTP API, MQTT ingest,
periodic jobs), a scripted camera box uploading evidence over signed HTTP and publishing signed
fixations over MQTT 5, a scripted officer reviewing them through the API, a payment terminal
reporting an on-the-spot payment, a supervisor approving a cancellation, and the prosecutor
verifying the audit chain. Until the camera and terminal packages land (issues 3-5), the box and
the terminal are stand-ins speaking the real wire contract.

Run with ``--once`` (or DEMO_ONCE=1) to exit after the summary: status 0 only if every check
passed. Otherwise the registry stays up until Ctrl-C.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from uuid import uuid4

import httpx
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from rich.console import Console
from rich.table import Table

from central_ingest.config import RegistryConfig
from central_ingest.operators import Operators, Role
from central_ingest.store.db import Store
from central_ingest.store.devices import register_device
from central_ingest.vehicles import DEMO_SEED, SqliteVehicleRegister
from contract import (
    AcquirerRefs,
    CardData,
    ClockSource,
    DeviceKey,
    DeviceKind,
    EvidenceRef,
    EvidenceRole,
    Fixation,
    Measurement,
    MessageKind,
    Payment,
    PaymentChannel,
    PlateRead,
    Position,
    ViolationCode,
    device_topic,
    encode_envelope,
    now_utc,
    receipt_topic,
    seal,
)
from contract.signing import device_request_headers
from demo.broker import MosquittoBroker, free_port, wait_for_port
from demo.scene import evidence_jpeg

ROOT = Path(__file__).resolve().parent.parent
CAMERA_ID = "cam-astana-0001"
TERMINAL_ID = "term-patrol-0001"
# A fresh password each run: demo accounts must not outlive the demo.
DEMO_PASSWORD = secrets.token_urlsafe(12)
PLATES = ["221ABC01", "328KZT02", "869AMR03", "104BEK05", "555ORD17"]

console = Console()


@dataclass
class Summary:
    checks: list[tuple[str, bool, str]] = field(default_factory=list)

    def check(self, name: str, passed: bool, detail: str = "") -> None:
        self.checks.append((name, passed, detail))
        mark = "[green]ok[/green]" if passed else "[red]FAILED[/red]"
        console.print(f"  {mark} {name}{f': {detail}' if detail else ''}")

    @property
    def passed(self) -> bool:
        return all(ok for _, ok, _ in self.checks)


class ReceiptInbox:
    """What the registry answered the devices, read from their receipt topics."""

    def __init__(self, port: int) -> None:
        self._statuses: dict[str, str] = {}
        self._changed = threading.Condition()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.subscribe([(receipt_topic(CAMERA_ID), 1), (receipt_topic(TERMINAL_ID), 1)])
        self.client.loop_start()

    def _on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        with self._changed:
            for entry in json.loads(message.payload)["entries"]:
                self._statuses[entry["message_id"]] = entry["status"]
            self._changed.notify_all()

    def wait(self, message_ids: list[str], timeout_s: float = 30) -> dict[str, str]:
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while not all(m in self._statuses for m in message_ids):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._changed.wait(remaining)
            return {m: self._statuses.get(m, "no receipt") for m in message_ids}

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def step(text: str) -> None:
    console.rule(f"[bold]{text}")


def provision(config: RegistryConfig) -> tuple[DeviceKey, DeviceKey]:
    store = Store(config.db_path)
    keys = (DeviceKey.generate(), DeviceKey.generate())
    for device_id, kind, key in (
        (CAMERA_ID, DeviceKind.CAMERA, keys[0]),
        (TERMINAL_ID, DeviceKind.TERMINAL, keys[1]),
    ):
        register_device(
            store,
            device_id=device_id,
            kind=kind,
            public_key_b64=key.public_key_b64,
            description="demo",
            actor="system:demo",
            now=now_utc(),
        )
        console.print(f"  provisioned {kind.value} {device_id}")
    operators = Operators(store, session_hours=config.session_hours)
    for username, role, name in (
        ("aidana", Role.REVIEWER, "Aidana Reviewer"),
        ("serik", Role.SUPERVISOR, "Serik Supervisor"),
        ("prosecutor", Role.PROSECUTOR, "Office of the Prosecutor"),
    ):
        operators.create(
            username, display_name=name, role=role, password=DEMO_PASSWORD, actor="system:demo"
        )
        console.print(f"  operator {username} ({role.value})")
    seeded = SqliteVehicleRegister(store).load_seed(DEMO_SEED)
    console.print(f"  vehicle register seeded with {seeded} vehicles")
    store.close()
    return keys


def start_registry(
    config: RegistryConfig, http_port: int, mqtt_port: int
) -> subprocess.Popen[bytes]:
    with (config.data_dir / "registry.log").open("wb") as log:
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
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    wait_for_port(http_port, timeout_s=30)
    _wait_for_line(config.data_dir / "registry.log", "ingest subscribed", timeout_s=30)
    return process


def _wait_for_line(log: Path, text: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while text not in log.read_text(encoding="utf-8", errors="replace"):
        if time.monotonic() > deadline:
            raise RuntimeError(f"the registry did not log {text!r} in {timeout_s} s; see {log}")
        time.sleep(0.1)


def camera_sends_fixations(
    api: httpx.Client, key: DeviceKey, mqtt_port: int, inbox: ReceiptInbox
) -> dict[str, str]:
    camera = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    camera.connect("127.0.0.1", mqtt_port)
    camera.loop_start()
    message_ids = []
    for sequence, plate in enumerate(PLATES, start=1):
        frame = evidence_jpeg(plate, size=(640, 360), seed=sequence)
        crop = evidence_jpeg(plate, size=(160, 40), seed=100 + sequence)
        refs = []
        for role, data in ((EvidenceRole.FULL_FRAME, frame), (EvidenceRole.PLATE_CROP, crop)):
            sha = hashlib.sha256(data).hexdigest()
            path = f"/v1/evidence/{sha}"
            answer = api.put(
                path,
                content=data,
                headers=device_request_headers(key, CAMERA_ID, method="PUT", path=path, body=data),
            )
            answer.raise_for_status()
            refs.append(EvidenceRef(role=role, sha256=sha, size_bytes=len(data)))
        fixation = Fixation(
            fixation_id=uuid4(),
            sequence=sequence,
            captured_at=now_utc() - timedelta(seconds=5),
            clock_source=ClockSource.GPS,
            violation=ViolationCode.SPEEDING,
            plate=PlateRead(text=plate, confidence=0.96, format="kz_person"),
            measurement=Measurement(speed_kmh=84.0 + 7 * sequence, limit_kmh=60, tolerance_kmh=0),
            position=Position(lat=51.1282, lon=71.4304, fix_quality=1, satellites=10),
            zone="Astana, Kabanbay batyr avenue, km 4",
            evidence=refs,
        )
        envelope = seal(MessageKind.FIXATION, CAMERA_ID, fixation, key)
        camera.publish(
            device_topic(CAMERA_ID, MessageKind.FIXATION), encode_envelope(envelope), qos=1
        ).wait_for_publish(10)
        message_ids.append(str(envelope.message_id))
        console.print(
            f"  camera: {plate} at {fixation.measurement.speed_kmh:.0f} km/h in a 60 zone"
        )
    receipts = inbox.wait(message_ids)
    camera.loop_stop()
    camera.disconnect()
    return receipts


def login(api: httpx.Client, username: str) -> dict[str, str]:
    answer = api.post("/v1/auth/token", data={"username": username, "password": DEMO_PASSWORD})
    answer.raise_for_status()
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def officer_reviews(api: httpx.Client, summary: Summary) -> list[str]:
    auth = login(api, "aidana")
    cases = []
    while True:
        started = time.monotonic()
        answer = api.get("/v1/review/next", headers=auth)
        if answer.status_code == 204:
            break
        fixation = answer.json()
        seconds = round(time.monotonic() - started + 4.0, 1)  # reading the photo takes seconds
        if fixation["plate_text"] == "555ORD17":
            api.post(
                f"/v1/fixations/{fixation['fixation_id']}/reject",
                headers=auth,
                json={
                    "reason": "plate_unreadable",
                    "note": "plate covered by snow",
                    "seconds_spent": seconds,
                },
            ).raise_for_status()
            console.print(f"  officer aidana rejected {fixation['plate_text']}: plate unreadable")
            continue
        confirmed = api.post(
            f"/v1/fixations/{fixation['fixation_id']}/confirm",
            headers=auth,
            json={"seconds_spent": seconds},
        )
        confirmed.raise_for_status()
        case = confirmed.json()
        cases.append(case["case_number"])
        console.print(
            f"  officer aidana confirmed {fixation['plate_text']}: case {case['case_number']}, "
            f"art. {case['article']} p.{case['part']}, {case['full_minor'] / 100:,.0f} KZT "
            f"({case['amount_due_now_minor'] / 100:,.2f} KZT within 7 days)"
        )
    summary.check(
        "every fixation decided by an officer",
        len(cases) == len(PLATES) - 1,
        f"{len(cases)} cases opened, 1 rejected",
    )
    return cases


def driver_pays(
    api: httpx.Client, key: DeviceKey, mqtt_port: int, inbox: ReceiptInbox, case_number: str
) -> tuple[str, int]:
    auth = login(api, "aidana")
    case = api.get(f"/v1/cases/{case_number}", headers=auth).json()
    due = case["amount_due_now_minor"]
    payment = Payment(
        payment_id=uuid4(),
        case_number=case_number,
        amount_minor=due,
        paid_at=now_utc(),
        channel=PaymentChannel.TERMINAL,
        card=CardData(masked_pan="440043******0017", scheme="VISA", aid="A0000000031010"),
        acquirer=AcquirerRefs(
            approval_code="A1B2C3", rrn="632614000017", stan="000017", terminal_id="TP000001"
        ),
    )
    envelope = seal(MessageKind.PAYMENT, TERMINAL_ID, payment, key)
    terminal = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    terminal.connect("127.0.0.1", mqtt_port)
    terminal.loop_start()
    terminal.publish(
        device_topic(TERMINAL_ID, MessageKind.PAYMENT), encode_envelope(envelope), qos=1
    ).wait_for_publish(10)
    status = inbox.wait([str(envelope.message_id)])[str(envelope.message_id)]
    terminal.loop_stop()
    terminal.disconnect()
    console.print(
        f"  terminal: {due / 100:,.2f} KZT paid by card 440043******0017 on {case_number}"
    )
    return status, due


def run(args: argparse.Namespace) -> int:
    data_dir = Path(args.data_dir).resolve()
    if data_dir.exists():
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True)
    config = RegistryConfig(data_dir=data_dir / "registry")
    config.data_dir.mkdir(parents=True)
    summary = Summary()
    http_port = free_port()
    step("Provisioning devices and operators")
    camera_key, terminal_key = provision(config)

    step("Starting the broker and the registry")
    broker = MosquittoBroker(data_dir / "broker", extra_config=["max_inflight_messages 1000"])
    broker.start()
    console.print(f"  mosquitto on 127.0.0.1:{broker.port} (config {broker.config_path})")
    registry = start_registry(config, http_port, broker.port)
    base_url = f"http://127.0.0.1:{http_port}"
    console.print(f"  registry on {base_url} (log {config.data_dir / 'registry.log'})")
    inbox = ReceiptInbox(broker.port)
    api = httpx.Client(base_url=base_url, timeout=30)
    try:
        step("Camera box: evidence over signed HTTP, fixations over MQTT 5")
        receipts = camera_sends_fixations(api, camera_key, broker.port, inbox)
        summary.check(
            "fixations stored by the registry",
            list(receipts.values()) == ["stored"] * len(PLATES),
            f"{sum(s == 'stored' for s in receipts.values())}/{len(PLATES)} receipts",
        )

        step("Officer review: nothing becomes a case without a decision")
        cases = officer_reviews(api, summary)

        step("Payment on the spot, with the 50% discount")
        status, paid = driver_pays(api, terminal_key, broker.port, inbox, cases[0])
        paid_case = api.get(f"/v1/cases/{cases[0]}", headers=login(api, "aidana")).json()
        summary.check(
            "payment stored and the case marked paid",
            status == "stored" and paid_case["status"] == "paid",
            f"{cases[0]} {paid_case['status']}, {paid / 100:,.2f} KZT",
        )

        step("Cancellation needs a second officer")
        reviewer, supervisor = login(api, "aidana"), login(api, "serik")
        request = api.post(
            f"/v1/cases/{cases[1]}/cancellation-requests",
            headers=reviewer,
            json={"reason": "the driver proved the car was stolen that day"},
        )
        request.raise_for_status()
        request_id = request.json()["request_id"]
        own = api.post(
            f"/v1/cancellation-requests/{request_id}/decision",
            headers=reviewer,
            json={"decision": "approve"},
        )
        decided = api.post(
            f"/v1/cancellation-requests/{request_id}/decision",
            headers=supervisor,
            json={"decision": "approve", "note": "checked"},
        )
        summary.check(
            "cancellation refused to the requester, approved by a supervisor",
            own.status_code == 403 and decided.status_code == 200,
            f"requester got {own.status_code}, supervisor {decided.status_code}",
        )

        step("Periodic jobs: notices, hand-over, a signed tree head")
        jobs = subprocess.run(
            [
                sys.executable,
                "-m",
                "central_ingest",
                "run-jobs",
                "--data-dir",
                str(config.data_dir),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        console.print(f"  {jobs.stdout.strip()}")
        sent = config.notification_outbox_path.read_text(encoding="utf-8").splitlines()
        summary.check(
            "SMS and e-mail notices delivered to the embedded sender",
            jobs.returncode == 0 and len(sent) > 0,
            f"{len(sent)} messages",
        )

        step("Prosecutor: audit chain, tree head, who removes fines")
        prosecutor = login(api, "prosecutor")
        verdict = api.get("/v1/audit/verify", headers=prosecutor).json()
        summary.check(
            "audit ledger, Merkle tree and signed tree heads verified",
            bool(verdict.get("ok")),
            f"{verdict.get('entries_checked')} entries",
        )
        removals = api.get(
            "/v1/reports/removals", params={"by": "officer", "min_events": 1}, headers=prosecutor
        )
        summary.check("removal report by officer served", removals.status_code == 200)
        verify = subprocess.run(
            [
                sys.executable,
                "-m",
                "central_ingest",
                "audit",
                "verify",
                "--data-dir",
                str(config.data_dir),
                "--case",
                cases[0],
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        summary.check(
            "`erap-registry audit verify` with the paid case's inclusion proofs",
            verify.returncode == 0,
            verify.stdout.strip().splitlines()[-1:][0]
            if verify.stdout.strip()
            else verify.stderr.strip()[-200:],
        )

        step("Summary")
        table = Table("check", "result", "detail")
        for name, ok, detail in summary.checks:
            table.add_row(name, "[green]ok[/green]" if ok else "[red]FAILED[/red]", detail)
        console.print(table)
        console.print(
            f"API and its documentation: {base_url}/docs  (operators: aidana, serik, "
            f"prosecutor; password {DEMO_PASSWORD!r})"
        )
        if not args.once:
            console.print("The registry keeps running; press Ctrl-C to stop everything.")
            _wait_for_interrupt(registry.poll)
    finally:
        api.close()
        inbox.close()
        registry.send_signal(signal.SIGTERM)
        registry.wait(timeout=30)
        broker.stop()
    console.print("all processes stopped")
    return 0 if summary.passed else 1


def _wait_for_interrupt(exited: Callable[[], int | None]) -> None:
    try:
        while exited() is None:
            time.sleep(0.5)
    except KeyboardInterrupt:
        console.print()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m demo", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--once",
        action="store_true",
        default=os.environ.get("DEMO_ONCE") == "1",
        help="exit after the summary (status 0 only if every check passed)",
    )
    parser.add_argument(
        "--data-dir",
        default=str(ROOT / "var" / "demo"),
        help="working folder, emptied at start (default: var/demo)",
    )
    sys.exit(run(parser.parse_args()))


if __name__ == "__main__":
    main()
