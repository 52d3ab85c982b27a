"""The roadside camera box: video, plate recognition, tracking, violations, store-and-forward.

Built in later issues; it imports the wire contract from ``contract``.
"""

from edge.store import (
    EvidenceImage,
    FileCategory,
    Health,
    Outbox,
    Sender,
    SenderSettings,
    StorageFull,
    StorageLimits,
)

__all__ = [
    "EvidenceImage",
    "FileCategory",
    "Health",
    "Outbox",
    "Sender",
    "SenderSettings",
    "StorageFull",
    "StorageLimits",
]
