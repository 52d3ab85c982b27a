"""A registry receiving roadside protocols: the agency's officers' CA and its CRL where the
registry reads them, officers' tokens in SoftHSM2 (tests/support/officer_pki.py), blocks of
numbers for the world's terminal, and protocols signed on the token and sealed by the terminal
(terminal/protocol_signing.py), sent through the real ingest service."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from central_ingest.ingest.service import Incoming, IngestService, Outcome
from central_ingest.roadside import (
    CA_FILE,
    CRL_FILE,
    allocate_protocol_block,
    officer_ca_dir,
    set_officer_identity,
)
from contract import DeviceKey, SignedEnvelope, encode_envelope
from contract.roadside import (
    DriverSignature,
    ProtocolNumberBlock,
    ProtocolOutcome,
    ProtocolPlace,
    RoadsideProtocol,
)
from terminal.officer_token import OfficerSession, OfficerToken, PinCounter, TokenSettings
from terminal.protocol_signing import sign_protocol
from tests.support.officer_pki import SOFTHSM_MODULE, AgencyCa, SoftHsm, softhsm, valid_iin
from tests.support.registry_fixtures import OWNER_PERSON, RegistryWorld

PIN = "482915"
OFFICER = "aigerim"
UNIT = "Astana road police, 2nd battalion"
# 592 part 1 (speeding by 10-20 km/h): 5 MRP at 2025's 3,932 tenge, in tiyn.
FINE_592_1 = 5 * 3932 * 100
_labels = itertools.count()


@dataclass
class RoadsideDesk:
    world: RegistryWorld
    ca: AgencyCa
    hsm: SoftHsm
    tmp_path: Path
    sessions: list[OfficerSession] = field(default_factory=list)

    @classmethod
    def create(cls, world: RegistryWorld, tmp_path: Path) -> RoadsideDesk:
        desk = cls(world, AgencyCa.create("ERAP officers CA", world.clock.now), softhsm(), tmp_path)
        desk.publish()
        return desk

    @property
    def now(self) -> datetime:
        return self.world.clock.now

    def publish(self, revoked: tuple[x509.Certificate, ...] = ()) -> None:
        """The agency's CA certificate and a CRL listing ``revoked``, where the registry reads
        them (what ``erap-registry pki officer-crl`` publishes)."""
        folder = officer_ca_dir(self.world.config)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / CA_FILE).write_bytes(self.ca.certificate.public_bytes(Encoding.PEM))
        crl = self.ca.crl([(certificate, self.now) for certificate in revoked], self.now)
        (folder / CRL_FILE).write_bytes(crl.public_bytes(Encoding.DER))

    def officer(
        self,
        *,
        username: str | None = OFFICER,
        ca: AgencyCa | None = None,
        iin: str | None = None,
    ) -> OfficerSession:
        """An officer signed in on a fresh SoftHSM2 token, his certificate from ``ca`` (the
        agency's by default); with a ``username``, that operator holds his IIN."""
        label = f"roadside-{next(_labels)}"
        officer_iin = iin or valid_iin()
        self.hsm.officer_token(
            label,
            PIN,
            ca or self.ca,
            iin=officer_iin,
            name="Серік Оспанов",
            not_before=self.now - timedelta(days=30),
            not_after=self.now + timedelta(days=365),
        )
        if username is not None:
            set_officer_identity(self.world.store, username, iin=officer_iin, unit=UNIT)
        token = OfficerToken(
            TokenSettings(SOFTHSM_MODULE, label), PinCounter(self.tmp_path / f"{label}.json")
        )
        session = token.sign_in(PIN, self.now)
        self.sessions.append(session)
        return session

    def block(self, size: int = 20, device_id: str | None = None) -> ProtocolNumberBlock:
        return allocate_protocol_block(
            self.world.store,
            self.world.config,
            device_id or self.world.terminal_id,
            size,
            self.now,
        )

    def protocol(self, officer: OfficerSession, number: str, **changes: Any) -> RoadsideProtocol:
        fields: dict[str, Any] = {
            "protocol_id": uuid4(),
            "protocol_number": number,
            "officer_iin": officer.iin,
            "plate": OWNER_PERSON.plate,
            "person_iin": OWNER_PERSON.owner_id,
            "article": "592",
            "part": 1,
            "outcome": ProtocolOutcome.FINE,
            "amount_minor": FINE_592_1,
            "place": ProtocolPlace(lat=51.128, lon=71.430, manual=False),
            "drawn_up_at": self.now,
            "description": "Превышение скорости на 15 км/ч, пр. Кабанбай батыра",
            "driver_signature": DriverSignature.SIGNED,
            "driver_signature_sha256": "ab" * 32,
        }
        fields.update(changes)
        return RoadsideProtocol.model_validate(fields)

    def sign(
        self,
        protocol: RoadsideProtocol,
        officer: OfficerSession,
        *,
        device_id: str | None = None,
        device_key: DeviceKey | None = None,
    ) -> SignedEnvelope:
        return sign_protocol(
            protocol,
            officer,
            device_id=device_id or self.world.terminal_id,
            device_key=device_key or self.world.terminal_key,
            now=self.now,
        )

    def send(self, envelope: SignedEnvelope) -> Outcome:
        service = IngestService(self.world.store, self.world.config, clock=lambda: self.now)
        return service.process(Incoming(encode_envelope(envelope), "http"))

    def dead_letter(self, message_id: str) -> dict[str, Any]:
        row = self.world.store.db.conn.execute(
            "SELECT reason, detail, signed, retryable FROM dead_letters WHERE message_id = ?",
            (message_id,),
        ).fetchone()
        assert row is not None, f"no dead letter for {message_id}"
        return {"reason": row[0], "detail": row[1], "signed": row[2], "retryable": row[3]}

    def close(self) -> None:
        for session in self.sessions:
            session.close()
