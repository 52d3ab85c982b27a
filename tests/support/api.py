"""Building the registry's HTTP app over a real SQLite file, and signing operators in."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient

from central_ingest.api.app import create_app
from central_ingest.api.settings import ApiSettings
from central_ingest.config import RegistryConfig
from central_ingest.operators import Operators, Role
from central_ingest.store.db import Store

PASSWORD = "correct horse battery"
# Real argon2id, with parameters small enough to keep a test run fast.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
# The session cookie is Secure: the test client must speak HTTPS for it to be sent back.
BASE_URL = "https://testserver"


@dataclass
class Clock:
    """A clock the test moves by hand."""

    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@dataclass
class ApiEnv:
    config: RegistryConfig
    store: Store
    operators: Operators
    clock: Clock
    app: FastAPI

    def client(self, host: str = "testclient") -> TestClient:
        return TestClient(self.app, base_url=BASE_URL, client=(host, 50000))

    def add_operator(self, username: str, role: Role, password: str = PASSWORD) -> None:
        self.operators.create(
            username, display_name=username.title(), role=role, password=password,
            actor="system:tests",
        )

    def token(self, username: str, password: str = PASSWORD) -> str:
        return self.operators.login(username, password).token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def build_env(
    tmp_path: Path,
    *,
    api_settings: ApiSettings | None = None,
) -> ApiEnv:
    config = RegistryConfig(data_dir=tmp_path / "registry")
    store = Store(config.db_path)
    clock = Clock()
    operators = Operators(
        store, session_hours=config.session_hours, hasher=FAST_HASHER, clock=clock
    )
    app = create_app(config, store=store, operators=operators, api_settings=api_settings)
    return ApiEnv(config, store, operators, clock, app)
