"""The roadside desk built from the terminal's configuration (its ``[roadside]`` section), over
the same journal, registry client, payment device and printer the payment terminal uses."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

import httpx

from contract import DeviceKey, now_utc
from terminal.config import TerminalConfig
from terminal.journal import Journal
from terminal.receipt import EscposReceiptPrinter
from terminal.registry_client import RegistryClient
from terminal.roadside.camera import CarCamera
from terminal.roadside.desk import RoadsideDesk
from terminal.roadside.drafting import NumberPolicy
from terminal.roadside.gps import SerialGps
from terminal.roadside.population import PopulationRegister
from terminal.roadside.printer import EscposProtocolPrinter
from terminal.roadside.registry_link import RoadsideRegistry
from terminal.roadside.store import RoadsideStore
from terminal.roadside.table_file import load_code_table
from terminal.service import TerminalIdentity
from terminal.wiring import build_payment_device

log = logging.getLogger(__name__)

JOURNAL_FILE = "terminal.db"  # the payment journal's file: the protocols live beside them


class Roadside:
    """The desk and what must be closed with it."""

    def __init__(self, desk: RoadsideDesk, parts: list[Callable[[], None]]) -> None:
        self.desk = desk
        self._parts = parts
        self._stop = threading.Event()
        self._syncer: threading.Thread | None = None

    def start_sync(self, interval_s: float = 30.0) -> None:
        """Send the queue whenever the link is back: a sync every ``interval_s`` seconds (the
        desk's sync is one at a time, so the screen's own never meets this one halfway)."""

        def loop() -> None:
            while not self._stop.wait(interval_s):
                try:
                    self.desk.sync()
                except Exception:  # a bug must not end the loop: the queue would stall
                    log.exception("the roadside sync failed")

        self._syncer = threading.Thread(target=loop, name="roadside-sync", daemon=True)
        self._syncer.start()

    def close(self) -> None:
        self._stop.set()
        if self._syncer is not None:
            self._syncer.join(timeout=10)
        for close in reversed(self._parts):
            close()


def build_roadside(
    config: TerminalConfig,
    *,
    key: DeviceKey,
    http: httpx.Client,
    clock: Callable[[], datetime] = now_utc,
    population_http: httpx.Client | None = None,
) -> Roadside:
    settings = config.roadside
    if settings is None:
        raise ValueError("the configuration has no [roadside] section")
    journal = Journal(config.data_dir / JOURNAL_FILE)
    store = RoadsideStore(config.data_dir / JOURNAL_FILE)
    gps = SerialGps(
        settings.gps_port, settings.gps_baudrate, max_age_s=settings.gps_max_age_s
    ).start()
    population = population_http or httpx.Client(
        base_url=settings.population_register_url, timeout=settings.population_timeout_s
    )
    photo_dir = config.data_dir / "photos"
    camera = None
    if settings.camera is not None:
        source: str | int = int(settings.camera) if settings.camera.isdigit() else settings.camera
        camera = CarCamera(source, photo_dir)
    desk = RoadsideDesk(
        identity=TerminalIdentity(
            device_id=config.device_id,
            terminal_id=config.terminal_id,
            agency=config.agency,
            case_url_template=config.case_url_template,
        ),
        key=key,
        store=store,
        journal=journal,
        registry=RegistryClient(http, config.device_id, key, language=config.language),
        numbers=RoadsideRegistry(http, config.device_id, key),
        population=PopulationRegister(population),
        codes=load_code_table(settings.code_table),
        gps=gps,
        printer=EscposProtocolPrinter(
            config.printer_device,
            config.printer_baudrate,
            profile=config.printer_profile,
            width_px=config.printer_width_px,
            paper_sensor=settings.printer_paper_sensor,
        ),
        receipt_printer=EscposReceiptPrinter(
            config.printer_device,
            config.printer_baudrate,
            profile=config.printer_profile,
            width_px=config.printer_width_px,
        ),
        device=build_payment_device(config, journal, clock),
        clock=clock,
        camera=camera,
        photo_dir=photo_dir,
        policy=NumberPolicy(settings.numbers_low_water, settings.numbers_block_size),
        language=config.language,
    )
    parts: list[Callable[[], None]] = [journal.close, store.close, gps.stop]
    if camera is not None:
        parts.append(camera.close)
    if population_http is None:
        parts.append(population.close)
    return Roadside(desk, parts)
