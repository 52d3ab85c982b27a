"""The officer's roadside desk: the service the touch UI calls, over the terminal's parts.

The order of a stop: ``background`` (the vehicle's and the person's cases, the person from the
population register), ``assess`` (the part and amount under the code table, a repeat within a
year moving to the higher part), ``place`` (the GPS fix or a typed address), ``take_photo``,
then ``sign_and_record``: the officer's token signs, the terminal seals, and ONE transaction
consumes the protocol number and journals the signed protocol; the driver's copy is printed
after it, and the protocol goes to the registry whenever the link is up (``sync``). ``pay``
takes the on-the-spot amount by card for the protocol's case number and prints its receipt.

Every outcome is a sentence (``i18n.Text``) for the officer; nothing here needs the network
except ``background`` (which says what it could not check) and the refill of numbers.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol
from uuid import UUID

from contract import (
    DeviceKey,
    ReceiptStatus,
    encode_envelope,
)
from contract.roadside import ProtocolPlace, RoadsideProtocol
from i18n import Language, Message, Text
from terminal.journal import Journal
from terminal.messages import SpokenError
from terminal.officer_token import OfficerSession
from terminal.payment_device import PaymentDevice
from terminal.protocol_signing import sign_protocol
from terminal.receipt import PrinterUnavailable, ReceiptPrinter
from terminal.registry_client import CaseForPayment, RegistryClient, RegistryUnavailable
from terminal.roadside.camera import Photo, photo_path
from terminal.roadside.codes import Assessment, CodeTable, EarlierOffence, assess
from terminal.roadside.drafting import (
    Draft,
    GpsFix,
    NumberPolicy,
    build_protocol,
    merge_cases,
    open_cases,
    protocol_place,
    this_year,
)
from terminal.roadside.paper_copy import ProtocolCopy, case_url
from terminal.roadside.payments import RoadsideCashier, on_the_spot_minor
from terminal.roadside.population import Person, PopulationRegister, PopulationUnavailable
from terminal.roadside.printer import CopyPrinter
from terminal.roadside.registry_link import RoadsideRegistry
from terminal.roadside.store import JournalledProtocol, NumberTaken, Outgoing, RoadsideStore
from terminal.service import PaymentResult, TerminalIdentity

log = logging.getLogger(__name__)


class GpsSource(Protocol):
    def fix(self) -> tuple[GpsFix | None, str | None]: ...


class PhotoSource(Protocol):
    def take(self) -> Photo: ...


class NoNumbers(SpokenError):
    pass


@dataclass(frozen=True)
class Background:
    """What the officer sees before he chooses the article."""

    vehicle_cases: list[CaseForPayment]
    person: Person | None
    person_cases: list[CaseForPayment]
    history: list[EarlierOffence]  # the person's and the vehicle's cases, each once
    open_cases: list[EarlierOffence]
    this_year: list[EarlierOffence]
    notes: list[Message] = field(default_factory=list)  # what could not be checked, and why


@dataclass(frozen=True)
class Placed:
    place: ProtocolPlace | None
    no_fix_reason: str | None  # None: the GPS fix was used


@dataclass(frozen=True)
class Recorded:
    protocol: RoadsideProtocol
    assessment: Assessment | None  # None when the protocol was already journalled
    printed: bool
    sent: bool
    message: Message
    duplicate: bool = False


@dataclass(frozen=True)
class ProtocolEntry:
    protocol: RoadsideProtocol
    printed: bool
    registry_status: str | None  # None: still queued; "stored", "duplicate" or "rejected"
    language: str  # the copy's


@dataclass(frozen=True)
class SyncReport:
    sent: int
    left: int
    problem: Message | None = None


def _earlier(case: CaseForPayment) -> EarlierOffence:
    return EarlierOffence(case.case_number, case.article, case.part, case.offence_at, case.status)


class RoadsideDesk:
    def __init__(
        self,
        *,
        identity: TerminalIdentity,
        key: DeviceKey,
        store: RoadsideStore,
        journal: Journal,
        registry: RegistryClient,
        numbers: RoadsideRegistry,
        population: PopulationRegister,
        codes: CodeTable,
        gps: GpsSource,
        printer: CopyPrinter,
        receipt_printer: ReceiptPrinter,
        device: PaymentDevice,
        clock: Callable[[], datetime],
        camera: PhotoSource | None = None,
        photo_dir: Path | None = None,
        policy: NumberPolicy = NumberPolicy(),
        language: Language = "ru",
    ) -> None:
        self._identity = identity
        self._key = key
        self._store = store
        self._journal = journal
        self._registry = registry
        self._numbers = numbers
        self._population = population
        self.codes = codes
        self._gps = gps
        self._printer = printer
        self._receipt_printer = receipt_printer
        self._device = device
        self._clock = clock
        self._camera = camera
        self._photo_dir = photo_dir
        self._policy = policy
        self._language: Language = language
        self._sync_lock = threading.Lock()
        self._cashier = RoadsideCashier(
            identity=identity,
            key=key,
            store=store,
            journal=journal,
            device=device,
            receipt_printer=receipt_printer,
            clock=clock,
            discount_percent=codes.discount_percent,
            send=lambda: self.sync().left,
        )

    # --- numbers -----------------------------------------------------------------------------

    def ensure_numbers(self) -> int:
        """Ask the registry for a block when the numbers run low and the link is up; the
        numbers left afterwards. A link that is down is no error here: the block waits."""
        remaining = self._store.remaining()
        if not self._policy.should_fetch(remaining):
            return remaining
        try:
            block = self._numbers.fetch_block(self._policy.block_size)
        except RegistryUnavailable as exc:
            log.warning("no new protocol numbers (%s numbers left): %s", remaining, exc)
            return remaining
        self._store.add_block(block)
        return self._store.remaining()

    def numbers_left(self) -> int:
        return self._store.remaining()

    # --- drafting ----------------------------------------------------------------------------

    def background(self, plate: str, iin: str | None = None) -> Background:
        notes: list[Message] = []
        vehicle: list[CaseForPayment] = []
        person_cases: list[CaseForPayment] = []
        person: Person | None = None
        registry_answered = False
        try:
            vehicle = self._registry.cases_by_plate(plate)
            if iin:
                person_cases = self._registry.cases_by_iin(iin)
            registry_answered = True
        except RegistryUnavailable as exc:
            notes.append(
                Text(
                    "The vehicle's and the person's cases could not be checked: %(reason)s",
                    reason=exc.text,
                )
            )
        if iin:
            try:
                person = self._population.person(iin)
                if person is None:
                    notes.append(
                        Text("The population register has no person with IIN %(iin)s.", iin=iin)
                    )
            except PopulationUnavailable as exc:
                notes.append(exc.text)
        if registry_answered:  # the link is up: top the protocol numbers up meanwhile
            self.ensure_numbers()
        history = merge_cases(map(_earlier, vehicle), map(_earlier, person_cases))
        now = self._clock()
        return Background(
            vehicle_cases=vehicle,
            person=person,
            person_cases=person_cases,
            history=history,
            open_cases=open_cases(history),
            this_year=this_year(history, now),
            notes=notes,
        )

    def assess(self, article: str, part: int, history: Sequence[EarlierOffence] = ()) -> Assessment:
        return assess(self.codes, article, part, history, self._clock())

    def place(self, typed_address: str | None = None) -> Placed:
        """The protocol's place: the GPS fix, else the typed address (flagged); with neither,
        ``place`` is None and ``no_fix_reason`` says why there is no fix."""
        fix, reason = self._gps.fix()
        if fix is None and not (typed_address or "").strip():
            return Placed(None, reason or "no fix")
        return Placed(protocol_place(fix, typed_address), None if fix else reason)

    def take_photo(self) -> Photo:
        if self._camera is None:
            raise SpokenError(Text("This terminal has no camera configured."))
        return self._camera.take()

    # --- signing, journal, paper -------------------------------------------------------------

    def sign_and_record(
        self,
        draft: Draft,
        officer: OfficerSession,
        protocol_id: UUID,
        *,
        history: Sequence[EarlierOffence] = (),
        language: Language | None = None,
        send: bool = True,
    ) -> Recorded:
        """Sign, journal (with the number, in one transaction), print the driver's copy, and
        send it if the link is up. The same ``protocol_id`` again (a double tap, a retry after
        a crash) returns the journalled protocol: one protocol, one number."""
        copy_language = language or self._language
        earlier = self._store.protocol(str(protocol_id))
        if earlier is not None:
            return Recorded(
                earlier.signed.protocol,
                None,
                earlier.printed_at is not None,
                earlier.sent_at is not None,
                Text(
                    "Protocol %(number)s was already recorded on this terminal.",
                    number=earlier.number,
                ),
                duplicate=True,
            )
        if self._store.next_number() is None:
            # Only when none is left: a refill below the low water waits for ``sync`` and
            # ``background``, so a slow mobile link never delays a signature.
            self.ensure_numbers()
        now = self._clock()
        assessment = assess(self.codes, draft.article, draft.part, history, now)
        for _ in range(3):  # a number taken meanwhile: sign again with the next
            slot = self._store.next_number()
            if slot is None:
                raise NoNumbers(
                    Text(
                        "No protocol numbers are left on this terminal and the registry cannot"
                        " be reached for more: write this protocol on the paper form, and"
                        " connect the terminal to get numbers."
                    )
                )
            protocol = build_protocol(
                draft,
                assessment,
                protocol_id=protocol_id,
                protocol_number=slot.number,
                officer_iin=officer.iin,
                drawn_up_at=now,
            )
            # A token pulled here raises TokenGone: nothing is journalled, the number stays free.
            envelope = sign_protocol(
                protocol,
                officer,
                device_id=self._identity.device_id,
                device_key=self._key,
                now=now,
            )
            try:
                self._store.record_signed(
                    slot, envelope, encode_envelope(envelope), copy_language, now
                )
            except NumberTaken:
                continue
            break
        else:
            raise NoNumbers(Text("The protocol number could not be reserved: sign again."))
        printed, message = self._print(str(protocol_id), copy_language, officer.name)
        sent = False
        if send:
            self.sync()
            after = self._store.protocol(str(protocol_id))
            sent = after is not None and after.send_status in ("stored", "duplicate")
        return Recorded(protocol, assessment, printed, sent, message)

    def _copy(self, journalled: JournalledProtocol, officer_name: str) -> ProtocolCopy:
        protocol = journalled.signed.protocol
        entry = self.codes.entry(protocol.article, protocol.part)
        return ProtocolCopy(
            agency=self._identity.agency,
            protocol=protocol,
            offence=entry.title,
            officer_name=officer_name,
            case_url=case_url(self._identity.case_url_template, protocol.protocol_number),
            on_the_spot_minor=self._on_the_spot(protocol),
        )

    def _on_the_spot(self, protocol: RoadsideProtocol) -> int | None:
        return on_the_spot_minor(protocol, self.codes.discount_percent)

    # --- payment -----------------------------------------------------------------------------

    def pay(
        self, protocol_id: UUID, payment_id: UUID, language: Language | None = None
    ) -> PaymentResult:
        """The on-the-spot amount for the protocol's case by card (``RoadsideCashier.pay``)."""
        return self._cashier.pay(protocol_id, payment_id, language)

    def settle_pending(self) -> list[PaymentResult]:
        """At start-up, BEFORE the payment terminal's own ``settle_pending`` (which looks camera
        cases up in the registry, where an offline protocol's case is not yet)."""
        return self._cashier.settle_pending()

    def _print(self, protocol_id: str, language: Language, officer_name: str) -> tuple[bool, Text]:
        journalled = self._store.protocol(protocol_id)
        assert journalled is not None
        try:
            self._printer.print_copy(self._copy(journalled, officer_name), language)
        except PrinterUnavailable as exc:
            self._store.print_failed(protocol_id, str(exc))
            return False, Text(
                "Protocol %(number)s is signed and kept. %(printer)s",
                number=journalled.number,
                printer=exc.text,
            )
        self._store.printed(protocol_id, self._clock())
        return True, Text(
            "Protocol %(number)s is signed, kept and printed: give the driver his copy.",
            number=journalled.number,
        )

    def print_copy(
        self, protocol_id: UUID, officer_name: str, language: Language | None = None
    ) -> Text:
        """Print the driver's copy again (out of paper, a jam, the driver's other language)."""
        journalled = self._store.protocol(str(protocol_id))
        if journalled is None:
            raise SpokenError(
                Text("There is no protocol %(id)s on this terminal.", id=str(protocol_id))
            )
        chosen: Language = language or journalled.language  # type: ignore[assignment]
        printed, message = self._print(str(protocol_id), chosen, officer_name)
        if not printed:
            raise PrinterUnavailable(message)
        return message

    def protocols(self) -> list[ProtocolEntry]:
        """Every protocol on this terminal, oldest first, with its paper and registry state."""
        return [
            ProtocolEntry(
                row.signed.protocol, row.printed_at is not None, row.send_status, row.language
            )
            for row in self._store.protocols()
        ]

    def unprinted(self) -> list[RoadsideProtocol]:
        return [row.signed.protocol for row in self._store.unprinted()]

    # --- the way to the registry -------------------------------------------------------------

    def sync(self) -> SyncReport:
        """Send what waits, in the journal's order, each exactly once (a resend is a duplicate
        at the registry); stop at the first failure so nothing overtakes what came before.
        One sync at a time (the screen's and a periodic one may meet)."""
        with self._sync_lock:
            return self._sync()

    def _sync(self) -> SyncReport:
        self.ensure_numbers()
        sent = 0
        refused: list[str] = []
        pending = self._store.outgoing()
        for index, item in enumerate(pending):
            if item.kind == "payment" and item.protocol_id in refused:
                continue  # its case is not in the registry: held with the refused protocol
            try:
                if item.kind == "protocol":
                    self._upload_photos(item)
                status = self._registry.submit(item.envelope)
            except RegistryUnavailable as exc:
                self._store.send_failed(item, str(exc))
                return SyncReport(sent, len(pending) - index, exc.text)
            if status is ReceiptStatus.RETRY:
                self._store.send_failed(item, "the registry asked to send it again later")
                return SyncReport(
                    sent,
                    len(pending) - index,
                    Text("The registry asked for the protocols again later: they stay queued."),
                )
            if status is ReceiptStatus.REJECTED:
                # Kept in the registry's dead letters with its reason; resending the same
                # bytes cannot change that, so it does not hold up the rest.
                log.error("the registry refused %s %s", item.kind, item.message_id)
                if item.kind == "protocol":
                    refused.append(item.protocol_id)
            self._store.sent(item, status.value, self._clock())
            sent += 1
        problem: Message | None = None
        if refused:
            numbers = ", ".join(
                row.number for row in map(self._store.protocol, refused) if row is not None
            )
            problem = Text(
                "The registry refused protocol %(numbers)s (its reason is in the registry's"
                " dead letters): a payment taken for it waits; tell the duty officer.",
                numbers=numbers,
            )
        return SyncReport(sent, 0, problem)

    def _upload_photos(self, item: Outgoing) -> None:
        if self._photo_dir is None:
            return
        journalled = self._store.protocol(item.protocol_id)
        assert journalled is not None
        for sha in journalled.signed.protocol.photo_sha256:
            path = photo_path(self._photo_dir, sha)
            self._numbers.upload_photo(sha, path.read_bytes())

    def pending(self) -> int:
        return len(self._store.outgoing())
