"""Notifications to vehicle owners: the outbox filled inside case transactions, the senders,
and the delivery worker."""

from central_ingest.notify.outbox import enqueue_case_opened
from central_ingest.notify.senders import (
    DeliveryError,
    FileSender,
    Notification,
    NotificationSender,
)
from central_ingest.notify.worker import DeliveryStats, deliver_due, run_worker

__all__ = [
    "DeliveryError",
    "DeliveryStats",
    "FileSender",
    "Notification",
    "NotificationSender",
    "deliver_due",
    "enqueue_case_opened",
    "run_worker",
]
