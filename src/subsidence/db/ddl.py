"""Dialect-specific DDL used by the migrations: PostGIS, append-only triggers, spatial indexes."""

from __future__ import annotations

from alembic import op

APPEND_ONLY_TABLES = ("audit_event", "fund_entry", "draw_record", "draw_seed", "draw_result", "alarm_event")


def before_schema() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS postgis")


def append_only(table: str) -> None:
    """Refuse UPDATE and DELETE on ``table`` at the database level (both dialects)."""
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )
    elif dialect == "postgresql":
        op.execute(
            f"""CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION '{table} is append-only'; END; $$ LANGUAGE plpgsql"""
        )
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()"
        )


def drop_append_only(table: str) -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
    elif dialect == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {table}_append_only()")


def spatial_indexes(columns: list[tuple[str, str]]) -> None:
    """GiST indexes on PostGIS geometry columns (SQLite stores WKB and filters in Python)."""
    if op.get_bind().dialect.name == "postgresql":
        for table, column in columns:
            op.execute(f"CREATE INDEX IF NOT EXISTS ix_{table}_{column}_gist ON {table} USING GIST ({column})")


def after_schema(geometry_columns: list[tuple[str, str]]) -> None:
    for table in APPEND_ONLY_TABLES:
        append_only(table)
    spatial_indexes(geometry_columns)


def before_drop() -> None:
    for table in APPEND_ONLY_TABLES:
        drop_append_only(table)
