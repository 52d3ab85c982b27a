"""``erap-terminal ui``: the roadside desk from the configuration, the start-up duties the
desk leaves to the process that runs it, and the touch UI on uvicorn at 127.0.0.1.

At start-up, in this order: the roadside payments in doubt are settled (by asking the POS,
never by charging again), then the payment terminal's own (its settle looks cases up in the
registry, where an offline protocol's case is not yet: the roadside ones must be settled
first), then the queue of protocols is sent every ``[ui] sync_interval_s`` seconds for as
long as the UI runs. The network may be down through all of it.
"""

from __future__ import annotations

import logging

import httpx
import uvicorn

from contract import DeviceKey
from terminal.config import LOOPBACK_HOST, TerminalConfig
from terminal.officer_token import OfficerToken, PinCounter, TokenSettings
from terminal.registry_client import RegistryUnavailable
from terminal.roadside.wiring import Roadside, build_roadside
from terminal.ui.app import Station, create_app
from terminal.ui.revocation import OfficerRevocations
from terminal.wiring import build_terminal

log = logging.getLogger(__name__)

PIN_TRIES_FILE = "pin-tries.json"  # the same file `erap-terminal sign-in` counts in


def officer_token(config: TerminalConfig) -> OfficerToken:
    assert config.token is not None  # checked by the caller, with a sentence
    return OfficerToken(
        TokenSettings(config.token.module, config.token.label),
        PinCounter(config.data_dir / PIN_TRIES_FILE, config.token.pin_tries),
    )


def start_up(config: TerminalConfig, key: DeviceKey, http: httpx.Client) -> Roadside:
    roadside = build_roadside(config, key=key, http=http)
    for result in roadside.desk.settle_pending():
        log.info("roadside payment %s settled: %s", result.payment_id, result.state.value)
    terminal, journal = build_terminal(config, key=key, http=http)
    try:
        for result in terminal.settle_pending():
            log.info("payment %s settled: %s", result.payment_id, result.state.value)
    except RegistryUnavailable as exc:
        log.warning("payments in doubt wait for the registry: %s", exc)
    finally:
        journal.close()
    roadside.start_sync(config.ui.sync_interval_s)
    return roadside


def serve(config: TerminalConfig, key: DeviceKey) -> None:
    # The configuration refuses another address; checked again where the socket is bound.
    if config.ui.host != LOOPBACK_HOST:
        raise ValueError(f"the touch UI binds {LOOPBACK_HOST} only")
    with httpx.Client(base_url=config.registry_url, timeout=15.0) as http:
        roadside = start_up(config, key, http)
        revocations = OfficerRevocations(http, config.data_dir)
        revocations.refresh()  # the network may be down: the list kept last time serves
        settings = config.roadside
        station = Station(
            desk=roadside.desk,
            token=officer_token(config),
            language=config.language,
            port=config.ui.port,
            has_camera=settings is not None and settings.camera is not None,
            revocations=revocations,
        )
        app = create_app(station)
        try:
            uvicorn.run(app, host=LOOPBACK_HOST, port=config.ui.port, log_level="info")
        finally:
            app.state.sessions.close_all()
            roadside.close()
