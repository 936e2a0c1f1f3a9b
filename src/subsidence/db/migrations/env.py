"""Alembic environment: uses the engine handed over by :mod:`subsidence.db.migrate`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

import subsidence.schema  # noqa: F401  (registers the tables)
from subsidence.db.base import Base

config = context.config
target_metadata = Base.metadata


def _render_item(type_, obj, autogen_context):
    if type_ == "type" and obj.__class__.__module__ == "subsidence.db.types":
        autogen_context.imports.add("import subsidence.db.types")
        return f"subsidence.db.types.{obj!r}"
    return False


def run_migrations_online() -> None:
    engine = config.attributes.get("engine") or create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.begin() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            render_item=_render_item,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
