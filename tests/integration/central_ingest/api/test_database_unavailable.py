"""The API while its PostgreSQL connections are cut (what a failover does to them): a request
that meets a dead connection is answered 503 with Retry-After, in the reader's language, not
500; the next one is served on a new connection."""

from __future__ import annotations

from pathlib import Path

import psycopg

from tests.support.api import REVIEWERS, build_env
from tests.support.postgres import PostgresServer
from tests.support.stores import fresh_registry_database, superuser_database


def _cut_the_registrys_connections() -> int:
    """Every connection of the application role ended by the server, as when a primary dies."""
    superuser = superuser_database()
    assert superuser is not None
    with psycopg.connect(superuser, autocommit=True) as admin:
        cut = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE usename = 'erap_app' AND datname = current_database()"
        ).fetchone()
    assert cut is not None
    return int(cut[0])


def test_a_cut_connection_is_a_503_with_retry_after_then_the_api_serves_again(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    with fresh_registry_database(postgres_server):
        env = build_env(tmp_path)
        headers = {**env.headers(REVIEWERS[0]), "Accept-Language": "kk"}
        with env.client() as client:
            assert client.get("/v1/me", headers=headers).status_code == 200
            assert _cut_the_registrys_connections() >= 1

            refused = client.get("/v1/me", headers=headers)
            assert refused.status_code == 503, refused.text
            assert refused.headers["Retry-After"] == "5"
            assert refused.headers["Content-Language"] == "kk"
            body = refused.json()
            assert body["error"] == "database_unavailable"
            assert "failover" not in body["detail"]  # Kazakh, not the English sentence

            again = client.get("/v1/me", headers=headers)
            assert again.status_code == 200, again.text
            assert again.json()["username"] == REVIEWERS[0]
