"""Console benchmark: 20 officers deciding at once with 10,000 fixations waiting.

Before the timed region: a registry over a real SQLite file is seeded with ``--waiting``
fixations through the real ingest service in-process (as tests/support/registry_fixtures does),
then served by its own process, ``erap-registry serve --no-mqtt --no-jobs`` (uvicorn, as
deployed: the server never shares an interpreter, and its lock, with the load generator).
``--officers`` reviewer accounts each sign in through the console's login form with their own
HTTP client (own session cookie and CSRF token).

Timed region: every officer's thread repeats what the review page's script does, with
``--think-ms`` on average between an officer's decisions (the time spent looking at the photos;
2 s by default, five times faster than the fastest reviewing vendors claim; officers start and
pause at random, not in step; 0 makes all 20 decide back to back, the stress case): POST
/console/api/decisions (store the decision: case opened, ledger and Merkle nodes written,
notices queued, 5% sampled for double review; the answer carries the next item rendered with the
plate's history), then GET /console/api/next (the preload the page asks for when it is
reloaded). Each call is timed as the client sees it, wall clock. A call that fails (an HTTP
error such as a 409 for a fixation two officers were given, a timeout, a refused connection) is
counted as an error and enters the percentiles as a failure, never as a fast figure; that
officer then stops. At the end the database is asked how many fixations each officer confirmed.

Prints progress, then one JSON object as the last line (median, p95 and errors of both calls,
the CPU's avx512 flags).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import httpx
from rich.progress import Progress

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._report import cpu, latency_summary
from central_ingest.api.settings import ApiSettings
from central_ingest.operators import Role
from tests.support.api import PASSWORD, build_env
from tests.support.broker import free_port, wait_for_port
from tests.support.registry_fixtures import OWNER_PERSON, OWNER_SECOND, UNREGISTERED_PLATE

PLATES = (OWNER_PERSON.plate, OWNER_SECOND.plate, UNREGISTERED_PLATE)
TARGET_P95_MS = 100


def serve(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    """The registry's API and console in their own process, plain HTTP on loopback."""
    config = data_dir.parent / "registry.toml"
    config.write_text(f'data_dir = "{data_dir}"\n[api]\nsecure_cookies = false\n', encoding="utf-8")
    process = subprocess.Popen(
        [
            sys.executable,
            *("-m", "central_ingest", "serve", "--config", str(config)),
            *("--port", str(port), "--no-mqtt", "--no-jobs"),
        ],
        stdout=subprocess.DEVNULL,
    )
    wait_for_port(port, timeout_s=30)
    return process


@dataclass
class Officer:
    username: str
    client: httpx.Client
    headers: dict[str, str]
    current: tuple[str, str]  # fixation id and item kind on screen
    upcoming: tuple[str, str] | None  # the preloaded one
    decide_ms: list[float] = field(default_factory=list)
    next_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    decided: int = 0
    second_reviews: int = 0  # double reviews of others' confirmations: no new confirmation


def sign_in(base: str, username: str) -> Officer:
    origin = {"Origin": base}
    client = httpx.Client(base_url=base, timeout=30, follow_redirects=True)
    page = client.post(
        "/console/login", data={"username": username, "password": PASSWORD}, headers=origin
    )
    token = re.search(r'name="csrf-token" content="([0-9a-f]+)"', page.text)
    if page.status_code != 200 or token is None:
        raise SystemExit(f"{username} could not sign in: HTTP {page.status_code}")
    shown = re.search(r'data-fixation-id="([^"]+)"', page.text)
    if shown is None:
        raise SystemExit(f"{username}'s review page shows no fixation")
    headers = {**origin, "X-CSRF-Token": token.group(1)}
    preloaded = client.get("/console/api/next", params={"skip": [shown.group(1)]}).json()["next"]
    upcoming = None if preloaded is None else (preloaded["fixation_id"], preloaded["kind"])
    return Officer(username, client, headers, (shown.group(1), "review"), upcoming)


def timed(
    call: Callable[[], httpx.Response], record: list[float], errors: list[str]
) -> httpx.Response | None:
    started = time.perf_counter()
    try:
        answer = call()
    except httpx.HTTPError as exc:
        record.append(math.inf)
        errors.append(type(exc).__name__)
        return None
    elapsed = (time.perf_counter() - started) * 1000
    if answer.is_error:
        record.append(math.inf)
        errors.append(f"HTTP {answer.status_code}")
        return None
    record.append(elapsed)
    return answer


def work(officer: Officer, rounds: int, think_s: float, start: threading.Event) -> None:
    """One officer's decisions. Officers do not act in step: each starts at a random moment of
    the first think time, and each pause is drawn between half and one and a half of it
    (seeded by the officer's name, so runs compare); with ``think_s`` 0 all go back to back."""
    pace = random.Random(officer.username)
    start.wait()
    if think_s:
        time.sleep(pace.uniform(0, think_s))
    client = officer.client
    for round_number in range(rounds):
        if think_s and round_number:
            # Looking at the photos before the next decision.
            time.sleep(pace.uniform(0.5 * think_s, 1.5 * think_s))
        fixation_id, kind = officer.current
        skip = [] if officer.upcoming is None else [officer.upcoming[0]]
        answer = timed(
            partial(
                client.post,
                "/console/api/decisions",
                json={
                    "fixation_id": fixation_id,
                    "kind": kind,
                    "action": "confirm",
                    "seconds_spent": 3.5,
                    "skip": skip,
                },
                headers=officer.headers,
            ),
            officer.decide_ms,
            officer.errors,
        )
        if answer is None or officer.upcoming is None:
            return  # the officer's queue state is unknown after an error: stop this officer
        officer.decided += 1
        officer.second_reviews += kind == "double_review"
        following = answer.json()["next"]
        officer.current = officer.upcoming
        officer.upcoming = (
            None if following is None else (following["fixation_id"], following["kind"])
        )
        keep = [officer.current[0], *([] if officer.upcoming is None else [officer.upcoming[0]])]
        timed(
            partial(client.get, "/console/api/next", params={"skip": keep}),
            officer.next_ms,
            officer.errors,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--waiting", type=int, default=10_000, help="fixations in the queue")
    parser.add_argument("--officers", type=int, default=20, help="officers deciding at once")
    parser.add_argument("--rounds", type=int, default=40, help="decisions per officer")
    parser.add_argument(
        "--think-ms",
        type=float,
        default=2000.0,
        help="mean pause between an officer's decisions. 2,000 ms is five times faster than"
        " the fastest reviewing vendors claim (10-20 s a fixation; 35 an hour in practice,"
        " DOMAIN.md): 20 officers then decide 10 times a second. 0: all decide back to back",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="erap-console-bench-") as scratch:
        env = build_env(Path(scratch), api_settings=ApiSettings(secure_cookies=False))
        # Fixations of today: the served registry runs on the real clock.
        env.world.clock.set(datetime.now(UTC))
        names = [f"officer{number:02d}" for number in range(args.officers)]
        for name in names:
            env.add_operator(name, Role.REVIEWER)
        with Progress() as progress:
            task = progress.add_task("fixations waiting for review", total=args.waiting)
            for index in range(args.waiting):
                env.world.add_fixation(plate=PLATES[index % len(PLATES)])
                progress.advance(task)
        env.world.store.close()

        port = free_port()
        server = serve(env.world.config.data_dir, port)
        base = f"http://127.0.0.1:{port}"
        officers: list[Officer] = []
        try:
            officers = [sign_in(base, name) for name in names]
            start = threading.Event()
            threads = [
                threading.Thread(
                    target=work, args=(officer, args.rounds, args.think_ms / 1000, start)
                )
                for officer in officers
            ]
            for thread in threads:
                thread.start()
            print(f"{args.officers} officers deciding at once ...", file=sys.stderr)
            started = time.perf_counter()
            start.set()
            for thread in threads:
                thread.join()
            elapsed = time.perf_counter() - started
        finally:
            for officer in officers:
                officer.client.close()
            server.terminate()
            server.wait(timeout=30)

        confirmed = {
            name: env.world.scalar(
                "SELECT count(*) FROM fixations WHERE status = 'confirmed' AND decided_by = ?",
                name,
            )
            for name in names
        }
        decide = [ms for officer in officers for ms in officer.decide_ms]
        following = [ms for officer in officers for ms in officer.next_ms]
        errors = [error for officer in officers for error in officer.errors]
        decided = sum(officer.decided for officer in officers)
        cases = int(env.world.scalar("SELECT count(*) FROM cases"))
        summary = latency_summary(decide)
        result = {
            "waiting_at_start": args.waiting,
            "officers": args.officers,
            "think_ms": args.think_ms,
            "decisions_attempted": len(decide),
            "decisions_answered": decided,
            "second_reviews_answered": sum(officer.second_reviews for officer in officers),
            "confirmed_in_db": sum(confirmed.values()),
            # Every first-review confirmation answered must be a confirmed row: must be 0.
            "answered_but_not_in_db": decided
            - sum(officer.second_reviews for officer in officers)
            - sum(confirmed.values()),
            "cases_in_db": cases,
            "officers_without_a_decision": sum(1 for n in confirmed.values() if n == 0),
            "errors": len(errors),
            "error_kinds": sorted(set(errors)),
            "decisions_per_s": round(decided / elapsed, 1),
            **summary,
            **latency_summary(following, prefix="next_"),
            "target_p95_ms": TARGET_P95_MS,
            "p95_within_target": summary["p95_ms"] is not None
            and summary["p95_ms"] < TARGET_P95_MS,
            **cpu(),
        }
        print(json.dumps(result))


if __name__ == "__main__":
    main()
