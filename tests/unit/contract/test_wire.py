"""The shared wire contract: canonical encoding, signatures, card data (the schema file and the
key file are in tests/integration/contract/)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from contract import (
    CardData,
    DeviceKey,
    DeviceKind,
    EvidenceRef,
    EvidenceRole,
    MessageKind,
    Payment,
    PaymentChannel,
    SignedEnvelope,
    canonical_json,
    encode_envelope,
    load_public_key,
    now_utc,
    seal,
    signed_bytes,
    verify_signature,
)
from contract.signing import device_request_headers, request_signing_bytes, signed_bytes_and_body
from tests.support.devices import SimulatedDevice, speeding_fixation


def payment(**changes: object) -> Payment:
    fields: dict[str, object] = {
        "payment_id": uuid4(),
        "case_number": "KZ-GP-2026-0000001",
        "amount_minor": 2_162_500,
        "paid_at": now_utc(),
        "channel": PaymentChannel.TERMINAL,
        "card": CardData(masked_pan="440000******1234", scheme="VISA", aid="A0000000031010"),
    }
    fields.update(changes)
    return Payment.model_validate(fields)


def test_canonical_json_is_independent_of_key_order_and_refuses_nan() -> None:
    assert canonical_json({"b": 1, "a": [1, {"y": 2, "x": "é"}]}) == canonical_json(
        {"a": [1, {"x": "é", "y": 2}], "b": 1}
    )
    assert canonical_json({"a": "é"}) == '{"a":"é"}'.encode()
    with pytest.raises(ValueError):
        canonical_json({"speed": float("nan")})


def test_sealed_envelope_verifies_and_any_change_breaks_it() -> None:
    key = DeviceKey.generate()
    body = payment()
    raw = encode_envelope(seal(MessageKind.PAYMENT, "term-patrol-07", body, key))
    document = json.loads(raw)
    public = load_public_key(key.public_key_b64)

    assert document["message_id"] == str(body.payment_id)
    assert verify_signature(public, signed_bytes(document), document["signature"])
    document["body"]["amount_minor"] = 1
    assert not verify_signature(public, signed_bytes(document), document["signature"])
    other = load_public_key(DeviceKey.generate().public_key_b64)
    document["body"]["amount_minor"] = body.amount_minor
    assert not verify_signature(other, signed_bytes(document), document["signature"])
    assert not verify_signature(public, signed_bytes(document), "A" * 86)


def test_envelope_round_trips_through_the_model() -> None:
    key = DeviceKey.generate()
    envelope = seal(MessageKind.PAYMENT, "term-patrol-07", payment(), key)
    again = SignedEnvelope.model_validate_json(encode_envelope(envelope))
    assert again == envelope
    assert isinstance(again.parsed_body(), Payment)


@pytest.mark.parametrize("pan", ["4400001234561234", "440000123456", "4400 00** **** 1234", ""])
def test_a_full_or_malformed_card_number_is_refused(pan: str) -> None:
    with pytest.raises(ValidationError, match="masked"):
        CardData(masked_pan=pan, scheme="VISA")


def test_amounts_are_positive_minor_units_and_times_need_an_offset() -> None:
    with pytest.raises(ValidationError):
        payment(amount_minor=0)
    with pytest.raises(ValidationError):
        payment(paid_at=datetime(2026, 11, 22, 10, 0))  # naive: refused
    with pytest.raises(ValidationError):
        payment(currency="USD")


def test_a_fixation_needs_a_full_frame_and_distinct_images() -> None:
    camera = SimulatedDevice("cam-astana-001", DeviceKind.CAMERA)
    frame = EvidenceRef(role=EvidenceRole.FULL_FRAME, sha256="ab" * 32, size_bytes=5120)
    crop = EvidenceRef(role=EvidenceRole.PLATE_CROP, sha256="cd" * 32, size_bytes=900)
    assert len(speeding_fixation(camera, evidence=[frame, crop]).evidence) == 2
    with pytest.raises(ValidationError, match="full_frame"):
        speeding_fixation(camera, evidence=[crop])
    same_image = crop.model_copy(update={"sha256": frame.sha256})
    with pytest.raises(ValidationError, match="same evidence image twice"):
        speeding_fixation(camera, evidence=[frame, same_image])


def test_request_headers_sign_method_path_time_and_body() -> None:
    key = DeviceKey.generate()
    headers = device_request_headers(
        key, "cam-astana-001", method="put", path="/v1/evidence/ab", body=b"jpeg"
    )
    public = load_public_key(key.public_key_b64)
    expected = request_signing_bytes(
        method="PUT",
        path="/v1/evidence/ab",
        device_id="cam-astana-001",
        signed_at=headers["X-Erap-Signed-At"],
        body_sha256=hashlib.sha256(b"jpeg").hexdigest(),
    )
    assert verify_signature(public, expected, headers["X-Erap-Signature"])
    other_path = request_signing_bytes(
        method="PUT",
        path="/v1/evidence/cd",
        device_id="cam-astana-001",
        signed_at=headers["X-Erap-Signed-At"],
        body_sha256=hashlib.sha256(b"jpeg").hexdigest(),
    )
    assert not verify_signature(public, other_path, headers["X-Erap-Signature"])


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=10,
)


@given(st.dictionaries(st.text(max_size=12), json_values, max_size=6), json_values)
def test_signed_bytes_and_body_equal_the_plain_encodings(
    envelope: dict[str, object], body: object
) -> None:
    document = {**envelope, "body": body}
    signed, body_json = signed_bytes_and_body(document)
    assert signed == signed_bytes(document)
    assert body_json == canonical_json(body)
