"""Taking the on-the-spot payment for a roadside protocol (the desk's cashier).

The amount is the protocol's fine less the code table's on-the-spot discount (50%), for the
protocol's case number, with no network needed: the card is charged through the terminal's
payment device and its journal (reversals armed as for camera cases), the payment's report is
queued in the ROADSIDE journal so it reaches the registry only after its protocol, and the
receipt is printed. A declined card leaves the protocol standing; a charge whose answer was
lost is settled by asking the device, never by charging again (``settle_pending``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from contract import DeviceKey, MessageKind, Payment, PaymentChannel, encode_envelope, seal
from contract.roadside import ProtocolOutcome, RoadsideProtocol
from i18n import Language, Text
from terminal.journal import Journal, PaymentState
from terminal.messages import SpokenError
from terminal.payment_device import Charge, ChargeRequest, PaymentDevice
from terminal.receipt import ReceiptData, ReceiptPrinter
from terminal.roadside.paper_copy import case_url
from terminal.roadside.store import JournalledProtocol, RoadsideStore
from terminal.service import (
    PaymentResult,
    TerminalIdentity,
    print_approved_receipt,
    receipt_for,
)


def on_the_spot_minor(protocol: RoadsideProtocol, discount_percent: int) -> int | None:
    """What the driver pays now; None for a warning."""
    if protocol.outcome is not ProtocolOutcome.FINE or protocol.amount_minor is None:
        return None
    # Floor division: a fraction of a tiyn is rounded down, in the payer's favour.
    return protocol.amount_minor * (100 - discount_percent) // 100


class RoadsideCashier:
    def __init__(
        self,
        *,
        identity: TerminalIdentity,
        key: DeviceKey,
        store: RoadsideStore,
        journal: Journal,
        device: PaymentDevice,
        receipt_printer: ReceiptPrinter,
        clock: Callable[[], datetime],
        discount_percent: int,
        send: Callable[[], int],
    ) -> None:
        """``send``: the desk's sync; the number of messages still waiting afterwards."""
        self._identity = identity
        self._key = key
        self._store = store
        self._journal = journal
        self._device = device
        self._receipt_printer = receipt_printer
        self._clock = clock
        self._discount_percent = discount_percent
        self._send = send

    def pay(
        self, protocol_id: UUID, payment_id: UUID, language: Language | None = None
    ) -> PaymentResult:
        """The on-the-spot amount for the protocol's case, by card, with no network needed: the
        protocol stands whatever the card does, and a declined card can pay later."""
        key = str(payment_id)
        journalled = self._store.protocol(str(protocol_id))
        if journalled is None:
            raise SpokenError(
                Text("There is no protocol %(id)s on this terminal.", id=str(protocol_id))
            )
        protocol = journalled.signed.protocol
        number = protocol.protocol_number
        earlier = self._journal.payment(key)
        if earlier is not None:
            return PaymentResult(
                key,
                earlier.state,
                earlier.message or Text("This payment was already processed."),
                number,
                earlier.amount_minor,
            )
        due = on_the_spot_minor(protocol, self._discount_percent)
        if due is None:
            return PaymentResult(
                key,
                PaymentState.NOT_CHARGED,
                Text("Protocol %(number)s is a warning: there is nothing to pay.", number=number),
                number,
            )
        paid = self._journal.approved_for_case(number)
        if paid is not None:
            return PaymentResult(
                key,
                PaymentState.NOT_CHARGED,
                Text(
                    "Case %(case)s was already paid on this terminal (RRN %(rrn)s). Nothing was"
                    " charged.",
                    case=number,
                    rrn=paid.rrn or "",
                ),
                number,
            )
        if not self._journal.start(key, number, due, self._clock()):
            return self.pay(protocol_id, payment_id, language)
        charge = self._device.charge(ChargeRequest(key, due))
        if charge.approved:
            return self._approve(journalled, key, due, charge, language)
        if not charge.state.final:  # the answer lost: the device's own words (do not retake)
            return PaymentResult(key, charge.state, charge.message, number, due)
        return PaymentResult(
            key,
            charge.state,
            Text(
                "%(outcome)s Protocol %(number)s stands; the driver can pay later.",
                outcome=charge.message,
                number=number,
            ),
            number,
            due,
        )

    def _approve(
        self,
        journalled: JournalledProtocol,
        key: str,
        due: int,
        charge: Charge,
        language: Language | None,
    ) -> PaymentResult:
        assert charge.card is not None and charge.acquirer is not None
        protocol = journalled.signed.protocol
        number = protocol.protocol_number
        paid_at = self._clock()
        report = Payment(
            payment_id=UUID(key),
            case_number=number,
            amount_minor=due,
            paid_at=paid_at,
            channel=PaymentChannel.TERMINAL,
            card=charge.card,
            acquirer=charge.acquirer,
        )
        envelope = seal(MessageKind.PAYMENT, self._identity.device_id, report, self._key)
        # The report first (idempotent by payment id): it goes to the registry only after the
        # protocol (store.outgoing), never through the camera cases' outbox, which knows no
        # order. A crash before the journal's update below leaves the payment in doubt, and
        # ``settle_pending`` finishes it.
        self._store.queue_payment(key, journalled.protocol_id, encode_envelope(envelope), paid_at)
        self._journal.update(
            key,
            PaymentState.APPROVED,
            paid_at,
            paid_at=paid_at.isoformat(),
            masked_pan=charge.card.masked_pan,
            scheme=charge.card.scheme,
            aid=charge.card.aid,
            approval_code=charge.acquirer.approval_code,
            rrn=charge.acquirer.rrn,
            stan=charge.acquirer.stan,
        )
        self._journal.disarm_reversal(key)
        receipt = self._receipt(protocol, key)
        message = print_approved_receipt(
            self._receipt_printer,
            receipt,
            language or journalled.language,  # type: ignore[arg-type]
        )
        reported = self._send() == 0
        return PaymentResult(key, PaymentState.APPROVED, message, number, due, receipt, reported)

    def settle_pending(self) -> list[PaymentResult]:
        """At start-up, BEFORE the payment terminal's own ``settle_pending`` (which looks camera
        cases up in the registry, where an offline protocol's case is not yet): finish the
        device's reversals and settle the roadside payments whose outcome was never recorded
        (a crash, an answer lost), by asking the device, never by charging again."""
        self._device.settle_pending()
        settled: list[PaymentResult] = []
        for row in self._journal.in_doubt():
            journalled = self._store.protocol_by_number(row.case_number)
            if journalled is None:
                continue  # a camera case: the payment terminal's to settle
            charge = self._device.resolve(row.payment_id)
            if charge.approved:
                settled.append(
                    self._approve(journalled, row.payment_id, row.amount_minor, charge, None)
                )
            elif charge.state.final:
                settled.append(
                    PaymentResult(
                        row.payment_id,
                        charge.state,
                        charge.message,
                        row.case_number,
                        row.amount_minor,
                    )
                )
        return settled

    def _receipt(self, protocol: RoadsideProtocol, payment_id: str) -> ReceiptData:
        row = self._journal.payment(payment_id)
        assert row is not None and protocol.amount_minor is not None
        return receipt_for(
            self._identity,
            row,
            case_number=protocol.protocol_number,
            legal_basis=Text(
                "CoAO RK art. %(article)s part %(part)s",
                article=protocol.article,
                part=protocol.part,
            ),
            full_minor=protocol.amount_minor,
            discounted_minor=row.amount_minor,
            case_url=case_url(self._identity.case_url_template, protocol.protocol_number),
        )
