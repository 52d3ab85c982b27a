"""The roadside desk on real parts, shared by the roadside tests: the registry's HTTP app on a
SQLite file behind a link the test can cut, the officer's token on SoftHSM2, the population
register in its own process, the car's GPS receiver on a socat pty pair speaking NMEA, the bank
POS simulator over ECR on another pair, and the printer on a third, read back byte by byte."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import cv2
import httpx
import numpy as np

from contract.roadside import ProtocolNumberBlock, ProtocolOutcome
from terminal.config import TerminalConfig
from terminal.officer_token import OfficerSession, OfficerToken, PinCounter, TokenSettings
from terminal.roadside import Draft, RoadsideDesk
from terminal.roadside.drafting import protocol_place
from terminal.roadside.wiring import Roadside, build_roadside
from terminal.sim.harness import BankPos, PrinterPty, SocatPair
from tests.support.api import BASE_URL, ApiEnv
from tests.support.officer_pki import SOFTHSM_MODULE, AgencyCa, SoftHsm, valid_iin

PIN = "482915"
TERMINAL_ID = "T0000042"
CASE_URL = "https://erap.kz/cases/{case_number}"
AGENCY = {"kk": "Астана қаласы Полиция департаменті", "ru": "Департамент полиции города Астаны"}
PLATE = "123ABC01"  # OWNER_PERSON's, in the registry's seeded vehicle register
PERSON_IIN = "791028302728"  # the same owner, in the population register

_labels = iter(range(100_000))


class Link(httpx.BaseTransport):
    """The terminal's mobile link to the registry: ``up`` False and every request fails as a
    dropped connection does."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.up = True
        self.requests: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if not self.up:
            raise httpx.ConnectError("the mobile link is down", request=request)
        self.requests.append(f"{request.method} {request.url.path}")
        return self.inner.handle_request(request)


def nmea(body: str) -> bytes:
    checksum = 0
    for char in body:
        checksum ^= ord(char)
    return f"${body}*{checksum:02X}\r\n".encode()


FIX = [  # 51.12830 N, 71.43050 E: Astana, 9 satellites
    nmea("GPRMC,093000.00,A,5107.6980,N,07125.8300,E,0.0,0.0,100326,,,A"),
    nmea("GPGGA,093000.00,5107.6980,N,07125.8300,E,1,09,0.9,350.0,M,-20.0,M,,"),
]
NO_FIX = [
    nmea("GPRMC,093000.00,V,,,,,,,100326,,,N"),
    nmea("GPGGA,093000.00,,,,,0,00,99.9,,,,,,"),
]


class GpsReceiver:
    """The car's receiver on the far end of a pty pair: NMEA every 100 ms, fix or no fix."""

    def __init__(self, workdir: Path) -> None:
        self.pair = SocatPair(workdir, "gps")
        self.sentences = FIX
        self._stop = threading.Event()

    def start(self) -> GpsReceiver:
        self.pair.start()
        fd = os.open(self.pair.far, os.O_WRONLY | os.O_NOCTTY)
        threading.Thread(target=self._talk, args=(fd,), daemon=True).start()
        return self

    def _talk(self, fd: int) -> None:
        while not self._stop.is_set():
            try:
                for sentence in self.sentences:
                    os.write(fd, sentence)
            except OSError:
                return
            time.sleep(0.1)
        os.close(fd)

    def stop(self) -> None:
        self._stop.set()
        self.pair.stop()


def write_video(path: Path, frames: int = 4) -> None:
    """A short MJPEG clip: frame i is a grey level of 40 * (i + 1) with a white box."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 10, (320, 240))
    for index in range(frames):
        frame = np.full((240, 320, 3), 40 * (index + 1), dtype=np.uint8)
        cv2.rectangle(frame, (40 + 20 * index, 60), (140 + 20 * index, 120), (255, 255, 255), -1)
        writer.write(frame)
    writer.release()


class PaperPrinter(PrinterPty):
    """A printer with a paper sensor: it answers DLE EOT 4 with its paper status (Epson's bits:
    0x12 paper present, 0x72 paper end), and prints nothing while it has no paper."""

    QUERY = b"\x10\x04\x04"

    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir)
        self.has_paper = True

    def start(self) -> PaperPrinter:
        self._pair.start()
        fd = os.open(self._pair.far, os.O_RDWR | os.O_NOCTTY)
        threading.Thread(target=self._answer, args=(fd,), daemon=True).start()
        return self

    def _answer(self, fd: int) -> None:
        while True:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                return
            if not chunk:
                return
            while self.QUERY in chunk:
                chunk = chunk.replace(self.QUERY, b"", 1)
                os.write(fd, b"\x12" if self.has_paper else b"\x72")
            if self.has_paper:
                with self._lock:
                    self._buffer += chunk


def officer_token(hsm: SoftHsm, agency: AgencyCa, now: datetime, iin: str | None = None) -> str:
    label = f"officer-rs-{next(_labels)}"
    hsm.officer_token(
        label,
        PIN,
        agency,
        iin=iin or valid_iin(),
        name="Серік Оспанов",
        not_before=now - timedelta(days=30),
        not_after=now + timedelta(days=365),
    )
    return label


def sign_in(label: str, workdir: Path, now: datetime) -> OfficerSession:
    token = OfficerToken(TokenSettings(SOFTHSM_MODULE, label), PinCounter(workdir / "pins.json"))
    return token.sign_in(PIN, now)


@dataclass
class Rig:
    env: ApiEnv
    link: Link
    printer: PrinterPty
    gps: GpsReceiver
    pos_journal: Path
    officer: OfficerSession
    workdir: Path
    population_url: str
    camera: str | None = None
    paper_sensor: bool = False
    closers: list[Callable[[], None]] = field(default_factory=list)
    _roadside: Roadside | None = None

    @property
    def roadside(self) -> Roadside:
        assert self._roadside is not None
        return self._roadside

    @property
    def desk(self) -> RoadsideDesk:
        return self.roadside.desk

    def give_block(self, first: int, last: int) -> None:
        """A block as the registry issues it, kept by the terminal (when the registry's side
        is not part of the test)."""
        self.desk._store.add_block(
            ProtocolNumberBlock(
                prefix="KZ-GP",
                first=first,
                last=last,
                device_id=self.env.world.terminal_id,
                issued_at=datetime.now(UTC),
            )
        )

    def draft(self, outcome: ProtocolOutcome = ProtocolOutcome.FINE, **changes: object) -> Draft:
        fields: dict[str, object] = {
            "plate": PLATE,
            "person_iin": PERSON_IIN,
            "article": "599",
            "part": 1,
            "outcome": outcome,
            "place": protocol_place(None, "пр. Кабанбай батыра, 62"),
            "description": "Проезд на запрещающий сигнал светофора на перекрёстке",
            "driver_explanation": "Не заметил сигнал",
            "driver_signature_png": b"\x89PNG drawn on the screen",
        }
        fields.update(changes)
        return Draft(**fields)  # type: ignore[arg-type]

    def restart(self, pos_mode: str = "approve") -> None:
        """The terminal loses power and starts again: the same files, new objects."""
        self.roadside.close()
        self._roadside = _build(self, pos_mode)


def _build(rig: Rig, pos_mode: str) -> Roadside:
    cable = SocatPair(rig.workdir, f"ecr-{next(_labels)}").start()
    rig.closers.append(cable.stop)
    pos = BankPos(cable.far, rig.pos_journal, pos_mode).start()
    rig.closers.append(pos.stop)
    config = TerminalConfig(
        device_id=rig.env.world.terminal_id,
        terminal_id=TERMINAL_ID,
        agency=AGENCY,
        case_url_template=CASE_URL,
        registry_url=BASE_URL,
        data_dir=rig.workdir / "terminal",
        key_path=rig.workdir / "terminal.key",
        printer_device=str(rig.printer.device),
        payment_device="ecr",
        ecr={"port": str(cable.near), "answer_timeout_s": 2.0},
        roadside={
            "population_register_url": rig.population_url,
            "gps_port": str(rig.gps.pair.near),
            "camera": rig.camera,
            "printer_paper_sensor": rig.paper_sensor,
            "numbers_low_water": 5,
            "numbers_block_size": 50,
        },
    )
    http = httpx.Client(transport=rig.link, base_url=BASE_URL)
    return build_roadside(config, key=rig.env.world.terminal_key, http=http)


def make_rig(
    env: ApiEnv,
    *,
    workdir: Path,
    printer: PrinterPty,
    officer: OfficerSession,
    population_url: str,
    pos_mode: str = "approve",
    camera: str | None = None,
    paper_sensor: bool = False,
) -> Rig:
    gps = GpsReceiver(workdir).start()
    link = Link(env.client()._transport)
    rig = Rig(
        env=env,
        link=link,
        printer=printer,
        gps=gps,
        pos_journal=workdir / "pos.jsonl",
        officer=officer,
        workdir=workdir,
        population_url=population_url,
        camera=camera,
        paper_sensor=paper_sensor,
    )
    rig.closers.append(gps.stop)
    rig._roadside = _build(rig, pos_mode)
    return rig


def close_rig(rig: Rig) -> None:
    rig.roadside.close()
    for close in reversed(rig.closers):
        close()


def new_ids(count: int) -> Iterator[UUID]:
    return (uuid4() for _ in range(count))
