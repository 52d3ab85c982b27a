"""The pure message checks, without a database: the order of the checks and what each
refusal tells the device."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from uuid import uuid4

from central_ingest.core.intake import (
    Accepted,
    CaptureWindow,
    Refused,
    Rejection,
    check_message,
)
from contract import (
    DeviceKey,
    DeviceKind,
    EvidenceRef,
    EvidenceRole,
    MessageKind,
    PublicKey,
    encode_envelope,
    load_public_key,
    now_utc,
    seal,
)
from tests.support.devices import SimulatedDevice, speeding_fixation

FRAME = EvidenceRef(role=EvidenceRole.FULL_FRAME, sha256="ab" * 32, size_bytes=5120)


@dataclass(frozen=True)
class Identity:
    kind: DeviceKind
    active: bool
    public_key: PublicKey


def registry_with(camera: SimulatedDevice, *, active: bool = True) -> dict[str, Identity]:
    return {
        camera.device_id: Identity(
            DeviceKind.CAMERA, active, load_public_key(camera.key.public_key_b64)
        )
    }


def check(
    raw: bytes,
    devices: dict[str, Identity],
    topic: tuple[str, MessageKind] | None = None,
    evidence: dict[str, int] | None = None,
) -> Accepted | Refused:
    known = {FRAME.sha256: FRAME.size_bytes} if evidence is None else evidence
    return check_message(
        raw,
        max_bytes=64 * 1024,
        topic_claim=topic,
        devices=devices,
        evidence_sizes=known.get,
        capture_window=CaptureWindow(now_utc(), timedelta(minutes=5), timedelta(days=365)),
    )


def test_an_honest_fixation_is_accepted_with_its_canonical_form() -> None:
    camera = SimulatedDevice("cam-astana-0001", DeviceKind.CAMERA)
    raw = camera.seal(MessageKind.FIXATION, speeding_fixation(camera, evidence=[FRAME]))

    verdict = check(raw, registry_with(camera), (camera.device_id, MessageKind.FIXATION))

    assert isinstance(verdict, Accepted)
    assert verdict.envelope_json.encode() == raw  # the device already sent canonical JSON
    assert verdict.body.plate.text == "123ABC01"  # type: ignore[union-attr]


def test_identity_is_checked_before_the_signature_and_unknown_senders_get_no_answer() -> None:
    camera = SimulatedDevice("cam-astana-0001", DeviceKind.CAMERA)
    impostor = SimulatedDevice("cam-astana-0001", DeviceKind.CAMERA, DeviceKey.generate())
    raw = impostor.seal(MessageKind.FIXATION, speeding_fixation(impostor, evidence=[FRAME]))

    unknown = check(raw, {})
    revoked = check(raw, registry_with(camera, active=False))
    forged = check(raw, registry_with(camera))

    assert [v.reason for v in (unknown, revoked, forged)] == [  # type: ignore[union-attr]
        Rejection.UNKNOWN_DEVICE,
        Rejection.DEVICE_REVOKED,
        Rejection.BAD_SIGNATURE,
    ]
    assert not any(r.after_signature for r in (Rejection.UNKNOWN_DEVICE, Rejection.BAD_SIGNATURE))


def test_evidence_is_checked_only_for_a_verified_sender_and_missing_evidence_is_retryable() -> None:
    camera = SimulatedDevice("cam-astana-0001", DeviceKind.CAMERA)
    raw = camera.seal(MessageKind.FIXATION, speeding_fixation(camera, evidence=[FRAME]))

    missing = check(raw, registry_with(camera), evidence={})
    wrong_size = check(raw, registry_with(camera), evidence={FRAME.sha256: 99})

    assert isinstance(missing, Refused) and isinstance(wrong_size, Refused)
    assert (missing.reason, missing.reason.retryable, missing.reason.after_signature) == (
        Rejection.EVIDENCE_MISSING,
        True,
        True,
    )
    assert (wrong_size.reason, wrong_size.reason.retryable) == (Rejection.EVIDENCE_MISMATCH, False)
    assert FRAME.sha256 in missing.detail


def test_a_terminal_cannot_send_fixations_and_a_camera_cannot_send_payments() -> None:
    terminal = SimulatedDevice("term-patrol-0001", DeviceKind.TERMINAL)
    camera = SimulatedDevice("cam-astana-0001", DeviceKind.CAMERA)
    devices = {
        terminal.device_id: Identity(
            DeviceKind.TERMINAL, True, load_public_key(terminal.key.public_key_b64)
        )
    }
    raw = terminal.seal(MessageKind.FIXATION, speeding_fixation(camera, evidence=[FRAME]))

    verdict = check(raw, devices)

    assert isinstance(verdict, Refused) and verdict.reason is Rejection.KIND_NOT_PERMITTED
    assert "terminal may not send fixation" in verdict.detail


def test_message_and_body_ids_must_agree() -> None:
    camera = SimulatedDevice("cam-astana-0001", DeviceKind.CAMERA)
    body = speeding_fixation(camera, evidence=[FRAME])
    raw = encode_envelope(
        seal(MessageKind.FIXATION, camera.device_id, body, camera.key, message_id=uuid4())
    )

    verdict = check(raw, registry_with(camera))

    assert isinstance(verdict, Refused) and verdict.reason is Rejection.ID_MISMATCH
