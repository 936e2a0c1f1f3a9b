"""The HTTP API (FastAPI): thin adapters over the service layer. Build it with :func:`create_app`."""

from subsidence.api.app import create_app

__all__ = ["create_app"]
