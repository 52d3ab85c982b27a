"""A bank's side of payments made elsewhere, for the tests: its Ed25519 key and institution
entry for ``[bank_payments]``, and camt.054.001.08 statement files written as a Kazakh bank
would write them (one booked credit entry per payment, the case number in the remittance
text)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

from contract import DeviceKey

NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:camt.054.001.08"


@dataclass
class Bank:
    institution: str = "halyk"
    channel: str = "bank"
    key: DeviceKey = field(default_factory=DeviceKey.generate)

    def entry(self) -> dict[str, Any]:
        """This bank as a ``[[bank_payments.institutions]]`` entry."""
        return {
            "id": self.institution,
            "channel": self.channel,
            "public_key": self.key.public_key_b64,
            "name": self.institution.title(),
        }


@dataclass(frozen=True)
class Line:
    reference: str
    amount_minor: int
    remittance: str
    booked: date = date(2025, 3, 10)
    credit: bool = True
    currency: str = "KZT"


def statement_xml(message_id: str, lines: list[Line]) -> bytes:
    """A camt.054.001.08 document with one entry per line."""
    entries = "".join(_entry(line) for line in lines)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="{NAMESPACE}">
  <BkToCstmrDbtCdtNtfctn>
    <GrpHdr>
      <MsgId>{escape(message_id)}</MsgId>
      <CreDtTm>2025-03-10T23:30:00+05:00</CreDtTm>
    </GrpHdr>
    <Ntfctn>
      <Id>{escape(message_id)}-1</Id>
      <Acct><Id><IBAN>KZ86125KZT5004100100</IBAN></Id></Acct>
{entries}    </Ntfctn>
  </BkToCstmrDbtCdtNtfctn>
</Document>
""".encode()


def _entry(line: Line) -> str:
    amount = f"{Decimal(line.amount_minor) / 100:.2f}"
    indicator = "CRDT" if line.credit else "DBIT"
    return f"""      <Ntry>
        <Amt Ccy="{line.currency}">{amount}</Amt>
        <CdtDbtInd>{indicator}</CdtDbtInd>
        <Sts><Cd>BOOK</Cd></Sts>
        <BookgDt><Dt>{line.booked.isoformat()}</Dt></BookgDt>
        <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>DMCT</SubFmlyCd></Fmly></Domn></BkTxCd>
        <NtryDtls>
          <TxDtls>
            <Refs><AcctSvcrRef>{escape(line.reference)}</AcctSvcrRef></Refs>
            <Amt Ccy="{line.currency}">{amount}</Amt>
            <RmtInf><Ustrd>{escape(line.remittance)}</Ustrd></RmtInf>
          </TxDtls>
        </NtryDtls>
      </Ntry>
"""
