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
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # SQLite batch mode rebuilds a table (copy, DROP, rename): with foreign keys enforced, dropping a table
            # that other rows refer to fails on a populated database. Off for the migration (the pragma only takes
            # effect outside a transaction), then every reference is checked before the commit.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()  # end SQLAlchemy's autobegun transaction; the pragma is set on the connection
        try:
            with connection.begin():
                context.configure(
                    connection=connection,
                    target_metadata=target_metadata,
                    render_as_batch=sqlite,
                    render_item=_render_item,
                    compare_type=True,
                )
                with context.begin_transaction():
                    context.run_migrations()
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(
                            f"the migration leaves {len(broken)} broken references (first: "
                            f"{broken[0]}); rolled back, nothing changed"
                        )
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


run_migrations_online()
