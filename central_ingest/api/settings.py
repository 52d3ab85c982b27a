"""Settings of the operators' HTTP API that are about deployment, not about the law."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, SecretStr, field_validator

METRICS_TOKEN_MIN_CHARS = 32


class MetricsAccess(StrEnum):
    CREDENTIALS = "credentials"
    """The default: ``Authorization: Bearer <metrics_token>`` (a Prometheus scraper), or the
    session of a supervisor, prosecutor or admin (bearer token or the console's cookie)."""
    LOOPBACK = "loopback"
    """UNSAFE behind a reverse proxy on the same host, which is how deploy/ installs the
    registry: the proxy connects from 127.0.0.1, so every client on the internet looks local.
    Only for a registry that listens directly, with a scraper on the host itself."""


class ApiSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    metrics_access: MetricsAccess = MetricsAccess.CREDENTIALS
    metrics_token: SecretStr | None = None
    """The scraper's bearer token for /metrics (``python -c "import secrets;
    print(secrets.token_urlsafe(32))"``); compared in constant time. None: operator sessions
    only."""
    secure_cookies: bool = True
    """Mark the session cookie Secure (sent over HTTPS only). Turn off only for a console
    served over plain HTTP on the loopback interface during development."""

    @field_validator("metrics_token")
    @classmethod
    def _long_enough(cls, token: SecretStr | None) -> SecretStr | None:
        # A short token could be guessed by trying; a generated one cannot.
        if token is not None and len(token.get_secret_value()) < METRICS_TOKEN_MIN_CHARS:
            raise ValueError(
                f"the metrics token must be at least {METRICS_TOKEN_MIN_CHARS} characters:"
                ' generate one with python -c "import secrets; print(secrets.token_urlsafe(32))"'
            )
        return token
