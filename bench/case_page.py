"""Driver's case page benchmark: 200 drivers at once opening their case pages, 100,000 cases
stored.

Before the timed region: a registry over a real SQLite file is created at the current schema
and seeded fast with ``--cases`` camera cases as the lifecycle leaves them (each with its signed
message's row, its fixation and two evidence images, the case, the ledger's "opened" entry in
the hash chain with its Merkle nodes, two notices, and the link the notice carries), written
with the store's ``insert_rows`` in batches, not through the review (which would take an hour
for 100,000). The evidence rows point at two real JPEGs (a 1280x720 road frame, a plate crop)
written once to the evidence directory. The registry is then served by its own process,
``erap-registry serve --no-mqtt --no-jobs`` (uvicorn, as deployed).

Timed region: ``--drivers`` drivers (asyncio tasks sharing one connection pool per driver)
each open ``--rounds`` case pages of random cases among all those stored, as the link in their
notice does: GET /cases/<token> (the page: link checked, case, fixation, evidence, history,
notices and payments read, Jinja2 rendered in the owner's language), then both photos through
the page's link, as a phone's browser fetches them. Between pages a driver reads for
``--think-ms`` on average (drawn between half and one and a half of it, drivers not in step;
0: back to back, the stress case; 5 s by default, far less than reading a fine's page takes).
Each request is timed as the client sees it, wall clock; a failure (an HTTP error, a timeout)
counts as an error and enters the percentiles as a failure. The registry's own CPU over the
timed region, per page with its photos, and the machine's load average are reported too.

Prints progress, then one JSON object as the last line: median and p95 of the page (the target:
p95 under 100 ms) and of the photos, errors, what was timed, and the CPU's avx512 flags.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import math
import os
import random
import secrets
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from rich.progress import Progress

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._postgres import process_cpu_s
from bench._report import cpu, latency_summary
from central_ingest.config import RegistryConfig, load_config
from central_ingest.core.clock import iso
from central_ingest.driver.links import TOKEN_BYTES, token_hash
from central_ingest.store.db import Store
from central_ingest.store.evidence import EvidenceStore
from central_ingest.store.ledger import LedgerAppender
from central_ingest.wiring import open_registry_store
from tests.browser.scene import frame_jpeg, plate_jpeg
from tests.support.broker import free_port, wait_for_port

TARGET_P95_MS = 100
# Below uvicorn's timeout_keep_alive (5 s), which erap-registry serve keeps.
KEEPALIVE_S = 4.0
BATCH = 5_000
CAMERA = "cam-bench-0001"
OFFICER = "bench-officer"
LANGUAGES = ("kk", "ru", None)


def serve(config_file: Path, port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            sys.executable,
            *("-m", "central_ingest", "serve", "--config", str(config_file)),
            *("--port", str(port), "--no-mqtt", "--no-jobs"),
        ],
        stdout=subprocess.DEVNULL,
    )
    wait_for_port(port, timeout_s=60)
    return process


def seed_fixed(store: Store, config: RegistryConfig, now: datetime) -> tuple[str, str]:
    """The camera, the officer and the two images every case shows; returns their hashes."""
    at = iso(now)
    images = [frame_jpeg("123ABC01", seed=1), plate_jpeg("123ABC01")]
    evidence = EvidenceStore(store, config.evidence_dir, config.max_evidence_bytes)
    hashes = []
    for data in images:
        sha = hashlib.sha256(data).hexdigest()
        path = evidence.path_for(sha)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        hashes.append(sha)
    with store.transaction() as db:
        db.conn.execute(
            "INSERT INTO devices (device_id, kind, public_key, registered_at)"
            " VALUES (?, 'camera', 'bench-key', ?)",
            (CAMERA, at),
        )
        db.conn.execute(
            "INSERT INTO operators (username, display_name, role, password_hash, created_at)"
            " VALUES (?, 'Bench Officer', 'reviewer', 'not-a-login', ?)",
            (OFFICER, at),
        )
        db.insert_rows(
            "evidence",
            ("sha256", "size_bytes", "content_type", "uploaded_by", "stored_at"),
            [
                (sha, len(data), "image/jpeg", CAMERA, at)
                for sha, data in zip(hashes, images, strict=True)
            ],
        )
    return hashes[0], hashes[1]


def seed_cases(
    store: Store, count: int, images: tuple[str, str], now: datetime, progress: Progress
) -> list[str]:
    """``count`` open camera cases, as the lifecycle writes them; returns each case's link
    token, which only its notice holds."""
    tokens: list[str] = []
    task = progress.add_task("cases stored", total=count)
    rng = random.Random(7)
    year = now.year
    for start in range(0, count, BATCH):
        messages, fixations, evidence, cases, notices, links = [], [], [], [], [], []
        with store.transaction() as db:
            ledger = LedgerAppender(db)
            for number in range(start + 1, min(count, start + BATCH) + 1):
                offence = now - timedelta(days=rng.uniform(0, 6), seconds=number)
                resolution = offence + timedelta(hours=2)
                message_id, fixation_id = str(uuid.uuid4()), str(uuid.uuid4())
                case_number = f"KZ-GP-{year}-{number:07d}"
                plate = f"{number % 1000:03d}ABC{1 + number % 17:02d}"
                speed = 70 + number % 40
                messages.append(
                    (message_id, CAMERA, "fixation", "http", iso(offence), "0" * 64, "{}")
                )
                fixations.append(
                    (
                        fixation_id,
                        message_id,
                        CAMERA,
                        number,
                        iso(offence),
                        iso(offence),
                        "speeding",
                        plate,
                        0.97,
                        "kz_person",
                        float(speed),
                        60,
                        "Astana, Kabanbay batyr avenue, km 4",
                        51.128,
                        71.43,
                        "confirmed",
                        iso(resolution),
                        OFFICER,
                    )
                )
                evidence.extend([(fixation_id, images[0], "full_frame")])
                evidence.extend([(fixation_id, images[1], "plate_crop")])
                after = [iso(resolution + timedelta(days=days)) for days in (7, 10, 40, 375)]
                cases.append(
                    (
                        case_number,
                        fixation_id,
                        plate,
                        "791028302728",
                        "Owner Name",
                        "+77011234567",
                        "owner@example.kz",
                        "speeding",
                        "592",
                        "2",
                        iso(offence),
                        4325,
                        10,
                        4_325_000,
                        50,
                        iso(resolution),
                        OFFICER,
                        *after,
                        iso(resolution),
                        LANGUAGES[number % 3],
                    )
                )
                token = secrets.token_urlsafe(TOKEN_BYTES)
                tokens.append(token)
                links.append(
                    (
                        token_hash(token),
                        case_number,
                        "notice",
                        iso(resolution),
                        iso(resolution + timedelta(days=120)),
                    )
                )
                link = f"https://erap.example.kz/cases/{token}"
                for channel in ("sms", "email"):
                    notices.append(
                        (
                            case_number,
                            channel,
                            "+77011234567",
                            f"Fine. {link}",
                            "sent",
                            1,
                            iso(resolution),
                            iso(resolution),
                            iso(resolution),
                            "ru",
                        )
                    )
                ledger.append(
                    recorded_at=iso(resolution),
                    entity_type="case",
                    entity_id=case_number,
                    action="opened",
                    actor=OFFICER,
                    payload={"status": "open", "paid_minor": 0, "fine_minor": 4_325_000},
                )
            db.insert_rows(
                "messages",
                (
                    "message_id",
                    "device_id",
                    "kind",
                    "channel",
                    "received_at",
                    "envelope_sha256",
                    "envelope",
                ),
                messages,
            )
            db.insert_rows(
                "fixations",
                (
                    "fixation_id",
                    "message_id",
                    "device_id",
                    "sequence",
                    "captured_at",
                    "received_at",
                    "violation",
                    "plate_text",
                    "plate_confidence",
                    "plate_format",
                    "speed_kmh",
                    "limit_kmh",
                    "zone",
                    "lat",
                    "lon",
                    "status",
                    "decided_at",
                    "decided_by",
                ),
                fixations,
            )
            db.insert_rows("fixation_evidence", ("fixation_id", "sha256", "role"), evidence)
            db.insert_rows(
                "cases",
                (
                    "case_number",
                    "fixation_id",
                    "plate",
                    "owner_id",
                    "owner_name",
                    "owner_phone",
                    "owner_email",
                    "violation",
                    "article",
                    "part",
                    "offence_at",
                    "mrp_kzt",
                    "fine_mrp",
                    "fine_minor",
                    "discount_percent",
                    "resolution_at",
                    "resolved_by",
                    "discount_deadline",
                    "entry_into_force",
                    "voluntary_deadline",
                    "limitation_at",
                    "updated_at",
                    "owner_language",
                ),
                cases,
            )
            db.insert_rows(
                "case_links",
                ("token_hash", "case_number", "purpose", "created_at", "expires_at"),
                links,
            )
            db.insert_rows(
                "notifications",
                (
                    "case_number",
                    "channel",
                    "recipient",
                    "body",
                    "status",
                    "attempts",
                    "created_at",
                    "next_attempt_at",
                    "sent_at",
                    "language",
                ),
                notices,
            )
            ledger.flush()
        progress.advance(task, len(cases))
    return tokens


class Driver:
    def __init__(self, name: int, base: str, tokens: list[str], rounds: int) -> None:
        self.pace = random.Random(name)
        self.cases = [self.pace.choice(tokens) for _ in range(rounds)]
        # An idle connection is dropped before uvicorn's 5 s keep-alive ends it, as browsers
        # do: reusing one the server is closing fails a request that never reached it.
        self.client = httpx.AsyncClient(
            base_url=base, timeout=30, limits=httpx.Limits(keepalive_expiry=KEEPALIVE_S)
        )
        self.page_ms: list[float] = []
        self.photo_ms: list[float] = []
        self.errors: list[str] = []

    async def timed(self, path: str, record: list[float]) -> httpx.Response | None:
        started = time.perf_counter()
        try:
            answer = await self.client.get(path)
        except httpx.HTTPError as exc:
            record.append(math.inf)
            self.errors.append(type(exc).__name__)
            return None
        elapsed = (time.perf_counter() - started) * 1000
        if answer.status_code != 200:
            record.append(math.inf)
            self.errors.append(f"HTTP {answer.status_code}")
            return None
        record.append(elapsed)
        return answer

    async def run(self, think_s: float, start: asyncio.Event) -> None:
        await start.wait()
        if think_s:
            await asyncio.sleep(self.pace.uniform(0, think_s))
        for index, token in enumerate(self.cases):
            if think_s and index:
                await asyncio.sleep(self.pace.uniform(0.5 * think_s, 1.5 * think_s))
            page = await self.timed(f"/cases/{token}", self.page_ms)
            if page is None:
                continue
            photos = [
                part.split('"', 1)[0]
                for part in page.text.split('src="')[1:]
                if part.startswith("/cases/")
            ]
            if len(photos) != 2:
                self.errors.append("page without its two photos")
            await asyncio.gather(*(self.timed(photo, self.photo_ms) for photo in photos))


async def drive(
    base: str, tokens: list[str], args: argparse.Namespace
) -> tuple[list[Driver], float]:
    drivers = [Driver(number, base, tokens, args.rounds) for number in range(args.drivers)]
    start = asyncio.Event()
    tasks = [asyncio.create_task(driver.run(args.think_ms / 1000, start)) for driver in drivers]
    started = time.perf_counter()
    start.set()
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    for driver in drivers:
        await driver.client.aclose()
    return drivers, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000, help="cases stored")
    parser.add_argument("--drivers", type=int, default=200, help="drivers at once")
    parser.add_argument("--rounds", type=int, default=5, help="case pages each driver opens")
    parser.add_argument(
        "--think-ms",
        type=float,
        default=5000.0,
        help="mean time a driver reads a page before opening the next: 5,000 ms, a fraction of"
        " the time reading a fine's page takes, makes 200 drivers open 40 pages and 80 photos"
        " a second (the registry spends 8-11 ms of one core on a page and its photos: about"
        " 100 pages a second is all one serving process gives). 0: back to back",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="erap-case-page-bench-") as scratch:
        data_dir = Path(scratch) / "registry"
        config_file = Path(scratch) / "registry.toml"
        config_file.write_text(f'data_dir = "{data_dir}"\n', encoding="utf-8")
        config = load_config(config_file)
        now = datetime.now(UTC)
        store = open_registry_store(config)
        seeding = time.perf_counter()
        with Progress() as progress:
            images = seed_fixed(store, config, now)
            tokens = seed_cases(store, args.cases, images, now, progress)
        seeded_s = time.perf_counter() - seeding
        stored = int(store.db.conn.execute("SELECT count(*) FROM cases").fetchone()[0])
        store.close()

        port = free_port()
        server = serve(config_file, port)
        base = f"http://127.0.0.1:{port}"
        try:
            # One page before the timed region: templates compiled, catalogs loaded.
            httpx.get(f"{base}/cases/{tokens[0]}", timeout=30).raise_for_status()
            print(f"{args.drivers} drivers opening case pages ...", file=sys.stderr)
            load_before, server_cpu_before = os.getloadavg()[0], process_cpu_s(server.pid)
            drivers, elapsed = asyncio.run(drive(base, tokens, args))
            server_cpu_s = process_cpu_s(server.pid) - server_cpu_before
            load_after = os.getloadavg()[0]
        finally:
            server.terminate()
            server.wait(timeout=30)

    pages = [ms for driver in drivers for ms in driver.page_ms]
    photos = [ms for driver in drivers for ms in driver.photo_ms]
    errors = [error for driver in drivers for error in driver.errors]
    summary = latency_summary(pages)
    result = {
        "cases_stored": stored,
        "seeded_s": round(seeded_s, 1),
        "drivers": args.drivers,
        "think_ms": args.think_ms,
        "timed": "each GET /cases/<token> (link check, case, fixation, evidence, history,"
        " notices, payments, render) and each of its two photos, as the client sees it,"
        " over loopback to erap-registry serve (SQLite)",
        "pages_per_s": round(len(pages) / elapsed, 1),
        # What the machine could give: the registry's CPU per page with its two photos, and
        # how busy the (shared) machine was around the timed region.
        "server_cpu_ms_per_page_with_photos": round(server_cpu_s * 1000 / max(len(pages), 1), 2),
        "load_average_1min": [round(load_before, 2), round(load_after, 2)],
        "errors": len(errors),
        "error_kinds": sorted(set(errors)),
        **summary,
        **latency_summary(photos, prefix="photo_"),
        "target_p95_ms": TARGET_P95_MS,
        "p95_within_target": summary["p95_ms"] is not None and summary["p95_ms"] < TARGET_P95_MS,
        **cpu(),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
