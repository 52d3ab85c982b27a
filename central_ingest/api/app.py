"""The registry's HTTP application: device ingest, the operators' API, health and metrics.

``create_app`` only wires objects together. It starts no threads: the MQTT workers and the
periodic jobs (tree heads, hand-over, expiry, notifications) are started by their own commands.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from central_ingest.api import (
    routes_admin,
    routes_appeals,
    routes_audit,
    routes_auth,
    routes_bailiffs,
    routes_cases,
    routes_payments,
    routes_reports,
    routes_review,
    routes_roadside,
    routes_system,
    routes_terminal,
    routes_undelivered,
)
from central_ingest.api.errors import document_error_bodies, install_error_handlers
from central_ingest.api.ingest_routes import install_device_ingest
from central_ingest.api.settings import ApiSettings
from central_ingest.cases import CaseService
from central_ingest.config import RegistryConfig
from central_ingest.console import install_console
from central_ingest.driver.app import install_driver
from central_ingest.ingest.bank_payments import BankPayments
from central_ingest.operators import Operators
from central_ingest.store.db import Store
from central_ingest.wiring import build_case_service, build_operators, open_registry_store

DESCRIPTION = """\
The unified registry of administrative proceedings (ERAP): roadside camera fixations, their
review by officers, the cases they open, payments, hand-over to bailiffs and the audit trail.

Operators sign in at `POST /v1/auth/token` and send the token as `Authorization: Bearer`, or
rely on the session cookie set at sign-in. Every decision is recorded under the signed-in
operator's name. Devices do not sign in: their messages and uploads carry Ed25519 signatures.
"""


class RegistryApi(FastAPI):
    """FastAPI whose OpenAPI document shows the error bodies this API really sends."""

    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is None:
            document_error_bodies(super().openapi())
        return super().openapi()


def create_app(
    config: RegistryConfig,
    *,
    store: Store | None = None,
    registry: CaseService | None = None,
    operators: Operators | None = None,
    api_settings: ApiSettings | None = None,
) -> FastAPI:
    store = store or open_registry_store(config)
    app = RegistryApi(
        title="ERAP registry",
        version="1",
        description=DESCRIPTION,
        openapi_tags=[
            {"name": "authentication", "description": "Operators' sessions."},
            {"name": "review", "description": "Officers confirm or reject camera fixations."},
            {"name": "cases", "description": "Cases and their two-person cancellation."},
            {"name": "appeals", "description": "Drivers' appeals and their decisions."},
            {"name": "reports", "description": "Oversight reports (read-only)."},
            {"name": "audit", "description": "Tamper evidence for the prosecutor (read-only)."},
            {"name": "bailiffs", "description": "The feed the bailiffs' system polls."},
            {"name": "payments", "description": "Payments made in banks and through eGov."},
            {"name": "administration", "description": "Operator accounts; devices, read-only."},
            {"name": "devices", "description": "Signed messages and evidence from devices."},
            {"name": "system", "description": "Health and metrics."},
        ],
    )
    app.state.config = config
    app.state.api_settings = api_settings or config.api
    app.state.store = store
    app.state.registry = registry or build_case_service(store, config)
    app.state.operators = operators or build_operators(store, config)
    app.state.bank_payments = BankPayments(store, config)
    install_error_handlers(app)
    install_device_ingest(app, store, config)
    for module in (
        routes_auth,
        routes_review,
        routes_cases,
        routes_reports,
        routes_audit,
        routes_bailiffs,
        routes_undelivered,
        routes_admin,
        routes_system,
        routes_terminal,
        routes_appeals,
        routes_roadside,
        routes_payments,
    ):
        app.include_router(module.router)
    install_console(app, config.console)
    install_driver(app, config.driver_page)
    return app
