"""ASGI entry point for ``uvicorn --factory subsidence.api.asgi:app`` (settings from the environment)."""

from __future__ import annotations

from fastapi import FastAPI


def app() -> FastAPI:
    """Build the application from ``SUBSIDENCE_*`` settings (called by uvicorn with ``--factory``)."""
    from subsidence.api.app import create_app

    return create_app()
