"""``make demo``: the whole system on one machine, every part its own process.

A Mosquitto broker; the registry (`erap-registry serve`: API, console, MQTT ingest, periodic
jobs); a camera box (`erap-box bridge`, `recorder`, `sender`) watching a video rendered from
our synthetic plates while the microcontroller simulator's radar measures each vehicle; a
scripted officer reviewing the fixations; a payment terminal (`python -m terminal`) charging a
virtual EMV card through pcscd and the acquirer simulator; a second officer approving a
cancellation; the driver's side (demo/driver_side.py: his SMS through the SMSC simulator, his
case page, a payment at his bank reconciled, an appeal decided); the daily jobs sixty days
later handing the unpaid case to the bailiffs; the prosecutor verifying the audit chain; and
a roadside stop (demo/roadside_stop.py): an officer draws up a protocol on the terminal's touch
UI, signs it with his token, and the driver pays on the spot.

``--store postgresql`` (or DEMO_STORE=postgresql, ``make demo DEMO_STORE=postgresql``) tells the
same story with the registry on a PostgreSQL 15 primary and its synchronous streaming standby
(demo/registry_store.py); the default is the registry's SQLite file.

The demo is a showcase, and reuses the tests' harness for what it starts around the product:
the Mosquitto broker (tests/support/broker.py), the operator's SMSC (tests/support/smsc.py)
and the PostgreSQL servers (tests/support/postgres_server.py, postgres_cluster.py). What is
the demo's own story (the camera box, the registry, terminal and driver sides, the narration)
stays in demo/.

``--once`` (or DEMO_ONCE=1) exits after the summary, with status 0 only if every check passed.
Otherwise the console stays up until Ctrl-C, then every process is stopped.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from central_ingest.config import RegistryConfig
from contract import DeviceKind
from demo.camera_box import CameraBox, RadarPass, box_config_text
from demo.driver_side import PAID_AT_BANK, DriverSide
from demo.registry_side import (
    Officers,
    cli,
    delivered_notices,
    in_days,
    provision,
    run_jobs_as_of,
    sms_languages,
    start_registry,
    wait_for,
)
from demo.registry_store import (
    STORES,
    DemoDatabase,
    RegistryReads,
    demo_database,
    ledger_entries,
)
from demo.roadside_stop import RoadsideStop
from demo.story import Summary, chapter, console, say
from demo.terminal_side import PaymentTerminalRig
from i18n.formatting import money
from models.synth.scene import VehicleSpec, render_video
from tests.support.broker import MosquittoBroker, free_port

ROOT = Path(__file__).resolve().parent.parent
CAMERA_ID = "cam-astana-0001"
TERMINAL_ID = "term-patrol-0001"
LIMIT_KMH = 60
# A fresh password each run: demo accounts must not outlive the demo.
DEMO_PASSWORD = secrets.token_urlsafe(12)

PAYS_ON_THE_SPOT = "221ABC01"
CANCELLED = "328KZT02"
WITHIN_LIMIT = "869AMR03"
LEFT_UNPAID = "934BEK05"
EMERGENCY = "100AB01"
VEHICLES = [
    VehicleSpec(PAYS_ON_THE_SPOT, lane=0, speed_kmh=97.0),
    VehicleSpec(CANCELLED, lane=1, speed_kmh=84.0),
    VehicleSpec(WITHIN_LIMIT, lane=0, speed_kmh=56.0),
    VehicleSpec(LEFT_UNPAID, lane=1, speed_kmh=112.0),
    VehicleSpec(EMERGENCY, lane=0, speed_kmh=91.0),
    VehicleSpec(PAID_AT_BANK, lane=1, speed_kmh=83.0),
]
SPEEDING = sorted(v.plate for v in VEHICLES if v.speed_kmh > LIMIT_KMH + 10)


class RegistryArrivals:
    """Says each fixation the registry commits, as it arrives."""

    def __init__(self, reads: RegistryReads) -> None:
        self._reads = reads
        self._seen: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="arrivals", daemon=True)

    def start(self) -> RegistryArrivals:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._report()

    def _watch(self) -> None:
        while not self._stop.wait(0.3):
            self._report()

    def _report(self) -> None:
        for plate, speed, sequence in self._reads.fixations():
            if sequence not in self._seen:
                self._seen.add(sequence)
                say(
                    f"[registry] fixation #{sequence} {plate} at {speed:.0f} km/h stored, "
                    "awaiting an officer's confirmation"
                )


def show_box_line(name: str, line: str) -> None:
    """The camera box's log lines worth watching live."""
    for marker in ("vehicle ", "fixation #", "no violation", "ALERT", "TAMPER", "IR illuminator"):
        if marker in line:
            say(f"[{name}] {line.split(' INFO ')[-1].split(' ERROR ')[-1]}")
            return


def run(args: argparse.Namespace) -> int:
    data_dir = Path(args.data_dir).resolve()
    if data_dir.exists():
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True)
    if args.store == "postgresql":
        chapter("The registry's database: a PostgreSQL primary and its synchronous standby")
    with demo_database(args.store) as database:
        return tell(args, data_dir, database)


def tell(args: argparse.Namespace, data_dir: Path, database: DemoDatabase) -> int:
    http_port = free_port()
    driver = DriverSide(data_dir / "smsc", http_port)  # the operator's SMSC, the driver's bank
    config = RegistryConfig(
        data_dir=data_dir / "registry", database=database.url, **driver.registry_settings()
    )
    config.data_dir.mkdir(parents=True)
    summary = Summary()

    chapter("The camera's video, rendered from synthetic Kazakh plates")
    video = render_video(data_dir / "road.mp4", VEHICLES, seed=7)
    for vehicle in video.vehicles:
        say(
            f"{vehicle.plate_display:<11} lane {vehicle.lane + 1}, {vehicle.speed_kmh:.0f} km/h, "
            f"at the radar {vehicle.radar_time_s:.1f} s into the video"
        )
    say(f"{video.path.name}: {video.frame_count} frames {video.width}x{video.height}")

    chapter("Provisioning devices and operators")
    keys = provision(
        config,
        {CAMERA_ID: DeviceKind.CAMERA, TERMINAL_ID: DeviceKind.TERMINAL},
        data_dir / "keys",
        DEMO_PASSWORD,
    )

    chapter("Broker and registry")
    broker = MosquittoBroker(data_dir / "broker", extra_config=["max_inflight_messages 1000"])
    broker.start()
    say(f"mosquitto on 127.0.0.1:{broker.port} (config {broker.config_path})")
    driver.start_smsc()
    registry = start_registry(
        config, http_port, broker.port, driver.write_config(config.data_dir / "registry.toml")
    )
    base_url = f"http://127.0.0.1:{http_port}"
    say(f"registry on {base_url} (log {config.data_dir / 'registry.log'})")
    api = httpx.Client(base_url=base_url, timeout=30)
    officers = Officers(api, DEMO_PASSWORD)
    reads = RegistryReads(config)
    box: CameraBox | None = None
    terminal: PaymentTerminalRig | None = None
    roadside: RoadsideStop | None = None
    notices_shown: list[str] = []
    try:
        try:
            chapter("Camera box: video, radar, signed fixations, store-and-forward")
            box = CameraBox(
                data_dir / "box",
                lambda serial_port: box_config_text(
                    device_id=CAMERA_ID,
                    key_file=keys[CAMERA_ID],
                    data_dir=data_dir / "box" / "data",
                    registry_url=base_url,
                    mqtt_port=broker.port,
                    video=video.path,
                    serial_port=serial_port,
                    limit_kmh=LIMIT_KMH,
                    lane_edges=[0.5],
                ),
                on_line=show_box_line,
            )
            (data_dir / "box").mkdir()
            box.start()
            say("bridge, recorder and sender started; the recorder loads its models")
            arrivals = RegistryArrivals(reads).start()
            box.drive_radar(
                [RadarPass(v.radar_time_s, v.speed_kmh, v.lane + 1) for v in video.vehicles]
            )
            box.wait_recorder(timeout_s=120)
            wait_for(lambda: len(reads.fixations()) >= len(SPEEDING), 60)
            arrivals.stop()
            stored = reads.fixations()
            summary.check(
                "every speeding vehicle of the video in the registry once, with its plate",
                [plate for plate, _, _ in stored] == SPEEDING,
                ", ".join(f"#{seq} {plate} {speed:.0f} km/h" for plate, speed, seq in stored),
            )

            chapter("Box alarm: the enclosure is opened")
            box.mcu_step("tamper open")
            tampered = wait_for(lambda: reads.status_shows_tamper(CAMERA_ID), 30)
            summary.check("tamper alarm in the registry within seconds", tampered)

            chapter("Officer review: nothing becomes a case without a decision")
            cases = officers.review_all(
                reject={EMERGENCY: ("emergency_vehicle", "ambulance on a call, lights on")}
            )
            summary.check(
                "every fixation decided by an officer",
                sorted(cases) == sorted(set(SPEEDING) - {EMERGENCY})
                and officers.awaiting_review() == 0,
                f"{len(cases)} cases opened, 1 rejected",
            )

            missing = {PAYS_ON_THE_SPOT, CANCELLED, LEFT_UNPAID, PAID_AT_BANK} - cases.keys()
            if missing:
                raise StoryBroken(
                    f"no case for {', '.join(sorted(missing))}: the camera misread a plate, "
                    "and the rest of the story needs the plates as filmed"
                )

            chapter("Payment on the spot: the patrol car's terminal and the driver's card")
            terminal = PaymentTerminalRig(
                data_dir / "terminal", TERMINAL_ID, keys[TERMINAL_ID], base_url
            ).start()
            found = terminal.command("find", "--plate", PAYS_ON_THE_SPOT)
            for line in found.stdout.splitlines():
                say(f"[terminal] {line}")
            card = terminal.insert_card()
            say("[terminal] the driver's card is in the reader")
            # The driver asks for the receipt in Kazakh; the officer's terminal speaks Russian.
            paid = terminal.command("pay", cases[PAYS_ON_THE_SPOT], "--language", "kk")
            card.remove()
            for line in paid.stdout.splitlines():
                say(f"[terminal] {line}")
            kazakh = terminal.receipt() if paid.returncode == 0 else None
            russian = None
            if kazakh is not None:
                terminal.show_receipt(kazakh, "kk")
                # ... and a copy in Russian: the same payment, reprinted in the other language
                payment_id = paid.stdout.split()[1].rstrip(":")
                copy = terminal.command("reprint", payment_id, "--language", "ru")
                for line in copy.stdout.splitlines():
                    say(f"[terminal] {line}")
                russian = terminal.receipt() if copy.returncode == 0 else None
                if russian is not None:
                    terminal.show_receipt(russian, "ru")
            case = officers.case(cases[PAYS_ON_THE_SPOT])
            summary.check(
                "card charged, receipt printed in Kazakh and in Russian, the case marked paid",
                paid.returncode == 0
                and case["status"] == "paid"
                and kazakh is not None
                and f"Іс: {cases[PAYS_ON_THE_SPOT]}" in kazakh.lines
                and any(line.startswith("ТӨЛЕНДІ: ") for line in kazakh.lines)
                and russian is not None
                and f"Дело: {cases[PAYS_ON_THE_SPOT]}" in russian.lines
                and any(line.startswith("ОПЛАЧЕНО: ") for line in russian.lines),
                f"{cases[PAYS_ON_THE_SPOT]} {case['status']}, "
                f"{money(int(str(case['paid_minor'] or 0)), 'en')}"
                if paid.returncode == 0
                else (paid.stdout + paid.stderr)[-300:],
            )

            roadside = RoadsideStop(
                data_dir / "roadside", TERMINAL_ID, keys[TERMINAL_ID], config, base_url
            ).start()
            roadside.tell(summary, officers)

            chapter("Cancellation needs a second officer")
            own, approved = officers.cancel_with_two_officers(
                cases[CANCELLED], "the driver proved the car was stolen that day"
            )
            summary.check(
                "cancellation refused to the requester, approved by a supervisor",
                own == 403 and approved == 200,
                f"requester got {own}, supervisor {approved}",
            )

            driver.tell(summary, officers, config, cases[PAID_AT_BANK], cases[LEFT_UNPAID])

            chapter("Sixty days later: the daily jobs")
            handed = run_jobs_as_of(config, in_days(60))
            say(f"handed to bailiffs: {', '.join(handed) or 'none'}")
            export_path = data_dir / "bailiffs.jsonl"
            export = cli(config, "export-bailiffs", "--out", str(export_path))
            say(export.stdout.strip())
            exported = (
                [
                    json.loads(line)["case_number"]
                    for line in export_path.read_text(encoding="utf-8").splitlines()
                ]
                if export.returncode == 0
                else []
            )
            summary.check(
                "the unpaid case handed to the bailiffs; paid and cancelled ones not",
                exported == [cases[LEFT_UNPAID]],
                f"export holds {', '.join(exported) or 'nothing'}",
            )
            # Each owner is written to in the language the vehicle register records for him;
            # 934BEK05's owner has none recorded, so both official ones, Kazakh first.
            wanted = {
                cases[PAYS_ON_THE_SPOT]: ["kk"],
                cases[CANCELLED]: ["ru"],
                cases[LEFT_UNPAID]: ["kk", "ru"],
            }
            wait_for(
                lambda: all(
                    sms_languages(delivered_notices(config), number) == languages
                    for number, languages in wanted.items()
                ),
                30,
            )
            sent = delivered_notices(config)
            got = {number: sms_languages(sent, number) for number in wanted}
            summary.check(
                "SMS and e-mail notices delivered, each in its owner's language",
                got == wanted,
                f"{len(sent)} messages; SMS "
                + ", ".join(f"{number} {'+'.join(got[number]) or 'none'}" for number in got),
            )
            notices_shown = [
                f"[SMS {notice['language']}] {notice['body']}"
                for notice in sent
                if notice["channel"] == "sms" and notice["case_number"] == cases[LEFT_UNPAID]
            ]

            chapter("Prosecutor: the audit chain")
            verdict = officers.audit_verdict()
            summary.check(
                "audit ledger, Merkle tree and signed tree heads verified",
                bool(verdict.get("ok")),
                f"{verdict.get('entries_checked')} entries",
            )
            verify = cli(config, "audit", "verify", "--case", cases[PAYS_ON_THE_SPOT])
            lines = (verify.stdout.strip() or verify.stderr.strip()).splitlines()
            summary.check(
                "`erap-registry audit verify` with the paid case's inclusion proofs",
                verify.returncode == 0,
                lines[-1] if lines else "",
            )
            if database.reader_urls is not None:
                standby_check(summary, database.reader_urls)

        except StoryBroken as broken:
            summary.check("the story could go on", False, str(broken))
        chapter("Summary")
        console.print(summary.table())
        if notices_shown:
            console.print(
                "The SMS to the owner of the unpaid case (language unknown to the vehicle"
                " register: Kazakh, then Russian):"
            )
            for line in notices_shown:
                say(line)
        console.print(
            f"Console: {base_url}/console   API: {base_url}/docs   (operators aidana, serik, "
            f"prosecutor; password {DEMO_PASSWORD!r})"
        )
        driver.print_links()
        if not args.once:
            console.print("Everything keeps running; press Ctrl-C to stop.")
            _wait_for_interrupt(registry.poll)
    finally:
        if roadside is not None:
            roadside.stop()
        if terminal is not None:
            terminal.stop()
        if box is not None:
            box.stop()
        api.close()
        reads.close()
        registry.send_signal(signal.SIGTERM)
        registry.wait(timeout=30)
        driver.stop()
        broker.stop()
    console.print("all processes stopped")
    return 0 if summary.passed else 1


class StoryBroken(Exception):
    """A step went wrong in a way that leaves the following steps nothing to work on."""


def standby_check(summary: Summary, reader_urls: tuple[str, str]) -> None:
    """The standby holds the primary's whole ledger: every commit waited for its disk, and it
    replays them within moments (read on each server as the prosecutor's read-only role)."""
    primary_url, standby_url = reader_urls
    on_primary = ledger_entries(primary_url)
    wait_for(lambda: ledger_entries(standby_url) >= on_primary, 10, poll_s=0.2)
    on_standby = ledger_entries(standby_url)
    summary.check(
        "the synchronous standby holds every ledger entry of the primary",
        on_primary > 0 and on_standby == on_primary,
        f"{on_primary} entries on the primary, {on_standby} on the standby",
    )


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
        "--store",
        choices=STORES,
        default=os.environ.get("DEMO_STORE") or "sqlite",
        help="the registry's database: its SQLite file, or a PostgreSQL primary with a"
        " synchronous standby (default: $DEMO_STORE, else sqlite)",
    )
    parser.add_argument(
        "--data-dir",
        default=str(ROOT / "var" / "demo"),
        help="working folder, emptied at start (default: var/demo)",
    )
    sys.exit(run(parser.parse_args()))


if __name__ == "__main__":
    main()
