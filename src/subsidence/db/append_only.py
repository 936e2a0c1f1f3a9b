"""The one append-only guard: rows of these tables are written once and never changed or deleted.

Two layers enforce it: database triggers created by the migrations (:func:`subsidence.db.ddl.append_only` for
every table in :data:`subsidence.db.ddl.APPEND_ONLY_TABLES`), and an ORM guard (:func:`guard`) that refuses the
change in the session already, with a message that says what to do instead (a correction is a new row that
references the old one: a reversal entry, a new draw, a new alarm event).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import object_session


class AppendOnlyError(PermissionError):
    """An attempt to change or delete a row of an append-only table."""


def _key(target: Any) -> str:
    return str(getattr(target, "code", None) or getattr(target, "id", "?"))


def _refuse_change(mapper, connection, target) -> None:  # noqa: ARG001 - SQLAlchemy's listener signature
    session = object_session(target)
    if session is None or session.is_modified(target, include_collections=False):
        raise AppendOnlyError(
            f"{target.__tablename__} is append-only: record a correction as a new row instead of "
            f"changing {_key(target)}"
        )


def _refuse_delete(mapper, connection, target) -> None:  # noqa: ARG001
    raise AppendOnlyError(f"{target.__tablename__} is append-only: {_key(target)} cannot be deleted")


def guard(*models: type) -> None:
    """Refuse UPDATE and DELETE of ``models``' rows through the ORM (the triggers refuse them in SQL)."""
    for model in models:
        event.listen(model, "before_update", _refuse_change)
        event.listen(model, "before_delete", _refuse_delete)
