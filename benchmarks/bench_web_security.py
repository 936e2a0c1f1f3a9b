"""Web security costs: simultaneous progress PDFs and failed sign-ins.

1. Six simultaneous progress-report PDFs on the demo county: ours (one rendering per data version and scope,
   at most ``RENDER_SLOTS`` at once) against the baseline of rendering every request, both in this run
   (the baseline calls the same renderer six times at once in threads, which is what the route did).
2. A failed sign-in: Argon2id at the production parameters (OWASP minimum m=19 MiB, t=2, p=1) against the
   previous RFC 9106 parameters (m=64 MiB, t=3, p=4), time per verification; memory per verification is the
   parameter itself, and at most ``HASH_SLOTS`` verifications run at once.

    . .venv/bin/activate && timeout 300 python benchmarks/bench_web_security.py
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

TODAY = date(2024, 11, 15)


def six_at_once(fn) -> float:
    """Wall time (s) until six threads running ``fn`` all finish."""
    threads = [threading.Thread(target=fn) for _ in range(6)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - t0


def bench_reports() -> None:
    from fastapi.testclient import TestClient

    import subsidence.schema  # noqa: F401
    from subsidence.api import create_app
    from subsidence.db.migrate import upgrade
    from subsidence.db.session import make_engine, make_sessionmaker
    from subsidence.demo.accounts import ensure_demo_accounts
    from subsidence.demo.county import build_demo
    from subsidence.reports import progress as rp
    from subsidence.settings import Settings

    root = Path(tempfile.mkdtemp())
    try:
        url = f"sqlite:///{root / 'demo.sqlite'}"
        engine = make_engine(url)
        upgrade(engine)
        with make_sessionmaker(engine)() as s:
            s.info["actor"] = "bench"
            build_demo(s, seed=7, today=TODAY)
            ensure_demo_accounts(s)
            s.commit()
        app = create_app(Settings(data_dir=root / "data", database_url=url), engine, today=TODAY)
        with TestClient(app) as c:
            tok = c.post("/api/auth/token", json={"username": "office", "password": "office-demo-2024"}).json()["token"]
            h = {"Authorization": f"Bearer {tok}"}
            with make_sessionmaker(engine)() as s:
                rep = rp.build_report(s, date(2024, 9, 10), TODAY)
            t0 = time.perf_counter()
            rp.progress_pdf(rep)
            one = time.perf_counter() - t0
            base = six_at_once(lambda: rp.progress_pdf(rep))
            ours = six_at_once(lambda: c.get("/api/reports/progress", headers=h))
        print(f"one progress PDF alone: {one:.2f} s")
        print(
            f"six at once, baseline (render each): {base:.2f} s  |  ours (route): {ours:.2f} s  "
            f"|  speed-up {base / ours:.1f}x"
        )
    finally:
        engine.dispose()
        shutil.rmtree(root, ignore_errors=True)


def bench_hash() -> None:
    from argon2 import PasswordHasher

    from subsidence.access import accounts

    old = PasswordHasher(time_cost=3, memory_cost=65536, parallelism=4)
    new = accounts.PRODUCTION_HASHER
    for name, h in (("RFC 9106 m=64MiB t=3 p=4 (before)", old), ("OWASP m=19MiB t=2 p=1 (now)", new)):
        stored = h.hash("correct-horse-battery")
        t0 = time.perf_counter()
        for _ in range(3):
            try:
                h.verify(stored, "wrong-password-xx")
            except Exception:  # noqa: BLE001 - a mismatch is the point
                pass
        print(
            f"{name}: {(time.perf_counter() - t0) / 3 * 1000:.0f} ms per failed verification, "
            f"{h.memory_cost // 1024} MiB each"
        )
    print(
        f"hashing slots: {accounts.HASH_SLOTS} -> at most {accounts.HASH_SLOTS * new.memory_cost // 1024} MiB "
        "in use for hashing, whatever the number of sign-ins"
    )


if __name__ == "__main__":
    bench_hash()
    bench_reports()
