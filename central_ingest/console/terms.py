"""Words for the codes only the console shows: the vehicle register's owner kinds, light phases,
plate layouts, evidence images, and the ledger's entities and actions in a case's history.

The registry's own codes (offences, statuses, reasons, roles) are in
``central_ingest.core.labels`` and translated in the ``registry`` catalog, which the console's
catalog falls back to; these are translated in the ``console`` catalog. ``TABLES`` names every
table a template may ask for with the ``label`` filter: ``{{ case.status|label("case_status") }}``.
"""

from __future__ import annotations

from collections.abc import Mapping

from central_ingest.core import labels
from central_ingest.core.cases import CancellationStatus, CaseStatus, FixationStatus
from i18n import N_

OWNER_KINDS: Mapping[str, str] = {
    "person": N_("private person"),
    "company": N_("organisation"),
}

LIGHT_PHASES: Mapping[str, str] = {
    "red": N_("red"),
    "amber": N_("amber"),
    "green": N_("green"),
}

PLATE_FORMATS: Mapping[str, str] = {
    "kz_person": N_("Kazakhstan, private person"),
    "kz_organisation": N_("Kazakhstan, organisation"),
    "br_mercosur": N_("Brazil, Mercosur"),
    "br_legacy": N_("Brazil, old layout"),
    "us": N_("United States"),
}

EVIDENCE_ROLES: Mapping[str, str] = {
    "full_frame": N_("full frame"),
    "plate_crop": N_("plate crop"),
}

LEDGER_ENTITIES: Mapping[str, str] = {
    "fixation": N_("fixation"),
    "case": N_("case"),
    "cancellation": N_("cancellation request"),
    "bailiff": N_("bailiffs' feed"),
    "payment": N_("payment"),
    "device": N_("device"),
    "operator": N_("operator"),
}

# The actions a case's history can hold (the ledger's codes stay in the JSON proofs). Where an
# action is named like a status, the registry's label is taken, so that one word has one
# translation.
LEDGER_ACTIONS: Mapping[str, str] = {
    "received": N_("received"),
    "confirmed": labels.FIXATION_STATUSES[FixationStatus.CONFIRMED],
    "rejected": labels.FIXATION_STATUSES[FixationStatus.REJECTED],
    "double_reviewed": N_("second review"),
    "opened": N_("case opened"),
    "payment_applied": N_("payment applied"),
    "sent_to_bailiffs": labels.CASE_STATUSES[CaseStatus.SENT_TO_BAILIFFS],
    "expired": labels.CASE_STATUSES[CaseStatus.EXPIRED],
    "requested": N_("cancellation requested"),
    "approved": labels.CANCELLATION_STATUSES[CancellationStatus.APPROVED],
    "denied": labels.CANCELLATION_STATUSES[CancellationStatus.DENIED],
    "cancelled": labels.CASE_STATUSES[CaseStatus.CANCELLED],
    "handover": N_("handed over for enforcement"),
    "recall": N_("recalled from bailiffs"),
    "appeal_filed": N_("appeal filed"),
    "appeal_decided": N_("appeal decided"),
}

# Names the templates use; None: every table of the registry's labels in turn.
TABLES: Mapping[str, Mapping[str, str]] = {
    "offence": labels.OFFENCES,
    "reason": labels.REJECT_REASONS,
    "case_status": labels.CASE_STATUSES,
    "fixation_status": labels.FIXATION_STATUSES,
    "cancellation_status": labels.CANCELLATION_STATUSES,
    "notice_state": labels.NOTICE_STATES,
    "notice_channel": labels.NOTICE_CHANNELS,
    "notice_kind": labels.NOTICE_KINDS,
    "held_reason": labels.HELD_REASONS,
    "role": labels.ROLES,
    "owner_kind": OWNER_KINDS,
    "light_phase": LIGHT_PHASES,
    "plate_format": PLATE_FORMATS,
    "evidence": EVIDENCE_ROLES,
    "entity": LEDGER_ENTITIES,
    "action": LEDGER_ACTIONS,
}


def term(code: object, table: str | None = None) -> str:
    """The English message id for ``code``; an unknown code as the registry's ``label`` shows
    it (underscores as spaces)."""
    if table is not None and table not in TABLES:
        raise KeyError(f"no label table {table!r}: there are {', '.join(TABLES)}")
    return labels.label(str(code), TABLES[table] if table is not None else None)
