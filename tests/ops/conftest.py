"""Fixtures for the operations tests: a populated installation (the demo county plus real files in the data
directory) and an empty target installation of the same dialect to restore into."""

from __future__ import annotations

import hashlib
import io
import os
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from subsidence.settings import Settings, get_settings

TODAY = date(2026, 11, 30)
PG_URL = os.environ.get("SUBSIDENCE_TEST_POSTGRES_URL")


def file_hashes(root: Path, skip: set[Path] = frozenset()) -> dict[str, str]:
    """SHA-256 of every regular file below ``root`` by relative path (SQLite files and ``skip`` left out)."""
    out = {}
    for p in sorted(Path(root).rglob("*")):
        if p.is_file() and not p.name.startswith("subsidence.sqlite") and p not in skip:
            out[p.relative_to(root).as_posix()] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def _png(seed: int) -> bytes:
    from PIL import Image

    img = Image.new("RGB", (64, 48), (seed * 37 % 256, seed * 91 % 256, 120))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def _pdf() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (200, 280), (255, 255, 255)).save(buf, format="PDF")
    return buf.getvalue()


def populate_files(data_dir: Path, engine: Engine) -> int:
    """Real files where the product keeps them: evidence (content-addressed PNG and PDF through the evidence
    store), an issued notice (DOCX, Chinese name), a prediction GeoTIFF, and the alert log written by a real
    dispatch of the outbox. Returns the number of files."""
    import numpy as np
    import rasterio
    from affine import Affine
    from docx import Document

    from subsidence.ledger.evidence import TYPES, store_blob
    from subsidence.monitoring.channels import LogChannel
    from subsidence.monitoring.outbox import dispatch

    for i in range(6):
        store_blob(_png(i), TYPES["png"])
    store_blob(_pdf(), TYPES["pdf"])
    notices = data_dir / "outputs" / "notices"
    notices.mkdir(parents=True, exist_ok=True)
    doc = Document()
    doc.add_paragraph("限期整改通知书（示例）")
    doc.save(notices / "整改通知书-TZ-2024-0001.docx")
    pred = data_dir / "outputs" / "prediction" / "pred.tif"
    pred.parent.mkdir(parents=True, exist_ok=True)
    w = np.random.default_rng(7).normal(0, 100, (120, 160)).astype("float32")
    with rasterio.open(
        pred,
        "w",
        driver="GTiff",
        width=160,
        height=120,
        count=1,
        dtype="float32",
        crs="EPSG:4546",
        transform=Affine(10, 0, 437_000, 0, -10, 4_390_000),
    ) as dst:
        dst.write(w, 1)
    dispatch(engine, {"log": LogChannel(data_dir / "alerts.log")})
    return len(file_hashes(data_dir))


@pytest.fixture
def populated(engine) -> Settings:
    """The demo county in ``engine`` and real files in the settings' data directory."""
    from subsidence.db.audit import acting_as
    from subsidence.db.session import make_sessionmaker
    from subsidence.demo.county import build_demo

    with make_sessionmaker(engine)() as s, acting_as(s, "demo"):
        build_demo(s, today=TODAY)
        s.commit()
    settings = get_settings()
    populate_files(Path(settings.data_dir), engine)
    return settings


@pytest.fixture
def small(engine) -> Settings:
    """A small installation (a few ledger rows and the same kinds of files) for the tests that need no county."""
    from subsidence.core.models import Unit
    from subsidence.db.audit import acting_as
    from subsidence.db.session import make_sessionmaker
    from subsidence.vocabulary import UnitKind

    with make_sessionmaker(engine)() as s, acting_as(s, "test"):
        s.add_all([Unit(code=f"U{i}", name_zh=f"单位{i}", kind=UnitKind.BUREAU) for i in range(3)])
        s.commit()
    settings = get_settings()
    populate_files(Path(settings.data_dir), engine)
    return settings


@dataclass
class Target:
    settings: Settings
    engine: Engine
    url: str


@pytest.fixture
def target(engine, tmp_path):
    """An empty installation of ``engine``'s dialect: a database that does not exist yet (SQLite) or has nothing
    in it (PostgreSQL, created for the test), and a data directory that does not exist."""
    from subsidence.db.session import make_engine

    data_dir = tmp_path / "restored"
    if engine.dialect.name == "sqlite":
        url = f"sqlite:///{data_dir / 'subsidence.sqlite'}"
        eng = make_engine(url)
        yield Target(Settings(data_dir=data_dir, database_url=url), eng, url)
        eng.dispose()
        return
    name = f"subsidence_r_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    eng = make_engine(url)
    yield Target(Settings(data_dir=data_dir, database_url=url), eng, url)
    eng.dispose()
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
