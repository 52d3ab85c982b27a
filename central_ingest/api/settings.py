"""Settings of the operators' HTTP API that are about deployment, not about the law."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class MetricsAccess(StrEnum):
    LOOPBACK = "loopback"
    """No credentials, but only clients on the host itself (a local Prometheus or agent). Behind
    a reverse proxy on the same host every client looks local: use ``operators`` there."""
    OPERATORS = "operators"
    """A bearer token of a supervisor, prosecutor or admin account."""


class ApiSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    metrics_access: MetricsAccess = MetricsAccess.LOOPBACK
    secure_cookies: bool = True
    """Mark the session cookie Secure (sent over HTTPS only). Turn off only for a console
    served over plain HTTP on the loopback interface during development."""
