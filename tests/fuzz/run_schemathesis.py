"""Fuzz the registry's HTTP API against its own OpenAPI document (run by .ci/run).

Starts a real ``central_ingest serve`` on a free loopback port over a fresh data directory with
one operator of each role and a registered camera, signs each role in, and runs schemathesis
once per role and once without credentials. Two checks must hold for every generated request:
no 5xx (``not_a_server_error``) and no status the document does not list for that operation
(``status_code_conformance``). Bounded: few examples per operation and a wall-clock budget per
run, so that the whole takes two to three minutes on two cores. Exit status: non-zero when any
run fails.

    .venv/bin/python -m tests.fuzz.run_schemathesis [--max-examples N] [--max-time S]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from central_ingest.audit import load_or_create_registry_key, sign_tree_head
from central_ingest.config import RegistryConfig
from central_ingest.operators import Operators, Role
from central_ingest.store.db import open_store
from contract import DeviceKind, now_utc
from tests.support.api import FAST_HASHER, PASSWORD
from tests.support.broker import free_port
from tests.support.devices import SimulatedDevice

ROOT = Path(__file__).resolve().parents[2]
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
CHECKS = "not_a_server_error,status_code_conformance"
# Ending the session would turn the rest of a role's run into 401s: logout is fuzzed only in
# the run without credentials.
LOGOUT = "/v1/auth/logout"
# The administrator runs last: deactivating accounts ends the other roles' sessions.
ROLES = (Role.PROSECUTOR, Role.SUPERVISOR, Role.REVIEWER, Role.BAILIFF, Role.ADMIN)


def _provision(data_dir: Path) -> None:
    store = open_store(RegistryConfig(data_dir=data_dir).db_path)
    try:
        operators = Operators(store, session_hours=8, hasher=FAST_HASHER)
        for role in ROLES:
            operators.create(
                f"fuzz.{role.value}",
                display_name=f"Fuzz {role.value}",
                role=role,
                password=PASSWORD,
                actor="system:fuzz",
            )
        SimulatedDevice("cam-fuzz-0001", DeviceKind.CAMERA).register(store)
        SimulatedDevice("term-fuzz-0001", DeviceKind.TERMINAL).register(store)
        # A running registry signs tree heads periodically (its jobs); before the first one,
        # /v1/audit/verify answers 503 (documented). Fuzz the state the registry lives in.
        config = RegistryConfig(data_dir=data_dir)
        sign_tree_head(store, load_or_create_registry_key(config.registry_key_path), now_utc())
    finally:
        store.close()


def _wait_until_serving(base_url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the registry exited with status {process.returncode}")
        try:
            with urllib.request.urlopen(f"{base_url}/healthz", timeout=1):
                return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    raise SystemExit("the registry did not answer /healthz within 30 s")


def _sign_in(base_url: str, username: str) -> str:
    form = urllib.parse.urlencode({"username": username, "password": PASSWORD}).encode()
    with urllib.request.urlopen(f"{base_url}/v1/auth/token", data=form, timeout=10) as answer:
        token: str = json.load(answer)["access_token"]
    return token


def _run(
    base_url: str, label: str, token: str | None, args: argparse.Namespace, workdir: Path
) -> bool:
    command = [
        str(SCHEMATHESIS),
        "run",
        f"{base_url}/openapi.json",
        "--checks",
        CHECKS,
        "--max-examples",
        str(args.max_examples),
        "--max-time",
        str(args.max_time),
        "--phases",
        "examples,coverage,fuzzing",
        "--workers",
        "2",
        "--request-timeout",
        "10",
        "--seed",
        str(args.seed),
        "--generation-database",
        "none",
        "--suppress-health-check",
        "all",
        "--no-color",
    ]
    if token is not None:
        command += ["--header", f"Authorization: Bearer {token}", "--exclude-path", LOGOUT]
    print(f"== schemathesis as {label}", flush=True)
    started = time.monotonic()
    # In the temporary directory: schemathesis keeps its caches in the working directory.
    result = subprocess.run(command, cwd=workdir, check=False)
    print(f"== {label}: exit {result.returncode} in {time.monotonic() - started:.1f} s", flush=True)
    return result.returncode == 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=10)
    parser.add_argument("--max-time", type=int, default=25, help="seconds per run")
    parser.add_argument("--seed", type=int, default=18)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="erap-fuzz-") as tmp:
        data_dir = Path(tmp) / "registry"
        _provision(data_dir)
        port = free_port()
        log = (Path(tmp) / "registry.log").open("wb")
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "central_ingest",
                "serve",
                "--data-dir",
                str(data_dir),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-mqtt",
                "--no-jobs",
            ],
            cwd=ROOT,
            stdout=log,
            stderr=log,
        )
        base_url = f"http://127.0.0.1:{port}"
        started = time.monotonic()
        try:
            _wait_until_serving(base_url, process)
            # Every session is opened before any run: the anonymous run's failed sign-ins pause
            # this address, and the administrator's run may deactivate accounts.
            tokens = {role: _sign_in(base_url, f"fuzz.{role.value}") for role in ROLES}
            results = [_run(base_url, role.value, tokens[role], args, Path(tmp)) for role in ROLES]
            results.append(_run(base_url, "nobody", None, args, Path(tmp)))
        finally:
            process.terminate()
            process.wait(timeout=20)
            log.close()
        if not all(results):
            sys.stdout.write(Path(tmp, "registry.log").read_text(errors="replace")[-6000:])
        print(f"== schemathesis: {len(results)} runs in {time.monotonic() - started:.1f} s")
    return 0 if all(results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
