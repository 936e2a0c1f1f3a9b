"""Migrations: up from empty on both databases, the schema equals the models, down to empty and up again."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from subsidence.db.base import Base
from subsidence.db.migrate import current_revision, downgrade, upgrade


def test_up_from_empty_matches_models(engine):
    assert current_revision(engine) is not None  # the fixture migrated it
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    # acceptable: PostGIS' own table, and the GiST indexes the migration adds on PostgreSQL only (db/ddl.py)
    ours = [
        d
        for d in diff
        if not (d[0] == "remove_table" and d[1].name == "spatial_ref_sys")
        and not (d[0] == "remove_index" and d[1].name.endswith("_gist"))
    ]
    assert ours == [], ours


def test_down_to_empty_and_up_again(engine):
    downgrade(engine, "base")
    tables = set(inspect(engine).get_table_names()) - {"alembic_version", "spatial_ref_sys"}
    assert tables == set()
    upgrade(engine)
    assert "problem" in inspect(engine).get_table_names()


def test_postgis_geometry_columns(engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("geometry_columns is PostGIS's catalogue")
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT f_table_name, f_geometry_column, srid, type FROM geometry_columns WHERE f_table_name='mine'")
        ).all()
    assert rows == [("mine", "geometry", 4546, "MULTIPOLYGON")]


def test_the_comparison_sees_a_changed_column_type(engine):
    """Guard for the test above: a model whose column type differs from the migrated one is reported."""
    from sqlalchemy import MetaData, Text

    meta = MetaData()
    for table in Base.metadata.sorted_tables:
        table.to_metadata(meta)
    meta.tables["problem"].c.title.type = Text()  # the migration made it VARCHAR(300)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), meta)
    flat = [d for group in diff for d in (group if isinstance(group, list) else [group])]
    assert any(d[0] == "modify_type" and d[3] == "title" for d in flat), diff
