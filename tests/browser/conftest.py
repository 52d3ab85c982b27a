"""A real registry process over a real SQLite file, fed by a signed camera over HTTP, and a real
headless Chromium (the Debian package) driven by Selenium. Nothing is downloaded."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from central_ingest.cases import CaseService
from central_ingest.config import RegistryConfig, load_config
from central_ingest.operators import Operators, Role
from central_ingest.store.db import Store
from central_ingest.vehicles import SqliteVehicleRegister
from central_ingest.wiring import open_registry_store
from contract import DeviceKind, EvidenceRole, MessageKind, now_utc
from contract.signing import device_request_headers
from i18n import Language
from tests.browser.scene import frame_jpeg, plate_jpeg
from tests.support.broker import free_port
from tests.support.devices import SimulatedDevice, evidence_ref, speeding_fixation
from tests.support.registry_fixtures import OWNER_PERSON, OWNER_SECOND

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
PASSWORD = "correct horse battery"
OFFICERS = {
    "aigerim": Role.REVIEWER,
    "daniyar": Role.REVIEWER,
    "saule": Role.SUPERVISOR,
    "prosecutor": Role.PROSECUTOR,
}


@dataclass
class RunningRegistry:
    base_url: str
    data_dir: Path
    store: Store
    camera: SimulatedDevice
    config: RegistryConfig
    operators: Operators

    def set_language(self, username: str, language: Language | None) -> None:
        """What the officer (or an administrator) chooses for the officer's screens."""
        self.operators.set_language(username, language, actor="system:browser-tests")

    def confirm(self, fixation_id: str, officer: str) -> str:
        """An earlier decision, made outside the browser; returns the case number."""
        registry = CaseService(self.store, self.config, SqliteVehicleRegister(self.store))
        return registry.confirm_fixation(fixation_id, officer, seconds_spent=9.0).case_number

    def send_fixation(self, plate: str, *, speed_kmh: float, seed: int) -> str:
        """What a camera does: upload both images, then the signed fixation."""
        images = {
            EvidenceRole.FULL_FRAME: frame_jpeg(plate, seed=seed),
            EvidenceRole.PLATE_CROP: plate_jpeg(plate),
        }
        with httpx.Client(base_url=self.base_url) as client:
            for data in images.values():
                path = f"/v1/evidence/{hashlib.sha256(data).hexdigest()}"
                headers = device_request_headers(
                    self.camera.key,
                    self.camera.device_id,
                    method="PUT",
                    path=path,
                    body=data,
                    now=now_utc(),
                )
                client.put(path, content=data, headers=headers).raise_for_status()
            fixation = speeding_fixation(
                self.camera,
                plate=plate,
                speed_kmh=speed_kmh,
                limit_kmh=60,
                captured_at=now_utc() - timedelta(minutes=30 - seed),
                evidence=[evidence_ref(role, data) for role, data in images.items()],
            )
            client.post(
                "/v1/messages", content=self.camera.seal(MessageKind.FIXATION, fixation)
            ).raise_for_status()
        return str(fixation.fixation_id)


def _wait_until_serving(base_url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the registry process exited while starting")
        try:
            if httpx.get(f"{base_url}/console/login", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError("the registry did not start serving within 30 s")


@pytest.fixture
def registry_process(tmp_path: Path) -> Iterator[RunningRegistry]:
    data_dir = tmp_path / "registry"
    config_file = tmp_path / "registry.toml"
    # Plain HTTP on the loopback interface: the session cookie cannot be Secure here.
    config_file.write_text("[api]\nsecure_cookies = false\n", encoding="utf-8")
    config = load_config(config_file, data_dir=data_dir)
    store = open_registry_store(config)
    operators = Operators(
        store,
        session_hours=config.session_hours,
        hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1),
    )
    for username, role in OFFICERS.items():
        operators.create(
            username,
            display_name=username.title(),
            role=role,
            password=PASSWORD,
            actor="system:browser-tests",
        )
    SqliteVehicleRegister(store).upsert([OWNER_PERSON, OWNER_SECOND])
    camera = SimulatedDevice("cam-astana-0007", DeviceKind.CAMERA).register(store)
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "central_ingest",
            "serve",
            "--config",
            str(config_file),
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
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "registry.log").open("wb"),
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(base_url, process)
        yield RunningRegistry(base_url, data_dir, store, camera, config, operators)
    finally:
        process.terminate()
        process.wait(timeout=10)
        store.close()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    options.add_experimental_option("prefs", {"intl.accept_languages": "en-US,en"})
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1440,1000",
        # The browser's own language (its Accept-Language): what a signed-out page follows.
        "--lang=en-US",
        f"--user-data-dir={tmp_path / 'chromium'}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.implicitly_wait(0)
    try:
        yield driver
    finally:
        driver.quit()
