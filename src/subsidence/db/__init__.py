"""Persistence: SQLAlchemy 2 base, the dual-dialect geometry type, sessions, audit trail, migrations."""
