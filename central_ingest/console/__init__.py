"""The operators' console in the browser: review, supervision and the prosecutor's view, as
server-rendered pages with a little JavaScript, served by the registry's own application."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from central_ingest.console import (
    routes_appeals,
    routes_oversight,
    routes_review,
    routes_session,
    routes_undelivered,
)
from central_ingest.console.desk import ReviewDesk
from central_ingest.console.settings import ConsoleSettings
from central_ingest.console.web import EXCEPTION_HANDLERS

STATIC_DIR = Path(__file__).parent / "static"


def install_console(app: FastAPI, settings: ConsoleSettings | None = None) -> None:
    """Mount the console on an application built by ``create_app`` (it needs the store, the
    registry and the operators on ``app.state``)."""
    app.state.review_desk = ReviewDesk(
        app.state.store, app.state.registry, settings or ConsoleSettings()
    )
    for kind, handler in EXCEPTION_HANDLERS.items():
        app.add_exception_handler(kind, handler)
    for module in (
        routes_session,
        routes_review,
        routes_oversight,
        routes_appeals,
        routes_undelivered,
    ):
        app.include_router(module.router)
    app.mount("/console/static", StaticFiles(directory=STATIC_DIR), name="console-static")


__all__ = ["ConsoleSettings", "ReviewDesk", "install_console"]
