"""ISO 8583 messages to the acquirer (pyiso8583, its default ASCII spec with DE55 binary):
the 0200 financial request with chip data, the 0400 reversal, and their answers.

A reversal carries no card number: it names the original by DE90 (MTI, STAN, transmission
time, acquirer) and the terminal id, so it can be stored durably without card data.
"""

from __future__ import annotations

import copy
import struct
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import iso8583
from iso8583.specs import default_ascii

SPEC: dict[str, dict[str, Any]] = copy.deepcopy(default_ascii)
SPEC["55"] = {**SPEC["55"], "data_enc": "b", "max_len": 255}

PROCESSING_PURCHASE = "000000"
POS_ENTRY_CHIP = "051"
CURRENCY_KZT = "398"
ACQUIRER_ID = "00000000398"  # this terminal's acquiring institution, DE32
APPROVED = "00"
REVERSAL_REASON_TIMEOUT = "68"  # response received too late
REVERSAL_REASON_CARD = "06"  # error: the card declined after the issuer approved


class Iso8583Error(ValueError):
    """The acquirer's answer is not a well-formed ISO 8583 message."""


@dataclass(frozen=True)
class Authorisation:
    stan: str
    transmitted_at: datetime  # UTC
    local_time: datetime
    amount_minor: int
    terminal_id: str
    merchant_id: str
    pan: str = field(repr=False)  # never in a log line or a traceback
    pan_sequence: str | None
    expiry: str  # YYMM
    track2: str = field(repr=False)
    chip_data: bytes


@dataclass(frozen=True)
class AuthorisationAnswer:
    response_code: str
    approval_code: str
    rrn: str
    issuer_data: bytes

    @property
    def approved(self) -> bool:
        return self.response_code == APPROVED


def original_data_elements(stan: str, transmitted_at: datetime) -> str:
    """DE90: the original MTI, STAN, transmission time, acquirer and forwarding institution."""
    return "0200" + stan + transmitted_at.strftime("%m%d%H%M%S") + ACQUIRER_ID + "0" * 11


def financial_request(auth: Authorisation) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "t": "0200",
        "2": auth.pan,
        "3": PROCESSING_PURCHASE,
        "4": f"{auth.amount_minor:012d}",
        "7": auth.transmitted_at.strftime("%m%d%H%M%S"),
        "11": auth.stan,
        "12": auth.local_time.strftime("%H%M%S"),
        "13": auth.local_time.strftime("%m%d"),
        "14": auth.expiry,
        "22": POS_ENTRY_CHIP,
        "25": "00",
        "32": ACQUIRER_ID,
        "35": auth.track2.replace("D", "="),
        "41": auth.terminal_id,
        "42": auth.merchant_id,
        "49": CURRENCY_KZT,
        "55": auth.chip_data.hex().upper(),  # pyiso8583 carries binary fields as hex
    }
    if auth.pan_sequence is not None:
        doc["23"] = auth.pan_sequence.rjust(3, "0")
    return doc


def reversal_request(
    *,
    stan: str,
    transmitted_at: datetime,
    amount_minor: int,
    terminal_id: str,
    merchant_id: str,
    reason: str,
) -> dict[str, Any]:
    return {
        "t": "0400",
        "3": PROCESSING_PURCHASE,
        "4": f"{amount_minor:012d}",
        "7": transmitted_at.strftime("%m%d%H%M%S"),
        "11": stan,
        "25": "00",
        "32": ACQUIRER_ID,
        "39": reason,
        "41": terminal_id,
        "42": merchant_id,
        "49": CURRENCY_KZT,
        "90": original_data_elements(stan, transmitted_at),
    }


def encode_frame(doc: dict[str, Any]) -> bytes:
    """The message with the 2-byte big-endian length header most acquirer links use."""
    raw, _ = iso8583.encode(dict(doc), SPEC)
    return struct.pack(">H", len(raw)) + bytes(raw)


def decode(raw: bytes) -> dict[str, Any]:
    try:
        doc, _ = iso8583.decode(bytearray(raw), SPEC)
    except iso8583.DecodeError as exc:
        raise Iso8583Error(f"the acquirer sent a malformed message: {exc}") from exc
    return dict(doc)


def authorisation_answer(doc: dict[str, Any]) -> AuthorisationAnswer:
    if doc.get("t") != "0210":
        raise Iso8583Error(f"expected an 0210 answer, got {doc.get('t')!r}")
    return AuthorisationAnswer(
        response_code=str(doc.get("39", "")),
        approval_code=str(doc.get("38", "")).strip(),
        rrn=str(doc.get("37", "")).strip(),
        issuer_data=bytes.fromhex(str(doc.get("55", ""))),
    )
