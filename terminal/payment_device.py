"""How the card is charged, behind one interface (``PaymentDevice``) with two implementations
selected by configuration: ``EmvAcquirerDevice`` (this terminal's own EMV kernel over PC/SC and
ISO 8583 to the acquirer) and the bank's certified POS driven over its ECR link.

The EMV path owns its reversals: one is written to the journal before the 0200 leaves, and is
sent (and resent until the bank acknowledges it) when the bank does not answer in time or the
card refuses the bank's approval.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Protocol

from contract import AcquirerRefs, CardData
from i18n import Message, Text
from terminal import iso8583
from terminal.acquirer_link import AcquirerLink, AcquirerRefused, AcquirerUnavailable
from terminal.emv import ApduChannel, CardError, Cryptogram, EmvKernel, FirstAc, TerminalParams
from terminal.journal import Journal, PaymentState

log = logging.getLogger(__name__)
ASTANA = timezone(timedelta(hours=5))


@dataclass(frozen=True)
class ChargeRequest:
    payment_id: str
    amount_minor: int


@dataclass(frozen=True)
class Charge:
    """The outcome at the card and the bank. ``approved``: the money moved and stands."""

    approved: bool
    state: PaymentState
    message: Message  # for the officer
    card: CardData | None = None
    acquirer: AcquirerRefs | None = None


class PaymentDevice(Protocol):
    def charge(self, request: ChargeRequest) -> Charge: ...

    def resolve(self, payment_id: str) -> Charge:
        """Settle a charge whose outcome was never recorded (a crash, a lost answer)."""

    def settle_pending(self) -> None:
        """Finish what earlier charges left open (reversals); safe to call at any time."""


@dataclass(frozen=True)
class MerchantIds:
    terminal_id: str  # DE41, 8 characters
    merchant_id: str  # DE42, 15 characters


CardOpener = Callable[[], AbstractContextManager[ApduChannel]]

NOT_ANSWERED = Text("The bank did not answer in time, so the payment was cancelled with the bank.")
APPROVED = Text("Approved.")
RESTARTED = Text(
    "The terminal restarted while the bank was authorising, so the payment was cancelled with"
    " the bank."
)


class EmvAcquirerDevice:
    def __init__(
        self,
        *,
        open_card: CardOpener,
        acquirer: AcquirerLink,
        journal: Journal,
        merchant: MerchantIds,
        clock: Callable[[], datetime],
        params: TerminalParams | None = None,
    ) -> None:
        self._open_card = open_card
        self._acquirer = acquirer
        self._journal = journal
        self._merchant = merchant
        self._clock = clock
        self._params = params or TerminalParams()

    def _fail(self, request: ChargeRequest, message: Message) -> Charge:
        self._journal.update(
            request.payment_id, PaymentState.NOT_CHARGED, self._clock(), message=message
        )
        return Charge(False, PaymentState.NOT_CHARGED, message)

    def charge(self, request: ChargeRequest) -> Charge:
        today = self._clock().astimezone(ASTANA).date()
        try:
            with self._open_card() as card:
                kernel = EmvKernel(card, self._params)
                first = kernel.first_ac(request.amount_minor, today, os.urandom(4))
                if first.cryptogram is Cryptogram.AAC:
                    return self._fail(
                        request,
                        Text(
                            "The card declined the payment: ask for another card."
                            " Nothing was charged."
                        ),
                    )
                return self._authorise(request, kernel, first)
        except CardError as exc:
            # Before authorisation nothing was sent to the bank; afterwards _authorise has
            # already dealt with the reversal and recorded the outcome.
            row = self._journal.payment(request.payment_id)
            if row is not None and row.state is PaymentState.STARTED:
                return self._fail(request, exc.text)
            raise

    def _authorise(self, request: ChargeRequest, kernel: EmvKernel, first: FirstAc) -> Charge:
        stan = self._journal.next_stan()
        sent_at = self._clock()
        self._journal.arm_reversal(request.payment_id, stan, sent_at, request.amount_minor, sent_at)
        auth = iso8583.Authorisation(
            stan=stan,
            transmitted_at=sent_at,
            local_time=sent_at.astimezone(ASTANA),
            amount_minor=request.amount_minor,
            terminal_id=self._merchant.terminal_id,
            merchant_id=self._merchant.merchant_id,
            pan=first.sensitive.pan,
            pan_sequence=first.pan_sequence,
            expiry=first.expiry,
            track2=first.sensitive.track2,
            chip_data=first.chip_data,
        )
        card = CardData(
            masked_pan=first.masked_pan,
            scheme=first.application.scheme,
            aid=first.application.aid,
        )
        try:
            answer = iso8583.authorisation_answer(
                self._acquirer.exchange(iso8583.financial_request(auth))
            )
        except AcquirerRefused as exc:
            # Refused during the TLS handshake: the bank never read the request.
            log.warning("payment %s: %s", request.payment_id, exc)
            self._journal.disarm_reversal(request.payment_id)
            with contextlib.suppress(CardError):
                kernel.second_ac(False, "Z3", b"")  # unable to go online
            return self._fail(request, exc.text)
        except (AcquirerUnavailable, iso8583.Iso8583Error) as exc:
            log.warning("payment %s: %s", request.payment_id, exc)
            with contextlib.suppress(CardError):
                kernel.second_ac(False, "Z3", b"")  # unable to go online
            return self._reverse(request, iso8583.REVERSAL_REASON_TIMEOUT, NOT_ANSWERED, card)
        if not answer.approved:
            self._journal.disarm_reversal(request.payment_id)
            with contextlib.suppress(CardError):
                kernel.second_ac(False, answer.response_code, answer.issuer_data)
            return self._fail(
                request,
                Text(
                    "The bank declined the card (response code %(code)s): ask for another"
                    " card. Nothing was charged.",
                    code=answer.response_code,
                ),
            )
        try:
            outcome = kernel.second_ac(True, answer.response_code, answer.issuer_data)
        except CardError:
            outcome = Cryptogram.AAC
        if outcome is not Cryptogram.TC:
            return self._reverse(
                request,
                iso8583.REVERSAL_REASON_CARD,
                Text(
                    "The card refused the bank's approval (or was removed), so the payment was"
                    " cancelled with the bank."
                ),
                card,
            )
        refs = AcquirerRefs(
            approval_code=answer.approval_code,
            rrn=answer.rrn,
            stan=stan,
            terminal_id=self._merchant.terminal_id,
        )
        self._journal.update(
            request.payment_id,
            PaymentState.AUTHORISING,
            self._clock(),
            masked_pan=card.masked_pan,
            scheme=card.scheme,
            aid=card.aid,
            approval_code=refs.approval_code,
            rrn=refs.rrn,
        )
        return Charge(True, PaymentState.APPROVED, APPROVED, card, refs)

    def _reverse(
        self, request: ChargeRequest, reason: str, cause: Message, card: CardData
    ) -> Charge:
        self._journal.update(
            request.payment_id,
            PaymentState.AUTHORISING,
            self._clock(),
            masked_pan=card.masked_pan,
            scheme=card.scheme,
            aid=card.aid,
        )
        self._journal.reversal_due(request.payment_id, reason, cause, self._clock())
        self.settle_pending()
        row = self._journal.payment(request.payment_id)
        if row is not None and row.state is PaymentState.REVERSED:
            return Charge(False, PaymentState.REVERSED, row.message or cause, card)
        message = Text(
            "%(cause)s The bank has not confirmed the cancellation yet: the terminal keeps"
            " resending it. If the payer sees a hold on the card, it will be released."
            " Do not take the payment again until the cancellation is confirmed.",
            cause=cause,
        )
        return Charge(False, PaymentState.REVERSING, message, card)

    def resolve(self, payment_id: str) -> Charge:
        """An EMV authorisation in doubt is undone: the card's second cryptogram is lost."""
        self._journal.reversal_due(
            payment_id,
            iso8583.REVERSAL_REASON_TIMEOUT,
            RESTARTED,
            self._clock(),
        )
        self.settle_pending()
        row = self._journal.payment(payment_id)
        assert row is not None
        return Charge(False, row.state, row.message or RESTARTED)

    def settle_pending(self) -> None:
        for reversal in self._journal.due_reversals():
            doc = iso8583.reversal_request(
                stan=reversal.stan,
                transmitted_at=reversal.transmitted_at,
                amount_minor=reversal.amount_minor,
                terminal_id=self._merchant.terminal_id,
                merchant_id=self._merchant.merchant_id,
                reason=reversal.reason,
            )
            try:
                answer = self._acquirer.exchange(doc)
            except (AcquirerUnavailable, iso8583.Iso8583Error) as exc:
                self._journal.reversal_failed(reversal.payment_id, str(exc))
                log.warning("reversal of payment %s not acknowledged: %s", reversal.payment_id, exc)
                continue
            if answer.get("t") != "0410":
                self._journal.reversal_failed(reversal.payment_id, f"answer {answer.get('t')}")
                continue
            row = self._journal.payment(reversal.payment_id)
            cause = row.message if row is not None else None
            confirmed = (
                Text("The bank confirmed the cancellation: nothing was charged.")
                if cause is None
                else Text(
                    "%(cause)s The bank confirmed the cancellation: nothing was charged.",
                    cause=cause,
                )
            )
            self._journal.reversal_acknowledged(reversal.payment_id, confirmed, self._clock())
            log.info("reversal of payment %s acknowledged", reversal.payment_id)
