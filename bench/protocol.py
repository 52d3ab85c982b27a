"""Roadside protocol benchmark: the terminal's own time from "sign" to "printed and journalled",
and the sync of queued protocols after an outage.

Real parts: the officer's key on a SoftHSM2 token (PKCS#11, ECDSA P-256 on the token), the
terminal's journal on a SQLite file (synchronous=FULL), the driver's copy printed over a socat
pty to a reader that takes the bytes as a printer does, the GPS receiver on another pty, the
bank POS simulator over ECR, the population register in its own process, and the registry's
HTTP API on uvicorn over a real SQLite file with the officers' CA and CRL on disk.

Timed regions:
- ``sign``: ``RoadsideDesk.sign_and_record(..., send=False)`` from the call to its return: the
  protocol built and assessed, the CMS signature made on the token, the device seal, the ONE
  transaction that consumes the number and journals the protocol (fsynced), the copy laid out
  and written to the printer. The network is not in it (send=False): the protocol is then
  queued, as at a roadside with no signal.
- ``sync``: ``RoadsideDesk.sync()`` with ``--queued`` protocols waiting after an outage, from
  the call until the last one is committed by the registry; ``lost`` counts the protocols the
  registry does not hold afterwards, ``duplicates`` any held twice.

Prints progress, then one JSON object as the last line.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import httpx
import uvicorn
from cryptography.hazmat.primitives.serialization import Encoding

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._report import cpu, latency_summary
from central_ingest.api.app import create_app
from central_ingest.roadside import CA_FILE, CRL_FILE, officer_ca_dir
from central_ingest.store import roadside as roadside_store
from contract import now_utc
from contract.roadside import ProtocolOutcome
from terminal.config import TerminalConfig
from terminal.roadside.drafting import Draft, protocol_place
from terminal.roadside.wiring import build_roadside
from terminal.sim.harness import BankPos, PrinterPty, SocatPair, free_port
from tests.integration.terminal.roadside.rig import (
    AGENCY,
    CASE_URL,
    TERMINAL_ID,
    GpsReceiver,
    Link,
    officer_token,
    sign_in,
)
from tests.support.officer_pki import AgencyCa, softhsm, valid_iin
from tests.support.population_register import PopulationRegisterProcess
from tests.support.registry_fixtures import REVIEWERS, RegistryWorld


def _serve(world: RegistryWorld) -> tuple[uvicorn.Server, int]:
    port = free_port()
    app = create_app(world.config, store=world.store, registry=world.registry)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the registry API did not start")
        time.sleep(0.01)
    return server, port


def _draft(index: int) -> Draft:
    return Draft(
        plate="123ABC01",
        person_iin="791028302728",
        article="599",
        part=1,
        outcome=ProtocolOutcome.FINE,
        place=protocol_place(None, "пр. Кабанбай батыра, 62"),
        description=f"Проезд на запрещающий сигнал светофора, остановка {index}",
        driver_explanation="Не заметил сигнал",
        driver_signature_png=b"\x89PNG drawn on the screen",
    )


def run(protocols: int, queued: int, workdir: Path) -> dict[str, object]:
    now = datetime.now(UTC).replace(microsecond=0)
    officer_iin = valid_iin()
    agency = AgencyCa.create("ERAP officers CA", now)
    label = officer_token(softhsm(), agency, now, iin=officer_iin)

    world = RegistryWorld.create(workdir / "registry")
    world.clock.set(now_utc())
    trust = officer_ca_dir(world.config)
    trust.mkdir(parents=True, exist_ok=True)
    (trust / CA_FILE).write_bytes(agency.certificate.public_bytes(Encoding.PEM))
    (trust / CRL_FILE).write_bytes(agency.crl([], now).public_bytes(Encoding.DER))
    with world.store.transaction() as db:
        roadside_store.set_officer_identity(db, REVIEWERS[0], iin=officer_iin, unit="bench")
    server, port = _serve(world)

    population = PopulationRegisterProcess().start()
    printer = PrinterPty(workdir).start()
    gps = GpsReceiver(workdir).start()
    cable = SocatPair(workdir, "ecr").start()
    pos = BankPos(cable.far, workdir / "pos.jsonl").start()
    link = Link(httpx.HTTPTransport())
    config = TerminalConfig(
        device_id=world.terminal_id,
        terminal_id=TERMINAL_ID,
        agency=AGENCY,
        case_url_template=CASE_URL,
        registry_url=f"http://127.0.0.1:{port}",
        data_dir=workdir / "terminal",
        key_path=workdir / "terminal.key",
        printer_device=str(printer.device),
        payment_device="ecr",
        ecr={"port": str(cable.near)},
        roadside={
            "population_register_url": population.url,
            "gps_port": str(gps.pair.near),
            # one block ahead of the whole run: no number fetch inside a timed region
            "numbers_low_water": 1,
            "numbers_block_size": 1000,
        },
    )
    http = httpx.Client(transport=link, base_url=config.registry_url, timeout=30)
    roadside = build_roadside(config, key=world.terminal_key, http=http)
    desk = roadside.desk
    officer = sign_in(label, workdir, now)
    try:
        assert desk.ensure_numbers() == 1000, "the registry gave no block of numbers"
        link.up = False  # the whole sign phase offline: the network is not in the timing

        for index in range(5):  # warm-up: imports, the printer's first open, SQLite pages
            desk.sign_and_record(_draft(index), officer, uuid4(), send=False)
            printer.take_receipt()
        timings: list[float] = []
        print(f"sign -> printed and journalled: {protocols} protocols", file=sys.stderr)
        for index in range(protocols):
            started = time.perf_counter()
            desk.sign_and_record(_draft(index), officer, uuid4(), send=False)
            timings.append((time.perf_counter() - started) * 1000)
            printer.take_receipt()  # drained outside the timed region
        sign = latency_summary(timings)

        # The outage: everything written so far is queued; write more up to ``queued``.
        already = len(desk._store.outgoing())
        print(f"queueing {queued} protocols while the link is down", file=sys.stderr)
        for index in range(max(0, queued - already)):
            desk.sign_and_record(_draft(index), officer, uuid4(), send=False)
            printer.take_receipt()
        waiting = [item.message_id for item in desk._store.outgoing()]
        world.clock.set(now_utc())  # the registry's clock where the terminal's is
        link.up = True
        print(f"sync of {len(waiting)} queued protocols", file=sys.stderr)
        started = time.perf_counter()
        report = desk.sync()
        elapsed = time.perf_counter() - started
        with world.store.transaction() as db:
            held = [
                row[0]
                for row in db.conn.execute("SELECT protocol_id FROM roadside_protocols").fetchall()
            ]
        lost = len(set(waiting) - set(held))
        duplicates = len(held) - len(set(held))
    finally:
        officer.close()
        roadside.close()
        for stop in (pos.stop, cable.stop, gps.stop, printer.stop, population.stop):
            stop()
        server.should_exit = True
    return {
        "bench": "roadside_protocol",
        "timed_region": (
            "sign: sign_and_record(send=False), call to return: assess, CMS signature on"
            " SoftHSM2, device seal, number + journal in one fsynced SQLite transaction, copy"
            " printed over a pty; sync: RoadsideDesk.sync() of the queued protocols over HTTP"
            " to uvicorn until the registry committed the last"
        ),
        "protocols": protocols,
        **sign,
        "target_p95_ms": 1000,
        "sync_queued": len(waiting),
        "sync_sent": report.sent,
        "sync_left": report.left,
        "sync_seconds": round(elapsed, 2),
        "sync_rate_per_s": round(len(waiting) / elapsed, 1) if elapsed else None,
        "lost": lost,
        "duplicates": duplicates,
        **cpu(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--protocols", type=int, default=200, help="timed sign runs")
    parser.add_argument("--queued", type=int, default=500, help="protocols queued for the sync")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="erap-bench-protocol-") as workdir:
        figures = run(args.protocols, args.queued, Path(workdir))
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
