"""One validated settings object (environment prefix ``SUBSIDENCE_``, optional ``.env``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Runtime configuration.

    ``database_url`` defaults to a SQLite file inside ``data_dir``; set it to
    ``postgresql+psycopg://user:pass@host/db`` for production (PostGIS required).
    Geometry is stored in :data:`subsidence.geo.STORAGE_CRS` (a projected metric CRS fixed per
    database by the migrations).
    """

    model_config = SettingsConfigDict(env_prefix="SUBSIDENCE_", env_file=".env", extra="ignore")

    data_dir: Path = Field(default=Path("data"), description="Folder for the SQLite file, evidence, outputs")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default sqlite in data_dir")
    timezone: str = Field(default="Asia/Shanghai", description="IANA time zone for display and day boundaries")
    language: Literal["zh-CN", "en"] = Field(default="zh-CN", description="UI and report language")
    log_level: str = Field(default="INFO", description="Python logging level name")
    host: str = Field(default="127.0.0.1", description="Address the web server binds to")
    port: int = Field(default=8000, ge=1, le=65535, description="Port of the web server")
    smtp_host: str | None = Field(default=None, description="SMTP server for alarm e-mail (unset: no e-mail channel)")
    smtp_port: int = Field(default=25, ge=1, le=65535, description="SMTP port")
    smtp_sender: str = Field(default="warning@localhost", description="From address of alarm e-mail")
    smtp_user: str | None = Field(default=None, description="SMTP login")
    smtp_password: str | None = Field(default=None, description="SMTP password")
    smtp_starttls: bool = Field(default=False, description="Use STARTTLS")
    sms_webhook_url: str | None = Field(default=None, description="SMS gateway webhook (unset: no SMS channel)")
    sms_webhook_token: str | None = Field(default=None, description="Bearer token for the SMS gateway")
    ops_email: str | None = Field(
        default=None,
        description="E-mail of the IT officer for operations alarms (stale "
        "sweep/dispatcher/backup, low disk); the log channel always gets them",
    )
    ops_phone: str | None = Field(default=None, description="Mobile number for operations alarms by SMS")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}; use an IANA name such as Asia/Shanghai") from exc
        return value

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'subsidence.sqlite').resolve()}"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; call ``get_settings.cache_clear()`` in tests)."""
    return Settings()
