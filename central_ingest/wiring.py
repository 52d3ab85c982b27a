"""How the registry's objects are built from its configuration.

``config.py`` reads and checks the settings and builds nothing; the commands (``cli/``) and
the HTTP application (``api/app.py``) get what they run from here, so that the store, the cases
service over the vehicle register, the operators, the periodic jobs and the MQTT ingest worker
are each built one way, whoever starts them.
"""

from __future__ import annotations

from central_ingest.cases import CaseService
from central_ingest.config import MqttSettings, RegistryConfig
from central_ingest.ingest.mqtt_worker import MqttIngestWorker
from central_ingest.ingest.service import IngestService
from central_ingest.jobs import RegistryJobs
from central_ingest.operators import Operators
from central_ingest.store.db import Store, open_store
from central_ingest.vehicles import SqliteVehicleRegister


def open_registry_store(config: RegistryConfig) -> Store:
    """The store the configuration names: PostgreSQL for a ``postgresql://`` URL in
    ``database`` (or ``$ERAP_DATABASE`` on the command line), else the SQLite file."""
    return open_store(config.database_target, pool_size=config.database_pool_size)


def build_case_service(store: Store, config: RegistryConfig) -> CaseService:
    """The case lifecycle over ``store``, with owners from the vehicle register it holds."""
    return CaseService(store, config, SqliteVehicleRegister(store))


def build_operators(store: Store, config: RegistryConfig) -> Operators:
    return Operators(store, session_hours=config.session_hours)


def build_jobs(store: Store, config: RegistryConfig, cases: CaseService) -> RegistryJobs:
    """The periodic work, sending notices where ``[notices]`` says (else the outbox file)."""
    return RegistryJobs(store, config, cases)


def build_ingest_worker(
    store: Store, config: RegistryConfig, mqtt: MqttSettings | None = None
) -> MqttIngestWorker:
    """The MQTT consumer of device messages, on ``mqtt`` (the configuration's brokers, or
    those with the command line's overrides); not started."""
    return MqttIngestWorker(IngestService(store, config), mqtt or config.mqtt)
