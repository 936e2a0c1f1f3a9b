"""Double-random draw: cost of the verifiable hash procedure against Python's ``random.sample`` (not verifiable).

County scale: 72 mines (24 per risk grade, ratios 100/70/50 %), 60 inspectors from 5 units, 30 declared
conflicts, 2 inspectors per object. Times derive (the draw) and verify_record (the citizen's re-derivation).
Usage: python benchmarks/bench_draw.py
"""

from __future__ import annotations

import random
import time

from subsidence.tasks.inspections import draw as d


def pool():
    return d.make_pool(
        draw="DR-BENCH",
        item={
            "code": "RECL",
            "name": "bench",
            "ratios_pct": {"high": 100, "medium": 70, "low": 50},
            "inspectors_per_object": 2,
        },
        objects=[{"key": f"C{i:04d}", "name": f"m{i}", "grade": d.GRADES[i % 3]} for i in range(72)],
        inspectors=[{"key": f"U{i % 5}-{i:03d}", "unit": f"U{i % 5}"} for i in range(60)],
        recusals=[
            {"inspector": f"U{i % 5}-{i:03d}", "object": f"C{(7 * i) % 72:04d}", "reason": "x"} for i in range(30)
        ],
        seed_source="bench",
        seed_not_before="2026-12-01T00:00:00+00:00",
        published_at="2026-11-30T00:00:00+00:00",
    )


def baseline(p, seed):
    rng = random.Random(seed)
    out = []
    for g in d.GRADES:
        cands = [o["key"] for o in p["objects"] if o["grade"] == g]
        for k in rng.sample(cands, d.quota(p, g)):
            out.append((k, rng.sample(d.eligible_inspectors(p, k), 2)))
    return out


def timeit(fn, n):
    t = time.perf_counter()
    for i in range(n):
        fn(i)
    return (time.perf_counter() - t) / n


if __name__ == "__main__":
    p = pool()
    n = 200
    t_derive = timeit(lambda i: d.derive(p, f"seed {i}"), n)
    res = d.derive(p, "seed 0")
    rec = {
        "format": d.RECORD_FORMAT,
        "code": "DR-BENCH",
        "pool": p,
        "pool_sha256": d.sha256_hex(d.canonical_json(p)),
        "published_at": p["published_at"],
        "seed": {
            "source": "bench",
            "value": "seed 0",
            "source_time": "2026-12-01T01:00:00+00:00",
            "entered_at": "2026-12-01T02:00:00+00:00",
        },
        "result": res,
        "result_sha256": d.sha256_hex(d.canonical_json(res)),
        "drawn_at": "2026-12-01T02:00:00+00:00",
    }
    assert d.verify_record(rec) == []
    t_verify = timeit(lambda i: d.verify_record(rec), n)
    t_base = timeit(lambda i: baseline(p, i), n)
    print(f"objects drawn {len(res['objects'])}, hash steps {len(res['steps'])}")
    print(f"derive        {t_derive * 1e3:8.2f} ms")
    print(f"verify_record {t_verify * 1e3:8.2f} ms")
    print(
        f"random.sample {t_base * 1e3:8.2f} ms (baseline, not verifiable)  ratio derive/baseline {t_derive / t_base:.1f}x"
    )
