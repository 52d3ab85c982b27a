"""Payments made elsewhere: a bank's or eGov's signed notification of each payment, and the
day's statement file, both reconciled against the cases (``core.reconciliation``).

**The notification** is ``POST /v1/payments/notifications`` with a JSON body
(``PaymentNotification``, in ``ingest.bank_notifications`` with what follows) and four
headers: ``X-Erap-Institution`` (its id in ``[[bank_payments.institutions]]``),
``X-Erap-Timestamp`` (when it signed, ISO 8601 with an offset), ``X-Erap-Nonce`` (16 to 64
letters, digits, ``-`` or ``_``, never used twice) and ``X-Erap-Signature``: Ed25519, as the
registry's devices sign (``contract.signing``), over ``notification_signing_bytes``, the
canonical JSON of the method, the path, those three values and the SHA-256 of the exact body.
It is checked in this order, and a refusal changes nothing: the institution is known, the
timestamp reads, the signature matches, the timestamp is within ``replay_window_s`` of the
registry's clock, the body is a payment, the nonce was not used with another body.
A payment is known by the institution's reference: the same notification again answers what
the first one did, and the same reference with other facts is refused.

**The statement** (camt.054.001.08, ``ingest.camt054``) is imported whole or not at all, in
one transaction; its lines that the notifications already brought are duplicates, counted
once; a duplicate that disagrees on the amount or the case is flagged for a supervisor.
"""

from __future__ import annotations

import getpass
import hashlib
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from central_ingest.config import PayerInstitution, RegistryConfig
from central_ingest.core import reconciliation as recon
from central_ingest.core.clock import iso
from central_ingest.core.errors import Conflict, InvalidInput
from central_ingest.ingest.bank_notifications import (
    NONCE_PATTERN,
    NotificationRefused,
    notification_signing_bytes,
    parse_notification,
)
from central_ingest.ingest.camt054 import Statement, StatementLine, read_statement
from central_ingest.notify import outbox
from central_ingest.store import inbound_payments as inbound
from central_ingest.store.bailiffs import Issuer
from central_ingest.store.db import Database, Store
from contract import now_utc
from contract.signing import load_public_key, verify_signature
from i18n import N_
from i18n.text import Text

MAX_LIST = 1000

ProgressCallback = Callable[[str, int, int], None]
# Stages of a statement's import, shown by the command line's progress bar.
STAGE_CHECKING = N_("Checking the statement")
STAGE_RECONCILING = N_("Reconciling payments")


@dataclass(frozen=True)
class PaymentAnswer:
    """What became of a payment; ``duplicate``: it had been reported before, and this is what
    the first report did."""

    institution: str
    reference: str
    outcome: str
    case_number: str
    matched_case: str | None
    amount_minor: int
    due_minor: int | None
    refund_minor: int
    received_at: str
    duplicate: bool

    @classmethod
    def of(cls, row: Mapping[str, Any], *, duplicate: bool) -> PaymentAnswer:
        return cls(
            institution=row["institution"],
            reference=row["reference"],
            outcome=row["outcome"],
            case_number=row["case_number"],
            matched_case=row["matched_case"],
            amount_minor=int(row["amount_minor"]),
            due_minor=None if row["due_minor"] is None else int(row["due_minor"]),
            refund_minor=int(row["refund_minor"]),
            received_at=row["received_at"],
            duplicate=duplicate,
        )


@dataclass
class ImportSummary:
    institution: str
    message_id: str
    file_sha256: str
    already_imported: bool = False
    payments: int = 0
    new_payments: int = 0
    duplicates: int = 0
    discrepancies: int = 0
    left_aside: int = 0
    refund_minor: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)


class BankPayments:
    def __init__(
        self, store: Store, config: RegistryConfig, clock: Callable[[], datetime] = now_utc
    ) -> None:
        self._store = store
        self._config = config
        self._settings = config.bank_payments
        self._clock = clock
        self._institutions = {item.id: item for item in self._settings.institutions}
        self._issuer = Issuer(
            agency_code=config.agency_code, case_link_base_url=config.case_link_base_url
        )

    @property
    def max_notification_bytes(self) -> int:
        return self._settings.max_notification_bytes

    def institution(self, institution_id: str) -> PayerInstitution:
        found = self._institutions.get(institution_id)
        if found is None:
            raise NotificationRefused(
                "unknown_institution",
                Text(
                    "“%(institution)s” is not a bank or eGov service the registry takes payment"
                    " reports from: ask for it to be added to [bank_payments].",
                    institution=institution_id,
                ),
            )
        return found

    # --- notifications -----------------------------------------------------------------------

    def receive_notification(
        self, *, institution: str, timestamp: str, nonce: str, signature: str, body: bytes
    ) -> PaymentAnswer:
        """Verify a notification and record its payment once; refused with the reason, and
        nothing changed, when it is not what it claims."""
        payer = self.institution(institution)
        signed_at = self._signed_at(timestamp)
        if not NONCE_PATTERN.fullmatch(nonce):
            raise NotificationRefused(
                "nonce_invalid",
                Text("The nonce must be 16 to 64 letters, digits, “-” or “_”, used only once."),
            )
        body_sha256 = hashlib.sha256(body).hexdigest()
        data = notification_signing_bytes(
            institution=institution, timestamp=timestamp, nonce=nonce, body_sha256=body_sha256
        )
        if not verify_signature(load_public_key(payer.public_key), data, signature):
            raise NotificationRefused(
                "signature_invalid",
                Text(
                    "The signature does not match this notification and the key of %(institution)s:"
                    " it was not signed by the institution, or the body or headers changed on the"
                    " way.",
                    institution=institution,
                ),
            )
        now = self._clock()
        window = timedelta(seconds=self._settings.replay_window_s)
        if abs(now - signed_at) > window:
            raise NotificationRefused(
                "timestamp_outside_window",
                Text(
                    "The notification was signed at %(signed)s, more than %(seconds)s seconds"
                    " from the registry's clock (%(now)s): send it again, newly signed.",
                    signed=iso(signed_at),
                    seconds=self._settings.replay_window_s,
                    now=iso(now),
                ),
            )
        notification = parse_notification(body)
        if notification.paid_at > now + window:
            # The 50% window is judged by when the payment was made: a time still to come
            # would decide it wrongly, whoever sent it.
            raise InvalidInput(
                "paid_at_in_future",
                Text(
                    "The payment is dated %(paid)s, after the registry's clock (%(now)s): a"
                    " payment is reported once it is made.",
                    paid=iso(notification.paid_at),
                    now=iso(now),
                ),
            )
        report = inbound.PaymentReport(
            institution=institution,
            reference=notification.reference,
            channel=payer.channel,
            source=recon.Source.NOTIFICATION,
            case_number=notification.case_number,
            amount_minor=notification.amount_minor,
            currency=notification.currency,
            paid_at=notification.paid_at,
            payload=body.decode("utf-8"),
            payload_sha256=body_sha256,
        )
        # Deliveries racing each other are one after the other here: every write transaction
        # holds the ledger's lock (store/postgres/db.py), so the second finds the first's row.
        with self._store.transaction() as db:
            return self._record_notification(db, report, nonce, now, window)

    def _record_notification(
        self,
        db: Database,
        report: inbound.PaymentReport,
        nonce: str,
        now: datetime,
        window: timedelta,
    ) -> PaymentAnswer:
        institution, body_sha256 = report.institution, report.payload_sha256
        first_body = inbound.nonce_seen(db, institution, nonce)
        if first_body is not None and first_body != body_sha256:
            raise Conflict(
                "nonce_replayed",
                Text(
                    "Nonce %(nonce)s of %(institution)s was already used for another"
                    " notification: a nonce is used once; nothing was recorded.",
                    nonce=nonce,
                    institution=institution,
                ),
            )
        if first_body is None:
            inbound.keep_nonce(db, institution, nonce, body_sha256, now, window)
        known = inbound.inbound_payment(db, institution, report.reference)
        if known is None:
            row = inbound.record_inbound(
                db,
                report,
                received_at=now,
                statement_id=None,
                actor=f"institution:{institution}",
                issuer=self._issuer,
            )
            _tell_the_driver(db, row, now, self._config)
            return PaymentAnswer.of(row, duplicate=False)
        if known["payload_sha256"] != body_sha256:
            differing = recon.discrepancy(
                recon.ReportedFacts(
                    known["case_number"], int(known["amount_minor"]), known["currency"]
                ),
                report.facts,
            )
            if differing:
                raise Conflict(
                    "reference_conflict",
                    Text(
                        "Payment %(reference)s of %(institution)s was reported before with"
                        " another %(fields)s: a reference names one payment; nothing was"
                        " recorded.",
                        reference=report.reference,
                        institution=institution,
                        fields=", ".join(differing),
                    ),
                )
            inbound.note_reported_again(
                db, known, report, received_at=now, actor=f"institution:{institution}"
            )
        return PaymentAnswer.of(known, duplicate=True)

    @staticmethod
    def _signed_at(timestamp: str) -> datetime:
        try:
            moment = datetime.fromisoformat(timestamp)
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:
            raise NotificationRefused(
                "timestamp_invalid",
                Text(
                    "%(timestamp)s is not a time with its UTC offset (ISO 8601, e.g."
                    " 2025-03-10T11:00:00+05:00).",
                    timestamp=timestamp,
                ),
            )
        return moment

    # --- statements --------------------------------------------------------------------------

    def import_statement(
        self,
        data: bytes,
        institution: str,
        *,
        imported_by: str | None = None,
        progress: ProgressCallback | None = None,
    ) -> ImportSummary:
        """Check a camt.054 file against the schema and import every payment in it, in one
        transaction; a file that fails the schema is refused and nothing of it is kept. The
        same file again changes nothing; another file under the same message id is refused."""
        payer = self.institution(institution)
        if progress is not None:
            progress(STAGE_CHECKING, 0, 1)
        statement = read_statement(data)
        if progress is not None:
            progress(STAGE_CHECKING, 1, 1)
        summary = ImportSummary(institution, statement.message_id, statement.file_sha256)
        by = imported_by or f"system:{getpass.getuser()}"
        now = self._clock()
        with self._store.transaction() as db:
            earlier = inbound.statement_row(db, institution, statement.message_id)
            if earlier is not None:
                if earlier["file_sha256"] != statement.file_sha256:
                    raise Conflict(
                        "statement_conflict",
                        Text(
                            "Statement %(message)s of %(institution)s was imported on %(at)s from"
                            " another file: a bank's message id names one statement; nothing"
                            " was imported.",
                            message=statement.message_id,
                            institution=institution,
                            at=earlier["imported_at"],
                        ),
                    )
                summary.already_imported = True
                return summary
            new = self._new_lines(db, statement, institution)
            statement_id = inbound.add_statement(
                db,
                institution=institution,
                message_id=statement.message_id,
                file_sha256=statement.file_sha256,
                imported_at=now,
                imported_by=by,
                entries=len(statement.lines),
                new_payments=len(new),
                duplicates=len(statement.lines) - len(new),
            )
            total = len(statement.lines)
            for done, line in enumerate(statement.lines, start=1):
                self._import_line(db, payer, statement_id, line, line.line in new, now, summary)
                if progress is not None:
                    progress(STAGE_RECONCILING, done, total)
        summary.left_aside = statement.left_aside
        return summary

    @staticmethod
    def _new_lines(db: Database, statement: Statement, institution: str) -> set[int]:
        """The lines (by line number) that bring a payment for the first time: neither
        recorded already nor earlier in the same file."""
        seen: set[str] = set()
        new: set[int] = set()
        for line in statement.lines:
            if line.reference in seen:
                continue
            seen.add(line.reference)
            if inbound.inbound_payment(db, institution, line.reference) is None:
                new.add(line.line)
        return new

    def _import_line(
        self,
        db: Database,
        payer: PayerInstitution,
        statement_id: int,
        line: StatementLine,
        is_new: bool,
        now: datetime,
        summary: ImportSummary,
    ) -> None:
        report = inbound.PaymentReport(
            institution=payer.id,
            reference=line.reference,
            channel=payer.channel,
            source=recon.Source.STATEMENT,
            case_number=line.case_number or line.remittance[:40],
            amount_minor=line.amount_minor,
            currency=line.currency,
            paid_at=line.booked_at,
            payload=line.payload,
            payload_sha256=line.payload_sha256,
        )
        actor = f"statement:{payer.id}"
        summary.payments += 1
        if is_new:
            row = inbound.record_inbound(
                db,
                report,
                received_at=now,
                statement_id=statement_id,
                actor=actor,
                issuer=self._issuer,
            )
            _tell_the_driver(db, row, now, self._config)
            summary.new_payments += 1
            summary.outcomes[row["outcome"]] += 1
            summary.refund_minor += int(row["refund_minor"])
            return
        known = inbound.inbound_payment(db, payer.id, line.reference)
        assert known is not None
        summary.duplicates += 1
        if inbound.note_reported_again(db, known, report, received_at=now, actor=actor):
            summary.discrepancies += 1

    # --- supervisors' lists ------------------------------------------------------------------

    def exceptions(self, limit: int = 200) -> list[dict[str, Any]]:
        return inbound.exception_rows(self._store.db, _checked_limit(limit))

    def refunds(self, limit: int = 200) -> list[dict[str, Any]]:
        return inbound.refund_rows(self._store.db, _checked_limit(limit))


def _tell_the_driver(
    db: Database, row: Mapping[str, Any], now: datetime, config: RegistryConfig
) -> None:
    """THE call site of the driver's notice that a payment made elsewhere reached the case
    (``notify.outbox.queue_status_notice``, kind ``payment_received``: the notices' part of
    issue 16), in the payment's own transaction and only when the payment changed the case.
    Until that function exists, no notice is queued."""
    queue = getattr(outbox, "queue_status_notice", None)
    if queue is None or row["matched_case"] is None or row["outcome"] not in _CHANGES_CASE:
        return
    queue(
        db,
        row["matched_case"],
        "payment_received",
        now,
        config=config,
        amount_minor=int(row["amount_minor"]),
    )


_CHANGES_CASE = frozenset({recon.Outcome.MATCHED.value, recon.Outcome.WRONG_AMOUNT.value})


def _checked_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIST:
        raise InvalidInput(
            "invalid_limit", Text("List 1 to %(most)s payments at a time.", most=MAX_LIST)
        )
    return limit
