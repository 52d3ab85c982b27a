"""Payment terminal benchmark: 200 payments through the real stack.

pcscd with a vpcd reader and the virtual EMV card (inserted once, connected anew for every
payment, as a card tapped again), the acquirer simulator over ISO 8583 on loopback in approve
mode, an ESC/POS printer on a socat pty, and the registry's HTTP API on uvicorn over a real
SQLite file. Each payment is timed from the case lookup to the registry's commit of the
payment report (the terminal's own work, with every simulator answering at once).

Prints progress, then one JSON object as the last line.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path
from uuid import uuid4

import httpx
import uvicorn
from rich.progress import Progress

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from central_ingest.api.app import create_app
from contract import now_utc
from terminal.acquirer_link import AcquirerLink
from terminal.journal import Journal, PaymentState
from terminal.payment_device import EmvAcquirerDevice, MerchantIds
from terminal.pcsc import PcscCard
from terminal.receipt import EscposReceiptPrinter
from terminal.registry_client import RegistryClient
from terminal.service import PaymentTerminal, TerminalIdentity
from terminal.sim.harness import (
    READER_NAME,
    Acquirer,
    Pcscd,
    PrinterPty,
    VirtualCard,
    free_port,
)
from tests.support.registry_fixtures import RegistryWorld

CUT = b"\x1dV\x00"


def _serve_registry(world: RegistryWorld) -> tuple[uvicorn.Server, int]:
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


def run(payments: int, workdir: Path) -> dict[str, float | int]:
    world = RegistryWorld.create(workdir)
    world.clock.set(now_utc() - timedelta(days=1))
    case_numbers = [world.open_case() for _ in range(payments)]
    world.clock.set(now_utc())
    server, port = _serve_registry(world)
    pcscd = Pcscd(workdir / "pcscd").start()
    acquirer = Acquirer(workdir / "acquirer.jsonl").start()
    printer = PrinterPty(workdir).start()
    card = VirtualCard(pcscd.card_port).insert()
    journal = Journal(workdir / "terminal" / "terminal.db")
    http = httpx.Client(base_url=f"http://127.0.0.1:{port}")
    terminal = PaymentTerminal(
        identity=TerminalIdentity(
            device_id=world.terminal_id,
            terminal_id="T0000042",
            agency="Astana Police",
            case_url_template="https://erap.kz/cases/{case_number}",
        ),
        key=world.terminal_key,
        registry=RegistryClient(http, world.terminal_id, world.terminal_key),
        device=EmvAcquirerDevice(
            open_card=lambda: PcscCard(READER_NAME),
            acquirer=AcquirerLink(
                "127.0.0.1", acquirer.port, timeout_s=5, tls=acquirer.terminal_tls()
            ),
            journal=journal,
            merchant=MerchantIds(terminal_id="T0000042", merchant_id="ERAPASTANA00001"),
            clock=now_utc,
        ),
        printer=EscposReceiptPrinter(str(printer.device)),
        journal=journal,
        clock=now_utc,
    )
    timings: list[float] = []
    try:
        with Progress() as progress:
            task = progress.add_task("payments", total=payments)
            for case_number in case_numbers:
                started = time.perf_counter()
                (case,) = terminal.find_cases(case_number=case_number)
                result = terminal.pay(case.case_number, uuid4())
                timings.append((time.perf_counter() - started) * 1000)
                if result.state is not PaymentState.APPROVED or not result.reported:
                    raise RuntimeError(f"payment for {case_number} failed: {result.message}")
                printer.take(CUT)
                progress.advance(task)
    finally:
        http.close()
        journal.close()
        card.remove()
        printer.stop()
        acquirer.stop()
        pcscd.stop()
        server.should_exit = True
    paid = world.scalar("SELECT COUNT(*) FROM cases WHERE status = 'paid'")
    timings.sort()
    return {
        "payments": payments,
        "cases_paid": int(paid),
        "median_ms": round(statistics.median(timings), 1),
        "p95_ms": round(timings[int(0.95 * (len(timings) - 1))], 1),
        "max_ms": round(timings[-1], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payments", type=int, default=200, help="how many payments to time")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="bench-payment-") as tmp:
        figures = run(args.payments, Path(tmp))
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
