"""What the driver's case page shows, gathered in one read: the case, its fixation and photos,
the money (due now, the 50% and until when, what was paid), the history and the notices.

Deliberately absent: the owner's name, IIN, address, phone and e-mail (whoever holds the link or
the plate sees the case, not the person), the officers' names, and card data. Every read is by
a key or an index (store/case_links.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from central_ingest.cases import CaseService
from central_ingest.core.cases import CaseStatus
from central_ingest.core.clock import parse_iso
from central_ingest.core.views import CaseView, FixationView
from central_ingest.store.case_links import case_history, case_payments
from central_ingest.store.db import Store
from central_ingest.store.notifications import notices_of_case

# An appeal can be filed while the case is neither closed nor with the bailiffs, until the
# resolution enters into force (core/appeals.py check_filing decides the filing itself).
_APPEALABLE = frozenset({CaseStatus.OPEN, CaseStatus.UNDERPAID})


@dataclass(frozen=True, slots=True)
class Photo:
    role: str
    sha256: str


@dataclass(frozen=True, slots=True)
class HistoryItem:
    at: datetime
    kind: str
    """``ledger`` (a change of the case) or ``notice`` (a notice and what became of it)."""
    code: str
    """The ledger's action (a case's, or the bailiffs' handover/recall), or the notice's
    state."""
    status: str | None = None
    channel: str | None = None


@dataclass(frozen=True, slots=True)
class Paid:
    amount_minor: int
    paid_at: datetime
    channel: str


@dataclass(frozen=True)
class DriverPage:
    case: CaseView
    fixation: FixationView | None
    """None for a case a patrol officer opened at the roadside: no camera, no photos."""
    photos: list[Photo]
    history: list[HistoryItem]
    payments: list[Paid]
    now: datetime
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def discount_holds(self) -> bool:
        """The 50% (or whatever the Code sets) still applies: nothing paid yet, unexecuted,
        before the discount deadline."""
        case = self.case
        return (
            case.status.unexecuted
            and case.paid_minor == 0
            and case.discounted_minor < case.full_minor
            and self.now <= case.discount_deadline
        )

    @property
    def appeal_open(self) -> bool:
        return self.case.status in _APPEALABLE and self.now <= self.case.entry_into_force

    @property
    def payable(self) -> bool:
        return self.case.status.unexecuted and self.case.amount_due_now_minor > 0


def _history(store: Store, case_number: str) -> list[HistoryItem]:
    items: list[HistoryItem] = []
    for row in case_history(store.db, case_number):
        try:
            status = json.loads(row["payload"]).get("status")
        except (ValueError, AttributeError):
            status = None
        items.append(
            HistoryItem(
                at=parse_iso(str(row["recorded_at"])),
                kind="ledger",
                code=str(row["action"]),
                status=status if isinstance(status, str) else None,
            )
        )
    for notice in notices_of_case(store.db, case_number):
        # The moment that says most: delivered, else sent, else queued.
        moment = notice.delivered_at or notice.sent_at or notice.created_at
        items.append(
            HistoryItem(
                at=parse_iso(moment), kind="notice", code=notice.state, channel=notice.channel
            )
        )
    items.sort(key=lambda item: item.at)
    return items


def driver_page(store: Store, registry: CaseService, case_number: str, now: datetime) -> DriverPage:
    case = registry.case(case_number)
    fixation = registry.fixation(case.fixation_id) if case.fixation_id else None
    evidence = fixation.evidence if fixation is not None else []
    photos = [Photo(str(item.role.value), item.sha256) for item in evidence]
    # The full frame first, then the plate: the order a person reads them in.
    photos.sort(key=lambda photo: photo.role != "full_frame")
    payments = [
        Paid(int(row["amount_minor"]), parse_iso(str(row["paid_at"])), str(row["channel"]))
        for row in case_payments(store.db, case_number)
    ]
    return DriverPage(
        case=case,
        fixation=fixation,
        photos=photos,
        history=_history(store, case_number),
        payments=payments,
        now=now,
    )
