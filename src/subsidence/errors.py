"""Errors the service layer raises; adapters map them to exit codes / HTTP statuses."""

from __future__ import annotations


class ServiceError(Exception):
    """Base class; ``message`` is shown to the user as is (it names the record, field and fix)."""

    http_status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationFailed(ServiceError):
    http_status = 422


class NotFound(ServiceError):
    http_status = 404


class Forbidden(ServiceError):
    http_status = 403


class Conflict(ServiceError):
    http_status = 409
