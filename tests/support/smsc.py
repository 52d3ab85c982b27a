"""An SMSC simulator speaking SMPP 3.4 on TCP, run as its own process by the SMS tests.

It stands in for the mobile operator's short message service centre, which cannot exist here:
it binds ESMEs (transmitter, receiver, transceiver) against one system_id and password, answers
submit_sm with a message id, and a short time later sends a delivery receipt (deliver_sm with
esm_class 0x04 and the usual ``id:... stat:... err:...`` text, plus the receipted_message_id
and message_state TLVs) to a receiving session of that system_id, holding it until one binds,
as an operator does. The PDUs are written and read with ``struct``, independently of smpplib,
so the client's encoding is checked against a second implementation.

Behaviours the tests ask for on the command line:

- ``--undeliverable-prefix``: numbers starting so are accepted, then receipted UNDELIV;
- a destination that is not 10 to 15 digits, or starts with ``--invalid-prefix`` (a range no
  operator has), is refused with ESME_RINVDSTADR (0x0B);
- ``--throttle-every N``: every Nth submit_sm is refused with ESME_RTHROTTLED (0x58);
- ``--throttle-first N``: so are the first N;
- ``--queue-full-every N``: every Nth with ESME_RMSGQFUL (0x14);
- ``--max-per-s R``: submits beyond R in any one second are refused with ESME_RTHROTTLED.

Every submit_sm is written to ``--journal`` as one JSON line (accepted: its id, addresses,
data_coding, esm_class, concatenation header and decoded text; refused: the status), so a
test sees what a handset would have got. The listening port is printed as ``LISTENING <port>``.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import struct
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from central_ingest.core.sms import decode_sms

BIND_RECEIVER, BIND_TRANSMITTER, SUBMIT_SM, DELIVER_SM = 0x01, 0x02, 0x04, 0x05
UNBIND, BIND_TRANSCEIVER, ENQUIRE_LINK, GENERIC_NACK = 0x06, 0x09, 0x15, 0x80000000
RESP = 0x80000000
ESME_ROK, ESME_RINVCMDID, ESME_RINVBNDSTS, ESME_RINVDSTADR = 0x00, 0x03, 0x04, 0x0B
ESME_RMSGQFUL, ESME_RINVPASWD, ESME_RINVSYSID, ESME_RTHROTTLED = 0x14, 0x0E, 0x0F, 0x58
RECEIPTED_MESSAGE_ID, MESSAGE_STATE = 0x001E, 0x0427
STATE_DELIVERED, STATE_UNDELIVERABLE = 2, 5


def _cstring(body: bytes, at: int) -> tuple[str, int]:
    end = body.index(b"\0", at)
    return body[at:end].decode("latin-1"), end + 1


def pdu(command_id: int, status: int, sequence: int, body: bytes = b"") -> bytes:
    return struct.pack(">IIII", 16 + len(body), command_id, status, sequence) + body


def parse_submit(body: bytes) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    fields["service_type"], at = _cstring(body, 0)
    fields["source_ton"], fields["source_npi"] = body[at], body[at + 1]
    fields["source"], at = _cstring(body, at + 2)
    fields["dest_ton"], fields["dest_npi"] = body[at], body[at + 1]
    fields["destination"], at = _cstring(body, at + 2)
    fields["esm_class"], _protocol_id, _priority = body[at], body[at + 1], body[at + 2]
    _schedule, at = _cstring(body, at + 3)
    _validity, at = _cstring(body, at)
    fields["registered_delivery"], _replace = body[at], body[at + 1]
    fields["data_coding"], _default_msg_id, length = body[at + 2], body[at + 3], body[at + 4]
    fields["short_message"] = body[at + 5 : at + 5 + length]
    return fields


def receipt_body(message: dict[str, Any], delivered: bool, submitted: datetime) -> bytes:
    state, err = ("DELIVRD", "000") if delivered else ("UNDELIV", "001")
    stamp = "%y%m%d%H%M"
    text = (
        f"id:{message['message_id']} sub:001 dlvrd:{1 if delivered else 0:03d}"
        f" submit date:{submitted.strftime(stamp)} done date:{datetime.now(UTC).strftime(stamp)}"
        f" stat:{state} err:{err} text:"
    ).encode("ascii")
    tlvs = struct.pack(">HH", RECEIPTED_MESSAGE_ID, len(message["message_id"]) + 1)
    tlvs += message["message_id"].encode("ascii") + b"\0"
    tlvs += struct.pack(
        ">HHB", MESSAGE_STATE, 1, STATE_DELIVERED if delivered else STATE_UNDELIVERABLE
    )
    return (
        b"\0"  # service_type
        + bytes([1, 1])
        + message["destination"].encode("ascii")
        + b"\0"
        + bytes([message["source_ton"], message["source_npi"]])
        + message["source"].encode("ascii")
        + b"\0"
        + bytes([0x04, 0, 0])
        + b"\0"
        + b"\0"
        + bytes([0, 0, 0, 0, len(text)])
        + text
        + tlvs
    )


@dataclass
class Smsc:
    system_id: str
    password: str
    journal: Path
    receipt_delay_s: float
    undeliverable_prefix: str | None
    invalid_prefix: str | None
    throttle_every: int
    throttle_first: int
    queue_full_every: int
    max_per_s: float
    submits: int = 0
    message_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(0x1000))
    sequences: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    recent: deque[float] = field(default_factory=deque)
    receivers: list[asyncio.StreamWriter] = field(default_factory=list)
    held: list[bytes] = field(default_factory=list)

    def log(self, entry: dict[str, Any]) -> None:
        with self.journal.open("a", encoding="utf-8") as out:
            out.write(json.dumps(entry, ensure_ascii=False) + "\n")

    def refusal(self, message: dict[str, Any]) -> int:
        self.submits += 1
        now = time.monotonic()
        while self.recent and self.recent[0] <= now - 1.0:
            self.recent.popleft()
        destination = message["destination"]
        if (
            not destination.isdigit()
            or not 10 <= len(destination) <= 15
            or (self.invalid_prefix and destination.startswith(self.invalid_prefix))
        ):
            return ESME_RINVDSTADR
        if self.submits <= self.throttle_first or (
            self.throttle_every and self.submits % self.throttle_every == 0
        ):
            return ESME_RTHROTTLED
        if self.queue_full_every and self.submits % self.queue_full_every == 0:
            return ESME_RMSGQFUL
        if self.max_per_s and len(self.recent) >= self.max_per_s:
            return ESME_RTHROTTLED
        self.recent.append(now)
        return ESME_ROK

    def accept(self, message: dict[str, Any]) -> str:
        message_id = f"{next(self.message_ids):08X}"
        message["message_id"] = message_id
        data = message.pop("short_message")
        udh = None
        if message["esm_class"] & 0x40:
            header_length = data[0]
            header = data[1 : 1 + header_length]
            if header[0] == 0x00:  # concatenated, 8-bit reference
                udh = {"ref": header[2], "total": header[3], "seq": header[4]}
            data = data[1 + header_length :]
        message["udh"] = udh
        message["text"] = decode_sms(data, message["data_coding"])
        message["octets"] = len(data)
        self.log({"accepted": True, **message})
        return message_id

    async def receipt(self, message: dict[str, Any]) -> None:
        submitted = datetime.now(UTC)
        await asyncio.sleep(self.receipt_delay_s)
        prefix = self.undeliverable_prefix
        delivered = not (prefix and message["destination"].startswith(prefix))
        self.log({"receipt": message["message_id"], "delivered": delivered})
        self.send_to_receiver(
            pdu(DELIVER_SM, 0, next(self.sequences), receipt_body(message, delivered, submitted))
        )

    def send_to_receiver(self, data: bytes) -> None:
        for writer in list(self.receivers):
            if not writer.is_closing():
                writer.write(data)
                return
            self.receivers.remove(writer)
        self.held.append(data)

    async def session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        bound: int | None = None
        try:
            while True:
                header = await reader.readexactly(16)
                length, command, _status, sequence = struct.unpack(">IIII", header)
                body = await reader.readexactly(length - 16)
                if command in (BIND_RECEIVER, BIND_TRANSMITTER, BIND_TRANSCEIVER):
                    system_id, at = _cstring(body, 0)
                    password, _ = _cstring(body, at)
                    status = (
                        ESME_RINVSYSID
                        if system_id != self.system_id
                        else ESME_RINVPASWD
                        if password != self.password
                        else ESME_ROK
                    )
                    writer.write(pdu(command | RESP, status, sequence, b"SIMSMSC\0"))
                    if status == ESME_ROK:
                        bound = command
                        if command != BIND_TRANSMITTER:
                            self.receivers.insert(0, writer)
                            for held in self.held:
                                writer.write(held)
                            self.held.clear()
                elif command == SUBMIT_SM:
                    if bound not in (BIND_TRANSMITTER, BIND_TRANSCEIVER):
                        writer.write(pdu(SUBMIT_SM | RESP, ESME_RINVBNDSTS, sequence))
                        continue
                    message = parse_submit(body)
                    status = self.refusal(message)
                    if status != ESME_ROK:
                        self.log(
                            {
                                "accepted": False,
                                "status": status,
                                "destination": message["destination"],
                            }
                        )
                        # SMPP 3.4 5.2.5: no body with a non-zero status.
                        writer.write(pdu(SUBMIT_SM | RESP, status, sequence))
                        continue
                    message_id = self.accept(message)
                    writer.write(pdu(SUBMIT_SM | RESP, 0, sequence, message_id.encode() + b"\0"))
                    if message["registered_delivery"] & 0x03:
                        asyncio.get_running_loop().create_task(self.receipt(message))
                elif command == ENQUIRE_LINK:
                    writer.write(pdu(ENQUIRE_LINK | RESP, 0, sequence))
                elif command == UNBIND:
                    writer.write(pdu(UNBIND | RESP, 0, sequence))
                    await writer.drain()
                    break
                elif command & RESP:
                    pass  # deliver_sm_resp, enquire_link_resp
                else:
                    writer.write(pdu(GENERIC_NACK, ESME_RINVCMDID, sequence))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            if writer in self.receivers:
                self.receivers.remove(writer)
            writer.close()


async def serve(smsc: Smsc, host: str, port: int) -> None:
    server = await asyncio.start_server(smsc.session, host, port)
    print(f"LISTENING {server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--system-id", default="erap")
    parser.add_argument("--password", required=True)
    parser.add_argument("--journal", type=Path, required=True)
    parser.add_argument("--receipt-delay", type=float, default=0.1)
    parser.add_argument("--undeliverable-prefix")
    parser.add_argument("--invalid-prefix")
    parser.add_argument("--throttle-every", type=int, default=0)
    parser.add_argument("--throttle-first", type=int, default=0)
    parser.add_argument("--queue-full-every", type=int, default=0)
    parser.add_argument("--max-per-s", type=float, default=0)
    args = parser.parse_args(argv)
    smsc = Smsc(
        args.system_id,
        args.password,
        args.journal,
        args.receipt_delay,
        args.undeliverable_prefix,
        args.invalid_prefix,
        args.throttle_every,
        args.throttle_first,
        args.queue_full_every,
        args.max_per_s,
    )
    try:
        asyncio.run(serve(smsc, args.host, args.port))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
