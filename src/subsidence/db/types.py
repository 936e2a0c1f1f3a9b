"""Column types that behave the same on SQLite (embedded) and PostgreSQL/PostGIS (production).

``Geometry`` stores shapely geometries. On PostgreSQL the column is a real PostGIS
``geometry(TYPE, SRID)`` column (indexable, usable from QGIS and SQL); values travel as hex EWKB.
On SQLite the column holds plain WKB bytes, since SpatiaLite cannot be loaded by this Python.
Either way the SRID is part of the column definition: every stored geometry is in that CRS.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy.engine import Dialect
from sqlalchemy.types import DateTime, LargeBinary, TypeDecorator, UserDefinedType


class _PostGISGeometry(UserDefinedType):
    cache_ok = True

    def __init__(self, geometry_type: str = "GEOMETRY", srid: int = 4546) -> None:
        self.geometry_type = geometry_type
        self.srid = srid

    def get_col_spec(self, **kw: Any) -> str:
        return f"geometry({self.geometry_type},{self.srid})"


def _register_reflection() -> None:
    """Let SQLAlchemy reflect PostGIS ``geometry`` columns (for Alembic comparisons on PostgreSQL)."""
    from sqlalchemy.dialects.postgresql.base import ischema_names

    ischema_names.setdefault("geometry", _PostGISGeometry)


_register_reflection()


class Geometry(TypeDecorator):
    """A shapely geometry column with a fixed geometry type and SRID (EPSG code)."""

    impl = LargeBinary
    cache_ok = True

    def __init__(self, geometry_type: str = "GEOMETRY", srid: int = 4546) -> None:
        super().__init__()
        self.geometry_type = geometry_type.upper()
        self.srid = int(srid)

    def load_dialect_impl(self, dialect: Dialect):
        if dialect.name == "postgresql":
            return dialect.type_descriptor(_PostGISGeometry(self.geometry_type, self.srid))
        return dialect.type_descriptor(LargeBinary())

    def process_bind_param(self, value: BaseGeometry | None, dialect: Dialect):
        if value is None:
            return None
        if not isinstance(value, BaseGeometry):
            raise TypeError(f"expected a shapely geometry, got {type(value).__name__}")
        if dialect.name == "postgresql":
            return shapely.to_wkb(shapely.set_srid(value, self.srid), hex=True, include_srid=True)
        return shapely.to_wkb(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> BaseGeometry | None:
        if value is None:
            return None
        if isinstance(value, memoryview):
            value = bytes(value)
        geom = shapely.from_wkb(value)
        return shapely.set_srid(geom, 0)

    def __repr__(self) -> str:
        return f"Geometry({self.geometry_type!r}, srid={self.srid})"


class UTCDateTime(TypeDecorator):
    """A timezone-aware instant stored in UTC on both dialects (SQLite drops the offset otherwise).

    Naive datetimes are refused: a time without a zone is ambiguous in a system whose users
    work in Asia/Shanghai and whose sensors may log in UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect):
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: give a time zone")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
