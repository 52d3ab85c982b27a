"""Console benchmark: the confirm round trip with 10,000 fixations waiting.

The registry's application (API and console) runs under uvicorn on a loopback port over a real
SQLite file; an officer signs in through the console's login form and confirms fixations the
way the review page's script does: one POST that stores the decision (case opened, ledger and
Merkle nodes written, notices queued, 5% sampled for double review) and answers with the next
item to preload, its HTML fragment rendered with the plate's history. The figure is the
wall-clock time of that POST as the client sees it.

Prints progress, then one JSON object as the last line.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import uvicorn
from rich.progress import Progress

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from central_ingest.api.settings import ApiSettings
from central_ingest.console import ConsoleSettings, ReviewDesk
from demo.broker import free_port
from tests.support.api import PASSWORD, REVIEWER, build_env
from tests.support.registry_fixtures import OWNER_PERSON, OWNER_SECOND, UNREGISTERED_PLATE

PLATES = (OWNER_PERSON.plate, OWNER_SECOND.plate, UNREGISTERED_PLATE)


def serve(app: object, port: int) -> uvicorn.Server:
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")  # type: ignore[arg-type]
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--waiting", type=int, default=10_000, help="fixations in the queue")
    parser.add_argument("--decisions", type=int, default=500, help="confirmations to time")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="erap-console-bench-") as scratch:
        env = build_env(Path(scratch), api_settings=ApiSettings(secure_cookies=False))
        desk: ReviewDesk = env.app.state.review_desk
        desk.clock = env.world.clock
        desk.settings = ConsoleSettings(double_review_rate=0.05)
        with Progress() as progress:
            task = progress.add_task("fixations waiting for review", total=args.waiting)
            for index in range(args.waiting):
                env.world.add_fixation(plate=PLATES[index % len(PLATES)])
                progress.advance(task)

        port = free_port()
        server = serve(env.app, port)
        base = f"http://127.0.0.1:{port}"
        origin = {"Origin": base}
        try:
            with httpx.Client(base_url=base, timeout=30, follow_redirects=True) as client:
                signed_in = client.post(
                    "/console/login",
                    data={"username": REVIEWER, "password": PASSWORD},
                    headers=origin,
                )
                match = re.search(r'name="csrf-token" content="([0-9a-f]+)"', signed_in.text)
                if signed_in.status_code != 200 or match is None:
                    raise SystemExit(f"sign-in failed: HTTP {signed_in.status_code}")
                headers = {**origin, "X-CSRF-Token": match.group(1)}
                current = re.search(r'data-fixation-id="([^"]+)"', signed_in.text)
                assert current is not None, "the review page shows the first fixation"
                current_id = current.group(1)
                preloaded = client.get("/console/api/next", params={"skip": [current_id]})
                next_id = preloaded.json()["next"]["fixation_id"]
                timings: list[float] = []
                with Progress() as progress:
                    task = progress.add_task("confirm round trips", total=args.decisions)
                    for _ in range(args.decisions):
                        started = time.perf_counter()
                        answer = client.post(
                            "/console/api/decisions",
                            json={
                                "fixation_id": current_id,
                                "kind": "review",
                                "action": "confirm",
                                "seconds_spent": 3.5,
                                "skip": [next_id],
                            },
                            headers=headers,
                        )
                        timings.append((time.perf_counter() - started) * 1000)
                        answer.raise_for_status()
                        following = answer.json()["next"]
                        current_id, next_id = next_id, following["fixation_id"]
                        env.world.clock.advance(seconds=4)
                        progress.advance(task)
        finally:
            server.should_exit = True

        confirmed = env.world.scalar(
            "SELECT count(*) FROM fixations WHERE status = 'confirmed' AND decided_by = ?",
            REVIEWER,
        )
        timings.sort()
        result = {
            "waiting_at_start": args.waiting,
            "decisions": args.decisions,
            "confirmed_in_db": confirmed,
            "p50_ms": round(statistics.median(timings), 2),
            "p95_ms": round(timings[int(0.95 * len(timings)) - 1], 2),
            "p99_ms": round(timings[int(0.99 * len(timings)) - 1], 2),
            "max_ms": round(timings[-1], 2),
            "target_p95_ms": 100,
        }
        print(json.dumps(result))


if __name__ == "__main__":
    main()
