"""Payments made elsewhere: signed bank notifications over HTTP, then the day's camt.054
statement listing the same payments and as many again.

A registry on a real SQLite file (``RegistryWorld``: cases opened through the real ingest and
review) serves its API on uvicorn in this process. Timed: each notification from the moment
the bank signs it to the registry's answer (8 banks' connections at once), and the statement's
import as ``erap-registry payments import-statement`` runs it (the XSD check, then every line
reconciled in one transaction). Opening the cases is not timed.

Prints progress, then one JSON object as the last line.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import uvicorn

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._report import cpu, latency_summary
from central_ingest.api.app import create_app
from central_ingest.core.clock import iso
from central_ingest.ingest.bank_notifications import NOTIFICATIONS_PATH, notification_headers
from central_ingest.ingest.bank_payments import BankPayments
from tests.support.bank_statements import Bank, Line, statement_xml
from tests.support.broker import free_port, wait_for_port
from tests.support.registry_fixtures import RegistryWorld

HALF = 10 * 3932 * 100 // 2  # 85 km/h where 60 is the limit, 2025, the 50% within 7 days


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    bank = Bank()
    with tempfile.TemporaryDirectory() as tmp:
        world = RegistryWorld.create(Path(tmp), bank_payments={"institutions": [bank.entry()]})
        started = time.perf_counter()
        cases = [world.open_case() for _ in range(args.cases)]
        print(f"{len(cases)} cases opened in {time.perf_counter() - started:.1f} s", flush=True)
        app = create_app(world.config, store=world.store, registry=world.registry)
        app.state.bank_payments = BankPayments(world.store, world.config, clock=world.clock)
        port = free_port()
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        wait_for_port(port)
        notified = cases[: len(cases) // 2]
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)

        def notify(index_case: tuple[int, str]) -> float:
            index, case_number = index_case
            body = json.dumps(
                {
                    "reference": f"HB-{index:06d}",
                    "case_number": case_number,
                    "amount_minor": HALF,
                    "paid_at": iso(world.clock.now),
                }
            ).encode()
            began = time.perf_counter()
            headers = notification_headers(
                bank.key, bank.institution, body, nonce=uuid.uuid4().hex, now=world.clock.now
            )
            answer = client.post(NOTIFICATIONS_PATH, content=body, headers=headers)
            elapsed = (time.perf_counter() - began) * 1000
            ok = answer.status_code == 200 and answer.json()["outcome"] == "matched"
            return elapsed if ok else math.inf

        began = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
            latencies = list(pool.map(notify, enumerate(notified)))
        notify_s = time.perf_counter() - began
        print(f"{len(latencies)} notifications in {notify_s:.1f} s", flush=True)
        server.should_exit = True
        thread.join(timeout=10)
        client.close()

        lines = [
            Line(f"HB-{index:06d}", HALF, f"Штраф по делу {case_number}")
            for index, case_number in enumerate(cases)
        ]
        data = statement_xml("HALYK-BENCH-1", lines)
        service = BankPayments(world.store, world.config, clock=world.clock)
        began = time.perf_counter()
        summary = service.import_statement(data, bank.institution)
        import_s = time.perf_counter() - began
        paid = world.scalar("SELECT COUNT(*) FROM cases WHERE status = 'paid'")
        print(f"statement of {len(lines)} lines imported in {import_s:.2f} s", flush=True)
        print(
            json.dumps(
                {
                    "bench": "bank_payments",
                    "store": "sqlite",
                    "cases": len(cases),
                    "notifications": len(latencies),
                    "concurrency": args.concurrency,
                    **latency_summary(latencies, "notification_"),
                    "notifications_per_s": round(len(latencies) / notify_s, 1),
                    "statement_lines": len(lines),
                    "statement_bytes": len(data),
                    "statement_import_s": round(import_s, 3),
                    "statement_lines_per_s": round(len(lines) / import_s, 1),
                    "statement_new": summary.new_payments,
                    "statement_duplicates": summary.duplicates,
                    "cases_paid": paid,
                    "errors": sum(1 for value in latencies if math.isinf(value))
                    + (0 if paid == len(cases) else 1),
                    "timed": "notification: signing to the registry's answer over HTTP;"
                    " statement: XSD check and reconciliation of every line, one transaction",
                    **cpu(),
                }
            )
        )


if __name__ == "__main__":
    main()
