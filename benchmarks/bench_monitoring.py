"""Monitoring benchmarks: ingest rate and alarm-evaluation latency.

1. Ingest: ``services.ingest.ingest_batch`` (validation + Core executemany with ON CONFLICT DO NOTHING) against
   a naive row-by-row ORM baseline (one duplicate-check query and one ``session.add`` + flush per row) in the
   same run, on the same database kind.
2. Alarm latency: N sensors (default 1,000) with days of 10-minute history and learnt alarm state each send one
   new sample; we time ingest of that batch + ``services.alarms.evaluate`` for all of them (what the live
   system does every interval), and per-sensor evaluation in its own transaction as the naive baseline.

    . .venv/bin/activate && python benchmarks/bench_monitoring.py [--sensors 1000] [--days 4] [--pg URL]
"""

from __future__ import annotations

import argparse
import logging
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from subsidence.db.migrate import upgrade
from subsidence.db.session import make_engine, make_sessionmaker
from subsidence.monitoring import evaluation as A
from subsidence.monitoring import ingest as I
from subsidence.monitoring.models import HazardPoint, Observation, Sensor
from subsidence.vocabulary import HazardType, SensorKind

T0 = datetime(2025, 6, 1, tzinfo=UTC)
_CREATED: list[tuple[str, str]] = []  #: (admin url, database) of throw-away PostgreSQL databases


def fresh_engine(pg_url: str | None, tmp: Path, name: str):
    if pg_url:
        import uuid

        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        db = f"bench_mon_{name}_{uuid.uuid4().hex[:6]}"
        admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{db}"'))
        admin.dispose()
        _CREATED.append((pg_url, db))
        eng = make_engine(make_url(pg_url).set(database=db).render_as_string(hide_password=False))
    else:
        eng = make_engine(f"sqlite:///{tmp / (name + '.sqlite')}")
    upgrade(eng)
    return eng


def setup_sensors(session, n: int, interval_s: int = 600) -> list[Sensor]:
    hps = [
        HazardPoint(code=f"HP-B-{k:04d}", name=f"bench {k}", hazard_type=HazardType.LANDSLIDE)
        for k in range(max(1, n // 4))
    ]
    session.add_all(hps)
    session.flush()
    sensors = [
        Sensor(
            code=f"S-{i:05d}",
            kind=SensorKind.CRACK_METER,
            unit="mm",
            expected_interval_s=interval_s,
            hazard_point_id=hps[i % len(hps)].id,
            config={"threshold": {"value": [50, 80, 120, 200]}},
        )
        for i in range(n)
    ]
    session.add_all(sensors)
    session.flush()
    return sensors


def bench_ingest(pg_url, tmp, n_sensors=100, per_sensor=1440, naive_rows=3000):
    eng = fresh_engine(pg_url, tmp, "ingest")
    sm = make_sessionmaker(eng)
    with sm() as s:
        sensors = setup_sensors(s, n_sensors, 60)
        s.commit()
        codes = [x.code for x in sensors]
    rng = np.random.default_rng(0)
    rows = [
        {"sensor": c, "time": (T0 + timedelta(minutes=k)).isoformat(), "value": float(v)}
        for c in codes
        for k, v in enumerate(np.cumsum(rng.normal(0.01, 0.05, per_sensor)))
    ]
    with sm() as s:
        t = time.perf_counter()
        rep = I.ingest_batch(s, rows, "bench", now=T0 + timedelta(days=30))
        s.commit()
        fast = time.perf_counter() - t
    assert rep.accepted == len(rows), rep.to_dict()
    with sm() as s:  # idempotent re-ingest of the same rows
        t = time.perf_counter()
        rep2 = I.ingest_batch(s, rows, "bench-again", now=T0 + timedelta(days=30))
        s.commit()
        again = time.perf_counter() - t
    assert rep2.accepted == 0 and rep2.duplicates == len(rows)
    # naive: per row, look for a stored row, add an ORM object, flush (what a first attempt usually does)
    from sqlalchemy import select

    naive = rows[:naive_rows]
    with sm() as s:
        ids = dict(s.execute(select(Sensor.code, Sensor.id)).all())
        t = time.perf_counter()
        for r in naive:
            tt = I.parse_time(r["time"]) + timedelta(days=10)
            sid = ids[r["sensor"]]
            if s.get(Observation, (sid, tt)) is None:
                s.add(Observation(sensor_id=sid, time=tt, value=float(r["value"])))
                s.flush()
        s.commit()
        slow = time.perf_counter() - t
    eng.dispose()
    return {
        "rows": len(rows),
        "fast_s": fast,
        "fast_rate": len(rows) / fast,
        "reingest_s": again,
        "naive_rows": len(naive),
        "naive_rate": len(naive) / slow,
    }


def bench_alarms(pg_url, tmp, n_sensors=1000, days=4.0, naive_sensors=100):
    eng = fresh_engine(pg_url, tmp, "alarms")
    sm = make_sessionmaker(eng)
    rng = np.random.default_rng(1)
    per = int(days * 144)
    with sm() as s:
        sensors = setup_sensors(s, n_sensors)
        ids = [x.id for x in sensors]
        codes = [x.code for x in sensors]
        times = [T0 + timedelta(minutes=10 * k) for k in range(per)]
        for sid in ids:
            vals = 0.5 * np.arange(per) / 144 + rng.normal(0, 0.05, per)
            I.store_observations(s, [{"sensor_id": sid, "time": tt, "value": float(v)} for tt, v in zip(times, vals)])
        s.commit()
        now = times[-1] + timedelta(minutes=1)
        t = time.perf_counter()
        A.evaluate(s, now=now)  # learns steady velocities, primes the tracks (not the figure we report)
        s.commit()
        prime = time.perf_counter() - t
    new_t = times[-1] + timedelta(minutes=10)
    batch = [{"sensor": c, "time": new_t.isoformat(), "value": float(0.5 * days + rng.normal(0, 0.05))} for c in codes]
    now = new_t + timedelta(seconds=5)
    with sm() as s:
        t0 = time.perf_counter()
        rep = I.ingest_batch(s, batch, "tick", now=now)
        t1 = time.perf_counter()
        ev = A.evaluate(s, now=now, sensor_ids=rep.sensor_ids)
        s.commit()
        t2 = time.perf_counter()
    # naive baseline: each sensor's sample stored and evaluated in its own transaction
    new_t2 = new_t + timedelta(minutes=10)
    t3 = time.perf_counter()
    for c, sid in list(zip(codes, ids))[:naive_sensors]:
        with sm() as s:
            I.ingest_batch(
                s,
                [{"sensor": c, "time": new_t2.isoformat(), "value": 0.5 * days}],
                "one",
                now=new_t2 + timedelta(seconds=5),
            )
            A.evaluate(s, now=new_t2 + timedelta(seconds=5), sensor_ids=[sid])
            s.commit()
    t4 = time.perf_counter()
    eng.dispose()
    return {
        "sensors": n_sensors,
        "history_rows": n_sensors * per,
        "prime_s": prime,
        "ingest_s": t1 - t0,
        "evaluate_s": t2 - t1,
        "latency_s": t2 - t0,
        "samples": ev.samples,
        "naive_per_sensor_ms": (t4 - t3) / naive_sensors * 1000,
    }


def bench_queries(pg_url, tmp, days=365, n_sensors=3):
    """Years-of-data queries: ``days`` of 1-minute data for a few sensors, then the chart and engine queries."""
    eng = fresh_engine(pg_url, tmp, "query")
    sm = make_sessionmaker(eng)
    with sm() as s:
        sensors = setup_sensors(s, n_sensors, 60)
        s.commit()
        ids = [x.id for x in sensors]
        per = int(days * 1440)
        t = time.perf_counter()
        for sid in ids:
            for k in range(0, per, 100_000):
                m = min(100_000, per - k)
                vals = np.cumsum(np.full(m, 0.0005))
                I.store_observations(
                    s,
                    [
                        {"sensor_id": sid, "time": T0 + timedelta(minutes=k + j), "value": float(v)}
                        for j, v in enumerate(vals)
                    ],
                )
            s.commit()
        load = time.perf_counter() - t
        end = T0 + timedelta(minutes=per)
        out = {"rows": per * n_sensors, "load_s": load}
        for name, fn in (
            ("latest", lambda: I.latest_times(s, ids)),
            ("last_day_raw", lambda: I.series(s, ids[0], start=end - timedelta(days=1))),
            ("month_hourly", lambda: I.bucketed(s, ids[0], end - timedelta(days=30), end, 3600)),
            ("year_daily", lambda: I.bucketed(s, ids[0], T0, end, 86400)),
        ):
            t = time.perf_counter()
            res = fn()
            out[name] = (time.perf_counter() - t, len(res) if not isinstance(res, tuple) else len(res[0]))
    eng.dispose()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sensors", type=int, default=1000)
    ap.add_argument("--days", type=float, default=4.0)
    ap.add_argument("--ingest-sensors", type=int, default=100)
    ap.add_argument("--query-days", type=float, default=0.0, help="also time queries on this many days of 1-min data")
    ap.add_argument("--pg", default=None, help="PostgreSQL admin URL (creates throw-away databases)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    tmp = Path(tempfile.mkdtemp(prefix="bench_mon_"))
    try:
        kind = "postgresql" if args.pg else "sqlite"
        ing = bench_ingest(args.pg, tmp, n_sensors=args.ingest_sensors)
        print(
            f"[{kind}] ingest {ing['rows']} rows: {ing['fast_s']:.2f} s = {ing['fast_rate']:,.0f} samples/s "
            f"(idempotent re-ingest {ing['reingest_s']:.2f} s); naive ORM row-by-row "
            f"{ing['naive_rate']:,.0f} samples/s → {ing['fast_rate'] / ing['naive_rate']:.1f}x"
        )
        al = bench_alarms(args.pg, tmp, n_sensors=args.sensors, days=args.days)
        print(
            f"[{kind}] alarms: {al['sensors']} sensors ({al['history_rows']:,} history rows), one new sample each: "
            f"ingest {al['ingest_s'] * 1000:.0f} ms + evaluate {al['evaluate_s'] * 1000:.0f} ms = "
            f"latency {al['latency_s']:.2f} s ({al['latency_s'] / al['sensors'] * 1000:.1f} ms/sensor); "
            f"naive per-sensor transaction {al['naive_per_sensor_ms']:.1f} ms/sensor; "
            f"first evaluation (learning) {al['prime_s']:.1f} s"
        )
        if args.query_days:
            q = bench_queries(args.pg, tmp, days=args.query_days)
            print(
                f"[{kind}] queries on {q['rows']:,} rows ({args.query_days:g} days of 1-min data × 3 sensors, "
                f"loaded in {q['load_s']:.0f} s): "
                + "; ".join(f"{k} {v[0] * 1000:.0f} ms ({v[1]} rows)" for k, v in q.items() if isinstance(v, tuple))
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        _drop_created()


def _drop_created() -> None:
    from sqlalchemy import create_engine, text

    for url, db in _CREATED:
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
