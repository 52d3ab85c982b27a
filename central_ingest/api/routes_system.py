"""Liveness and Prometheus metrics."""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Iterable, Mapping
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel

from central_ingest.api.auth import METRICS_ROLES, current_session, presented_token, role_list
from central_ingest.api.deps import ApiSettingsDep, ConfigDep, OperatorsDep, StoreDep
from central_ingest.api.errors import ApiError, ErrorBody
from central_ingest.api.settings import MetricsAccess
from central_ingest.core.cases import CaseStatus, FixationStatus
from central_ingest.core.labels import ROLES, label_text
from central_ingest.store.dead_letters import dead_letter_bytes, dead_letter_counts
from central_ingest.store.monitoring import box_outbox_counts, database_answers, status_counts
from i18n import Text

router = APIRouter(tags=["system"])

PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"


class Health(BaseModel):
    status: str


@router.get("/healthz", response_model=Health, summary="Liveness: the database answers")
def healthz(store: StoreDep) -> Health:
    database_answers(store.db)
    return Health(status="ok")


def _is_loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def metrics_caller(
    request: Request,
    settings: ApiSettingsDep,
    operators: OperatorsDep,
    token: Annotated[str | None, Depends(presented_token)],
) -> None:
    """Lets the scrape through per ``ApiSettings.metrics_access``: by default the metrics token
    or an operator session of a metrics role; from loopback without credentials only when the
    configuration opts in."""
    if settings.metrics_access is MetricsAccess.LOOPBACK:
        if not _is_loopback(request.client.host if request.client else None):
            raise ApiError(
                403,
                "metrics_loopback_only",
                Text("Metrics are served only to clients on the registry host itself."),
            )
        return
    expected = settings.metrics_token
    if (
        token is not None
        and expected is not None
        and hmac.compare_digest(token.encode(), expected.get_secret_value().encode())
    ):
        return
    if token is None:
        current_session(None, operators)  # refuses: sign in first
        return
    session = operators.authenticate(token)
    if session is None:
        raise ApiError(
            401,
            "metrics_credentials_invalid",
            Text(
                "This is neither the metrics token (api.metrics_token) nor a current session:"
                " check the scraper's token, or sign in again."
            ),
            {"WWW-Authenticate": "Bearer"},
        )
    if session.operator.role not in METRICS_ROLES:
        raise ApiError(
            403,
            "forbidden_for_role",
            Text(
                "The role “%(role)s” may not read the metrics; they are for: %(roles)s.",
                role=label_text(session.operator.role, ROLES),
                roles=role_list(METRICS_ROLES),
            ),
        )


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _gauge(
    name: str, help_text: str, label: str, values: Mapping[str, int], known: Iterable[str] = ()
) -> list[str]:
    # Known states are always exported, at 0 if absent, so that rate() and alerts see them.
    series = {state: 0 for state in known} | dict(values)
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
    lines += [f'{name}{{{label}="{_escape(key)}"}} {series[key]}' for key in sorted(series)]
    return lines


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    responses={
        200: {"content": {PROMETHEUS_TEXT: {}}, "description": "Prometheus text format."},
        401: {"model": ErrorBody},
        403: {"model": ErrorBody},
    },
    summary="Prometheus metrics",
)
def metrics(
    _: Annotated[None, Depends(metrics_caller)], store: StoreDep, config: ConfigDep
) -> PlainTextResponse:
    db = store.db
    fixations = status_counts(db, "fixations")
    boxes = box_outbox_counts(db)
    lines = [
        # Alert when the first nears the second: the dead-letter job drops the oldest unsigned
        # refusals once it is passed, and logs a warning naming the sources.
        "# HELP erap_dead_letter_bytes What refused messages take in the database.",
        "# TYPE erap_dead_letter_bytes gauge",
        f"erap_dead_letter_bytes {dead_letter_bytes(db)}",
        "# HELP erap_dead_letter_budget_bytes The dead letters' size budget.",
        "# TYPE erap_dead_letter_budget_bytes gauge",
        f"erap_dead_letter_budget_bytes {config.dead_letters.budget_bytes}",
        *_gauge(
            "erap_dead_letters",
            "Messages refused by the ingest, by reason.",
            "reason",
            dead_letter_counts(db),
        ),
        *_gauge(
            "erap_fixations",
            "Fixations by review status.",
            "status",
            fixations,
            (status.value for status in FixationStatus),
        ),
        *_gauge(
            "erap_cases",
            "Administrative cases by status.",
            "status",
            status_counts(db, "cases"),
            (status.value for status in CaseStatus),
        ),
        "# HELP erap_review_queue_size Fixations waiting for an officer's decision.",
        "# TYPE erap_review_queue_size gauge",
        f"erap_review_queue_size {fixations.get(FixationStatus.AWAITING_REVIEW.value, 0)}",
        # From each camera box's latest status: alert when a box's count grows.
        *_gauge(
            "erap_box_dead_letters",
            "Fixations the registry refused, kept on the box, by device.",
            "device",
            boxes["dead_letters"],
        ),
        *_gauge(
            "erap_box_evictions",
            "Evidence files a box deleted for want of space, by device.",
            "device",
            boxes["evictions"],
        ),
    ]
    return PlainTextResponse("\n".join(lines) + "\n", media_type=PROMETHEUS_TEXT)
