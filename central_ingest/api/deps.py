"""The services a route works with, taken from the application built by ``create_app``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from central_ingest.api.settings import ApiSettings
from central_ingest.cases import CaseService
from central_ingest.config import RegistryConfig
from central_ingest.operators import Operators
from central_ingest.store.db import Store


def config_of(request: Request) -> RegistryConfig:
    config: RegistryConfig = request.app.state.config
    return config


def api_settings_of(request: Request) -> ApiSettings:
    settings: ApiSettings = request.app.state.api_settings
    return settings


def store_of(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def operators_of(request: Request) -> Operators:
    operators: Operators = request.app.state.operators
    return operators


def registry_of(request: Request) -> CaseService:
    registry: CaseService = request.app.state.registry
    return registry


# The largest integer SQLite stores: a larger id, cursor or count in a request is refused as
# invalid (422) instead of failing the query (500).
MAX_SQLITE_INTEGER = 2**63 - 1

ConfigDep = Annotated[RegistryConfig, Depends(config_of)]
ApiSettingsDep = Annotated[ApiSettings, Depends(api_settings_of)]
StoreDep = Annotated[Store, Depends(store_of)]
OperatorsDep = Annotated[Operators, Depends(operators_of)]
RegistryDep = Annotated[CaseService, Depends(registry_of)]
