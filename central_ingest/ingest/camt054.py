"""A bank's daily statement of payments received, ISO 20022 camt.054.001.08
(BankToCustomerDebitCreditNotificationV08): checked against the published schema, then read
into one ``StatementLine`` per payment credited to the registry's account.

The file is parsed here with expat rather than handed to the validator as bytes, for two
reasons: every element's line is remembered, so a refusal names the line a bank's technician
must look at (the standard library's ElementTree keeps no line numbers), and a document type
declaration is refused outright, so no entity can expand (billion laughs) or reach outside.
The schema (``iso20022/camt.054.001.08.xsd``, see the NOTICE there) is read once per process.

What counts of the statement: booked (``BOOK``) credit (``CRDT``) entries; each transaction of
an entry is a payment, with its amount (the transaction's, else the entry's when it holds one
transaction), the currency (KZT only), the booking date (a date alone counts from 00:00 in
Astana, in the payer's favour for the 50% window), the bank's reference of the payment
(``AcctSvcrRef`` of the transaction, else of the entry: the reference the bank's notification
gave) and the case number: the first one found in the unstructured remittance text, else the
end-to-end id. Debits and entries not yet booked are counted and left aside.
"""

from __future__ import annotations

import functools
import hashlib
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from xml.parsers import expat

import xmlschema

from central_ingest.core.clock import KAZAKHSTAN_TIME
from central_ingest.core.errors import InvalidInput
from central_ingest.core.reconciliation import case_number_in
from i18n.text import Text

NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:camt.054.001.08"
SCHEMA_PATH = Path(__file__).with_name("iso20022") / "camt.054.001.08.xsd"
CURRENCY = "KZT"
TIYN_PER_KZT = 100
_NS = {"c": NAMESPACE}


class StatementRefused(InvalidInput):
    """The file is not a camt.054.001.08 statement the registry can import: nothing of it is."""


@dataclass(frozen=True)
class StatementLine:
    """One payment of the statement. ``case_number`` is None when the payer gave none the
    registry can read (the payment is still kept, as for an unknown case)."""

    line: int
    reference: str
    amount_minor: int
    currency: str
    booked_at: datetime
    case_number: str | None
    remittance: str
    payload: str

    @property
    def payload_sha256(self) -> str:
        return hashlib.sha256(self.payload.encode("utf-8")).hexdigest()


@dataclass
class Statement:
    message_id: str
    file_sha256: str
    lines: list[StatementLine] = field(default_factory=list)
    left_aside: int = 0


@functools.cache
def _schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(SCHEMA_PATH))


def _refused(line: int | None, problem: str) -> StatementRefused:
    if line is None:
        return StatementRefused(
            "statement_refused",
            Text(
                "The statement file is refused: %(problem)s. Nothing was imported.", problem=problem
            ),
        )
    return StatementRefused(
        "statement_refused",
        Text(
            "The statement file is refused at line %(line)s: %(problem)s. Nothing was imported.",
            line=line,
            problem=problem,
        ),
    )


def _parse(data: bytes) -> tuple[ET.Element, dict[int, int]]:
    """The document's tree and each element's line (by ``id``), refusing any DTD."""
    builder = ET.TreeBuilder()
    lines: dict[int, int] = {}
    parser = expat.ParserCreate(namespace_separator="}")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def start(tag: str, attributes: dict[str, str]) -> None:
        element = builder.start(_clark(tag), {_clark(k): v for k, v in attributes.items()})
        lines[id(element)] = parser.CurrentLineNumber

    def doctype(*_: object) -> None:
        raise _refused(parser.CurrentLineNumber, "a document type declaration is not allowed")

    parser.StartElementHandler = start
    parser.EndElementHandler = lambda tag: builder.end(_clark(tag))
    parser.CharacterDataHandler = builder.data
    parser.StartDoctypeDeclHandler = doctype
    parser.buffer_text = True
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        problem = f"it is not well-formed XML ({expat.ErrorString(exc.code)})"
        raise _refused(exc.lineno, problem) from None
    return builder.close(), lines


def _clark(name: str) -> str:
    """expat's ``namespace}local`` as ElementTree's ``{namespace}local``."""
    return "{" + name if "}" in name else name


def read_statement(data: bytes) -> Statement:
    """Check ``data`` against the camt.054.001.08 schema and read its payments; refused with
    the first problem and its line when the file is not one."""
    root, lines = _parse(data)
    if root.tag != f"{{{NAMESPACE}}}Document":
        raise _refused(
            1, f"the document is not a camt.054.001.08 statement (namespace {NAMESPACE})"
        )
    for error in _schema().iter_errors(root):
        element = error.elem
        line = None if element is None else lines.get(id(element))
        path = (error.path or "").replace(f"{{{NAMESPACE}}}", "")
        where = f" ({path})" if path else ""
        raise _refused(line, f"{error.reason or error.message}{where}")
    message_id = _text(root, "c:BkToCstmrDbtCdtNtfctn/c:GrpHdr/c:MsgId")
    statement = Statement(message_id=message_id, file_sha256=hashlib.sha256(data).hexdigest())
    for entry in root.iterfind("c:BkToCstmrDbtCdtNtfctn/c:Ntfctn/c:Ntry", _NS):
        if _text(entry, "c:CdtDbtInd") != "CRDT" or _text(entry, "c:Sts/c:Cd") != "BOOK":
            statement.left_aside += 1
            continue
        statement.lines.extend(_entry_lines(entry, lines))
    return statement


def _entry_lines(entry: ET.Element, lines: dict[int, int]) -> list[StatementLine]:
    line = lines.get(id(entry), 0)
    booked_at = _booking_time(entry, line)
    transactions = entry.findall("c:NtryDtls/c:TxDtls", _NS) or [entry]
    read = []
    for transaction in transactions:
        tx_line = lines.get(id(transaction), line)
        amount = transaction.find("c:Amt", _NS)
        if amount is None:
            if len(transactions) > 1:
                raise _refused(tx_line, "a transaction of a batch entry has no amount of its own")
            amount = entry.find("c:Amt", _NS)
        assert amount is not None  # the schema requires the entry's amount
        currency = amount.get("Ccy", "")
        if currency != CURRENCY:
            raise _refused(
                tx_line,
                f"the payment is in {currency}; the registry's account takes {CURRENCY} only",
            )
        reference = _optional(transaction, "c:Refs/c:AcctSvcrRef") or _optional(
            entry, "c:AcctSvcrRef"
        )
        if reference is None:
            raise _refused(
                tx_line, "the payment has no bank reference (AcctSvcrRef) to recognise it by"
            )
        remittance = " ".join(
            (element.text or "").strip()
            for element in transaction.iterfind("c:RmtInf/c:Ustrd", _NS)
        ).strip()
        end_to_end = _optional(transaction, "c:Refs/c:EndToEndId") or ""
        case_number = case_number_in(remittance) or case_number_in(end_to_end)
        read.append(
            StatementLine(
                line=tx_line,
                reference=reference,
                amount_minor=_minor(amount.text or "", tx_line),
                currency=currency,
                booked_at=booked_at,
                case_number=case_number,
                remittance=remittance or end_to_end,
                payload=ET.tostring(transaction, encoding="unicode"),
            )
        )
    return read


def _booking_time(entry: ET.Element, line: int) -> datetime:
    stamp = _optional(entry, "c:BookgDt/c:DtTm")
    if stamp is not None:
        moment = datetime.fromisoformat(stamp)
        # A time without an offset is the bank's, in Astana.
        return moment if moment.tzinfo else moment.replace(tzinfo=KAZAKHSTAN_TIME)
    day = _optional(entry, "c:BookgDt/c:Dt")
    if day is None:
        raise _refused(line, "a booked entry has no booking date (BookgDt)")
    return datetime.combine(date.fromisoformat(day), time(0, 0), tzinfo=KAZAKHSTAN_TIME)


def _minor(text: str, line: int) -> int:
    try:
        minor = Decimal(text.strip()) * TIYN_PER_KZT
    except InvalidOperation:
        raise _refused(line, f"{text!r} is not an amount") from None
    if minor != minor.to_integral_value() or minor <= 0:
        raise _refused(line, f"{text} KZT is not a positive amount in whole tiyn")
    return int(minor)


def _optional(element: ET.Element, path: str) -> str | None:
    found = element.find(path, _NS)
    if found is None or not (found.text or "").strip():
        return None
    return (found.text or "").strip()


def _text(element: ET.Element, path: str) -> str:
    return _optional(element, path) or ""
