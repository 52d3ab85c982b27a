"""The roadside journal on a real SQLite file: protocol numbers are used once, across restarts
and power cuts (the process killed between signing and journalling), consumed only in the
transaction that journals the protocol; the outgoing order is each protocol, then its
payments."""

from __future__ import annotations

import multiprocessing
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import pytest

from contract import DeviceKey, MessageKind, SignedEnvelope, encode_envelope, seal
from contract.roadside import (
    DriverSignature,
    ProtocolNumberBlock,
    ProtocolOutcome,
    ProtocolPlace,
    RoadsideProtocol,
    SignedRoadsideProtocol,
)
from terminal.roadside.store import NumberSlot, NumberTaken, RoadsideStore

NOW = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
DEVICE = "term-patrol-0001"
KEY = DeviceKey.generate()


def block(first: int, last: int, issued: datetime = NOW) -> ProtocolNumberBlock:
    return ProtocolNumberBlock(
        prefix="KZ-GP", first=first, last=last, device_id=DEVICE, issued_at=issued
    )


def envelope(number: str) -> SignedEnvelope:
    """A sealed protocol; the officer's CMS is not what this store checks (the registry does)."""
    protocol = RoadsideProtocol(
        protocol_id=uuid4(),
        protocol_number=number,
        officer_iin="850315300128",
        plate="123ABC01",
        article="592",
        part=1,
        outcome=ProtocolOutcome.WARNING,
        place=ProtocolPlace(address="пр. Абая, 10", manual=True),
        drawn_up_at=NOW,
        description="Превышение скорости",
        driver_signature=DriverSignature.REFUSED,
    )
    body = SignedRoadsideProtocol(protocol=protocol, officer_cms="A" * 32)
    return seal(MessageKind.ROADSIDE_PROTOCOL, DEVICE, body, KEY, sent_at=NOW)


def journal(store: RoadsideStore, slot: NumberSlot) -> SignedEnvelope:
    sealed = envelope(slot.number)
    store.record_signed(slot, sealed, encode_envelope(sealed), "ru", NOW)
    return sealed


def test_numbers_come_from_the_oldest_block_and_are_consumed_only_when_journalled(
    tmp_path: Path,
) -> None:
    store = RoadsideStore(tmp_path / "terminal.db")
    assert store.next_number() is None and store.remaining() == 0
    assert store.add_block(block(201, 202, NOW + timedelta(hours=1)))
    assert store.add_block(block(101, 103))
    assert not store.add_block(block(101, 103))  # the same answer twice: kept once
    assert store.remaining() == 5
    slot = store.next_number()
    assert slot is not None and slot.number == "KZ-GP-R00000101"
    assert store.next_number() == slot  # offered, not consumed: a failed signature keeps it
    journal(store, slot)
    assert store.remaining() == 4
    with pytest.raises(NumberTaken):  # the same number a second time
        journal(store, slot)
    numbers = []
    while (slot := store.next_number()) is not None:
        journal(store, slot)
        numbers.append(slot.number)
    assert numbers == [f"KZ-GP-R{n:08d}" for n in (102, 103, 201, 202)]
    assert [p.number for p in store.protocols()] == [
        f"KZ-GP-R{n:08d}" for n in (101, *[102, 103, 201, 202])
    ]


def test_a_protocol_with_another_number_than_the_slot_is_refused(tmp_path: Path) -> None:
    store = RoadsideStore(tmp_path / "terminal.db")
    store.add_block(block(1, 5))
    slot = store.next_number()
    assert slot is not None
    other = envelope("KZ-GP-R00000099")
    with pytest.raises(ValueError, match="another number"):
        store.record_signed(slot, other, encode_envelope(other), "ru", NOW)
    assert store.remaining() == 5 and store.protocols() == []


def _journal_then_die(path: str, crash_before_commit: bool) -> None:
    store = RoadsideStore(Path(path))
    slot = store.next_number()
    assert slot is not None
    if crash_before_commit:  # the power cut after signing, before the journal's commit
        os._exit(0)
    journal(store, slot)
    os._exit(0)  # no close, no cleanup: as a power cut leaves it


@pytest.mark.parametrize("crash_before_commit", [True, False])
def test_a_power_cut_never_makes_a_number_used_twice(
    tmp_path: Path, crash_before_commit: bool
) -> None:
    path = tmp_path / "terminal.db"
    RoadsideStore(path).add_block(block(1, 3))
    process = multiprocessing.get_context("fork").Process(
        target=_journal_then_die, args=(str(path), crash_before_commit)
    )
    process.start()
    process.join(20)
    store = RoadsideStore(path)  # the terminal starts again
    slot = store.next_number()
    assert slot is not None
    if crash_before_commit:
        assert (slot.n, store.protocols()) == (1, [])  # nothing journalled, nothing used
    else:
        assert slot.n == 2
        assert [p.number for p in store.protocols()] == ["KZ-GP-R00000001"]


def test_the_outgoing_order_is_each_protocol_then_its_payments(tmp_path: Path) -> None:
    store = RoadsideStore(tmp_path / "terminal.db")
    store.add_block(block(1, 10))
    ids = []
    for _ in range(3):
        slot = store.next_number()
        assert slot is not None
        ids.append(str(journal(store, slot).message_id))
    store.queue_payment("pay-1", ids[0], b"{}", NOW)
    store.queue_payment("pay-3", ids[2], b"{}", NOW)
    order = [(item.kind, item.protocol_id) for item in store.outgoing()]
    assert order == [
        ("protocol", ids[0]),
        ("payment", ids[0]),
        ("protocol", ids[1]),
        ("protocol", ids[2]),
        ("payment", ids[2]),
    ]
    first, *_ = store.outgoing()
    store.sent(first, "stored", NOW)
    assert [item.message_id for item in store.outgoing()][:1] == ["pay-1"]
    # A protocol the registry refused holds back its payment (its case is not there).
    third = next(item for item in store.outgoing() if item.message_id == ids[2])
    store.sent(third, "rejected", NOW)
    assert [item.message_id for item in store.outgoing()] == ["pay-1", ids[1]]
