"""Mounting the driver's pages on the registry's application (``api.app.create_app``)."""

from __future__ import annotations

import importlib
import importlib.util

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from central_ingest.config import DriverPageSettings
from central_ingest.driver import routes
from central_ingest.driver.access import LinkRefused
from central_ingest.driver.throttle import LookupThrottle
from central_ingest.driver.web import STATIC_DIR, STATIC_PATH

# The appeal form's POST route lives in its own module of this package (the appeals' part);
# mounted when it is there.
APPEAL_ROUTES = "central_ingest.driver.routes_appeal"


def install_driver(app: FastAPI, settings: DriverPageSettings) -> None:
    """Needs the store, the registry and the device ingest (for the evidence files) on
    ``app.state``: mount it after ``install_device_ingest``."""
    app.state.driver_throttle = LookupThrottle(settings)
    app.add_exception_handler(LinkRefused, routes.link_refused)
    if importlib.util.find_spec(APPEAL_ROUTES) is not None:
        app.include_router(importlib.import_module(APPEAL_ROUTES).router)
    app.include_router(routes.router)
    app.mount(STATIC_PATH, StaticFiles(directory=STATIC_DIR), name="driver-static")
