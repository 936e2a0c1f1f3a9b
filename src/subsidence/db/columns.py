"""Column helpers shared by the model modules."""

from __future__ import annotations

from enum import Enum

from sqlalchemy import Enum as SAEnum

from subsidence.db.types import Geometry
from subsidence.geo import STORAGE_SRID


def enum_col(enum_cls: type[Enum]) -> SAEnum:
    """Enum stored as its string value with a CHECK constraint (same on SQLite and PostgreSQL)."""
    return SAEnum(
        enum_cls,
        native_enum=False,
        create_constraint=True,
        length=40,
        values_callable=lambda e: [m.value for m in e],
        name=f"{enum_cls.__name__.lower()}",
        validate_strings=True,
    )


def geom(kind: str = "GEOMETRY") -> Geometry:
    return Geometry(kind, STORAGE_SRID)
