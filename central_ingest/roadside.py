"""The registry's side of the roadside protocol: blocks of numbers for the terminals, the
officers' trust (the agency CA and its published CRL), and a received protocol checked and
written with the case it opens.

The ingest (``ingest.service``) hands every authenticated ``roadside_protocol`` message to
``RoadsideIntake.check`` before its write transaction, and writes the accepted ones with
``RoadsideIntake.write`` inside it: the message, the protocol, its case (open for a fine,
closed at once as a warning), their ledger entries and the owner's notices commit together. A
resend carries the same message id (the protocol's id) and is a duplicate, not a second case.
"""

from __future__ import annotations

import base64
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography import x509

from central_ingest.config import RegistryConfig
from central_ingest.core import fines
from central_ingest.core.cases import CaseStatus
from central_ingest.core.clock import iso, parse_iso
from central_ingest.core.errors import Conflict, InvalidInput, NotFound
from central_ingest.core.iin import is_valid_iin
from central_ingest.core.intake import Accepted, Refused
from central_ingest.core.roadside import (
    OfficerTrust,
    ProtocolRefused,
    RoadsideAssessment,
    VerifiedProtocol,
    assess_protocol,
    number_not_issued,
    photo_missing,
    verify_roadside_protocol,
)
from central_ingest.notify.outbox import enqueue_case_opened
from central_ingest.store import roadside as repo
from central_ingest.store.db import Database, Store
from central_ingest.store.evidence import evidence_sizes
from central_ingest.store.vehicles import vehicle_by_plate
from contract import PublicKey
from contract.roadside import (
    MAX_PROTOCOL_SEQUENCE,
    ProtocolNumberBlock,
    ProtocolOutcome,
    SignedRoadsideProtocol,
    parse_protocol_number,
)
from i18n import Text

log = logging.getLogger(__name__)

MAX_BLOCK_SIZE = 1000
"""The most numbers one request sets aside: a terminal's week of protocols many times over,
yet a lost terminal's block leaves no gap anyone would miss."""

CA_FILE = "ca.crt"
CRL_FILE = "officers.crl"


# --- blocks of numbers ---------------------------------------------------------------------


def allocate_protocol_block(
    store: Store, config: RegistryConfig, device_id: str, size: int, now: datetime
) -> ProtocolNumberBlock:
    """Set aside the next ``size`` protocol numbers of the agency for terminal ``device_id``."""
    if not 1 <= size <= MAX_BLOCK_SIZE:
        raise InvalidInput(
            "invalid_block_size",
            Text(
                "A block holds 1 to %(most)s protocol numbers, not %(size)s.",
                most=MAX_BLOCK_SIZE,
                size=size,
            ),
        )
    with store.transaction() as db:
        issued = repo.allocate_block(
            db, device_id=device_id, prefix=config.agency_code, size=size, issued_at=iso(now)
        )
        if issued.last > MAX_PROTOCOL_SEQUENCE:
            # Raising rolls the counter back with the block: nothing is issued.
            raise InvalidInput(
                "protocol_numbers_exhausted",
                Text(
                    "The agency %(agency)s has no protocol numbers left (the last is %(last)s).",
                    agency=config.agency_code,
                    last=MAX_PROTOCOL_SEQUENCE,
                ),
            )
    log.info("protocol numbers %s..%s issued to %s", issued.first, issued.last, device_id)
    return ProtocolNumberBlock(
        prefix=config.agency_code,
        first=issued.first,
        last=issued.last,
        device_id=device_id,
        issued_at=now,
    )


# --- the officers' trust -------------------------------------------------------------------


def officer_ca_dir(config: RegistryConfig) -> Path:
    """Where the officers' CA certificate and its published CRL are read (``ca.crt``,
    ``officers.crl``: the folder ``erap-registry pki officer-*`` keeps)."""
    return config.data_dir / "officer-ca"


class OfficerTrustFiles:
    """The officers' CA certificate and CRL, read again whenever either file changes (the CRL
    is republished daily and at every revocation). A missing CA trusts no certificate; a
    missing CRL makes every protocol wait (``revocation_unknown``, retried by the terminal)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._lock = threading.Lock()
        self._stamp: tuple[float | None, float | None] | None = None
        self._trust = OfficerTrust(anchors=())

    def _mtime(self, name: str) -> float | None:
        try:
            return (self.folder / name).stat().st_mtime
        except FileNotFoundError:
            return None

    def current(self) -> OfficerTrust:
        stamp = (self._mtime(CA_FILE), self._mtime(CRL_FILE))
        with self._lock:
            if stamp != self._stamp:
                self._trust = self._read(stamp)
                self._stamp = stamp
            return self._trust

    def _read(self, stamp: tuple[float | None, float | None]) -> OfficerTrust:
        anchors: tuple[x509.Certificate, ...] = ()
        crls: tuple[x509.CertificateRevocationList, ...] = ()
        try:
            if stamp[0] is not None:
                anchors = (x509.load_pem_x509_certificate((self.folder / CA_FILE).read_bytes()),)
            if stamp[1] is not None:
                crls = (x509.load_der_x509_crl((self.folder / CRL_FILE).read_bytes()),)
        except (OSError, ValueError) as exc:
            log.error("the officers' CA or CRL in %s cannot be read: %s", self.folder, exc)
        return OfficerTrust(anchors=anchors, crls=crls)

    def crl_der(self) -> bytes | None:
        """The published CRL as it is on disk (DER), for ``GET /v1/pki/officers.crl``."""
        try:
            return (self.folder / CRL_FILE).read_bytes()
        except FileNotFoundError:
            return None


# --- intake --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckedProtocol:
    verified: VerifiedProtocol
    assessment: RoadsideAssessment
    mrp_kzt: int
    officer: str
    officer_unit: str | None
    block_id: int
    cms_der: bytes


@dataclass(frozen=True)
class RoadsideAccepted(Accepted):
    """An authenticated protocol message that passed every check, with what they found."""

    checked: CheckedProtocol


class RoadsideIntake:
    def __init__(self, config: RegistryConfig, trust: OfficerTrustFiles | None = None) -> None:
        self._config = config
        self.trust = trust or OfficerTrustFiles(officer_ca_dir(config))

    def check(
        self,
        db: Database,
        document: Mapping[str, Any],
        accepted: Accepted,
        device_key: PublicKey,
        now: datetime,
    ) -> Accepted | Refused:
        """Every check of ``core.roadside`` and the registry's own (its block, the fine, the
        photos). A protocol already stored passes through as it is: the ingest then answers
        "duplicate", whatever became of its officer's certificate since."""
        body = accepted.body
        assert isinstance(body, SignedRoadsideProtocol)
        device_id, message_id = accepted.envelope.device_id, str(accepted.envelope.message_id)
        if repo.stored_protocol_ids(db, {str(body.protocol_id)}):
            return accepted
        try:
            checked = self._check(db, document, body, device_id, device_key, now)
        except ProtocolRefused as refused:
            log.warning("roadside protocol %s from %s refused: %s", message_id, device_id, refused)
            return Refused(refused.reason, refused.message, device_id, message_id)
        return RoadsideAccepted(**vars(accepted), checked=checked)

    def _check(
        self,
        db: Database,
        document: Mapping[str, Any],
        body: SignedRoadsideProtocol,
        device_id: str,
        device_key: PublicKey,
        now: datetime,
    ) -> CheckedProtocol:
        officers: dict[str, repo.OfficerRecord | None] = {}

        def is_active_officer(iin: str) -> bool:
            officers[iin] = repo.officer_by_iin(db, iin)
            record = officers[iin]
            return record is not None and record.active

        verified = verify_roadside_protocol(
            document,
            device_key=device_key,
            trust=self.trust.current(),
            is_active_officer=is_active_officer,
            now=now,
        )
        protocol = verified.protocol
        parsed = parse_protocol_number(protocol.protocol_number)
        block_id = (
            None
            if parsed is None or parsed[0] != self._config.agency_code
            else repo.block_containing(db, device_id=device_id, prefix=parsed[0], n=parsed[1])
        )
        if block_id is None:
            raise number_not_issued(protocol.protocol_number, device_id)
        mrp_kzt = fines.mrp_on(fines.offence_day(protocol.drawn_up_at), self._config.mrp_by_year)
        assessment = assess_protocol(protocol, self._config.fines, mrp_kzt)
        on_file = evidence_sizes(db, set(protocol.photo_sha256))
        for sha256 in protocol.photo_sha256:
            if sha256 not in on_file:
                raise photo_missing(sha256)
        officer = officers[verified.officer_iin]
        assert officer is not None
        padded = body.officer_cms + "=" * (-len(body.officer_cms) % 4)
        return CheckedProtocol(
            verified=verified,
            assessment=assessment,
            mrp_kzt=mrp_kzt,
            officer=officer.username,
            officer_unit=officer.unit,
            block_id=block_id,
            cms_der=base64.urlsafe_b64decode(padded),
        )

    def write(self, db: Database, message: tuple[object, ...], accepted: Accepted) -> None:
        """Inside the ingest's write transaction: the protocol, its case and the notices."""
        assert isinstance(accepted, RoadsideAccepted), "a protocol is written only once checked"
        checked = accepted.checked
        protocol = checked.verified.protocol
        received_at = str(message[4])
        place = protocol.place
        row = {
            "protocol_id": str(protocol.protocol_id),
            "message_id": str(accepted.envelope.message_id),
            "protocol_number": protocol.protocol_number,
            "case_number": protocol.protocol_number,
            "block_id": checked.block_id,
            "device_id": accepted.envelope.device_id,
            "officer_iin": checked.verified.officer_iin,
            "officer": checked.officer,
            "officer_unit": checked.officer_unit,
            "plate": protocol.plate,
            "person_iin": protocol.person_iin,
            "outcome": protocol.outcome.value,
            "article": protocol.article,
            "part": str(protocol.part),
            "amount_minor": protocol.amount_minor,
            "lat": place.lat,
            "lon": place.lon,
            "address": place.address,
            "place_manual": int(place.manual),
            "drawn_up_at": iso(protocol.drawn_up_at),
            "driver_signature": protocol.driver_signature.value,
            "driver_signature_sha256": protocol.driver_signature_sha256,
            "officer_cms": checked.cms_der,
            "certificate_serial": format(checked.verified.certificate_serial, "x"),
            "received_at": received_at,
        }
        case, details = self._case(db, checked, received_at)
        repo.store_protocol(
            db,
            message,
            protocol=row,
            photos=protocol.photo_sha256,
            case=case,
            case_details=details,
        )
        if case["status"] == CaseStatus.OPEN.value:
            # A warning asks nothing of the owner: the driver holds its paper copy.
            enqueue_case_opened(db, case, self._config, parse_iso(received_at))

    def _case(
        self, db: Database, checked: CheckedProtocol, received_at: str
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The case row a protocol opens, and what its ledger entry records beyond it."""
        protocol = checked.verified.protocol
        config = self._config
        owner = vehicle_by_plate(db, protocol.plate)
        warning = protocol.outcome is ProtocolOutcome.WARNING
        fine = protocol.amount_minor or 0
        # The protocol is the resolution, handed to the driver at the roadside: its deadlines
        # count from then, however long the terminal was offline.
        deadlines = fines.case_deadlines(protocol.drawn_up_at, config.deadlines)
        at = iso(protocol.drawn_up_at)
        case: dict[str, Any] = {
            "case_number": protocol.protocol_number,
            "fixation_id": None,
            "plate": protocol.plate,
            "owner_id": owner["owner_id"] if owner else None,
            "owner_name": owner["owner_name"] if owner else None,
            "owner_phone": owner["phone"] if owner else None,
            "owner_email": owner["email"] if owner else None,
            "owner_language": owner["language"] if owner else None,
            "violation": checked.assessment.violation.value,
            "article": protocol.article,
            "part": str(protocol.part),
            "offence_at": at,
            "mrp_kzt": checked.mrp_kzt,
            "fine_mrp": checked.assessment.fine_mrp,
            "fine_minor": fine,
            "discount_percent": config.deadlines.discount_percent,
            "resolution_at": at,
            "resolved_by": checked.officer,
            "discount_deadline": iso(deadlines.discount_deadline),
            "entry_into_force": iso(deadlines.entry_into_force),
            "voluntary_deadline": iso(deadlines.voluntary_deadline),
            "limitation_at": iso(deadlines.limitation_at),
            "status": (CaseStatus.WARNED if warning else CaseStatus.OPEN).value,
            "paid_minor": 0,
            "updated_at": received_at,
            "source": "roadside",
        }
        details = {
            key: case[key]
            for key in (
                "fixation_id",
                "plate",
                "owner_id",
                "article",
                "part",
                "fine_mrp",
                "mrp_kzt",
                "fine_minor",
                "discount_percent",
                "resolved_by",
                "offence_at",
                "resolution_at",
                "discount_deadline",
                "entry_into_force",
                "voluntary_deadline",
                "limitation_at",
                "source",
            )
        }
        details["discounted_minor"] = fines.discounted_minor(fine, case["discount_percent"])
        details["protocol_id"] = str(protocol.protocol_id)
        return case, details


# --- officers' identity --------------------------------------------------------------------


def set_officer_identity(
    store: Store, username: str, *, iin: str | None, unit: str | None
) -> tuple[str | None, str | None]:
    """Record the IIN an operator's signing certificate names (his protocols are accepted only
    while he is active) and his unit; returns them as stored."""
    iin = (iin or "").strip() or None
    unit = (unit or "").strip() or None
    if iin is not None and not is_valid_iin(iin):
        raise InvalidInput(
            "invalid_iin",
            Text("%(iin)s is not a valid IIN: 12 digits with a correct check digit.", iin=iin),
        )
    with store.transaction() as db:
        holder = repo.operator_holding_iin(db, iin) if iin is not None else None
        if holder is not None and holder != username:
            raise Conflict(
                "iin_taken",
                Text("The IIN %(iin)s is already the operator %(user)s's.", iin=iin, user=holder),
            )
        if not repo.set_officer_identity(db, username, iin=iin, unit=unit):
            raise NotFound(
                "unknown_operator", Text("There is no operator %(user)s.", user=username)
            )
    log.info("identity of operator %s set: IIN %s, unit %s", username, iin, unit)
    return iin, unit


# --- the prosecutor's report ---------------------------------------------------------------


def roadside_officer_report(
    store: Store, *, since: datetime | None = None, until: datetime | None = None
) -> list[dict[str, Any]]:
    """Per officer: protocols written, warnings, fines, and those later cancelled by the same
    officer or by his unit; the officers with most such cancellations first."""
    low = iso(since) if since is not None else "0001-01-01T00:00:00Z"
    high = iso(until) if until is not None else "9999-12-31T23:59:59Z"
    with store.db.snapshot():
        return repo.officer_report(store.db, since=low, until=high)
