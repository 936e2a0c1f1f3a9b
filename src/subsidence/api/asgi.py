"""ASGI entry point for ``uvicorn --factory subsidence.api.asgi:app`` (settings from the environment)."""

from __future__ import annotations

from fastapi import FastAPI


def app() -> FastAPI:
    """Build the application from ``SUBSIDENCE_*`` settings (called by uvicorn with ``--factory``, once per worker
    process). The application's own log records go where the CLI's go (the journal under systemd)."""
    from subsidence.api.app import create_app
    from subsidence.logs import configure_logging
    from subsidence.settings import get_settings

    configure_logging(get_settings().log_level)
    return create_app()
