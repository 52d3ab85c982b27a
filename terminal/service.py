"""The officer's payment flow: find the case, charge the amount the registry says is due,
print the receipt, report the payment to the registry.

Outcomes are ``i18n.Text`` sentences, shown later in the officer's language; the receipt is
printed in the payer's (``pay(..., language=...)``), the terminal's configured one otherwise.

Idempotency: the officer's screen generates one payment id per payment attempt. The journal
accepts a payment id once, so a double tap or a retry returns the first outcome without
touching the card; the report's message id is the payment id, so the registry stores it once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from contract import (
    DeviceKey,
    MessageKind,
    Payment,
    PaymentChannel,
    ReceiptStatus,
    encode_envelope,
    seal,
)
from i18n import FALLBACK_LANGUAGE, N_, Language, Message, Text
from terminal.journal import Journal, PaymentRow, PaymentState
from terminal.messages import SpokenError
from terminal.payment_device import Charge, ChargeRequest, PaymentDevice
from terminal.receipt import Agency, PrinterUnavailable, ReceiptData, ReceiptPrinter
from terminal.registry_client import (
    CaseForPayment,
    RegistryClient,
    RegistryUnavailable,
    case_status,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TerminalIdentity:
    device_id: str  # as registered in the registry
    terminal_id: str  # the acquirer's DE41
    agency: Agency  # one name, or one per receipt language
    case_url_template: str  # e.g. https://erap.kz/cases/{case_number}


@dataclass(frozen=True)
class PaymentResult:
    payment_id: str
    state: PaymentState
    message: Message  # for the officer, rendered in his language
    case_number: str
    amount_minor: int = 0
    receipt: ReceiptData | None = None
    reported: bool = False

    @property
    def charged(self) -> bool:
        return self.state is PaymentState.APPROVED


# A payment's state as the officer reads it after "Payment <id>:".
PAYMENT_STATES: dict[PaymentState, str] = {
    PaymentState.STARTED: N_("started, the card not yet read"),
    PaymentState.AUTHORISING: N_("outcome not known yet"),
    PaymentState.APPROVED: N_("approved"),
    PaymentState.NOT_CHARGED: N_("not charged"),
    PaymentState.REVERSING: N_("being cancelled with the bank"),
    PaymentState.REVERSED: N_("cancelled with the bank"),
}


def payment_state(state: PaymentState) -> Text:
    return Text(PAYMENT_STATES[state])


class Refused(SpokenError):
    """The officer asked for something the terminal cannot do; nothing was charged."""


ALREADY_PROCESSED = Text("This payment was already processed.")


class PaymentTerminal:
    def __init__(
        self,
        *,
        identity: TerminalIdentity,
        key: DeviceKey,
        registry: RegistryClient,
        device: PaymentDevice,
        printer: ReceiptPrinter,
        journal: Journal,
        clock: Callable[[], datetime],
        language: Language = FALLBACK_LANGUAGE,
    ) -> None:
        """``language``: the receipt's when the payer chose none (the configuration's)."""
        self._identity = identity
        self._language: Language = language
        self._key = key
        self._registry = registry
        self._device = device
        self._printer = printer
        self._journal = journal
        self._clock = clock

    def find_cases(
        self, *, case_number: str = "", plate: str = "", iin: str = ""
    ) -> list[CaseForPayment]:
        if case_number:
            return self._registry.case(case_number)
        if plate:
            return self._registry.cases_by_plate(plate)
        if iin:
            return self._registry.cases_by_iin(iin)
        raise Refused(Text("Search by case number, plate or IIN."))

    def settle_pending(self) -> list[PaymentResult]:
        """At start-up and periodically: resend due reversals, settle charges in doubt (a
        crash, an answer lost on the way), send queued reports. The settled payments."""
        self._device.settle_pending()
        settled: list[PaymentResult] = []
        for row in self._journal.in_doubt():
            charge = self._device.resolve(row.payment_id)
            if charge.approved:
                (case,) = self._registry.case(row.case_number)
                settled.append(
                    self._complete(row.payment_id, case, row.amount_minor, charge, self._language)
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
        self.flush_reports()
        return settled

    def pay(
        self, case_number: str, payment_id: UUID, language: Language | None = None
    ) -> PaymentResult:
        """``language``: the receipt's, as the payer chose it (the terminal's otherwise)."""
        key = str(payment_id)
        earlier = self._journal.payment(key)
        if earlier is not None:  # a double tap or a retry: the first outcome stands
            return PaymentResult(
                key,
                earlier.state,
                earlier.message or ALREADY_PROCESSED,
                earlier.case_number,
                earlier.amount_minor,
            )
        cases = self._registry.case(case_number)
        if not cases:
            return PaymentResult(
                key,
                PaymentState.NOT_CHARGED,
                Text("There is no case %(case)s in the registry.", case=case_number),
                case_number,
            )
        case = cases[0]
        paid_here = self._journal.approved_for_case(case.case_number)
        if paid_here is not None:
            return PaymentResult(
                key,
                PaymentState.NOT_CHARGED,
                Text(
                    "Case %(case)s was already paid on this terminal (RRN %(rrn)s). Nothing was"
                    " charged.",
                    case=case.case_number,
                    rrn=paid_here.rrn or "",
                ),
                case.case_number,
            )
        due = case.amount_due_now_minor
        if due <= 0:
            return PaymentResult(
                key,
                PaymentState.NOT_CHARGED,
                Text(
                    "Nothing is due on case %(case)s (status: %(status)s).",
                    case=case.case_number,
                    status=case_status(case.status),
                ),
                case.case_number,
            )
        if not self._journal.start(key, case.case_number, due, self._clock()):
            return self.pay(case_number, payment_id, language)
        charge = self._device.charge(ChargeRequest(key, due))
        if not charge.approved:
            return PaymentResult(key, charge.state, charge.message, case.case_number, due)
        return self._complete(key, case, due, charge, language or self._language)

    def _complete(
        self, key: str, case: CaseForPayment, amount: int, charge: Charge, language: Language
    ) -> PaymentResult:
        assert charge.card is not None and charge.acquirer is not None
        paid_at = self._clock()
        payment = Payment(
            payment_id=UUID(key),
            case_number=case.case_number,
            amount_minor=amount,
            paid_at=paid_at,
            channel=PaymentChannel.TERMINAL,
            card=charge.card,
            acquirer=charge.acquirer,
        )
        envelope = encode_envelope(
            seal(MessageKind.PAYMENT, self._identity.device_id, payment, self._key)
        )
        self._journal.approve_and_queue(
            key,
            envelope,
            paid_at,
            paid_at=paid_at.isoformat(),
            masked_pan=charge.card.masked_pan,
            scheme=charge.card.scheme,
            aid=charge.card.aid,
            approval_code=charge.acquirer.approval_code,
            rrn=charge.acquirer.rrn,
            stan=charge.acquirer.stan,
        )
        row = self._journal.payment(key)
        assert row is not None
        receipt = self._receipt(row, case)
        message = print_approved_receipt(self._printer, receipt, language)
        reported = self.flush_reports() == 0
        if not reported:
            message = Text(
                "%(outcome)s The registry has not confirmed the payment yet: it stays queued.",
                outcome=message,
            )
        log.info("payment %s approved for case %s", key, case.case_number)
        return PaymentResult(
            key, PaymentState.APPROVED, message, case.case_number, amount, receipt, reported
        )

    def _receipt(self, row: PaymentRow, case: CaseForPayment) -> ReceiptData:
        return receipt_for(
            self._identity,
            row,
            case_number=case.case_number,
            legal_basis=case.legal_basis,
            full_minor=case.full_minor,
            discounted_minor=case.discounted_minor,
            case_url=self._identity.case_url_template.format(case_number=case.case_number),
        )

    def reprint(self, payment_id: UUID, language: Language | None = None) -> ReceiptData:
        """Print the receipt of an approved payment again (paper jam, printer off), in the
        language asked for (the payer may ask for the other one)."""
        row = self._journal.payment(str(payment_id))
        if row is None or row.state is not PaymentState.APPROVED:
            raise Refused(
                Text("Payment %(payment)s was not approved on this terminal.", payment=payment_id)
            )
        (case,) = self._registry.case(row.case_number)
        receipt = self._receipt(row, case)
        self._printer.print_receipt(receipt, language or self._language)
        return receipt

    def flush_reports(self) -> int:
        """Send queued payment reports; the number still undelivered."""
        pending = self._journal.undelivered()
        left = 0
        for message_id, envelope in pending:
            try:
                status = self._registry.submit(envelope)
            except RegistryUnavailable as exc:
                log.warning("payment report %s not delivered: %s", message_id, exc)
                self._journal.delivery_failed(message_id)
                left += 1
                continue
            if status in (ReceiptStatus.STORED, ReceiptStatus.DUPLICATE):
                self._journal.delivered(message_id, self._clock())
            else:
                log.error("the registry answered %s to payment report %s", status, message_id)
                self._journal.delivery_failed(message_id)
                left += 1
        return left


def receipt_for(
    identity: TerminalIdentity,
    row: PaymentRow,
    *,
    case_number: str,
    legal_basis: Message,
    full_minor: int,
    discounted_minor: int,
    case_url: str,
) -> ReceiptData:
    """The receipt of the approved payment ``row`` (a camera case's or a roadside
    protocol's): the card and acquirer's facts as journalled, the case's as given."""
    assert row.paid_at is not None
    return ReceiptData(
        agency=identity.agency,
        terminal_id=identity.terminal_id,
        paid_at=datetime.fromisoformat(row.paid_at),
        masked_pan=row.masked_pan or "",
        scheme=row.scheme or "",
        aid=row.aid or "",
        amount_minor=row.amount_minor,
        approval_code=row.approval_code or "",
        rrn=row.rrn or "",
        stan=row.stan or "",
        case_number=case_number,
        legal_basis=legal_basis,
        full_minor=full_minor,
        discounted_minor=discounted_minor,
        case_url=case_url,
    )


def print_approved_receipt(
    printer: ReceiptPrinter, receipt: ReceiptData, language: Language
) -> Message:
    """Print an approved payment's receipt; what to tell the officer (a printer that failed
    is named: the payment stands, the receipt can be printed again)."""
    try:
        printer.print_receipt(receipt, language)
    except PrinterUnavailable as exc:
        return Text("Approved. %(printer)s", printer=exc.text)
    return Text("Approved. Give the payer the receipt.")
