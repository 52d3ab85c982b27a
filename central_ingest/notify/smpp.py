"""SMS notices over SMPP 3.4 to the mobile operator's SMSC, with smpplib.

One session, bound as a transceiver, carries the submits and the delivery receipts. A text goes
out as ``core.sms.sms_parts`` cuts it: GSM 7-bit (data_coding 0x00) when every character is in
the GSM alphabet, UCS-2 (0x08) otherwise, each Cyrillic text in parts of 67 characters behind a
concatenation header (esm_class 0x40, 8-bit reference), so the handset shows one message. Every
part asks for a delivery receipt; ``send`` returns the SMSC's message id of each part, and the
receipts (deliver_sm, esm_class 0x04) that quote them come back through ``take_receipts``.

What the SMSC says decides what happens to the notice:

- ESME_RTHROTTLED and ESME_RMSGQFUL: wait (``throttle_backoff_s``, doubling) and submit the same
  part again, up to ``throttle_retries`` times, then leave the notice to the worker's next round;
- a refused number (ESME_RINVDSTADR ...): the notice fails at once, with the SMSC's reason;
- anything else, a lost connection, no answer within ``timeout_s``: the worker retries later.

Submits are paced at ``submits_per_s``, the rate in the operator's contract. Delivery is at least
once: a submit whose answer was lost is sent again, as with every channel (``notify.worker``).
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import random
import re
import select
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import smpplib.client
import smpplib.consts
import smpplib.exceptions
import smpplib.smpp

from central_ingest.config import SmppSettings
from central_ingest.core.sms import DATA_CODING, sms_parts
from central_ingest.notify.senders import (
    DeliveryError,
    Notification,
    NotificationSender,
    Receipt,
    ReceiptSource,
    Sent,
)
from contract import now_utc

log = logging.getLogger(__name__)

PROVIDER = "smpp"
ESME_ROK = 0x00
THROTTLED = {0x58: "ESME_RTHROTTLED", 0x14: "ESME_RMSGQFUL"}
PERMANENT = {
    0x0A: "ESME_RINVSRCADR (the sender name is not allowed)",
    0x0B: "ESME_RINVDSTADR (the number is not valid)",
    0x33: "ESME_RINVNUMDESTS",
    0x48: "ESME_RINVSRCTON",
    0x50: "ESME_RINVDSTTON",
    0x51: "ESME_RINVDSTNPI",
}
RECEIPT_ESM_CLASS = 0x04
UDHI = 0x40
FINAL_STATES = {
    "DELIVRD": True,
    "UNDELIV": False,
    "EXPIRED": False,
    "REJECTD": False,
    "DELETED": False,
    "UNKNOWN": False,
}
# message_state TLV values (SMPP 3.4 5.2.28), for an SMSC that sends no receipt text.
MESSAGE_STATES = {
    2: "DELIVRD",
    3: "EXPIRED",
    4: "DELETED",
    5: "UNDELIV",
    7: "UNKNOWN",
    8: "REJECTD",
}
_RECEIPT_TEXT = re.compile(r"id:(?P<id>\S+).*?stat:(?P<stat>\w+)(?:.*?err:(?P<err>\w+))?", re.S)
ENQUIRE_LINK_AFTER_S = 30.0
REBIND_AFTER_S = 30.0


class _Client(smpplib.client.Client):  # type: ignore[misc]
    """smpplib's client, with a way to wait for the socket to be readable."""

    def readable(self, timeout_s: float) -> bool:
        ready, _, _ = select.select([self._socket], [], [], max(0.0, timeout_s))
        return bool(ready)


def _text(value: Any) -> str:
    return value.decode("ascii", "replace") if isinstance(value, bytes) else str(value or "")


def _msisdn(recipient: str) -> str:
    number = recipient.strip().removeprefix("+")
    if not number.isdigit() or not 10 <= len(number) <= 15:
        raise DeliveryError(
            f"{recipient!r} is not an international phone number (+ and 10 to 15 digits)",
            retryable=False,
        )
    return number


def _udh(reference: int, total: int, sequence: int) -> bytes:
    """The concatenation header: IEI 0x00 (8-bit reference), 3 octets of data."""
    return bytes([0x05, 0x00, 0x03, reference, total, sequence])


class SmppSender(NotificationSender, ReceiptSource):
    def __init__(
        self,
        settings: SmppSettings,
        password: str,
        *,
        clock: Callable[[], datetime] = now_utc,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._settings = settings
        self._password = password
        self._clock = clock
        self._sleep = sleep
        self._client: _Client | None = None
        self._receipts: list[Receipt] = []
        self._references = itertools.cycle(range(256))
        for _ in range(random.randrange(256)):
            next(self._references)
        self._next_submit = 0.0
        self._last_activity = 0.0
        self._next_bind = 0.0

    # -- the session ------------------------------------------------------------------------

    def _session(self) -> _Client:
        if self._client is not None:
            return self._client
        s = self._settings
        client = _Client(s.host, s.port, timeout=s.timeout_s, allow_unknown_opt_params=True)
        try:
            client.connect()
            client.bind_transceiver(
                system_id=s.system_id, password=self._password, system_type=s.system_type
            )
        except smpplib.exceptions.PDUError as exc:
            client.disconnect()
            raise DeliveryError(
                f"the SMSC at {s.host}:{s.port} refused the bind as {s.system_id!r}: {exc}"
                " (check system_id and the password in the environment)",
                retryable=True,
            ) from exc
        except (smpplib.exceptions.ConnectionError, OSError) as exc:
            client.disconnect()
            raise DeliveryError(
                f"could not reach the SMSC at {s.host}:{s.port}: {exc or 'no answer'}",
                retryable=True,
            ) from exc
        log.info("bound to the SMSC at %s:%s as %s", s.host, s.port, s.system_id)
        self._client = client
        self._last_activity = time.monotonic()
        return client

    def _drop(self) -> None:
        if self._client is not None:
            with contextlib.suppress(OSError):
                self._client.disconnect()
            self._client = None

    def close(self) -> None:
        """Unbind and disconnect; the next send binds again."""
        if self._client is not None:
            with contextlib.suppress(
                smpplib.exceptions.PDUError, smpplib.exceptions.ConnectionError, OSError
            ):
                self._client.unbind()
            self._drop()

    # -- sending ----------------------------------------------------------------------------

    def send(self, notification: Notification) -> Sent:
        destination = _msisdn(notification.recipient)
        encoded = sms_parts(notification.body)
        data_coding = DATA_CODING[encoded.encoding]
        if len(encoded.parts) == 1:
            payloads, esm_class = encoded.parts, 0
        else:
            if len(encoded.parts) > 255:
                raise DeliveryError("the text needs more than 255 SMS parts", retryable=False)
            reference = next(self._references)
            total = len(encoded.parts)
            payloads = [
                _udh(reference, total, index) + part
                for index, part in enumerate(encoded.parts, start=1)
            ]
            esm_class = UDHI
        message_ids = tuple(
            self._submit(destination, payload, esm_class, data_coding, part, len(payloads))
            for part, payload in enumerate(payloads, start=1)
        )
        return Sent(PROVIDER, message_ids)

    def _pace(self) -> None:
        now = time.monotonic()
        if now < self._next_submit:
            self._sleep(self._next_submit - now)
        self._next_submit = max(now, self._next_submit) + 1.0 / self._settings.submits_per_s

    def _submit(
        self,
        destination: str,
        payload: bytes,
        esm_class: int,
        data_coding: int,
        part: int,
        parts: int,
    ) -> str:
        s = self._settings
        for attempt in range(s.throttle_retries + 1):
            self._pace()
            client = self._session()
            try:
                request = client.send_message(
                    source_addr_ton=s.source_addr_ton,
                    source_addr_npi=s.source_addr_npi,
                    source_addr=s.source_addr,
                    dest_addr_ton=smpplib.consts.SMPP_TON_INTL,
                    dest_addr_npi=smpplib.consts.SMPP_NPI_ISDN,
                    destination_addr=destination,
                    short_message=payload,
                    data_coding=data_coding,
                    esm_class=esm_class,
                    registered_delivery=smpplib.consts.SMPP_SMSC_DELIVERY_RECEIPT_BOTH,
                )
                response = self._response_to(client, request.sequence)
            except (
                smpplib.exceptions.ConnectionError,
                smpplib.exceptions.PDUError,
                OSError,
            ) as exc:
                self._drop()
                raise DeliveryError(
                    f"the SMSC connection failed while sending part {part} of {parts}:"
                    f" {exc or 'connection closed'}",
                    retryable=True,
                ) from exc
            status = int(response.status)
            if status == ESME_ROK:
                return _text(response.message_id)
            if status in THROTTLED:
                wait = s.throttle_backoff_s * (1 << attempt)
                log.info(
                    "SMSC answered %s; part %s of %s again in %.2f s",
                    THROTTLED[status],
                    part,
                    parts,
                    wait,
                )
                self._sleep(wait)
                continue
            if status in PERMANENT:
                raise DeliveryError(
                    f"the SMSC refused the message: {PERMANENT[status]}", retryable=False
                )
            description = smpplib.consts.DESCRIPTIONS.get(status, "unknown status")
            raise DeliveryError(
                f"the SMSC refused part {part} of {parts} with {status:#04x} ({description})",
                retryable=True,
            )
        raise DeliveryError(
            f"the SMSC was still throttling after {s.throttle_retries + 1} tries of part"
            f" {part} of {parts}; tried again later",
            retryable=True,
        )

    def _response_to(self, client: _Client, sequence: int) -> Any:
        """Read until the answer to ``sequence``, handling receipts and keep-alives met on the
        way. No answer within ``timeout_s`` drops the session (socket.timeout is an OSError)."""
        while True:
            pdu = client.read_pdu()
            self._last_activity = time.monotonic()
            if pdu.command == "submit_sm_resp" and int(pdu.sequence) == sequence:
                return pdu
            if pdu.command == "generic_nack" and int(pdu.sequence) == sequence:
                return pdu
            self._handle(client, pdu)

    # -- receipts ---------------------------------------------------------------------------

    def take_receipts(self, wait_s: float) -> list[Receipt]:
        """Also binds, when there is no session, so the receipts the SMSC held while the
        registry was away come in; an SMSC that is down is tried again after ``REBIND_AFTER_S``."""
        deadline = time.monotonic() + wait_s
        client = self._client
        if client is None and time.monotonic() >= self._next_bind:
            try:
                client = self._session()
            except DeliveryError as exc:
                self._next_bind = time.monotonic() + REBIND_AFTER_S
                log.warning("%s; listening for receipts again in %s s", exc, REBIND_AFTER_S)
        if client is None:
            self._sleep(wait_s)
        else:
            try:
                while True:
                    remaining = 0.0 if self._receipts else deadline - time.monotonic()
                    if not client.readable(remaining):
                        break
                    pdu = client.read_pdu()
                    self._last_activity = time.monotonic()
                    self._handle(client, pdu)
                if time.monotonic() - self._last_activity > ENQUIRE_LINK_AFTER_S:
                    client.send_pdu(smpplib.smpp.make_pdu("enquire_link", client=client))
                    self._last_activity = time.monotonic()
            except (
                smpplib.exceptions.ConnectionError,
                smpplib.exceptions.PDUError,
                OSError,
            ) as exc:
                # The SMSC keeps receipts it could not hand over until the next bind.
                log.warning("the SMSC session ended while waiting for receipts: %s", exc)
                self._drop()
        receipts, self._receipts = self._receipts, []
        return receipts

    def _handle(self, client: _Client, pdu: Any) -> None:
        if pdu.command == "deliver_sm":
            receipt = self._receipt(pdu)
            if receipt is not None:
                self._receipts.append(receipt)
            elif not int(pdu.esm_class or 0) & RECEIPT_ESM_CLASS:
                log.info(
                    "ignored a message sent to the registry's number by %s", _text(pdu.source_addr)
                )
            answer = smpplib.smpp.make_pdu("deliver_sm_resp", client=client)
            answer.sequence = pdu.sequence
            client.send_pdu(answer)
        elif pdu.command == "enquire_link":
            answer = smpplib.smpp.make_pdu("enquire_link_resp", client=client)
            answer.sequence = pdu.sequence
            client.send_pdu(answer)
        elif pdu.command == "unbind":
            raise smpplib.exceptions.ConnectionError("the SMSC unbound the session")
        elif pdu.command not in ("enquire_link_resp", "submit_sm_resp", "generic_nack"):
            log.warning("ignored an unexpected %s from the SMSC", pdu.command)

    def _receipt(self, pdu: Any) -> Receipt | None:
        """The final receipt a deliver_sm carries, or None (not a receipt, or not final)."""
        if not int(pdu.esm_class or 0) & RECEIPT_ESM_CLASS:
            return None
        raw = pdu.short_message or b""
        text = raw.decode("latin-1") if isinstance(raw, bytes) else str(raw)
        match = _RECEIPT_TEXT.search(text)
        message_id = _text(getattr(pdu, "receipted_message_id", None)) or (
            match.group("id") if match else ""
        )
        state = (
            match.group("stat")
            if match
            else MESSAGE_STATES.get(int(getattr(pdu, "message_state", None) or 0), "")
        )
        if not message_id or state not in FINAL_STATES:
            return None
        error = (match.group("err") if match else None) or ""
        return Receipt(PROVIDER, message_id, FINAL_STATES[state], state, error, self._clock(), text)
