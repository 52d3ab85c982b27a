"""Store-and-forward on the camera box: the durable outbox, its evidence files under a quota,
the sender that deletes only on the registry's receipt, and the device status it publishes."""

from edge.store.backoff import Backoff
from edge.store.db import Durability
from edge.store.delivery import SenderCounters
from edge.store.evidence import Eviction, FileCategory, StorageFull, StorageLimits
from edge.store.outbox import DeadLetter, EvidenceImage, Outbox, RecordedFixation
from edge.store.sender import Sender, SenderSettings
from edge.store.status import Health, sealed_offline_will, sealed_status, status_body

__all__ = [
    "Backoff",
    "DeadLetter",
    "Durability",
    "Eviction",
    "EvidenceImage",
    "FileCategory",
    "Health",
    "Outbox",
    "RecordedFixation",
    "Sender",
    "SenderCounters",
    "SenderSettings",
    "StorageFull",
    "StorageLimits",
    "sealed_offline_will",
    "sealed_status",
    "status_body",
]
