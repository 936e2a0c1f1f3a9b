"""Migrations: up from empty on both databases, the schema equals the models, down to empty and up again."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from subsidence.db.base import Base
from subsidence.db.migrate import current_revision, downgrade, upgrade


def test_up_from_empty_matches_models(engine):
    assert current_revision(engine) is not None  # the fixture migrated it
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), Base.metadata)
    # acceptable: PostGIS' own table, and the GiST indexes the migration adds on PostgreSQL only (db/ddl.py)
    ours = [d for d in diff if not (d[0] == "remove_table" and d[1].name == "spatial_ref_sys")
            and not (d[0] == "remove_index" and d[1].name.endswith("_gist"))]
    assert ours == [], ours


def test_down_to_empty_and_up_again(engine):
    downgrade(engine, "base")
    tables = set(inspect(engine).get_table_names()) - {"alembic_version", "spatial_ref_sys"}
    assert tables == set()
    upgrade(engine)
    assert "problem" in inspect(engine).get_table_names()


def test_postgis_geometry_columns(engine):
    if engine.dialect.name != "postgresql":
        return
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT f_table_name, f_geometry_column, srid, type FROM geometry_columns WHERE f_table_name='mine'"
        )).all()
    assert rows == [("mine", "geometry", 4546, "MULTIPOLYGON")]
