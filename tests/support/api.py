"""The registry's HTTP app over a real SQLite file (``RegistryWorld``), with operators of every
role able to sign in."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient

from central_ingest.api.app import create_app
from central_ingest.api.settings import ApiSettings
from central_ingest.operators import Operators, Role
from tests.support.registry_fixtures import REVIEWERS, SUPERVISORS, RegistryWorld

PASSWORD = "correct horse battery"
# Real argon2id, with parameters small enough to keep a test run fast.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
# The session cookie is Secure: the test client must speak HTTPS for it to be sent back.
BASE_URL = "https://testserver"

# One account of each role besides the world's reviewers and supervisors.
PROSECUTOR = "prosecutor"
BAILIFF = "bailiffs-system"
ADMIN = "admin"
REVIEWER = REVIEWERS[0]
SUPERVISOR = SUPERVISORS[0]
ACCOUNT_OF_ROLE: dict[Role, str] = {
    Role.REVIEWER: REVIEWER,
    Role.SUPERVISOR: SUPERVISOR,
    Role.PROSECUTOR: PROSECUTOR,
    Role.BAILIFF: BAILIFF,
    Role.ADMIN: ADMIN,
}


@dataclass
class ApiEnv:
    world: RegistryWorld
    operators: Operators
    app: FastAPI

    def client(self, host: str = "testclient") -> TestClient:
        return TestClient(self.app, base_url=BASE_URL, client=(host, 50000))

    def add_operator(self, username: str, role: Role, password: str = PASSWORD) -> None:
        self.operators.create(
            username,
            display_name=username.title(),
            role=role,
            password=password,
            actor="system:tests",
        )

    def token(self, username: str, password: str = PASSWORD) -> str:
        return self.operators.login(username, password).token

    def headers(self, username: str) -> dict[str, str]:
        return bearer(self.token(username))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def build_env(
    tmp_path: Path, *, api_settings: ApiSettings | None = None, tell_drivers: bool = False
) -> ApiEnv:
    world = RegistryWorld.create(tmp_path, tell_drivers=tell_drivers)
    operators = Operators(
        world.store,
        session_hours=world.config.session_hours,
        hasher=FAST_HASHER,
        clock=world.clock,
    )
    env = ApiEnv(
        world,
        operators,
        create_app(
            world.config,
            store=world.store,
            registry=world.registry,
            operators=operators,
            api_settings=api_settings,
        ),
    )
    for username in (*REVIEWERS, *SUPERVISORS):
        operators.set_password(username, PASSWORD, actor="system:tests")
    env.add_operator(PROSECUTOR, Role.PROSECUTOR)
    env.add_operator(BAILIFF, Role.BAILIFF)
    env.add_operator(ADMIN, Role.ADMIN)
    return env
