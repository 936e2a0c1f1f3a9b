"""Load benchmark of the web API: 100,000 problems and 1,000 hazard points, 50 concurrent clients on loopback.

What it measures (one run, same database, same server):

* p50/p95/p99 latency and throughput of the list/filter endpoints (``/api/problems`` with and without
  filters, as the office and as an enterprise whose scope filter applies, ``/api/hazard-points``);
* the **baseline** in the same run: the same problem page served by naive ORM serialisation
  (``select(Problem)`` objects, lazy-loaded mine/town/lead unit per row: the N+1 pattern) from a route that
  exists only in this benchmark;
* the dashboard's first load: the HTML page plus every API call its script makes, in parallel as a browser
  does, on a cold server (first request after start) and warm.

Usage::

    . .venv/bin/activate && python benchmarks/bench_api_load.py            # 100k problems, SQLite
    python benchmarks/bench_api_load.py --problems 20000 --duration 3       # quicker
    python benchmarks/bench_api_load.py --client python                     # without wrk
    python benchmarks/bench_api_load.py --db-url postgresql+psycopg://...   # an empty PostgreSQL database

The server is uvicorn in a subprocess (``--workers``, default 1; see the README section). The load generator
is ``wrk`` when installed (Debian package ``wrk``: a C program, so the client does not take the CPU the server
needs on a small machine; ``--duration`` seconds per pass), else the Python ``httpx`` client (``--requests`` per
pass); the output names the one used. Every list endpoint runs twice: ``[cold]`` (none of its URLs cached yet:
every URL misses once) and ``[warm]`` (the steady state of a read-only load).
"""

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np

TODAY = date(2024, 11, 15)


def build_database(url: str, n_problems: int, n_hazards: int, seed: int = 1) -> dict[str, str]:
    """Migrate and bulk-insert the load data; returns bearer tokens for an office and an enterprise account."""
    from shapely.geometry import MultiPolygon, Point, box
    from sqlalchemy import insert

    from subsidence.access import accounts
    from subsidence.access.models import User
    from subsidence.core.models import AdminArea, Enterprise, Mine, TaskAssignment, Unit
    from subsidence.db.migrate import upgrade
    from subsidence.db.session import make_engine, make_sessionmaker
    from subsidence.ledger.models import Problem
    from subsidence.monitoring.models import HazardPoint
    from subsidence.vocabulary import (
        AreaLevel,
        HazardType,
        ProblemCategory,
        ProblemSource,
        ProblemState,
        Role,
        TaskRole,
        UnitKind,
    )

    rng = np.random.default_rng(seed)
    engine = make_engine(url)
    upgrade(engine)
    x0, y0 = 420_000.0, 4_330_000.0
    with make_sessionmaker(engine)() as s:
        s.info["actor"] = "bench"
        towns = [
            AdminArea(
                code=f"T{i}",
                name_zh=f"镇{i}",
                level=AreaLevel.TOWN,
                geometry=MultiPolygon([box(x0 + i * 20_000, y0, x0 + (i + 1) * 20_000, y0 + 60_000)]),
            )
            for i in range(7)
        ]
        s.add_all(towns)
        ents = [Enterprise(credit_code=f"E{i:03d}", name_zh=f"企业{i}") for i in range(50)]
        s.add_all(ents)
        s.flush()
        units = [
            Unit(code="LGO", name_zh="办公室", kind=UnitKind.OFFICE),
            Unit(code="NRB", name_zh="自然资源局", kind=UnitKind.BUREAU),
            Unit(code="AWB", name_zh="农牧和水利局", kind=UnitKind.BUREAU),
            Unit(code="EMB", name_zh="应急管理局", kind=UnitKind.BUREAU),
        ]
        units += [
            Unit(code=f"U-T{i}", name_zh=f"镇{i}政府", kind=UnitKind.TOWN, town_id=t.id) for i, t in enumerate(towns)
        ]
        units += [
            Unit(code=f"U-E{i}", name_zh=e.name_zh, kind=UnitKind.ENTERPRISE, enterprise_id=e.id)
            for i, e in enumerate(ents)
        ]
        s.add_all(units)
        s.flush()
        for no, code in ((1, "NRB"), (5, "AWB"), (7, "EMB")):
            s.add(TaskAssignment(unit_id=next(u.id for u in units if u.code == code), task_no=no, role=TaskRole.LEAD))
        mines = []
        for i in range(200):
            t = towns[i % 7]
            cx, cy = x0 + (i % 7) * 20_000 + 10_000, y0 + 5_000 + (i // 7) * 1_800
            mines.append(
                Mine(
                    licence_no=f"C{i:05d}",
                    name_zh=f"煤矿{i}",
                    enterprise_id=ents[i % 50].id,
                    town_id=t.id,
                    geometry=MultiPolygon([box(cx - 700, cy - 700, cx + 700, cy + 700)]),
                )
            )
        s.add_all(mines)
        s.flush()
        lead = {
            c: next(u.id for u in units if u.code == code)
            for c, code in (
                (ProblemCategory.SUBSIDENCE_CRACKS, "NRB"),
                (ProblemCategory.FUNDS, "NRB"),
                (ProblemCategory.GROUNDWATER, "AWB"),
                (ProblemCategory.GEOHAZARDS, "NRB"),
                (ProblemCategory.MINE_HAZARDS, "EMB"),
            )
        }
        town_unit = {t.id: next(u.id for u in units if u.town_id == t.id) for t in towns}
        cats = list(ProblemCategory)
        states = [
            ProblemState.FOUND,
            ProblemState.NOTICE_ISSUED,
            ProblemState.RECTIFYING,
            ProblemState.SUBMITTED,
            ProblemState.ACCEPTED,
            ProblemState.RETURNED,
        ]
        sources = list(ProblemSource)
        rows = []
        for i in range(n_problems):
            m = mines[int(rng.integers(len(mines)))]
            cat = cats[int(rng.integers(len(cats)))]
            found = date(2024, 9, 10) + timedelta(days=int(rng.integers(0, 60)))
            st = states[int(rng.integers(len(states)))]
            rows.append(
                dict(
                    code=f"TZ-2024-{i + 1:06d}",
                    category=cat,
                    title=f"问题{i}：{cat.label()}",
                    source=sources[int(rng.integers(len(sources)))],
                    found_date=found,
                    deadline=found + timedelta(days=int(rng.integers(10, 120))),
                    state=st,
                    mine_id=m.id,
                    town_id=m.town_id,
                    lead_unit_id=lead.get(cat, town_unit[m.town_id]),
                    closed_date=found + timedelta(days=30) if st is ProblemState.ACCEPTED else None,
                    illustrative=True,
                )
            )
            if len(rows) == 10_000:
                s.execute(insert(Problem), rows)
                rows = []
        if rows:
            s.execute(insert(Problem), rows)
        hps = [
            dict(
                code=f"YH-{i:05d}",
                name=f"隐患点{i}",
                hazard_type=list(HazardType)[i % 6],
                town_id=towns[i % 7].id,
                mine_id=mines[i % 200].id,
                threatened_people=int(rng.integers(0, 200)),
                threatened_households=int(rng.integers(0, 60)),
                threatened_property_10k_yuan=0.0,
                geometry=Point(x0 + rng.uniform(0, 140_000), y0 + rng.uniform(0, 60_000)),
                illustrative=True,
            )
            for i in range(n_hazards)
        ]
        s.execute(insert(HazardPoint), hps)
        pw = accounts.hash_password("bench-password-1")
        office = User(username="office", role=Role.OFFICE, unit_id=units[0].id, password_hash=pw, active=True)
        ent_unit = next(u for u in units if u.enterprise_id == ents[0].id)
        ent = User(
            username="ent",
            role=Role.ENTERPRISE,
            unit_id=ent_unit.id,
            enterprise_id=ents[0].id,
            password_hash=pw,
            active=True,
        )
        s.add_all([office, ent])
        s.flush()
        tokens = {
            "office": accounts.issue_token(s, office, "bench")[0],
            "enterprise": accounts.issue_token(s, ent, "bench")[0],
        }
        s.commit()
    if engine.dialect.name == "postgresql":
        with engine.begin() as c:
            c.exec_driver_sql("ANALYZE")
    else:
        with engine.begin() as c:
            c.exec_driver_sql("ANALYZE")
    engine.dispose()
    return tokens


# ------------------------------------------------------------------------------------------- server side


def make_bench_app():
    """The product app plus one baseline route (naive ORM serialisation), for ``uvicorn --factory``.
    ``BENCH_NO_CACHE=1`` builds it without the read caches (the second baseline)."""
    from fastapi import Query

    from subsidence.access import policy as authz
    from subsidence.api import create_app
    from subsidence.api.deps import CurrentUser, SessionDep
    from subsidence.ledger.models import Problem

    app = create_app(today=TODAY, cache=os.environ.get("BENCH_NO_CACHE") != "1")

    @app.get("/bench/naive-problems", include_in_schema=False)
    def naive(
        session: SessionDep,
        actor: CurrentUser,
        limit: int = Query(50),
        offset: int = Query(0),
        state: str | None = None,
    ):
        stmt = authz.visible(actor, "problem").order_by(Problem.id)
        if state:
            stmt = stmt.where(Problem.state == state)
        from sqlalchemy import func, select

        total = session.scalar(select(func.count()).select_from(stmt.subquery()))
        items = []
        for p in session.scalars(stmt.offset(offset).limit(limit)):
            items.append(
                {
                    "id": p.id,
                    "code": p.code,
                    "category": p.category.value,
                    "title": p.title,
                    "state": p.state.value,
                    "mine_name": p.mine.name_zh if p.mine else None,
                    "town_name": p.town.name_zh if p.town else None,
                    "lead_unit_name": p.lead_unit.name_zh if p.lead_unit else None,
                    "deadline": p.deadline.isoformat() if p.deadline else None,
                }
            )
        return {"total": total, "items": items}

    return app


def settle(base: str, timeout_s: float = 60.0) -> None:
    """Wait until the server has worked off what the last load left queued (wrk stops sending at the end of
    its duration, the server still answers the requests it accepted): a cheap probe answers in < 20 ms."""
    import http.client
    from urllib.parse import urlsplit

    u = urlsplit(base)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout_s)
        t = time.perf_counter()
        try:
            conn.request("GET", "/ogc/conformance")
            conn.getresponse().read()
        except OSError:
            pass
        finally:
            conn.close()
        if time.perf_counter() - t < 0.02:
            return
        time.sleep(0.2)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(url: str, data_dir: Path, workers: int, cache: bool = True) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {
        **os.environ,
        "BENCH_NO_CACHE": "0" if cache else "1",
        "SUBSIDENCE_DATABASE_URL": url,
        "SUBSIDENCE_DATA_DIR": str(data_dir),
        "SUBSIDENCE_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(Path(__file__).resolve().parent),
    }
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "bench_api_load:make_bench_app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
        "--no-access-log",
        "--timeout-keep-alive",
        "60",
        "--backlog",
        "4096",
    ]
    proc = subprocess.Popen(cmd, env=env)
    base = f"http://127.0.0.1:{port}"
    import httpx

    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if httpx.get(f"{base}/ogc/conformance", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not start")


# ------------------------------------------------------------------------------------------- client side


async def load(base: str, paths: list[str] | str, token: str, n_requests: int, concurrency: int) -> dict[str, float]:
    """``n_requests`` GETs spread over ``paths`` (round robin) by ``concurrency`` closed-loop clients."""
    paths = [paths] if isinstance(paths, str) else paths
    import httpx

    latencies: list[float] = []
    errors = 0
    queue = asyncio.Queue()
    for i in range(n_requests):
        queue.put_nowait(paths[i % len(paths)])
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=base, headers={"Authorization": f"Bearer {token}"}, limits=limits, timeout=60
    ) as client:

        async def worker():
            nonlocal errors
            while True:
                try:
                    path = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                t = time.perf_counter()
                try:
                    r = await client.get(path)
                    ok = r.status_code == 200
                except httpx.TransportError:  # counted, not retried
                    ok = False
                latencies.append((time.perf_counter() - t) * 1000)
                errors += not ok

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - t0
    q = np.percentile(latencies, [50, 95, 99])
    return {
        "p50_ms": round(float(q[0]), 1),
        "p95_ms": round(float(q[1]), 1),
        "p99_ms": round(float(q[2]), 1),
        "rps": round(n_requests / wall, 1),
        "errors": errors,
        "n": n_requests,
    }


WRK_SCRIPT = r"""
local paths = {%s}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRK_RESULT {"p50_ms": %%.1f, "p95_ms": %%.1f, "p99_ms": %%.1f, "n": %%d, "errors": %%d, ' ..
    '"non_2xx": %%d, "rps": %%.1f}\n', latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, summary.requests, e.connect + e.read + e.write + e.timeout, e.status,
    summary.requests / (summary.duration / 1e6)))
end
"""


def load_wrk(
    base: str, paths: list[str] | str, token: str, duration_s: float, concurrency: int, threads: int = 2
) -> dict[str, float]:
    """``concurrency`` closed-loop connections (keep-alive) for ``duration_s`` seconds, GETs round robin over
    ``paths``, by ``wrk`` (C, event-driven: a small fraction of a core, so the server gets the CPU that a
    Python client would take). Latency percentiles are wrk's (per request, microsecond resolution)."""
    paths = [paths] if isinstance(paths, str) else paths
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(WRK_SCRIPT % ", ".join(json.dumps(p) for p in paths))
        script = f.name
    try:
        threads = max(1, min(threads, concurrency))
        cmd = [
            "wrk",
            f"-t{threads}",
            f"-c{concurrency}",
            f"-d{duration_s:g}s",
            "--timeout",
            "30s",
            "-s",
            script,
            "-H",
            f"Authorization: Bearer {token}",
            base,
        ]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration_s + 60, check=True).stdout
    finally:
        os.unlink(script)
    line = next(x for x in out.splitlines() if x.startswith("WRK_RESULT "))
    res = json.loads(line.removeprefix("WRK_RESULT "))
    res["errors"] += res.pop("non_2xx")
    return res


DASHBOARD_CALLS = [
    "/dashboard",
    "/api/dashboard/timeline",
    "/api/dashboard/summary",
    "/api/dashboard/progress?by=task",
    "/api/dashboard/overdue?limit=100",
    "/api/dashboard/due-soon?limit=100",
    "/api/alarms?limit=30",
]


async def dashboard_first_load(base: str, token: str) -> float:
    """Wall time of the dashboard page and every call its script makes (the script's calls run in parallel)."""
    import httpx

    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=120) as c:
        t = time.perf_counter()
        r = await c.get(DASHBOARD_CALLS[0])
        assert r.status_code == 200, r.status_code
        rs = await asyncio.gather(*(c.get(p) for p in DASHBOARD_CALLS[1:]))
        assert all(x.status_code == 200 for x in rs), [x.status_code for x in rs]
        return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--problems", type=int, default=100_000)
    ap.add_argument("--hazards", type=int, default=1_000)
    ap.add_argument(
        "--client",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="load generator: wrk (C; default when installed) or the Python httpx client",
    )
    ap.add_argument("--duration", type=float, default=8.0, help="seconds per pass and endpoint (wrk)")
    ap.add_argument("--requests", type=int, default=1_000, help="requests per pass and endpoint (Python client)")
    ap.add_argument("--concurrency", type=int, default=50)
    ap.add_argument("--workers", type=int, default=1, help="uvicorn workers")
    ap.add_argument("--db-url", default=None, help="empty database to fill (default: a temporary SQLite file)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    client = args.client
    if client == "auto":
        client = "wrk" if shutil.which("wrk") else "python"
    elif client == "wrk" and not shutil.which("wrk"):
        ap.error("wrk is not installed (Debian: apt-get install wrk); use --client python")

    def run_load(paths, who: str, concurrency: int, scale: float = 1.0) -> dict[str, float]:
        if client == "wrk":
            return load_wrk(base, paths, tokens[who], max(2.0, args.duration * scale), concurrency)
        return asyncio.run(load(base, paths, tokens[who], max(100, int(args.requests * scale)), concurrency))

    tmp = Path(tempfile.mkdtemp(prefix="bench-api-"))
    url = args.db_url or f"sqlite:///{tmp / 'bench.sqlite'}"
    os.environ["SUBSIDENCE_DATA_DIR"] = str(tmp)
    t = time.perf_counter()
    tokens = build_database(url, args.problems, args.hazards)
    build_s = time.perf_counter() - t
    print(
        f"database: {args.problems} problems, {args.hazards} hazard points in {build_s:.1f} s ({url.split(':')[0]}); "
        f"load generator: {client}, {args.concurrency} concurrent clients",
        flush=True,
    )
    pages = [f"/api/problems?limit=50&offset={50 * k}" for k in range(100)]
    combos = [
        f"/api/problems?state={st}&category={c}&limit=50"
        for st in ("found", "notice_issued", "rectifying", "submitted", "accepted", "returned")
        for c in range(1, 8)
    ]
    overdue = [f"/api/problems?overdue=true&order=deadline&limit=50&offset={50 * k}" for k in range(20)]
    ent = [f"/api/problems?limit=50&offset={50 * k}" for k in range(10)]
    hz = [f"/api/hazard-points?limit=50&town_id={t}&offset={50 * k}" for t in range(1, 8) for k in range(3)]
    endpoints = [
        ("problems pages (100 pages)", pages, "office"),
        ("problems state x category (42)", combos, "office"),
        ("problems overdue by deadline (20)", overdue, "office"),
        ("problems, enterprise scope (10)", ent, "enterprise"),
        ("hazard points by town (21)", hz, "office"),
    ]
    results: dict[str, dict] = {}

    def record(name: str, res: dict) -> None:
        results[name] = res
        print(f"{name:44s} {json.dumps(res)}", flush=True)

    proc, base = start_server(url, tmp, args.workers)
    try:
        cold = asyncio.run(dashboard_first_load(base, tokens["office"]))
        warm = statistics.median(asyncio.run(dashboard_first_load(base, tokens["office"])) for _ in range(3))
        # each endpoint twice: "cold" starts with none of its URLs cached (every URL misses once, then hits),
        # "warm" is the steady state of a read-only load (the audit trail does not move)
        for name, paths, who in endpoints:
            record(f"{name} [cold]", run_load(paths, who, args.concurrency))
            settle(base)
            record(f"{name} [warm]", run_load(paths, who, args.concurrency))
            settle(base)
            if paths is pages:
                record("problems pages, 1 client [warm]", run_load(pages, "office", 1, scale=0.5))
        record(
            "BASELINE naive ORM pages",
            run_load(
                [f"/bench/naive-problems?limit=50&offset={50 * k}" for k in range(100)],
                "office",
                args.concurrency,
                scale=0.5 if client == "wrk" else 0.2,
            ),
        )
    finally:
        proc.terminate()
        proc.wait(10)
    proc, base = start_server(url, tmp, args.workers, cache=False)
    try:
        cold_nc = asyncio.run(dashboard_first_load(base, tokens["office"]))
        record("BASELINE no read cache: pages, 1 client", run_load(pages, "office", 1, scale=0.5))
        for name, paths in (
            ("BASELINE no read cache: pages", pages),
            ("BASELINE no read cache: state x category", combos),
        ):
            record(name, run_load(paths, "office", args.concurrency))
            settle(base)
        print(f"dashboard first load without read cache (cold server): {cold_nc:.2f} s")
    finally:
        proc.terminate()
        proc.wait(10)
    out = {
        "load_average": os.getloadavg(),
        "problems": args.problems,
        "hazards": args.hazards,
        "client": client,
        "concurrency": args.concurrency,
        "workers": args.workers,
        "duration_s" if client == "wrk" else "requests": args.duration if client == "wrk" else args.requests,
        "dashboard_first_load_s": round(cold, 2),
        "dashboard_warm_load_s": round(warm, 2),
        "dashboard_first_load_no_cache_s": round(cold_nc, 2),
        "endpoints": results,
    }
    worst = max(r["p95_ms"] for k, r in results.items() if k.endswith("[warm]") and "1 client" not in k)
    worst_cold = max(r["p95_ms"] for k, r in results.items() if k.endswith("[cold]"))
    print(f"dashboard first load (cold server): {cold:.2f} s; warm: {warm:.2f} s")
    print(
        f"list/filter p95, {args.concurrency} clients: worst warm {worst:.1f} ms, worst cold {worst_cold:.1f} ms "
        f"(goal < 100 ms); load average {os.getloadavg()[0]:.1f}"
    )
    if args.json:
        print(json.dumps(out, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
