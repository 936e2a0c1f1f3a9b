"""The demo county served by uvicorn on a loopback port, for the browser tests (one helper for every module)."""

from __future__ import annotations

import contextlib
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class DemoServer:
    base: str  #: http://127.0.0.1:PORT
    root: Path  #: the folder holding the database and the data dir
    data_dir: Path


@contextlib.contextmanager
def serve_demo(root: Path, sqlite_template: Path, *, built: date, served: date, seed: int = 7) -> Iterator[DemoServer]:
    """Build the demo county (as of ``built``) with its demo accounts in a copy of the migrated template and serve
    it, with the application's today pinned to ``served``, until the block ends."""
    import uvicorn

    from subsidence.api import create_app
    from subsidence.db.session import make_engine, make_sessionmaker
    from subsidence.demo.accounts import ensure_demo_accounts
    from subsidence.demo.county import build_demo
    from subsidence.settings import Settings

    db = root / "demo.sqlite"
    shutil.copy(sqlite_template, db)
    engine = make_engine(f"sqlite:///{db}")
    with make_sessionmaker(engine)() as s:
        s.info["actor"] = "demo"
        build_demo(s, seed=seed, today=built)
        ensure_demo_accounts(s)
        s.commit()
    settings = Settings(data_dir=root / "data", database_url=f"sqlite:///{db}")
    app = create_app(settings, engine, today=served)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield DemoServer(f"http://127.0.0.1:{port}", root, root / "data")
    finally:
        server.should_exit = True
        thread.join(10)
        engine.dispose()
