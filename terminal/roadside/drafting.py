"""Drawing up a roadside protocol, the rules apart from any device (pure): what the officer
entered becomes a ``RoadsideProtocol`` under the part the code table and the person's history
decide, the place is the GPS fix or a typed address (flagged), and when the terminal asks the
registry for more protocol numbers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from pydantic import ValidationError

from contract.roadside import (
    DriverSignature,
    ProtocolOutcome,
    ProtocolPlace,
    RoadsideProtocol,
)
from i18n import Text
from terminal.messages import SpokenError
from terminal.roadside.codes import Assessment, EarlierOffence, offence_day

# The registry's case statuses under which a case still waits for the person (the terminal's
# lookups give every case of a plate or an IIN).
OPEN_STATUSES = frozenset({"open", "underpaid", "sent_to_bailiffs"})


class DraftRefused(SpokenError):
    """What the officer entered cannot make a protocol; the sentence says what to change."""


@dataclass(frozen=True)
class NumberPolicy:
    """Ask the registry for a new block when fewer than ``low_water`` numbers are left, and the
    link is up; ``block_size`` numbers at a time (the registry bounds it)."""

    low_water: int = 20
    block_size: int = 100

    def should_fetch(self, remaining: int) -> bool:
        return remaining < self.low_water


@dataclass(frozen=True)
class GpsFix:
    lat: float
    lon: float


def protocol_place(fix: GpsFix | None, typed_address: str | None) -> ProtocolPlace:
    """The car's fix when there is one (with the typed address, if any, as a landmark); with
    no fix the typed address, flagged ``manual`` so the registry and a court see it was not
    measured."""
    address = (typed_address or "").strip() or None
    if fix is not None:
        return ProtocolPlace(lat=fix.lat, lon=fix.lon, address=address, manual=False)
    if address is None or len(address) < 3:
        raise DraftRefused(
            Text(
                "The car's GPS has no fix: type the address of the stop (street and house, or"
                " the road and kilometre)."
            )
        )
    return ProtocolPlace(address=address, manual=True)


def drawn_signature_sha256(image: bytes | None) -> str | None:
    """The hash of the signature the driver drew (the image stays on the terminal)."""
    return None if image is None else hashlib.sha256(image).hexdigest()


@dataclass(frozen=True)
class Draft:
    """What the officer entered on the screen."""

    plate: str
    article: str
    part: int
    outcome: ProtocolOutcome
    place: ProtocolPlace
    description: str
    person_iin: str | None = None
    driver_explanation: str | None = None
    driver_signature_png: bytes | None = None  # None: the driver refused to sign
    photo_sha256: Sequence[str] = field(default_factory=tuple)


def build_protocol(
    draft: Draft,
    assessment: Assessment,
    *,
    protocol_id: UUID,
    protocol_number: str,
    officer_iin: str,
    drawn_up_at: datetime,
) -> RoadsideProtocol:
    """The protocol as the officer signs it; a warning only where the applied part allows one."""
    if draft.outcome is ProtocolOutcome.WARNING and not assessment.warning_allowed:
        if assessment.repeat_of:
            raise DraftRefused(
                Text(
                    "Article %(article)s part %(part)s (a repeat of case %(case)s) does not"
                    " allow a warning: the outcome must be a fine.",
                    article=assessment.entry.article,
                    part=assessment.entry.part,
                    case=assessment.repeat_of,
                )
            )
        raise DraftRefused(
            Text(
                "Article %(article)s part %(part)s does not allow a warning: the outcome must"
                " be a fine.",
                article=assessment.entry.article,
                part=assessment.entry.part,
            )
        )
    signed = draft.driver_signature_png is not None
    fields: dict[str, object] = {
        "protocol_id": protocol_id,
        "protocol_number": protocol_number,
        "officer_iin": officer_iin,
        "plate": normalise_plate(draft.plate),
        "person_iin": draft.person_iin or None,
        "article": assessment.entry.article,
        "part": assessment.entry.part,
        "outcome": draft.outcome,
        "amount_minor": (assessment.fine_minor if draft.outcome is ProtocolOutcome.FINE else None),
        "place": draft.place,
        "drawn_up_at": drawn_up_at,
        "description": draft.description,
        "driver_explanation": draft.driver_explanation or None,
        "driver_signature": DriverSignature.SIGNED if signed else DriverSignature.REFUSED,
        "driver_signature_sha256": drawn_signature_sha256(draft.driver_signature_png),
    }
    if draft.photo_sha256:
        fields["photo_sha256"] = list(draft.photo_sha256)
    try:
        return RoadsideProtocol.model_validate(fields)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'protocol'}: {error['msg']}"
            for error in exc.errors()
        )
        raise DraftRefused(
            Text("The protocol is not complete: %(problems)s.", problems=problems)
        ) from None


def normalise_plate(plate: str) -> str:
    """As the registry keys vehicles: letters and digits only, upper case."""
    return "".join(ch for ch in plate.upper() if ch.isalnum())


def open_cases(cases: Iterable[EarlierOffence]) -> list[EarlierOffence]:
    return [case for case in cases if case.status in OPEN_STATUSES]


def this_year(cases: Iterable[EarlierOffence], at: datetime) -> list[EarlierOffence]:
    """Earlier offences of the same calendar year (Kazakhstan's), newest first; cancelled
    cases are no offence."""
    year = offence_day(at).year
    found = [
        case
        for case in cases
        if offence_day(case.offence_at).year == year
        and case.offence_at < at
        and case.status != "cancelled"
    ]
    return sorted(found, key=lambda case: case.offence_at, reverse=True)


def merge_cases(*lists: Iterable[EarlierOffence]) -> list[EarlierOffence]:
    """The person's and the vehicle's cases, each case once."""
    seen: dict[str, EarlierOffence] = {}
    for cases in lists:
        for case in cases:
            seen.setdefault(case.case_number, case)
    return list(seen.values())
