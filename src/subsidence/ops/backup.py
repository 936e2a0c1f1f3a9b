"""Backup, verification and restore of one installation: the database and the data directory in one archive.

An archive (``.tar``, ``.tar.gz`` or ``.tar.zst``) holds, under ``subsidence-backup/``:

* ``db/database.sqlite`` — SQLite: a copy made with the online backup API in one step, i.e. one read
  transaction, so it is a consistent snapshot while the platform keeps writing (WAL mode); or
  ``db/database.pgdump`` — PostgreSQL: ``pg_dump --format=custom`` run on a snapshot exported from a
  ``REPEATABLE READ`` transaction (``pg_export_snapshot()`` / ``pg_dump --snapshot``) in which the row counts
  of the manifest are taken too, so the counts are exactly those of the dump;
* ``files/…`` — every regular file of the data directory (evidence store, issued notices and reports, field
  photos, cards, census and prediction products, the alert log), taken *after* the database snapshot:
  files are written before the rows that refer to them, so every file the snapshot names is in the archive;
* ``manifest.json`` (last member) — format, time, product version and schema revision, the row count of every
  table, the SHA-256 and size of the database artefact and of every file.

Not in the archive: the SQLite file itself under ``files/`` (it is the snapshot), temporary files of
uploads/restores in progress, and ``DATA_DIR/backups/`` (archives must not contain older archives). A file
that grows while it is read (the alert log) is taken up to the size it had when it was opened.

A restore stages the whole archive next to the data directory and checks every hash before it touches
anything; the database is restored in one transaction (PostgreSQL: ``pg_restore`` → ``psql
--single-transaction``); the staged files are then moved in by rename. A refused or failed restore changes
nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import IO, Any

from sqlalchemy import Engine, text

from subsidence.settings import Settings

log = logging.getLogger(__name__)

FORMAT = "subsidence-backup/1"
ROOT = "subsidence-backup"
MANIFEST = f"{ROOT}/manifest.json"
DB_SQLITE = f"{ROOT}/db/database.sqlite"
DB_PGDUMP = f"{ROOT}/db/database.pgdump"
FILES = f"{ROOT}/files/"
#: tables that are not ours and not counted (PostGIS' own; restored by CREATE EXTENSION)
FOREIGN_TABLES = frozenset({"spatial_ref_sys"})
#: tables ignored when deciding whether a target database is empty
BOOKKEEPING_TABLES = frozenset({"alembic_version", "ops_heartbeat"}) | FOREIGN_TABLES
#: file names (prefixes) in the data directory that are work in progress, never backed up
TEMP_PREFIXES = (".upload-", ".restore-", ".partial-")
CHUNK = 1 << 20
#: archives are readable by their owner and group only (the service user and the administrators)
ARCHIVE_MODE = 0o640


class BackupError(Exception):
    """A backup, verification or restore that cannot proceed; the message says why and what to do."""


# ------------------------------------------------------------------------------------------------ archive I/O


def compression_of(path: Path) -> str:
    """``zst``, ``gz`` or ``none`` from the archive's name (``.tar.zst``/``.tzst``, ``.tar.gz``/``.tgz``, ``.tar``)."""
    name = path.name.lower()
    if name.endswith((".tar.zst", ".tzst")):
        return "zst"
    if name.endswith((".tar.gz", ".tgz")):
        return "gz"
    if name.endswith(".tar"):
        return "none"
    raise BackupError(f"{path}: name the archive .tar, .tar.gz or .tar.zst (the suffix chooses the compression)")


def _zstd() -> str:
    exe = shutil.which("zstd")
    if exe is None:
        raise BackupError(
            "the zstd program is needed for .tar.zst archives (Debian: apt-get install zstd); "
            "or name the archive .tar.gz"
        )
    return exe


@contextmanager
def _open_write(path: Path) -> Iterator[tarfile.TarFile]:
    comp = compression_of(path)
    if comp == "zst":
        proc = subprocess.Popen([_zstd(), "-q", "-f", "-3", "-T0", "-o", str(path)], stdin=subprocess.PIPE)
        try:
            with tarfile.open(fileobj=proc.stdin, mode="w|", format=tarfile.PAX_FORMAT) as tar:
                yield tar
        finally:
            proc.stdin.close()
            rc = proc.wait()
        if rc != 0:
            raise BackupError(f"zstd failed writing {path} (exit {rc})")
        return
    with tarfile.open(str(path), mode="w|gz" if comp == "gz" else "w|", format=tarfile.PAX_FORMAT) as tar:
        yield tar


@contextmanager
def _open_read(path: Path) -> Iterator[tarfile.TarFile]:
    if not path.is_file():
        raise BackupError(f"{path}: no such archive")
    comp = compression_of(path)
    if comp == "zst":
        proc = subprocess.Popen([_zstd(), "-q", "-dc", str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
                yield tar
            proc.stdout.read()  # drain the tail so zstd can finish
        except tarfile.TarError as exc:
            raise BackupError(f"{path}: not a readable archive ({exc})") from exc
        finally:
            proc.stdout.close()
            rc = proc.wait()
            err = proc.stderr.read().decode(errors="replace").strip()
            proc.stderr.close()
        if rc != 0:
            raise BackupError(f"{path}: zstd could not decompress it ({err or f'exit {rc}'}): the archive is damaged")
        return
    try:
        with tarfile.open(str(path), mode="r|gz" if comp == "gz" else "r|") as tar:
            yield tar
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise BackupError(f"{path}: not a readable archive ({exc}): it is damaged or truncated") from exc


class _HashingReader:
    """Reads at most ``limit`` bytes of ``fh`` and hashes what was read (tarfile pulls from it)."""

    def __init__(self, fh: IO[bytes], limit: int) -> None:
        self.fh, self.left, self.sha = fh, limit, hashlib.sha256()

    def read(self, n: int = -1) -> bytes:
        if self.left <= 0:
            return b""
        n = self.left if n is None or n < 0 else min(n, self.left)
        data = self.fh.read(n)
        self.left -= len(data)
        self.sha.update(data)
        return data


def _add_file(tar: tarfile.TarFile, src: Path, arcname: str) -> dict[str, Any]:
    """Add ``src`` (up to its size when opened) under ``arcname``; returns its size and SHA-256."""
    with src.open("rb") as fh:
        st = os.fstat(fh.fileno())
        info = tarfile.TarInfo(arcname)
        info.size, info.mtime, info.mode = st.st_size, int(st.st_mtime), 0o640
        reader = _HashingReader(fh, st.st_size)
        tar.addfile(info, reader)
        if reader.left:
            raise BackupError(f"{src} shrank while it was being read; run the backup again")
    return {"bytes": st.st_size, "sha256": reader.sha.hexdigest()}


def _add_bytes(tar: tarfile.TarFile, data: bytes, arcname: str) -> None:
    import io

    info = tarfile.TarInfo(arcname)
    info.size, info.mtime, info.mode = len(data), int(time.time()), 0o640
    tar.addfile(info, io.BytesIO(data))


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


# ------------------------------------------------------------------------------------------------ the database


def sqlite_path(engine: Engine) -> Path:
    db = engine.url.database
    if not db or db == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up; set SUBSIDENCE_DATABASE_URL to a file")
    return Path(db).resolve()


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sqlite_counts(conn: sqlite3.Connection) -> dict[str, int]:
    names = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ]
    return {n: int(conn.execute(f"SELECT count(*) FROM {_q(n)}").fetchone()[0]) for n in names}


def _sqlite_revision(conn: sqlite3.Connection) -> str | None:
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:
        return None
    return row[0] if row else None


def _pg_tables_sql() -> str:
    return (
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
        "AND table_type = 'BASE TABLE' ORDER BY table_name"
    )


def table_counts(engine: Engine) -> dict[str, int]:
    """Rows in every table of the database (PostGIS' ``spatial_ref_sys`` left out)."""
    if engine.dialect.name == "sqlite":
        path = sqlite_path(engine)
        if not path.exists():
            return {}
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        try:
            return _sqlite_counts(conn)
        finally:
            conn.close()
    with engine.connect() as conn:
        names = [n for n in conn.execute(text(_pg_tables_sql())).scalars() if n not in FOREIGN_TABLES]
        return {n: int(conn.execute(text(f"SELECT count(*) FROM {_q(n)}")).scalar_one()) for n in names}


def _libpq(engine: Engine) -> tuple[str, dict[str, str]]:
    """(libpq connection URI without the password, environment with PGPASSWORD) for ``engine``."""
    url = engine.url
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    uri = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return uri, env


def _client_major(exe: str) -> int | None:
    try:
        out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30, check=False).stdout
    except OSError:
        return None
    m = re.search(r"\)\s+(\d+)", out) or re.search(r"(\d+)\.\d+", out)
    return int(m.group(1)) if m else None


def pg_tool(name: str, server_major: int) -> str:
    """The ``pg_dump``/``pg_restore``/``psql`` of ``server_major``, or of a newer client (never an older one:
    pg_dump refuses a newer server). Looks in Debian's ``/usr/lib/postgresql/N/bin``, then on ``PATH``."""
    base = Path("/usr/lib/postgresql")
    candidates: list[tuple[int, str]] = []
    if base.is_dir():
        for d in base.iterdir():
            exe = d / "bin" / name
            if d.name.isdigit() and exe.is_file() and int(d.name) >= server_major:
                candidates.append((int(d.name), str(exe)))
    candidates.sort()
    if candidates:
        return candidates[0][1]
    exe = shutil.which(name)
    if exe is not None and (_client_major(exe) or 0) >= server_major:
        return exe
    raise BackupError(
        f"{name} for PostgreSQL {server_major} (or newer) not found; install it "
        f"(Debian: apt-get install postgresql-client-{server_major})"
    )


def _server_major(conn) -> int:
    return int(conn.execute(text("SHOW server_version_num")).scalar_one()) // 10000


# ------------------------------------------------------------------------------------------------ the data dir


def _excluded_paths(settings: Settings, engine: Engine) -> set[Path]:
    out: set[Path] = set()
    if engine.dialect.name == "sqlite":
        db = sqlite_path(engine)
        out |= {db, Path(f"{db}-wal"), Path(f"{db}-shm"), Path(f"{db}-journal"), Path(f"{db}.migrate-lock")}
    return out


def data_files(settings: Settings, engine: Engine, also_exclude: set[Path] | None = None) -> list[Path]:
    """Every regular file of the data directory that belongs in a backup, sorted (see the module doc)."""
    root = Path(settings.data_dir).resolve()
    if not root.is_dir():
        return []
    skip = _excluded_paths(settings, engine) | {p.resolve() for p in (also_exclude or set())}
    backups = root / "backups"
    out: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        d = Path(dirpath)
        dirnames[:] = sorted(n for n in dirnames if d / n != backups and not n.startswith(TEMP_PREFIXES))
        for n in sorted(filenames):
            p = d / n
            if n.startswith(TEMP_PREFIXES) or p in skip or not p.is_file() or p.is_symlink():
                continue
            out.append(p)
    return out


# ------------------------------------------------------------------------------------------------ create


@dataclass
class BackupResult:
    path: Path
    manifest: dict[str, Any]
    seconds: float
    bytes: int

    def to_dict(self) -> dict[str, Any]:
        m = self.manifest
        return {
            "path": str(self.path),
            "bytes": self.bytes,
            "seconds": round(self.seconds, 3),
            "dialect": m["database"]["dialect"],
            "revision": m["database"]["revision"],
            "tables": len(m["database"]["tables"]),
            "rows": m["totals"]["rows"],
            "files": m["totals"]["files"],
            "file_bytes": m["totals"]["file_bytes"],
        }


def default_name(now: datetime | None = None) -> str:
    """``subsidence-YYYYMMDDTHHMMSSZ.tar.zst`` (``.tar.gz`` where zstd is not installed)."""
    now = now or datetime.now(UTC)
    ext = ".tar.zst" if shutil.which("zstd") else ".tar.gz"
    return f"subsidence-{now.strftime('%Y%m%dT%H%M%SZ')}{ext}"


def resolve_destination(dest: Path | str) -> Path:
    """A directory (existing, or written with a trailing slash) gets a time-stamped archive inside it."""
    if Path(dest).is_dir() or str(dest).endswith(os.sep):
        dest = Path(dest)
        dest.mkdir(parents=True, exist_ok=True)
        return dest / default_name()
    compression_of(Path(dest))
    return Path(dest)


def prune(directory: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` ``subsidence-*.tar*`` archives in ``directory``; returns the deleted."""
    if keep < 1:
        raise BackupError("--keep must be at least 1")
    archives = sorted((p for p in directory.glob("subsidence-*.tar*") if p.is_file()), key=lambda p: p.name)
    gone = archives[:-keep] if len(archives) > keep else []
    for p in gone:
        p.unlink()
        log.info("backup: pruned %s", p)
    return gone


def create_backup(dest: Path | str, settings: Settings, engine: Engine) -> BackupResult:
    """Write one archive of the database and the data directory to ``dest`` (see the module doc).

    The archive appears under its name only when complete (written as a hidden partial file in the same
    folder, fsynced, renamed); on any error nothing is left behind.
    """
    from subsidence import __version__ as product_version

    t0 = time.monotonic()
    dest = resolve_destination(dest).resolve()
    if dest.exists():
        raise BackupError(f"{dest} exists; backups are never overwritten (choose another name or a folder)")
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(f".partial-{dest.name}")
    work = Path(tempfile.mkdtemp(prefix=".partial-work-", dir=dest.parent))
    try:
        if engine.dialect.name == "sqlite":
            db_member, db_file, database = DB_SQLITE, work / "database.sqlite", _snapshot_sqlite(engine, work)
        elif engine.dialect.name == "postgresql":
            db_member, db_file, database = DB_PGDUMP, work / "database.pgdump", _snapshot_postgres(engine, work)
        else:
            raise BackupError(f"backups of {engine.dialect.name} databases are not supported (SQLite, PostgreSQL)")
        root = Path(settings.data_dir).resolve()
        files: list[dict[str, Any]] = []
        with _open_write(partial) as tar:
            database.update(member=db_member, **_add_file(tar, db_file, db_member))
            db_file.unlink()
            for p in data_files(settings, engine, also_exclude={dest, partial}):
                rel = p.relative_to(root).as_posix()
                try:
                    files.append({"path": rel, **_add_file(tar, p, FILES + rel)})
                except FileNotFoundError:  # removed between listing and reading (a temporary file)
                    log.warning("backup: %s disappeared while the backup ran; not included", p)
            manifest = {
                "format": FORMAT,
                "created_at": datetime.now(UTC).isoformat(),
                "product_version": product_version,
                "host": socket.gethostname(),
                "data_dir": str(root),
                "database": database,
                "files": files,
                "totals": {
                    "tables": len(database["tables"]),
                    "rows": sum(database["tables"].values()),
                    "files": len(files),
                    "file_bytes": sum(f["bytes"] for f in files),
                },
                "excluded": [
                    "the SQLite database file itself (it is the snapshot)",
                    "DATA_DIR/backups/",
                    "temporary files (" + ", ".join(TEMP_PREFIXES) + "*)",
                ],
            }
            _add_bytes(tar, json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8"), MANIFEST)
        os.chmod(partial, ARCHIVE_MODE)  # the county's records, households' phone numbers among them
        with partial.open("rb") as fh:
            os.fsync(fh.fileno())
        os.replace(partial, dest)
        _fsync_dir(dest.parent)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    size = dest.stat().st_size
    seconds = time.monotonic() - t0
    log.info(
        "backup: %s (%d bytes, %d rows in %d tables, %d files) in %.1f s",
        dest,
        size,
        manifest["totals"]["rows"],
        manifest["totals"]["tables"],
        len(files),
        seconds,
    )
    return BackupResult(dest, manifest, seconds, size)


def _fsync_dir(d: Path) -> None:
    try:
        fd = os.open(d, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _snapshot_sqlite(engine: Engine, work: Path) -> dict[str, Any]:
    src_path = sqlite_path(engine)
    if not src_path.exists():
        raise BackupError(
            f"{src_path}: the database file does not exist (nothing to back up; run `subsidence db upgrade` first)"
        )
    out = work / "database.sqlite"
    src = sqlite3.connect(f"file:{src_path}?mode=ro", uri=True, timeout=60)
    dst = sqlite3.connect(out)
    try:
        src.execute("PRAGMA busy_timeout=60000")
        src.backup(dst)  # pages=-1: the whole database in one step, i.e. inside one read transaction
        dst.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file
        check = dst.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":
            raise BackupError(
                f"{src_path}: the copy fails SQLite's integrity check ({check}); the database "
                "file is damaged — restore the last good backup"
            )
        counts = _sqlite_counts(dst)
        revision = _sqlite_revision(dst)
        version = sqlite3.sqlite_version
    finally:
        dst.close()
        src.close()
    return {"dialect": "sqlite", "server_version": version, "revision": revision, "tables": counts}


def _snapshot_postgres(engine: Engine, work: Path) -> dict[str, Any]:
    out = work / "database.pgdump"
    uri, env = _libpq(engine)
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
        conn.execute(text("SET TRANSACTION READ ONLY"))
        snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
        major = _server_major(conn)
        version = conn.execute(text("SHOW server_version")).scalar_one()
        names = [n for n in conn.execute(text(_pg_tables_sql())).scalars() if n not in FOREIGN_TABLES]
        counts = {n: int(conn.execute(text(f"SELECT count(*) FROM {_q(n)}")).scalar_one()) for n in names}
        revision = (
            conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            if "alembic_version" in counts
            else None
        )
        # the dump reads the same snapshot while this transaction is still open
        cmd = [
            pg_tool("pg_dump", major),
            "--format=custom",
            f"--snapshot={snapshot}",
            "--file",
            str(out),
            "--dbname",
            uri,
        ]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        conn.rollback()
    if proc.returncode != 0:
        raise BackupError(f"pg_dump failed (exit {proc.returncode}): {proc.stderr.strip()[-2000:]}")
    return {
        "dialect": "postgresql",
        "server_version": version,
        "revision": revision,
        "tables": counts,
        "pg_dump": cmd[0],
    }


# ------------------------------------------------------------------------------------------------ read / verify


@dataclass
class Contents:
    """What reading an archive found: the manifest, each member's size and hash, problems."""

    manifest: dict[str, Any] | None = None
    members: dict[str, dict[str, Any]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _safe_member(name: str) -> str | None:
    p = PurePosixPath(name)
    if p.is_absolute() or ".." in p.parts or not name.startswith(ROOT + "/"):
        return None
    return name


def _read(path: Path, extract_to: Path | None = None, only: str | None = None) -> Contents:
    """Stream ``path`` once: hash every member; with ``extract_to``, write members below it as well (with
    ``only``, just the members whose names start with it)."""
    found = Contents()
    with _open_read(path) as tar:
        for member in tar:
            name = _safe_member(member.name)
            if name is None:
                found.problems.append(f"member {member.name!r} lies outside {ROOT}/ (refused)")
                continue
            if member.isdir():
                continue
            if not member.isfile():
                found.problems.append(f"member {member.name!r} is not a regular file (refused)")
                continue
            fh = tar.extractfile(member)
            h, size = hashlib.sha256(), 0
            out = None
            if name == MANIFEST:
                data = fh.read()
                try:
                    found.manifest = json.loads(data.decode("utf-8"))
                except ValueError as exc:
                    found.problems.append(f"manifest.json is not valid JSON ({exc})")
                continue
            if extract_to is not None and (only is None or name.startswith(only)):
                target = extract_to / name
                target.parent.mkdir(parents=True, exist_ok=True)
                out = target.open("wb")
            try:
                for chunk in iter(lambda fh=fh: fh.read(CHUNK), b""):
                    h.update(chunk)
                    size += len(chunk)
                    if out is not None:
                        out.write(chunk)
            finally:
                if out is not None:
                    out.flush()
                    os.fsync(out.fileno())
                    out.close()
            found.members[name] = {"bytes": size, "sha256": h.hexdigest()}
    return found


def _check(found: Contents, path: Path) -> None:
    """Compare the members with the manifest; problems are appended to ``found.problems``."""
    m = found.manifest
    if m is None:
        found.problems.append("no manifest.json: not a subsidence backup, or the archive is truncated")
        return
    if m.get("format") != FORMAT:
        found.problems.append(f"unknown backup format {m.get('format')!r} (this version reads {FORMAT})")
        return
    expected = {m["database"]["member"]: m["database"]}
    expected.update({FILES + f["path"]: f for f in m["files"]})
    for name, want in expected.items():
        got = found.members.get(name)
        if got is None:
            found.problems.append(f"{name}: listed in the manifest but missing from the archive")
        elif got["sha256"] != want["sha256"] or got["bytes"] != want["bytes"]:
            found.problems.append(
                f"{name}: SHA-256/size differ from the manifest (damaged): "
                f"{got['bytes']} bytes {got['sha256'][:12]}…, manifest {want['bytes']} bytes "
                f"{want['sha256'][:12]}…"
            )
    for name in sorted(set(found.members) - set(expected)):
        found.problems.append(f"{name}: in the archive but not in the manifest")


@dataclass
class VerifyResult:
    path: Path
    ok: bool
    manifest: dict[str, Any] | None
    problems: list[str]
    checks: list[str]
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        m = self.manifest or {}
        return {
            "path": str(self.path),
            "ok": self.ok,
            "problems": self.problems,
            "checks": self.checks,
            "created_at": m.get("created_at"),
            "dialect": (m.get("database") or {}).get("dialect"),
            "revision": (m.get("database") or {}).get("revision"),
            "totals": m.get("totals"),
            "seconds": round(self.seconds, 3),
        }


def verify_backup(path: Path) -> VerifyResult:
    """Check an archive: every member against the manifest's SHA-256 and size, nothing missing or extra, and
    the database artefact itself (SQLite: integrity check and every table's row count against the manifest;
    PostgreSQL: ``pg_restore --list`` reads the dump and finds the data of every table in the manifest)."""
    t0 = time.monotonic()
    path = Path(path)
    scratch = path.parent if path.parent.is_dir() and os.access(path.parent, os.W_OK) else None  # else $TMPDIR
    with tempfile.TemporaryDirectory(prefix=".restore-verify-", dir=scratch) as tmp:
        try:
            found = _read(path, extract_to=Path(tmp), only=f"{ROOT}/db/")  # files are only hashed
        except BackupError as exc:
            return VerifyResult(path, False, None, [str(exc)], [], time.monotonic() - t0)
        _check(found, path)
        checks = [f"{len(found.members)} members hashed (SHA-256)"]
        if not found.problems and found.manifest is not None:
            checks += _check_database(found.manifest, Path(tmp), found.problems)
    return VerifyResult(path, not found.problems, found.manifest, found.problems, checks, time.monotonic() - t0)


def _check_database(manifest: dict[str, Any], staged: Path, problems: list[str]) -> list[str]:
    db = manifest["database"]
    artefact = staged / db["member"]
    if db["dialect"] == "sqlite":
        conn = sqlite3.connect(f"file:{artefact}?mode=ro", uri=True)
        try:
            check = conn.execute("PRAGMA integrity_check").fetchone()[0]
            if check != "ok":
                problems.append(f"database copy fails SQLite's integrity check: {check}")
            counts = _sqlite_counts(conn)
        finally:
            conn.close()
        if counts != db["tables"]:
            diff = sorted(k for k in set(counts) | set(db["tables"]) if counts.get(k) != db["tables"].get(k))
            problems.append(f"row counts differ from the manifest in {', '.join(diff[:10])}")
        return ["SQLite integrity check", f"row counts of {len(counts)} tables equal the manifest"]
    try:
        major = int(str(db["server_version"]).split(".")[0])
        exe = pg_tool("pg_restore", major)
    except (BackupError, ValueError) as exc:
        return [f"dump contents not checked: {exc}"]
    proc = subprocess.run([exe, "--list", str(artefact)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        problems.append(f"pg_restore cannot read the dump: {proc.stderr.strip()[-500:]}")
        return []
    listed = set(re.findall(r"TABLE DATA \S+ (\S+) ", proc.stdout))
    missing = [t for t, n in db["tables"].items() if t not in listed]
    if missing:
        problems.append(f"the dump has no data for {', '.join(missing[:10])}")
    return [f"pg_restore --list reads the dump: data of {len(db['tables']) - len(missing)} tables"]


# ------------------------------------------------------------------------------------------------ restore


@dataclass
class RestoreResult:
    manifest: dict[str, Any]
    counts: dict[str, int]
    files: int
    moved_aside: Path | None
    seconds: float
    notes: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "created_at": self.manifest["created_at"],
            "revision": self.manifest["database"]["revision"],
            "tables": len(self.counts),
            "rows": sum(self.counts.values()),
            "files": self.files,
            "moved_aside": str(self.moved_aside) if self.moved_aside else None,
            "seconds": round(self.seconds, 3),
            "notes": self.notes,
        }


def database_rows(engine: Engine) -> int:
    """Rows in the database's own tables (bookkeeping tables left out): 0 means empty."""
    return sum(n for t, n in table_counts(engine).items() if t not in BOOKKEEPING_TABLES)


def data_dir_files(settings: Settings, engine: Engine) -> list[Path]:
    return data_files(settings, engine)


def restore_backup(path: Path, settings: Settings, engine: Engine, *, force: bool = False) -> RestoreResult:
    """Restore the archive into the configured database and data directory.

    Both must be empty (a database whose tables have no rows, e.g. just migrated, counts as empty; a data
    directory without files) unless ``force``: then the database is replaced and the data directory's
    current files are moved aside to ``DATA_DIR.replaced-<time>`` (never deleted). Stop the services first.
    """
    from subsidence.db.migrate import known_revisions

    t0 = time.monotonic()
    path = Path(path).resolve()
    root = Path(settings.data_dir).resolve()
    rows = database_rows(engine)
    present = data_files(settings, engine)
    if not force and (rows or present):
        what = []
        if rows:
            what.append(f"the database {engine.url.render_as_string(hide_password=True)} holds {rows} rows")
        if present:
            what.append(f"the data directory {root} holds {len(present)} files")
        raise BackupError(
            " and ".join(what) + "; restore only into an empty installation, or add --force to "
            "replace it (the data directory's files are moved aside, the database is replaced)"
        )
    root.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".restore-{root.name}-", dir=root.parent))
    notes: list[str] = []
    moved_aside: Path | None = None
    try:
        found = _read(path, extract_to=staging)
        _check(found, path)
        if found.problems:
            raise BackupError(f"{path} fails verification, nothing restored: " + "; ".join(found.problems[:5]))
        manifest = found.manifest
        db = manifest["database"]
        if db["dialect"] != engine.dialect.name:
            raise BackupError(
                f"the backup is of a {db['dialect']} database but SUBSIDENCE_DATABASE_URL points at "
                f"{engine.dialect.name}; restore it into a {db['dialect']} database"
            )
        if db["revision"] is not None and db["revision"] not in known_revisions():
            raise BackupError(
                f"the backup's schema revision {db['revision']!r} is newer than this version of "
                "subsidence knows; install the version that made the backup "
                f"({manifest.get('product_version')}) or newer, then restore"
            )
        _check_database(manifest, staging, found.problems)
        if found.problems:
            raise BackupError(
                "the database in the archive fails its check, nothing restored: " + "; ".join(found.problems[:5])
            )
        artefact = staging / db["member"]
        if engine.dialect.name == "sqlite":
            _restore_sqlite(artefact, engine)
        else:
            _restore_postgres(artefact, engine, db)
        # the database is in; now the files (renames on one file system)
        current = data_files(settings, engine)
        if current:
            moved_aside = root.with_name(f"{root.name}.replaced-{datetime.now(UTC):%Y%m%dT%H%M%SZ}")
            for p in current:
                target = moved_aside / p.relative_to(root)
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(p, target)
            notes.append(f"the data directory's previous {len(current)} files were moved to {moved_aside}")
        for f in manifest["files"]:
            target = root / f["path"]
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / (FILES + f["path"]), target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    counts = {t: n for t, n in table_counts(engine).items()}
    want = db["tables"]
    if {t: counts.get(t) for t in want} != want:
        diff = [t for t in want if counts.get(t) != want[t]]
        raise BackupError(
            f"restored, but row counts differ from the manifest in {', '.join(diff[:10])}: "
            "check the database server's log"
        )
    from subsidence.db.migrate import head_revision

    if db["revision"] != head_revision():
        notes.append(
            f"schema at revision {db['revision']}; `subsidence db upgrade` brings it to "
            f"{head_revision()} (the services do it when they start)"
        )
    seconds = time.monotonic() - t0
    log.info("restore: %s → %d rows, %d files in %.1f s", path, sum(counts.values()), len(manifest["files"]), seconds)
    return RestoreResult(manifest, {t: counts[t] for t in want}, len(manifest["files"]), moved_aside, seconds, notes)


def _restore_sqlite(artefact: Path, engine: Engine) -> None:
    target = sqlite_path(engine)
    engine.dispose()
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f"file:{artefact}?mode=ro", uri=True)
    dst = sqlite3.connect(target, timeout=60)
    try:
        dst.execute("PRAGMA busy_timeout=60000")
        src.backup(dst)  # replaces the target's content in one transaction
        dst.execute("PRAGMA journal_mode=WAL")
    finally:
        dst.close()
        src.close()


_DROP_RELATIONS = """
SELECT c.relkind, quote_ident(n.nspname) || '.' || quote_ident(c.relname)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = :schema AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
ORDER BY c.relkind, c.relname"""
_DROP_FUNCTIONS = """
SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = :schema AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')"""
_DROP_TYPES = """
SELECT quote_ident(n.nspname) || '.' || quote_ident(t.typname) FROM pg_type t
JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE n.nspname = :schema AND t.typtype IN ('e', 'd')
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = t.oid AND d.deptype = 'e')"""
_KIND = {"r": "TABLE", "p": "TABLE", "f": "FOREIGN TABLE", "v": "VIEW", "m": "MATERIALIZED VIEW", "S": "SEQUENCE"}


def _drop_statements(conn, schema: str) -> str:
    """SQL that drops every object of ``schema`` that does not belong to an extension: PostGIS stays (a
    non-superuser may not create it again), everything of ours goes."""
    lines = []
    for kind, name in conn.execute(text(_DROP_RELATIONS), {"schema": schema}):
        lines.append(f"DROP {_KIND[kind]} IF EXISTS {name} CASCADE;")
    for (sig,) in conn.execute(text(_DROP_FUNCTIONS), {"schema": schema}):
        lines.append(f"DROP ROUTINE IF EXISTS {sig} CASCADE;")
    for (name,) in conn.execute(text(_DROP_TYPES), {"schema": schema}):
        lines.append(f"DROP TYPE IF EXISTS {name} CASCADE;")
    return "\n".join(lines) + "\n"


def _restore_postgres(artefact: Path, engine: Engine, db: dict[str, Any]) -> None:
    """Replace the database's own objects by the dump's in ONE transaction: ``pg_restore`` writes SQL,
    ``psql --single-transaction`` runs it after dropping our current objects (extensions are kept; the dump's
    ``CREATE EXTENSION IF NOT EXISTS`` creates PostGIS where it is missing and the role may). ``COMMENT ON
    EXTENSION`` entries are left out (only the extension's owner may run them). Any error rolls back all."""
    with engine.connect() as conn:
        major = _server_major(conn)
        schema = conn.execute(text("SELECT current_schema()")).scalar_one()
        prefix = _drop_statements(conn, schema).encode()
    engine.dispose()
    uri, env = _libpq(engine)
    restore = pg_tool("pg_restore", major)
    psql = pg_tool("psql", major)
    toc = subprocess.run([restore, "--list", str(artefact)], capture_output=True, text=True, check=False)
    if toc.returncode != 0:
        raise BackupError(f"pg_restore cannot read the dump: {toc.stderr.strip()[-500:]}")
    listing = artefact.with_suffix(".list")
    foreign = "|".join(re.escape(t) for t in sorted(FOREIGN_TABLES))
    skip = re.compile(rf"\bCOMMENT - EXTENSION\b|\bTABLE DATA \S+ ({foreign}) ")  # PostGIS' own rows stay its own
    listing.write_text("\n".join(line for line in toc.stdout.splitlines() if not skip.search(line)) + "\n")
    producer = subprocess.Popen(
        [restore, "--no-owner", "--no-privileges", "--use-list", str(listing), "--file", "-", str(artefact)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    consumer = subprocess.Popen(
        [psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction", "--dbname", uri, "-f", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        consumer.stdin.write(prefix)
        for chunk in iter(lambda: producer.stdout.read(CHUNK), b""):
            consumer.stdin.write(chunk)
    except BrokenPipeError:
        pass
    finally:
        try:
            consumer.stdin.close()
        except BrokenPipeError:
            pass
        prc = producer.wait()
        crc = consumer.wait()
    perr = producer.stderr.read().decode(errors="replace").strip()
    cerr = consumer.stderr.read().decode(errors="replace").strip()
    producer.stdout.close(), producer.stderr.close(), consumer.stderr.close()
    if prc != 0 or crc != 0:
        errors = [line for line in (cerr + "\n" + perr).splitlines() if "ERROR" in line or "error" in line]
        raise BackupError(
            "restoring the database failed and was rolled back (nothing changed): "
            + ("; ".join(errors) or cerr or perr)[-2000:]
        )
