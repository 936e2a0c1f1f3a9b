"""Backup and restore: the restore drill on both databases, a backup under concurrent writes, damaged
archives, refusals that change nothing."""

from __future__ import annotations

import json
import shutil
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from subsidence.db.base import utcnow
from subsidence.db.session import make_sessionmaker
from subsidence.ops.backup import (
    BackupError,
    create_backup,
    database_rows,
    restore_backup,
    table_counts,
    verify_backup,
)
from tests.ops.conftest import file_hashes, populate_files


@pytest.mark.slow
def test_restore_drill(engine, populated, target, tmp_path, artifacts_dir):
    """Back up the demo county with its files, restore into an empty installation: every table's row count and
    every file's SHA-256 are equal to the source's; the figures are recorded for the closing note."""
    source_counts = table_counts(engine)
    source_files = file_hashes(Path(populated.data_dir))
    assert sum(source_counts.values()) > 10_000 and len(source_files) >= 9

    t0 = time.perf_counter()
    result = create_backup(tmp_path / "drill.tar.gz", populated, engine)
    t_backup = time.perf_counter() - t0
    m = result.manifest
    assert m["database"]["tables"] == source_counts  # nothing wrote meanwhile: the manifest is the source
    assert {f["path"]: f["sha256"] for f in m["files"]} == source_files
    assert m["database"]["revision"] is not None
    assert result.path.stat().st_mode & 0o777 == 0o640  # personal data: not world-readable

    t0 = time.perf_counter()
    verified = verify_backup(result.path)
    t_verify = time.perf_counter() - t0
    assert verified.ok, verified.problems

    t0 = time.perf_counter()
    restored = restore_backup(result.path, target.settings, target.engine)
    t_restore = time.perf_counter() - t0
    assert table_counts(target.engine) == source_counts  # every table, row for row in number
    assert file_hashes(Path(target.settings.data_dir)) == source_files  # every file, byte for byte
    assert restored.counts == source_counts and restored.files == len(source_files)

    # the restored installation works: the ledger's audit trail is still append-only (its trigger came back)
    from sqlalchemy import text

    with pytest.raises(Exception, match="(?i)append-only|audit"), target.engine.begin() as c:
        c.execute(text("UPDATE audit_event SET actor = 'x'"))

    figures = {
        "dialect": engine.dialect.name,
        "tables": len(source_counts),
        "rows": sum(source_counts.values()),
        "files": len(source_files),
        "file_bytes": m["totals"]["file_bytes"],
        "archive_bytes": result.bytes,
        "backup_s": round(t_backup, 3),
        "verify_s": round(t_verify, 3),
        "restore_s": round(t_restore, 3),
    }
    (artifacts_dir / f"ops-restore-drill-{engine.dialect.name}.json").write_text(json.dumps(figures, indent=1))


def test_restore_refuses_a_non_empty_installation_and_changes_nothing(engine, small, target, tmp_path):
    archive = create_backup(tmp_path / "a.tar", small, engine).path
    restore_backup(archive, target.settings, target.engine)
    before_rows, before_files = table_counts(target.engine), file_hashes(Path(target.settings.data_dir))
    with pytest.raises(BackupError, match="holds .* rows.*--force"):
        restore_backup(archive, target.settings, target.engine)
    assert table_counts(target.engine) == before_rows
    assert file_hashes(Path(target.settings.data_dir)) == before_files
    # with --force: replaced, and the files that were there are moved aside, not deleted
    stray = Path(target.settings.data_dir) / "outputs" / "stray.txt"
    stray.write_text("written after the restore")
    again = restore_backup(archive, target.settings, target.engine, force=True)
    assert table_counts(target.engine) == before_rows
    assert (
        not stray.exists() and (again.moved_aside / "outputs" / "stray.txt").read_text() == "written after the restore"
    )


def test_damaged_archive_is_detected_and_restores_nothing(engine, small, target, tmp_path):
    archive = create_backup(tmp_path / "b.tar", small, engine).path
    damaged = tmp_path / "damaged.tar"
    shutil.copy(archive, damaged)
    data = bytearray(damaged.read_bytes())
    pos = data.find(b"evidence/")  # inside the first evidence member's header; flip a byte of its content
    pos = data.find(b"\x89PNG", pos)
    data[pos + 40] ^= 0xFF
    damaged.write_bytes(bytes(data))
    v = verify_backup(damaged)
    assert not v.ok and any("SHA-256" in p and "evidence/" in p for p in v.problems), v.problems
    with pytest.raises(BackupError, match="fails verification, nothing restored"):
        restore_backup(damaged, target.settings, target.engine)
    assert database_rows(target.engine) == 0
    assert not Path(target.settings.data_dir).exists() or file_hashes(Path(target.settings.data_dir)) == {}
    truncated = tmp_path / "truncated.tar"
    truncated.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    assert not verify_backup(truncated).ok


def test_backup_is_never_overwritten_and_leaves_nothing_on_failure(engine, small, tmp_path):
    archive = create_backup(tmp_path / "c.tar.gz", small, engine).path
    with pytest.raises(BackupError, match="never overwritten"):
        create_backup(archive, small, engine)
    with pytest.raises(BackupError, match=r"\.tar, \.tar\.gz or \.tar\.zst"):
        create_backup(tmp_path / "c.zip", small, engine)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(("c.", ".partial"))) == ["c.tar.gz"]


@pytest.mark.skipif(shutil.which("zstd") is None, reason="zstd not installed (Debian: apt-get install zstd)")
def test_zstd_archive_into_a_folder_with_retention(engine, small, tmp_path):
    from subsidence.ops.backup import prune

    folder = tmp_path / "nightly"
    folder.mkdir()
    made = [create_backup(folder, small, engine).path]
    assert made[0].name.startswith("subsidence-") and made[0].name.endswith(".tar.zst")
    assert verify_backup(made[0]).ok
    for i in range(3):  # older archives of earlier nights
        shutil.copy(made[0], folder / f"subsidence-2026010{i}T020000Z.tar.zst")
    gone = prune(folder, keep=2)
    assert sorted(p.name for p in folder.iterdir()) == sorted([made[0].name, "subsidence-20260102T020000Z.tar.zst"])
    assert len(gone) == 2


def test_backup_while_writes_continue_is_consistent(engine, target, tmp_path):
    """A thread keeps inserting rows (each its own transaction) while the backup runs: the manifest's counts are
    exactly the restored database's, and the writer demonstrably wrote before, during and after the backup."""
    from subsidence.monitoring.models import OutboxMessage
    from subsidence.settings import get_settings

    settings = get_settings()
    populate_files(Path(settings.data_dir), engine)
    for i in range(150):  # enough files that the archive takes a while after the snapshot
        (Path(settings.data_dir) / "outputs" / f"report-{i:03d}.txt").write_bytes(b"x" * 20_000)
    factory = make_sessionmaker(engine)
    stop = threading.Event()
    stamps: list[float] = []
    errors: list[BaseException] = []

    def writer() -> None:
        n = 0
        try:
            while not stop.is_set():
                with factory() as s:
                    s.execute(
                        insert(OutboxMessage).values(
                            idempotency_key=f"load:{n}",
                            channel="log",
                            recipient="ops",
                            subject="load",
                            body="x",
                            created_at=utcnow(),
                            next_attempt_at=utcnow(),
                            state="sent",
                            attempts=0,
                            priority=0,
                        )
                    )
                    s.commit()
                stamps.append(time.perf_counter())
                n += 1
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    t = threading.Thread(target=writer)
    t.start()
    while len(stamps) < 20:
        time.sleep(0.01)
    t0 = time.perf_counter()
    result = create_backup(tmp_path / "live.tar", settings, engine)
    t1 = time.perf_counter()
    time.sleep(0.1)
    stop.set()
    t.join()
    assert not errors, errors
    assert any(s < t0 for s in stamps) and any(t0 < s < t1 for s in stamps) and any(s > t1 for s in stamps)
    in_manifest = result.manifest["database"]["tables"]["outbox_message"]
    with factory() as s:
        live = len(s.scalars(select(OutboxMessage.id)).all())
    assert live > in_manifest  # writes went on after the snapshot
    restore_backup(result.path, target.settings, target.engine)
    assert table_counts(target.engine) == result.manifest["database"]["tables"]


@pytest.mark.slow
def test_postgres_restore_as_the_database_owner_without_superuser(engine, request, tmp_path):
    """Production: the service role owns its database but is no superuser; PostGIS was created by the
    administrator. The restore keeps the extension (the role could not create it again) and loads the rest."""
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from subsidence.db.migrate import upgrade
    from subsidence.db.session import make_engine
    from subsidence.settings import Settings
    from tests.ops.conftest import PG_URL

    populated = request.getfixturevalue("populated")  # the demo county, built only on PostgreSQL here
    archive = create_backup(tmp_path / "owner.tar.gz", populated, engine).path
    role, name = f"subs_owner_{uuid.uuid4().hex[:8]}", f"subsidence_o_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f"CREATE ROLE {role} LOGIN NOSUPERUSER PASSWORD 'owner-pw'"))
        c.execute(text(f'CREATE DATABASE "{name}" OWNER {role}'))
    ext = create_engine(make_url(PG_URL).set(database=name), isolation_level="AUTOCOMMIT")
    with ext.connect() as c:
        c.execute(text("CREATE EXTENSION postgis"))
    ext.dispose()
    url = make_url(PG_URL).set(database=name, username=role, password="owner-pw")
    eng = make_engine(url.render_as_string(hide_password=False))
    try:
        upgrade(eng)  # the web unit migrated the empty database before the restore: still "empty"
        restore_backup(
            archive,
            Settings(data_dir=tmp_path / "owner-data", database_url=url.render_as_string(hide_password=False)),
            eng,
        )
        assert table_counts(eng) == table_counts(engine)
    finally:
        eng.dispose()
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            c.execute(text(f"DROP ROLE IF EXISTS {role}"))
        admin.dispose()
